//! The model `rbm eval` evaluates: a single RBM, or the stepped sigmoid
//! model with a NReLU model's parameters (`--as-ssu`).

use super::options::EvalArgs;
use crate::cli::CliError;
use crate::cli::transform::load_model;
use crate::rbm::Rbm;
use crate::units::HiddenUnit;

/// The model `rbm eval` evaluates: the single RBM of `--model`, as the
/// stepped sigmoid model with the same parameters for `--as-ssu`.
pub(super) fn model_to_evaluate(args: &EvalArgs) -> Result<Rbm, CliError> {
    let stack = load_model(&args.model)?;
    let layers = stack.layers();
    if layers.len() > 1 {
        return Err(CliError::Usage(format!(
            "'{}' is a stack of {} layers; rbm eval evaluates single RBMs (a model written by \
             rbm train without --layers)",
            args.model.display(),
            layers.len()
        )));
    }
    let stored = &layers[0];
    if args.as_ssu {
        if stored.hidden() != HiddenUnit::Nrelu {
            return Err(CliError::Usage(format!(
                "--as-ssu applies to nrelu models only; '{}' has {} hidden units",
                args.model.display(),
                stored.hidden()
            )));
        }
        Ok(Rbm::from_parts(
            stored.visible(),
            HiddenUnit::Ssu,
            stored.weights().to_vec(),
            stored.visible_bias().to_vec(),
            stored.hidden_bias().to_vec(),
            stored.standardization().cloned(),
        )?)
    } else {
        Ok(stored.clone())
    }
}
