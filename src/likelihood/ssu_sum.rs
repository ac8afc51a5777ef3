//! The stepped sigmoid unit's term of the free energy,
//! S(x) = Σ_{i≥1} softplus(x − i + ½), in a bounded number of operations
//! for every x.
//!
//! Summed term by term, S(x) takes about x + 40 softplus evaluations (until
//! the terms drop below e^−40), which makes every likelihood of an SSU or
//! NReLU model tens of times dearer than a Bernoulli one, and never ends for
//! x beyond 2^53, where `i + 1 == i`. Instead, with u = x − ½, the terms
//! with u − n > 0 (n = 0, 1, …, m − 1, m = ⌈u⌉ for u > 0) split into a
//! linear part and a decaying one, softplus(y) = y + ln(1 + e^−y):
//!
//! S(x) = Σ_{n<m} (u − n) + P(f, m) + P(g, ∞),
//!
//! where f = u − (m − 1) ∈ (0, 1] is the smallest positive argument,
//! g = m − u ≥ 0 the magnitude of the largest non-positive one, and
//! P(a, N) = Σ_{n<N} ln(1 + e^{−a−n}). The linear part is
//! m·(u − (m − 1)/2) in closed form. Each P takes its first [`DIRECT`]
//! terms directly and the rest from the series
//! R(z) = Σ_{n≥0} ln(1 + z e^−n) = Σ_{k≥1} (−1)^{k+1} z^k / (k (1 − e^−k)),
//! with z ≤ e^−DIRECT, so [`SERIES`] terms reach f64 precision.

/// Terms of each P taken directly: the series then starts at
/// z ≤ e^−2 ≈ 0.135.
const DIRECT: usize = 2;

/// Terms of the series R(z): for z ≤ e^−2 the first term left out,
/// z^19 / (19 (1 − e^−19)) < 3.2e−18, is below half an ulp of R(z) ≥ z/2.
const SERIES: usize = 18;

/// (−1)^{k+1} / (k (1 − e^−k)) for k = 1..=SERIES.
fn coefficients() -> &'static [f64; SERIES] {
    static C: std::sync::OnceLock<[f64; SERIES]> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        std::array::from_fn(|i| {
            let k = (i + 1) as f64;
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            sign / (k * -(-k).exp_m1())
        })
    })
}

/// R(z) = Σ_{n≥0} ln(1 + z e^−n) for 0 ≤ z ≤ e^−DIRECT (Horner).
fn series(z: f64) -> f64 {
    z * coefficients()
        .iter()
        .rev()
        .fold(0.0f64, |acc, &c| acc.mul_add(z, c))
}

/// P(a, n) = Σ_{k<n} ln(1 + e^{−a−k}) for a ≥ 0 (n may be infinite).
fn decaying(a: f64, n: f64) -> f64 {
    let direct = n.min(DIRECT as f64) as usize;
    let first = (-a).exp();
    let mut sum = 0.0;
    let mut e = first;
    for _ in 0..direct {
        sum += e.ln_1p();
        e *= std::f64::consts::E.recip();
    }
    if n > DIRECT as f64 {
        // Σ_{k=DIRECT}^{n−1} = R(z) − R(z e^{−(n−DIRECT)}).
        let z = e;
        sum += series(z);
        let rest = n - DIRECT as f64;
        if rest.is_finite() && rest < 64.0 {
            sum -= series(z * (-rest).exp());
        }
    }
    sum
}

/// S(x) = Σ_{i≥1} softplus(x − i + ½): ln of the stepped sigmoid unit's
/// partition sum at total input x. +∞ for x = +∞, 0 for x = −∞, NaN for
/// NaN.
pub(crate) fn ssu_term(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    let u = x - 0.5;
    if u <= 0.0 {
        // No positive arguments: only the decaying terms, of magnitude
        // −u, −u + 1, … (all zero for u = −∞).
        return decaying(-u, f64::INFINITY);
    }
    let m = u.ceil();
    // Σ_{n<m} (u − n) = m·(u − (m − 1)/2), which overflows only when the
    // sum does.
    let linear = m * (u - (m - 1.0) * 0.5);
    linear + decaying(u - (m - 1.0), m) + decaying(m - u, f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::ssu_term;

    fn softplus(x: f64) -> f64 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }

    /// The sum term by term until the terms are below 1e−300, with
    /// Neumaier's compensation, so that its own error stays near one
    /// rounding per term's softplus (relative, as every term is positive).
    fn direct(x: f64) -> f64 {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        let mut i = 1.0;
        while x - i + 0.5 > -700.0 {
            let t = softplus(x - i + 0.5);
            let n = s + t;
            c += if s.abs() >= t.abs() {
                (s - n) + t
            } else {
                (t - n) + s
            };
            s = n;
            i += 1.0;
        }
        s + c
    }

    /// S(x) at the f64 nearest each x, to 20 digits, from mpmath at 50
    /// digits (`fsum(log1p(exp(x - i + 1/2)) for i in range(1, x + 400))`).
    #[allow(clippy::excessive_precision)] // mpmath's digits, as printed
    const GOLDEN: [(f64, f64); 12] = [
        (-88.0, 5.809495721386646839e-39),
        (-31.486, 2.0316869286577739483e-14),
        (-3.25, 0.036889186686098187684),
        (-0.5, 0.51756010713551923554),
        (0.0, 0.8016337027660678724),
        (0.5, 1.210707287695464545),
        (0.75, 1.471891352121127545),
        (1.5, 2.523968975213687379),
        (2.0, 3.4771239649289269628),
        (7.3, 28.247619304390963475),
        (40.125, 806.61107990396498833),
        (250.25, 31314.13451740018156),
    ];

    #[test]
    fn matches_high_precision_values_within_four_ulps() {
        for (x, want) in GOLDEN {
            let got = ssu_term(x);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want,
                "x = {x}: {got} vs {want}"
            );
        }
    }

    /// Against the sum term by term over a sweep. S is ill-conditioned in
    /// x for negative x (x S'(x) / S(x) → |x|), and the reference rounds
    /// each argument x − i + ½ to the f64 grid at its own magnitude, so
    /// its error grows like |x| ulps there; hence the |x|-proportional
    /// part of the bound (the golden values above hold this code to 4).
    #[test]
    fn matches_the_term_by_term_sum() {
        let mut xs: Vec<f64> = (-2000..=2000).map(|i| f64::from(i) * 0.0173).collect();
        xs.extend([
            0.0, 0.5, 1.0, 1.5, 2.0, 2.5, -0.5, -40.0, -88.0, 88.0, 250.25, 1e-9,
        ]);
        xs.extend([0.5 + 1e-12, 0.5 - 1e-12, 3.5 + 1e-15, 3.5 - 4e-16]);
        for x in xs {
            let (got, want) = (ssu_term(x), direct(x));
            let err = (got - want).abs();
            // A few roundings each side: the reference's softplus terms,
            // and here the closed form's few products and the series.
            assert!(
                err <= (8.0 + 2.0 * x.abs()) * f64::EPSILON * want.abs() || err < 1e-300,
                "x = {x}: {got} vs {want} (relative {:e})",
                err / want
            );
        }
    }

    #[test]
    fn extremes_are_finite_or_exact() {
        assert_eq!(ssu_term(f64::NEG_INFINITY), 0.0);
        assert_eq!(ssu_term(f64::INFINITY), f64::INFINITY);
        assert!(ssu_term(f64::NAN).is_nan());
        assert_eq!(ssu_term(-1e30), 0.0);
        // u²/2 + u/2 + O(1) for huge u; term by term this never finished.
        let big = ssu_term(1e30);
        assert!(((big - 0.5e60) / 0.5e60).abs() < 1e-15, "{big}");
        assert!(ssu_term(1e200).is_infinite());
    }
}
