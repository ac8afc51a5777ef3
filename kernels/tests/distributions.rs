//! The distribution types' constructors and conversions, and `Stream` as a
//! `rand_core` generator.

use nrelu_rbm_kernels::{
    Bernoulli, Binomial, BinomialError, Kernels, MAX_BINOMIAL_K, Nrelu, Sampler, Ssu, Stream,
};
use rand_distr::Distribution;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

#[test]
fn binomial_k_is_checked_once_with_a_typed_error() {
    assert_eq!(Binomial::new(1).map(Binomial::k), Ok(1));
    assert_eq!(
        Binomial::new(MAX_BINOMIAL_K).map(Binomial::k),
        Ok(MAX_BINOMIAL_K)
    );
    for k in [0, MAX_BINOMIAL_K + 1, u32::MAX] {
        let err = Binomial::new(k).unwrap_err();
        assert_eq!(err, BinomialError::KOutOfRange(k));
        let msg = err.to_string();
        assert!(
            msg.contains(&k.to_string()) && msg.contains("65536"),
            "{msg}"
        );
        let _: &dyn std::error::Error = &err;
    }
    const B: Binomial = Binomial::of::<7>();
    assert_eq!(B.k(), 7);
}

#[test]
fn samplers_convert_from_their_distributions() {
    let b = Binomial::new(4).unwrap();
    assert_eq!(Sampler::from(Bernoulli), Sampler::Bernoulli);
    assert_eq!(Sampler::from(Nrelu), Sampler::Nrelu);
    assert_eq!(Sampler::from(Ssu), Sampler::Ssu);
    assert_eq!(Sampler::from(b), Sampler::Binomial(b));
    assert_eq!(Sampler::Binomial(b).blocks_per_16(), 4);
}

#[test]
fn the_types_sample_like_the_kernels_methods() {
    let x: Vec<f32> = (0..77).map(|i| (i as f32 - 38.0) / 7.0).collect();
    let k = Kernels::active();
    let b = Binomial::new(3).unwrap();
    let (mut a, mut c) = (vec![0f32; 77], vec![0f32; 77]);
    Nrelu.sample(&x, &mut a, &mut Stream::new(3, 1));
    k.nrelu(&x, &mut c, &mut Stream::new(3, 1));
    assert_eq!(a, c);
    b.sample(&x, &mut a, &mut Stream::new(3, 2));
    let mut d = x.clone();
    k.sample(Sampler::Binomial(b), &[], &mut d, &mut Stream::new(3, 2));
    assert_eq!(a, d);
}

#[test]
fn rand_core_calls_follow_the_block_rule() {
    let mut s = Stream::new(11, 4);
    let mut t = s.clone();
    let mut block = [0u32; 16];
    t.fill_words(&mut block);
    assert_eq!(s.next_u32(), block[0]);
    t.fill_words(&mut block);
    let lane0 = u64::from(block[0]) | (u64::from(block[1]) << 32);
    assert_eq!(s.next_u64(), lane0);
    // Bytes: the words of one fill_words call, little-endian, the rest of
    // the last block discarded.
    let mut bytes = [0u8; 4 * 70 + 3];
    s.fill_bytes(&mut bytes);
    let mut words = [0u32; 71];
    t.fill_words(&mut words);
    let want: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(&bytes[..], &want[..bytes.len()]);
    assert_eq!(s, t);
}

#[test]
fn seeding_matches_stream_new() {
    let mut seed = [0u8; 16];
    seed[..8].copy_from_slice(&42u64.to_le_bytes());
    seed[8..].copy_from_slice(&7u64.to_le_bytes());
    assert_eq!(Stream::from_seed(seed), Stream::new(42, 7));
    assert_eq!(Stream::seed_from_u64(42), Stream::new(42, 0));
}

#[test]
fn rand_distr_distributions_draw_from_a_stream() {
    let mut s = Stream::new(5, 0);
    let exp = rand_distr::Exp::new(2.0f64).unwrap();
    let n = 20_000;
    let mean = (0..n).map(|_| exp.sample(&mut s)).sum::<f64>() / n as f64;
    // Mean 1/2, standard error 0.5/√n = 0.0035.
    assert!((mean - 0.5).abs() < 0.02, "{mean}");
    let again: f64 = exp.sample(&mut Stream::new(5, 0));
    let first: f64 = exp.sample(&mut Stream::new(5, 0));
    assert_eq!(again.to_bits(), first.to_bits());
}
