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

mod canvas;
mod chart;
mod color;
mod font;
mod frame;
mod series;
mod ticks;
mod tiles;

pub use canvas::{Canvas, MAX_SIDE};
pub use chart::{Chart, Legend};
pub use color::{BLACK, GREY, GRID, PALETTE, Rgb, WHITE};
pub use font::{GLYPH_ADVANCE, GLYPH_HEIGHT, text_size};
pub use series::{Series, SeriesKind};
pub use ticks::{format_tick, nice_ticks};
pub use tiles::{TileScale, tile_grid};
