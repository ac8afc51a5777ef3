//! The tables `rbm demo` prints and `report.md` shows.

use super::draws::mean_var;
use super::{ALPHAS, HIDDEN, Results};
use crate::kernels::reference;
use std::fmt::Write as _;

/// `n` with a comma between thousands (1347 → "1,347").
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A fraction as a percentage with one decimal.
fn pct(a: f64) -> String {
    format!("{:.1} %", 100.0 * a)
}

/// Reconstruction errors and test accuracies, raw pixels first.
pub(super) fn classification_table(r: &Results) -> String {
    let mut t = String::from(
        "| features | units | reconstruction error, train | reconstruction error, test | test accuracy |\n\
         |---|---|---|---|---|\n",
    );
    let _ = writeln!(
        t,
        "| raw pixels / 16 | 64 | – | – | {} |",
        pct(r.raw_accuracy)
    );
    for m in &r.models {
        let _ = writeln!(
            t,
            "| {} RBM | {HIDDEN} | {:.5} | {:.5} | {} |",
            m.unit,
            m.train_error,
            m.test_error,
            pct(m.accuracy)
        );
    }
    t
}

/// An error for the tables: `0`, three decimals, or scientific notation
/// below 0.001.
fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".to_owned()
    } else if v >= 1e-3 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// Per stack, whether it is equivariant and its worst errors over
/// `ALPHAS`.
pub(super) fn equivariance_table(r: &Results) -> String {
    let mut t = String::from(
        "| stack (2 layers, 100 + 50 units) | zero biases, NReLU | max ‖f(αv) − αf(v)‖ / ‖αf(v)‖ | max \\|Δcos\\| |\n\
         |---|---|---|---|\n",
    );
    for s in &r.stacks {
        let main = &s.per_alpha[..ALPHAS.len()];
        let rel = main.iter().map(|p| p.1).fold(0.0, f64::max);
        let dcos = main.iter().map(|p| p.2).fold(0.0, f64::max);
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} |",
            s.name,
            if s.equivariant { "yes" } else { "no" },
            sci(rel),
            sci(dcos)
        );
    }
    t
}

/// Every stack's errors at every α (3 included).
pub(super) fn equivariance_detail(r: &Results) -> String {
    let mut t =
        String::from("| stack | α | max relative error | max \\|Δcos\\| |\n|---|---|---|---|\n");
    for s in &r.stacks {
        for &(alpha, rel, dcos) in &s.per_alpha {
            let _ = writeln!(t, "| {} | {alpha} | {} | {} |", s.name, sci(rel), sci(dcos));
        }
    }
    t
}

/// Sampled means and variances of SSU and NReLU beside softplus(x) and
/// σ(x).
pub(super) fn units_table(r: &Results) -> String {
    let mut t = String::from(
        "| x | SSU mean | softplus(x) | NReLU mean | SSU variance | σ(x) | NReLU variance |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for d in &r.draws {
        let (sm, sv) = mean_var(&d.ssu);
        let (nm, nv) = mean_var(&d.nrelu);
        let x = f64::from(d.x);
        let _ = writeln!(
            t,
            "| {} | {sm:.3} | {:.3} | {nm:.3} | {sv:.3} | {:.3} | {nv:.3} |",
            d.x,
            reference::softplus(x),
            reference::sigmoid(x)
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(450), "450");
        assert_eq!(thousands(1347), "1,347");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
