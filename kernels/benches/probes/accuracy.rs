//! Measures the maximum error of `sigmoid`, `softplus` and `ssu_mean` on
//! every available path against the f64 reference, over a dense sweep of
//! [-80, 80] plus every f32 in a band around the extremes, and prints a
//! markdown table (used for `docs/kernels.md`).
//!
//! `cargo run --release -p nrelu-rbm-kernels --example accuracy`

use nrelu_rbm_kernels::{Kernels, Path, reference};

fn main() {
    // Every 64th f32 bit pattern with |x| <= 80 (about 33 million inputs).
    let mut x: Vec<f32> = Vec::new();
    let mut bits = 0u32;
    while bits < 0x8000_0000 {
        let v = f32::from_bits(bits);
        if v.abs() <= 80.0 {
            x.push(v);
            x.push(-v);
        }
        bits += 64;
    }
    println!(
        "inputs: {} values with |x| <= 80 (every 64th f32 bit pattern)\n",
        x.len()
    );
    println!("| path | sigmoid max ulp | softplus max ulp | ssu_mean max rel. error |");
    println!("|---|---|---|---|");
    let mut y = vec![0.0f32; x.len()];
    for path in Path::available() {
        let k = Kernels::new(path).expect("available");
        let mut worst = [(0.0f64, 0.0f32); 3];
        k.sigmoid(&x, &mut y);
        for (&xi, &yi) in x.iter().zip(&y) {
            let e = reference::ulps(yi, reference::sigmoid(f64::from(xi)));
            if e > worst[0].0 {
                worst[0] = (e, xi);
            }
        }
        k.softplus(&x, &mut y);
        for (&xi, &yi) in x.iter().zip(&y) {
            let e = reference::ulps(yi, reference::softplus(f64::from(xi)));
            if e > worst[1].0 {
                worst[1] = (e, xi);
            }
        }
        // The SSU mean is costlier to reference; use every 16th input.
        let xs: Vec<f32> = x.iter().step_by(16).copied().collect();
        let mut ys = vec![0.0f32; xs.len()];
        k.ssu_mean(&xs, &mut ys);
        for (&xi, &yi) in xs.iter().zip(&ys) {
            let w = reference::ssu_mean(f64::from(xi));
            let e = (f64::from(yi) - w).abs() / w.max(f64::MIN_POSITIVE);
            if e > worst[2].0 {
                worst[2] = (e, xi);
            }
        }
        println!(
            "| {path} | {:.2} (x = {:e}) | {:.2} (x = {:e}) | {:.2e} (x = {:e}) |",
            worst[0].0, worst[0].1, worst[1].0, worst[1].1, worst[2].0, worst[2].1
        );
    }
}
