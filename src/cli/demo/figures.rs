//! The demo's pictures: filters, reconstructions, training curves and
//! the sampled laws of NReLU and SSU.

use super::draws::mean_var;
use super::{Model, Results};
use crate::cli::CliError;
use crate::plot::{
    Canvas, Chart, Legend, PALETTE, Series, SeriesKind, TileScale, WHITE, tile_grid,
};

/// The filters of one model: a tile per hidden unit, its weights from the
/// pixels.
pub(super) fn filters_png(m: &Model) -> Canvas {
    let (v, h) = (m.rbm.n_visible(), m.rbm.n_hidden());
    let w = m.rbm.weights();
    // Tile j: the weights into hidden unit j (column j of W).
    let tiles: Vec<f32> = (0..h)
        .flat_map(|j| (0..v).map(move |i| w[i * h + j]))
        .collect();
    let grid = tile_grid(&tiles, 8, 8, 10, 5, 2, TileScale::PerTile);
    let title = format!("{} filters", m.unit);
    let mut c = Canvas::new(grid.width(), grid.height() + 28, WHITE);
    c.text(4, 6, &title, [0, 0, 0], 2);
    c.blit(&grid, 0, 28);
    c
}

/// The first test digit of each class, and under it its noise-free
/// reconstruction by each model.
pub(super) fn reconstructions_png(r: &Results) -> Result<Canvas, CliError> {
    let nv = 64;
    let picks: Vec<f32> = r
        .examples
        .iter()
        .flat_map(|&i| r.test[i * nv..(i + 1) * nv].iter().copied())
        .collect();
    let mut rows = vec![("test digits".to_owned(), picks.clone())];
    for m in &r.models {
        let h = m.rbm.hidden_means(&picks)?;
        rows.push((m.unit.to_string(), m.rbm.visible_means(&h)?));
    }
    let (zoom, gap, label_w, top) = (5usize, 4usize, 150usize, 30usize);
    let tile = 8 * zoom + gap;
    let n = r.examples.len().max(1);
    let mut c = Canvas::new(
        label_w + n * tile + gap,
        top + rows.len() * tile + gap,
        WHITE,
    );
    c.text(4, 6, "test digits and their reconstructions", [0, 0, 0], 2);
    for (k, (name, values)) in rows.iter().enumerate() {
        let y = (top + k * tile) as i64;
        c.text(4, y + (8 * zoom / 2) as i64 - 8, name, [0, 0, 0], 2);
        for (t, img) in values.chunks_exact(nv).enumerate() {
            let x = (label_w + t * tile) as i64;
            c.gray_image(x, y, img, 8, 8, zoom, (0.0, 1.0));
        }
    }
    Ok(c)
}

/// The models' training curves: reconstruction error per epoch.
pub(super) fn training_png(r: &Results) -> Canvas {
    let mut chart = Chart::new("Reconstruction error while training (train set, CD-1)");
    chart.x_label = "epoch".into();
    chart.y_label = "mean squared error per pixel".into();
    for (k, m) in r.models.iter().enumerate() {
        let pts = m
            .curve
            .iter()
            .enumerate()
            .map(|(e, &v)| ((e + 1) as f64, v))
            .collect();
        chart
            .series
            .push(Series::line(&m.unit.to_string(), PALETTE[k], pts));
    }
    chart.x_range = Some((0.0, r.epochs.max(1) as f64));
    let (_, (_, y1)) = chart.ranges();
    chart.y_range = Some((0.0, y1));
    chart.render(760, 460)
}

/// The sampled laws of SSU and NReLU at the pre-activations of
/// `SAMPLE_XS`.
pub(super) fn units_png(r: &Results) -> Canvas {
    let (pw, ph, top) = (600usize, 400usize, 56usize);
    let mut c = Canvas::new(2 * pw, top + 2 * ph, WHITE);
    c.text(
        8,
        8,
        "SSU: sum_i Bernoulli(sigmoid(x - i + 0.5))   NReLU: max(0, x + N(0, sigmoid(x)))",
        [0, 0, 0],
        2,
    );
    c.text(
        8,
        30,
        "bars: SSU P(h = k)   outline: NReLU P(h = 0)   line: NReLU density for h > 0",
        [0, 0, 0],
        2,
    );
    for (p, d) in r.draws.iter().enumerate() {
        let n = d.ssu.len() as f64;
        let kmax = d.ssu.iter().fold(0f32, |a, &b| a.max(b)) as usize;
        let mut counts = vec![0usize; kmax + 1];
        for &h in &d.ssu {
            counts[h as usize] += 1;
        }
        let ssu_bars: Vec<(f64, f64)> = counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(k, &c)| (k as f64, c as f64 / n))
            .collect();
        let zero = d.nrelu.iter().filter(|&&h| h == 0.0).count() as f64 / n;
        let bin = 0.25;
        let top_h = kmax as f64 + 1.5;
        let nbins = (top_h / bin).ceil() as usize;
        let mut dens = vec![0usize; nbins];
        for &h in d.nrelu.iter().filter(|&&h| h > 0.0) {
            let b = (f64::from(h) / bin) as usize;
            if b < nbins {
                dens[b] += 1;
            }
        }
        let density: Vec<(f64, f64)> = dens
            .iter()
            .enumerate()
            .map(|(b, &c)| ((b as f64 + 0.5) * bin, c as f64 / n / bin))
            .collect();
        let (sm, _) = mean_var(&d.ssu);
        let (nm, _) = mean_var(&d.nrelu);
        let mut chart = Chart::new(&format!("x = {}  (means: SSU {sm:.2}, NReLU {nm:.2})", d.x));
        chart.x_label = "h".into();
        chart.y_label = "probability / density".into();
        chart
            .series
            .push(Series::bars("SSU P(h=k)", PALETTE[0], ssu_bars, 0.6));
        chart.series.push(Series {
            name: "NReLU P(h=0)".into(),
            color: PALETTE[3],
            kind: SeriesKind::Bars {
                bars: vec![(0.0, zero)],
                width: 0.8,
                offset: 0.0,
                outline: true,
            },
        });
        chart
            .series
            .push(Series::line("NReLU density", PALETTE[3], density));
        chart.x_range = Some((-0.5, top_h.ceil()));
        chart.legend = Legend::TopRight;
        let (px, py) = ((p % 2) * pw, top + (p / 2) * ph);
        chart.draw(&mut c, px, py, pw, ph);
    }
    c
}
