//! nrelu-rbm: Restricted Boltzmann Machines with rectified hidden units
//! (noisy rectified linear units, stepped sigmoid, binomial and Bernoulli
//! units; Nair & Hinton 2010).
//!
//! # Quickstart
//! Train a model, save it, load it back and turn raw rows into features:
//!
//! ```
//! use nrelu_rbm::{Rbm, VisibleUnit, units::HiddenUnit};
//! use nrelu_rbm::train::{TrainConfig, train};
//!
//! // 40 rows of 6 binary pixels: two repeated patterns.
//! let data: Vec<f32> = [[1., 1., 1., 0., 0., 0.], [0., 0., 0., 1., 1., 1.]]
//!     .iter().cycle().take(40).flatten().copied().collect();
//! let mut rbm = Rbm::new(6, 3, VisibleUnit::Bernoulli, HiddenUnit::Nrelu, 7)?;
//! let cfg = TrainConfig::default().with_epochs(30).with_batch_size(10).with_learning_rate(0.1);
//! train(&mut rbm, &data, &cfg, |_| std::ops::ControlFlow::Continue(()))?;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("model.safetensors");
//! rbm.save(&path)?;
//! let model = Rbm::load(&path)?;
//!
//! let features = model.features(&data[..12])?; // two rows → 2 × 3 features
//! assert_eq!(features.len(), 2 * 3);
//! let mut out = vec![0.0; 6];
//! model.features_into(&data[..12], &mut out)?; // the same, without allocating
//! assert_eq!(out, features);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The embedding API
//! [`Rbm::load`], [`Rbm::features`] and [`Rbm::features_into`], and the same
//! three on [`Stack`], give exactly the bytes `rbm transform` writes: the
//! model's stored input map is applied to the raw rows, then the
//! noise-free hidden means are computed, layer after layer for a stack.
//! Errors are typed ([`RbmError`]); wrong lengths and non-finite values
//! are errors, never panics. `docs/embedding.md` states the whole
//! contract: threads, features, errors.
//!
//! # Threads
//! No entry point competes with the host program for cores behind its back:
//! * [`Rbm::features`], [`Stack::features`], their `_into` forms and the
//!   other inference methods ([`Rbm::hidden_means`], ...) run on the
//!   calling thread and never create threads; to spread a large batch over
//!   cores, cut it into row blocks and call them from the host's own pool.
//! * [`train::train`] and [`train::Trainer`] run on
//!   [`train::TrainConfig::threads`] threads: one runs on the calling
//!   thread without a pool; more build one pool per [`train::Trainer`], at
//!   its construction (so once per [`train::train`] call), that lives as
//!   long as the trainer. The result is bit-identical for any count.
//! * [`Rbm::gibbs`] and [`Rbm::generate`] run on the calling thread by
//!   default; [`GibbsConfig::with_threads`] spreads the chains over the
//!   current rayon pool (they build none). The samples are bit-identical
//!   for any count.
//! * [`likelihood::exact_log_z`] and [`likelihood::ais`] take a thread
//!   count too and build their pool per call (none for one thread); the
//!   other functions of [`likelihood`] run on the calling thread.
//! * The statistical battery (`verify::run`, feature `verify`) runs its
//!   checks on the current rayon pool: the global one, or the caller's
//!   inside `pool.install`.
//!
//! # Cargo features
//! * `cli` (default): the `rbm` command-line tool and what only it needs —
//!   argument parsing, progress bars, PNG plots, the demo and its
//!   logistic regression (`plot`, `logistic`), data loading (CSV, `.npy`,
//!   `.npz`, IDX, gzip, standard input) and the embedded digits (`data`,
//!   `npy`). Implies `verify`.
//! * `verify` (default through `cli`): the statistical battery
//!   (`nrelu_rbm::verify`), which checks every sampler on every kernel path
//!   against its exact law; `rbm verify` runs it, and so can an embedding
//!   program that enables only this feature.
//!
//! With `default-features = false` the crate depends on none of clap,
//! indicatif, png, flate2, npyz, zip or csv.
//!
//! The numerical core lives in [`kernels`] (the `nrelu-rbm-kernels` crate).
#![forbid(unsafe_code)]

pub use nrelu_rbm_kernels as kernels;

// The unit tests share code with the examples, which name the crate.
#[cfg(test)]
extern crate self as nrelu_rbm;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod data;
pub mod error;
mod features;
mod fsutil;
mod generate;
pub mod likelihood;
#[cfg(feature = "cli")]
pub mod logistic;
pub mod model_io;
#[cfg(feature = "cli")]
pub mod npy;
mod parallel;
#[cfg(feature = "cli")]
pub mod plot;
pub mod rbm;
pub mod stack;
pub mod train;
pub mod units;
#[cfg(feature = "verify")]
pub mod verify;

pub use error::{RbmError, Result};
pub use generate::GibbsConfig;
pub use rbm::{Rbm, Standardization, VisibleUnit};
pub use stack::Stack;

/// The README's Rust snippet, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The examples of `docs/embedding.md`, compiled and run as doc tests (one
/// of them runs the battery, hence the feature).
#[cfg(all(doctest, feature = "verify"))]
#[doc = include_str!("../docs/embedding.md")]
struct EmbeddingDoctests;
