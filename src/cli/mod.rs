//! The `rbm` command-line tool: argument parsing, subcommands and errors.
//!
//! The binary (`src/main.rs`) only calls [`run`] and turns an error into
//! one `error: ...` line on stderr and the exit code of
//! [`CliError::exit_code`]. Each subcommand lives in its own module with a
//! `clap::Args` struct and a `run` function; adding one means adding a
//! `Command` variant and a match arm in `Command::run`.
//!
//! Exit codes: 0 on success, [`EXIT_USAGE`] (2) for a command line or input
//! that is rejected (a bad option, an unreadable or invalid data or model
//! file, a training run that diverged) — nothing is written then —, and
//! [`EXIT_IO`] (1) when the operating system fails to create, write or
//! rename an output file.

mod bench;
mod data_args;
mod demo;
mod eval;
mod generate;
mod output;
mod sample;
mod train;
mod transform;
mod verify;

use crate::error::RbmError;
use crate::units::ParseUnitError;
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;

/// Exit code for I/O failures (a file could not be created, written or
/// renamed).
pub const EXIT_IO: u8 = 1;

/// Exit code for usage and input errors (unknown option, bad value, missing
/// or invalid input file, missing output directory, divergence). Nothing
/// has been written when it is returned.
pub const EXIT_USAGE: u8 = 2;

/// Exit code of `rbm verify` when a statistical test rejects or a
/// deterministic bound fails.
pub const EXIT_VERIFY: u8 = 3;
/// Exit code of a run interrupted by SIGINT (128 + 2, the shells'
/// convention) after writing its checkpoint.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The exit-code section of `rbm --help`.
const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  I/O failure: an output file could not be created, written or renamed
  2  usage or input error: bad option or value, missing or invalid input file,
     training diverged, or missing output directory
  3  rbm verify: a statistical test rejected or a bound failed

On any error, a single line starting with 'error:' is printed to stderr and
no output file is created (an existing file at the output path is left
untouched).";

/// The `rbm` command line.
#[derive(Debug, Parser)]
#[command(
    name = "rbm",
    version,
    about = "Restricted Boltzmann Machines with rectified hidden units",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub(crate) struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The `rbm` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The main job: train Bernoulli, binomial, SSU and NReLU RBMs on the
    /// embedded digits, compare their features, check intensity
    /// equivariance, and write report.md with pictures (under a minute).
    #[command(after_help = demo::AFTER_HELP)]
    Demo(demo::DemoArgs),
    /// Draw samples of one hidden unit at a fixed pre-activation and write
    /// them to a 1-D float32 .npy file.
    #[command(after_help = AFTER_HELP)]
    Sample(sample::SampleArgs),
    /// Train an RBM on a CSV, .npy, .npz or IDX file (default: the embedded
    /// UCI digits) and save it as a .safetensors model.
    #[command(after_help = AFTER_HELP)]
    Train(Box<train::TrainArgs>),
    /// Map data through a trained model to hidden means or samples, written
    /// as a 2-D float32 .npy file.
    #[command(after_help = AFTER_HELP)]
    Transform(transform::TransformArgs),
    /// Evaluate a trained RBM on data: reconstruction error,
    /// pseudo-likelihood, and log Z with the average log-likelihood (exact
    /// or by AIS).
    #[command(after_help = AFTER_HELP)]
    Eval(eval::EvalArgs),
    /// Sample from a trained model by Gibbs sampling and write the visible
    /// states as a 2-D float32 .npy file (optionally a PNG grid).
    #[command(after_help = AFTER_HELP)]
    Generate(generate::GenerateArgs),
    /// Test every sampler against its exact law on every kernel path of
    /// this CPU; print the table and the error budget, exit 3 on failure.
    Verify(verify::VerifyArgs),
    /// Measure kernel and training throughput on this machine against the
    /// bare-sgemm bound (about 10 s; --quick: 1-2 s).
    Bench(bench::BenchArgs),
}

impl Command {
    /// Runs the subcommand.
    ///
    /// # Errors
    /// See [`CliError`].
    pub(crate) fn run(&self) -> Result<(), CliError> {
        match self {
            Command::Demo(args) => demo::run(args),
            Command::Sample(args) => sample::run(args),
            Command::Train(args) => train::run(args),
            Command::Transform(args) => transform::run(args),
            Command::Eval(args) => eval::run(args),
            Command::Generate(args) => generate::run(args),
            Command::Verify(args) => verify::run(args),
            Command::Bench(args) => bench::run(args),
        }
    }
}

/// Why `rbm` failed. Every message is a single line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line could not be parsed (unknown option, missing
    /// option, unparsable value); holds clap's message flattened to one
    /// line.
    #[error("{0}")]
    Usage(String),
    /// An option value was rejected after parsing.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The library rejected an input: a data or model file, an option
    /// value, or the data's shape or range.
    #[error(transparent)]
    Rbm(#[from] RbmError),
    /// An input file (data or model) could not be opened or read.
    #[error("cannot read '{}': {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Training diverged: the weights became non-finite.
    #[error(
        "training diverged at epoch {epoch}, batch {batch}: the weights became non-finite; \
         lower --lr (it was {lr}); no model was written"
    )]
    Diverged {
        /// Epoch, from 1.
        epoch: usize,
        /// Mini-batch within the epoch, from 1.
        batch: usize,
        /// The learning rate used.
        lr: f32,
    },
    /// `rbm verify` found a sampler that does not follow its law (or a
    /// failed deterministic bound); the message summarises the table.
    #[error("verification failed: {0}")]
    VerifyFailed(String),
    /// Training was interrupted by SIGINT after writing its checkpoint;
    /// the message says how to resume.
    #[error("{0}")]
    Interrupted(String),
    /// The operating system failed while creating, writing or renaming a
    /// file.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `cannot write out.npy`.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl CliError {
    /// The process exit code for this error: [`EXIT_USAGE`] or
    /// [`EXIT_IO`].
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::Input(_)
            | CliError::Rbm(_)
            | CliError::Unreadable { .. }
            | CliError::Diverged { .. } => EXIT_USAGE,
            CliError::Io { .. } => EXIT_IO,
            CliError::VerifyFailed(_) => EXIT_VERIFY,
            CliError::Interrupted(_) => EXIT_INTERRUPTED,
        }
    }

    /// An [`CliError::Io`] with `context`.
    pub fn io(context: impl Into<String>, source: io::Error) -> CliError {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// A library error met while reading inputs: [`RbmError::Io`] becomes
    /// [`CliError::Unreadable`], anything else [`CliError::Rbm`]; both exit
    /// with [`EXIT_USAGE`].
    pub fn reading(err: RbmError) -> CliError {
        match err {
            RbmError::Io { path, source } => CliError::Unreadable { path, source },
            other => CliError::Rbm(other),
        }
    }
}

/// An option value or output path rejected before any file is created.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InputError {
    /// A real-valued option is NaN or infinite.
    #[error("--{option} must be a finite number, got {value}")]
    NotFinite {
        /// The option name, without dashes.
        option: &'static str,
        /// The rejected value.
        value: f32,
    },
    /// A count option is zero.
    #[error("--{option} must be at least 1")]
    Zero {
        /// The option name, without dashes.
        option: &'static str,
    },
    /// A count option does not fit in memory sizes on this machine.
    #[error("--{option} {value} is too large")]
    TooLarge {
        /// The option name, without dashes.
        option: &'static str,
        /// The rejected value.
        value: u64,
    },
    /// A hidden-unit value is invalid.
    #[error(transparent)]
    Unit(#[from] ParseUnitError),
    /// The output path is empty or does not end in a file name.
    #[error("output path '{}' does not name a file", .0.display())]
    NotAFileName(PathBuf),
    /// The directory that should hold the output does not exist.
    #[error("output directory '{}' does not exist", .0.display())]
    NoSuchDirectory(PathBuf),
    /// The would-be directory of the output is not a directory.
    #[error("'{}' is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The output path is an existing directory.
    #[error("output path '{}' is a directory", .0.display())]
    OutputIsDirectory(PathBuf),
    /// The output path is an existing device, FIFO or socket, which the
    /// atomic rename would replace with a regular file.
    #[error(
        "output path '{}' exists and is not a regular file (a device, FIFO or socket); refusing to replace it",
        .0.display()
    )]
    OutputIsSpecial(PathBuf),
    /// The data and the model have different widths.
    #[error("shape mismatch: the data has {data} columns but the model has {model} visible units")]
    Width {
        /// Columns of the data (labels excluded).
        data: usize,
        /// Visible units of the model.
        model: usize,
    },
}

/// Parses the process arguments and runs the subcommand.
///
/// `--help` and `--version` print to stdout and return `Ok(())`.
///
/// # Errors
/// See [`CliError`]; the caller prints it as `error: {err}` and exits with
/// [`CliError::exit_code`].
pub fn run() -> Result<(), CliError> {
    run_from(std::env::args_os())
}

/// [`run`] with explicit arguments (the first one is the program name).
///
/// ```
/// use nrelu_rbm::cli::{CliError, run_from};
/// let err = run_from(["rbm", "sample", "--unit", "tanh"]).unwrap_err();
/// assert!(matches!(err, CliError::Usage(_)));
/// assert_eq!(err.exit_code(), 2);
/// assert!(!err.to_string().contains('\n'));
/// ```
///
/// # Errors
/// See [`run`].
pub fn run_from<I, T>(args: I) -> Result<(), CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // --help, --version: not errors. A failure to print them (closed
        // stdout) is an I/O error.
        Err(e) if !e.use_stderr() => {
            return e
                .print()
                .map_err(|err| CliError::io("cannot write to stdout", err));
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let names: Vec<String> = Cli::command()
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            let msg = format!(
                "no subcommand given (one of: {}; see --help)",
                names.join(", ")
            );
            return Err(CliError::Usage(msg));
        }
        Err(e) => return Err(CliError::Usage(one_line(&e))),
    };
    cli.command.run()
}

/// Flattens clap's multi-line message to one line: the first paragraph
/// with its `error: ` prefix dropped and its indented list items joined by
/// commas; the usage and tip paragraphs are replaced by a pointer to
/// `--help`.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines().take_while(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first).trim();
    let mut msg = first.to_owned();
    for (i, item) in lines.map(str::trim).enumerate() {
        msg.push_str(if i == 0 { " " } else { ", " });
        msg.push_str(item);
    }
    msg.push_str(" (see --help)");
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn usage_error(args: &[&str]) -> String {
        match run_from(args) {
            Err(CliError::Usage(msg)) => msg,
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn clap_errors_become_one_line() {
        let missing = usage_error(&["rbm", "sample", "--unit", "nrelu"]);
        assert!(!missing.contains('\n'), "{missing}");
        assert!(
            missing.starts_with("the following required arguments"),
            "{missing}"
        );
        assert!(missing.contains("--x <X>, --count <N>"), "{missing}");

        let unknown = usage_error(&["rbm", "sample", "--bogus"]);
        assert!(!unknown.contains('\n'), "{unknown}");
        assert!(unknown.contains("--bogus"), "{unknown}");

        let none = usage_error(&["rbm"]);
        assert_eq!(
            none,
            "no subcommand given (one of: demo, sample, train, transform, eval, generate, verify, bench; see --help)"
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(CliError::Usage(String::new()).exit_code(), EXIT_USAGE);
        let zero = InputError::Zero { option: "count" };
        assert_eq!(CliError::from(zero).exit_code(), EXIT_USAGE);
        assert_eq!(
            CliError::io("x", io::Error::other("y")).exit_code(),
            EXIT_IO
        );
        assert_eq!(
            CliError::io("cannot write a", io::Error::other("b")).to_string(),
            "cannot write a: b"
        );
    }
}
