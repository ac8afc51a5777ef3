//! The fixed train/test split of the embedded digits.

use super::{SPLIT_SEED, TRAIN_ROWS};
use crate::data::{DIGITS_MAX, Dataset};
use crate::kernels::Stream;

/// The digits split into train and test sets, pixels scaled to [0, 1].
pub(super) struct Split {
    pub(super) train: Vec<f32>,
    pub(super) train_labels: Vec<usize>,
    pub(super) test: Vec<f32>,
    pub(super) test_labels: Vec<usize>,
}

/// A Fisher–Yates permutation of `0..n` driven by the stream
/// `(seed, 0)` (32-bit multiply-shift indices; bias below n / 2^32).
pub(super) fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut words = vec![0u32; n];
    Stream::new(seed, 0).fill_words(&mut words);
    for i in (1..n).rev() {
        let j = ((u64::from(words[i]) * (i as u64 + 1)) >> 32) as usize;
        order.swap(i, j);
    }
    order
}

/// The digits in the order of `permutation(_, SPLIT_SEED)`: the first
/// `TRAIN_ROWS` train, the others test.
pub(super) fn split_digits() -> Split {
    let d = Dataset::digits();
    let labels = d.labels.as_deref().expect("the digits have labels");
    let order = permutation(d.rows, SPLIT_SEED);
    let mut s = Split {
        train: Vec::with_capacity(TRAIN_ROWS * d.cols),
        train_labels: Vec::with_capacity(TRAIN_ROWS),
        test: Vec::with_capacity((d.rows - TRAIN_ROWS) * d.cols),
        test_labels: Vec::with_capacity(d.rows - TRAIN_ROWS),
    };
    for (k, &r) in order.iter().enumerate() {
        let row = d.values[r * d.cols..(r + 1) * d.cols]
            .iter()
            .map(|&p| p / DIGITS_MAX);
        let label = labels[r] as usize;
        if k < TRAIN_ROWS {
            s.train.extend(row);
            s.train_labels.push(label);
        } else {
            s.test.extend(row);
            s.test_labels.push(label);
        }
    }
    s
}

/// The first test image of each class 0..=9.
pub(super) fn class_examples(labels: &[usize]) -> Vec<usize> {
    (0..10)
        .filter_map(|c| labels.iter().position(|&l| l == c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_a_fixed_permutation() {
        let p = permutation(1797, SPLIT_SEED);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1797).collect::<Vec<_>>());
        assert_eq!(p, permutation(1797, SPLIT_SEED));
        assert_ne!(p, permutation(1797, SPLIT_SEED + 1));
        let s = split_digits();
        assert_eq!(s.train_labels.len(), TRAIN_ROWS);
        assert_eq!(s.test_labels.len(), 1797 - TRAIN_ROWS);
        assert_eq!(s.train.len(), TRAIN_ROWS * 64);
        // Every class is in the test set.
        assert_eq!(class_examples(&s.test_labels).len(), 10);
    }
}
