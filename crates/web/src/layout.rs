//! Where blocks sit in the editor.
//!
//! A block's place is its optional `ui: {x, y}` (SPEC §3), kept through every round trip.
//! Presets carry their own; a scenario without (a hand-written file, a CLI scenario) is laid
//! out in layers from the clients to the servers, so it reads left to right like a call path.

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A block's box in editor coordinates.
pub const BLOCK_W: f64 = 150.0;
pub const BLOCK_H: f64 = 60.0;
/// The editor's grid: places snap to it.
pub const GRID: f64 = 10.0;
/// Space kept free around a block when a new one is placed.
const GAP: f64 = 20.0;
/// Distance between layers and between blocks of one layer.
const LAYER_DX: f64 = 210.0;
const ROW_DY: f64 = 90.0;
const MARGIN: f64 = 30.0;

/// The block's top-left corner, if it has one.
pub fn position(block: &Value) -> Option<(f64, f64)> {
    let ui = block.get("ui")?;
    let x = ui.get("x")?.as_f64()?;
    let y = ui.get("y")?.as_f64()?;
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

/// Gives every block without a place one, by layers: clients first, then each block one
/// layer right of the deepest block calling it. Blocks that have a place keep it.
pub fn fill_missing(doc: &mut Value) {
    let Some(blocks) = doc.get_mut("blocks").and_then(Value::as_array_mut) else {
        return;
    };
    if blocks.iter().all(|b| position(b).is_some()) {
        return;
    }
    let ids: Vec<String> = blocks
        .iter()
        .map(|b| {
            b.get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    // Inserted, not collected: `collect` would link the standard library's stable sort.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        index.insert(id.as_str(), i);
    }
    let downstream: Vec<Vec<usize>> = blocks
        .iter()
        .map(|b| {
            targets(b)
                .iter()
                .filter_map(|t| index.get(t.as_str()).copied())
                .collect()
        })
        .collect();
    // Longest path from any block nobody calls; bounded by the block count so a cycle (which
    // the validator reports) cannot loop for ever.
    let n = blocks.len();
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for from in 0..n {
            for &to in &downstream[from] {
                if layer[to] < layer[from] + 1 && layer[from] + 1 < n {
                    layer[to] = layer[from] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Rows taken in each layer (a layer is below the block count).
    let mut rows_used = vec![0usize; n];
    for (i, block) in blocks.iter_mut().enumerate() {
        if position(block).is_some() {
            continue;
        }
        let row = &mut rows_used[layer[i]];
        let x = MARGIN + LAYER_DX * layer[i] as f64;
        let y = MARGIN + ROW_DY * *row as f64;
        *row += 1;
        if let Some(obj) = block.as_object_mut() {
            obj.insert("ui".into(), json!({"x": x, "y": y}));
        }
    }
}

/// The ids a block calls (its `to`, one or many).
pub fn targets(block: &Value) -> Vec<String> {
    match block.get("to") {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// A place snapped to the grid (never left of or above the plane's origin).
pub fn snap(x: f64, y: f64) -> (f64, f64) {
    let snap1 = |v: f64| ((v / GRID).round() * GRID).max(0.0);
    (snap1(x), snap1(y))
}

/// Whether a block placed at `(x, y)` would overlap (or touch, within `GAP`) one of
/// `blocks`.
pub fn overlaps(blocks: &[Value], x: f64, y: f64) -> bool {
    blocks
        .iter()
        .filter_map(position)
        .any(|(bx, by)| (x - bx).abs() < BLOCK_W + GAP && (y - by).abs() < BLOCK_H + GAP)
}

/// The free place nearest to `(x, y)` (snapped to the grid) where a new block overlaps no
/// block: the place itself when it is free, else the closest free point of rings around it.
pub fn free_spot_near(blocks: &[Value], x: f64, y: f64) -> (f64, f64) {
    let (x, y) = snap(x, y);
    if !overlaps(blocks, x, y) {
        return (x, y);
    }
    let step = 3.0 * GRID;
    // Rationale: the search is bounded (rings up to ~1,200 px away, and only for scenarios of
    // a size people draw), so a hostile document of thousands of blocks cannot stall a paste;
    // past that a block goes below everything, which is always free.
    const MAX_RINGS: i64 = 40;
    const MAX_SEARCHED_BLOCKS: usize = 300;
    if blocks.len() <= MAX_SEARCHED_BLOCKS {
        for ring in 1..=MAX_RINGS {
            let mut best: Option<(f64, (f64, f64))> = None;
            for i in -ring..=ring {
                for j in -ring..=ring {
                    if i.abs().max(j.abs()) != ring {
                        continue;
                    }
                    let (cx, cy) = (x + i as f64 * step, y + j as f64 * step);
                    if cx < 0.0 || cy < 0.0 || overlaps(blocks, cx, cy) {
                        continue;
                    }
                    let d = (cx - x).powi(2) + (cy - y).powi(2);
                    if best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, (cx, cy)));
                    }
                }
            }
            if let Some((_, place)) = best {
                return place;
            }
        }
    }
    let bottom = blocks
        .iter()
        .filter_map(position)
        .map(|(_, by)| by + BLOCK_H + GAP)
        .fold(y, f64::max);
    snap(x, bottom + GRID)
}

/// A free spot for a new block: right of everything in the top row band.
pub fn free_spot(doc: &Value) -> (f64, f64) {
    let blocks = doc.get("blocks").and_then(Value::as_array);
    let right = blocks
        .into_iter()
        .flatten()
        .filter_map(position)
        .map(|(x, _)| x + BLOCK_W)
        .fold(0.0f64, f64::max);
    let count = blocks.map_or(0, Vec::len);
    if right + LAYER_DX > 900.0 {
        // Wrap into a lower row rather than growing the canvas sideways for ever.
        (
            MARGIN + (count % 4) as f64 * LAYER_DX,
            MARGIN + ROW_DY * (2 + count / 4) as f64,
        )
    } else if count == 0 {
        (MARGIN, MARGIN + ROW_DY)
    } else {
        (right + LAYER_DX - BLOCK_W, MARGIN + ROW_DY)
    }
}

/// The view that fits every block with a margin, `(x0, y0, width, height)`, never smaller
/// than a few blocks' worth (one block is not blown up to fill the canvas), centred on the
/// blocks.
pub fn fit_box(blocks: &[Value]) -> (f64, f64, f64, f64) {
    const MIN_W: f64 = 560.0;
    const MIN_H: f64 = 220.0;
    let places: Vec<(f64, f64)> = blocks.iter().filter_map(position).collect();
    if places.is_empty() {
        return (0.0, 0.0, MIN_W, MIN_H);
    }
    let left = places.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) - MARGIN;
    let top = places.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) - MARGIN;
    let right = places
        .iter()
        .map(|p| p.0 + BLOCK_W)
        .fold(f64::NEG_INFINITY, f64::max)
        + MARGIN;
    let bottom = places
        .iter()
        .map(|p| p.1 + BLOCK_H)
        .fold(f64::NEG_INFINITY, f64::max)
        + MARGIN;
    let (w, h) = ((right - left).max(MIN_W), (bottom - top).max(MIN_H));
    let cx = (left + right) / 2.0;
    let cy = (top + bottom) / 2.0;
    (cx - w / 2.0, cy - h / 2.0, w, h)
}

/// A view zoomed by `factor` (> 1 zooms in) around the plane point `(px, py)`, which stays
/// where it is on screen; the zoom is bounded (a view 80 to 20,000 units wide).
pub fn zoom_box(view: (f64, f64, f64, f64), factor: f64, px: f64, py: f64) -> (f64, f64, f64, f64) {
    let (x0, y0, w, h) = view;
    let factor = if factor.is_finite() && factor > 0.0 {
        factor
    } else {
        1.0
    };
    let new_w = (w / factor).clamp(80.0, 20_000.0);
    let k = new_w / w;
    let new_h = h * k;
    (px - (px - x0) * k, py - (py - y0) * k, new_w, new_h)
}

/// The part of the editor's plane to show, `(x0, y0, width, height)`: every block with a
/// margin, starting at the top-left corner, or lower when every block sits lower (presets
/// placed in the middle of a tall plane should not open on empty space).
pub fn view_box(doc: &Value) -> (f64, f64, f64, f64) {
    let places: Vec<(f64, f64)> = doc
        .get("blocks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(position)
        .collect();
    let top = places.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let y0 = if top.is_finite() {
        (top - MARGIN).max(0.0)
    } else {
        0.0
    };
    let (mut w, mut h) = (600.0f64, y0 + 2.0 * ROW_DY + BLOCK_H);
    for (x, y) in places {
        w = w.max(x + BLOCK_W + MARGIN);
        h = h.max(y + BLOCK_H + MARGIN);
    }
    (0.0, y0, w, h - y0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shows_every_block_and_zoom_keeps_the_point_under_the_pointer() {
        let blocks = vec![
            json!({"id": "a", "ui": {"x": 40, "y": 120}}),
            json!({"id": "b", "ui": {"x": 1980, "y": 600}}),
        ];
        let (x0, y0, w, h) = fit_box(&blocks);
        assert!(x0 <= 40.0 && y0 <= 120.0, "({x0}, {y0})");
        assert!(x0 + w >= 1980.0 + BLOCK_W && y0 + h >= 600.0 + BLOCK_H);
        let one = fit_box(&blocks[..1]);
        assert!(one.2 >= 560.0, "one block is not blown up: {one:?}");
        let view = (0.0, 0.0, 1000.0, 500.0);
        let zoomed = zoom_box(view, 2.0, 250.0, 100.0);
        assert_eq!(zoomed.2, 500.0);
        // The point keeps its fraction of the view: 25% across, 20% down.
        assert!(((250.0 - zoomed.0) / zoomed.2 - 0.25).abs() < 1e-9);
        assert!(((100.0 - zoomed.1) / zoomed.3 - 0.2).abs() < 1e-9);
        assert_eq!(zoom_box(view, 1e9, 0.0, 0.0).2, 80.0, "bounded");
        assert_eq!(zoom_box(view, f64::NAN, 0.0, 0.0), view);
    }

    #[test]
    fn a_new_place_is_near_and_free() {
        let blocks = vec![
            json!({"id": "a", "ui": {"x": 30, "y": 120}}),
            json!({"id": "b", "ui": {"x": 240, "y": 120}}),
        ];
        assert_eq!(free_spot_near(&blocks, 600.0, 122.0), (600.0, 120.0));
        let (x, y) = free_spot_near(&blocks, 35.0, 125.0);
        assert!(!overlaps(&blocks, x, y), "({x}, {y}) overlaps");
        assert!(
            (x - 30.0).abs() + (y - 120.0).abs() < 200.0,
            "({x}, {y}) is far from the wanted place"
        );
        // Many copies on one spot each find their own place.
        let mut placed = blocks.clone();
        for i in 0..30 {
            let (x, y) = free_spot_near(&placed, 30.0, 120.0);
            assert!(!overlaps(&placed, x, y));
            placed.push(json!({"id": format!("c{i}"), "ui": {"x": x, "y": y}}));
        }
    }

    #[test]
    fn layers_follow_the_call_path() {
        let mut doc = json!({"blocks": [
            {"id": "api", "kind": "server"},
            {"id": "lb", "kind": "balancer", "to": ["api", "db"]},
            {"id": "users", "kind": "client", "to": "lb"},
            {"id": "db", "kind": "server"},
        ]});
        fill_missing(&mut doc);
        let x = |i: usize| position(&doc["blocks"][i]).unwrap().0;
        assert!(x(2) < x(1) && x(1) < x(0), "{doc}");
        assert_eq!(x(0), x(3));
        let y = |i: usize| position(&doc["blocks"][i]).unwrap().1;
        assert_ne!(y(0), y(3), "two blocks of one layer must not overlap");
    }

    #[test]
    fn the_view_starts_just_above_the_highest_block() {
        let doc = json!({"blocks": [{"id": "a", "ui": {"x": 40, "y": 120}},
            {"id": "b", "ui": {"x": 700, "y": 300}}]});
        let (x0, y0, w, h) = view_box(&doc);
        assert_eq!((x0, y0), (0.0, 120.0 - MARGIN));
        assert_eq!(w, 700.0 + BLOCK_W + MARGIN);
        assert_eq!(y0 + h, 300.0 + BLOCK_H + MARGIN);
        assert_eq!(view_box(&json!({"blocks": []})).1, 0.0);
    }

    #[test]
    fn placed_blocks_keep_their_place_and_cycles_terminate() {
        let mut doc = json!({"blocks": [
            {"id": "a", "kind": "retry", "to": "b", "ui": {"x": 5, "y": 7}},
            {"id": "b", "kind": "retry", "to": "a"},
        ]});
        fill_missing(&mut doc);
        assert_eq!(position(&doc["blocks"][0]), Some((5.0, 7.0)));
        assert!(position(&doc["blocks"][1]).is_some());
    }

    #[test]
    fn every_preset_is_already_laid_out_without_overlaps() {
        for preset in sim_core::presets::ALL {
            let doc: Value = serde_json::from_str(preset.json).unwrap();
            let places: Vec<(f64, f64)> = doc["blocks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| position(b).unwrap_or_else(|| panic!("{} has no ui", preset.name)))
                .collect();
            for (i, a) in places.iter().enumerate() {
                for b in &places[i + 1..] {
                    let apart = (a.0 - b.0).abs() >= BLOCK_W || (a.1 - b.1).abs() >= BLOCK_H;
                    assert!(apart, "{}: blocks overlap at {a:?} and {b:?}", preset.name);
                }
            }
        }
    }
}
