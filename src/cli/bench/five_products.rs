//! The five bare matrix products of one CD-1 step: the floor a training
//! step is measured against. Private to `rbm bench`; the criterion
//! benchmarks and the timing probes include this file as it is
//! (`benches/support/mod.rs`), so all of them time the same calls.

use nrelu_rbm_kernels::{Accumulate, Kernels, MatMut, MatRef, Product};

/// The five bare matrix products of one CD-1 step, each one sgemm call
/// (the kernels' padded `Product`) with the same views as the trainer: `X·W`, `H·Wᵀ`,
/// `V·W` (B × H, B × V and B × H results) and the gradient `G = Xᵀ·H`, then
/// `G −= Vᵀ·H` (V × H). A step can come under this floor only because the
/// trainer runs the two gradient products as one call with inner dimension
/// 2B and the three layer products unpadded (an unpadded `Product::new`: no
/// padded 16-row tile for a batch that is not a multiple of 16).
pub struct FiveProducts {
    k: Kernels,
    dims: (usize, usize, usize),
    x: Vec<f32>,
    w: Vec<f32>,
    h: Vec<f32>,
    v: Vec<f32>,
    up: Vec<f32>,
    down: Vec<f32>,
    grad: Vec<f32>,
}

impl FiveProducts {
    /// Operands for a batch of `batch` rows of a `visible × hidden` model:
    /// the batch `x` (batch × visible), the weights `w` (visible × hidden),
    /// and stand-ins for the hidden states `h` (batch × hidden) and the
    /// reconstruction `v` (batch × visible), on the active kernel path.
    ///
    /// # Panics
    /// If a buffer does not have the length its shape gives.
    pub fn new(
        batch: usize,
        visible: usize,
        hidden: usize,
        x: Vec<f32>,
        w: Vec<f32>,
        h: Vec<f32>,
        v: Vec<f32>,
    ) -> FiveProducts {
        for (what, got, want) in [
            ("x", x.len(), batch * visible),
            ("w", w.len(), visible * hidden),
            ("h", h.len(), batch * hidden),
            ("v", v.len(), batch * visible),
        ] {
            assert_eq!(got, want, "FiveProducts: {what} has the wrong length");
        }
        FiveProducts {
            k: Kernels::active(),
            dims: (batch, visible, hidden),
            x,
            w,
            h,
            v,
            up: vec![0.0; batch * hidden],
            down: vec![0.0; batch * visible],
            grad: vec![0.0; visible * hidden],
        }
    }

    /// `X·W`, `H·Wᵀ`, `V·W`, `G = Xᵀ·H`, `G −= Vᵀ·H`.
    pub fn run(&mut self) {
        let (b, nv, nh) = self.dims;
        let k = self.k;
        let x = MatRef::row_major(&self.x, b, nv);
        let w = MatRef::row_major(&self.w, nv, nh);
        let h = MatRef::row_major(&self.h, b, nh);
        let v = MatRef::row_major(&self.v, b, nv);
        let over = || Product::new(Accumulate::Overwrite).padded();
        let (up, down) = (&mut self.up[..], &mut self.down[..]);
        k.product(x, w, MatMut::row_major(up, b, nh), over());
        k.product(h, w.transpose(), MatMut::row_major(down, b, nv), over());
        k.product(v, w, MatMut::row_major(up, b, nh), over());
        let grad = &mut self.grad[..];
        k.product(x.transpose(), h, MatMut::row_major(grad, nv, nh), over());
        let sub = Product::new(Accumulate::Subtract).padded();
        k.product(v.transpose(), h, MatMut::row_major(grad, nv, nh), sub);
    }

    /// The results (`up`, `down`, `grad`), so that a caller can
    /// `black_box` them.
    pub fn outputs(&self) -> (&[f32], &[f32], &[f32]) {
        (&self.up, &self.down, &self.grad)
    }
}
