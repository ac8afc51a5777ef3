//! Multinomial logistic regression (softmax regression): the linear
//! classifier `rbm demo` trains on hidden features and on raw pixels to
//! compare unit types, usable on its own for any features.
//!
//! # Model
//! For a feature row `x` (D values) the class scores are `z = xᵀW + b`
//! (`W` is D × C, `b` has C entries) and the class probabilities
//! `p = softmax(z)`. [`LogisticRegression::fit`] minimises the mean
//! cross-entropy plus an L2 penalty on the weights (not the biases),
//!
//! ```text
//! L(W, b) = −(1/n) Σ_i log p_{i, y_i} + (λ/2) ‖W‖²,
//! ∂L/∂W = (1/n) Xᵀ(P − Y) + λW,   ∂L/∂b = (1/n) 1ᵀ(P − Y),
//! ```
//!
//! with `Y` the one-hot labels.
//!
//! # Optimiser
//! Full-batch gradient descent with Nesterov momentum, in `f64`, with no
//! step size to tune: the loss is convex and its gradient is
//! `L`-Lipschitz with `L ≤ ½ λ_max(X̃ᵀX̃ / n) + λ` (`X̃` is X with a column
//! of ones; ½ bounds the curvature of softmax cross-entropy). The step is
//! `1 / (λ̂ + λ)`, with `λ̂` the top eigenvalue of `X̃ᵀX̃ / n` estimated by
//! power iteration — a factor of 2 of safety for the power iteration's
//! under-estimate — and the momentum `(√κ − 1)/(√κ + 1)` for the condition
//! number `κ = (λ̂ + λ)/λ` of the strongly convex problem.
//!
//! By default each feature column is standardised first (training mean
//! and standard deviation, stored in the model and applied again by
//! [`LogisticRegression::predict`]), which keeps the problem well
//! conditioned whatever the features' scale.
//!
//! Everything runs on one thread in a fixed order: the same inputs give the
//! same model, bit for bit.
//!
//! ```
//! use nrelu_rbm::logistic::{LogisticConfig, LogisticRegression};
//! // Two features, three classes around three centres.
//! let centres = [[0.0f32, 0.0], [4.0, 0.0], [0.0, 4.0]];
//! let mut x = Vec::new();
//! let mut y = Vec::new();
//! for i in 0..60 {
//!     let c = i % 3;
//!     let jitter = (i as f32 * 0.37).sin();
//!     x.extend([centres[c][0] + jitter, centres[c][1] - jitter]);
//!     y.push(c);
//! }
//! let model = LogisticRegression::fit(&x, &y, 3, &LogisticConfig::default())?;
//! assert_eq!(model.accuracy(&x, &y)?, 1.0);
//! assert_eq!(model.predict(&[3.9, 0.2])?, [1]);
//! # Ok::<(), nrelu_rbm::RbmError>(())
//! ```

use crate::error::{RbmError, Result, check_finite, invalid};

/// Power iterations used to estimate the curvature bound.
const POWER_ITERATIONS: usize = 100;

/// Training options of [`LogisticRegression::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticConfig {
    /// L2 penalty λ on the weights (not the biases); must be > 0, which
    /// makes the problem strongly convex (one optimum, linear convergence).
    pub l2: f64,
    /// Full-batch gradient steps.
    pub iterations: usize,
    /// Standardise each feature column with its training mean and
    /// standard deviation before fitting (stored in the model).
    pub standardize: bool,
}

impl Default for LogisticConfig {
    /// λ = 1e-3, 500 iterations, standardised features.
    fn default() -> LogisticConfig {
        LogisticConfig {
            l2: 1e-3,
            iterations: 500,
            standardize: true,
        }
    }
}

impl LogisticConfig {
    /// Checks the options, naming the first bad one.
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`] if `l2` is not finite and > 0 or
    /// `iterations` is 0.
    pub fn validate(&self) -> Result<()> {
        if !(self.l2.is_finite() && self.l2 > 0.0) {
            return Err(invalid("l2", self.l2, "must be finite and > 0"));
        }
        if self.iterations == 0 {
            return Err(invalid("iterations", 0, "must be at least 1"));
        }
        Ok(())
    }
}

/// A trained (or hand-built) softmax classifier; see the
/// [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticRegression {
    n_features: usize,
    n_classes: usize,
    /// D × C, row-major, acting on standardised features.
    weights: Vec<f64>,
    /// C class biases.
    bias: Vec<f64>,
    /// Column means subtracted before the weights (zeros if none).
    mean: Vec<f64>,
    /// Column scales (1 / std) applied after the mean (ones if none).
    scale: Vec<f64>,
}

/// The loss and its gradient at the current parameters, from
/// [`LogisticRegression::loss_and_gradient`].
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient {
    /// Mean cross-entropy plus `(λ/2) ‖W‖²`.
    pub loss: f64,
    /// ∂loss/∂W, D × C row-major.
    pub weights: Vec<f64>,
    /// ∂loss/∂b, C entries.
    pub bias: Vec<f64>,
}

impl LogisticRegression {
    /// A model from explicit parameters, without standardisation: `weights`
    /// is `n_features × n_classes` row-major, `bias` has `n_classes`
    /// entries.
    ///
    /// ```
    /// use nrelu_rbm::logistic::LogisticRegression;
    /// // Class 1 wins when the single feature is positive.
    /// let m = LogisticRegression::from_parts(1, 2, vec![-1.0, 1.0], vec![0.0, 0.0])?;
    /// assert_eq!(m.predict(&[-2.0, 3.0])?, [0, 1]);
    /// # Ok::<(), nrelu_rbm::RbmError>(())
    /// ```
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`] for fewer than 1 feature or 2
    /// classes, [`RbmError::OutputSize`] for parameters of the wrong
    /// length, [`RbmError::InvalidParameter`] for a non-finite parameter.
    pub fn from_parts(
        n_features: usize,
        n_classes: usize,
        weights: Vec<f64>,
        bias: Vec<f64>,
    ) -> Result<LogisticRegression> {
        check_shape(n_features, n_classes)?;
        if weights.len() != n_features * n_classes {
            return Err(RbmError::OutputSize {
                what: "weights",
                got: weights.len(),
                want: n_features * n_classes,
            });
        }
        if bias.len() != n_classes {
            return Err(RbmError::OutputSize {
                what: "bias",
                got: bias.len(),
                want: n_classes,
            });
        }
        if weights.iter().chain(&bias).any(|v| !v.is_finite()) {
            return Err(invalid("weights", "non-finite", "must all be finite"));
        }
        Ok(LogisticRegression {
            n_features,
            n_classes,
            weights,
            bias,
            mean: vec![0.0; n_features],
            scale: vec![1.0; n_features],
        })
    }

    /// Fits a model to rows of `n_features = x.len() / labels.len()`
    /// features with labels in `0..n_classes`; see the [module docs](self).
    ///
    /// # Errors
    /// [`RbmError::InvalidParameter`] for bad options, fewer than 2 classes
    /// or a label out of range; [`RbmError::EmptyData`],
    /// [`RbmError::Ragged`] or [`RbmError::NonFinite`] for bad features.
    pub fn fit(
        x: &[f32],
        labels: &[usize],
        n_classes: usize,
        cfg: &LogisticConfig,
    ) -> Result<LogisticRegression> {
        cfg.validate()?;
        if labels.is_empty() || x.is_empty() {
            return Err(RbmError::EmptyData {
                rows: labels.len(),
                cols: 0,
            });
        }
        if !x.len().is_multiple_of(labels.len()) {
            return Err(RbmError::Ragged {
                what: "features",
                got: x.len(),
                width: labels.len(),
            });
        }
        let d = x.len() / labels.len();
        let mut model = LogisticRegression::from_parts(
            d,
            n_classes,
            vec![0.0; d * n_classes],
            vec![0.0; n_classes],
        )?;
        model.check(x, labels)?;
        if cfg.standardize {
            model.fit_standardization(x);
        }
        let xs = model.standardized(x);
        let n = labels.len();
        let c = n_classes;

        let lipschitz = top_eigenvalue(&xs, n, d) + cfg.l2;
        let step = 1.0 / lipschitz;
        let root_kappa = (lipschitz / cfg.l2).sqrt();
        let momentum = (root_kappa - 1.0) / (root_kappa + 1.0);

        // θ = (W, b); y = θ + β (θ − θ_prev) is where the gradient is taken.
        let mut w_prev = model.weights.clone();
        let mut b_prev = model.bias.clone();
        let mut look = model.clone();
        let mut grad = Gradient {
            loss: 0.0,
            weights: vec![0.0; d * c],
            bias: vec![0.0; c],
        };
        let mut scratch = vec![0.0; c];
        for _ in 0..cfg.iterations {
            for ((y, &w), &wp) in look.weights.iter_mut().zip(&model.weights).zip(&w_prev) {
                *y = w + momentum * (w - wp);
            }
            for ((y, &b), &bp) in look.bias.iter_mut().zip(&model.bias).zip(&b_prev) {
                *y = b + momentum * (b - bp);
            }
            look.gradient_into(&xs, labels, cfg.l2, &mut grad, &mut scratch);
            w_prev.copy_from_slice(&model.weights);
            b_prev.copy_from_slice(&model.bias);
            for ((w, &y), &g) in model
                .weights
                .iter_mut()
                .zip(&look.weights)
                .zip(&grad.weights)
            {
                *w = y - step * g;
            }
            for ((b, &y), &g) in model.bias.iter_mut().zip(&look.bias).zip(&grad.bias) {
                *b = y - step * g;
            }
        }
        Ok(model)
    }

    /// Number of input features D.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of classes C.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Weights, D × C row-major, acting on standardised features.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Class biases, C entries.
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// The per-column `(mean, 1/std)` applied to features before the
    /// weights (zeros and ones when fitted without standardisation).
    pub fn standardization(&self) -> (&[f64], &[f64]) {
        (&self.mean, &self.scale)
    }

    /// Class scores `z = x̃ᵀW + b` (x̃ the standardised features), one row
    /// of C per input row.
    ///
    /// # Errors
    /// [`RbmError::EmptyData`], [`RbmError::Ragged`] or
    /// [`RbmError::NonFinite`] for bad features.
    pub fn scores(&self, x: &[f32]) -> Result<Vec<f64>> {
        let n = self.check_rows(x)?;
        let xs = self.standardized(x);
        let mut z = vec![0.0; n * self.n_classes];
        for (row, zr) in xs
            .chunks_exact(self.n_features)
            .zip(z.chunks_exact_mut(self.n_classes))
        {
            self.scores_row(row, zr);
        }
        Ok(z)
    }

    /// Class probabilities (softmax of [`LogisticRegression::scores`]), one
    /// row of C per input row.
    ///
    /// # Errors
    /// As [`LogisticRegression::scores`].
    pub fn probabilities(&self, x: &[f32]) -> Result<Vec<f64>> {
        let mut z = self.scores(x)?;
        for row in z.chunks_exact_mut(self.n_classes) {
            softmax_in_place(row);
        }
        Ok(z)
    }

    /// The most probable class of each row (the first one on a tie).
    ///
    /// # Errors
    /// As [`LogisticRegression::scores`].
    pub fn predict(&self, x: &[f32]) -> Result<Vec<usize>> {
        let z = self.scores(x)?;
        Ok(z.chunks_exact(self.n_classes).map(argmax).collect())
    }

    /// The fraction of rows whose predicted class is the label.
    ///
    /// # Errors
    /// As [`LogisticRegression::scores`], plus [`RbmError::OutputSize`] if
    /// there is not one label per row.
    pub fn accuracy(&self, x: &[f32], labels: &[usize]) -> Result<f64> {
        let pred = self.predict(x)?;
        check_label_count(labels.len(), pred.len())?;
        let hits = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
        Ok(hits as f64 / labels.len() as f64)
    }

    /// The training objective (mean cross-entropy plus `(λ/2)‖W‖²` with
    /// `λ = l2`) and its gradient with respect to the weights and biases
    /// as stored, for rows `x` with `labels`.
    ///
    /// # Errors
    /// As [`LogisticRegression::scores`], plus [`RbmError::OutputSize`]
    /// for a wrong number of labels and [`RbmError::InvalidParameter`] for
    /// a label out of range or a negative or non-finite `l2`.
    pub fn loss_and_gradient(&self, x: &[f32], labels: &[usize], l2: f64) -> Result<Gradient> {
        if !(l2.is_finite() && l2 >= 0.0) {
            return Err(invalid("l2", l2, "must be finite and >= 0"));
        }
        self.check(x, labels)?;
        let xs = self.standardized(x);
        let mut grad = Gradient {
            loss: 0.0,
            weights: vec![0.0; self.weights.len()],
            bias: vec![0.0; self.n_classes],
        };
        let mut scratch = vec![0.0; self.n_classes];
        self.gradient_into(&xs, labels, l2, &mut grad, &mut scratch);
        Ok(grad)
    }

    /// Rows of `x` after the stored standardisation, in f64.
    fn standardized(&self, x: &[f32]) -> Vec<f64> {
        let mut out = Vec::with_capacity(x.len());
        for row in x.chunks_exact(self.n_features) {
            out.extend(
                row.iter()
                    .zip(self.mean.iter().zip(&self.scale))
                    .map(|(&v, (m, s))| (f64::from(v) - m) * s),
            );
        }
        out
    }

    fn fit_standardization(&mut self, x: &[f32]) {
        let d = self.n_features;
        let n = (x.len() / d) as f64;
        let mut mean = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        self.scale = var
            .iter()
            .map(|s| {
                let std = (s / n).sqrt();
                if std > 1e-12 { 1.0 / std } else { 1.0 }
            })
            .collect();
        self.mean = mean;
    }

    fn scores_row(&self, row: &[f64], z: &mut [f64]) {
        z.copy_from_slice(&self.bias);
        for (&v, w) in row.iter().zip(self.weights.chunks_exact(self.n_classes)) {
            if v != 0.0 {
                for (zc, &wc) in z.iter_mut().zip(w) {
                    *zc += v * wc;
                }
            }
        }
    }

    /// Loss and gradient on standardised rows `xs`.
    fn gradient_into(
        &self,
        xs: &[f64],
        labels: &[usize],
        l2: f64,
        grad: &mut Gradient,
        p: &mut [f64],
    ) {
        let n = labels.len() as f64;
        grad.weights.iter_mut().for_each(|g| *g = 0.0);
        grad.bias.iter_mut().for_each(|g| *g = 0.0);
        let mut nll = 0.0;
        for (row, &y) in xs.chunks_exact(self.n_features).zip(labels) {
            self.scores_row(row, p);
            nll -= log_softmax_at(p, y);
            softmax_in_place(p);
            p[y] -= 1.0;
            for (gb, &pc) in grad.bias.iter_mut().zip(p.iter()) {
                *gb += pc;
            }
            for (&v, g) in row
                .iter()
                .zip(grad.weights.chunks_exact_mut(self.n_classes))
            {
                if v != 0.0 {
                    for (gc, &pc) in g.iter_mut().zip(p.iter()) {
                        *gc += v * pc;
                    }
                }
            }
        }
        let mut penalty = 0.0;
        for (g, &w) in grad.weights.iter_mut().zip(&self.weights) {
            *g = *g / n + l2 * w;
            penalty += w * w;
        }
        grad.bias.iter_mut().for_each(|g| *g /= n);
        grad.loss = nll / n + 0.5 * l2 * penalty;
    }

    fn check_rows(&self, x: &[f32]) -> Result<usize> {
        if x.is_empty() {
            return Err(RbmError::EmptyData {
                rows: 0,
                cols: self.n_features,
            });
        }
        if !x.len().is_multiple_of(self.n_features) {
            return Err(RbmError::Ragged {
                what: "features",
                got: x.len(),
                width: self.n_features,
            });
        }
        check_finite(x, self.n_features)?;
        Ok(x.len() / self.n_features)
    }

    fn check(&self, x: &[f32], labels: &[usize]) -> Result<()> {
        let n = self.check_rows(x)?;
        check_label_count(labels.len(), n)?;
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.n_classes) {
            return Err(invalid("label", bad, "must be below the number of classes"));
        }
        Ok(())
    }
}

fn check_shape(n_features: usize, n_classes: usize) -> Result<()> {
    if n_features == 0 {
        return Err(invalid("features", 0, "needs at least 1 feature"));
    }
    if n_classes < 2 {
        return Err(invalid("classes", n_classes, "needs at least 2 classes"));
    }
    Ok(())
}

fn check_label_count(labels: usize, rows: usize) -> Result<()> {
    if labels == rows {
        Ok(())
    } else {
        Err(RbmError::OutputSize {
            what: "labels",
            got: labels,
            want: rows,
        })
    }
}

/// Index of the largest value (the first on a tie).
fn argmax(z: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

/// `z[y] − log Σ exp z`, computed stably.
fn log_softmax_at(z: &[f64], y: usize) -> f64 {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = z.iter().map(|&v| (v - m).exp()).sum();
    z[y] - m - s.ln()
}

fn softmax_in_place(z: &mut [f64]) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    z.iter_mut().for_each(|v| *v /= s);
}

/// The top eigenvalue of `X̃ᵀX̃ / n` (X̃ = `xs` with a column of ones), by
/// power iteration from the all-ones vector; at least 1e-12.
fn top_eigenvalue(xs: &[f64], n: usize, d: usize) -> f64 {
    let mut v = vec![1.0; d + 1];
    let mut lambda = 0.0;
    let mut u = vec![0.0; n];
    for _ in 0..POWER_ITERATIONS {
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        v.iter_mut().for_each(|a| *a /= norm);
        // u = X̃ v; v' = X̃ᵀ u / n; λ ≈ ‖v'‖ (v unit).
        for (ui, row) in u.iter_mut().zip(xs.chunks_exact(d)) {
            *ui = v[d] + row.iter().zip(&v[..d]).map(|(a, b)| a * b).sum::<f64>();
        }
        let mut next = vec![0.0; d + 1];
        for (&ui, row) in u.iter().zip(xs.chunks_exact(d)) {
            for (nj, &a) in next.iter_mut().zip(row) {
                *nj += a * ui;
            }
            next[d] += ui;
        }
        next.iter_mut().for_each(|a| *a /= n as f64);
        lambda = next.iter().map(|a| a * a).sum::<f64>().sqrt();
        v = next;
    }
    lambda.max(1e-12)
}
