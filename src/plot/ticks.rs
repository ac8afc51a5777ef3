//! Axis ticks: round tick positions and their labels.

/// Round tick positions covering `[lo, hi]`: multiples of a step of 1, 2
/// or 5 times a power of ten, the smallest such step that gives at most
/// `max_ticks` of them. There is at least one tick when `lo < hi`: if a
/// step gives too many, a multiple of the next one up always falls inside.
///
/// ```
/// use nrelu_rbm::plot::nice_ticks;
/// assert_eq!(nice_ticks(0.0, 1.0, 6), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
/// assert_eq!(nice_ticks(1.0, 100.0, 5), [20.0, 40.0, 60.0, 80.0, 100.0]);
/// ```
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let step = tick_step(lo, hi, max_ticks);
    if step == 0.0 {
        return vec![lo];
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // Snap values like 0.30000000000000004 to the shortest decimal.
            let d = decimals(step);
            format!("{v:.d$}").parse::<f64>().unwrap_or(v)
        })
        .collect()
}

/// The step of [`nice_ticks`] (0 for an empty or invalid range): the
/// smallest 1, 2 or 5 × 10^k whose multiples in `[lo, hi]` number at most
/// `max_ticks`.
pub(super) fn tick_step(lo: f64, hi: f64, max_ticks: usize) -> f64 {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0 && lo.is_finite()) {
        return 0.0;
    }
    let max = max_ticks.max(1) as f64;
    let count = |step: f64| (hi / step + 1e-9).floor() - (lo / step - 1e-9).ceil() + 1.0;
    // Start a decade below the step that would give `max` intervals.
    let mut mag = 10f64.powf((span / max).log10().floor() - 1.0);
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * mag;
            if count(step) <= max {
                return step;
            }
        }
        mag *= 10.0;
    }
}

/// Decimals needed to print multiples of `step`.
fn decimals(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 0;
    }
    (-(step.log10() + 1e-9).floor()).max(0.0) as usize
}

/// Formats a tick value with the decimals its step needs.
///
/// ```
/// use nrelu_rbm::plot::format_tick;
/// assert_eq!(format_tick(0.25, 0.05), "0.25");
/// assert_eq!(format_tick(40.0, 20.0), "40");
/// assert_eq!(format_tick(-0.0, 0.5), "0.0");
/// ```
pub fn format_tick(value: f64, step: f64) -> String {
    let d = decimals(step);
    let v = if value == 0.0 { 0.0 } else { value };
    format!("{v:.d$}")
}
