//! Structure-aware fuzzing of every reader on stable Rust (see
//! `tests/fuzz/mod.rs`): valid files built by the crate's writers or by
//! hand, mutated structurally, fed to the byte-level entry points. No
//! case may panic, a refusal must be one line, an accepted file must be
//! finite and consistent. The seeds are fixed, so a failure reproduces;
//! `cargo run --release --example fuzz_readers -- CASES SEED` runs more.

mod fuzz;

use fuzz::{READERS, Reader};

/// Cases per reader: 8 readers × 13,000 = 104,000 cases in all.
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
}
