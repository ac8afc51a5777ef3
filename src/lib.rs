//! nrelu-rbm: Restricted Boltzmann Machines with rectified hidden units.
//!
//! The numerical core lives in [`kernels`] (the `nrelu-rbm-kernels` crate).
#![forbid(unsafe_code)]

pub use nrelu_rbm_kernels as kernels;

pub mod cli;
pub mod npy;
pub mod units;
