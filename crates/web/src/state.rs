//! The playground's state: one scenario document and one [`Action`] enum reduced by one pure
//! function ([`AppState::reduce`]).
//!
//! The document (`doc`) is the scenario's JSON and the single source of truth: the editor,
//! the inspector, the timeline and (later) the URL and the exports all read and write it.
//! It may be invalid while someone is typing; every change is validated by the core's one
//! validator, the problems are kept beside it, and the last valid [`Scenario`] is what runs.
//! The live simulation is not in here: it belongs to the run loop (see `app::runner`), which
//! restarts whenever `run_id` changes.

use crate::analysis::AnalysisConfig;
use crate::fields::{self, new_block, new_trigger};
use crate::layout;
use serde_json::{json, Value};
use sim_core::kind::Calls;
use sim_core::{presets, set_path, BlockKind, Location, Problem, Scenario};
use std::rc::Rc;

/// How fast a run advances, in simulated seconds per wall second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Speed {
    X1,
    X10,
    X100,
    /// As fast as the machine goes (the default: charts follow edits at once).
    #[default]
    Max,
}

impl Speed {
    pub const ALL: [Speed; 4] = [Speed::X1, Speed::X10, Speed::X100, Speed::Max];

    /// Simulated seconds per wall second (`None`: unlimited).
    pub fn factor(self) -> Option<f64> {
        match self {
            Speed::X1 => Some(1.0),
            Speed::X10 => Some(10.0),
            Speed::X100 => Some(100.0),
            Speed::Max => None,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Speed::X1 => "1",
            Speed::X10 => "10",
            Speed::X100 => "100",
            Speed::Max => "max",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Speed::X1 => "1× real time",
            Speed::X10 => "10×",
            Speed::X100 => "100×",
            Speed::Max => "fastest",
        }
    }

    pub fn from_id(id: &str) -> Option<Speed> {
        Speed::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// What the inspector shows.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Selection {
    /// The scenario's own fields (name, duration, bucket).
    #[default]
    Scenario,
    Block(String),
    /// Several blocks (shift+click, a box drawn with shift held): moved, copied, duplicated
    /// and deleted together.
    Blocks(Vec<String>),
    Trigger(usize),
    /// The link from one block to another.
    Link {
        from: String,
        to: String,
    },
}

/// Which part of the document an inspector field belongs to.
#[derive(Clone, Debug, PartialEq)]
pub enum Owner {
    Scenario,
    Block(String),
    Trigger(usize),
}

/// Everything the user can do to the state.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    LoadPreset(String),
    /// Replace the whole document: a new page of history (the URL records it as a new entry).
    Load(Value),
    /// Replace the whole document from history (back, forward): no new entry.
    Restore(Value),
    /// An imported file's text: a scenario in JSON or a share link (see [`crate::link::import`]).
    Import {
        name: String,
        text: String,
    },
    /// Show a message (a link or a file that could not be opened).
    Notify(String),
    /// Start from an empty canvas.
    New,
    AddBlock(String),
    MoveBlock {
        id: String,
        x: f64,
        y: f64,
    },
    /// Several blocks moved together: each to its new place.
    MoveBlocks(Vec<(String, f64, f64)>),
    Connect {
        from: String,
        to: String,
    },
    Disconnect {
        from: String,
        to: String,
    },
    DeleteBlock(String),
    RenameBlock {
        from: String,
        to: String,
    },
    /// An inspector edit: `raw` as [`fields::Field::raw_value`] makes it.
    SetField {
        owner: Owner,
        path: String,
        raw: String,
    },
    AddTrigger(String),
    SetTriggerKind {
        index: usize,
        kind: String,
    },
    MoveTrigger {
        index: usize,
        at_s: f64,
        for_s: Option<f64>,
    },
    DeleteTrigger(usize),
    /// Delete whatever is selected (the Delete key).
    DeleteSelected,
    Select(Selection),
    SetSeed(u64),
    TogglePlay,
    Play,
    Pause,
    /// Advance a paused run by one step.
    Step,
    /// Restart the run from t = 0.
    Reset,
    SetSpeed(Speed),
    SetDark(bool),
    DismissNotice,
    /// Show the analysis view (a new history entry), with its settings for this scenario.
    OpenAnalysis,
    /// Back to the playground (a new history entry).
    CloseAnalysis,
    /// The analysis view's settings edited.
    SetAnalysis(AnalysisConfig),
    /// The view of a history entry (back, forward): no new entry.
    RestoreView(Option<AnalysisConfig>),
    /// A point of the analysis opened in the playground: its document, a new entry.
    OpenPoint(Value),
    /// Back to the document before the last change (Ctrl+Z).
    Undo,
    /// Forward again to the document an undo left (Ctrl+Shift+Z, Ctrl+Y).
    Redo,
    /// A gesture ended (a drag let go, a field left): the next change of the same thing is
    /// a new step of history instead of part of the last one.
    EndGesture,
    /// Blocks pasted from the clipboard: scenario JSON, a list of blocks or one block. Their
    /// ids are made unique and their links among themselves follow.
    Paste(String),
    /// A copy of the selected block beside it (Ctrl+D).
    Duplicate,
    /// How many seeds each run has (1: one run; more: the others run in workers and the
    /// charts draw their median and 95% band).
    SetSeeds(u32),
    /// Keep the current scenario as the baseline the charts draw beside every later run.
    PinBaseline,
    /// Pin this scenario document as the baseline (a fix opened against its original).
    PinDoc(Value),
    /// Forget the baseline.
    Unpin,
}

/// Most seeds the playground runs at once.
pub const MAX_SEEDS: u32 = 20;

/// A pinned run: the scenario the charts draw beside the current one (SPEC §9).
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub doc: Value,
    pub scenario: Rc<Scenario>,
}

/// How many earlier documents undo can go back to.
pub const HISTORY_LIMIT: usize = 100;
/// How much text the undo history may hold in all: a hostile or huge document (an import is
/// up to 1 MiB) keeps fewer steps rather than growing the tab.
pub const HISTORY_BYTES: usize = 16 << 20;

/// One step of undo history: a document and what was selected in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub doc: Value,
    pub selection: Selection,
    /// What the change away from this document did, in words ("delete api").
    pub label: String,
    /// The document's size as JSON text, for [`HISTORY_BYTES`].
    pub bytes: usize,
}

/// Undo and redo, owned by the reducer: documents, not DOM states. Entries are shared
/// (`Rc`), so cloning the state for each action copies pointers, not documents.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct History {
    undo: Vec<Rc<Snapshot>>,
    redo: Vec<Rc<Snapshot>>,
    /// The gesture the newest undo entry belongs to (a drag of one block, edits of one
    /// field): its further changes join that entry instead of making new ones.
    gesture: Option<String>,
}

impl History {
    /// What undo would take back, if anything.
    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    /// What redo would do again, if anything.
    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }
}

impl Action {
    /// For an action that may change the document: the words undo shows for it and, for
    /// the changes that come in runs (a drag, a slider, typing), the key that joins a run
    /// into one step. `None` for actions that never change the document, and for moving
    /// through history itself.
    fn history_entry(&self) -> Option<(String, Option<String>)> {
        let one = |label: String| Some((label, None));
        match self {
            Action::LoadPreset(name) => one(format!("open preset {name}")),
            Action::Load(_) | Action::OpenPoint(_) => one("open scenario".into()),
            Action::Import { name, .. } => one(format!("import {name}")),
            Action::New => one("new scenario".into()),
            Action::AddBlock(kind) => one(format!("add {kind}")),
            Action::MoveBlock { id, .. } => {
                Some((format!("move {id}"), Some(format!("move {id}"))))
            }
            Action::MoveBlocks(moves) => {
                let ids: Vec<&str> = moves.iter().map(|(id, _, _)| id.as_str()).collect();
                let label = format!("move {}", ids.join(", "));
                Some((label.clone(), Some(label)))
            }
            Action::Connect { from, to } => one(format!("connect {from} → {to}")),
            Action::Disconnect { from, to } => one(format!("remove link {from} → {to}")),
            Action::DeleteBlock(id) => one(format!("delete {id}")),
            Action::RenameBlock { from, to } => one(format!("rename {from} to {to}")),
            Action::SetField { owner, path, .. } => {
                let label = match owner {
                    Owner::Scenario => format!("edit {path}"),
                    Owner::Block(id) => format!("edit {id}.{path}"),
                    Owner::Trigger(i) => format!("edit trigger {} {path}", i + 1),
                };
                Some((label.clone(), Some(label)))
            }
            Action::AddTrigger(kind) => one(format!("add {kind} trigger")),
            Action::SetTriggerKind { index, .. } => {
                one(format!("change trigger {} kind", index + 1))
            }
            Action::MoveTrigger { index, .. } => {
                let label = format!("move trigger {}", index + 1);
                Some((label.clone(), Some(label)))
            }
            Action::DeleteTrigger(index) => one(format!("delete trigger {}", index + 1)),
            Action::DeleteSelected => one("delete".into()),
            Action::SetSeed(_) => Some(("change seed".into(), Some("seed".into()))),
            Action::Paste(_) => one("paste".into()),
            Action::Duplicate => one("duplicate".into()),
            Action::Restore(_)
            | Action::Notify(_)
            | Action::Select(_)
            | Action::TogglePlay
            | Action::Play
            | Action::Pause
            | Action::Step
            | Action::Reset
            | Action::SetSpeed(_)
            | Action::SetDark(_)
            | Action::DismissNotice
            | Action::OpenAnalysis
            | Action::CloseAnalysis
            | Action::SetAnalysis(_)
            | Action::RestoreView(_)
            | Action::Undo
            | Action::Redo
            | Action::EndGesture
            | Action::SetSeeds(_)
            | Action::PinBaseline
            | Action::PinDoc(_)
            | Action::Unpin => None,
        }
    }
}

/// The playground's state.
#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    /// The scenario document: the single source of truth.
    pub doc: Value,
    /// The validator's problems with `doc` (empty when it is valid).
    pub problems: Vec<Problem>,
    /// The last valid scenario: what runs and what the charts show.
    pub scenario: Rc<Scenario>,
    /// Bumped whenever the run must start again (the scenario changed, a reset).
    pub run_id: u64,
    /// Bumped by each press of "step".
    pub steps: u64,
    pub playing: bool,
    pub speed: Speed,
    pub selection: Selection,
    /// The preset the document came from, while it is unchanged.
    pub preset: Option<String>,
    pub dark: bool,
    /// The last inspector edit: a validator problem without a field (a type error) is shown
    /// at the field that caused it.
    pub last_edit: Option<(Owner, String)>,
    /// A one-line message for the user (an action that could not be done).
    pub notice: Option<String>,
    /// Bumped when a different scenario is opened (a preset, a new canvas, an import): the
    /// address bar then gets a new history entry; other edits replace the current one.
    pub nav: u64,
    /// The analysis view's settings while it is shown (`None`: the playground).
    pub analysis: Option<AnalysisConfig>,
    /// Undo and redo.
    pub history: History,
    /// Whether the notice is about a change that undo takes back (it then offers Undo).
    pub notice_undo: bool,
    /// Seeds per run (1 to [`MAX_SEEDS`]).
    pub seeds: u32,
    /// The pinned baseline, if any.
    pub baseline: Option<Baseline>,
}

/// The preset whose scenario this is, if it is one unchanged (a link to a preset).
fn preset_equal_to(scenario: &Scenario) -> Option<String> {
    presets::ALL
        .iter()
        .find(|p| Scenario::from_json(p.json).is_ok_and(|s| s == *scenario))
        .map(|p| p.name.to_string())
}

/// The scenario the page opens with.
pub const DEFAULT_PRESET: &str = presets::DEFAULT.name;

impl Default for AppState {
    fn default() -> AppState {
        AppState::of_preset(&presets::DEFAULT)
    }
}

impl AppState {
    /// The state showing a preset (the default scenario if there is no such preset).
    pub fn with_preset(name: &str) -> AppState {
        AppState::of_preset(presets::find(name).unwrap_or(&presets::DEFAULT))
    }

    /// The state showing `preset`.
    fn of_preset(preset: &presets::Preset) -> AppState {
        let doc: Value = serde_json::from_str(preset.json).unwrap_or(Value::Null);
        let scenario = Scenario::from_value(doc.clone()).unwrap_or_else(|_| empty_scenario());
        AppState {
            doc,
            problems: Vec::new(),
            scenario: Rc::new(scenario),
            run_id: 0,
            steps: 0,
            playing: true,
            speed: Speed::Max,
            selection: Selection::Scenario,
            preset: Some(preset.name.to_string()),
            dark: false,
            last_edit: None,
            notice: None,
            nav: 0,
            analysis: None,
            history: History::default(),
            notice_undo: false,
            seeds: 1,
            baseline: None,
        }
    }

    /// The block with this id in the document.
    pub fn block(&self, id: &str) -> Option<&Value> {
        blocks(&self.doc).iter().find(|b| block_id(b) == id)
    }

    /// The preset whose caption the document carries although it is no longer that preset
    /// (edited, or a point opened from an analysis): the page then says the caption is the
    /// preset's. Its display name.
    pub fn caption_origin(&self) -> Option<String> {
        if self.preset.is_some() {
            return None;
        }
        let caption = self.doc.get("caption")?.as_str()?;
        // The presets' captions, read once (the page asks on every render).
        static CAPTIONS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
        let captions = CAPTIONS.get_or_init(|| {
            presets::ALL
                .iter()
                .filter_map(|p| {
                    let doc: Value = serde_json::from_str(p.json).ok()?;
                    let caption = doc.get("caption")?.as_str()?.to_string();
                    let name = doc.get("name").and_then(Value::as_str).unwrap_or(p.name);
                    Some((caption, name.to_string()))
                })
                .collect()
        });
        captions
            .iter()
            .find(|(c, _)| c == caption)
            .map(|(_, name)| name.clone())
    }

    /// The ids of the selected blocks (one, several or none).
    pub fn selected_ids(&self) -> Vec<String> {
        match &self.selection {
            Selection::Block(id) => vec![id.clone()],
            Selection::Blocks(ids) => ids.clone(),
            _ => Vec::new(),
        }
    }

    /// The selected blocks as they are in the document (what copy and duplicate take).
    pub fn selected_blocks(&self) -> Vec<Value> {
        let ids = self.selected_ids();
        self.blocks()
            .iter()
            .filter(|b| ids.iter().any(|id| id == block_id(b)))
            .cloned()
            .collect()
    }

    /// The document's blocks.
    pub fn blocks(&self) -> &[Value] {
        blocks(&self.doc)
    }

    /// The document's triggers.
    pub fn triggers(&self) -> &[Value] {
        self.doc
            .get("triggers")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// The problems located at a block (by id), a trigger (by index) or the scenario.
    pub fn problems_of(&self, owner: &Owner) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| owns(owner, &self.doc, &p.location))
            .collect()
    }

    /// The validator's messages for one field of an owner. A problem without a field (a
    /// value of the wrong type) is shown at the field edited last.
    pub fn field_problems(&self, owner: &Owner, path: &str) -> Vec<String> {
        self.problems
            .iter()
            .filter(|p| owns(owner, &self.doc, &p.location))
            .filter(|p| {
                p.field == path
                    || p.field.starts_with(&format!("{path}."))
                    || (p.field.is_empty()
                        && self
                            .last_edit
                            .as_ref()
                            .is_some_and(|(o, f)| o == owner && f == path))
            })
            .map(|p| {
                // A problem without a field is shown at the field edited last: said with
                // that field's label.
                let mut p = p.clone();
                if p.field.is_empty() {
                    p.field = path.to_string();
                }
                fields::plain_field_message(&p, &self.doc)
            })
            .collect()
    }

    /// The next state. Pure: the same state and action always give the same result.
    ///
    /// Every action that changes the document leaves the document before it in the undo
    /// history (runs of one gesture as one step); undo and redo move through it.
    pub fn reduce(&self, action: Action) -> AppState {
        let entry = action.history_entry();
        let mut next = match action {
            Action::Undo => self.travel(true),
            Action::Redo => self.travel(false),
            Action::EndGesture => {
                let mut next = self.clone();
                next.history.gesture = None;
                next
            }
            Action::Select(_) => {
                let mut next = self.apply(action);
                next.history.gesture = None;
                next
            }
            action => self.apply(action),
        };
        if let Some((label, gesture)) = entry {
            if next.doc != self.doc {
                let joins = gesture.is_some() && gesture == self.history.gesture;
                if !joins {
                    next.history.undo.push(Rc::new(Snapshot {
                        doc: self.doc.clone(),
                        selection: self.selection.clone(),
                        label,
                        bytes: self.doc.to_string().len(),
                    }));
                    let mut total: usize = next.history.undo.iter().map(|s| s.bytes).sum();
                    while next.history.undo.len() > HISTORY_LIMIT
                        || (total > HISTORY_BYTES && next.history.undo.len() > 1)
                    {
                        total -= next.history.undo.remove(0).bytes;
                    }
                }
                next.history.redo.clear();
                next.history.gesture = gesture;
            }
        }
        next
    }

    /// Opens `doc` (a link's, or history's): no new page of history.
    pub fn restore(&mut self, doc: Value) {
        self.load(doc);
        self.preset = preset_equal_to(&self.scenario);
    }

    /// [`AppState::restore`] without asking which preset `doc` is (which parses every
    /// preset): embed mode's, which has no gallery to mark it in.
    pub fn restore_unnamed(&mut self, doc: Value) {
        self.load(doc);
        self.preset = None;
    }

    /// How many seeds run (1 to [`MAX_SEEDS`]).
    pub fn set_seeds(&mut self, seeds: u32) {
        self.seeds = seeds.clamp(1, MAX_SEEDS);
    }

    /// Pins `doc` as the baseline, or says why it cannot be.
    pub fn pin_doc(&mut self, doc: Value) {
        match Scenario::from_value(doc.clone()) {
            Ok(scenario) => {
                self.baseline = Some(Baseline {
                    doc,
                    scenario: Rc::new(scenario),
                })
            }
            Err(e) => self.notice = Some(format!("That baseline cannot be pinned: {e}")),
        }
    }

    /// The next state in embed mode, which sets fields with its sliders, plays, resets and
    /// unpins a baseline; every other action leaves the state as it is. The embed binary
    /// reduces with this, so it does not carry the editor's actions (`reduce` is the
    /// playground's). Its actions change what `reduce` changes, bar the undo history
    /// (tested).
    pub fn reduce_embed(&self, action: Action) -> AppState {
        let mut next = self.clone();
        next.notice = None;
        next.notice_undo = false;
        match action {
            Action::SetField { owner, path, raw } => next.set_field(owner, &path, &raw),
            Action::TogglePlay => next.playing = !next.playing,
            Action::Play => next.playing = true,
            Action::Pause => next.playing = false,
            Action::Reset => next.run_id += 1,
            Action::Unpin => next.baseline = None,
            _ => return self.clone(),
        }
        next
    }

    /// One step back (`undo`) or forward through the history.
    fn travel(&self, undo: bool) -> AppState {
        let mut next = self.clone();
        next.notice = None;
        next.notice_undo = false;
        let (from, to) = if undo {
            (&mut next.history.undo, &mut next.history.redo)
        } else {
            (&mut next.history.redo, &mut next.history.undo)
        };
        let Some(snapshot) = from.pop() else {
            return next;
        };
        to.push(Rc::new(Snapshot {
            doc: self.doc.clone(),
            selection: self.selection.clone(),
            label: snapshot.label.clone(),
            bytes: self.doc.to_string().len(),
        }));
        next.history.gesture = None;
        next.doc = snapshot.doc.clone();
        next.selection = snapshot.selection.clone();
        next.last_edit = None;
        next.revalidate(true);
        next.preset = if next.problems.is_empty() {
            preset_equal_to(&next.scenario)
        } else {
            None
        };
        next
    }

    /// The next state for an action other than moving through history.
    fn apply(&self, action: Action) -> AppState {
        let mut next = self.clone();
        next.notice = None;
        next.notice_undo = false;
        match action {
            Action::LoadPreset(name) => match presets::find(&name) {
                Some(preset) => {
                    let doc = serde_json::from_str(preset.json).unwrap_or(Value::Null);
                    next.load(doc);
                    next.preset = Some(preset.name.to_string());
                    next.nav += 1;
                }
                None => next.notice = Some(format!("there is no preset named \"{name}\"")),
            },
            Action::Load(doc) => {
                next.load(doc);
                next.nav += 1;
            }
            Action::Restore(doc) => next.restore(doc),
            Action::Import { name, text } => match crate::link::import(&name, &text) {
                Ok(doc) => {
                    next.load(doc);
                    next.nav += 1;
                    next.notice = Some(format!("Opened {name}."));
                    next.notice_undo = true;
                    if let Some(first) = next.problems.first() {
                        let first = fields::plain_problem(first, &next.doc);
                        let count = next.problems.len();
                        next.notice = Some(format!(
                            "Imported {name} with {count} problem{}; the first: {first}. Fix {} in the inspector.",
                            if count == 1 { "" } else { "s" },
                            if count == 1 { "it" } else { "them" },
                        ));
                    }
                }
                Err(message) => next.notice = Some(message),
            },
            Action::Notify(message) => next.notice = Some(message),
            Action::New => {
                next.load(json!({"version": 1, "name": "Untitled", "seed": 1,
                    "duration_s": 120, "bucket_s": 1, "blocks": [], "triggers": []}));
                next.nav += 1;
            }
            Action::AddBlock(kind) => next.add_block(&kind),
            Action::MoveBlock { id, x, y } => {
                let (x, y) = layout::snap(x, y);
                if let Some(block) = block_mut(&mut next.doc, &id) {
                    block["ui"] = json!({"x": x, "y": y});
                }
                // A block's place is presentation only: the run goes on undisturbed.
                next.revalidate(false);
            }
            Action::MoveBlocks(moves) => {
                for (id, x, y) in moves {
                    let (x, y) = layout::snap(x, y);
                    if let Some(block) = block_mut(&mut next.doc, &id) {
                        block["ui"] = json!({"x": x, "y": y});
                    }
                }
                // A block's place is presentation only: the run goes on undisturbed.
                next.revalidate(false);
            }
            Action::Connect { from, to } => next.connect(&from, &to),
            Action::Disconnect { from, to } => {
                if let Some(block) = block_mut(&mut next.doc, &from) {
                    remove_target(block, &to);
                }
                next.selection = Selection::Block(from);
                next.changed();
            }
            Action::DeleteBlock(id) => next.delete_block(&id),
            Action::RenameBlock { from, to } => next.rename(&from, to.trim()),
            Action::SetField { owner, path, raw } => next.set_field(owner, &path, &raw),
            Action::AddTrigger(kind) => next.add_trigger(&kind),
            Action::SetTriggerKind { index, kind } => {
                if let Some(old) = next.triggers().get(index).cloned() {
                    let at_s = old.get("at_s").and_then(Value::as_f64).unwrap_or(0.0);
                    let for_s = fields::trigger_length_s(&old).unwrap_or(10.0);
                    let wanted = fields::trigger_targets(&kind);
                    let old_target = old.get("target").and_then(Value::as_str).unwrap_or("");
                    let target = if next
                        .block(old_target)
                        .is_some_and(|b| wanted.contains(&block_kind(b)))
                    {
                        old_target.to_string()
                    } else {
                        next.first_block_of(&wanted).unwrap_or_default()
                    };
                    match new_trigger(&kind, &target, at_s, for_s) {
                        Some(trigger) => {
                            next.doc["triggers"][index] = trigger;
                            next.changed();
                        }
                        None => next.notice = Some(format!("there is no trigger kind \"{kind}\"")),
                    }
                }
            }
            Action::MoveTrigger { index, at_s, for_s } => {
                if let Some(t) = next.doc.get_mut("triggers").and_then(|t| t.get_mut(index)) {
                    t["at_s"] = json!(round_tenth(at_s.max(0.0)));
                    if let Some(for_s) = for_s {
                        // `for_s`, or a staircase's step length.
                        fields::set_trigger_length(t, for_s);
                    }
                    next.changed();
                }
            }
            Action::DeleteTrigger(index) => next.delete_trigger(index),
            Action::DeleteSelected => match next.selection.clone() {
                Selection::Block(id) => next.delete_block(&id),
                Selection::Blocks(ids) => {
                    for id in &ids {
                        next.delete_block(id);
                    }
                    next.notice = Some(format!("Deleted {} blocks.", ids.len()));
                    next.notice_undo = true;
                }
                Selection::Trigger(index) => next.delete_trigger(index),
                Selection::Link { from, to } => {
                    return next.apply(Action::Disconnect { from, to });
                }
                Selection::Scenario => {}
            },
            Action::Select(selection) => {
                next.selection = match selection {
                    Selection::Blocks(mut ids) => {
                        ids.dedup();
                        match ids.len() {
                            0 => Selection::Scenario,
                            1 => Selection::Block(ids.remove(0)),
                            _ => Selection::Blocks(ids),
                        }
                    }
                    other => other,
                }
            }
            Action::SetSeed(seed) => {
                next.doc["seed"] = json!(seed);
                next.changed();
            }
            Action::TogglePlay => next.playing = !next.playing,
            Action::Play => next.playing = true,
            Action::Pause => next.playing = false,
            Action::Step => {
                next.playing = false;
                next.steps += 1;
            }
            Action::Reset => next.run_id += 1,
            Action::SetSpeed(speed) => next.speed = speed,
            Action::SetSeeds(seeds) => next.set_seeds(seeds),
            // The document is pinned (it is the scenario while it has no problems): the
            // page never serialises a scenario, whose serialiser the first visit would carry.
            Action::PinBaseline => {
                if !next.problems.is_empty() {
                    next.notice = Some(
                        "The scenario has problems (see the inspector): fix them to pin it as the baseline."
                            .into(),
                    );
                } else if !next.scenario.blocks.is_empty() {
                    next.baseline = Some(Baseline {
                        doc: next.doc.clone(),
                        scenario: next.scenario.clone(),
                    });
                }
            }
            Action::PinDoc(doc) => next.pin_doc(doc),
            Action::Unpin => next.baseline = None,
            Action::SetDark(dark) => next.dark = dark,
            Action::DismissNotice => {}
            Action::OpenAnalysis => {
                if next.analysis.is_none() {
                    next.analysis = Some(AnalysisConfig::default_for(&next.doc));
                    // The playground's run waits: the analysis wants every core.
                    next.playing = false;
                    next.nav += 1;
                }
            }
            Action::CloseAnalysis => {
                if next.analysis.take().is_some() {
                    next.nav += 1;
                }
            }
            // Only while the view is open: a field committed as the view closes (a browser
            // commits a focused field when it leaves the page) must not reopen it.
            Action::SetAnalysis(config) => {
                if next.analysis.is_some() {
                    next.analysis = Some(config);
                }
            }
            Action::RestoreView(config) => next.analysis = config,
            Action::OpenPoint(doc) => {
                next.load(doc);
                next.analysis = None;
                next.playing = true;
                next.nav += 1;
            }
            Action::Paste(text) => next.paste(&text),
            Action::Duplicate => {
                let copies = next.selected_blocks();
                if !copies.is_empty() {
                    next.insert_blocks(copies);
                }
            }
            // Handled by `reduce`.
            Action::Undo | Action::Redo | Action::EndGesture => {}
        }
        // Another scenario under the analysis view: settings that fit it.
        if next.analysis.is_some() && next.nav != self.nav && self.analysis.is_some() {
            next.analysis = Some(AnalysisConfig::default_for(&next.doc));
        }
        next
    }

    fn load(&mut self, mut doc: Value) {
        layout::fill_missing(&mut doc);
        self.doc = doc;
        self.selection = Selection::Scenario;
        self.last_edit = None;
        self.preset = None;
        self.playing = true;
        self.revalidate(true);
        if !self.problems.is_empty() {
            // Nothing of the previous scenario may stay on screen for a new document (an
            // empty canvas, an import with problems): until it becomes valid, nothing runs.
            self.scenario = Rc::new(empty_scenario());
        }
        // A loaded scenario always starts a fresh run, even when it equals the last one.
        self.run_id += 1;
    }

    /// Something the run depends on changed: validate and, if valid, re-run.
    fn changed(&mut self) {
        self.preset = None;
        self.revalidate(true);
    }

    /// Validates the document. When valid it becomes the scenario that runs (re-run if
    /// `rerun` and it differs from the one running); otherwise its problems are kept and the
    /// last valid scenario stays on screen.
    fn revalidate(&mut self, rerun: bool) {
        match Scenario::from_value(self.doc.clone()) {
            Ok(scenario) => {
                self.problems.clear();
                if rerun && scenario != *self.scenario {
                    self.run_id += 1;
                }
                self.scenario = Rc::new(scenario);
            }
            Err(e) => self.problems = e.problems(),
        }
    }

    fn first_block_of(&self, kinds: &[&str]) -> Option<String> {
        self.blocks()
            .iter()
            .find(|b| kinds.contains(&block_kind(b)))
            .map(|b| block_id(b).to_string())
    }

    fn add_block(&mut self, kind: &str) {
        let id = unique_id(&self.doc, kind);
        let (x, y) = layout::free_spot(&self.doc);
        let (x, y) = layout::free_spot_near(self.blocks(), x, y);
        let Some(block) = new_block(kind, &id, x, y) else {
            self.notice = Some(format!("there is no block kind \"{kind}\""));
            return;
        };
        if !self.doc.get("blocks").is_some_and(Value::is_array) {
            self.doc["blocks"] = json!([]);
        }
        if let Some(list) = self.doc["blocks"].as_array_mut() {
            list.push(block);
        }
        // A block added while a link is selected goes into the link: from → new → to.
        if let Selection::Link { from, to } = self.selection.clone() {
            if !fields::receives_calls(kind) {
                self.notice = Some(format!(
                    "A {kind} cannot go into a link: a {kind} makes requests and takes no calls."
                ));
            } else {
                self.insert_into_link(&id, &from, &to);
                return;
            }
        }
        // Rationale: building a chain is the common case, so a new block hangs off the
        // selected block's free output, placed to its right.
        if let Selection::Block(selected) = self.selection.clone() {
            let free = self.block(&selected).is_some_and(|b| {
                let (has_output, many) = fields::outputs(block_kind(b));
                has_output && (many || layout::targets(b).is_empty())
            });
            if free {
                if let Some((sx, sy)) = self.block(&selected).and_then(layout::position) {
                    let others: Vec<Value> = self
                        .blocks()
                        .iter()
                        .filter(|b| block_id(b) != id)
                        .cloned()
                        .collect();
                    let (x, y) = layout::free_spot_near(&others, sx + 210.0, sy);
                    if let Some(b) = block_mut(&mut self.doc, &id) {
                        b["ui"] = json!({"x": x, "y": y});
                    }
                }
                self.connect(&selected, &id);
            }
        }
        self.selection = Selection::Block(id);
        self.changed();
    }

    /// Puts the new block `id` into the link `from → to`: between the two on the canvas,
    /// `from` now calling it, and it calling `to`.
    fn insert_into_link(&mut self, id: &str, from: &str, to: &str) {
        let places = (
            self.block(from).and_then(layout::position),
            self.block(to).and_then(layout::position),
        );
        if let (Some((fx, fy)), Some((tx, ty))) = places {
            let others: Vec<Value> = self
                .blocks()
                .iter()
                .filter(|b| block_id(b) != id)
                .cloned()
                .collect();
            let (x, y) = layout::free_spot_near(&others, (fx + tx) / 2.0, (fy + ty) / 2.0 + 20.0);
            if let Some(b) = block_mut(&mut self.doc, id) {
                b["ui"] = json!({"x": x, "y": y});
            }
        }
        if let Some(block) = block_mut(&mut self.doc, from) {
            retarget(block, to, id);
        }
        self.connect(id, to);
        self.selection = Selection::Block(id.to_string());
        self.changed();
    }

    fn connect(&mut self, from: &str, to: &str) {
        if from == to {
            self.notice = Some(format!("\"{from}\" cannot call itself"));
            return;
        }
        let Some(target_kind) = self.block(to).map(|b| block_kind(b).to_string()) else {
            return;
        };
        if !fields::receives_calls(&target_kind) {
            self.notice = Some(format!(
                "\"{to}\" is a {target_kind}: a {target_kind} makes requests and takes no calls"
            ));
            return;
        }
        let Some(block) = block_mut(&mut self.doc, from) else {
            return;
        };
        match BlockKind::parse(block_kind(block)).map(BlockKind::calls) {
            Some(Calls::Many) => {
                if !block.get("to").is_some_and(Value::is_array) {
                    block["to"] = json!([]);
                }
                if let Some(list) = block["to"].as_array_mut() {
                    if !list.iter().any(|v| v.as_str() == Some(to)) {
                        list.push(json!(to));
                    }
                }
            }
            Some(Calls::One | Calls::Optional) => block["to"] = json!(to),
            None => return,
        }
        self.selection = Selection::Link {
            from: from.to_string(),
            to: to.to_string(),
        };
        self.changed();
    }

    fn delete_block(&mut self, id: &str) {
        let Some(kind) = self.block(id).map(|b| block_kind(b).to_string()) else {
            return;
        };
        let mut links = self.block(id).map_or(0, |b| layout::targets(b).len());
        let mut triggers = 0;
        if let Some(list) = self.doc.get_mut("blocks").and_then(Value::as_array_mut) {
            list.retain(|b| block_id(b) != id);
            for block in list.iter_mut() {
                let before = layout::targets(block).len();
                remove_target(block, id);
                links += before - layout::targets(block).len();
            }
        }
        if let Some(list) = self.doc.get_mut("triggers").and_then(Value::as_array_mut) {
            let before = list.len();
            list.retain(|t| t.get("target").and_then(Value::as_str) != Some(id));
            triggers = before - list.len();
        }
        let mut also = Vec::new();
        if links > 0 {
            also.push(plural(links, "link"));
        }
        if triggers > 0 {
            also.push(plural(triggers, "trigger"));
        }
        self.notice = Some(if also.is_empty() {
            format!("Deleted the {kind} \"{id}\".")
        } else {
            format!(
                "Deleted the {kind} \"{id}\" and its {}.",
                also.join(" and ")
            )
        });
        self.notice_undo = true;
        self.selection = Selection::Scenario;
        self.changed();
    }

    /// Pastes blocks from the clipboard's text (see [`Action::Paste`]).
    fn paste(&mut self, text: &str) {
        // Rationale: the clipboard is anyone's text; a huge paste is refused unread.
        const MAX_PASTE_BYTES: usize = 1 << 20;
        if text.len() > MAX_PASTE_BYTES {
            self.notice = Some("The clipboard holds more than 1 MiB: nothing was pasted.".into());
            return;
        }
        let blocks = match serde_json::from_str::<Value>(text.trim()) {
            Ok(Value::Object(doc)) if doc.contains_key("blocks") => doc
                .get("blocks")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            Ok(block @ Value::Object(_)) => vec![block],
            Ok(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let blocks: Vec<Value> = blocks
            .into_iter()
            .filter(|b| b.is_object() && b.get("kind").is_some_and(Value::is_string))
            .collect();
        if blocks.is_empty() {
            self.notice = Some(
                "The clipboard holds no blocks: copy a block (Ctrl+C) or a scenario's JSON first."
                    .into(),
            );
            return;
        }
        self.insert_blocks(blocks);
    }

    /// Adds copies of blocks: each gets a free id (`api` → `api2`) and a free place near its
    /// old one; links among the copies follow the new ids, links to blocks that exist stay,
    /// links to ids that do not exist are dropped. The copies end up selected (the first).
    fn insert_blocks(&mut self, pasted: Vec<Value>) {
        if !self.doc.get("blocks").is_some_and(Value::is_array) {
            self.doc["blocks"] = json!([]);
        }
        let mut renamed: Vec<(String, String)> = Vec::new();
        let mut copies = Vec::new();
        for mut block in pasted {
            let old = block_id(&block).to_string();
            let base = if old.is_empty() {
                block_kind(&block).to_string()
            } else {
                old.clone()
            };
            let mut id = unique_id(&self.doc, &base);
            while copies.iter().any(|c: &Value| block_id(c) == id) {
                id = format!("{id}-copy");
            }
            block["id"] = json!(id);
            renamed.push((old, id.clone()));
            let (x, y) = layout::position(&block).unwrap_or((0.0, 0.0));
            let taken: Vec<Value> = self.blocks().iter().chain(copies.iter()).cloned().collect();
            let (nx, ny) =
                layout::free_spot_near(&taken, x + layout::GRID * 2.0, y + layout::GRID * 2.0);
            block["ui"] = json!({"x": nx, "y": ny});
            copies.push(block);
        }
        let exists = |doc: &Value, id: &str| blocks(doc).iter().any(|b| block_id(b) == id);
        for block in &mut copies {
            let follow = |target: &str| -> Option<String> {
                renamed
                    .iter()
                    .find(|(old, _)| old == target)
                    .map(|(_, new)| new.clone())
                    .or_else(|| exists(&self.doc, target).then(|| target.to_string()))
            };
            match block.get("to").cloned() {
                Some(Value::String(t)) if !t.is_empty() => match follow(&t) {
                    Some(to) => block["to"] = json!(to),
                    None => remove_target(block, &t),
                },
                Some(Value::Array(items)) => {
                    let kept: Vec<String> = items
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(follow)
                        .collect();
                    block["to"] = json!(kept);
                }
                _ => {}
            }
        }
        let ids: Vec<String> = copies.iter().map(|b| block_id(b).to_string()).collect();
        if let Some(list) = self.doc["blocks"].as_array_mut() {
            list.extend(copies);
        }
        self.selection = match ids.len() {
            0 => Selection::Scenario,
            1 => Selection::Block(ids[0].clone()),
            _ => Selection::Blocks(ids),
        };
        self.changed();
    }

    fn delete_trigger(&mut self, index: usize) {
        if let Some(list) = self.doc.get_mut("triggers").and_then(Value::as_array_mut) {
            if index < list.len() {
                list.remove(index);
            }
        }
        self.selection = Selection::Scenario;
        self.changed();
    }

    fn rename(&mut self, from: &str, to: &str) {
        if to == from {
            return;
        }
        if to.is_empty() {
            self.notice = Some("a block needs an id".into());
            return;
        }
        if self.block(to).is_some() {
            self.notice = Some(format!("another block already has the id \"{to}\""));
            return;
        }
        if let Some(list) = self.doc.get_mut("blocks").and_then(Value::as_array_mut) {
            for block in list.iter_mut() {
                if block_id(block) == from {
                    block["id"] = json!(to);
                }
                retarget(block, from, to);
            }
        }
        if let Some(list) = self.doc.get_mut("triggers").and_then(Value::as_array_mut) {
            for t in list.iter_mut() {
                if t.get("target").and_then(Value::as_str) == Some(from) {
                    t["target"] = json!(to);
                }
            }
        }
        self.selection = Selection::Block(to.to_string());
        self.changed();
    }

    fn set_field(&mut self, owner: Owner, path: &str, raw: &str) {
        let full_path = match &owner {
            Owner::Scenario => path.to_string(),
            Owner::Block(id) => format!("{id}.{path}"),
            Owner::Trigger(index) => format!("triggers.{index}.{path}"),
        };
        if let Err(message) = set_path(&mut self.doc, &full_path, raw) {
            self.notice = Some(message);
            return;
        }
        if let Owner::Block(id) = &owner {
            if let Some(block) = block_mut(&mut self.doc, id) {
                tidy_block(block, path);
            }
        }
        self.last_edit = Some((owner, path.to_string()));
        self.changed();
    }

    fn add_trigger(&mut self, kind: &str) {
        let wanted = fields::trigger_targets(kind);
        if wanted.is_empty() {
            self.notice = Some(format!("there is no trigger kind \"{kind}\""));
            return;
        }
        let Some(target) = self.first_block_of(&wanted) else {
            self.notice = Some(format!(
                "a {kind} trigger needs a {} block first",
                wanted.join(" or ")
            ));
            return;
        };
        let duration = self.scenario.duration_s;
        let Some(trigger) = new_trigger(kind, &target, duration * 0.2, duration * 0.05) else {
            return;
        };
        if !self.doc.get("triggers").is_some_and(Value::is_array) {
            self.doc["triggers"] = json!([]);
        }
        let index = match self.doc["triggers"].as_array_mut() {
            Some(list) => {
                list.push(trigger);
                list.len() - 1
            }
            None => return,
        };
        self.selection = Selection::Trigger(index);
        self.changed();
    }
}

/// After a field edit, remove the fields the new state of the block forbids (switching a
/// client to closed loop drops its rate, and gives it users), so a mode switch is one edit.
fn tidy_block(block: &mut Value, path: &str) {
    let Some(obj) = block.as_object_mut() else {
        return;
    };
    if path == "mode" {
        if obj.get("mode").and_then(Value::as_str) == Some("closed") {
            obj.remove("rate");
            obj.remove("arrival");
            obj.entry("users").or_insert(json!(10));
            obj.entry("think_s").or_insert(json!(1.0));
        } else {
            obj.remove("users");
            obj.remove("think_s");
            obj.entry("rate").or_insert(json!(50));
        }
    }
    // A `null` left by an emptied optional field means "absent".
    obj.retain(|_, v| !v.is_null());
    for nested in ["service", "backoff"] {
        if let Some(Value::Object(inner)) = obj.get_mut(nested) {
            inner.retain(|_, v| !v.is_null());
        }
    }
}

/// "1 link", "2 links".
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn round_tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn empty_scenario() -> Scenario {
    Scenario {
        version: 1,
        name: String::new(),
        caption: None,
        expect: None,
        seed: 1,
        duration_s: 1.0,
        bucket_s: 1.0,
        blocks: Vec::new(),
        triggers: Vec::new(),
    }
}

fn blocks(doc: &Value) -> &[Value] {
    doc.get("blocks")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn block_mut<'a>(doc: &'a mut Value, id: &str) -> Option<&'a mut Value> {
    doc.get_mut("blocks")?
        .as_array_mut()?
        .iter_mut()
        .find(|b| block_id(b) == id)
}

/// Why a typed id cannot be a block's new id, in words (`None`: it can). `others` are the
/// other blocks' ids.
pub fn id_problem(typed: &str, others: &[String]) -> Option<String> {
    if typed.is_empty() {
        Some("A block needs an id: type a name such as \"api\"".into())
    } else if others.iter().any(|o| o == typed) {
        Some(format!("Another block is already called \"{typed}\""))
    } else if typed.len() > 64 {
        Some("An id may have at most 64 characters".into())
    } else if let Some(c) = typed
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        let c = if c == ' ' {
            "a space".to_string()
        } else {
            format!("\"{c}\"")
        };
        Some(format!(
            "An id may only have letters, digits, \"_\" and \"-\": this one has {c}"
        ))
    } else {
        None
    }
}

/// A block's id ("" when missing).
pub fn block_id(block: &Value) -> &str {
    block.get("id").and_then(Value::as_str).unwrap_or("")
}

/// A block's kind ("" when missing).
pub fn block_kind(block: &Value) -> &str {
    block.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// Makes a block that calls `old` call `new` instead (in its `to`, one or many).
fn retarget(block: &mut Value, old: &str, new: &str) {
    match block.get_mut("to") {
        Some(Value::String(s)) if s == old => *s = new.to_string(),
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                if item.as_str() == Some(old) {
                    *item = json!(new);
                }
            }
        }
        _ => {}
    }
}

fn remove_target(block: &mut Value, id: &str) {
    match block.get_mut("to") {
        Some(Value::String(s)) if s == id => {
            if BlockKind::parse(block_kind(block)).map(BlockKind::calls) == Some(Calls::Optional) {
                if let Some(obj) = block.as_object_mut() {
                    obj.remove("to");
                }
            } else {
                block["to"] = json!("");
            }
        }
        Some(Value::Array(items)) => items.retain(|v| v.as_str() != Some(id)),
        _ => {}
    }
}

/// The validator's location strings for an owner (a block may be reported by id or, when
/// its id is missing, by index).
/// Whether a problem's location is this owner: a block by its place in the document (the
/// core names it by index whatever its id), a trigger by its index.
fn owns(owner: &Owner, doc: &Value, location: &Location) -> bool {
    match (owner, location) {
        (Owner::Scenario, Location::Scenario) => true,
        (Owner::Block(id), Location::Block { index, .. }) => {
            blocks(doc).get(*index).is_some_and(|b| block_id(b) == id)
        }
        (Owner::Trigger(i), Location::Trigger { index, .. }) => i == index,
        _ => false,
    }
}

/// `kind`, `kind2`, `kind3`… whichever is free first.
fn unique_id(doc: &Value, kind: &str) -> String {
    let taken = |id: &str| blocks(doc).iter().any(|b| block_id(b) == id);
    if !taken(kind) {
        return kind.to_string();
    }
    (2..)
        .map(|n| format!("{kind}{n}"))
        .find(|id| !taken(id))
        .unwrap_or_else(|| kind.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{Sim, Verdict};

    fn run(state: &AppState) -> Verdict {
        let mut sim = Sim::new(&state.scenario).unwrap();
        sim.run();
        sim.report().verdict
    }

    #[test]
    fn the_page_opens_on_the_retry_storm() {
        let state = AppState::default();
        assert_eq!(state.preset.as_deref(), Some("retry-storm"));
        assert!(state.problems.is_empty());
        assert_eq!(run(&state), Verdict::Metastable);
    }

    #[test]
    fn opening_another_scenario_is_a_new_history_entry_and_edits_are_not() {
        let state = AppState::default();
        let edited = state.reduce(Action::SetSeed(7));
        assert_eq!(edited.nav, state.nav, "an edit rewrites the current entry");
        let preset = edited.reduce(Action::LoadPreset("cold-cache".into()));
        assert_eq!(preset.nav, state.nav + 1);
        assert_eq!(preset.reduce(Action::New).nav, state.nav + 2);
        let back = preset.reduce(Action::Restore(state.doc.clone()));
        assert_eq!(back.nav, preset.nav, "back and forward add no entry");
        assert_eq!(
            back.preset.as_deref(),
            Some("retry-storm"),
            "a preset is recognised"
        );
        assert_ne!(back.run_id, preset.run_id, "and runs afresh");
    }

    #[test]
    fn an_import_opens_a_scenario_or_says_why_not() {
        let state = AppState::default();
        let cold = presets::find("cold-cache").unwrap().json;
        let imported = state.reduce(Action::Import {
            name: "cold.json".into(),
            text: cold.into(),
        });
        assert_eq!(*imported.scenario, Scenario::from_json(cold).unwrap());
        assert_eq!(imported.notice.as_deref(), Some("Opened cold.json."));
        assert_eq!(imported.nav, state.nav + 1);

        let with_problems = state.reduce(Action::Import {
            name: "bad.json".into(),
            text: cold.replace("\"workers\": 11", "\"workers\": 0"),
        });
        assert_eq!(
            with_problems.problems.len(),
            1,
            "{:?}",
            with_problems.problems
        );
        let notice = with_problems.notice.unwrap();
        assert!(
            notice.starts_with(
                "Imported bad.json with 1 problem; the first: The server \"db\": Workers must be between 1 and 1,000,000 (got 0)"
            ),
            "{notice}"
        );
        assert!(
            with_problems.scenario.blocks.is_empty(),
            "nothing of the old run stays"
        );

        let refused = state.reduce(Action::Import {
            name: "notes.txt".into(),
            text: "hello".into(),
        });
        assert_eq!(refused.doc, state.doc, "a refused file changes nothing");
        assert_eq!(refused.run_id, state.run_id);
        assert!(refused.notice.unwrap().starts_with("notes.txt is neither"));
    }

    #[test]
    fn one_retry_per_request_heals_the_storm() {
        let state = AppState::default();
        let next = state.reduce(Action::SetField {
            owner: Owner::Block("retries".into()),
            path: "max_attempts".into(),
            raw: "1".into(),
        });
        assert!(next.problems.is_empty(), "{:?}", next.problems);
        assert!(next.run_id > state.run_id, "an edit must re-run");
        assert_eq!(next.preset, None);
        assert_eq!(run(&next), Verdict::Recovered);
    }

    #[test]
    fn a_bad_value_shows_the_validator_message_and_keeps_the_last_valid_run() {
        let state = AppState::default();
        let owner = Owner::Block("api".into());
        let next = state.reduce(Action::SetField {
            owner: owner.clone(),
            path: "service.mean_s".into(),
            raw: "-1".into(),
        });
        assert_eq!(next.run_id, state.run_id);
        assert_eq!(next.scenario, state.scenario);
        let messages = next.field_problems(&owner, "service.mean_s");
        assert_eq!(
            messages,
            vec!["Mean service must be more than 0 (got -1)".to_string()]
        );
        // Text in a number field: the core names the field of serde's type error.
        let next = state.reduce(Action::SetField {
            owner: owner.clone(),
            path: "workers".into(),
            raw: "\"many\"".into(),
        });
        let messages = next.field_problems(&owner, "workers");
        assert_eq!(
            messages,
            vec!["Workers must be a whole number, 0 or more (got \"many\")".to_string()]
        );
    }

    #[test]
    fn building_client_retry_server_from_nothing_runs() {
        let mut state = AppState::default().reduce(Action::New);
        assert!(!state.problems.is_empty(), "an empty scenario is refused");
        assert!(
            state.scenario.blocks.is_empty(),
            "nothing of the retry storm may keep running on an empty canvas"
        );
        state = state.reduce(Action::AddBlock("client".into()));
        // Deselect the client, so the retry does not chain from it: connect it by hand below.
        state = state.reduce(Action::Select(Selection::Scenario));
        state = state.reduce(Action::AddBlock("retry".into()));
        state = state.reduce(Action::AddBlock("server".into()));
        state = state.reduce(Action::Connect {
            from: "client".into(),
            to: "retry".into(),
        });
        assert!(state.problems.is_empty(), "{:?}", state.problems);
        assert_eq!(state.block("retry").unwrap()["to"], "server");
        assert_eq!(run(&state), Verdict::Stable);
    }

    #[test]
    fn new_blocks_chain_from_the_selected_block() {
        let mut state = AppState::default().reduce(Action::New);
        for kind in ["client", "cache", "balancer", "server"] {
            state = state.reduce(Action::AddBlock(kind.into()));
        }
        assert_eq!(state.block("client").unwrap()["to"], "cache");
        assert_eq!(state.block("cache").unwrap()["to"], "balancer");
        assert_eq!(state.block("balancer").unwrap()["to"], json!(["server"]));
        assert!(state.problems.is_empty(), "{:?}", state.problems);
    }

    #[test]
    fn deleting_a_block_removes_its_links_and_triggers() {
        let state = AppState::default().reduce(Action::DeleteBlock("users".into()));
        assert!(state.block("users").is_none());
        assert!(state.triggers().is_empty());
        let state = AppState::default().reduce(Action::Select(Selection::Link {
            from: "retries".into(),
            to: "api".into(),
        }));
        let state = state.reduce(Action::DeleteSelected);
        assert_eq!(state.block("retries").unwrap()["to"], "");
        assert!(state
            .problems_of(&Owner::Block("retries".into()))
            .iter()
            .any(|p| p.field == "to"));
    }

    #[test]
    fn renaming_a_block_follows_its_links_and_triggers() {
        let state = AppState::default().reduce(Action::RenameBlock {
            from: "users".into(),
            to: "people".into(),
        });
        assert!(state.problems.is_empty(), "{:?}", state.problems);
        assert_eq!(state.triggers()[0]["target"], "people");
        let clash = state.reduce(Action::RenameBlock {
            from: "people".into(),
            to: "api".into(),
        });
        assert!(clash.notice.is_some());
        assert!(clash.block("people").is_some());
    }

    #[test]
    fn moving_a_block_does_not_restart_the_run() {
        let state = AppState::default();
        let next = state.reduce(Action::MoveBlock {
            id: "api".into(),
            x: 500.0,
            y: 300.0,
        });
        assert_eq!(next.run_id, state.run_id);
        assert_eq!(
            next.block("api").unwrap()["ui"],
            json!({"x": 500.0, "y": 300.0})
        );
    }

    #[test]
    fn a_staircase_is_added_resized_through_its_steps_and_changed_to_a_spike() {
        let mut state = AppState::default();
        state = state.reduce(Action::AddTrigger("load_steps".into()));
        assert!(state.problems.is_empty(), "{:?}", state.problems);
        let added = state.triggers()[1].clone();
        assert_eq!(added["target"], "users");
        assert!(added.get("for_s").is_none());
        // Dragging its right edge stretches its steps.
        state = state.reduce(Action::MoveTrigger {
            index: 1,
            at_s: 100.0,
            for_s: Some(60.0),
        });
        assert_eq!(state.triggers()[1]["step_s"], json!(20.0));
        assert!(state.triggers()[1].get("for_s").is_none());
        assert!(state.problems.is_empty(), "{:?}", state.problems);
        // Another kind in its place lasts as long as it did.
        state = state.reduce(Action::SetTriggerKind {
            index: 1,
            kind: "load_spike".into(),
        });
        assert_eq!(state.triggers()[1]["for_s"], json!(60.0));
        assert!(state.problems.is_empty(), "{:?}", state.problems);
    }

    #[test]
    fn triggers_are_added_moved_resized_retargeted_and_deleted() {
        let mut state = AppState::default();
        state = state.reduce(Action::AddTrigger("latency".into()));
        assert_eq!(state.triggers().len(), 2);
        assert_eq!(state.selection, Selection::Trigger(1));
        assert_eq!(state.triggers()[1]["target"], "api");
        state = state.reduce(Action::MoveTrigger {
            index: 1,
            at_s: 100.04,
            for_s: Some(20.0),
        });
        assert_eq!(state.triggers()[1]["at_s"], json!(100.0));
        assert_eq!(state.triggers()[1]["for_s"], json!(20.0));
        state = state.reduce(Action::SetTriggerKind {
            index: 1,
            kind: "load_spike".into(),
        });
        assert_eq!(state.triggers()[1]["target"], "users");
        assert!(state.problems.is_empty(), "{:?}", state.problems);
        state = state.reduce(Action::DeleteTrigger(0));
        assert_eq!(state.triggers().len(), 1);
        let none = AppState::default().reduce(Action::AddTrigger("cache_flush".into()));
        assert!(none.notice.unwrap().contains("cache"));
    }

    #[test]
    fn switching_a_client_to_closed_loop_is_one_valid_edit() {
        let state = AppState::default().reduce(Action::SetField {
            owner: Owner::Block("users".into()),
            path: "mode".into(),
            raw: "\"closed\"".into(),
        });
        assert!(state.problems.is_empty(), "{:?}", state.problems);
        assert!(state.block("users").unwrap().get("rate").is_none());
    }

    #[test]
    fn every_preset_loads_valid() {
        for preset in presets::ALL {
            let state = AppState::default().reduce(Action::LoadPreset(preset.name.into()));
            assert!(state.problems.is_empty(), "{}", preset.name);
            assert_eq!(state.preset.as_deref(), Some(preset.name));
        }
    }

    /// Every action that changes the document, from the default scenario: undo brings the
    /// document (and the run) back exactly, redo gives the changed one again.
    #[test]
    fn every_document_action_undoes_and_redoes() {
        let base = AppState::default();
        let api = Owner::Block("api".into());
        let actions = vec![
            Action::LoadPreset("cold-cache".into()),
            Action::Load(json!({"version": 1, "duration_s": 10, "blocks": []})),
            Action::Import {
                name: "c.json".into(),
                text: presets::find("thrashing").unwrap().json.into(),
            },
            Action::New,
            Action::AddBlock("server".into()),
            Action::MoveBlock {
                id: "api".into(),
                x: 700.0,
                y: 400.0,
            },
            Action::Connect {
                from: "users".into(),
                to: "api".into(),
            },
            Action::Disconnect {
                from: "retries".into(),
                to: "api".into(),
            },
            Action::DeleteBlock("retries".into()),
            Action::RenameBlock {
                from: "api".into(),
                to: "backend".into(),
            },
            Action::SetField {
                owner: api.clone(),
                path: "workers".into(),
                raw: "12".into(),
            },
            Action::AddTrigger("latency".into()),
            Action::SetTriggerKind {
                index: 0,
                kind: "outage".into(),
            },
            Action::MoveTrigger {
                index: 0,
                at_s: 90.0,
                for_s: Some(5.0),
            },
            Action::DeleteTrigger(0),
            Action::SetSeed(99),
            Action::OpenPoint(json!({"version": 1, "duration_s": 10, "blocks": []})),
            Action::Paste(
                r#"{"id": "extra", "kind": "server", "workers": 2, "service": {"mean_s": 0.1}}"#
                    .into(),
            ),
        ];
        for action in actions {
            let label = format!("{action:?}");
            let changed = base.reduce(action);
            assert_ne!(changed.doc, base.doc, "{label} changed nothing");
            assert_eq!(changed.history.undo_len(), 1, "{label}");
            let undone = changed.reduce(Action::Undo);
            assert_eq!(undone.doc, base.doc, "undo of {label}");
            assert_eq!(
                *undone.scenario, *base.scenario,
                "undo of {label} runs the old scenario"
            );
            assert_eq!(undone.preset.as_deref(), Some("retry-storm"), "{label}");
            let redone = undone.reduce(Action::Redo);
            assert_eq!(redone.doc, changed.doc, "redo of {label}");
            assert_eq!(
                redone.reduce(Action::Redo).doc,
                changed.doc,
                "nothing more to redo"
            );
        }
        // Deleting the selection (a block, then a link).
        let selected = base.reduce(Action::Select(Selection::Block("api".into())));
        let deleted = selected.reduce(Action::DeleteSelected);
        assert!(deleted.block("api").is_none());
        let undone = deleted.reduce(Action::Undo);
        assert_eq!(undone.doc, base.doc);
        assert_eq!(
            undone.selection,
            Selection::Block("api".into()),
            "the selection comes back"
        );
        let duplicated = selected.reduce(Action::Duplicate);
        assert!(duplicated.block("api2").is_some());
        assert_eq!(duplicated.reduce(Action::Undo).doc, base.doc);
    }

    #[test]
    fn a_drag_or_a_run_of_edits_of_one_field_is_one_step() {
        let mut state = AppState::default();
        for x in [310.0, 320.0, 330.0, 340.0] {
            state = state.reduce(Action::MoveBlock {
                id: "api".into(),
                x,
                y: 100.0,
            });
        }
        assert_eq!(state.history.undo_len(), 1, "one drag, one step");
        state = state.reduce(Action::EndGesture);
        state = state.reduce(Action::MoveBlock {
            id: "api".into(),
            x: 600.0,
            y: 100.0,
        });
        assert_eq!(
            state.history.undo_len(),
            2,
            "a second drag is a second step"
        );
        for raw in ["1", "12", "120"] {
            state = state.reduce(Action::SetField {
                owner: Owner::Block("api".into()),
                path: "workers".into(),
                raw: raw.into(),
            });
        }
        assert_eq!(state.history.undo_len(), 3);
        assert_eq!(state.history.undo_label(), Some("edit api.workers"));
        let undone = state.reduce(Action::Undo);
        assert_eq!(undone.block("api").unwrap()["workers"], json!(10));
        let undone = undone.reduce(Action::Undo).reduce(Action::Undo);
        assert_eq!(undone.doc, AppState::default().doc);
        assert_eq!(
            undone.reduce(Action::Undo).doc,
            undone.doc,
            "nothing more to undo"
        );
    }

    #[test]
    fn a_new_change_after_undo_drops_the_redo_and_history_is_bounded() {
        let mut state = AppState::default();
        state = state.reduce(Action::SetSeed(1)).reduce(Action::EndGesture);
        state = state.reduce(Action::SetSeed(2)).reduce(Action::Undo);
        assert!(state.history.redo_label().is_some());
        state = state.reduce(Action::SetSeed(3));
        assert_eq!(state.history.redo_label(), None);
        for seed in 0..(HISTORY_LIMIT as u64 + 20) {
            state = state
                .reduce(Action::SetSeed(1000 + seed))
                .reduce(Action::EndGesture);
        }
        assert_eq!(state.history.undo_len(), HISTORY_LIMIT);
        // A big document keeps fewer steps: the history stays within its bytes.
        let big =
            json!({"version": 1, "duration_s": 10, "name": "x".repeat(1 << 20), "blocks": []});
        let mut huge = AppState::default();
        for i in 0..40 {
            let mut doc = big.clone();
            doc["seed"] = json!(i);
            huge = huge.reduce(Action::Load(doc));
        }
        let held: usize = huge.history.undo.iter().map(|s| s.bytes).sum();
        assert!(held <= HISTORY_BYTES, "{held} bytes of history");
        assert!(huge.history.undo_len() >= 10);
        // Moving through views, selecting and playing are not document changes.
        let len = state.history.undo_len();
        for action in [
            Action::Select(Selection::Block("api".into())),
            Action::TogglePlay,
            Action::SetDark(true),
            Action::OpenAnalysis,
            Action::CloseAnalysis,
        ] {
            state = state.reduce(action);
        }
        assert_eq!(state.history.undo_len(), len);
    }

    #[test]
    fn a_delete_or_an_import_says_what_happened_and_offers_undo() {
        let state = AppState::default().reduce(Action::DeleteBlock("api".into()));
        assert_eq!(
            state.notice.as_deref(),
            Some("Deleted the server \"api\" and its 1 link.")
        );
        assert!(state.notice_undo);
        let state = AppState::default().reduce(Action::DeleteBlock("users".into()));
        assert_eq!(
            state.notice.as_deref(),
            Some("Deleted the client \"users\" and its 1 link and 1 trigger.")
        );
        let imported = AppState::default().reduce(Action::Import {
            name: "empty.json".into(),
            text: r#"{"version": 1, "duration_s": 10, "blocks": []}"#.into(),
        });
        assert!(imported.notice_undo);
        let back = imported.reduce(Action::Undo);
        assert_eq!(back.doc, AppState::default().doc);
        assert!(!back.notice_undo);
    }

    #[test]
    fn pasted_blocks_get_free_ids_and_places_and_keep_their_links() {
        let state = AppState::default();
        let pasted = state.reduce(Action::Paste(
            json!({"blocks": [
                {"id": "retries", "kind": "retry", "max_attempts": 2, "to": "api", "ui": {"x": 240, "y": 120}},
                {"id": "api", "kind": "server", "workers": 3, "service": {"mean_s": 0.1}, "ui": {"x": 450, "y": 120}},
                {"id": "gone", "kind": "cache", "capacity": 10, "to": "nowhere"},
            ]})
            .to_string(),
        ));
        // Only the cache, whose downstream does not exist here, is left unconnected.
        assert_eq!(pasted.problems.len(), 1, "{:?}", pasted.problems);
        assert_eq!(pasted.problems[0].location, "block \"gone\"");
        assert_eq!(
            pasted.block("retries2").unwrap()["to"],
            "api2",
            "links among the copies follow"
        );
        assert_eq!(
            pasted.block("gone").unwrap()["to"],
            "",
            "links to nothing are dropped"
        );
        assert_eq!(
            pasted.selection,
            Selection::Blocks(vec!["retries2".into(), "api2".into(), "gone".into()]),
            "the pasted blocks are selected"
        );
        let places: Vec<(f64, f64)> = pasted
            .blocks()
            .iter()
            .filter_map(layout::position)
            .collect();
        for (i, a) in places.iter().enumerate() {
            for b in &places[i + 1..] {
                assert!(
                    (a.0 - b.0).abs() >= layout::BLOCK_W || (a.1 - b.1).abs() >= layout::BLOCK_H,
                    "pasted blocks overlap: {a:?} {b:?}"
                );
            }
        }
        let refused = state.reduce(Action::Paste("hello".into()));
        assert_eq!(refused.doc, state.doc);
        assert!(refused.notice.unwrap().contains("no blocks"));
        let huge = state.reduce(Action::Paste(" ".repeat(2 << 20)));
        assert_eq!(huge.doc, state.doc);
    }

    #[test]
    fn an_edited_preset_says_its_caption_is_the_presets() {
        let state = AppState::default();
        assert_eq!(state.caption_origin(), None);
        let edited = state.reduce(Action::SetSeed(8));
        assert_eq!(edited.caption_origin().as_deref(), Some("Retry storm"));
        assert_eq!(edited.reduce(Action::Undo).caption_origin(), None);
    }

    #[test]
    fn several_blocks_move_copy_and_delete_together() {
        let state = AppState::default().reduce(Action::Select(Selection::Blocks(vec![
            "retries".into(),
            "api".into(),
        ])));
        let moved = state.reduce(Action::MoveBlocks(vec![
            ("retries".into(), 300.0, 400.0),
            ("api".into(), 500.0, 400.0),
        ]));
        assert_eq!(
            moved.block("api").unwrap()["ui"],
            json!({"x": 500.0, "y": 400.0})
        );
        assert_eq!(moved.run_id, state.run_id, "a move does not re-run");
        assert_eq!(
            moved.reduce(Action::Undo).doc,
            state.doc,
            "one undo step for the group"
        );
        let copied = state.reduce(Action::Duplicate);
        assert_eq!(copied.block("retries2").unwrap()["to"], "api2");
        assert_eq!(
            copied.selection,
            Selection::Blocks(vec!["retries2".into(), "api2".into()])
        );
        let deleted = state.reduce(Action::DeleteSelected);
        assert!(deleted.block("api").is_none() && deleted.block("retries").is_none());
        assert_eq!(deleted.notice.as_deref(), Some("Deleted 2 blocks."));
        assert_eq!(deleted.reduce(Action::Undo).doc, state.doc);
    }

    #[test]
    fn a_block_added_on_a_selected_link_goes_into_it() {
        let state = AppState::default().reduce(Action::Select(Selection::Link {
            from: "retries".into(),
            to: "api".into(),
        }));
        let next = state.reduce(Action::AddBlock("cache".into()));
        assert!(next.problems.is_empty(), "{:?}", next.problems);
        assert_eq!(next.block("retries").unwrap()["to"], "cache");
        assert_eq!(next.block("cache").unwrap()["to"], "api");
        let refused = state.reduce(Action::AddBlock("client".into()));
        assert!(refused.notice.unwrap().contains("cannot go into a link"));
    }

    #[test]
    fn six_new_servers_do_not_pile_up_or_run_away() {
        let mut state = AppState::default();
        for _ in 0..6 {
            state = state.reduce(Action::Select(Selection::Scenario));
            state = state.reduce(Action::AddBlock("server".into()));
        }
        let places: Vec<(f64, f64)> = state.blocks().iter().filter_map(layout::position).collect();
        for (i, a) in places.iter().enumerate() {
            for b in &places[i + 1..] {
                assert!(
                    (a.0 - b.0).abs() >= layout::BLOCK_W || (a.1 - b.1).abs() >= layout::BLOCK_H,
                    "blocks overlap: {a:?} {b:?}"
                );
            }
        }
        let right = places.iter().map(|p| p.0).fold(0.0, f64::max);
        assert!(right < 1000.0, "a new block went far right: x = {right}");
    }

    #[test]
    fn embed_modes_reducer_changes_what_the_playgrounds_does_for_its_actions() {
        let start = AppState::default();
        let actions = [
            Action::SetField {
                owner: Owner::Block("users".into()),
                path: "rate".into(),
                raw: "95".into(),
            },
            Action::SetField {
                owner: Owner::Block("retries".into()),
                path: "max_attempts".into(),
                raw: "1.5".into(),
            },
            Action::TogglePlay,
            Action::Reset,
            Action::Play,
            Action::Pause,
            Action::Unpin,
        ];
        let (mut full, mut lean) = (start.clone(), start.clone());
        for action in actions {
            full = full.reduce(action.clone());
            lean = lean.reduce_embed(action);
            lean.history = full.history.clone();
            assert_eq!(lean, full);
        }
        assert_eq!(full.doc["blocks"][0]["rate"], json!(95));
        assert!(!full.problems.is_empty(), "1.5 attempts is a problem");
        // What embed mode never does leaves its state alone.
        assert_eq!(start.reduce_embed(Action::New), start);
    }

    #[test]
    fn a_scenario_without_places_is_laid_out_on_load() {
        let doc = json!({"version": 1, "duration_s": 10, "blocks": [
            {"id": "u", "kind": "client", "rate": 1, "to": "s"},
            {"id": "s", "kind": "server", "workers": 1, "service": {"mean_s": 0.1}}]});
        let state = AppState::default().reduce(Action::Load(doc));
        assert!(state.problems.is_empty());
        assert!(layout::position(state.block("s").unwrap()).is_some());
    }
}
