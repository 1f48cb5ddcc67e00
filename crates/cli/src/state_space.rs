//! The fluid model's state-space picture as SVG: the vector field of (dq/dt, dr/dt) over calls
//! at the server q (log scale) and requests in orbit r, the model's equilibria marked by their
//! stability, the model's trajectory through the triggers, and the simulated path drawn on it.

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use sim_core::fluid::{Arrow, Fluid, Stability, State};
use sim_core::sweep::verdict_rgb;
use sim_core::Verdict;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 640;
/// Arrows per row and per column of the field.
const FIELD: (usize, usize) = (26, 16);
/// An arrow's length in pixels.
const ARROW_PX: f64 = 11.0;

fn rgb([r, g, b]: [u8; 3]) -> RGBColor {
    RGBColor(r, g, b)
}

/// Draws the picture as SVG text. `simulated` is the simulation's `(q, r)` per bucket
/// ([`sim_core::Sim::fluid_trace`]).
pub fn draw(
    name: &str,
    model: &Fluid,
    trajectory: &[State],
    simulated: &[(f64, f64)],
) -> Result<String> {
    let mut svg = String::new();
    draw_into(&mut svg, name, model, trajectory, simulated)?;
    Ok(svg)
}

fn draw_into(
    svg: &mut String,
    name: &str,
    model: &Fluid,
    trajectory: &[State],
    simulated: &[(f64, f64)],
) -> Result<()> {
    let plot = |e| anyhow!("drawing the state space: {e}");
    let equilibria = model.equilibria(model.lambda);
    let (q_hi, r_hi) = model.frame(trajectory, simulated);
    let q_lo = 1.0;
    let floor = |q: f64| q.max(q_lo);

    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(plot)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "State space of \u{201c}{name}\u{201d}: field at λ = {} requests/s",
                model.lambda
            ),
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((q_lo..q_hi).log_scale(), 0.0..r_hi)
        .map_err(plot)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("calls at the server, q (queued and in service; log scale)")
        .y_desc("requests in orbit, r (waiting out a backoff)")
        .draw()
        .map_err(plot)?;

    // The field: each arrow the direction the state moves in, in the picture's own scale.
    let area = chart.plotting_area();
    let (px_w, px_h) = {
        let (x, y) = area.get_pixel_range();
        ((x.end - x.start) as f64, (y.end - y.start) as f64)
    };
    let log_span = (q_hi / q_lo).ln();
    let grey = RGBColor(0x9a, 0xa4, 0xae);
    for arrow in model.field(q_hi, r_hi, FIELD.0, FIELD.1) {
        let Some((ux, uy)) = arrow.offset(px_w, px_h, ARROW_PX) else {
            continue;
        };
        // A pixel offset from the arrow's foot, back in the picture's coordinates.
        let to = |dx: f64, dy: f64| {
            (
                arrow.q * (dx / px_w * log_span).exp(),
                arrow.r + dy / px_h * r_hi,
            )
        };
        let tip = to(ux, uy);
        let [a, b] = Arrow::barbs(ux, uy);
        area.draw(&PathElement::new(
            vec![(arrow.q, arrow.r), tip],
            grey.stroke_width(1),
        ))
        .map_err(plot)?;
        area.draw(&PathElement::new(
            vec![to(a.0, a.1), tip, to(b.0, b.1)],
            grey.stroke_width(1),
        ))
        .map_err(plot)?;
    }

    let sim_colour = rgb(verdict_rgb(Verdict::Metastable));
    let model_colour = RGBColor(0x00, 0x72, 0xB2);
    chart
        .draw_series(LineSeries::new(
            simulated.iter().map(|&(q, r)| (floor(q), r)),
            sim_colour.stroke_width(2),
        ))
        .map_err(plot)?
        .label("simulated path (one point per bucket)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], sim_colour.stroke_width(2)));
    chart
        .draw_series(DashedLineSeries::new(
            trajectory.iter().map(|s| (floor(s.q), s.r)),
            7,
            4,
            model_colour.stroke_width(2),
        ))
        .map_err(plot)?
        .label("model trajectory through the triggers")
        .legend(move |(x, y)| {
            PathElement::new([(x, y), (x + 18, y)], model_colour.stroke_width(2))
        });
    for e in &equilibria {
        let (colour, label) = match e.stability {
            Stability::Stable => (rgb(verdict_rgb(Verdict::Stable)), "stable"),
            Stability::Saddle => (RGBColor(0xE6, 0x9F, 0x00), "saddle"),
            Stability::Unstable => (RGBColor(0xCC, 0x79, 0xA7), "unstable"),
        };
        let at = (floor(e.q), e.r);
        let style = if e.stability == Stability::Stable {
            colour.filled()
        } else {
            colour.stroke_width(3)
        };
        let text = format!("{label}: q = {:.1}, r = {:.2}", e.q, e.r);
        chart
            .draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Circle::new((0, 0), 7, style)
                    + Text::new(text, (8, -22), ("sans-serif", 14).into_font().color(&BLACK)),
            ))
            .map_err(plot)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(plot)?;
    root.present().map_err(plot)?;
    Ok(())
}
