//! The training data of `rbm train` and its input map.
//!
//! The data goes through the model's input map before training, and the
//! map is stored in the model so that `rbm transform` applies it again:
//!
//! * embedded digits, Bernoulli visible units: `x / 16` (pixels 0..=16 to
//!   [0, 1]), stored as mean 0 and std 16;
//! * Gaussian visible units: standardised with the column means and
//!   standard deviations of the training data;
//! * own data, Bernoulli visible units: `x / S` with `--scale S`, stored
//!   as mean 0 and std S; uint8 data (`.npy`, `.npz`, IDX) gets `x / 255`
//!   without `--scale`, other integer data needs it; otherwise no map. The
//!   values, mapped, must lie in [0, 1].
//!
//! `--equivariant` stacks get a pure scale map only
//! ([`prepare_equivariant`]).

use crate::cli::data_args::DataInput;
use crate::cli::{CliError, InputError};
use crate::data::{DIGITS_MAX, Dataset, ElementType};
use crate::rbm::{Rbm, Standardization, VisibleUnit};

/// Training data after the input map, with the map and a description.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The mapped data.
    pub data: Dataset,
    /// The input map applied (and to be stored in the model).
    pub map: Option<Standardization>,
    /// Where the data came from, for messages.
    pub source: String,
}

/// Loads the data (`--data`, or the embedded digits) and applies the
/// input map that suits `visible` (see the [module docs](self)); `scale`
/// is `--scale`.
///
/// # Errors
/// [`CliError::Unreadable`] if the file cannot be read, [`CliError::Rbm`]
/// if its contents are invalid or, for Bernoulli units, outside [0, 1]
/// once mapped; [`CliError::Usage`] for integer data without `--scale`,
/// or `--scale` with Gaussian units.
pub fn prepare(
    input: &DataInput,
    scale: Option<f32>,
    visible: VisibleUnit,
) -> Result<Prepared, CliError> {
    let mut data = input.load()?;
    let map = match (visible, &input.path) {
        (VisibleUnit::Gaussian, _) => {
            if scale.is_some() {
                return Err(CliError::Usage(
                    "--scale has no effect with --visible gaussian: the data is standardised \
                     with its column means and standard deviations"
                        .to_owned(),
                ));
            }
            Some(Standardization::fit(&data.values, data.cols)?)
        }
        (VisibleUnit::Bernoulli, None) => Some(Standardization {
            mean: vec![0.0; data.cols],
            std: vec![DIGITS_MAX; data.cols],
        }),
        (VisibleUnit::Bernoulli, Some(_)) => scale_map(&data, scale, input)?,
    };
    if let Some(m) = &map {
        m.apply(&mut data.values)?;
    }
    if visible == VisibleUnit::Bernoulli && input.path.is_some() {
        data.check_unit_interval(input.message_path())?;
    }
    let source = describe(input, &data, map.as_ref(), visible);
    Ok(Prepared { data, map, source })
}

/// The pure scale map `x / S` of own data, stored as mean 0 and std S:
/// `--scale S`, or 255 for uint8 data; `None` for other non-integer data.
///
/// # Errors
/// [`CliError::Usage`] for integer data other than uint8 without
/// `--scale`.
fn scale_map(
    data: &Dataset,
    scale: Option<f32>,
    input: &DataInput,
) -> Result<Option<Standardization>, CliError> {
    let element = data.element_type();
    let s = match (scale, element) {
        (Some(s), _) => s,
        (None, ElementType::U8) => 255.0,
        (None, e) if e.is_integer() => {
            return Err(CliError::Usage(format!(
                "{} holds {} data: give --scale S to divide it by S (the largest value the \
                 type can take, say), or use --visible gaussian",
                input.describe(),
                e.name()
            )));
        }
        (None, _) => return Ok(None),
    };
    Ok(Some(Standardization::new(
        vec![0.0; data.cols],
        vec![s; data.cols],
    )?))
}

/// Where the data came from, for the plan line: the file and, when it
/// applies, its header row and its scale map.
fn describe(
    input: &DataInput,
    data: &Dataset,
    map: Option<&Standardization>,
    visible: VisibleUnit,
) -> String {
    let mut source = input.describe();
    if input.path.is_none() {
        return source;
    }
    if data.header().is_some() {
        source.push_str(" (after its header row)");
    }
    if let (VisibleUnit::Bernoulli, Some(m)) = (visible, map) {
        source.push_str(&format!(
            " ({}, divided by {})",
            data.element_type().name(),
            m.std[0]
        ));
    }
    source
}

/// Loads the data for `--equivariant`: own data unchanged (or divided by
/// `--scale S`, or by 255 for uint8 data: a pure scale map), the embedded
/// digits divided by 16 (the pure scale map mean 0, std 16, which keeps the
/// stack intensity-equivariant).
///
/// # Errors
/// Those of [`prepare`].
pub fn prepare_equivariant(input: &DataInput, scale: Option<f32>) -> Result<Prepared, CliError> {
    if input.path.is_none() {
        // The digits' Bernoulli map is exactly the scale map x / 16.
        return prepare(input, None, VisibleUnit::Bernoulli);
    }
    let mut data = input.load()?;
    let map = scale_map(&data, scale, input)?;
    if let Some(m) = &map {
        m.apply(&mut data.values)?;
    }
    let source = describe(input, &data, map.as_ref(), VisibleUnit::Bernoulli);
    Ok(Prepared { data, map, source })
}

/// The columns of the data must match the model's visible units.
pub(crate) fn check_width(data: &Dataset, rbm: &Rbm) -> Result<(), CliError> {
    if data.cols == rbm.n_visible() {
        Ok(())
    } else {
        Err(InputError::Width {
            data: data.cols,
            model: rbm.n_visible(),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::data_args::DataFormatArgs;

    #[test]
    fn digits_are_mapped_per_visible_type() {
        let digits = DataInput::new(None, false, &DataFormatArgs::default());
        let b = prepare(&digits, None, VisibleUnit::Bernoulli).unwrap();
        assert!(b.data.values.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(b.data.values.contains(&1.0));
        assert_eq!(b.map.unwrap().std, vec![16.0; 64]);
        let g = prepare(&digits, None, VisibleUnit::Gaussian).unwrap();
        let col0: f64 = g
            .data
            .values
            .iter()
            .skip(20)
            .step_by(64)
            .map(|&v| f64::from(v))
            .sum();
        assert!(col0.abs() < 1e-2, "{col0}");
    }
}
