//! The product forms the kernel tests exercise, each spelled as one
//! `Kernels::product` call, and their test data.

use nrelu_rbm_kernels::{Accumulate, Epilogue, Kernels, MatMut, MatRef, Product, Schedule};

/// How the weight slice is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLayout {
    /// `w` is `n_in × n_out`, row-major: `Y = X·W`.
    InOut,
    /// `w` is `n_out × n_in`, row-major, read transposed: `Y = X·Wᵀ`.
    OutIn,
}

/// `X` is `batch × n_in`, `Y` is `batch × n_out`, both row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AffineShape {
    pub batch: usize,
    pub n_in: usize,
    pub n_out: usize,
    pub layout: WeightLayout,
}

fn views<'a>(
    s: AffineShape,
    x: &'a [f32],
    w: &'a [f32],
    out: &'a mut [f32],
) -> (MatRef<'a>, MatRef<'a>, MatMut<'a>) {
    let a = MatRef::row_major(x, s.batch, s.n_in);
    let b = match s.layout {
        WeightLayout::InOut => MatRef::row_major(w, s.n_in, s.n_out),
        WeightLayout::OutIn => MatRef::row_major(w, s.n_out, s.n_in).transpose(),
    };
    (a, b, MatMut::row_major(out, s.batch, s.n_out))
}

pub trait Forms {
    fn affine(
        self,
        s: AffineShape,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        e: Epilogue<'_>,
        out: &mut [f32],
    );
    #[allow(clippy::too_many_arguments)]
    fn affine_with(
        self,
        sched: Schedule,
        s: AffineShape,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        e: Epilogue<'_>,
        out: &mut [f32],
    );
    fn gemm(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: &mut [f32]);
    fn gemm_into(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: MatMut<'_>);
    fn gemm_into_unpadded(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: MatMut<'_>);
    fn gemm_scaled_into(self, a: MatRef<'_>, b: MatRef<'_>, alpha: f32, beta: f32, c: MatMut<'_>);
}

impl Forms for Kernels {
    fn affine(
        self,
        s: AffineShape,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        e: Epilogue<'_>,
        out: &mut [f32],
    ) {
        let (a, b, c) = views(s, x, w, out);
        self.product(
            a,
            b,
            c,
            Product::new(Accumulate::Overwrite).bias(bias).then(e),
        );
    }

    fn affine_with(
        self,
        sched: Schedule,
        s: AffineShape,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        e: Epilogue<'_>,
        out: &mut [f32],
    ) {
        let (a, b, c) = views(s, x, w, out);
        let how = Product::new(Accumulate::Overwrite)
            .bias(bias)
            .then(e)
            .schedule(sched);
        self.product(a, b, c, how);
    }

    fn gemm(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: &mut [f32]) {
        let c = MatMut::row_major(c, a.rows, b.cols);
        self.product(a, b, c, Product::new(acc).padded());
    }

    fn gemm_into(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: MatMut<'_>) {
        self.product(a, b, c, Product::new(acc).padded());
    }

    fn gemm_into_unpadded(self, a: MatRef<'_>, b: MatRef<'_>, acc: Accumulate, c: MatMut<'_>) {
        self.product(a, b, c, Product::new(acc));
    }

    fn gemm_scaled_into(self, a: MatRef<'_>, b: MatRef<'_>, alpha: f32, beta: f32, c: MatMut<'_>) {
        self.product(a, b, c, Product::scaled(alpha, beta));
    }
}

/// Deterministic data in [-1, 1).
pub fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0
        })
        .collect()
}
