//! The demo's `report.md`: what was run, then one section per result.

use super::models::unit_file_name;
use super::tables::{
    classification_table, equivariance_detail, equivariance_table, thousands, units_table,
};
use super::{BINOMIAL_K, HIDDEN, Results, SPLIT_SEED, STACK_WIDTHS, TRAIN_ROWS};
use std::fmt::Write as _;

/// The demo's `report.md`: what was run, then one section per result.
pub(super) fn report_md(r: &Results) -> String {
    let mut s = intro_md(r);
    s.push_str(&classification_md(r));
    s.push_str(&figures_md(r));
    s.push_str(&equivariance_md(r));
    s.push_str(&units_md(r));
    s
}

/// The report's title, data, models and how the classifier is run.
fn intro_md(r: &Results) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "# rbm demo: rectified hidden units on the UCI digits\n\n\
         Nair & Hinton, *Rectified Linear Units Improve Restricted Boltzmann Machines* \
         (ICML 2010), reproduced in miniature by `rbm demo --seed {seed} --epochs {epochs}`.\n\n\
         **Data.** The 1,797 UCI handwritten digits (8 × 8 pixels, 0..16; Alpaydin & Kaynak \
         1998, CC BY 4.0), pixels divided by 16. A fixed random permutation (stream seed \
         {SPLIT_SEED}) puts {train} images in the training set and the other {test} in \
         the test set.\n\n\
         **Models.** Four RBMs with 64 Bernoulli visible units and {HIDDEN} hidden units that \
         differ only in the hidden unit type: Bernoulli, binomial with K = {BINOMIAL_K}, the \
         exact stepped sigmoid unit (SSU) and NReLU. Same initial weights, same mini-batch \
         order: CD-1, {epochs} epochs, batch 100, learning rate 0.05, momentum 0.5, weight \
         decay 1e-4, seed {seed}.\n\n\
         ## Classification\n\n\
         A multinomial logistic regression (`nrelu_rbm::logistic`: standardised features, \
         L2 1e-3, full-batch Nesterov gradient descent) is trained on the {train} \
         training images' features and tested on the {test} test images. RBM features are \
         the noise-free hidden means (σ(x), Kσ(x), Σσ(x − i + ½), max(0, x)).\n\n",
        seed = r.seed,
        epochs = r.epochs,
        train = thousands(TRAIN_ROWS),
        test = r.test.len() / 64,
    );
    s
}

/// The accuracy table and the standard error to read it with.
fn classification_md(r: &Results) -> String {
    let mut s = String::new();
    s.push_str(&classification_table(r));
    let n = (r.test.len() / 64) as f64;
    let mean = r.models.iter().map(|m| m.accuracy).sum::<f64>() / r.models.len() as f64;
    let _ = write!(
        s,
        "\nOne test image is {:.2} points of accuracy, and the binomial standard error of \
         an accuracy near {:.0} % on {n} images is {:.1} points: compare models across \
         a few seeds (`--seed`) before reading much into differences of a point or \
         two.\n",
        100.0 / n,
        100.0 * mean,
        100.0 * (mean * (1.0 - mean) / n).sqrt(),
    );
    s
}

/// The training, reconstruction and filter figures.
fn figures_md(r: &Results) -> String {
    let mut s = String::new();
    s.push_str(
        "\n![reconstruction error per epoch](training.png)\n\n\
         ![test digits and their reconstructions](reconstructions.png)\n\n\
         Reconstructions are the noise-free visible means σ(W h + b) given the noise-free \
         hidden means h.\n\n### Filters\n\nEach tile shows the 64 weights into one hidden \
         unit, scaled from its own minimum (black) to its own maximum (white).\n\n",
    );
    for m in &r.models {
        let f = unit_file_name(m.unit);
        let _ = writeln!(s, "![{} filters](filters-{f}.png)\n", m.unit);
    }
    s
}

/// The intensity-equivariance section: setup, tables and left-out rows.
fn equivariance_md(r: &Results) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "## Intensity equivariance\n\n\
         Three two-layer stacks ({a} then {b} hidden units, Gaussian visible units on \
         pixels / 16, {epochs} epochs per layer) map each test image v, and v scaled by \
         α ∈ {{0.25, 0.5, 2, 4}}, to features f. The relative error is the largest \
         ‖f(αv) − αf(v)‖ / ‖αf(v)‖ over test images; |Δcos| the largest change of \
         cos(f(v_i), f(v_j)) when v_i is replaced by αv_i, over all pairs of test images \
         i ≠ j.\n\n",
        a = STACK_WIDTHS[0],
        b = STACK_WIDTHS[1],
        epochs = r.epochs,
    );
    s.push_str(&equivariance_table(r));
    s.push_str(
        "\nWith NReLU units run noise-free (max(0, x)) and all biases zero, every layer is \
         positively homogeneous, f(αv) = αf(v) for α > 0, and cosines between features do \
         not depend on the images' intensities. Learned biases, or sigmoid units, break \
         this. For α a power of two the zero-bias stack is exact to the last bit (scaling by \
         2^k commutes with floating-point rounding); α = 3 in the detail below shows the \
         rounding-level error otherwise.\n\n",
    );
    s.push_str(&equivariance_detail(r));
    for st in &r.stacks {
        if st.zero_rows > 0 {
            let _ = writeln!(
                s,
                "\n({}: {} test images have all-zero features and are left out of the relative error.)",
                st.name, st.zero_rows
            );
        }
    }
    s
}

/// The NReLU-versus-SSU sampling section.
fn units_md(r: &Results) -> String {
    let mut s = String::new();
    let draws = thousands(r.draws.first().map_or(0, |d| d.ssu.len()));
    let _ = write!(
        s,
        "\n## NReLU as an approximation of the stepped sigmoid unit\n\n\
         {draws} draws of each unit at each x from the kernels' samplers. The SSU sum has \
         mean ≈ softplus(x) and variance ≈ σ(x); NReLU, max(0, x + N(0, σ(x))), is the \
         cheap approximation (see docs/math.md).\n\n"
    );
    s.push_str(&units_table(r));
    s.push_str("\n![sampled NReLU and SSU distributions](nrelu-vs-ssu.png)\n");
    s
}
