//! Data as people have it, end to end: uint8 data and its stored /255 map,
//! `--scale`, `.npz` members, CSV headers and delimiters, and `-` for
//! standard input and output.

use nrelu_rbm::{model_io, npy};
use std::fs;
use std::io::Write;
use std::path::Path;

mod cli_common;
use cli_common::*;

/// 40 rows of 6 uint8 pixels: two noisy patterns.
fn pixels() -> Vec<u8> {
    (0..40 * 6)
        .map(|i| {
            let (row, col) = (i / 6, i % 6);
            let on = (col < 3) == (row % 2 == 0);
            let v = if on {
                200 + (i * 7) % 56
            } else {
                (i * 13) % 40
            };
            v as u8
        })
        .collect()
}

/// A `.npy` file of uint8 `data` with `shape`, as numpy writes it.
fn u8_npy(shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}");
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    h.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(total - 1, b' ');
    h.push(b'\n');
    h.extend_from_slice(data);
    h
}

fn train(data: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = args(&["train", "--quiet", "--epochs", "3", "--batch", "8"]);
    if !extra.contains(&"--layers") {
        a.extend(args(&["--hidden", "4"]));
    }
    a.extend(args(&["--data", &s(data), "--out", &s(out)]));
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

#[test]
fn uint8_data_gives_the_features_of_float_data_divided_by_255() {
    let dir = tempfile::tempdir().unwrap();
    let px = pixels();
    let u8_path = dir.path().join("x_u8.npy");
    fs::write(&u8_path, u8_npy("(40, 6)", &px)).unwrap();
    // What `x.astype(np.float32) / 255` gives: IEEE division in f32.
    let scaled: Vec<f32> = px.iter().map(|&p| f32::from(p) / 255.0).collect();
    let f_path = dir.path().join("x_f32.npy");
    fs::write(
        &f_path,
        npy::write_array(Vec::new(), &[40, 6], &scaled).unwrap(),
    )
    .unwrap();

    let (m_u8, m_f) = (dir.path().join("u8.st"), dir.path().join("f.st"));
    assert_success(&rbm(train(&u8_path, &m_u8, &[])));
    assert_success(&rbm(train(&f_path, &m_f, &[])));
    // The uint8 model stores the map x / 255; the float one has none.
    let (a, b) = (
        model_io::load(&m_u8).unwrap(),
        model_io::load(&m_f).unwrap(),
    );
    let map = a.standardization().unwrap();
    assert_eq!((map.mean(), map.std()), (&[0.0; 6][..], &[255.0; 6][..]));
    assert!(b.standardization().is_none());
    assert_eq!(a.weights(), b.weights(), "the same training, bit for bit");

    let (t_u8, t_f) = (dir.path().join("t_u8.npy"), dir.path().join("t_f.npy"));
    assert_success(&transform(&m_u8, &t_u8, &["--data", &s(&u8_path)]));
    assert_success(&transform(&m_f, &t_f, &["--data", &s(&f_path)]));
    assert_eq!(fs::read(&t_u8).unwrap(), fs::read(&t_f).unwrap());
    // The plan line says what was done.
    let mut a = train(&u8_path, &m_u8, &[]);
    a.retain(|x| x != "--quiet");
    let o = rbm(a);
    assert!(
        stderr(&o).contains("(uint8, divided by 255)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn other_integer_data_needs_scale() {
    let dir = tempfile::tempdir().unwrap();
    let dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (40, 6), }";
    let mut bytes = u8_npy("(40, 6)", &[]);
    // Same layout, another dtype: rebuild the header for '<i2'.
    bytes.clear();
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    bytes.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.resize(total - 1, b' ');
    bytes.push(b'\n');
    for p in pixels() {
        bytes.extend_from_slice(&(i16::from(p) * 4).to_le_bytes());
    }
    let data = dir.path().join("x_i16.npy");
    fs::write(&data, bytes).unwrap();
    let out = dir.path().join("m.st");
    assert_fails(
        &train(&data, &out, &[]),
        2,
        "holds int16 data: give --scale S",
    );
    assert_fails(
        &train(&data, &out, &["--equivariant", "--layers", "3"]),
        2,
        "holds int16 data: give --scale S",
    );
    // Too small a scale leaves values above 1, named with their type.
    assert_fails(
        &train(&data, &out, &["--scale", "255"]),
        2,
        "is outside [0, 1]",
    );
    assert_fails(
        &train(&data, &out, &["--scale", "1020", "--visible", "gaussian"]),
        2,
        "--scale has no effect with --visible gaussian",
    );
    assert_fails(&train(&data, &out, &["--scale", "0"]), 2, "--scale");
    assert!(!out.exists());
    assert_success(&rbm(train(&data, &out, &["--scale", "1020"])));
    let m = model_io::load(&out).unwrap();
    assert_eq!(m.standardization().unwrap().std(), [1020.0; 6]);
    // Gaussian units standardise integer data without --scale.
    assert_success(&rbm(train(&data, &out, &["--visible", "gaussian"])));
}

#[test]
fn npz_members_and_csv_options_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // An .npz of two arrays, written with the zip crate.
    let px = pixels();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for name in ["train", "test"] {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        zip.write_all(&u8_npy("(40, 6)", &px)).unwrap();
    }
    let archive = dir.path().join("d.npz");
    fs::write(&archive, zip.finish().unwrap().into_inner()).unwrap();
    let out = dir.path().join("m.st");
    let member = format!("{}:train", s(&archive));
    assert_success(&rbm(train(Path::new(&member), &out, &[])));
    assert_fails(
        &train(&archive, &out, &[]),
        2,
        "the archive holds 2 arrays (test, train): name one as",
    );
    let missing = format!("{}:valid", s(&archive));
    assert_fails(
        &train(Path::new(&missing), &out, &[]),
        2,
        "has no array 'valid' (it holds: test, train)",
    );

    // A semicolon-separated file with a header and quoted fields.
    let mut text = String::from("\"a\";\"b\";c;d;e;f\n");
    for row in px.chunks(6) {
        let f: Vec<String> = row
            .iter()
            .map(|&p| format!("{}", f32::from(p) / 255.0))
            .collect();
        text.push_str(&f.join(";"));
        text.push('\n');
    }
    let csv = dir.path().join("d.csv");
    fs::write(&csv, &text).unwrap();
    assert_success(&rbm(train(&csv, &out, &["--delimiter", ";"])));
    assert_fails(&train(&csv, &out, &[]), 2, "line 2, column 1");
    assert_fails(&train(&csv, &out, &["--delimiter", "ab"]), 2, "--delimiter");
    // A header of numbers only when forced.
    let numbered = dir.path().join("n.csv");
    fs::write(
        &numbered,
        text.replacen("\"a\";\"b\";c;d;e;f", "0;1;2;3;4;5", 1),
    )
    .unwrap();
    assert_success(&rbm(train(
        &numbered,
        &out,
        &["--delimiter", ";", "--header"],
    )));
    assert_fails(
        &train(&numbered, &out, &["--delimiter", ";"]),
        2,
        "outside [0, 1]",
    );
}

#[test]
fn dash_is_standard_input_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let px = pixels();
    let bytes = u8_npy("(40, 6)", &px);
    let file = dir.path().join("x.npy");
    fs::write(&file, &bytes).unwrap();
    let m_file = dir.path().join("m.st");
    assert_success(&rbm(train(&file, &m_file, &[])));

    // train: data from stdin (the format from the content), model to stdout.
    let o = rbm_stdin(&train(Path::new("-"), Path::new("-"), &[]), &bytes);
    assert_success(&o);
    assert_eq!(o.stdout, fs::read(&m_file).unwrap(), "the model's bytes");
    assert!(!Path::new("-").exists());
    // --format on stdin, and a stack to stdout.
    let o = rbm_stdin(
        &train(
            Path::new("-"),
            Path::new("-"),
            &["--format", "npy", "--layers", "3,2"],
        ),
        &bytes,
    );
    assert_success(&o);
    assert!(nrelu_rbm::Stack::from_bytes(&o.stdout, Path::new("-")).is_ok());
    let o = rbm_stdin(
        &train(Path::new("-"), &m_file, &["--format", "csv"]),
        &bytes,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("(standard input)"), "{}", stderr(&o));

    // transform: stdin to stdout equals file to file.
    let t_file = dir.path().join("t.npy");
    assert_success(&transform(&m_file, &t_file, &["--data", &s(&file)]));
    let mut a = args(&[
        "transform",
        "--quiet",
        "--model",
        &s(&m_file),
        "--data",
        "-",
        "--out",
        "-",
    ]);
    let o = rbm_stdin(&a, &bytes);
    assert_success(&o);
    assert_eq!(o.stdout, fs::read(&t_file).unwrap());
    // A gzipped CSV on stdin.
    let mut csv = String::new();
    for row in px.chunks(6) {
        let f: Vec<String> = row.iter().map(|p| p.to_string()).collect();
        csv.push_str(&f.join(","));
        csv.push('\n');
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(csv.as_bytes()).unwrap();
    let o = rbm_stdin(&a, &gz.finish().unwrap());
    assert_success(&o);
    // Text data is not uint8: the model's map is applied all the same.
    assert_eq!(o.stdout, fs::read(&t_file).unwrap());
    a.push("--sample".to_owned());
    assert_success(&rbm_stdin(&a, &bytes));

    // eval reads stdin too.
    let e = args(&[
        "eval",
        "--quiet",
        "--json",
        "--model",
        &s(&m_file),
        "--data",
        "-",
    ]);
    let o = rbm_stdin(&e, &bytes);
    assert_success(&o);
    assert!(stdout(&o).contains("reconstruction_error"));

    // sample: stdout equals the file.
    let smp = dir.path().join("s.npy");
    let base = [
        "sample", "--quiet", "--unit", "nrelu", "--x", "0.5", "--count", "100", "--seed", "3",
    ];
    let mut a = args(&base);
    a.extend(args(&["--out", &s(&smp)]));
    assert_success(&rbm(&a));
    let mut a = args(&base);
    a.extend(args(&["--out", "-"]));
    let o = rbm(&a);
    assert_success(&o);
    assert_eq!(o.stdout, fs::read(&smp).unwrap());

    // demo writes a directory: '-' is refused.
    assert_fails(
        &args(&["demo", "--out", "-"]),
        2,
        "does not apply to rbm demo",
    );
}
