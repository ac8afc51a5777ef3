//! The plot area of a chart: data-to-pixel mapping, ticks and the
//! drawing of series inside it.

use super::canvas::Canvas;
use super::color::{BLACK, GRID, Rgb};
use super::font::text_size;
use super::ticks::format_tick;

/// Where a chart's plot area lies on the canvas, the data ranges its edges
/// stand for, and the text metrics of the decorations around it.
pub(super) struct Frame {
    /// Canvas column of the y axis.
    pub(super) left: usize,
    /// Canvas row of the top grid line.
    pub(super) top: usize,
    /// Canvas column of the right edge.
    pub(super) right: usize,
    /// Canvas row of the x axis.
    pub(super) bottom: usize,
    /// Data range from `left` to `right`.
    pub(super) x_range: (f64, f64),
    /// Data range from `bottom` to `top`.
    pub(super) y_range: (f64, f64),
    /// Text scale.
    pub(super) s: usize,
    /// Character height in pixels.
    pub(super) ch: usize,
    /// Padding between decorations in pixels.
    pub(super) pad: usize,
}

impl Frame {
    /// The edges `(left, top, right, bottom)` as signed canvas coordinates.
    pub(super) fn edges(&self) -> (i64, i64, i64, i64) {
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
    pub(super) fn draw_y_ticks(&self, c: &mut Canvas, ticks: &[f64], labels: &[String]) {
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
    pub(super) fn draw_x_ticks(&self, c: &mut Canvas, ticks: &[f64], step: f64) {
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
    pub(super) fn plot_line(
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
    pub(super) fn plot_bars(
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
