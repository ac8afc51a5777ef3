//! Matrix views: [`MatRef`] (read-only, any strides) and [`MatMut`]
//! (row-major, exclusive, splittable between threads).

/// A read-only strided matrix view: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
///
/// ```
/// use nrelu_rbm_kernels::MatRef;
/// let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 × 3, row-major
/// let t = MatRef::row_major(&a, 2, 3).transpose(); // 3 × 2 view, no copy
/// assert_eq!((t.rows, t.cols), (3, 2));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows, in elements.
    pub row_stride: usize,
    /// Distance between columns, in elements.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A `rows × cols` row-major view.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> MatRef<'a> {
        MatRef {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transposed view (swaps shape and strides; no copy).
    pub fn transpose(self) -> MatRef<'a> {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `r0..r1` of the view.
    ///
    /// # Panics
    /// If `r0 > r1` or `r1 > rows`.
    pub fn rows_range(self, r0: usize, r1: usize) -> MatRef<'a> {
        assert!(
            r0 <= r1 && r1 <= self.rows,
            "rows {r0}..{r1} out of 0..{}",
            self.rows
        );
        let start = if r0 == r1 { 0 } else { r0 * self.row_stride };
        MatRef {
            data: &self.data[start.min(self.data.len())..],
            rows: r1 - r0,
            ..self
        }
    }

    /// Columns `c0..c1` of the view.
    ///
    /// # Panics
    /// If `c0 > c1` or `c1 > cols`.
    pub fn cols_range(self, c0: usize, c1: usize) -> MatRef<'a> {
        self.transpose().rows_range(c0, c1).transpose()
    }

    pub(crate) fn check(&self, what: &str) {
        if self.rows == 0 || self.cols == 0 {
            return;
        }
        let last = (self.rows - 1).checked_mul(self.row_stride).and_then(|a| {
            (self.cols - 1)
                .checked_mul(self.col_stride)
                .and_then(|b| a.checked_add(b))
        });
        assert!(
            last.is_some_and(|l| l < self.data.len()),
            "{what}: a {} × {} view with strides ({}, {}) does not fit in {} elements",
            self.rows,
            self.cols,
            self.row_stride,
            self.col_stride,
            self.data.len()
        );
    }
}

/// A mutable row-major matrix view whose rows may be further apart than its
/// width: a block of columns of a larger matrix. Views made by splitting
/// one view never share an element, so they can be filled by different
/// threads at once; the borrow they come from lasts as long as any of them.
///
/// ```
/// use nrelu_rbm_kernels::{Accumulate, Kernels, MatMut, MatRef, Product};
/// let a = [1.0f32, 2.0]; // 1 × 2
/// let b = [1.0f32, 0.0, 2.0, 0.0, 1.0, 3.0]; // 2 × 3
/// let mut c = [0.0f32; 3];
/// let (left, right) = MatMut::row_major(&mut c, 1, 3).split_at_col(1);
/// let (a, b) = (MatRef::row_major(&a, 1, 2), MatRef::row_major(&b, 2, 3));
/// let k = Kernels::active();
/// std::thread::scope(|s| {
///     s.spawn(|| k.product(a, b.cols_range(0, 1), left, Product::new(Accumulate::Overwrite)));
///     s.spawn(|| k.product(a, b.cols_range(1, 3), right, Product::new(Accumulate::Overwrite)));
/// });
/// assert_eq!(c, [1.0, 2.0, 8.0]);
/// ```
#[derive(Debug)]
pub struct MatMut<'a> {
    /// Element (i, j) is at `ptr + i·row_stride + j`. For a view with no
    /// elements the pointer may point just past (or, after splits of a
    /// zero-row view, beyond) its allocation; it is then never read.
    pub(super) ptr: *mut f32,
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) row_stride: usize,
    _borrow: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: a `MatMut` is an exclusive borrow of its elements, like
// `&mut [f32]` (which is `Send`); no two views share an element.
unsafe impl Send for MatMut<'_> {}

impl<'a> MatMut<'a> {
    /// A `rows × cols` row-major view of all of `data`.
    ///
    /// # Panics
    /// If `data.len() != rows · cols`.
    pub fn row_major(data: &'a mut [f32], rows: usize, cols: usize) -> MatMut<'a> {
        assert!(
            Some(data.len()) == rows.checked_mul(cols),
            "MatMut: length {} does not match {rows} × {cols}",
            data.len()
        );
        MatMut {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            row_stride: cols,
            _borrow: std::marker::PhantomData,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// A view of the same elements for a shorter borrow (to pass to
    /// [`crate::Kernels::product`] and keep using `self` afterwards).
    pub fn reborrow(&mut self) -> MatMut<'_> {
        MatMut {
            ptr: self.ptr,
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            _borrow: std::marker::PhantomData,
        }
    }

    /// Row `i` of the view (`cols` elements).
    ///
    /// ```
    /// use nrelu_rbm_kernels::MatMut;
    /// let mut c = [0.0f32; 6];
    /// let (_, mut right) = MatMut::row_major(&mut c, 2, 3).split_at_col(1);
    /// right.row_mut(1).copy_from_slice(&[7.0, 8.0]);
    /// assert_eq!(c, [0.0, 0.0, 0.0, 0.0, 7.0, 8.0]);
    /// ```
    ///
    /// # Panics
    /// If `i >= rows`.
    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        assert!(i < self.rows, "row {i} of {}", self.rows);
        if self.cols == 0 {
            return &mut [];
        }
        // SAFETY: i < rows and cols > 0, so the cols elements from
        // ptr + i·row_stride are elements of this view, which lie inside the
        // exclusively borrowed allocation and belong to no other view
        // (MatMut invariant); the returned borrow of `self` keeps any other
        // access to them out while it lives.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(i * self.row_stride), self.cols) }
    }

    /// Rows `r0..r1` as one slice, when they are adjacent in memory (the
    /// view is as wide as its row stride, or holds one row), else `None`.
    pub(super) fn rows_slice_mut(&mut self, r0: usize, r1: usize) -> Option<&mut [f32]> {
        assert!(
            r0 <= r1 && r1 <= self.rows,
            "rows {r0}..{r1} of {}",
            self.rows
        );
        if r1 - r0 > 1 && self.row_stride != self.cols {
            return None;
        }
        if r0 == r1 || self.cols == 0 {
            return Some(&mut []);
        }
        // SAFETY: r0 < r1 <= rows and cols > 0; the rows are adjacent (one
        // row, or row_stride == cols), so the (r1 - r0)·cols elements from
        // ptr + r0·row_stride are exactly the elements of those rows, which
        // lie inside the exclusively borrowed allocation and belong to no
        // other view (MatMut invariant); the returned borrow of `self`
        // keeps any other access to them out while it lives.
        Some(unsafe {
            std::slice::from_raw_parts_mut(
                self.ptr.add(r0 * self.row_stride),
                (r1 - r0) * self.cols,
            )
        })
    }

    /// Columns `0..j` and `j..cols`.
    ///
    /// # Panics
    /// If `j > cols`.
    pub fn split_at_col(self, j: usize) -> (MatMut<'a>, MatMut<'a>) {
        assert!(j <= self.cols, "split at column {j} of {}", self.cols);
        let right = MatMut {
            // In bounds whenever the view has an element; otherwise never
            // dereferenced (wrapping arithmetic needs no unsafe).
            ptr: self.ptr.wrapping_add(j),
            cols: self.cols - j,
            ..self
        };
        (MatMut { cols: j, ..self }, right)
    }

    /// Rows `0..i` and `i..rows`.
    ///
    /// # Panics
    /// If `i > rows`.
    pub fn split_at_row(self, i: usize) -> (MatMut<'a>, MatMut<'a>) {
        assert!(i <= self.rows, "split at row {i} of {}", self.rows);
        let below = MatMut {
            ptr: self.ptr.wrapping_add(i * self.row_stride),
            rows: self.rows - i,
            ..self
        };
        (MatMut { rows: i, ..self }, below)
    }
}
