//! Save a trained RBM to a `.safetensors` file and load it back.
//!
//! `cargo run --release --example save_and_load`
//!
//! The file holds the weights, both bias vectors, the unit types and the
//! input map (see `docs/model-format.md`); it can be read from Python with
//! the `safetensors` package. Saving is atomic: a crash leaves the old
//! file or the new one, never half of one.

use nrelu_rbm::data::{DIGITS_MAX, Dataset};
use nrelu_rbm::train::{TrainConfig, train};
use nrelu_rbm::units::HiddenUnit;
use nrelu_rbm::{Rbm, Standardization, VisibleUnit, model_io};
use std::ops::ControlFlow;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Pixels 0..=16 scaled to [0, 1]; the scale is stored with the model so
    // that users of the file can apply it again.
    let digits = Dataset::digits();
    let map = Standardization::new(vec![0.0; digits.cols()], vec![DIGITS_MAX; digits.cols()])?;
    let mut x = digits.values().to_vec();
    map.apply(&mut x)?;

    let mut rbm = Rbm::new(
        digits.cols(),
        32,
        VisibleUnit::Bernoulli,
        HiddenUnit::Ssu,
        3,
    )?;
    rbm.set_standardization(Some(map))?;
    rbm.init_visible_bias_from(&x)?;
    let cfg = TrainConfig::default_for(VisibleUnit::Bernoulli).with_epochs(10);
    train(&mut rbm, &x, &cfg, |_| ControlFlow::Continue(()))?;

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("digits-ssu.safetensors");
    rbm.save(&path)?;
    println!(
        "saved {} ({} bytes)",
        path.display(),
        std::fs::metadata(&path)?.len()
    );

    let back = Rbm::load(&path)?;
    assert_eq!(back, rbm, "a model survives the round trip bit for bit");
    println!(
        "loaded a {} x {} model: {} visible, {} hidden units, input map {:?}",
        back.n_visible(),
        back.n_hidden(),
        back.visible(),
        back.hidden(),
        back.standardization().map(|s| s.std()[0])
    );
    // In memory too: the same bytes as the file.
    let bytes = model_io::to_bytes(&rbm)?;
    assert_eq!(bytes, std::fs::read(&path)?);
    let raw = &digits.values()[..64];
    assert_eq!(back.features(raw)?, rbm.features(raw)?);
    println!("features of the loaded model match the original");
    Ok(())
}
