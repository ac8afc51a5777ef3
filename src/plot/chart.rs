//! Line and bar charts: layout, title, axis labels, series and legend.

use super::canvas::Canvas;
use super::color::{BLACK, GREY, WHITE};
use super::font::{GLYPH_HEIGHT, text_size};
use super::frame::Frame;
use super::series::{Series, SeriesKind};
use super::ticks::{format_tick, nice_ticks, tick_step};

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
        for yy in 0..area.height() as i64 {
            for xx in 0..area.width() as i64 {
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
