//! The phase diagram of a sweep as SVG: one cell per grid point, coloured by the majority
//! verdict and shaded by how many seeds agree (a pale cell: the seeds disagree; the edge of
//! a metastable region is where they do).

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use sim_core::sweep::{Outcome, Point, Sweep, Threshold};
use sim_core::Verdict;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 640;

/// The Okabe–Ito colour of a verdict (colour-blind safe; the playground's palette).
fn colour(verdict: Verdict) -> RGBColor {
    let [r, g, b] = sim_core::sweep::verdict_rgb(verdict);
    RGBColor(r, g, b)
}

/// `colour` mixed with white by the seeds' agreement (the core's `shade_rgb`).
fn shade(colour: RGBColor, agreement: f64) -> RGBColor {
    let [r, g, b] = sim_core::sweep::shade_rgb([colour.0, colour.1, colour.2], agreement);
    RGBColor(r, g, b)
}

/// Cell edges along one axis: halfway between neighbouring values, and half a step beyond
/// the ends (one value: a unit-wide cell around it).
fn edges(values: &[f64]) -> Vec<f64> {
    match values {
        [] => vec![0.0, 1.0],
        [only] => vec![only - 0.5, only + 0.5],
        _ => {
            let mut out = Vec::with_capacity(values.len() + 1);
            out.push(values[0] - (values[1] - values[0]) / 2.0);
            for pair in values.windows(2) {
                out.push((pair[0] + pair[1]) / 2.0);
            }
            let n = values.len();
            out.push(values[n - 1] + (values[n - 1] - values[n - 2]) / 2.0);
            out
        }
    }
}

/// What a figure says about its grid besides the points: the axes' paths and the seeds per
/// point. A sweep knows them; `metastable merge` reads them from the shards.
pub struct Labels<'a> {
    pub x: &'a str,
    pub y: Option<&'a str>,
    pub seeds: u32,
}

impl<'a> Labels<'a> {
    pub fn of(sweep: &'a Sweep) -> Labels<'a> {
        Labels {
            x: &sweep.x.path,
            y: sweep.y.as_ref().map(|y| y.path.as_str()),
            seeds: sweep.seeds,
        }
    }
}

/// The phase diagram as SVG text (written by the caller, every error checked:
/// [`crate::output::write_file`]).
pub fn draw(sweep: &Sweep, points: &[Point], outcomes: &[Outcome]) -> Result<String> {
    draw_labelled(&Labels::of(sweep), points, outcomes)
}

/// [`draw`] from the labels alone.
pub fn draw_labelled(labels: &Labels, points: &[Point], outcomes: &[Outcome]) -> Result<String> {
    let mut svg = String::new();
    draw_into(&mut svg, labels, points, outcomes)?;
    Ok(svg)
}

fn draw_into(
    svg: &mut String,
    labels: &Labels,
    points: &[Point],
    outcomes: &[Outcome],
) -> Result<()> {
    let plot = |e| anyhow!("drawing the phase diagram: {e}");
    // One value per grid index (whole-number fields may repeat a value after rounding:
    // their cells are then empty, never misplaced).
    let xs: Vec<f64> = points.iter().filter(|p| p.iy == 0).map(|p| p.x).collect();
    let ys: Vec<f64> = match &labels.y {
        Some(_) => points.iter().filter(|p| p.ix == 0).map(|p| p.y).collect(),
        None => vec![0.0],
    };
    let (x_edges, y_edges) = (edges(&xs), edges(&ys));
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(plot)?;
    let (chart_area, legend_area) = root.split_horizontally(WIDTH - 170);
    let y_label = labels.y.unwrap_or("");
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(
            format!(
                "Phase diagram: majority verdict of {} seed{} per point",
                labels.seeds,
                if labels.seeds == 1 { "" } else { "s" }
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(if labels.y.is_some() { 64 } else { 20 })
        .build_cartesian_2d(
            x_edges[0]..x_edges[x_edges.len() - 1],
            y_edges[0]..y_edges[y_edges.len() - 1],
        )
        .map_err(plot)?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_mesh().x_desc(labels.x).y_desc(y_label);
    if labels.y.is_none() {
        mesh.disable_y_axis();
    }
    mesh.draw().map_err(plot)?;
    for (point, outcome) in points.iter().zip(outcomes) {
        let (ix, iy) = (point.ix, if labels.y.is_some() { point.iy } else { 0 });
        let cell = [
            (x_edges[ix], y_edges[iy]),
            (x_edges[ix + 1], y_edges[iy + 1]),
        ];
        let fill = shade(colour(outcome.verdict), outcome.agreement);
        chart
            .draw_series(std::iter::once(Rectangle::new(cell, fill.filled())))
            .map_err(plot)?;
    }

    // The legend: every verdict that occurs, and what the shade means.
    let present: Vec<Verdict> = Verdict::ALL
        .into_iter()
        .filter(|v| outcomes.iter().any(|o| o.verdict == *v))
        .collect();
    let text = ("sans-serif", 14).into_font();
    let mut y = 60;
    legend_area
        .draw(&Text::new("majority verdict", (8, y - 24), text.clone()))
        .map_err(plot)?;
    for verdict in present {
        legend_area
            .draw(&Rectangle::new(
                [(8, y), (26, y + 18)],
                colour(verdict).filled(),
            ))
            .map_err(plot)?;
        legend_area
            .draw(&Text::new(verdict.as_str(), (34, y + 2), text.clone()))
            .map_err(plot)?;
        y += 26;
    }
    y += 16;
    legend_area
        .draw(&Text::new("seeds agreeing", (8, y), text.clone()))
        .map_err(plot)?;
    for (i, share) in [1.0, 0.75, 0.5].into_iter().enumerate() {
        let top = y + 22 + 26 * i as i32;
        legend_area
            .draw(&Rectangle::new(
                [(8, top), (26, top + 18)],
                shade(colour(Verdict::Metastable), share).filled(),
            ))
            .map_err(plot)?;
        legend_area
            .draw(&Text::new(
                format!("{:.0}%", share * 100.0),
                (34, top + 2),
                text.clone(),
            ))
            .map_err(plot)?;
    }
    root.present().map_err(plot)?;
    Ok(())
}

/// The tipping curve: the smallest trigger that tips the system, per load, with the region
/// above it (where a trigger causes a metastable failure) shaded.
pub fn draw_tipping(
    sweep: &Sweep,
    loads: &[Point],
    thresholds: &[Threshold],
    range: (f64, f64),
) -> Result<String> {
    draw_tipping_labelled(&Labels::of(sweep), loads, thresholds, range)
}

/// [`draw_tipping`] from the labels alone (`y`: the trigger's path).
pub fn draw_tipping_labelled(
    labels: &Labels,
    loads: &[Point],
    thresholds: &[Threshold],
    range: (f64, f64),
) -> Result<String> {
    let mut svg = String::new();
    draw_tipping_into(&mut svg, labels, loads, thresholds, range)?;
    Ok(svg)
}

fn draw_tipping_into(
    svg: &mut String,
    labels: &Labels,
    loads: &[Point],
    thresholds: &[Threshold],
    (low, high): (f64, f64),
) -> Result<()> {
    let plot = |e| anyhow!("drawing the tipping curve: {e}");
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(plot)?;
    let xs: Vec<f64> = loads.iter().map(|p| p.x).collect();
    let x_edges = edges(&xs);
    let trigger = labels.y.unwrap_or("trigger");
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Minimum trigger that causes a metastable failure vs offered load",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(
            x_edges[0]..x_edges[x_edges.len() - 1],
            low.min(high - 1e-9)..high,
        )
        .map_err(plot)?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(format!(
            "smallest {trigger} that tips ≥ half of {} seeds",
            labels.seeds
        ))
        .draw()
        .map_err(plot)?;
    let metastable = colour(Verdict::Metastable);
    // Above the curve: the vulnerable region (each load's column from its threshold up).
    for (i, threshold) in thresholds.iter().enumerate() {
        if let Some(t) = threshold.tipping() {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x_edges[i], t), (x_edges[i + 1], high)],
                    shade(metastable, 0.3).filled(),
                )))
                .map_err(plot)?;
        }
    }
    let curve: Vec<(f64, f64)> = loads
        .iter()
        .zip(thresholds)
        .filter_map(|(p, t)| Some((p.x, t.tipping()?)))
        .collect();
    chart
        .draw_series(LineSeries::new(curve.clone(), metastable.stroke_width(2)))
        .map_err(plot)?
        .label("minimum tipping trigger")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], metastable.stroke_width(2)));
    chart
        .draw_series(
            curve
                .iter()
                .map(|&p| Circle::new(p, 4, metastable.filled())),
        )
        .map_err(plot)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(plot)?;
    root.present().map_err(plot)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_meet_halfway_between_grid_values() {
        assert_eq!(edges(&[1.0, 2.0, 4.0]), vec![0.5, 1.5, 3.0, 5.0]);
        assert_eq!(edges(&[3.0]), vec![2.5, 3.5]);
    }

    #[test]
    fn disagreement_pales_the_colour() {
        let full = shade(RGBColor(0, 0, 0), 1.0);
        let three_quarters = shade(RGBColor(0, 0, 0), 0.75);
        let half = shade(RGBColor(0, 0, 0), 0.5);
        assert_eq!(full, RGBColor(0, 0, 0));
        assert!(
            0 < three_quarters.0 && three_quarters.0 < half.0 && half.0 < 255,
            "{half:?}"
        );
    }
}
