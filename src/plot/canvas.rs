//! The RGB canvas: pixels, drawing primitives, text, grey-scale images
//! and PNG output.

use std::io::{self, Write};

use super::color::Rgb;
use super::font::{GLYPH_ADVANCE, GLYPH_HEIGHT, glyph, text_size};
use super::tiles::gray_level;

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
