//! Data loading: CSV and `.npy` files, their error messages, and the
//! embedded UCI digits. (`.npz`, IDX, gzip, integer types and standard
//! input: `tests/data_formats.rs`.)

use nrelu_rbm::RbmError;
use nrelu_rbm::data::{DIGITS_MAX, DIGITS_PIXELS, DIGITS_ROWS, Dataset};
use nrelu_rbm::npy;
use std::fs;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// The full one-line message of a failed load.
fn error(path: &Path, labels: bool) -> String {
    let err = Dataset::load(path, labels).unwrap_err();
    assert!(matches!(err, RbmError::InvalidData { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    msg
}

#[test]
fn csv_happy_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = "0,0.25, 1\n 1 ,\t0.5,0\r\n0.125,1e-2,-3.5e+1\n\n\n";
    let path = write(dir.path(), "ok.csv", text.as_bytes());
    let d = Dataset::load(&path, false).unwrap();
    assert_eq!((d.rows(), d.cols()), (3, 3));
    assert_eq!(
        d.values(),
        [0.0, 0.25, 1.0, 1.0, 0.5, 0.0, 0.125, 0.01, -35.0]
    );
    assert_eq!(d.labels(), None);
    // Upper-case extension, no trailing newline.
    let path = write(dir.path(), "OK.CSV", b"1,2\n3,4");
    assert_eq!(
        Dataset::load(&path, false).unwrap().into_values(),
        [1.0, 2.0, 3.0, 4.0]
    );
}

#[test]
fn csv_labels_last_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "l.csv", b"0.1,0.2,7\n0.3,0.4,3\n");
    let d = Dataset::load(&path, true).unwrap();
    assert_eq!((d.rows(), d.cols()), (2, 2));
    assert_eq!(d.values(), [0.1, 0.2, 0.3, 0.4]);
    assert_eq!(d.labels(), Some(&[7.0, 3.0][..]));
    let one = write(dir.path(), "one.csv", b"1\n2\n");
    assert!(error(&one, true).contains("at least 2 columns are needed, found 1"));
}

#[test]
fn csv_header_row_is_detected_and_counted_in_positions() {
    let dir = tempfile::tempdir().unwrap();
    // A first row with a field that is not a number is a header.
    let path = write(dir.path(), "x.csv", b"pixel0,pixel1,pixel2\n0,1,2\n");
    let d = Dataset::load(&path, false).unwrap();
    assert_eq!(
        (d.rows(), d.cols(), d.values()),
        (1, 3, &[0.0, 1.0, 2.0][..])
    );
    let names: Vec<&str> = d.header().unwrap().iter().map(String::as_str).collect();
    assert_eq!(names, ["pixel0", "pixel1", "pixel2"]);
    // One name among numbers is enough.
    let path = write(dir.path(), "y.csv", b"1,2,pixel2\n0,1,2\n");
    assert_eq!(Dataset::load(&path, false).unwrap().rows(), 1);
    // Errors keep the file's line numbers, the header's line included.
    let path = write(dir.path(), "z.csv", b"a,b\n0,1\n2,q\n");
    assert_eq!(
        error(&path, false),
        format!(
            "invalid data {}: line 3, column 2: \"q\" is not a number",
            path.display()
        )
    );
}

#[test]
fn csv_errors_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[u8], &str); 8] = [
        (b"1,2,3\n4,5\n", "line 2 has 2 columns, but line 1 has 3"),
        (
            b"1,2\n3,4\n5,6,7\n",
            "line 3 has 3 columns, but line 1 has 2",
        ),
        (b"1,2\n3,NaN\n", "row 2, column 2: \"NaN\" is not finite"),
        (b"1,nan\n", "row 1, column 2: \"nan\" is not finite"),
        (b"1,2\n-inf,4\n", "row 2, column 1: \"-inf\" is not finite"),
        (b"1,2\n3,4,\n", "line 2, column 3: empty field"),
        (
            b"1,2\n\n3,4\n",
            "line 2 is empty (empty lines are only allowed at the end)",
        ),
        (b"", "no data: the file has no rows"),
    ];
    for (i, (bytes, needle)) in cases.into_iter().enumerate() {
        let path = write(dir.path(), &format!("e{i}.csv"), bytes);
        let msg = error(&path, false);
        assert!(
            msg.ends_with(needle),
            "{msg:?} does not end with {needle:?}"
        );
    }
}

#[test]
fn npy_round_trips_f32_and_f64() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f32> = (0..12).map(|i| i as f32 / 7.0 - 0.5).collect();
    let bytes = npy::write_array(Vec::new(), &[4, 3], &values).unwrap();
    let path = write(dir.path(), "a.npy", &bytes);
    let d = Dataset::load(&path, false).unwrap();
    assert_eq!((d.rows(), d.cols()), (4, 3));
    assert_eq!(d.values(), values);

    let wide: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    let bytes = npy::write_array(Vec::new(), &[4, 3], &wide).unwrap();
    let path = write(dir.path(), "b.npy", &bytes);
    let d = Dataset::load(&path, true).unwrap();
    assert_eq!((d.rows(), d.cols()), (4, 2));
    let want: Vec<f32> = values.chunks(3).flat_map(|r| r[..2].to_vec()).collect();
    assert_eq!(d.values(), want);
    let labels: Vec<f32> = values.chunks(3).map(|r| r[2]).collect();
    assert_eq!(d.labels(), Some(&labels[..]));
}

#[test]
fn npy_errors() {
    let dir = tempfile::tempdir().unwrap();
    let one_d = write(
        dir.path(),
        "1d.npy",
        &npy::write_f32_1d(Vec::new(), &[1.0, 2.0, 3.0]).unwrap(),
    );
    let msg = error(&one_d, false);
    assert!(
        msg.contains("a 1-D array of shape (3,): expected a 2-D array"),
        "{msg}"
    );

    let three_d = write(
        dir.path(),
        "3d.npy",
        &npy::write_array(Vec::new(), &[2, 1, 2], &[0f32; 4]).unwrap(),
    );
    assert!(error(&three_d, false).contains("a 3-D array of shape [2, 1, 2]"));

    let empty = write(
        dir.path(),
        "empty.npy",
        &npy::write_array::<_, f32>(Vec::new(), &[0, 5], &[]).unwrap(),
    );
    assert!(error(&empty, false).contains("the array of shape (0, 5) is empty"));

    let nan = write(
        dir.path(),
        "nan.npy",
        &npy::write_array(Vec::new(), &[2, 2], &[0.0f32, 1.0, 2.0, f32::NAN]).unwrap(),
    );
    assert!(error(&nan, false).ends_with("row 2, column 2: NaN is not finite"));

    let big = write(
        dir.path(),
        "big.npy",
        &npy::write_array(Vec::new(), &[1, 3], &[0.0f64, 1e300, 2.0]).unwrap(),
    );
    assert!(error(&big, false).ends_with("row 1, column 2: 1e300 is out of the f32 range"));

    // Dtypes and orders the reader does not take, made by hand.
    let header = |dict: &str| {
        let mut h = b"\x93NUMPY\x01\x00".to_vec();
        let total = (10 + dict.len() + 1).div_ceil(64) * 64;
        h.extend_from_slice(&((total - 10) as u16).to_le_bytes());
        h.extend_from_slice(dict.as_bytes());
        h.resize(total - 1, b' ');
        h.push(b'\n');
        h.extend_from_slice(&[0; 16]);
        h
    };
    let complex = write(
        dir.path(),
        "c.npy",
        &header("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 1), }"),
    );
    assert!(error(&complex, false).contains("unsupported dtype '<c8'"));
    let half = write(
        dir.path(),
        "h.npy",
        &header("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }"),
    );
    assert!(error(&half, false).contains("unsupported dtype '<f2'"));

    let good = npy::write_array(Vec::new(), &[2, 2], &[0f32; 4]).unwrap();
    let cut = write(dir.path(), "cut.npy", &good[..good.len() - 1]);
    assert!(error(&cut, false).contains("truncated data"));
    let head = write(dir.path(), "head.npy", &good[..20]);
    assert!(error(&head, false).contains("truncated"));
    let long = write(dir.path(), "long.npy", &[&good[..], &[0]].concat());
    assert!(error(&long, false).contains("unexpected bytes after the array"));
    let text = write(dir.path(), "t.npy", b"0,1\n2,3\n4,5\n");
    assert!(error(&text, false).contains("not a .npy file (bad magic string)"));
    let tiny = write(dir.path(), "tiny.npy", b"0,1\n");
    assert!(error(&tiny, false).contains("not a .npy file, or its header is truncated"));
}

#[test]
fn other_files() {
    let dir = tempfile::tempdir().unwrap();
    // Another extension: the format comes from the content.
    let txt = write(dir.path(), "a.txt", b"1,2\n");
    assert_eq!(Dataset::load(&txt, false).unwrap().values(), [1.0, 2.0]);
    let npy_bytes = npy::write_array(Vec::new(), &[1, 2], &[3.0f32, 4.0]).unwrap();
    let dat = write(dir.path(), "a.dat", &npy_bytes);
    assert_eq!(Dataset::load(&dat, false).unwrap().values(), [3.0, 4.0]);
    // Binary content that is no known format is read as CSV, and refused.
    let bin = write(dir.path(), "a.bin", b"\xff\xfe\x00\x01");
    assert!(error(&bin, false).contains("line 1 is not valid UTF-8 text"));
    let missing = dir.path().join("missing.csv");
    assert!(matches!(
        Dataset::load(&missing, false),
        Err(RbmError::Io { .. })
    ));
}

#[test]
fn embedded_digits() {
    let d = Dataset::digits();
    assert_eq!((d.rows(), d.cols()), (DIGITS_ROWS, DIGITS_PIXELS));
    assert_eq!((d.rows(), d.cols()), (1797, 64));
    assert_eq!(d.values().len(), 1797 * 64);
    assert!(d.values().iter().all(|&p| p == p.round() && p >= 0.0));
    let max = d.values().iter().copied().fold(0.0, f32::max);
    assert_eq!(max, 16.0);
    assert_eq!(max, DIGITS_MAX);
    let labels = d.labels().unwrap();
    assert_eq!(labels.len(), 1797);
    let mut counts = [0usize; 10];
    for &l in labels {
        assert!(l == l.round() && (0.0..=9.0).contains(&l), "{l}");
        counts[l as usize] += 1;
    }
    // Every digit is there, about 180 times each.
    assert!(
        counts.iter().all(|&c| (170..=185).contains(&c)),
        "{counts:?}"
    );
    // The first image is a 0, as in the UCI file.
    assert_eq!(&d.values()[..8], &[0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]);
    assert_eq!(Dataset::digits(), d, "deterministic");
}
