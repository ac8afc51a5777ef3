//! The `--json` output of `rbm eval`: one object with every measure
//! ([`JSON_KEYS`]).

use super::log_z::LogZ;
use super::measures::{Evaluation, notes};
use serde_json::{Value, json};

/// The keys of the `--json` object (printed in sorted order).
pub const JSON_KEYS: [&str; 17] = [
    "method",
    "log_z",
    "log_z_std",
    "log_z_lower",
    "log_z_upper",
    "log_z_reverse",
    "ais_runs",
    "ais_betas",
    "avg_log_likelihood",
    "avg_log_likelihood_reverse",
    "pseudo_log_likelihood",
    "reconstruction_error",
    "rows",
    "binarize",
    "visible",
    "hidden",
    "notes",
];

/// The `--json` object (keys [`JSON_KEYS`]; non-finite numbers and
/// measures that do not apply are `null`).
pub fn to_json(e: &Evaluation) -> Value {
    let z = e.log_z.as_ref().ok();
    let ais = match z {
        Some(LogZ::Ais { forward, .. }) => Some(forward),
        _ => None,
    };
    let v = json!({
        "method": z.map(LogZ::method),
        "log_z": z.map(LogZ::value),
        "log_z_std": z.map(LogZ::std),
        "log_z_lower": z.map(|z| z.band().0),
        "log_z_upper": z.map(|z| z.band().1),
        "log_z_reverse": z.and_then(LogZ::reverse),
        "ais_runs": ais.map(|a| a.runs),
        "ais_betas": ais.map(|a| a.betas),
        "avg_log_likelihood": e.avg_log_likelihood.as_ref().ok(),
        "avg_log_likelihood_reverse": e.avg_log_likelihood_reverse,
        "pseudo_log_likelihood": e.pseudo_log_likelihood.as_ref().ok(),
        "reconstruction_error": e.reconstruction_error,
        "rows": e.rows,
        // The threshold as the f32 the user wrote (0.99, not 0.99000000953...).
        "binarize": e.binarize.map(|(t, _)| t.to_string().parse::<f64>().unwrap_or(f64::from(t))),
        "visible": e.visible.to_string(),
        "hidden": e.hidden.to_string(),
        "notes": notes(e),
    });
    debug_assert_eq!(v.as_object().map(|o| o.len()), Some(JSON_KEYS.len()));
    v
}
