//! Plain f64 reference implementations, used by the tests of every path and
//! by the statistical suite. They favour clarity and accuracy over speed.
//!
//! ```
//! use nrelu_rbm_kernels::reference;
//! assert!((reference::sigmoid(0.0) - 0.5).abs() < 1e-16);
//! assert!((reference::softplus(0.0) - 2f64.ln()).abs() < 1e-16);
//! ```

/// σ(x) = 1/(1+e^-x) in f64, without overflow for any x.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let t = x.exp();
        t / (1.0 + t)
    }
}

/// ln(1 + e^x) in f64.
pub fn softplus(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// max(0, x), NaN propagated.
pub fn relu(x: f64) -> f64 {
    if x.is_nan() { x } else { x.max(0.0) }
}

/// The stepped sigmoid mean Σ_{i>=1} σ(x - i + 0.5) in f64, summing every
/// term above 1e-30 and counting terms within 1e-30 of 1 exactly.
pub fn ssu_mean(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    let c = x + 0.5;
    // σ(a) > 1 - 1e-30 for a > 70, and < 1e-30 for a < -70.
    let first = (c - 70.0).floor().max(1.0);
    let mut sum = first - 1.0;
    let mut i = first;
    while c - i > -70.0 {
        sum += sigmoid(c - i);
        i += 1.0;
    }
    sum
}

/// The stepped sigmoid variance Σ_{i>=1} σ_i (1 - σ_i), σ_i = σ(x - i + 0.5).
pub fn ssu_variance(x: f64) -> f64 {
    let c = x + 0.5;
    let mut i = (c - 70.0).floor().max(1.0);
    let mut v = 0.0;
    while c - i > -70.0 {
        let s = sigmoid(c - i);
        v += s * (1.0 - s);
        i += 1.0;
    }
    v
}

/// The distance from `got` to the exact value `want`, in units of the f32
/// spacing at `want` (2^-149 in the subnormal range). Equal infinities and
/// two NaNs are 0 apart; anything else involving NaN or infinity is
/// `f64::INFINITY` apart.
pub fn ulps(got: f32, want: f64) -> f64 {
    if got.is_nan() || want.is_nan() {
        return if got.is_nan() && want.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if want.is_infinite() || got.is_infinite() {
        return if f64::from(got) == want {
            0.0
        } else {
            f64::INFINITY
        };
    }
    (f64::from(got) - want).abs() / f32_spacing(want)
}

/// The gap between adjacent f32 values around `v` (a finite f64).
pub fn f32_spacing(v: f64) -> f64 {
    let a = v.abs();
    let min_normal = f64::from(f32::MIN_POSITIVE);
    if a < min_normal {
        return 2f64.powi(-149);
    }
    // 2^(floor(log2 a) - 23), computed exactly from the exponent bits.
    let e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    2f64.powi(e - 23)
}
