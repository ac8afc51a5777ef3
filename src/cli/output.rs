//! Output files that appear whole or not at all.
//!
//! [`check_output_path`] rejects a path that cannot name a new file before
//! any work is done; [`write_atomic`] writes through a temporary file in the
//! destination directory and renames it over the destination only after
//! every byte was written, flushed and synced. If anything fails, the
//! temporary file is removed and the destination is untouched: no output,
//! or the previous file, never a truncated one.
//!
//! The output path `-` means standard output ([`is_stdout`]):
//! [`write_output`] streams there instead, and [`check_output_path`]
//! accepts it.

use super::{CliError, InputError};
use crate::fsutil::{Step, TempSink, parent_dir, write_via_temp};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Checks that files can be created in `dir`, by creating and deleting a
/// temporary one, so that an unwritable destination fails before long work
/// rather than after it.
///
/// # Errors
/// [`CliError::Io`] naming `dir` if the file cannot be created.
pub(crate) fn probe_dir_writable(dir: &Path) -> Result<(), CliError> {
    tempfile::Builder::new()
        .prefix(".rbm-probe.")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            let e = crate::fsutil::without_temp_path(e);
            CliError::io(format!("cannot create files in '{}'", dir.display()), e)
        })
}

/// The plural ending for `n` things: `""` for one, `"s"` otherwise.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Prints `line` on standard error, above the progress bar if one is shown.
pub(crate) fn eprint_line(bar: Option<&indicatif::ProgressBar>, line: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// Whether an output path is `-`, standard output.
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == crate::data::STDIN
}

/// Writes `bytes` to standard output and flushes it.
///
/// # Errors
/// [`CliError::Io`] if standard output cannot be written (a closed pipe,
/// say).
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("cannot write to standard output", e))
}

/// Writes an output: to standard output when `path` is `-` (buffered,
/// then flushed), otherwise atomically with [`write_atomic`]. `write`
/// gets the writer.
///
/// # Errors
/// Whatever `write` returns, and those of [`write_atomic`] or
/// [`write_stdout`].
pub(crate) fn write_output<F>(path: &Path, write: F) -> Result<(), CliError>
where
    F: FnOnce(&mut dyn Write) -> Result<(), CliError>,
{
    if is_stdout(path) {
        let mut out = BufWriter::new(io::stdout().lock());
        write(&mut out)?;
        return out
            .flush()
            .map_err(|e| CliError::io("cannot write to standard output", e));
    }
    write_atomic(path, |w| write(w))
}

/// `path` in messages: `standard output` for `-`.
pub(crate) fn output_name(path: &Path) -> String {
    if is_stdout(path) {
        "standard output".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Checks, without creating anything, that `path` names a file in an
/// existing directory and is not itself a directory, a device, a FIFO or a
/// socket (the rename of [`write_atomic`] would replace one of those with a
/// regular file: as root, `--out /dev/null` would replace the device). A
/// symbolic link to a file or a device is replaced, not followed (one to a
/// directory is refused as a directory).
///
/// # Errors
/// [`CliError::Input`] for a path that cannot be an output file;
/// [`CliError::Io`] if the directory cannot be inspected (e.g. permission
/// denied). `-` (standard output) passes.
pub fn check_output_path(path: &Path) -> Result<(), CliError> {
    if is_stdout(path) {
        return Ok(());
    }
    let ends_in_separator = path
        .as_os_str()
        .to_string_lossy()
        .chars()
        .last()
        .is_some_and(std::path::is_separator);
    if path.file_name().is_none() || ends_in_separator {
        return Err(InputError::NotAFileName(path.to_owned()).into());
    }
    let dir = parent_dir(path);
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(InputError::NotADirectory(dir.to_owned()).into()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(InputError::NoSuchDirectory(dir.to_owned()).into());
        }
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            return Err(InputError::NotADirectory(dir.to_owned()).into());
        }
        Err(e) => {
            let context = format!("cannot access output directory '{}'", dir.display());
            return Err(CliError::io(context, e));
        }
    }
    if fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(InputError::OutputIsDirectory(path.to_owned()).into());
    }
    if crate::fsutil::is_special_file(path) {
        return Err(InputError::OutputIsSpecial(path.to_owned()).into());
    }
    Ok(())
}

/// Creates `path` atomically: `write` fills a buffered temporary file in
/// the same directory (named `.<file name>.<random>.tmp`, or
/// `.rbm.<random>.tmp` for a file name over 64 bytes), which is then
/// flushed, synced to disk and renamed to `path`, replacing any existing
/// file; the directory is then synced (best effort). On Unix the new file
/// gets the usual `0o666 & !umask` mode. The mechanism is
/// `fsutil::write_via_temp`, shared with the library's model writer.
///
/// If `write` or any step after it fails, the temporary file is deleted and
/// `path` is left as it was. (A process killed mid-write can leave the
/// hidden temporary file behind, but never a partial `path`.)
///
/// # Errors
/// Whatever `write` returns, or [`CliError::Io`] if the temporary file
/// cannot be created, flushed, synced or renamed.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<(), CliError>
where
    F: FnOnce(&mut BufWriter<TempSink<'_>>) -> Result<(), CliError>,
{
    check_output_path(path)?;
    let name = path.file_name().unwrap_or_default();
    write_via_temp(path, name, write, |step, e| {
        let context = match step {
            Step::CreateTemp => format!(
                "cannot create a temporary file in '{}'",
                parent_dir(path).display()
            ),
            Step::Write => format!("cannot write '{}'", path.display()),
            Step::Rename => format!("cannot rename the temporary file to '{}'", path.display()),
            Step::Target => format!("refusing to replace '{}'", path.display()),
        };
        CliError::io(context, e)
    })
}

#[cfg(test)]
mod tests {
    // The examples of `check_output_path` and `write_atomic`, run as unit
    // tests now that the module is private to the crate.
    #[test]
    fn check_output_path_example() -> Result<(), std::io::Error> {
        use crate::cli::InputError;
        let dir = tempfile::tempdir()?;
        assert!(check_output_path(&dir.path().join("a.npy")).is_ok());
        assert!(matches!(
            check_output_path(&dir.path().join("missing/a.npy")),
            Err(CliError::Input(InputError::NoSuchDirectory(_)))
        ));
        Ok(())
    }

    #[test]
    fn write_atomic_example() -> Result<(), Box<dyn std::error::Error>> {
        use std::io::Write;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("hello.txt");
        write_atomic(&path, |w| {
            w.write_all(b"hi").map_err(|e| CliError::io("write", e))
        })?;
        assert_eq!(std::fs::read(&path)?, b"hi");
        Ok(())
    }

    use super::*;
    use std::fs::File;
    use std::path::PathBuf;

    fn leftovers(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn failed_write_leaves_nothing_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let res = write_atomic(&path, |_| Err(CliError::io("boom", io::Error::other("x"))));
        assert!(res.is_err());
        assert!(leftovers(dir.path()).is_empty());

        fs::write(&path, b"old").unwrap();
        let res = write_atomic(&path, |w| {
            io::Write::write_all(w, b"new, partial").unwrap();
            Err(CliError::io("boom", io::Error::other("x")))
        });
        assert!(res.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(leftovers(dir.path()), std::slice::from_ref(&path));

        write_atomic(&path, |w| {
            io::Write::write_all(w, b"new").map_err(|e| CliError::io("w", e))
        })
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(leftovers(dir.path()), [path]);
    }

    #[cfg(unix)]
    #[test]
    fn output_is_not_private_like_a_temp_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write_atomic(&path, |_| Ok(())).unwrap();
        // Same mode as a file created the ordinary way (0o666 & !umask),
        // not tempfile's private 0o600.
        let plain = dir.path().join("plain.bin");
        File::create(&plain).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
    }

    #[test]
    fn long_file_names_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x".repeat(250));
        write_atomic(&path, |_| Ok(())).unwrap();
        assert_eq!(leftovers(dir.path()), std::slice::from_ref(&path));
    }

    #[test]
    fn bad_paths_are_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        let cases = [
            (PathBuf::new(), "does not name a file"),
            (dir.path().join("sub/"), "does not name a file"),
            (dir.path().join(".."), "does not name a file"),
            (dir.path().join("nope/x.npy"), "does not exist"),
            (file.join("x.npy"), "is not a directory"),
            (dir.path().to_owned(), "is a directory"),
        ];
        for (path, want) in cases {
            let err = check_output_path(&path).unwrap_err();
            assert!(matches!(err, CliError::Input(_)), "{path:?}: {err}");
            assert!(err.to_string().contains(want), "{path:?}: {err}");
        }
    }

    /// A transform's `.npy` output written through [`write_atomic`] while
    /// the disk fills (or permission is lost) part way: the previous file
    /// stays, and no temporary file is left.
    #[test]
    fn npy_output_under_write_faults_keeps_the_old_file() {
        use crate::fsutil::faults;
        let data: Vec<f32> = (0..70_000).map(|i| i as f32 * 0.5).collect();
        let len = crate::npy::write_f32_1d(Vec::new(), &data).unwrap().len();
        for n in [0, 1, len / 2, len - 1] {
            for kind in [io::ErrorKind::StorageFull, io::ErrorKind::PermissionDenied] {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("codes.npy");
                fs::write(&path, b"old codes").unwrap();
                faults::fail_after(n, kind);
                let res = write_atomic(&path, |w| {
                    crate::npy::write_f32_1d(w, &data)
                        .map(drop)
                        .map_err(|e| CliError::io("write", io::Error::other(e.to_string())))
                });
                faults::clear();
                let err = res.expect_err("the injected fault");
                assert!(!err.to_string().contains('\n'), "{err}");
                assert_eq!(fs::read(&path).unwrap(), b"old codes", "fault after {n}");
                let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
                assert_eq!(left.len(), 1, "fault after {n}, {kind:?}");
            }
        }
    }
}
