//! The raster plotting module: PNG round trips, text, tile grids, ticks,
//! charts (legend, clipping, bad values) and determinism.

use nrelu_rbm::plot::{
    BLACK, Canvas, Chart, GREY, Legend, PALETTE, Series, SeriesKind, TileScale, WHITE, format_tick,
    nice_ticks, text_size, tile_grid,
};

/// Decodes a PNG into (width, height, RGB bytes).
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn count(c: &Canvas, color: [u8; 3]) -> usize {
    c.pixels()
        .chunks_exact(3)
        .filter(|p| *p == color.as_slice())
        .count()
}

#[test]
fn png_round_trips_every_pixel() {
    let mut c = Canvas::new(37, 19, WHITE);
    for y in 0..19 {
        for x in 0..37 {
            c.set(x, y, [(x * 7) as u8, (y * 13) as u8, ((x ^ y) * 3) as u8]);
        }
    }
    let (w, h, px) = decode(&c.png_bytes());
    assert_eq!((w, h), (37, 19));
    assert_eq!(px, c.pixels());
    let mut written = Vec::new();
    c.write_png(&mut written).unwrap();
    assert_eq!(written, c.png_bytes());
}

#[test]
fn drawing_is_clipped_and_ignores_bad_coordinates() {
    let mut c = Canvas::new(10, 10, WHITE);
    c.fill_rect(-5, -5, 8, 8, BLACK);
    assert_eq!(count(&c, BLACK), 9);
    c.fill_rect(8, 8, 100, 100, BLACK);
    assert_eq!(count(&c, BLACK), 13);
    c.line((-1e6, 5.0), (1e6, 5.0), PALETTE[0], 1);
    assert_eq!(count(&c, PALETTE[0]), 10);
    c.line((f64::NAN, 0.0), (3.0, 3.0), PALETTE[1], 3);
    c.line((0.0, f64::INFINITY), (3.0, 3.0), PALETTE[1], 3);
    assert_eq!(count(&c, PALETTE[1]), 0);
    c.set(-1, 3, PALETTE[2]);
    c.set(10, 3, PALETTE[2]);
    assert_eq!(count(&c, PALETTE[2]), 0);
    assert_eq!(c.get(10, 0), None);
    assert_eq!(c.get(0, 0), Some(BLACK));
}

#[test]
fn lines_join_their_end_points() {
    let mut c = Canvas::new(20, 20, WHITE);
    c.line((2.0, 3.0), (17.0, 11.0), BLACK, 1);
    assert_eq!(c.get(2, 3), Some(BLACK));
    assert_eq!(c.get(17, 11), Some(BLACK));
    // One pixel per column for a shallow line.
    assert_eq!(count(&c, BLACK), 16);
    let mut thick = Canvas::new(20, 20, WHITE);
    thick.line((5.0, 10.0), (14.0, 10.0), BLACK, 3);
    // The square pen overhangs each end by one pixel.
    assert_eq!(count(&thick, BLACK), 3 * 12);
}

#[test]
fn text_stays_in_its_box_and_marks_unknown_characters() {
    for (text, scale) in [("Hello, 0.25!", 1), ("gjpqy", 2), ("x", 3)] {
        let (w, h) = text_size(text, scale);
        let mut c = Canvas::new(w + 20, h + 20, WHITE);
        let drawn = c.text(10, 10, text, BLACK, scale);
        assert_eq!(drawn, w);
        let mut inside = 0;
        for y in 0..c.height() as i64 {
            for x in 0..c.width() as i64 {
                if c.get(x, y) == Some(BLACK) {
                    let in_box =
                        (10..10 + w as i64).contains(&x) && (10..10 + h as i64).contains(&y);
                    assert!(in_box, "{text:?}: pixel ({x}, {y}) outside the text box");
                    inside += 1;
                }
            }
        }
        assert!(inside > 0, "{text:?} drew nothing");
    }
    let mut a = Canvas::new(20, 12, WHITE);
    let mut b = Canvas::new(20, 12, WHITE);
    a.text(1, 1, "α", BLACK, 1);
    b.text(1, 1, "?", BLACK, 1);
    assert_eq!(a, b);
    // Rotated text: the same number of pixels, in a tall box.
    let (w, h) = text_size("abc", 1);
    let mut up = Canvas::new(h + 4, w + 4, WHITE);
    up.text_up(2, (w + 2) as i64, "abc", BLACK, 1);
    let mut flat = Canvas::new(w + 4, h + 4, WHITE);
    flat.text(2, 2, "abc", BLACK, 1);
    assert_eq!(count(&up, BLACK), count(&flat, BLACK));
}

#[test]
fn tile_grids_scale_each_tile_or_all_tiles() {
    // Four 2 × 3 tiles with very different ranges.
    let tiles: Vec<f32> = (0..4)
        .flat_map(|t| (0..6).map(move |i| (t as f32 + 1.0) * 10f32.powi(t) * i as f32 - 3.0))
        .collect();
    let c = tile_grid(&tiles, 2, 3, 3, 2, 1, TileScale::PerTile);
    assert_eq!((c.width(), c.height()), (1 + 3 * (4 + 1), 1 + 2 * (6 + 1)));
    for t in 0..4 {
        let (x0, y0) = (1 + (t % 3) as i64 * 5, 1 + (t / 3) as i64 * 7);
        assert_eq!(c.get(x0, y0), Some([0; 3]), "tile {t} minimum");
        assert_eq!(c.get(x0 + 2, y0 + 4), Some([255; 3]), "tile {t} maximum");
    }
    // The unused grid cell and the gaps are grey.
    assert_eq!(c.get(12, 10), Some(GREY));
    assert_eq!(c.get(0, 0), Some(GREY));

    let fixed = tile_grid(
        &[0.0, 0.5, 1.0, 2.0],
        2,
        2,
        1,
        1,
        0,
        TileScale::Fixed(0.0, 1.0),
    );
    assert_eq!(
        fixed.pixels(),
        [0, 0, 0, 128, 128, 128, 255, 255, 255, 255, 255, 255]
    );
    // A constant tile and NaN do not panic.
    let flat = tile_grid(
        &[f32::NAN, 2.0, 2.0, 2.0],
        2,
        2,
        1,
        1,
        0,
        TileScale::PerTile,
    );
    assert_eq!(flat.get(0, 0), Some([128; 3]));
}

#[test]
fn ticks_are_round_evenly_spaced_and_inside_the_range() {
    let ranges = [
        (0.0, 1.0),
        (0.0, 0.0734),
        (-1.0, 8.0),
        (1.0, 60.0),
        (0.021, 0.138),
        (-3e5, 7e5),
        (1e-7, 3e-7),
    ];
    for (lo, hi) in ranges {
        for max in [2, 5, 8] {
            let t = nice_ticks(lo, hi, max);
            assert!(
                !t.is_empty() && t.len() <= max,
                "{lo}..{hi} max {max}: {t:?}"
            );
            // With 8 ticks allowed the step is at most 2.5 · span / 7, so at
            // least two multiples fit.
            if max >= 8 {
                assert!(t.len() >= 2, "{lo}..{hi} max {max}: {t:?}");
            }
            if t.len() < 2 {
                continue;
            }
            let step = t[1] - t[0];
            for pair in t.windows(2) {
                assert!(((pair[1] - pair[0]) - step).abs() <= 1e-9 * step.abs().max(1e-300));
            }
            assert!(t[0] >= lo - 1e-9 * step && *t.last().unwrap() <= hi + 1e-9 * step);
            let mant = step / 10f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 5.0, 10.0]
                    .iter()
                    .any(|m| (mant - m).abs() < 1e-6),
                "step {step}"
            );
        }
    }
    assert_eq!(nice_ticks(2.0, 2.0, 5), [2.0]);
    assert_eq!(format_tick(0.30000000000000004, 0.1), "0.3");
    assert_eq!(format_tick(0.08, 0.01), "0.08");
    assert_eq!(format_tick(1500.0, 500.0), "1500");
}

fn sample_chart() -> Chart {
    let mut chart = Chart::new("A chart");
    chart.x_label = "epoch".into();
    chart.y_label = "error".into();
    let pts = |k: f64| (1..=30).map(|e| (e as f64, k / e as f64)).collect();
    chart
        .series
        .push(Series::line("first", PALETTE[0], pts(1.0)));
    chart
        .series
        .push(Series::line("second", PALETTE[1], pts(0.5)));
    chart.series.push(Series::bars(
        "bars",
        PALETTE[2],
        vec![(5.0, 0.3), (6.0, 0.2)],
        0.6,
    ));
    chart.series.push(Series {
        name: "outline".into(),
        color: PALETTE[3],
        kind: SeriesKind::Bars {
            bars: vec![(10.0, 0.5)],
            width: 0.8,
            offset: 0.0,
            outline: true,
        },
    });
    chart
}

#[test]
fn charts_draw_every_series_and_the_legend_deterministically() {
    let chart = sample_chart();
    let c = chart.render(480, 320);
    for color in &PALETTE[..4] {
        assert!(count(&c, *color) > 20, "{color:?} missing");
    }
    assert!(count(&c, BLACK) > 500, "axes and text");
    assert_eq!(c, chart.render(480, 320));
    assert_eq!(c.png_bytes(), chart.render(480, 320).png_bytes());

    // Without a legend fewer series pixels remain (the swatches go).
    let mut bare = chart.clone();
    bare.legend = Legend::None;
    let b = bare.render(480, 320);
    assert!(count(&b, PALETTE[2]) < count(&c, PALETTE[2]));

    let ((x0, x1), (y0, y1)) = chart.ranges();
    assert!(
        x0 <= 1.0 && x1 >= 30.0 && y0 <= 0.0 && y1 >= 1.0,
        "{x0} {x1} {y0} {y1}"
    );
}

#[test]
fn series_stay_inside_the_plot_area() {
    let mut chart = sample_chart();
    // A range much smaller than the data: lines must be clipped, not drawn
    // over the labels.
    chart.x_range = Some((10.0, 12.0));
    chart.y_range = Some((0.0, 0.01));
    chart.legend = Legend::None;
    let c = chart.render(400, 300);
    // Column 0 to 20 holds only the y label; no series colour there.
    for y in 0..300 {
        for x in 0..20 {
            let p = c.get(x, y).unwrap();
            assert!(!PALETTE[..4].contains(&p), "series pixel at ({x}, {y})");
        }
    }
}

#[test]
fn degenerate_charts_do_not_panic() {
    let mut empty = Chart::new("");
    let _ = empty.render(50, 40);
    empty.series.push(Series::line(
        "nan",
        PALETTE[0],
        vec![(f64::NAN, 1.0), (1.0, f64::INFINITY)],
    ));
    empty
        .series
        .push(Series::line("one point", PALETTE[1], vec![(3.0, 3.0)]));
    let _ = empty.render(300, 200);
    // Too small to hold a plot area: only the background.
    let tiny = sample_chart().render(12, 12);
    assert_eq!(tiny.width(), 12);
}

#[test]
#[should_panic(expected = "sides must be")]
fn an_empty_canvas_is_refused() {
    let _ = Canvas::new(0, 5, WHITE);
}
