//! Reproducible random streams: eight xoshiro256++ lanes stepped together.
//!
//! # Design
//! A [`Stream`] is identified by a `(seed, stream_id)` pair. Its first lane
//! starts from the 256-bit state
//! `[mix(seed + γ), mix(seed + 2γ), mix(id ^ K + γ), mix(id ^ K + 2γ)]`
//! where `mix` is SplitMix64's bijective finaliser and γ its golden-ratio
//! increment; distinct pairs therefore give distinct states, and the state is
//! never all zero. Lane `l` (0..8) starts `l` calls of `jump()` (2^128 steps)
//! after lane 0, so the lanes of one stream never overlap within 2^128 draws
//! each. Different streams start at unrelated points of the 2^256 - 1 cycle.
//!
//! Each lane produces exactly the sequence of
//! `rand_xoshiro::Xoshiro256PlusPlus` started from that lane's state (tested
//! bit for bit). One step of all lanes yields a *block* of 16 words
//! `[lo0, hi0, lo1, hi1, ..., lo7, hi7]` (low and high halves of each lane's
//! 64-bit output), and every path produces the same blocks.
//!
//! # Consumption rule
//! Kernels consume whole blocks and never carry unused words over to the next
//! call, so the position of a stream after a call depends only on the call's
//! length: `ceil(n / 16)` blocks for uniform and Bernoulli, `2 ceil(n / 32)`
//! for normal and NReLU, `K ceil(n / 16)` for binomial(K) and
//! `36 ceil(n / 16)` for stepped sigmoid units.

use crate::Kernels;
use crate::simd::{BLOCK, XO_LANES, XoState};
use std::convert::Infallible;

/// SplitMix64's increment (2^64 / golden ratio).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// Separates the stream-id half of the key from the seed half.
const STREAM_KEY: u64 = 0xD1B5_4A32_D192_ED03;
/// xoshiro256's `jump()` polynomial (advance by 2^128 steps).
const JUMP: [u64; 4] = [
    0x180e_c6d3_3cfd_0aba,
    0xd5a6_1266_f0c9_392c,
    0xa958_2618_e03f_c9aa,
    0x39ab_dc45_29b1_661c,
];

/// SplitMix64's output function, a bijection on u64.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn next_scalar(s: &mut [u64; 4]) -> u64 {
    let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    result
}

/// Advances a single xoshiro256 state by 2^128 steps.
fn jump(s: &mut [u64; 4]) {
    let mut acc = [0u64; 4];
    for word in JUMP {
        for bit in 0..64 {
            if word & (1u64 << bit) != 0 {
                for (a, v) in acc.iter_mut().zip(s.iter()) {
                    *a ^= v;
                }
            }
            next_scalar(s);
        }
    }
    *s = acc;
}

/// A reproducible stream of random 32-bit words from eight xoshiro256++
/// lanes; see `docs/kernels.md` ("Random streams") for the design.
///
/// The sampling kernels ([`crate::Bernoulli`], [`crate::Nrelu`], ...) draw
/// from a `Stream`; the same `(seed, stream_id)` always gives the same
/// output, on every kernel path.
///
/// A `Stream` is also a [`rand_core::Rng`] and a [`rand_core::SeedableRng`]
/// (seed: `seed` then `stream_id`, little-endian), so any `rand_distr`
/// distribution can draw from it. Each of those calls follows the
/// consumption rule of the kernels: it takes whole blocks of 16 words and
/// discards the words it does not use (`next_u32` uses word 0 of a block,
/// `next_u64` words 0 and 1 — lane 0's xoshiro256++ output — and
/// `fill_bytes` the words it needs, little-endian).
///
/// ```
/// use nrelu_rbm_kernels::Stream;
/// use rand_distr::{Distribution, Gamma};
/// let gamma = Gamma::new(2.0f64, 1.5).unwrap();
/// let mut s = Stream::new(9, 0);
/// let x: Vec<f64> = (0..1000).map(|_| gamma.sample(&mut s)).collect();
/// let mean = x.iter().sum::<f64>() / 1000.0;
/// assert!((mean - 3.0).abs() < 0.3);
/// ```
///
/// ```
/// use nrelu_rbm_kernels::Stream;
/// let mut a = Stream::new(42, 0);
/// let mut b = Stream::new(42, 0);
/// let (mut x, mut y) = ([0f32; 5], [0f32; 5]);
/// a.uniform(&mut x);
/// b.uniform(&mut y);
/// assert_eq!(x, y);
/// assert!(x.iter().all(|&u| (0.0..1.0).contains(&u)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub(crate) state: XoState,
}

impl Stream {
    /// The stream `stream_id` of `seed`. Distinct pairs give distinct,
    /// independent-looking streams; see the module docs.
    pub fn new(seed: u64, stream_id: u64) -> Stream {
        let k = stream_id ^ STREAM_KEY;
        let lane0 = [
            mix(seed.wrapping_add(GAMMA)),
            mix(seed.wrapping_add(GAMMA.wrapping_mul(2))),
            mix(k.wrapping_add(GAMMA)),
            mix(k.wrapping_add(GAMMA.wrapping_mul(2))),
        ];
        let mut lanes = [[0u64; 4]; XO_LANES];
        let mut s = lane0;
        for lane in &mut lanes {
            *lane = s;
            jump(&mut s);
        }
        Stream::from_lane_states(lanes)
    }

    /// A stream whose lane `l` starts from the xoshiro256++ state
    /// `lanes[l]` (the four u64 words in `rand_xoshiro`'s order).
    ///
    /// # Panics
    /// If any lane's state is all zero (xoshiro's one fixed point).
    pub fn from_lane_states(lanes: [[u64; 4]; XO_LANES]) -> Stream {
        let mut state = [[0u64; XO_LANES]; 4];
        for (l, lane) in lanes.iter().enumerate() {
            assert!(
                lane.iter().any(|&w| w != 0),
                "xoshiro lane {l} state is all zero"
            );
            for k in 0..4 {
                state[k][l] = lane[k];
            }
        }
        Stream { state }
    }

    /// The current xoshiro256++ state of each lane, in `rand_xoshiro`'s
    /// word order.
    pub fn lane_states(&self) -> [[u64; 4]; XO_LANES] {
        std::array::from_fn(|l| std::array::from_fn(|k| self.state[k][l]))
    }

    /// Words per block, re-exported for documentation and tests.
    pub const BLOCK_WORDS: usize = BLOCK;
}

impl Stream {
    /// Uniform f32 in [0, 1) on [`crate::active_path`]; see
    /// [`Kernels::uniform`].
    pub fn uniform(&mut self, out: &mut [f32]) {
        Kernels::active().uniform(self, out)
    }

    /// Standard normal f32 on [`crate::active_path`]; see
    /// [`Kernels::standard_normal`].
    pub fn standard_normal(&mut self, out: &mut [f32]) {
        Kernels::active().standard_normal(self, out)
    }

    /// Raw words on [`crate::active_path`]; see [`Kernels::fill_words`].
    pub fn fill_words(&mut self, out: &mut [u32]) {
        Kernels::active().fill_words(self, out)
    }
}

impl rand_core::TryRng for Stream {
    type Error = Infallible;

    /// Word 0 of the next block.
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut w = [0u32; 1];
        self.fill_words(&mut w);
        Ok(w[0])
    }

    /// Words 0 and 1 of the next block: lane 0's next xoshiro256++ output.
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut w = [0u32; 2];
        self.fill_words(&mut w);
        Ok(u64::from(w[0]) | (u64::from(w[1]) << 32))
    }

    /// The next `dst.len().div_ceil(4)` words, little-endian: the same
    /// blocks as one [`Stream::fill_words`] call for that many words.
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        // Chunks of whole blocks, so the blocks drawn are those of one call.
        const CHUNK: usize = 4 * BLOCK;
        let mut words = [0u32; CHUNK];
        for bytes in dst.chunks_mut(4 * CHUNK) {
            let w = &mut words[..bytes.len().div_ceil(4)];
            self.fill_words(w);
            for (b, w) in bytes.chunks_mut(4).zip(w.iter()) {
                b.copy_from_slice(&w.to_le_bytes()[..b.len()]);
            }
        }
        Ok(())
    }
}

impl rand_core::SeedableRng for Stream {
    /// `seed` (bytes 0..8) and `stream_id` (bytes 8..16), little-endian.
    type Seed = [u8; 16];

    /// [`Stream::new`] of the seed's two halves.
    fn from_seed(seed: [u8; 16]) -> Stream {
        let (a, b) = seed.split_at(8);
        let half = |h: &[u8]| u64::from_le_bytes(h.try_into().expect("8 bytes"));
        Stream::new(half(a), half(b))
    }

    /// `Stream::new(state, 0)`.
    fn seed_from_u64(state: u64) -> Stream {
        Stream::new(state, 0)
    }
}
