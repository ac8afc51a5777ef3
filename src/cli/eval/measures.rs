//! The measures of `rbm eval` ([`Evaluation`]): the reconstruction error
//! for every model; the pseudo-log-likelihood, log Z and the average
//! log-likelihood on the binarised data for models with an energy function
//! and Bernoulli visible units; and the notes that say why a measure does
//! not apply.

use super::log_z::{LogZ, log_z_of};
use super::options::Method;
use crate::cli::CliError;
use crate::likelihood::{average_log_likelihood, pseudo_log_likelihood};
use crate::rbm::{Rbm, VisibleUnit};
use crate::units::HiddenUnit;

/// The threshold used when the data are not binary and `--binarize` is not
/// given.
pub const DEFAULT_BINARIZE: f32 = 0.5;

/// A measure, or why it does not apply.
pub type Measure<T> = Result<T, String>;

/// What `rbm eval` computes.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Rows of data.
    pub rows: usize,
    /// Visible units of the model evaluated.
    pub visible: VisibleUnit,
    /// Hidden units of the model evaluated (`ssu` with `--as-ssu`).
    pub hidden: HiddenUnit,
    /// Mean squared reconstruction error per visible unit (mapped data).
    pub reconstruction_error: f64,
    /// The threshold the likelihood data were binarised at, and whether it
    /// was chosen automatically (`None`: the data were used as they are).
    pub binarize: Option<(f32, bool)>,
    /// Pseudo-log-likelihood per row.
    pub pseudo_log_likelihood: Measure<f64>,
    /// log Z.
    pub log_z: Measure<LogZ>,
    /// Average log-likelihood per row.
    pub avg_log_likelihood: Measure<f64>,
    /// Average log-likelihood per row with the reverse AIS log Z (`None`
    /// when log Z is exact or does not apply).
    pub avg_log_likelihood_reverse: Option<f64>,
}

/// Options of [`evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// AIS runs.
    pub ais_runs: usize,
    /// AIS temperatures.
    pub ais_betas: usize,
    /// AIS seed.
    pub seed: u64,
    /// Threads (0 = all cores).
    pub threads: usize,
    /// `--binarize`.
    pub binarize: Option<f32>,
    /// `--method` (`None`: exact where possible, else AIS).
    pub method: Option<Method>,
    /// Sweeps from the data before reverse AIS.
    pub ais_burn_in: usize,
}

/// Why the energy-based measures do not apply to `rbm`, if they do not.
fn no_energy(rbm: &Rbm) -> Option<String> {
    if rbm.hidden() == HiddenUnit::Nrelu {
        Some(
            "NReLU units have no energy function; --as-ssu evaluates the stepped sigmoid \
             model with the same parameters"
                .to_owned(),
        )
    } else if rbm.visible() != VisibleUnit::Bernoulli {
        Some("likelihoods are implemented for Bernoulli visible units only".to_owned())
    } else {
        None
    }
}

/// Evaluates `rbm` on rows of (mapped) `data`; `phase` is called with a
/// description before each costly step.
///
/// # Errors
/// [`CliError::Rbm`] if the library rejects the data or the options.
pub fn evaluate(
    rbm: &Rbm,
    data: &[f32],
    opts: &EvalOptions,
    mut phase: impl FnMut(&str),
) -> Result<Evaluation, CliError> {
    let rows = data.len() / rbm.n_visible();
    phase("reconstruction error");
    let reconstruction_error = rbm.reconstruction_error(data)?;
    let mut eval = Evaluation {
        rows,
        visible: rbm.visible(),
        hidden: rbm.hidden(),
        reconstruction_error,
        binarize: None,
        pseudo_log_likelihood: Err(String::new()),
        log_z: Err(String::new()),
        avg_log_likelihood: Err(String::new()),
        avg_log_likelihood_reverse: None,
    };
    if let Some(why) = no_energy(rbm) {
        eval.pseudo_log_likelihood = Err(why.clone());
        eval.log_z = Err(why.clone());
        eval.avg_log_likelihood = Err(why);
        return Ok(eval);
    }
    let binary = data.iter().all(|&v| v == 0.0 || v == 1.0);
    eval.binarize = match opts.binarize {
        Some(t) => Some((t, false)),
        None if !binary => Some((DEFAULT_BINARIZE, true)),
        None => None,
    };
    let bin: Vec<f32>;
    let v: &[f32] = match eval.binarize {
        Some((t, _)) => {
            bin = data.iter().map(|&x| f32::from(u8::from(x > t))).collect();
            &bin
        }
        None => data,
    };
    phase("pseudo-likelihood");
    eval.pseudo_log_likelihood = Ok(pseudo_log_likelihood(rbm, v)?);
    let log_z = log_z_of(rbm, v, opts, &mut phase)?;
    eval.avg_log_likelihood = Ok(average_log_likelihood(rbm, v, log_z.value())?);
    if let Some(r) = log_z.reverse() {
        eval.avg_log_likelihood_reverse = Some(average_log_likelihood(rbm, v, r)?);
    }
    eval.log_z = Ok(log_z);
    Ok(eval)
}

/// Notes explaining binarisation and every measure that does not apply.
pub fn notes(e: &Evaluation) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some((t, true)) = e.binarize {
        notes.push(format!(
            "the data are not binary: the likelihoods use v > {t} (set --binarize T to choose)"
        ));
    }
    let mut whys: Vec<&String> = Vec::new();
    for why in [
        e.pseudo_log_likelihood.as_ref().err(),
        e.log_z.as_ref().err(),
        e.avg_log_likelihood.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        if !whys.contains(&why) {
            whys.push(why);
        }
    }
    notes.extend(whys.into_iter().cloned());
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::eval::json::to_json;
    use crate::likelihood::Enumerated;
    use serde_json::Value;

    /// Options with `runs` AIS runs of `betas` temperatures, seed 0, one
    /// thread, 10 burn-in sweeps, no `--binarize` and no `--method`.
    fn small_ais(runs: usize, betas: usize) -> EvalOptions {
        EvalOptions {
            ais_runs: runs,
            ais_betas: betas,
            seed: 0,
            threads: 1,
            binarize: None,
            method: None,
            ais_burn_in: 10,
        }
    }

    #[test]
    fn nrelu_and_gaussian_models_get_the_reconstruction_error_only() {
        let opts = small_ais(4, 10);
        for (vis, hid) in [
            (VisibleUnit::Bernoulli, HiddenUnit::Nrelu),
            (VisibleUnit::Gaussian, HiddenUnit::Bernoulli),
        ] {
            let rbm = Rbm::new(4, 3, vis, hid, 1).unwrap();
            let e = evaluate(&rbm, &[0.0, 1.0, 0.5, 1.0], &opts, |_| {}).unwrap();
            assert!(e.reconstruction_error.is_finite());
            assert!(e.log_z.is_err() && e.pseudo_log_likelihood.is_err());
            let j = to_json(&e);
            assert_eq!(j["method"], Value::Null);
            assert_eq!(j["log_z"], Value::Null);
            assert_eq!(j["notes"].as_array().unwrap().len(), 1);
        }
    }

    #[test]
    fn ssu_on_wide_layers_gets_log_z_from_both_sides_by_ais() {
        let rbm = Rbm::new(21, 21, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 1).unwrap();
        let opts = small_ais(4, 10);
        let e = evaluate(&rbm, &[1.0; 21], &opts, |_| {}).unwrap();
        assert!(e.pseudo_log_likelihood.is_ok());
        let z = e.log_z.as_ref().unwrap();
        assert_eq!(z.method(), "ais");
        assert!(z.value().is_finite() && z.reverse().is_some_and(f64::is_finite));
        assert!(e.avg_log_likelihood.is_ok() && e.avg_log_likelihood_reverse.is_some());
        assert_eq!(e.binarize, None);
        let j = to_json(&e);
        assert!(j["log_z_reverse"].is_f64() && j["avg_log_likelihood_reverse"].is_f64());

        // --method exact cannot enumerate it: one readable error.
        let exact = EvalOptions {
            method: Some(Method::Exact),
            ..opts.clone()
        };
        let err = evaluate(&rbm, &[1.0; 21], &exact, |_| {}).unwrap_err();
        assert!(err.to_string().contains("--method ais"), "{err}");
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn method_ais_forces_ais_on_an_enumerable_model() {
        let rbm = Rbm::new(6, 4, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 1).unwrap();
        let opts = small_ais(8, 20);
        let v = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        let e = evaluate(&rbm, &v, &opts, |_| {}).unwrap();
        assert_eq!(e.log_z.as_ref().unwrap().method(), "exact");
        assert_eq!(to_json(&e)["log_z_reverse"], Value::Null);
        let forced = EvalOptions {
            method: Some(Method::Ais),
            ..opts
        };
        let e = evaluate(&rbm, &v, &forced, |_| {}).unwrap();
        match e.log_z.as_ref().unwrap() {
            LogZ::Ais { exact_start, .. } => assert_eq!(*exact_start, Some(Enumerated::Visible)),
            other => panic!("{other:?}"),
        }
    }
}
