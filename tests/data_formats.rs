//! The data readers beyond float CSV and `.npy`: every `.npy` element type
//! and order, `.npz` archives and their member names, MNIST's IDX files,
//! gzip, and the one-line errors of each.

use nrelu_rbm::RbmError;
use nrelu_rbm::data::{Dataset, ElementType, Format, ReadOptions};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// The one-line reason of a failed read.
fn error(path: &Path, opts: &ReadOptions) -> String {
    let err = Dataset::read(path, opts).unwrap_err();
    assert!(matches!(err, RbmError::InvalidData { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    msg
}

/// A version 1.0 `.npy` file with header `dict` (padded as numpy does)
/// and the raw `data`.
fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    h.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(total - 1, b' ');
    h.push(b'\n');
    h.extend_from_slice(data);
    h
}

fn dict(descr: &str, fortran: bool, shape: &str) -> String {
    let order = if fortran { "True" } else { "False" };
    format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn every_npy_element_type_in_either_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    // The 2 x 2 array [[0, 1], [2, 100]] in each type.
    let v = [0i64, 1, 2, 100];
    type Case = (&'static str, ElementType, fn(i64) -> Vec<u8>);
    let cases: [Case; 12] = [
        ("|u1", ElementType::U8, |x| vec![x as u8]),
        ("|i1", ElementType::I8, |x| vec![x as i8 as u8]),
        ("<u2", ElementType::U16, |x| {
            (x as u16).to_le_bytes().to_vec()
        }),
        (">i2", ElementType::I16, |x| {
            (x as i16).to_be_bytes().to_vec()
        }),
        ("<u4", ElementType::U32, |x| {
            (x as u32).to_le_bytes().to_vec()
        }),
        (">u4", ElementType::U32, |x| {
            (x as u32).to_be_bytes().to_vec()
        }),
        ("<i4", ElementType::I32, |x| {
            (x as i32).to_le_bytes().to_vec()
        }),
        ("<u8", ElementType::U64, |x| {
            (x as u64).to_le_bytes().to_vec()
        }),
        ("<i8", ElementType::I64, |x| x.to_le_bytes().to_vec()),
        (">f4", ElementType::F32, |x| {
            (x as f32).to_be_bytes().to_vec()
        }),
        (">f8", ElementType::F64, |x| {
            (x as f64).to_be_bytes().to_vec()
        }),
        ("<f8", ElementType::F64, |x| {
            (x as f64).to_le_bytes().to_vec()
        }),
    ];
    for (i, (descr, element, enc)) in cases.into_iter().enumerate() {
        let data: Vec<u8> = v.iter().flat_map(|&x| enc(x)).collect();
        let path = write(
            dir.path(),
            &format!("a{i}.npy"),
            &npy(&dict(descr, false, "(2, 2)"), &data),
        );
        let d = Dataset::load(&path, false).unwrap();
        assert_eq!(d.values(), [0.0, 1.0, 2.0, 100.0], "{descr}");
        assert_eq!(d.element_type(), element, "{descr}");
    }
    // bool: 0 and 1; another byte is refused.
    let path = write(
        dir.path(),
        "b.npy",
        &npy(&dict("|b1", false, "(1, 3)"), &[1, 0, 1]),
    );
    let d = Dataset::load(&path, false).unwrap();
    assert_eq!(
        (d.values(), d.element_type()),
        (&[1.0, 0.0, 1.0][..], ElementType::Bool)
    );
    let path = write(
        dir.path(),
        "b2.npy",
        &npy(&dict("|b1", false, "(1, 3)"), &[1, 2, 1]),
    );
    assert!(
        error(&path, &ReadOptions::new()).ends_with("row 1, column 2: 2 is not a bool (0 or 1)")
    );
    // Negative integers and ones beyond 2^24 (rounded to the nearest f32).
    let data: Vec<u8> = [-5i64, 16_777_217]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let path = write(
        dir.path(),
        "n.npy",
        &npy(&dict("<i8", false, "(1, 2)"), &data),
    );
    assert_eq!(
        Dataset::load(&path, false).unwrap().values(),
        [-5.0, 16_777_216.0]
    );
}

#[test]
fn fortran_order_is_read_as_rows() {
    let dir = tempfile::tempdir().unwrap();
    // [[1, 2, 3], [4, 5, 6]] stored column by column, as uint8.
    let path = write(
        dir.path(),
        "f.npy",
        &npy(&dict("|u1", true, "(2, 3)"), &[1, 4, 2, 5, 3, 6]),
    );
    let d = Dataset::load(&path, true).unwrap();
    assert_eq!((d.rows(), d.cols()), (2, 2));
    assert_eq!(d.values(), [1.0, 2.0, 4.0, 5.0]);
    assert_eq!(d.labels(), Some(&[3.0, 6.0][..]));
    // A NaN is named by its row and column, not its place in the file.
    let data: Vec<u8> = [0.0f32, 0.0, 0.0, f32::NAN, 0.0, 0.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let path = write(
        dir.path(),
        "g.npy",
        &npy(&dict("<f4", true, "(2, 3)"), &data),
    );
    assert!(error(&path, &ReadOptions::new()).ends_with("row 2, column 2: NaN is not finite"));
}

#[test]
fn hostile_npy_headers_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = ReadOptions::new();
    let cases: [(&str, &str); 5] = [
        ("(4294967296, 4294967296)", "too large"),
        ("(18446744073709551616, 1)", "non-negative integers"),
        ("(-1, 2)", "non-negative integers"),
        ("(1000000000, 1000000000)", "truncated data"),
        ("'x'", "'shape' is not a tuple"),
    ];
    for (i, (shape, needle)) in cases.into_iter().enumerate() {
        let path = write(
            dir.path(),
            &format!("h{i}.npy"),
            &npy(&dict("<f4", false, shape), &[0; 8]),
        );
        let msg = error(&path, &o);
        assert!(msg.contains(needle), "{shape}: {msg}");
    }
    let path = write(
        dir.path(),
        "o.npy",
        &npy(
            "{'descr': '|O', 'fortran_order': False, 'shape': (1, 1), }",
            &[0; 8],
        ),
    );
    assert!(error(&path, &o).contains("unsupported dtype"));
}

/// An `.npz` archive of `members` (name, `.npy` bytes), deflated or stored.
fn npz(members: &[(&str, Vec<u8>)], deflated: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflated {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn npz_members_are_chosen_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let a = npy(&dict("|u1", false, "(1, 2)"), &[1, 2]);
    let b = npy(&dict("<f4", false, "(1, 1)"), &5f32.to_le_bytes());
    for deflated in [false, true] {
        let one = write(dir.path(), "one.npz", &npz(&[("x", a.clone())], deflated));
        let d = Dataset::load(&one, false).unwrap();
        assert_eq!(
            (d.values(), d.element_type()),
            (&[1.0, 2.0][..], ElementType::U8)
        );

        let two = write(
            dir.path(),
            "two.npz",
            &npz(&[("train", a.clone()), ("test", b.clone())], deflated),
        );
        let spec = PathBuf::from(format!("{}:test", two.display()));
        assert_eq!(Dataset::load(&spec, false).unwrap().values(), [5.0]);
        let o = ReadOptions::new();
        let msg = error(&two, &o);
        assert!(
            msg.contains("the archive holds 2 arrays (test, train): name one as"),
            "{msg}"
        );
        let missing = PathBuf::from(format!("{}:valid", two.display()));
        let msg = error(&missing, &o);
        assert!(
            msg.contains("the archive has no array 'valid' (it holds: test, train)"),
            "{msg}"
        );
    }
    // The archive read from a gzip stream (held in memory) and by content.
    let gz = write(
        dir.path(),
        "blob.bin",
        &gzip(&npz(&[("x", a.clone())], true)),
    );
    assert_eq!(Dataset::load(&gz, false).unwrap().values(), [1.0, 2.0]);
    // A member that is a damaged array, and an archive that is not one.
    let bad = write(
        dir.path(),
        "bad.npz",
        &npz(&[("x", a[..a.len() - 1].to_vec())], true),
    );
    assert!(error(&bad, &ReadOptions::new()).contains("truncated data"));
    let not_zip = write(dir.path(), "no.npz", b"PK\x03\x04 not really");
    assert!(error(&not_zip, &ReadOptions::new()).contains("not a .npz file"));
    // ':NAME' on a file that is not an archive.
    let csv = write(dir.path(), "x.csv", b"1\n");
    let spec = PathBuf::from(format!("{}:a", csv.display()));
    assert!(matches!(
        Dataset::load(&spec, false),
        Err(RbmError::Io { .. })
    ));
}

/// An IDX file of `code` type with `dims` and raw big-endian `data`.
fn idx(code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, code, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[test]
fn mnist_idx_files_plain_and_gzipped() {
    let dir = tempfile::tempdir().unwrap();
    // Three 2 x 2 images and their labels.
    let pixels: Vec<u8> = (0..12).map(|i| i * 20).collect();
    let images = idx(0x08, &[3, 2, 2], &pixels);
    let labels = idx(0x08, &[3], &[7, 2, 1]);
    for (name, bytes) in [
        ("train-images-idx3-ubyte", images.clone()),
        ("train-images-idx3-ubyte.gz", gzip(&images)),
    ] {
        let path = write(dir.path(), name, &bytes);
        let d = Dataset::load(&path, false).unwrap();
        assert_eq!(
            (d.rows(), d.cols(), d.element_type()),
            (3, 4, ElementType::U8)
        );
        let want: Vec<f32> = pixels.iter().map(|&p| f32::from(p)).collect();
        assert_eq!(d.values(), want);
    }
    let path = write(dir.path(), "t10k-labels.idx1-ubyte.gz", &gzip(&labels));
    let d = Dataset::load(&path, false).unwrap();
    assert_eq!(
        (d.rows(), d.cols(), d.values()),
        (3, 1, &[7.0, 2.0, 1.0][..])
    );
    // Big-endian int16 and float32 IDX files; the type by content.
    let data: Vec<u8> = [-3i16, 300].iter().flat_map(|x| x.to_be_bytes()).collect();
    let path = write(dir.path(), "x.bin", &idx(0x0B, &[1, 2], &data));
    let d = Dataset::load(&path, false).unwrap();
    assert_eq!(
        (d.values(), d.element_type()),
        (&[-3.0, 300.0][..], ElementType::I16)
    );
    let data: Vec<u8> = [0.5f32, f32::INFINITY]
        .iter()
        .flat_map(|x| x.to_be_bytes())
        .collect();
    let path = write(dir.path(), "f.idx", &idx(0x0D, &[2, 1], &data));
    assert!(error(&path, &ReadOptions::new()).ends_with("row 2, column 1: inf is not finite"));
}

#[test]
fn idx_header_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = ReadOptions::new();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a-idx3-ubyte",
            b"\x01\x00\x08\x03".to_vec(),
            "the magic number must start with two zero bytes, found 01 00",
        ),
        (
            "b-idx3-ubyte",
            idx(0x07, &[1, 1, 1], &[0]),
            "unknown IDX type code 0x07",
        ),
        (
            "c-idx3-ubyte",
            idx(0x08, &[3], &[0; 3]),
            "the name says idx3 but the header declares 1 dimension",
        ),
        (
            "d-idx3-ubyte",
            idx(0x08, &[2, 2, 2], &[0; 7]),
            "truncated data: the header promises 8 bytes, found 7",
        ),
        (
            "e-idx3-ubyte",
            idx(0x08, &[1, 2, 2], &[0; 5]),
            "unexpected bytes after the data",
        ),
        ("f-idx3-ubyte", idx(0x08, &[0, 2, 2], &[]), "is empty"),
        (
            "g-idx3-ubyte",
            vec![0, 0, 8, 3, 0, 0],
            "truncated IDX header: the file ends inside its dimensions",
        ),
        (
            "h-idx1-ubyte",
            vec![0, 0],
            "truncated IDX header: the file ends inside its 4-byte magic number",
        ),
        (
            "i.idx",
            idx(0x08, &[1, 1, 1, 1, 1], &[0]),
            "declares 5 dimensions",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = write(dir.path(), name, &bytes);
        let msg = error(&path, &o);
        assert!(msg.contains(needle), "{name}: {msg}");
    }
    // A lying header cannot make the reader allocate what it declares.
    let path = write(
        dir.path(),
        "j.idx",
        &idx(0x0E, &[u32::MAX, 1000, 1], &[0; 8]),
    );
    assert!(error(&path, &o).contains("truncated data"));
    // A shape whose f32 table would not fit in memory at all.
    let path = write(
        dir.path(),
        "k.idx",
        &idx(0x0E, &[u32::MAX, u32::MAX, 2], &[0; 8]),
    );
    assert!(error(&path, &o).contains("too large"));
}

#[test]
fn gzip_csv_and_npy_and_forced_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.csv.gz", &gzip(b"a;b\n1;2\n"));
    let semi = ReadOptions::new().with_delimiter(b';');
    assert_eq!(Dataset::read(&path, &semi).unwrap().values(), [1.0, 2.0]);
    let bytes = nrelu_rbm::npy::write_array(Vec::new(), &[1, 2], &[0.5f32, 0.25]).unwrap();
    let path = write(dir.path(), "y.gz", &gzip(&bytes));
    assert_eq!(Dataset::load(&path, false).unwrap().values(), [0.5, 0.25]);
    // --format overrides the name: a .csv named file holding .npy bytes.
    let path = write(dir.path(), "z.csv", &bytes);
    let npy_fmt = ReadOptions::new().with_format(Format::Npy);
    assert_eq!(
        Dataset::read(&path, &npy_fmt).unwrap().values(),
        [0.5, 0.25]
    );
    let path = write(dir.path(), "w.npy", b"1,2\n");
    let csv_fmt = ReadOptions::new().with_format(Format::Csv);
    assert_eq!(Dataset::read(&path, &csv_fmt).unwrap().values(), [1.0, 2.0]);
    // A forced format that the content is not.
    let msg = error(&path, &ReadOptions::new().with_format(Format::Idx));
    assert!(msg.contains("two zero bytes"), "{msg}");
    // A damaged gzip stream is an error, not a panic.
    let mut gz = gzip(b"1,2\n3,4\n");
    let n = gz.len();
    gz.truncate(n - 6);
    let path = write(dir.path(), "cut.csv.gz", &gz);
    assert!(Dataset::load(&path, false).is_err());
}
