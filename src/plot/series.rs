//! The data series a chart draws: lines and bars.

use super::color::Rgb;

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

/// One named, coloured data series of a [`Chart`](super::Chart).
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
    pub(super) fn extent(&self) -> Option<(f64, f64, f64, f64)> {
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
