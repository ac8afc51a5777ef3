//! Train an RBM on data that is already in memory: a `Vec<f32>` of rows.
//!
//! `cargo run --release --example train_from_memory`
//!
//! The data are 4 × 4 "bars": each row lights one horizontal or vertical
//! line of pixels, plus a little noise. Any program that can fill a
//! `Vec<f32>` (rows × columns, row-major, values in [0, 1] for Bernoulli
//! visible units) can train the same way.

use nrelu_rbm::train::{Progress, TrainConfig, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, VisibleUnit};
use std::ops::ControlFlow;

fn main() -> Result<(), nrelu_rbm::RbmError> {
    // 800 rows of 16 pixels: bar `k` (0..4 rows, 4..8 columns) with 5 %
    // of the pixels flipped by a small deterministic generator.
    let mut state = 12345u32;
    let mut data: Vec<f32> = Vec::with_capacity(800 * 16);
    for row in 0..800 {
        let bar = row % 8;
        for pixel in 0..16 {
            let on = if bar < 4 {
                pixel / 4 == bar
            } else {
                pixel % 4 == bar - 4
            };
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let flip = state >> 24 < 13; // about 5 %
            data.push(if on != flip { 1.0 } else { 0.0 });
        }
    }

    let mut rbm = Rbm::new(16, 8, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 7)?;
    rbm.init_visible_bias_from(&data)?;
    let cfg = TrainConfig::default_for(VisibleUnit::Bernoulli)
        .with_epochs(30)
        .with_batch_size(20)
        .with_learning_rate(0.05);
    let report = train(&mut rbm, &data, &cfg, |p| {
        if let Progress::Epoch(s) = p
            && s.epoch % 10 == 0
        {
            println!(
                "epoch {:2}: reconstruction error {:.4}",
                s.epoch, s.reconstruction_error
            );
        }
        ControlFlow::Continue(())
    })?;
    println!("trained {} epochs", report.epochs.len());

    // Noise-free NReLU features max(0, vW + c) of the first two rows.
    let features = rbm.hidden_means(&data[..2 * 16])?;
    for (row, h) in features.chunks(8).enumerate() {
        let shown: Vec<String> = h.iter().map(|v| format!("{v:.2}")).collect();
        println!("row {row} (bar {row}): features [{}]", shown.join(", "));
    }
    Ok(())
}
