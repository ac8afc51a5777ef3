//! Grids of grey-scale image tiles, e.g. an RBM's filters.

use super::canvas::Canvas;
use super::color::GREY;

/// The grey level of `v` on the scale `lo` (black) .. `hi` (white).
pub(super) fn gray_level(v: f32, lo: f32, hi: f32) -> u8 {
    if v.is_nan() {
        return 128;
    }
    let t = if hi > lo {
        (f64::from(v) - f64::from(lo)) / (f64::from(hi) - f64::from(lo))
    } else {
        0.5
    };
    (t.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// How [`tile_grid`] maps each tile's values to grey levels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TileScale {
    /// Each tile from its own minimum (black) to its own maximum (white):
    /// shows the shape of every filter whatever its norm.
    PerTile,
    /// One range for all tiles: `lo` black, `hi` white.
    Fixed(f32, f32),
}

/// Lays out `tiles` (consecutive `tile_w × tile_h` row-major images) in a
/// grid of `cols` columns, each pixel a `zoom × zoom` square, separated by
/// `gap` pixels of grey.
///
/// ```
/// use nrelu_rbm::plot::{tile_grid, TileScale};
/// // Three 2 × 2 tiles in two columns, zoom 3, gap 1.
/// let tiles = [0.0, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 6.0, -1.0, 0.0, 0.0, 1.0];
/// let c = tile_grid(&tiles, 2, 2, 2, 3, 1, TileScale::PerTile);
/// assert_eq!((c.width(), c.height()), (1 + 2 * (6 + 1), 1 + 2 * (6 + 1)));
/// assert_eq!(c.get(1, 1), Some([0, 0, 0]));         // tile 0's minimum
/// assert_eq!(c.get(1 + 3, 1 + 3), Some([255; 3]));   // tile 0's maximum
/// ```
///
/// # Panics
/// If `tiles` is not a whole number of tiles, or a size is 0.
pub fn tile_grid(
    tiles: &[f32],
    tile_w: usize,
    tile_h: usize,
    cols: usize,
    zoom: usize,
    gap: usize,
    scale: TileScale,
) -> Canvas {
    let n_px = tile_w * tile_h;
    assert!(
        n_px > 0 && cols > 0 && zoom > 0,
        "tile_grid: sizes must be >= 1"
    );
    assert!(
        tiles.len().is_multiple_of(n_px) && !tiles.is_empty(),
        "tile_grid: {} values are not whole {tile_w} x {tile_h} tiles",
        tiles.len()
    );
    let n = tiles.len() / n_px;
    let rows = n.div_ceil(cols);
    let (cw, ch) = (tile_w * zoom + gap, tile_h * zoom + gap);
    let mut c = Canvas::new(gap + cols * cw, gap + rows * ch, GREY);
    for (k, tile) in tiles.chunks_exact(n_px).enumerate() {
        let range = match scale {
            TileScale::Fixed(lo, hi) => (lo, hi),
            TileScale::PerTile => min_max(tile),
        };
        let x = (gap + (k % cols) * cw) as i64;
        let y = (gap + (k / cols) * ch) as i64;
        c.gray_image(x, y, tile, tile_w, tile_h, zoom, range);
    }
    c
}

/// The smallest and largest finite values (`(0, 0)` if there are none).
fn min_max(v: &[f32]) -> (f32, f32) {
    let mut it = v.iter().copied().filter(|x| x.is_finite());
    let Some(first) = it.next() else {
        return (0.0, 0.0);
    };
    it.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x)))
}
