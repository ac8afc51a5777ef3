//! Fuzzes every reader with as many cases as asked (the test
//! `tests/fuzz_readers.rs` runs a fixed 10^5):
//!
//! ```text
//! cargo run --release --example fuzz_readers -- [CASES] [SEED]
//! ```
//!
//! CASES (default 10,000,000) are shared among the readers, and SEED
//! (default one) fixes them, so a failure reproduces. Progress is printed
//! per block of cases; the first failing case is printed (shrunk) and the
//! exit code is then 1.

#[path = "../../tests/fuzz/mod.rs"]
mod fuzz;

use std::time::Instant;

/// Cases per block between progress lines.
const BLOCK: u64 = 50_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parse = |i: usize, default: u64| {
        args.get(i).map_or(Ok(default), |a| {
            a.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("'{a}' is not a count"))
        })
    };
    let (total, seed) = match (parse(0, 10_000_000), parse(1, 1)) {
        (Ok(t), Ok(s)) => (t, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e} (usage: fuzz_readers [CASES] [SEED])");
            std::process::exit(2);
        }
    };
    // A panic is a finding: it is reported with its case, so the default
    // hook's message is not needed.
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let per_reader = total.div_ceil(fuzz::READERS.len() as u64);
    let (mut done, mut accepted) = (0u64, 0u64);
    for reader in fuzz::READERS {
        let mut left = per_reader;
        let mut block = 0u64;
        while left > 0 {
            let n = left.min(BLOCK);
            let block_seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ block;
            match fuzz::run(reader, n as u32, block_seed) {
                Ok(t) => {
                    done += t.cases;
                    accepted += t.accepted;
                }
                Err(e) => {
                    eprintln!("FAILED ({reader:?}, block seed {block_seed}):\n{e}");
                    std::process::exit(1);
                }
            }
            left -= n;
            block += 1;
            println!(
                "{done} / {} cases ({reader:?}), {accepted} accepted, {:.0} s",
                per_reader * fuzz::READERS.len() as u64,
                start.elapsed().as_secs_f64()
            );
        }
    }
    println!("no failure in {done} cases");
}
