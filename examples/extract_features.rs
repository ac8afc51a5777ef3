//! Use an RBM as a feature extractor inside another program: map images to
//! noise-free NReLU features and classify them with a logistic regression.
//!
//! `cargo run --release --example extract_features [MODEL.safetensors]`
//!
//! With a model file (from `rbm train`, which stores the digits' input map
//! x / 16), the model is loaded; without one, a 100-unit NReLU RBM is
//! trained on the spot. The first 1,347 digits train the classifier, the
//! other 450 test it.

use nrelu_rbm::data::Dataset;
use nrelu_rbm::logistic::{LogisticConfig, LogisticRegression};
use nrelu_rbm::train::{TrainConfig, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, Standardization, VisibleUnit};
use std::ops::ControlFlow;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let digits = Dataset::digits();
    let labels: Vec<usize> = digits
        .labels()
        .unwrap()
        .iter()
        .map(|&l| l as usize)
        .collect();
    let rbm = match std::env::args().nth(1) {
        Some(path) => Rbm::load(path.as_ref())?,
        None => {
            let mut rbm = Rbm::new(64, 100, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 1)?;
            rbm.set_standardization(Some(Standardization::new(vec![0.0; 64], vec![16.0; 64])?))?;
            let x: Vec<f32> = digits.values()[..1347 * 64]
                .iter()
                .map(|p| p / 16.0)
                .collect();
            rbm.init_visible_bias_from(&x)?;
            let cfg = TrainConfig::default_for(VisibleUnit::Bernoulli);
            train(&mut rbm, &x, &cfg, |_| ControlFlow::Continue(()))?;
            rbm
        }
    };

    // Raw pixels -> the model's input map -> noise-free hidden means: the
    // bytes `rbm transform` writes.
    let (train_px, test_px) = digits.values().split_at(1347 * 64);
    let (train_y, test_y) = labels.split_at(1347);
    let clf = LogisticRegression::fit(
        &rbm.features(train_px)?,
        train_y,
        10,
        &LogisticConfig::default(),
    )?;
    let accuracy = clf.accuracy(&rbm.features(test_px)?, test_y)?;
    println!(
        "{} features, test accuracy {:.1} %",
        rbm.n_hidden(),
        100.0 * accuracy
    );

    // One new image at a time, as a service would see it, into a buffer
    // reused from image to image.
    let image = &test_px[..64];
    let mut h = vec![0.0; rbm.n_hidden()];
    rbm.features_into(image, &mut h)?;
    let class = clf.predict(&h)?[0];
    println!(
        "the first test image is a {} (predicted {class})",
        test_y[0]
    );
    Ok(())
}
