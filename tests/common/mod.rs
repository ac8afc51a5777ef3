//! Helpers shared by the library's training tests: a fixed data generator,
//! a progress callback that never stops, and a model's parameter bits.
#![allow(dead_code)] // each test binary uses its own subset

use nrelu_rbm::Rbm;
use nrelu_rbm::train::Progress;
use std::ops::ControlFlow;

/// `rows` noisy copies of 4 prototype patterns over `v` binary units, each
/// unit flipped with probability 1/10.
pub fn patterns(rows: usize, v: usize, seed: u64) -> Vec<f32> {
    noisy_patterns(rows, v, seed, 10)
}

/// `rows` noisy copies of 4 prototype patterns over `v` binary units, each
/// unit flipped with probability 1/`flip`.
pub fn noisy_patterns(rows: usize, v: usize, seed: u64, flip: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut out = Vec::with_capacity(rows * v);
    for r in 0..rows {
        let proto = r % 4;
        for j in 0..v {
            let on = (j * 4 / v) == proto;
            let flipped = next() % flip == 0;
            out.push(if on != flipped { 1.0 } else { 0.0 });
        }
    }
    out
}

/// A progress callback that lets training run to the end.
pub fn quiet(_: Progress<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Bit patterns of a model's parameters: weights, visible biases, hidden
/// biases.
pub fn bits(m: &Rbm) -> Vec<u32> {
    m.weights()
        .iter()
        .chain(m.visible_bias())
        .chain(m.hidden_bias())
        .map(|x| x.to_bits())
        .collect()
}
