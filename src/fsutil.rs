//! Files that appear whole or not at all, at library level.
//!
//! The same contract as `cli::output::write_atomic`, without depending on
//! the CLI: bytes go to a temporary file in the destination directory,
//! which is flushed, synced and then renamed over the destination. On any
//! error the temporary file is removed and the destination is left as it
//! was.

use crate::error::{RbmError, Result};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Buffer size between the producer and the temporary file.
const BUF_BYTES: usize = 1 << 18;

/// The directory that will hold `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `e` without the ` at path "<temporary file>"` that `tempfile` appends
/// to its errors (the random name means nothing to a user). The wrapper
/// type is private to `tempfile`, so the suffix is cut from the message.
pub(crate) fn without_temp_path(e: io::Error) -> io::Error {
    let msg = e.to_string();
    match msg.rfind(" at path \"") {
        Some(i) if msg.ends_with('"') => io::Error::new(e.kind(), &msg[..i]),
        _ => e,
    }
}

/// An [`RbmError::Io`] on `path` whose message says what was being done.
fn io_error(path: &Path, what: String, e: io::Error) -> RbmError {
    let e = without_temp_path(e);
    RbmError::Io {
        path: path.to_owned(),
        source: io::Error::new(e.kind(), format!("{what}: {e}")),
    }
}

/// The step of [`write_via_temp`] that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Creating the temporary file in the destination directory.
    CreateTemp,
    /// Flushing or syncing the temporary file.
    Write,
    /// Renaming the temporary file over the destination.
    Rename,
    /// The destination is a device, FIFO or socket (see [`is_special_file`]).
    Target,
}

/// True when `path` exists and is neither a regular file, a directory nor
/// a symbolic link: a device, FIFO or socket, which a rename over it would
/// replace with a regular file (as root, `/dev/null` included). Symbolic
/// links themselves are replaced, not followed.
pub(crate) fn is_special_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| {
        let t = m.file_type();
        !(t.is_file() || t.is_dir() || t.is_symlink())
    })
}

/// The temporary file as the writer under the buffer of
/// [`write_via_temp`]: the file itself, except that in unit tests it can be
/// told to fail after a number of bytes (see `faults`), the way a full disk
/// or a revoked permission fails a write part way.
pub(crate) struct TempSink<'a> {
    file: &'a mut File,
}

impl Write for TempSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = faults::allow(buf.len())?;
        self.file.write(&buf[..n])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Injected faults: none outside unit tests, where the functions compile
/// to nothing.
#[cfg(not(test))]
mod faults {
    use super::Step;
    use std::io;

    /// How many of `n` bytes may be written next.
    #[inline(always)]
    pub(super) fn allow(n: usize) -> io::Result<usize> {
        Ok(n)
    }

    /// Whether `step` may go ahead.
    #[inline(always)]
    pub(super) fn before(_: Step) -> io::Result<()> {
        Ok(())
    }
}

/// Injected faults for unit tests, per thread (each test runs on its own
/// thread): a budget of bytes after which writes fail, and a step that
/// fails, each with an error kind.
#[cfg(test)]
pub(crate) mod faults {
    use super::Step;
    use std::cell::Cell;
    use std::io;

    thread_local! {
        static BUDGET: Cell<Option<(usize, io::ErrorKind)>> = const { Cell::new(None) };
        static STEP: Cell<Option<(Step, io::ErrorKind)>> = const { Cell::new(None) };
    }

    /// Writes fail with `kind` once `bytes` bytes have been written.
    pub(crate) fn fail_after(bytes: usize, kind: io::ErrorKind) {
        BUDGET.set(Some((bytes, kind)));
    }

    /// `step` fails with `kind`.
    pub(crate) fn fail_at(step: Step, kind: io::ErrorKind) {
        STEP.set(Some((step, kind)));
    }

    /// No more faults.
    pub(crate) fn clear() {
        BUDGET.set(None);
        STEP.set(None);
    }

    /// How many of `n` bytes may be written next: all of them without a
    /// budget, else what is left of it, and an error once it is spent
    /// (a short write, then a failure, as a filling disk does).
    pub(super) fn allow(n: usize) -> io::Result<usize> {
        match BUDGET.get() {
            None => Ok(n),
            Some((0, kind)) if n > 0 => Err(io::Error::new(kind, "injected fault")),
            Some((left, kind)) => {
                let k = n.min(left);
                BUDGET.set(Some((left - k, kind)));
                Ok(k)
            }
        }
    }

    /// An error if `step` is the one told to fail.
    pub(super) fn before(step: Step) -> io::Result<()> {
        match STEP.get() {
            Some((s, kind)) if s == step => Err(io::Error::new(kind, "injected fault")),
            _ => Ok(()),
        }
    }
}

/// The mechanism shared by [`atomic_write`] and `cli::output::write_atomic`:
/// `write` fills a buffered temporary file `.<file name>.<random>.tmp`
/// (`.rbm.<random>.tmp` for names over 64 bytes) in the same directory,
/// which is flushed, synced and renamed to `path`, replacing any existing
/// file; the directory is then synced (best effort) so that the rename
/// survives a crash. On Unix the file gets the usual `0o666 & !umask` mode
/// rather than a temporary file's `0o600`. `fail` turns an I/O error of a
/// step into the caller's error type.
///
/// If anything fails, the temporary file is deleted and `path` is left as
/// it was: absent, or the previous file, never a partial one. A `path`
/// that is a device, FIFO or socket is refused ([`Step::Target`]) before
/// anything is written.
pub(crate) fn write_via_temp<E>(
    path: &Path,
    name: &OsStr,
    write: impl FnOnce(&mut BufWriter<TempSink<'_>>) -> std::result::Result<(), E>,
    fail: impl Fn(Step, io::Error) -> E,
) -> std::result::Result<(), E> {
    if is_special_file(path) {
        let e = io::Error::new(
            io::ErrorKind::InvalidInput,
            "it exists and is not a regular file (a device, FIFO or socket)",
        );
        return Err(fail(Step::Target, e));
    }
    let dir = parent_dir(path);
    let mut prefix = OsString::from(".");
    prefix.push(if name.len() <= 64 {
        name
    } else {
        "rbm".as_ref()
    });
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| fail(Step::CreateTemp, e))?;
    {
        let sink = TempSink {
            file: tmp.as_file_mut(),
        };
        let mut buf = BufWriter::with_capacity(BUF_BYTES, sink);
        write(&mut buf)?;
        buf.into_inner()
            .map_err(|e| fail(Step::Write, e.into_error()))?;
    }
    faults::before(Step::Write).map_err(|e| fail(Step::Write, e))?;
    tmp.as_file().sync_all().map_err(|e| fail(Step::Write, e))?;
    // Dropping the temporary file (here, or the one in the error) deletes
    // it.
    faults::before(Step::Rename).map_err(|e| fail(Step::Rename, e))?;
    tmp.persist(path).map_err(|e| fail(Step::Rename, e.error))?;
    // Make the rename durable. The file is complete and in place whatever
    // happens here, and some file systems cannot sync a directory, so a
    // failure is not reported.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `path` atomically through [`write_via_temp`].
///
/// # Errors
/// [`RbmError::Io`] naming `path` and the step that failed.
pub(crate) fn atomic_write<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let Some(name) = path.file_name() else {
        let e = io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file");
        return Err(RbmError::Io {
            path: path.to_owned(),
            source: e,
        });
    };
    let fail = |step: Step, e: io::Error| {
        let what = match step {
            Step::CreateTemp => format!(
                "cannot create a temporary file in '{}'",
                parent_dir(path).display()
            ),
            Step::Write => "cannot write".to_owned(),
            Step::Rename => "cannot rename the temporary file over it".to_owned(),
            Step::Target => "refusing to replace it".to_owned(),
        };
        io_error(path, what, e)
    };
    write_via_temp(
        path,
        name,
        |buf| write(buf).map_err(|e| fail(Step::Write, e)),
        fail,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn failed_write_leaves_nothing_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let err = atomic_write(&path, |_| Err(io::Error::other("boom"))).unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        assert!(entries(dir.path()).is_empty());

        fs::write(&path, b"old").unwrap();
        let res = atomic_write(&path, |w| {
            w.write_all(b"new, partial")?;
            Err(io::Error::other("boom"))
        });
        assert!(matches!(res, Err(RbmError::Io { .. })));
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(dir.path()), std::slice::from_ref(&path));

        atomic_write(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(entries(dir.path()), [path]);
    }

    #[test]
    fn missing_directory_and_directory_target_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/m.bin");
        let err = atomic_write(&missing, |w| w.write_all(b"x")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("cannot create a temporary file in"), "{msg}");
        assert!(msg.contains("No such file or directory"), "{msg}");
        assert!(!msg.contains(" at path "), "{msg}");

        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("keep"), b"k").unwrap();
        assert!(atomic_write(&sub, |w| w.write_all(b"x")).is_err());
        assert_eq!(entries(dir.path()), std::slice::from_ref(&sub));
        assert_eq!(fs::read(sub.join("keep")).unwrap(), b"k");
        assert!(atomic_write(Path::new(""), |_| Ok(())).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn mode_is_that_of_an_ordinary_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        atomic_write(&path, |_| Ok(())).unwrap();
        let plain = dir.path().join("b");
        File::create(&plain).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
    }

    #[test]
    fn long_file_names_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y".repeat(250));
        atomic_write(&path, |w| w.write_all(b"z")).unwrap();
        assert_eq!(entries(dir.path()), std::slice::from_ref(&path));
    }

    /// The payloads of the fault tests: one smaller than the buffer (one
    /// write to the file, at the end) and one larger (several writes).
    fn payloads() -> Vec<Vec<u8>> {
        let rbm = crate::Rbm::new(
            9,
            5,
            crate::VisibleUnit::Bernoulli,
            crate::units::HiddenUnit::Nrelu,
            3,
        )
        .unwrap();
        let model = crate::model_io::to_bytes(&rbm).unwrap();
        let big: Vec<u8> = (0..BUF_BYTES * 2 + 12_345)
            .map(|i| (i % 251) as u8)
            .collect();
        vec![model, big]
    }

    /// Byte counts after which the injected fault strikes: nothing, one
    /// byte, half, all but the last byte.
    fn cut_points(len: usize) -> [usize; 4] {
        [0, 1, len / 2, len - 1]
    }

    #[test]
    fn a_write_failing_part_way_keeps_the_old_file_and_leaves_no_temporary() {
        let kinds = [io::ErrorKind::StorageFull, io::ErrorKind::PermissionDenied];
        for payload in payloads() {
            for n in cut_points(payload.len()) {
                for kind in kinds {
                    for old in [Some(&b"the previous file"[..]), None] {
                        let dir = tempfile::tempdir().unwrap();
                        let path = dir.path().join("m.safetensors");
                        if let Some(old) = old {
                            fs::write(&path, old).unwrap();
                        }
                        faults::fail_after(n, kind);
                        let res = atomic_write(&path, |w| w.write_all(&payload));
                        faults::clear();
                        let case = format!("{} bytes, fault after {n}, {kind:?}", payload.len());
                        let err = res.expect_err(&case);
                        match &err {
                            RbmError::Io { source, .. } => {
                                assert_eq!(source.kind(), kind, "{case}")
                            }
                            other => panic!("{case}: {other}"),
                        }
                        assert!(!err.to_string().contains('\n'), "{case}: {err}");
                        match old {
                            Some(old) => {
                                assert_eq!(fs::read(&path).unwrap(), old, "{case}");
                                assert_eq!(
                                    entries(dir.path()),
                                    std::slice::from_ref(&path),
                                    "{case}"
                                );
                            }
                            None => assert!(entries(dir.path()).is_empty(), "{case}"),
                        }
                    }
                }
            }
            // The same write with a budget of exactly its length succeeds:
            // the faults above struck inside the payload, not after it.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("m.safetensors");
            faults::fail_after(payload.len(), io::ErrorKind::StorageFull);
            let res = atomic_write(&path, |w| w.write_all(&payload));
            faults::clear();
            res.unwrap();
            assert_eq!(fs::read(&path).unwrap(), payload);
            assert_eq!(entries(dir.path()), [path]);
        }
    }

    #[test]
    fn a_failing_sync_or_rename_keeps_the_old_file_and_leaves_no_temporary() {
        let payload = &payloads()[0];
        for step in [Step::Write, Step::Rename] {
            for kind in [io::ErrorKind::StorageFull, io::ErrorKind::PermissionDenied] {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("s.safetensors");
                fs::write(&path, b"old").unwrap();
                faults::fail_at(step, kind);
                let res = atomic_write(&path, |w| w.write_all(payload));
                faults::clear();
                let err = res.expect_err("the injected fault");
                let want = match step {
                    Step::Rename => "cannot rename the temporary file over it",
                    _ => "cannot write",
                };
                assert!(err.to_string().contains(want), "{step:?}: {err}");
                assert_eq!(fs::read(&path).unwrap(), b"old", "{step:?}");
                assert_eq!(entries(dir.path()), std::slice::from_ref(&path), "{step:?}");
            }
        }
    }

    #[test]
    fn model_and_stack_saves_under_faults_keep_the_old_file() {
        let rbm = crate::Rbm::new(
            6,
            4,
            crate::VisibleUnit::Gaussian,
            crate::units::HiddenUnit::Bernoulli,
            8,
        )
        .unwrap();
        let stack = crate::stack::Stack::new(vec![rbm.clone()]).unwrap();
        let len = crate::model_io::to_bytes(&rbm).unwrap().len();
        for n in cut_points(len) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("m.safetensors");
            fs::write(&path, b"old").unwrap();
            faults::fail_after(n, io::ErrorKind::StorageFull);
            let model = crate::model_io::save(&rbm, &path);
            let stacked = stack.save(&path);
            faults::clear();
            assert!(model.is_err() && stacked.is_err(), "fault after {n}");
            assert_eq!(fs::read(&path).unwrap(), b"old");
            assert_eq!(entries(dir.path()), std::slice::from_ref(&path));
        }
    }
}
