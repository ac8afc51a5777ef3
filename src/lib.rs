//! nrelu-rbm: Restricted Boltzmann Machines with rectified hidden units.
//!
//! The numerical core lives in [`kernels`] (the `nrelu-rbm-kernels` crate).
#![forbid(unsafe_code)]

pub use nrelu_rbm_kernels as kernels;

pub mod cli;
pub mod data;
pub mod error;
mod fsutil;
pub mod likelihood;
pub mod logistic;
pub mod model_io;
pub mod npy;
mod parallel;
pub mod plot;
pub mod rbm;
pub mod stack;
pub mod train;
pub mod units;
pub mod verify;

pub use error::{RbmError, Result};
pub use rbm::{Rbm, Standardization, VisibleUnit};
