//! The table `rbm eval` prints: one row per measure, with its value and a
//! comment on how it was found, or why it does not apply.

use super::log_z::LogZ;
use super::measures::Evaluation;
use crate::likelihood::Enumerated;

/// A number for the table: 6 decimals, `-inf`/`inf` as such.
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else if x > 0.0 {
        "inf".to_owned()
    } else {
        "-inf".to_owned()
    }
}

/// The rows of the human-readable table: (measure, value, comment).
pub fn table_rows(e: &Evaluation) -> Vec<(String, String, String)> {
    // A reason is spelled out once; later measures refer to it.
    let mut said: Vec<String> = Vec::new();
    let mut na = |why: &str| {
        let comment = if said.iter().any(|w| w == why) {
            "does not apply (as above)".to_owned()
        } else {
            said.push(why.to_owned());
            format!("does not apply: {why}")
        };
        ("n/a".to_owned(), comment)
    };
    let mut rows = vec![(
        "reconstruction error".to_owned(),
        num(e.reconstruction_error),
        "mean squared error per visible unit (data as mapped, not binarised)".to_owned(),
    )];
    if let Some((t, auto)) = e.binarize {
        let how = if auto {
            "automatic: the data are not binary; set --binarize T to choose"
        } else {
            "--binarize"
        };
        rows.push((
            "binarised at".to_owned(),
            format!("{t}"),
            format!("the likelihoods use v > {t} ({how})"),
        ));
    }
    let (value, comment) = match &e.pseudo_log_likelihood {
        Ok(p) => (num(*p), "nats per row, every coordinate summed".to_owned()),
        Err(why) => na(why),
    };
    rows.push(("pseudo-log-likelihood".to_owned(), value, comment));
    match &e.log_z {
        Ok(z) => rows.extend(log_z_rows(z)),
        Err(why) => {
            let (value, comment) = na(why);
            rows.push(("log Z".to_owned(), value, comment));
        }
    }
    let (value, comment) = match (&e.avg_log_likelihood, &e.log_z) {
        (Ok(l), Ok(LogZ::Exact { .. })) => (num(*l), "nats per row".to_owned()),
        (Ok(l), Ok(LogZ::Ais { .. })) => (
            num(*l),
            "nats per row, with the forward AIS log Z (an over-estimate if log Z is \
             under-estimated)"
                .to_owned(),
        ),
        (Ok(l), Err(_)) => (num(*l), String::new()),
        (Err(why), _) => na(why),
    };
    rows.push(("avg log-likelihood".to_owned(), value, comment));
    if let Some(l) = e.avg_log_likelihood_reverse {
        rows.push((
            "avg log-likelihood (reverse)".to_owned(),
            num(l),
            "nats per row, with the reverse AIS log Z (a stochastic lower bound)".to_owned(),
        ));
    }
    rows
}

/// The rows of the table for log Z: its value and how it was found, with
/// the standard error and the band of an AIS estimate.
fn log_z_rows(z: &LogZ) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    match z {
        LogZ::Exact { layer, units, .. } => {
            let layer = match layer {
                Enumerated::Visible => "visible",
                Enumerated::Hidden => "hidden",
            };
            rows.push((
                "log Z".to_owned(),
                num(z.value()),
                format!("exact: enumerated the 2^{units} states of the {layer} layer"),
            ));
        }
        LogZ::Ais {
            forward: a,
            reverse,
            exact_start,
            burn_in,
        } => {
            rows.push((
                "log Z".to_owned(),
                num(z.value()),
                format!(
                    "AIS estimate: {} run{}, {} temperatures (tends to under-estimate)",
                    a.runs,
                    crate::cli::output::plural(a.runs),
                    a.betas
                ),
            ));
            rows.push((
                "log Z std".to_owned(),
                num(a.log_z_std),
                if a.runs == 1 {
                    "unknown: one run has no spread (use --ais-runs 2 or more)".to_owned()
                } else {
                    "standard error of the estimate".to_owned()
                },
            ));
            rows.push((
                "log Z band".to_owned(),
                format!("[{}, {}]", num(a.log_z_lower), num(a.log_z_upper)),
                "+-3 standard errors".to_owned(),
            ));
            let start = match exact_start {
                Some(Enumerated::Visible) => {
                    "from exact model samples (visible layer enumerated)".to_owned()
                }
                Some(Enumerated::Hidden) => {
                    "from exact model samples (hidden layer enumerated)".to_owned()
                }
                None => format!(
                    "from chains run {burn_in} sweeps from the data (an upper bound only as far as they reach the model)"
                ),
            };
            rows.push((
                "log Z (reverse)".to_owned(),
                num(reverse.log_z),
                format!(
                    "reverse AIS estimate (tends to over-estimate), standard error {}, {start}",
                    num(reverse.log_z_std)
                ),
            ));
        }
    }
    rows
}

/// The table: measure names left-aligned, values right-aligned on their
/// decimal column, comments after.
pub fn render_table(rows: &[(String, String, String)]) -> String {
    let lw = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let vw = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value, comment) in rows {
        let line = format!("  {label:<lw$}  {value:>vw$}  {comment}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_aligned() {
        let rows = vec![
            ("a".to_owned(), "1.5".to_owned(), "x".to_owned()),
            ("long name".to_owned(), "-123.25".to_owned(), String::new()),
        ];
        assert_eq!(
            render_table(&rows),
            "  a              1.5  x\n  long name  -123.25\n"
        );
        assert_eq!(num(f64::NEG_INFINITY), "-inf");
        assert_eq!(num(0.5), "0.500000");
    }
}
