//! Hidden-unit types by name: `bernoulli`, `nrelu`, `ssu` and `binomial:K`.
//!
//! [`HiddenUnit`] is the typed form of the names accepted on the command
//! line (`rbm sample --unit`, and later `--hidden-units`). It parses with
//! [`FromStr`], prints back with [`Display`](fmt::Display) to the same
//! canonical name, and samples through the kernels with
//! [`HiddenUnit::sample`].
//!
//! ```
//! use nrelu_rbm::units::HiddenUnit;
//! let unit: HiddenUnit = "binomial:8".parse()?;
//! assert_eq!(unit, HiddenUnit::binomial(8)?);
//! assert_eq!(unit.to_string(), "binomial:8");
//! assert!("binomial:0".parse::<HiddenUnit>().is_err());
//! # Ok::<(), nrelu_rbm::units::ParseUnitError>(())
//! ```

use crate::kernels::{Binomial, Kernels, MAX_BINOMIAL_K, Sampler, Stream};
use std::fmt;
use std::str::FromStr;

/// The accepted unit names, for help texts and error messages.
pub const UNIT_NAMES: &str = "bernoulli, nrelu, ssu, binomial:K";

/// A stochastic hidden unit, sampled from its pre-activation `x`.
///
/// Names (see [`FromStr`] and [`Display`](fmt::Display)):
///
/// | name         | unit                       | values             |
/// |--------------|----------------------------|--------------------|
/// | `bernoulli`  | 1 with probability σ(x)    | {0, 1}             |
/// | `nrelu`      | max(0, x + N(0, σ(x)))     | real, >= 0         |
/// | `ssu`        | Σ_{j>=1} Bernoulli(σ(x − j + ½)) | integer, >= 0 |
/// | `binomial:K` | K Bernoulli(σ(x)) draws summed | integer in 0..=K |
///
/// The NReLU noise has **variance** σ(x), as in Nair & Hinton (2010); see
/// [`Kernels::nrelu`].
///
/// ```
/// use nrelu_rbm::units::HiddenUnit;
/// for name in ["bernoulli", "nrelu", "ssu", "binomial:3"] {
///     let unit: HiddenUnit = name.parse().unwrap();
///     assert_eq!(unit.to_string(), name);
/// }
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HiddenUnit {
    /// Binary unit: 1 with probability σ(x), else 0.
    Bernoulli,
    /// Noisy rectified linear unit: max(0, x + √σ(x)·z), z ~ N(0, 1).
    Nrelu,
    /// Exact stepped sigmoid unit: Σ_{j>=1} Bernoulli(σ(x − j + ½)).
    Ssu,
    /// Binomial unit: the sum of `K` independent Bernoulli(σ(x)) draws,
    /// `K` in `1..=MAX_BINOMIAL_K`, held by the kernels' checked
    /// [`Binomial`]: build it with [`HiddenUnit::binomial`], by parsing, or
    /// in a `const` with [`HiddenUnit::binomial_of`].
    Binomial(Binomial),
}

/// Why a unit name, binomial `K` or NReLU mean was rejected.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseUnitError {
    /// The name is none of the known units.
    #[error("unknown unit '{0}' (valid units: {UNIT_NAMES})")]
    Unknown(String),
    /// `binomial` was given without `:K`.
    #[error("unit 'binomial' needs a count: binomial:K with K in 1..={MAX_BINOMIAL_K}")]
    MissingK,
    /// The text after `binomial:` is not a decimal integer.
    #[error("unit 'binomial:{0}': K must be an integer in 1..={MAX_BINOMIAL_K}")]
    NotAnInteger(String),
    /// `K` is an integer outside `1..=MAX_BINOMIAL_K`.
    #[error("unit 'binomial:{0}': K must be in 1..={MAX_BINOMIAL_K}")]
    KOutOfRange(String),
    /// The name is none of the NReLU mean rules.
    #[error("unknown NReLU mean '{0}' (valid means: {NRELU_MEAN_NAMES})")]
    UnknownMean(String),
}

impl HiddenUnit {
    /// A binomial unit with `k` draws, checked against
    /// `1..=`[`MAX_BINOMIAL_K`].
    ///
    /// ```
    /// use nrelu_rbm::units::HiddenUnit;
    /// assert_eq!(HiddenUnit::binomial(4)?.to_string(), "binomial:4");
    /// assert!(HiddenUnit::binomial(0).is_err());
    /// # Ok::<(), nrelu_rbm::units::ParseUnitError>(())
    /// ```
    pub fn binomial(k: u32) -> Result<HiddenUnit, ParseUnitError> {
        match Binomial::new(k) {
            Ok(b) => Ok(HiddenUnit::Binomial(b)),
            Err(_) => Err(ParseUnitError::KOutOfRange(k.to_string())),
        }
    }

    /// A binomial unit with a `K` known when compiling, checked then (an
    /// out-of-range `K` does not compile): for `const` items.
    ///
    /// ```
    /// use nrelu_rbm::units::HiddenUnit;
    /// const UNITS: [HiddenUnit; 2] = [HiddenUnit::Nrelu, HiddenUnit::binomial_of::<3>()];
    /// assert_eq!(UNITS[1].to_string(), "binomial:3");
    /// ```
    pub const fn binomial_of<const K: u32>() -> HiddenUnit {
        HiddenUnit::Binomial(Binomial::of::<K>())
    }

    /// The kernel sampler for this unit: the one value the kernels
    /// dispatch on to reach the unit's distribution.
    pub fn sampler(self) -> Sampler {
        match self {
            HiddenUnit::Bernoulli => Sampler::Bernoulli,
            HiddenUnit::Nrelu => Sampler::Nrelu,
            HiddenUnit::Ssu => Sampler::Ssu,
            HiddenUnit::Binomial(b) => Sampler::Binomial(b),
        }
    }

    /// Samples one unit per pre-activation: `out[i]` is drawn at `x[i]`,
    /// consuming `stream` as the matching [`Kernels`] method does (whole
    /// blocks per call; see [`Stream`]).
    ///
    /// ```
    /// use nrelu_rbm::kernels::{Kernels, Stream};
    /// use nrelu_rbm::units::HiddenUnit;
    /// let x = [0.5f32; 32];
    /// let mut h = [0.0f32; 32];
    /// let unit = HiddenUnit::binomial(3)?;
    /// unit.sample(Kernels::active(), &x, &mut h, &mut Stream::new(1, 0));
    /// assert!(h.iter().all(|&v| v == v.round() && (0.0..=3.0).contains(&v)));
    /// # Ok::<(), nrelu_rbm::units::ParseUnitError>(())
    /// ```
    ///
    /// # Panics
    /// If `x.len() != out.len()`.
    pub fn sample(self, kernels: Kernels, x: &[f32], out: &mut [f32], stream: &mut Stream) {
        match self {
            HiddenUnit::Bernoulli => kernels.bernoulli(x, out, stream),
            HiddenUnit::Nrelu => kernels.nrelu(x, out, stream),
            HiddenUnit::Ssu => kernels.ssu(x, out, stream),
            HiddenUnit::Binomial(b) => kernels.binomial(b, x, out, stream),
        }
    }
}

impl FromStr for HiddenUnit {
    type Err = ParseUnitError;

    /// Parses `bernoulli`, `nrelu`, `ssu` or `binomial:K` (exact, lower
    /// case; `K` in decimal digits, in `1..=MAX_BINOMIAL_K`).
    fn from_str(s: &str) -> Result<HiddenUnit, ParseUnitError> {
        match s {
            "bernoulli" => Ok(HiddenUnit::Bernoulli),
            "nrelu" => Ok(HiddenUnit::Nrelu),
            "ssu" => Ok(HiddenUnit::Ssu),
            "binomial" | "binomial:" => Err(ParseUnitError::MissingK),
            _ => {
                let Some(k) = s.strip_prefix("binomial:") else {
                    return Err(ParseUnitError::Unknown(s.to_owned()));
                };
                if !k.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ParseUnitError::NotAnInteger(k.to_owned()));
                }
                // All digits: the only possible parse failure is overflow.
                match k.parse::<u32>() {
                    Ok(k) => HiddenUnit::binomial(k),
                    Err(_) => Err(ParseUnitError::KOutOfRange(k.to_owned())),
                }
            }
        }
    }
}

impl fmt::Display for HiddenUnit {
    /// Writes the canonical name, which parses back to the same unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiddenUnit::Bernoulli => f.write_str("bernoulli"),
            HiddenUnit::Nrelu => f.write_str("nrelu"),
            HiddenUnit::Ssu => f.write_str("ssu"),
            HiddenUnit::Binomial(b) => write!(f, "binomial:{}", b.k()),
        }
    }
}

/// How a layer of NReLU hidden units is read out without noise: the value
/// used as the unit's mean, both as the hidden statistic in the learning
/// rule and as the features ([`crate::Rbm::hidden_means`], `rbm transform`).
///
/// The two rules share the energy, the sampler (max(0, x + N(0, σ(x))),
/// noise **variance** σ(x)) and the likelihood; they differ only in that
/// mean.
///
/// | name   | mean of the unit at pre-activation x | intensity-equivariant |
/// |--------|--------------------------------------|-----------------------|
/// | `relu` | max(0, x), the noise-free NReLU (the default) | yes, with zero biases |
/// | `ssu`  | Σ_{i>=1} σ(x − i + ½), the posterior mean of the stepped sigmoid unit NReLU approximates | no |
///
/// `relu` is what Nair & Hinton (2010) run noise-free, and the only rule
/// under which a zero-bias stack satisfies f(αv) = α f(v). `ssu` is graded
/// where max(0, x) is flat (x < 0), so no unit is cut off from the
/// gradient, and the features stay graded where most inputs lie. It suits
/// small mini-batches at large learning rates, where max(0, x) lets units
/// die (see `docs/python.md`, "The NReLU mean").
///
/// ```
/// use nrelu_rbm::units::NreluMean;
/// let mean: NreluMean = "ssu".parse()?;
/// assert_eq!(mean.to_string(), "ssu");
/// assert_eq!(NreluMean::default(), NreluMean::Relu);
/// assert!("softplus".parse::<NreluMean>().is_err());
/// # Ok::<(), nrelu_rbm::units::ParseUnitError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NreluMean {
    /// max(0, x): the noise-free NReLU.
    #[default]
    Relu,
    /// Σ_{i>=1} σ(x − i + ½): the stepped sigmoid unit's mean.
    Ssu,
}

/// The accepted NReLU mean names, for help texts and error messages.
pub const NRELU_MEAN_NAMES: &str = "relu, ssu";

impl FromStr for NreluMean {
    type Err = ParseUnitError;

    /// Parses `relu` or `ssu` (exact, lower case).
    fn from_str(s: &str) -> Result<NreluMean, ParseUnitError> {
        match s {
            "relu" => Ok(NreluMean::Relu),
            "ssu" => Ok(NreluMean::Ssu),
            _ => Err(ParseUnitError::UnknownMean(s.to_owned())),
        }
    }
}

impl fmt::Display for NreluMean {
    /// Writes the name, which parses back to the same rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NreluMean::Relu => "relu",
            NreluMean::Ssu => "ssu",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let units = [
            HiddenUnit::Bernoulli,
            HiddenUnit::Nrelu,
            HiddenUnit::Ssu,
            HiddenUnit::binomial_of::<1>(),
            HiddenUnit::binomial_of::<MAX_BINOMIAL_K>(),
        ];
        for unit in units {
            assert_eq!(unit.to_string().parse::<HiddenUnit>(), Ok(unit));
        }
        assert_eq!("binomial:007".parse(), HiddenUnit::binomial(7));
    }

    #[test]
    fn bad_names_are_typed_errors() {
        use ParseUnitError::*;
        let cases = [
            ("", Unknown(String::new())),
            ("relu", Unknown("relu".into())),
            ("Bernoulli", Unknown("Bernoulli".into())),
            ("binomial", MissingK),
            ("binomial:", MissingK),
            ("binomial:abc", NotAnInteger("abc".into())),
            ("binomial:+3", NotAnInteger("+3".into())),
            ("binomial:-1", NotAnInteger("-1".into())),
            ("binomial: 3", NotAnInteger(" 3".into())),
            ("binomial:0", KOutOfRange("0".into())),
            ("binomial:65537", KOutOfRange("65537".into())),
            ("binomial:99999999999", KOutOfRange("99999999999".into())),
        ];
        for (name, want) in cases {
            assert_eq!(name.parse::<HiddenUnit>(), Err(want), "{name:?}");
        }
    }

    #[test]
    fn unknown_unit_message_lists_the_valid_ones() {
        let msg = "tanh".parse::<HiddenUnit>().unwrap_err().to_string();
        assert!(msg.contains("bernoulli, nrelu, ssu, binomial:K"), "{msg}");
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn sampler_matches_unit() {
        let b5 = Binomial::new(5).unwrap();
        assert_eq!(HiddenUnit::Binomial(b5).sampler(), Sampler::Binomial(b5));
        assert_eq!(HiddenUnit::Ssu.sampler(), Sampler::Ssu);
        assert_eq!(HiddenUnit::Nrelu.sampler(), Sampler::Nrelu);
        assert_eq!(HiddenUnit::Bernoulli.sampler(), Sampler::Bernoulli);
    }

    #[test]
    fn nrelu_means_round_trip_and_reject_other_names() {
        for mean in [NreluMean::Relu, NreluMean::Ssu] {
            assert_eq!(mean.to_string().parse::<NreluMean>(), Ok(mean));
        }
        for bad in ["", "Relu", "softplus", "ssu "] {
            let err = bad.parse::<NreluMean>().unwrap_err();
            assert_eq!(err, ParseUnitError::UnknownMean(bad.to_owned()));
            assert!(err.to_string().contains("relu, ssu"), "{err}");
        }
    }
}
