//! `rbm sample`: draws `N` samples of one hidden unit at a fixed
//! pre-activation `x` and writes them as a 1-D `<f4` `.npy` file.
//!
//! # Reproducibility
//! The samples come from [`Stream::new(seed, stream_id)`](Stream::new),
//! drawn by the kernels in chunks of exactly [`CHUNK`] elements (the last
//! chunk holds the remainder). The kernels consume the stream in whole
//! blocks per call, so the chunk size is part of the output's definition:
//! the same `(unit, x, count, seed, stream)` gives a byte-identical file on
//! every run, machine and kernel path, and changing [`CHUNK`] would change
//! the files. Since each chunk's samples are a prefix of what a full chunk
//! would give, a file of `N` samples is also the first `N` samples of any
//! longer file with the same settings.

use super::output::{output_name, write_output};
use super::{CliError, InputError};
use crate::kernels::{Kernels, Stream};
use crate::npy::{NpyError, NpyWriter};
use crate::units::HiddenUnit;
use std::io::{self, Write};
use std::path::PathBuf;

/// Elements drawn per kernel call. Fixed forever: it is part of the
/// definition of a seed's output (see the [module docs](self)). A multiple
/// of 32, so only the last chunk can end inside a random block.
pub const CHUNK: usize = 65_536;

/// Options of `rbm sample`.
#[derive(Clone, Debug, clap::Args)]
pub struct SampleArgs {
    /// Hidden unit: bernoulli, nrelu, ssu or binomial:K (K in 1..=65536)
    #[arg(long, value_name = "UNIT")]
    pub unit: HiddenUnit,
    /// Pre-activation at which every sample is drawn (a finite number)
    #[arg(long, value_name = "X", allow_hyphen_values = true, value_parser = finite_f32)]
    pub x: f32,
    /// Number of samples to write (at least 1)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = positive_u64)]
    pub count: u64,
    /// Seed of the random stream
    #[arg(long, value_name = "S", allow_negative_numbers = true, value_parser = any_u64)]
    pub seed: u64,
    /// Stream id: independent streams for the same seed
    #[arg(
        long = "stream",
        value_name = "ID",
        default_value_t = 0,
        allow_negative_numbers = true,
        value_parser = any_u64
    )]
    pub stream: u64,
    /// Output file (.npy); written atomically; - writes to standard output
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Do not print the confirmation line
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses a finite `f32`, naming the problem in the error.
fn finite_f32(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|_| "not a number".to_owned())?;
    if v.is_nan() {
        Err("must be a finite number, not NaN".to_owned())
    } else if v.is_infinite() && s.to_ascii_lowercase().contains("inf") {
        Err("must be a finite number, not infinite".to_owned())
    } else if v.is_infinite() {
        Err(format!(
            "must be a finite number; {s} overflows f32 (max ±{:e})",
            f32::MAX
        ))
    } else {
        Ok(v)
    }
}

/// Parses a `u64` of at least 1.
fn positive_u64(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("must be a whole number in 1..={}", u64::MAX)),
    }
}

/// Parses any `u64`.
fn any_u64(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("must be a whole number in 0..={}", u64::MAX))
}

/// A validated sampling job: `count` samples of `unit` at `x` from
/// `Stream::new(seed, stream_id)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleJob {
    unit: HiddenUnit,
    x: f32,
    count: usize,
    seed: u64,
    stream_id: u64,
}

impl SampleJob {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`InputError::NotFinite`] for a NaN or infinite `x`,
    /// [`InputError::Zero`] for `count == 0`, [`InputError::TooLarge`] if
    /// the file's byte size does not fit in `usize` (a [`HiddenUnit`] is
    /// valid by construction).
    pub fn new(
        unit: HiddenUnit,
        x: f32,
        count: u64,
        seed: u64,
        stream_id: u64,
    ) -> Result<SampleJob, InputError> {
        if !x.is_finite() {
            return Err(InputError::NotFinite {
                option: "x",
                value: x,
            });
        }
        if count == 0 {
            return Err(InputError::Zero { option: "count" });
        }
        let too_large = InputError::TooLarge {
            option: "count",
            value: count,
        };
        let n = usize::try_from(count).map_err(|_| too_large.clone())?;
        // The file's byte size must be representable too.
        n.checked_mul(4).ok_or(too_large)?;
        Ok(SampleJob {
            unit,
            x,
            count: n,
            seed,
            stream_id,
        })
    }

    /// Streams the samples as a `.npy` file to `w`, [`CHUNK`] at a time,
    /// and returns the flushed writer. Memory use is two chunks, whatever
    /// the count.
    ///
    /// # Errors
    /// [`NpyError::Io`] if `w` fails.
    pub fn write_npy<W: Write>(&self, w: W) -> Result<W, NpyError> {
        let kernels = Kernels::active();
        let mut stream = Stream::new(self.seed, self.stream_id);
        let len = self.count.min(CHUNK);
        let x = vec![self.x; len];
        let mut out = vec![0f32; len];
        let mut npy = NpyWriter::<W, f32>::new(w, &[self.count])?;
        while npy.remaining() > 0 {
            let n = npy.remaining().min(CHUNK);
            self.unit
                .sample(kernels, &x[..n], &mut out[..n], &mut stream);
            npy.write(&out[..n])?;
        }
        npy.finish()
    }
}

/// Runs `rbm sample`: validates everything, then writes the file
/// atomically and prints a confirmation line to stderr unless `--quiet`.
///
/// # Errors
/// [`CliError::Input`] for invalid options or output path (nothing is
/// created), [`CliError::Io`] if the file cannot be created or written (no
/// file is left behind).
pub fn run(args: &SampleArgs) -> Result<(), CliError> {
    let job = SampleJob::new(args.unit, args.x, args.count, args.seed, args.stream)?;
    let path = &args.out;
    write_output(path, |w| {
        job.write_npy(w).map(drop).map_err(|e| {
            let source = match e {
                NpyError::Io(e) => e,
                other => io::Error::other(other),
            };
            CliError::io(format!("cannot write '{}'", output_name(path)), source)
        })
    })?;
    if !args.quiet {
        eprintln!(
            "wrote {} {} samples at x = {} to {}",
            job.count,
            job.unit,
            job.x,
            output_name(path)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    // The example of `SampleJob`, run as a unit test now that the module is
    // private to the crate.
    #[test]
    fn sample_job_example() -> Result<(), Box<dyn std::error::Error>> {
        let job = SampleJob::new(HiddenUnit::Bernoulli, 0.0, 100, 7, 0)?;
        let bytes = job.write_npy(Vec::new())?;
        let a = crate::npy::read(&bytes[..])?;
        assert_eq!(a.shape, [100]);
        assert!(a.as_f32().unwrap().iter().all(|&v| v == 0.0 || v == 1.0));
        Ok(())
    }

    use super::*;
    use crate::npy;

    fn samples(unit: HiddenUnit, x: f32, count: u64, seed: u64) -> Vec<f32> {
        let job = SampleJob::new(unit, x, count, seed, 0).unwrap();
        let bytes = job.write_npy(Vec::new()).unwrap();
        npy::read(&bytes[..]).unwrap().as_f32().unwrap().to_vec()
    }

    #[test]
    fn chunk_is_a_multiple_of_32() {
        assert_eq!(CHUNK % 32, 0);
    }

    /// The file is the kernels' output on CHUNK-sized calls, and a shorter
    /// file is a prefix of a longer one (also across a chunk boundary).
    #[test]
    fn output_is_chunked_kernel_output_and_prefix_stable() {
        let units = [
            HiddenUnit::Bernoulli,
            HiddenUnit::Nrelu,
            HiddenUnit::Ssu,
            HiddenUnit::binomial_of::<3>(),
        ];
        for unit in units {
            let n = CHUNK + 77;
            let long = samples(unit, 0.3, n as u64, 11);
            let mut stream = Stream::new(11, 0);
            let mut want = vec![0f32; n];
            let x = vec![0.3f32; CHUNK];
            let (a, b) = want.split_at_mut(CHUNK);
            unit.sample(Kernels::active(), &x, a, &mut stream);
            unit.sample(Kernels::active(), &x[..77], b, &mut stream);
            assert_eq!(long, want, "{unit}");
            for short in [1, 31, 33, 1000, CHUNK, CHUNK + 1] {
                let s = samples(unit, 0.3, short as u64, 11);
                assert_eq!(s[..], long[..short], "{unit} prefix {short}");
            }
        }
    }

    #[test]
    fn job_validation() {
        let ok = HiddenUnit::Nrelu;
        assert_eq!(
            SampleJob::new(ok, f32::NAN, 1, 0, 0)
                .unwrap_err()
                .to_string(),
            "--x must be a finite number, got NaN"
        );
        assert!(SampleJob::new(ok, f32::NEG_INFINITY, 1, 0, 0).is_err());
        assert_eq!(
            SampleJob::new(ok, 0.0, 0, 0, 0),
            Err(InputError::Zero { option: "count" })
        );
        assert!(HiddenUnit::binomial(0).is_err());
        assert!(SampleJob::new(ok, 0.0, u64::MAX, 0, 0).is_err());
    }

    #[test]
    fn value_parsers() {
        assert_eq!(finite_f32("-1.5"), Ok(-1.5));
        assert!(finite_f32("nan").unwrap_err().contains("NaN"));
        assert!(finite_f32("-inf").unwrap_err().contains("infinite"));
        assert!(finite_f32("1e39").unwrap_err().contains("overflows"));
        assert!(finite_f32("abc").is_err());
        assert_eq!(positive_u64("5"), Ok(5));
        assert!(positive_u64("0").unwrap_err().contains("at least 1"));
        assert!(positive_u64("-3").unwrap_err().contains("whole number"));
        assert_eq!(any_u64("0"), Ok(0));
        assert!(any_u64("-1").unwrap_err().contains("whole number"));
    }
}
