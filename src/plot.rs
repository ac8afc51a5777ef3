//! A small raster plotting module: RGB canvases written as PNG, grids of
//! grey-scale image tiles, and line and bar charts with axes, ticks and a
//! legend, labelled with a built-in 5 × 7 bitmap font.
//!
//! It exists so that `rbm demo` can draw its pictures (filters,
//! reconstructions, training curves, sampled distributions) without a
//! plotting stack. Everything is integer rasterisation in a fixed order, so
//! the same inputs give the same PNG bytes on every machine.
//!
//! ```
//! use nrelu_rbm::plot::{Chart, Series, PALETTE};
//! let mut chart = Chart::new("y = x^2");
//! chart.x_label = "x".into();
//! chart.y_label = "y".into();
//! let points = (0..=20).map(|i| (i as f64 / 10.0, (i * i) as f64 / 100.0)).collect();
//! chart.series.push(Series::line("x^2", PALETTE[0], points));
//! let canvas = chart.render(480, 320);
//! let png = canvas.png_bytes();
//! assert_eq!(&png[1..4], b"PNG");
//! ```
//!
//! Text is ASCII; any other character is drawn as `?`.

use std::io::{self, Write};

/// A colour: red, green, blue.
pub type Rgb = [u8; 3];

/// White.
pub const WHITE: Rgb = [255, 255, 255];
/// Black.
pub const BLACK: Rgb = [0, 0, 0];
/// The grey of grid lines.
pub const GRID: Rgb = [225, 225, 225];
/// A mid grey, e.g. for the gaps between image tiles.
pub const GREY: Rgb = [128, 128, 128];

/// Series colours that stay distinct for colour-blind readers (Okabe &
/// Ito): blue, orange, bluish green, vermilion, sky blue, reddish purple,
/// yellow, black.
pub const PALETTE: [Rgb; 8] = [
    [0, 114, 178],
    [230, 159, 0],
    [0, 158, 115],
    [213, 94, 0],
    [86, 180, 233],
    [204, 121, 167],
    [240, 228, 66],
    [0, 0, 0],
];

/// Width of a glyph cell in font pixels (5 columns and 1 of spacing).
pub const GLYPH_ADVANCE: usize = 6;
/// Height of a glyph cell in font pixels (7 rows, 1 descender row).
pub const GLYPH_HEIGHT: usize = 8;

/// The classic 5 × 7 font for ASCII 0x20..=0x7E: five column bytes per
/// glyph, bit 0 at the top, bit 7 for descenders.
const FONT: [[u8; 5]; 95] = [
    [0x00, 0x00, 0x00, 0x00, 0x00], // ' '
    [0x00, 0x00, 0x5F, 0x00, 0x00], // !
    [0x00, 0x07, 0x00, 0x07, 0x00], // "
    [0x14, 0x7F, 0x14, 0x7F, 0x14], // #
    [0x24, 0x2A, 0x7F, 0x2A, 0x12], // $
    [0x23, 0x13, 0x08, 0x64, 0x62], // %
    [0x36, 0x49, 0x56, 0x20, 0x50], // &
    [0x00, 0x00, 0x07, 0x00, 0x00], // '
    [0x00, 0x1C, 0x22, 0x41, 0x00], // (
    [0x00, 0x41, 0x22, 0x1C, 0x00], // )
    [0x2A, 0x1C, 0x7F, 0x1C, 0x2A], // *
    [0x08, 0x08, 0x3E, 0x08, 0x08], // +
    [0x00, 0x80, 0x60, 0x00, 0x00], // ,
    [0x08, 0x08, 0x08, 0x08, 0x08], // -
    [0x00, 0x00, 0x60, 0x60, 0x00], // .
    [0x20, 0x10, 0x08, 0x04, 0x02], // /
    [0x3E, 0x51, 0x49, 0x45, 0x3E], // 0
    [0x00, 0x42, 0x7F, 0x40, 0x00], // 1
    [0x62, 0x51, 0x49, 0x49, 0x46], // 2
    [0x22, 0x41, 0x49, 0x49, 0x36], // 3
    [0x18, 0x14, 0x12, 0x7F, 0x10], // 4
    [0x27, 0x45, 0x45, 0x45, 0x39], // 5
    [0x3C, 0x4A, 0x49, 0x49, 0x30], // 6
    [0x01, 0x71, 0x09, 0x05, 0x03], // 7
    [0x36, 0x49, 0x49, 0x49, 0x36], // 8
    [0x06, 0x49, 0x49, 0x29, 0x1E], // 9
    [0x00, 0x00, 0x36, 0x36, 0x00], // :
    [0x00, 0x80, 0x56, 0x36, 0x00], // ;
    [0x08, 0x14, 0x22, 0x41, 0x00], // <
    [0x14, 0x14, 0x14, 0x14, 0x14], // =
    [0x00, 0x41, 0x22, 0x14, 0x08], // >
    [0x02, 0x01, 0x51, 0x09, 0x06], // ?
    [0x3E, 0x41, 0x5D, 0x55, 0x1E], // @
    [0x7E, 0x11, 0x11, 0x11, 0x7E], // A
    [0x7F, 0x49, 0x49, 0x49, 0x36], // B
    [0x3E, 0x41, 0x41, 0x41, 0x22], // C
    [0x7F, 0x41, 0x41, 0x22, 0x1C], // D
    [0x7F, 0x49, 0x49, 0x49, 0x41], // E
    [0x7F, 0x09, 0x09, 0x09, 0x01], // F
    [0x3E, 0x41, 0x49, 0x49, 0x7A], // G
    [0x7F, 0x08, 0x08, 0x08, 0x7F], // H
    [0x00, 0x41, 0x7F, 0x41, 0x00], // I
    [0x20, 0x40, 0x41, 0x3F, 0x01], // J
    [0x7F, 0x08, 0x14, 0x22, 0x41], // K
    [0x7F, 0x40, 0x40, 0x40, 0x40], // L
    [0x7F, 0x02, 0x0C, 0x02, 0x7F], // M
    [0x7F, 0x04, 0x08, 0x10, 0x7F], // N
    [0x3E, 0x41, 0x41, 0x41, 0x3E], // O
    [0x7F, 0x09, 0x09, 0x09, 0x06], // P
    [0x3E, 0x41, 0x51, 0x21, 0x5E], // Q
    [0x7F, 0x09, 0x19, 0x29, 0x46], // R
    [0x46, 0x49, 0x49, 0x49, 0x31], // S
    [0x01, 0x01, 0x7F, 0x01, 0x01], // T
    [0x3F, 0x40, 0x40, 0x40, 0x3F], // U
    [0x1F, 0x20, 0x40, 0x20, 0x1F], // V
    [0x3F, 0x40, 0x38, 0x40, 0x3F], // W
    [0x63, 0x14, 0x08, 0x14, 0x63], // X
    [0x07, 0x08, 0x70, 0x08, 0x07], // Y
    [0x61, 0x51, 0x49, 0x45, 0x43], // Z
    [0x00, 0x7F, 0x41, 0x41, 0x00], // [
    [0x02, 0x04, 0x08, 0x10, 0x20], // backslash
    [0x00, 0x41, 0x41, 0x7F, 0x00], // ]
    [0x04, 0x02, 0x01, 0x02, 0x04], // ^
    [0x40, 0x40, 0x40, 0x40, 0x40], // _
    [0x00, 0x01, 0x02, 0x04, 0x00], // `
    [0x20, 0x54, 0x54, 0x54, 0x78], // a
    [0x7F, 0x48, 0x44, 0x44, 0x38], // b
    [0x38, 0x44, 0x44, 0x44, 0x20], // c
    [0x38, 0x44, 0x44, 0x48, 0x7F], // d
    [0x38, 0x54, 0x54, 0x54, 0x18], // e
    [0x08, 0x7E, 0x09, 0x01, 0x02], // f
    [0x18, 0xA4, 0xA4, 0xA4, 0x7C], // g
    [0x7F, 0x08, 0x04, 0x04, 0x78], // h
    [0x00, 0x44, 0x7D, 0x40, 0x00], // i
    [0x40, 0x80, 0x84, 0x7D, 0x00], // j
    [0x7F, 0x10, 0x28, 0x44, 0x00], // k
    [0x00, 0x41, 0x7F, 0x40, 0x00], // l
    [0x7C, 0x04, 0x18, 0x04, 0x78], // m
    [0x7C, 0x08, 0x04, 0x04, 0x78], // n
    [0x38, 0x44, 0x44, 0x44, 0x38], // o
    [0xFC, 0x24, 0x24, 0x24, 0x18], // p
    [0x18, 0x24, 0x24, 0x24, 0xFC], // q
    [0x7C, 0x08, 0x04, 0x04, 0x08], // r
    [0x48, 0x54, 0x54, 0x54, 0x20], // s
    [0x04, 0x3F, 0x44, 0x40, 0x20], // t
    [0x3C, 0x40, 0x40, 0x20, 0x7C], // u
    [0x1C, 0x20, 0x40, 0x20, 0x1C], // v
    [0x3C, 0x40, 0x30, 0x40, 0x3C], // w
    [0x44, 0x28, 0x10, 0x28, 0x44], // x
    [0x1C, 0xA0, 0xA0, 0xA0, 0x7C], // y
    [0x44, 0x64, 0x54, 0x4C, 0x44], // z
    [0x00, 0x08, 0x36, 0x41, 0x00], // {
    [0x00, 0x00, 0x7F, 0x00, 0x00], // |
    [0x00, 0x41, 0x36, 0x08, 0x00], // }
    [0x08, 0x04, 0x08, 0x10, 0x08], // ~
];

/// The column bytes of `c`'s glyph (`?` for anything but printable ASCII).
fn glyph(c: char) -> &'static [u8; 5] {
    let i = match c {
        ' '..='~' => c as usize - 0x20,
        _ => '?' as usize - 0x20,
    };
    &FONT[i]
}

/// Width and height in pixels of `text` drawn at `scale` (one line).
///
/// ```
/// use nrelu_rbm::plot::text_size;
/// assert_eq!(text_size("abc", 2), (3 * 6 * 2 - 2, 16));
/// assert_eq!(text_size("", 1), (0, 8));
/// ```
pub fn text_size(text: &str, scale: usize) -> (usize, usize) {
    let n = text.chars().count();
    let w = if n == 0 {
        0
    } else {
        (n * GLYPH_ADVANCE - 1) * scale
    };
    (w, GLYPH_HEIGHT * scale)
}

/// An RGB image, row-major, top row first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// Largest canvas side, in pixels.
pub const MAX_SIDE: usize = 1 << 14;

impl Canvas {
    /// A `width × height` canvas filled with `background`.
    ///
    /// # Panics
    /// If a side is 0 or above [`MAX_SIDE`].
    pub fn new(width: usize, height: usize, background: Rgb) -> Canvas {
        assert!(
            (1..=MAX_SIDE).contains(&width) && (1..=MAX_SIDE).contains(&height),
            "canvas {width} x {height}: sides must be in 1..={MAX_SIDE}"
        );
        Canvas {
            width,
            height,
            pixels: background.repeat(width * height),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The RGB bytes, row-major.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The colour at `(x, y)`, or `None` outside the canvas.
    pub fn get(&self, x: i64, y: i64) -> Option<Rgb> {
        let i = self.index(x, y)?;
        Some([self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]])
    }

    fn index(&self, x: i64, y: i64) -> Option<usize> {
        let (x, y) = (usize::try_from(x).ok()?, usize::try_from(y).ok()?);
        (x < self.width && y < self.height).then(|| 3 * (y * self.width + x))
    }

    /// Sets one pixel; coordinates outside the canvas are ignored.
    pub fn set(&mut self, x: i64, y: i64, color: Rgb) {
        if let Some(i) = self.index(x, y) {
            self.pixels[i..i + 3].copy_from_slice(&color);
        }
    }

    /// Fills the rectangle with top-left corner `(x, y)`, clipped to the
    /// canvas.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, color: Rgb) {
        let x0 = x.clamp(0, self.width as i64);
        let x1 = x.saturating_add(w).clamp(0, self.width as i64);
        let y0 = y.clamp(0, self.height as i64);
        let y1 = y.saturating_add(h).clamp(0, self.height as i64);
        for yy in y0..y1 {
            for xx in x0..x1 {
                self.set(xx, yy, color);
            }
        }
    }

    /// Draws the one-pixel outline of a rectangle.
    pub fn stroke_rect(&mut self, x: i64, y: i64, w: i64, h: i64, color: Rgb) {
        if w <= 0 || h <= 0 {
            return;
        }
        self.fill_rect(x, y, w, 1, color);
        self.fill_rect(x, y + h - 1, w, 1, color);
        self.fill_rect(x, y, 1, h, color);
        self.fill_rect(x + w - 1, y, 1, h, color);
    }

    /// Draws a straight line (Bresenham) with a square pen of `thickness`
    /// pixels, clipped to the canvas. Non-finite end points draw nothing.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), color: Rgb, thickness: usize) {
        let ok = |v: f64| v.is_finite() && v.abs() < 1e9;
        if !(ok(from.0) && ok(from.1) && ok(to.0) && ok(to.1)) {
            return;
        }
        let (mut x0, mut y0) = (from.0.round() as i64, from.1.round() as i64);
        let (x1, y1) = (to.0.round() as i64, to.1.round() as i64);
        let t = thickness.max(1) as i64;
        let off = (t - 1) / 2;
        let dx = (x1 - x0).abs();
        let dy = -(y1 - y0).abs();
        let sx = if x0 < x1 { 1 } else { -1 };
        let sy = if y0 < y1 { 1 } else { -1 };
        let mut err = dx + dy;
        loop {
            self.fill_rect(x0 - off, y0 - off, t, t, color);
            if x0 == x1 && y0 == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x0 += sx;
            }
            if e2 <= dx {
                err += dx;
                y0 += sy;
            }
        }
    }

    /// Draws `text` with its top-left corner at `(x, y)`, each font pixel a
    /// `scale × scale` square. Returns the width drawn.
    pub fn text(&mut self, x: i64, y: i64, text: &str, color: Rgb, scale: usize) -> usize {
        let s = scale.max(1) as i64;
        for (k, c) in text.chars().enumerate() {
            let gx = x + (k * GLYPH_ADVANCE) as i64 * s;
            for (col, bits) in glyph(c).iter().enumerate() {
                for row in 0..GLYPH_HEIGHT {
                    if bits >> row & 1 == 1 {
                        self.fill_rect(gx + col as i64 * s, y + row as i64 * s, s, s, color);
                    }
                }
            }
        }
        text_size(text, scale.max(1)).0
    }

    /// Draws `text` rotated a quarter turn anticlockwise (reading upwards),
    /// with the bottom-left corner of the unrotated text at `(x, y)`: the
    /// text occupies `x .. x + height` and `y − width .. y`.
    pub fn text_up(&mut self, x: i64, y: i64, text: &str, color: Rgb, scale: usize) {
        let s = scale.max(1) as i64;
        for (k, c) in text.chars().enumerate() {
            let gy = y - (k * GLYPH_ADVANCE) as i64 * s;
            for (col, bits) in glyph(c).iter().enumerate() {
                for row in 0..GLYPH_HEIGHT {
                    if bits >> row & 1 == 1 {
                        self.fill_rect(x + row as i64 * s, gy - (col as i64 + 1) * s, s, s, color);
                    }
                }
            }
        }
    }

    /// Draws a `w × h` grey-scale image (row-major `values`) with its
    /// top-left corner at `(x, y)`, each value a `zoom × zoom` square: `lo`
    /// and below is black, `hi` and above white, linear between. NaN is
    /// drawn as mid grey.
    ///
    /// # Panics
    /// If `values.len() != w * h`.
    #[allow(clippy::too_many_arguments)]
    pub fn gray_image(
        &mut self,
        x: i64,
        y: i64,
        values: &[f32],
        w: usize,
        h: usize,
        zoom: usize,
        (lo, hi): (f32, f32),
    ) {
        assert_eq!(
            values.len(),
            w * h,
            "gray_image: {} values for {w} x {h}",
            values.len()
        );
        let z = zoom.max(1) as i64;
        for (i, &v) in values.iter().enumerate() {
            let g = gray_level(v, lo, hi);
            let (col, row) = ((i % w) as i64, (i / w) as i64);
            self.fill_rect(x + col * z, y + row * z, z, z, [g, g, g]);
        }
    }

    /// Copies `other` onto this canvas with its top-left corner at
    /// `(x, y)`, clipped.
    pub fn blit(&mut self, other: &Canvas, x: i64, y: i64) {
        for yy in 0..other.height {
            for xx in 0..other.width {
                let i = 3 * (yy * other.width + xx);
                let c = [other.pixels[i], other.pixels[i + 1], other.pixels[i + 2]];
                self.set(x + xx as i64, y + yy as i64, c);
            }
        }
    }

    /// Encodes the canvas as an 8-bit RGB PNG into `w`.
    ///
    /// # Errors
    /// Whatever `w` returns.
    pub fn write_png<W: Write>(&self, w: W) -> io::Result<()> {
        let to_io = |e: png::EncodingError| match e {
            png::EncodingError::IoError(e) => e,
            other => io::Error::other(other),
        };
        // Sides are at most MAX_SIDE, so they fit in u32.
        let mut enc = png::Encoder::new(w, self.width as u32, self.height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Balanced);
        let mut writer = enc.write_header().map_err(to_io)?;
        writer.write_image_data(&self.pixels).map_err(to_io)?;
        writer.finish().map_err(to_io)
    }

    /// The PNG encoding of the canvas.
    pub fn png_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_png(&mut out)
            .expect("encoding into memory cannot fail");
        out
    }
}

/// The grey level of `v` on the scale `lo` (black) .. `hi` (white).
fn gray_level(v: f32, lo: f32, hi: f32) -> u8 {
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

/// Round tick positions covering `[lo, hi]`: multiples of a step of 1, 2
/// or 5 times a power of ten, the smallest such step that gives at most
/// `max_ticks` of them. There is at least one tick when `lo < hi`: if a
/// step gives too many, a multiple of the next one up always falls inside.
///
/// ```
/// use nrelu_rbm::plot::nice_ticks;
/// assert_eq!(nice_ticks(0.0, 1.0, 6), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
/// assert_eq!(nice_ticks(1.0, 100.0, 5), [20.0, 40.0, 60.0, 80.0, 100.0]);
/// ```
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let step = tick_step(lo, hi, max_ticks);
    if step == 0.0 {
        return vec![lo];
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // Snap values like 0.30000000000000004 to the shortest decimal.
            let d = decimals(step);
            format!("{v:.d$}").parse::<f64>().unwrap_or(v)
        })
        .collect()
}

/// The step of [`nice_ticks`] (0 for an empty or invalid range): the
/// smallest 1, 2 or 5 × 10^k whose multiples in `[lo, hi]` number at most
/// `max_ticks`.
fn tick_step(lo: f64, hi: f64, max_ticks: usize) -> f64 {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0 && lo.is_finite()) {
        return 0.0;
    }
    let max = max_ticks.max(1) as f64;
    let count = |step: f64| (hi / step + 1e-9).floor() - (lo / step - 1e-9).ceil() + 1.0;
    // Start a decade below the step that would give `max` intervals.
    let mut mag = 10f64.powf((span / max).log10().floor() - 1.0);
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * mag;
            if count(step) <= max {
                return step;
            }
        }
        mag *= 10.0;
    }
}

/// Decimals needed to print multiples of `step`.
fn decimals(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 0;
    }
    (-(step.log10() + 1e-9).floor()).max(0.0) as usize
}

/// Formats a tick value with the decimals its step needs.
///
/// ```
/// use nrelu_rbm::plot::format_tick;
/// assert_eq!(format_tick(0.25, 0.05), "0.25");
/// assert_eq!(format_tick(40.0, 20.0), "40");
/// assert_eq!(format_tick(-0.0, 0.5), "0.0");
/// ```
pub fn format_tick(value: f64, step: f64) -> String {
    let d = decimals(step);
    let v = if value == 0.0 { 0.0 } else { value };
    format!("{v:.d$}")
}

/// What a [`Series`] draws.
#[derive(Clone, Debug, PartialEq)]
pub enum SeriesKind {
    /// A polyline through `(x, y)` points, in order; non-finite points
    /// break the line.
    Line {
        /// The points.
        points: Vec<(f64, f64)>,
        /// Also draw a small square at each point.
        markers: bool,
    },
    /// Vertical bars from 0 to `height`, centred at `x + offset`.
    Bars {
        /// `(x, height)` of each bar.
        bars: Vec<(f64, f64)>,
        /// Bar width in data units.
        width: f64,
        /// Shift of every bar centre, in data units (side-by-side bars).
        offset: f64,
        /// Draw only the outline instead of filling.
        outline: bool,
    },
}

/// One named, coloured data series of a [`Chart`].
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its legend entry.
    pub name: String,
    /// Its colour.
    pub color: Rgb,
    /// Its data and style.
    pub kind: SeriesKind,
}

impl Series {
    /// A line through `points`.
    pub fn line(name: &str, color: Rgb, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.to_owned(),
            color,
            kind: SeriesKind::Line {
                points,
                markers: false,
            },
        }
    }

    /// Filled bars of `width` data units at `(x, height)`.
    pub fn bars(name: &str, color: Rgb, bars: Vec<(f64, f64)>, width: f64) -> Series {
        Series {
            name: name.to_owned(),
            color,
            kind: SeriesKind::Bars {
                bars,
                width,
                offset: 0.0,
                outline: false,
            },
        }
    }

    /// The data extent `(x_lo, x_hi, y_lo, y_hi)` over finite values.
    fn extent(&self) -> Option<(f64, f64, f64, f64)> {
        let mut e: Option<(f64, f64, f64, f64)> = None;
        let mut add = |x: f64, y: f64| {
            if x.is_finite() && y.is_finite() {
                e = Some(match e {
                    None => (x, x, y, y),
                    Some((a, b, c, d)) => (a.min(x), b.max(x), c.min(y), d.max(y)),
                });
            }
        };
        match &self.kind {
            SeriesKind::Line { points, .. } => points.iter().for_each(|&(x, y)| add(x, y)),
            SeriesKind::Bars {
                bars,
                width,
                offset,
                ..
            } => {
                for &(x, h) in bars {
                    add(x + offset - width / 2.0, 0.0);
                    add(x + offset + width / 2.0, h);
                }
            }
        }
        e
    }
}

/// Where a [`Chart`] puts its legend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legend {
    /// Inside the plot area, top right.
    TopRight,
    /// Inside the plot area, top left.
    TopLeft,
    /// No legend.
    None,
}

/// A chart of line and bar series with a title, axis labels, ticks, grid
/// lines and a legend. Ranges default to the data's, widened to round
/// ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// Centred above the plot.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Left of the y axis, reading upwards.
    pub y_label: String,
    /// The x range, or `None` for the data's.
    pub x_range: Option<(f64, f64)>,
    /// The y range, or `None` for the data's (including 0 for bars).
    pub y_range: Option<(f64, f64)>,
    /// The series, drawn in order.
    pub series: Vec<Series>,
    /// Legend position.
    pub legend: Legend,
    /// Font scale (2 gives 12 × 16 pixel characters).
    pub text_scale: usize,
}

impl Chart {
    /// An empty chart with a title, the legend top right and text scale 2.
    pub fn new(title: &str) -> Chart {
        Chart {
            title: title.to_owned(),
            x_label: String::new(),
            y_label: String::new(),
            x_range: None,
            y_range: None,
            series: Vec::new(),
            legend: Legend::TopRight,
            text_scale: 2,
        }
    }

    /// The chart drawn on a new white `width × height` canvas.
    pub fn render(&self, width: usize, height: usize) -> Canvas {
        let mut c = Canvas::new(width, height, WHITE);
        self.draw(&mut c, 0, 0, width, height);
        c
    }

    /// The x and y ranges used: given, or the data's widened to ticks.
    pub fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let ext = self
            .series
            .iter()
            .filter_map(Series::extent)
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1), a.2.min(b.2), a.3.max(b.3)));
        let (x0, x1, y0, y1) = ext.unwrap_or((0.0, 1.0, 0.0, 1.0));
        let widen = |lo: f64, hi: f64| {
            let (lo, hi) = if hi > lo {
                (lo, hi)
            } else {
                (lo - 0.5, hi + 0.5)
            };
            let step = tick_step(lo, hi, 6);
            ((lo / step).floor() * step, (hi / step).ceil() * step)
        };
        (
            self.x_range.unwrap_or_else(|| widen(x0, x1)),
            self.y_range.unwrap_or_else(|| widen(y0, y1)),
        )
    }

    /// Draws the chart into the `w × h` rectangle at `(x, y)` of `c`.
    pub fn draw(&self, c: &mut Canvas, x: usize, y: usize, w: usize, h: usize) {
        let s = self.text_scale.max(1);
        let ((x0, x1), (y0, y1)) = self.ranges();
        let x_count = (w / (90 * s / 2).max(1)).clamp(2, 10);
        let y_count = (h / (40 * s / 2).max(1)).clamp(2, 10);
        let x_ticks = nice_ticks(x0, x1, x_count);
        let y_ticks = nice_ticks(y0, y1, y_count);
        let x_step = tick_step(x0, x1, x_count);
        let y_step = tick_step(y0, y1, y_count);
        let y_labels: Vec<String> = y_ticks.iter().map(|&v| format_tick(v, y_step)).collect();
        let label_w = y_labels
            .iter()
            .map(|l| text_size(l, s).0)
            .max()
            .unwrap_or(0);
        let Some(f) = self.frame((x, y, w, h), s, label_w, ((x0, x1), (y0, y1))) else {
            return;
        };
        self.draw_title(c, (x, y, w), &f);
        f.draw_y_ticks(c, &y_ticks, &y_labels);
        f.draw_x_ticks(c, &x_ticks, x_step);
        self.draw_axis_labels(c, x, &f);
        self.draw_series(c, &f);
        // Axes.
        let (l, t, r, b) = f.edges();
        c.fill_rect(l, t, 1, b - t + 1, BLACK);
        c.fill_rect(l, b, r - l + 1, 1, BLACK);

        self.draw_legend(c, (l, t, r), s);
    }

    /// Lays out the `w × h` rectangle at `(x, y)`: title, plot area, tick
    /// labels (the widest y label `label_w` pixels wide) and axis labels.
    /// `None` if the plot area would be too small to draw.
    fn frame(
        &self,
        (x, y, w, h): (usize, usize, usize, usize),
        s: usize,
        label_w: usize,
        (x_range, y_range): ((f64, f64), (f64, f64)),
    ) -> Option<Frame> {
        let ch = GLYPH_HEIGHT * s;
        let pad = 4 * s;
        let left = x + pad + if self.y_label.is_empty() { 0 } else { ch + pad } + label_w + pad;
        // Room for the title and for half a tick label above the top line.
        let top = y + pad + ch / 2 + if self.title.is_empty() { 0 } else { ch + pad };
        let bottom_space = pad + ch + pad + if self.x_label.is_empty() { 0 } else { ch + pad };
        let right = (x + w).saturating_sub(pad + text_size("0", s).0);
        let bottom = (y + h).saturating_sub(bottom_space);
        if right <= left + 10 || bottom <= top + 10 {
            return None;
        }
        Some(Frame {
            left,
            top,
            right,
            bottom,
            x_range,
            y_range,
            s,
            ch,
            pad,
        })
    }

    /// The title, centred over the chart's `w` pixels from `x`.
    fn draw_title(&self, c: &mut Canvas, (x, y, w): (usize, usize, usize), f: &Frame) {
        if !self.title.is_empty() {
            let tw = text_size(&self.title, f.s).0;
            let tx = x as i64 + (w as i64 - tw as i64) / 2;
            c.text(
                tx.max(x as i64),
                (y + f.pad) as i64,
                &self.title,
                BLACK,
                f.s,
            );
        }
    }

    /// The x label under the x tick labels and the y label reading upwards
    /// at the chart's left edge `x`.
    fn draw_axis_labels(&self, c: &mut Canvas, x: usize, f: &Frame) {
        let (l, t, r, b) = f.edges();
        let (s, pad, ch) = (f.s, f.pad, f.ch);
        if !self.x_label.is_empty() {
            let lw = text_size(&self.x_label, s).0 as i64;
            let ly = b + (pad + ch + pad) as i64;
            c.text((l + r) / 2 - lw / 2, ly, &self.x_label, BLACK, s);
        }
        if !self.y_label.is_empty() {
            let lw = text_size(&self.y_label, s).0 as i64;
            c.text_up(
                (x + pad) as i64,
                (t + b) / 2 + lw / 2,
                &self.y_label,
                BLACK,
                s,
            );
        }
    }

    /// The series, clipped to the plot area by drawing on a sub-canvas
    /// that starts as a copy of the area and is pasted back.
    fn draw_series(&self, c: &mut Canvas, f: &Frame) {
        let (l, t, _, _) = f.edges();
        let mut area = Canvas::new(f.right - f.left + 1, f.bottom - f.top + 1, WHITE);
        for yy in 0..area.height as i64 {
            for xx in 0..area.width as i64 {
                if let Some(col) = c.get(l + xx, t + yy) {
                    area.set(xx, yy, col);
                }
            }
        }
        let lw = f.s.max(2);
        for series in &self.series {
            match &series.kind {
                SeriesKind::Line { points, markers } => {
                    f.plot_line(&mut area, points, *markers, series.color, lw);
                }
                SeriesKind::Bars {
                    bars,
                    width,
                    offset,
                    outline,
                } => f.plot_bars(
                    &mut area,
                    bars,
                    (*width, *offset),
                    *outline,
                    series.color,
                    lw,
                ),
            }
        }
        c.blit(&area, l, t);
    }

    fn draw_legend(&self, c: &mut Canvas, (l, t, r): (i64, i64, i64), s: usize) {
        if self.legend == Legend::None || self.series.is_empty() {
            return;
        }
        let ch = (GLYPH_HEIGHT * s) as i64;
        let swatch = 3 * ch / 2;
        let gap = 2 * s as i64;
        let text_w = self
            .series
            .iter()
            .map(|se| text_size(&se.name, s).0)
            .max()
            .unwrap_or(0) as i64;
        let bw = gap + swatch + 2 * gap + text_w + 2 * gap;
        let row_h = ch + gap;
        let bh = gap + row_h * self.series.len() as i64 + gap / 2;
        let bx = match self.legend {
            Legend::TopLeft => l + 3 * gap,
            _ => r - bw - 2 * gap,
        };
        let by = t + 2 * gap;
        c.fill_rect(bx, by, bw, bh, WHITE);
        c.stroke_rect(bx, by, bw, bh, GREY);
        for (k, se) in self.series.iter().enumerate() {
            let ry = by + gap + k as i64 * row_h;
            let sx = bx + gap;
            match &se.kind {
                SeriesKind::Line { .. } => {
                    let my = ry + ch / 2;
                    c.line(
                        (sx as f64, my as f64),
                        ((sx + swatch) as f64, my as f64),
                        se.color,
                        s.max(2),
                    );
                }
                SeriesKind::Bars { outline, .. } => {
                    if *outline {
                        for k in 0..s.max(2) as i64 {
                            c.stroke_rect(sx + k, ry + k, swatch - 2 * k, ch - 2 * k, se.color);
                        }
                    } else {
                        c.fill_rect(sx, ry, swatch, ch, se.color);
                    }
                }
            }
            c.text(sx + swatch + 2 * gap, ry, &se.name, BLACK, s);
        }
    }
}

/// Where a chart's plot area lies on the canvas, the data ranges its edges
/// stand for, and the text metrics of the decorations around it.
struct Frame {
    /// Canvas column of the y axis.
    left: usize,
    /// Canvas row of the top grid line.
    top: usize,
    /// Canvas column of the right edge.
    right: usize,
    /// Canvas row of the x axis.
    bottom: usize,
    /// Data range from `left` to `right`.
    x_range: (f64, f64),
    /// Data range from `bottom` to `top`.
    y_range: (f64, f64),
    /// Text scale.
    s: usize,
    /// Character height in pixels.
    ch: usize,
    /// Padding between decorations in pixels.
    pad: usize,
}

impl Frame {
    /// The edges `(left, top, right, bottom)` as signed canvas coordinates.
    fn edges(&self) -> (i64, i64, i64, i64) {
        (
            self.left as i64,
            self.top as i64,
            self.right as i64,
            self.bottom as i64,
        )
    }

    /// Canvas column of the data value `v`.
    fn px(&self, v: f64) -> f64 {
        let (x0, x1) = self.x_range;
        let pw = (self.right - self.left) as f64;
        self.left as f64 + (v - x0) / (x1 - x0) * pw
    }

    /// Canvas row of the data value `v`.
    fn py(&self, v: f64) -> f64 {
        let (y0, y1) = self.y_range;
        let ph = (self.bottom - self.top) as f64;
        self.bottom as f64 - (v - y0) / (y1 - y0) * ph
    }

    /// Column of `v` on the plot-area sub-canvas.
    fn ax(&self, v: f64) -> f64 {
        self.px(v) - self.left as f64
    }

    /// Row of `v` on the plot-area sub-canvas.
    fn ay(&self, v: f64) -> f64 {
        self.py(v) - self.top as f64
    }

    /// Horizontal grid lines, tick marks and labels of the y ticks.
    fn draw_y_ticks(&self, c: &mut Canvas, ticks: &[f64], labels: &[String]) {
        let (l, _, r, _) = self.edges();
        let (s, pad, ch) = (self.s, self.pad, self.ch);
        for (v, label) in ticks.iter().zip(labels) {
            let yy = self.py(*v).round() as i64;
            c.fill_rect(l, yy, r - l, 1, GRID);
            c.fill_rect(l - 2 * s as i64, yy, 2 * s as i64, 1, BLACK);
            let lw = text_size(label, s).0 as i64;
            c.text(
                l - pad as i64 - lw,
                yy - ch as i64 / 2 + s as i64 / 2,
                label,
                BLACK,
                s,
            );
        }
    }

    /// Vertical grid lines, tick marks and labels of the x ticks (labels
    /// formatted for the tick spacing `step`).
    fn draw_x_ticks(&self, c: &mut Canvas, ticks: &[f64], step: f64) {
        let (_, t, _, b) = self.edges();
        let s = self.s;
        for &v in ticks {
            let xx = self.px(v).round() as i64;
            c.fill_rect(xx, t, 1, b - t, GRID);
            c.fill_rect(xx, b, 1, 2 * s as i64, BLACK);
            let label = format_tick(v, step);
            let lw = text_size(&label, s).0 as i64;
            c.text(xx - lw / 2, b + self.pad as i64, &label, BLACK, s);
        }
    }

    /// A line series on the plot-area sub-canvas, `lw` pixels thick, with
    /// square markers at its finite points if `markers`.
    fn plot_line(
        &self,
        area: &mut Canvas,
        points: &[(f64, f64)],
        markers: bool,
        color: Rgb,
        lw: usize,
    ) {
        for pair in points.windows(2) {
            let (a, bb) = (pair[0], pair[1]);
            area.line(
                (self.ax(a.0), self.ay(a.1)),
                (self.ax(bb.0), self.ay(bb.1)),
                color,
                lw,
            );
        }
        if markers {
            for &(u, v) in points {
                if u.is_finite() && v.is_finite() {
                    let m = 2 * lw as i64;
                    let (mx, my) = (self.ax(u).round() as i64, self.ay(v).round() as i64);
                    area.fill_rect(mx - m / 2, my - m / 2, m, m, color);
                }
            }
        }
    }

    /// A bar series on the plot-area sub-canvas: bars `width` data units
    /// wide, centres shifted by `offset`, from 0 to their height (both
    /// clamped to the y range), filled or outlined `lw` pixels thick.
    fn plot_bars(
        &self,
        area: &mut Canvas,
        bars: &[(f64, f64)],
        (width, offset): (f64, f64),
        outline: bool,
        color: Rgb,
        lw: usize,
    ) {
        let (y0, y1) = self.y_range;
        for &(u, v) in bars {
            if !(u.is_finite() && v.is_finite()) {
                continue;
            }
            let xa = self.ax(u + offset - width / 2.0).round() as i64;
            let xb = self.ax(u + offset + width / 2.0).round() as i64;
            let ya = self.ay(v.max(y0).min(y1)).round() as i64;
            let yb = self.ay(0f64.max(y0).min(y1)).round() as i64;
            let (top_y, bh) = (ya.min(yb), (ya - yb).abs().max(1));
            if outline {
                for k in 0..lw as i64 {
                    area.stroke_rect(
                        xa + k,
                        top_y + k,
                        (xb - xa - 2 * k).max(1),
                        (bh - 2 * k).max(1),
                        color,
                    );
                }
            } else {
                area.fill_rect(xa, top_y, (xb - xa).max(1), bh, color);
            }
        }
    }
}
