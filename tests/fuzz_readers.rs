//! Structure-aware fuzzing of every reader on stable Rust (see
//! `tests/fuzz/mod.rs`): valid files built by the crate's writers or by
//! hand, mutated structurally, fed to the byte-level entry points. No
//! case may panic, a refusal must be one line, an accepted file must be
//! finite and consistent. The seeds are fixed, so a failure reproduces;
//! `cargo run --release --example fuzz_readers -- CASES SEED` runs more.

mod fuzz;

use fuzz::{READERS, Reader};

/// Cases per reader: 9 readers × 13,000 = 117,000 cases in all.
const CASES: u32 = 13_000;
/// The fixed seed of the CI run.
const SEED: u64 = 0x5EED_F022;

fn fuzz_one(reader: Reader) {
    let t = fuzz::run(reader, CASES, SEED).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.cases, u64::from(CASES), "{reader:?}");
    // The mutations must leave some files readable and refuse others, or
    // the run tests only one side.
    assert!(t.accepted > 0, "{reader:?}: nothing accepted");
    assert!(t.accepted < t.cases, "{reader:?}: nothing refused");
}

#[test]
fn fuzz_model_files() {
    fuzz_one(Reader::Model);
}

#[test]
fn fuzz_stack_files() {
    fuzz_one(Reader::Stack);
}

#[test]
fn fuzz_npy_arrays() {
    fuzz_one(Reader::Npy);
}

#[test]
fn fuzz_npy_data() {
    fuzz_one(Reader::NpyData);
}

#[test]
fn fuzz_npz_data() {
    fuzz_one(Reader::Npz);
}

#[test]
fn fuzz_csv_data() {
    fuzz_one(Reader::Csv);
}

#[test]
fn fuzz_idx_data() {
    fuzz_one(Reader::Idx);
}

#[test]
fn fuzz_gzip_data() {
    fuzz_one(Reader::Gzip);
}

#[test]
fn fuzz_checkpoint_files() {
    fuzz_one(Reader::Checkpoint);
}

#[test]
fn every_truncation_of_every_format_is_handled() {
    for reader in READERS {
        let n = fuzz::truncations(reader).unwrap_or_else(|e| panic!("{e}"));
        assert!(n > 100, "{reader:?}: {n}");
    }
}

/// The checker itself must catch what it is there to catch.
#[test]
fn the_checker_rejects_panics_and_multi_line_refusals() {
    let valid = fuzz::npy_with("<f4", false, "(1, 1)", &1f32.to_le_bytes());
    assert_eq!(fuzz::check(Reader::NpyData, &valid), Ok(true));
    assert_eq!(fuzz::check(Reader::NpyData, b"junk"), Ok(false));
    let nan = fuzz::npy_with("<f4", false, "(1, 1)", &f32::NAN.to_le_bytes());
    assert_eq!(fuzz::check(Reader::NpyData, &nan), Ok(false));
    // A reader that panics, or refuses in two lines, fails the case, and
    // the failure shows the input.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = fuzz::guard(Reader::Csv, b"1,2", || panic!("index out of bounds"));
    std::panic::set_hook(hook);
    let msg = panicked.unwrap_err();
    assert!(msg.contains("panicked: index out of bounds"), "{msg}");
    assert!(msg.contains("312c32"), "{msg}");
    let two_lines = fuzz::guard(Reader::Csv, b"x", || fuzz::refused("a\nb".into()));
    assert!(two_lines.unwrap_err().contains("not one line"));
    assert_eq!(fuzz::refused("one line".into()), Ok(false));
}

/// Found by fuzzing: a metadata value holding a newline (a JSON `\n`)
/// was quoted as is, and the refusal took two lines.
#[test]
fn a_newline_in_model_metadata_is_escaped_in_the_refusal() {
    use nrelu_rbm::model_io::{self, ModelFile};
    use nrelu_rbm::{Rbm, VisibleUnit, stack::Stack, units::HiddenUnit};
    let rbm = Rbm::new(3, 2, VisibleUnit::Bernoulli, HiddenUnit::Ssu, 1).unwrap();
    for key in ["hidden", "visible", "input_map", "layers"] {
        let mut file = ModelFile::new();
        file.insert_layer("", &rbm).unwrap();
        file.set_metadata(key, "b\nomial:1").unwrap();
        let bytes = file.to_bytes().unwrap();
        let path = std::path::Path::new("m.safetensors");
        let err = Stack::from_bytes(&bytes, path).unwrap_err().to_string();
        assert!(
            !err.contains('\n') && err.contains("b\\nomial"),
            "{key}: {err}"
        );
        if key != "layers" {
            let err = model_io::from_bytes(&bytes, path).unwrap_err().to_string();
            assert!(!err.contains('\n'), "{key}: {err}");
        }
    }
}

/// A control character in an `.npz` member name is escaped in messages.
#[test]
fn a_newline_in_an_npz_member_name_is_escaped_in_the_refusal() {
    use nrelu_rbm::data::{Dataset, ReadOptions};
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for name in ["a\nb.npy", "c.npy"] {
        z.start_file(name, opts).unwrap();
        z.write_all(b"not an array").unwrap();
    }
    let bytes = z.finish().unwrap().into_inner();
    let read = |spec: &str| {
        Dataset::from_bytes(&bytes, spec.as_ref(), &ReadOptions::new())
            .unwrap_err()
            .to_string()
    };
    for spec in ["x.npz", "x.npz:c", "x.npz:zz"] {
        let err = read(spec);
        assert!(!err.contains('\n'), "{spec}: {err}");
    }
    assert!(read("x.npz").contains("a\\nb"), "{}", read("x.npz"));
}

/// An archive with two members of the same name is read without a panic
/// and answered in one line, whichever member (if any) is read.
#[test]
fn an_npz_with_a_duplicate_member_name_is_handled() {
    for seed in 0..20 {
        let bytes = fuzz::duplicate_npz(seed);
        assert_eq!(bytes.windows(5).filter(|w| w == b"a.npy").count(), 4);
        fuzz::check(Reader::Npz, &bytes).unwrap_or_else(|e| panic!("{e}"));
    }
}
