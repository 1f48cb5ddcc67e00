//! Past one machine (SPEC §9): `sweep … --shard I/N` and `tip … --shard I/N` compute one of N
//! disjoint slices of a grid (which points: [`sim_core::sweep::Shard`]), and `metastable
//! merge` joins the slices into exactly the bytes the whole command prints.
//!
//! A shard's output is the whole command's output with two changes (`docs/distributed.md`):
//!
//! ```text
//! # metastable-shard format=1 kind=sweep shard=2/3 grid=3x2 seeds=2 id=… version=0.1.0
//! point,triggers.0.factor,users.rate,seeds,verdict,…
//! 1,2,50,2,recovered,…
//! ```
//!
//! - a first line that says which shard of which grid it is: the command (`kind`), the shard,
//!   the grid's sides (`3x2`, or `13` for one axis; a tipping search's loads), the seeds per
//!   point, the sweep's `id` ([`Sweep::fingerprint`] of the scenario document with its edits,
//!   the axes, the seeds, and a search's steps) and the version that wrote it;
//! - a first column, `point`: the row's place in the whole output (grid order, x fastest).
//!
//! `merge` refuses, naming the file: anything that is not a shard, shards of different
//! sweeps, of different splits or versions, a shard given twice, a missing shard, a shard cut
//! short (a point of it missing), a row that is not one of its shard's points, and a file
//! that ends inside a line. Several shards may come one after another in one file or on
//! standard input (`parallel … | metastable merge -`).

use crate::output::{note, write_file, Stdout};
use crate::phase;
use anyhow::{anyhow, bail, Context, Result};
use sim_core::sweep::{fnv1a_64, Outcome, Point, Shard, Sweep, Threshold, MAX_POINTS, MAX_SEEDS};
use sim_core::Verdict;
use std::io::Read;
use std::path::Path;

/// How a shard's first line begins.
const MARK: &str = "# metastable-shard";

/// The version of the shard format this build writes and reads.
const FORMAT: u32 = 1;

/// The most bytes `merge` reads, all its inputs together: a whole sweep's rows (at most
/// 10,000 of a few hundred bytes) many times over, and a bound on what a stranger's files can
/// make it hold.
pub const MAX_MERGE_BYTES: u64 = 64 << 20;

/// The most units (runs or seeds) a `fix`, `hysteresis` or `run --seeds` shard's whole
/// command has: far more than those commands' own limits allow.
const MAX_UNITS: usize = 1_000_000;

/// The most seeds `run --seeds` takes (its flag's range).
pub const MAX_RUN_SEEDS: u32 = 10_000;

/// The command whose output a shard is a slice of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sweep,
    Tip,
    /// `run --seeds k`: the units are the seeds.
    Run,
    /// `fix`: the units are its runs, a grid of seeds (x) × the original and the fixes (y).
    Fix,
    /// `hysteresis`: the units are the seeds.
    Hysteresis,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Sweep => "sweep",
            Kind::Tip => "tip",
            Kind::Run => "run",
            Kind::Fix => "fix",
            Kind::Hysteresis => "hysteresis",
        }
    }

    /// Whether the shard's rows are units of work (one JSON value each, with everything
    /// merge recomputes the output from) rather than rows of the whole output, and its second
    /// line the command's context (one JSON object) rather than the output's columns.
    fn carries_units(self) -> bool {
        !matches!(self, Kind::Sweep | Kind::Tip)
    }

    /// What the shards are shards of, in messages.
    fn noun(self) -> &'static str {
        match self {
            Kind::Sweep | Kind::Tip => "sweep",
            Kind::Run => "run",
            Kind::Fix => "fix ranking",
            Kind::Hysteresis => "hysteresis experiment",
        }
    }

    /// What the shards of one command share, in messages.
    fn same(self) -> &'static str {
        match self {
            Kind::Sweep | Kind::Tip => "the same scenario, edits, axes and seeds",
            Kind::Run => "the same scenario, edits, seeds and output",
            Kind::Fix => "the same scenario, edits, seeds, format and fixes",
            Kind::Hysteresis => "the same scenario, edits, load, hold and seeds",
        }
    }

    /// The most seeds its `seeds=` may say.
    fn max_seeds(self) -> u32 {
        match self {
            Kind::Run => MAX_RUN_SEEDS,
            _ => MAX_SEEDS,
        }
    }
}

/// What a shard's first line says.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Head {
    kind: Kind,
    shard: Shard,
    nx: usize,
    /// The second side of a two-axis sweep.
    ny: Option<usize>,
    seeds: u32,
    id: String,
    version: String,
}

impl Head {
    fn line(&self) -> String {
        let grid = match self.ny {
            Some(ny) => format!("{}x{ny}", self.nx),
            None => self.nx.to_string(),
        };
        format!(
            "{MARK} format={FORMAT} kind={} shard={} grid={grid} seeds={} id={} version={}",
            self.kind.as_str(),
            self.shard,
            self.seeds,
            self.id,
            self.version
        )
    }

    /// The first line of a shard, read back; the error says what is wrong with it.
    fn parse(line: &str) -> Result<Head, String> {
        let fields = line
            .strip_prefix(MARK)
            .filter(|rest| rest.is_empty() || rest.starts_with(' '))
            .ok_or_else(|| format!("it does not begin with `{MARK}`"))?;
        let mut values: [Option<&str>; 7] = [None; 7];
        const KEYS: [&str; 7] = ["format", "kind", "shard", "grid", "seeds", "id", "version"];
        for field in fields.split_whitespace() {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("`{field}` is not KEY=VALUE"))?;
            let slot = KEYS
                .iter()
                .position(|k| *k == key)
                .ok_or_else(|| format!("unknown field `{key}`"))?;
            if values[slot].replace(value).is_some() {
                return Err(format!("`{key}` twice"));
            }
        }
        let [format, kind, shard, grid, seeds, id, version] = values;
        fn get<'a>(value: Option<&'a str>, key: &str) -> Result<&'a str, String> {
            value.ok_or_else(|| format!("no `{key}=`"))
        }
        let format = get(format, "format")?;
        if format != FORMAT.to_string() {
            return Err(format!(
                "it is in shard format {format}, and this metastable ({}) reads format {FORMAT}: merge with the version that wrote it",
                env!("CARGO_PKG_VERSION")
            ));
        }
        let kind = match get(kind, "kind")? {
            "sweep" => Kind::Sweep,
            "tip" => Kind::Tip,
            "run" => Kind::Run,
            "fix" => Kind::Fix,
            "hysteresis" => Kind::Hysteresis,
            other => {
                return Err(format!(
                    "`kind={other}`: expected sweep, tip, run, fix or hysteresis"
                ))
            }
        };
        let shard = get(shard, "shard")?;
        let shard = Shard::parse(shard).map_err(|e| format!("`shard={shard}`: {e}"))?;
        let side = |text: &str| {
            text.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_POINTS).contains(n))
                .ok_or_else(|| {
                    format!(
                        "`grid={}`: expected N or NXxNY, sides of 1 to {MAX_POINTS}",
                        grid.unwrap_or("")
                    )
                })
        };
        let grid = get(grid, "grid")?;
        let (nx, ny) = match grid.split_once('x') {
            Some((nx, ny)) => (side(nx)?, Some(side(ny)?)),
            None => (side(grid)?, None),
        };
        let most = if kind.carries_units() {
            MAX_UNITS
        } else {
            MAX_POINTS
        };
        let two_sides = match kind {
            Kind::Sweep => ny.is_some(),
            Kind::Fix => true,
            Kind::Tip | Kind::Run | Kind::Hysteresis => false,
        };
        if nx * ny.unwrap_or(1) > most || (kind != Kind::Sweep && ny.is_some() != two_sides) {
            return Err(format!(
                "`grid={grid}` is not the grid of a {}",
                kind.as_str()
            ));
        }
        let max_seeds = kind.max_seeds();
        let seeds_text = get(seeds, "seeds")?;
        let seeds = seeds_text
            .parse::<u32>()
            .ok()
            .filter(|s| (1..=max_seeds).contains(s))
            .ok_or_else(|| format!("`seeds={seeds_text}`: expected 1 to {max_seeds}"))?;
        // A command of units has a unit per seed along x (per run of one subject, for `fix`).
        if kind.carries_units() && nx != seeds as usize {
            return Err(format!(
                "`grid={grid}` and `seeds={seeds}` disagree: a {} shard's grid has one unit per seed along it",
                kind.as_str()
            ));
        }
        let id = get(id, "id")?;
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`id={id}`: expected 16 hexadecimal digits"));
        }
        Ok(Head {
            kind,
            shard,
            nx,
            ny,
            seeds,
            id: id.to_string(),
            version: get(version, "version")?.to_string(),
        })
    }

    /// How many points (a search's loads) the whole grid has.
    fn points(&self) -> usize {
        self.nx * self.ny.unwrap_or(1)
    }

    /// The grid point at `index` (values left out).
    fn point(&self, index: usize) -> Point {
        Point {
            ix: index % self.nx,
            iy: index / self.nx,
            x: 0.0,
            y: 0.0,
        }
    }

    /// The shard (its number) that owns the point at `index`.
    fn owner(&self, index: usize) -> u32 {
        Shard::number_of(self.point(index), self.shard.count())
    }

    /// Everything but the shard's number: what all shards of one split share.
    fn split(&self) -> Head {
        Head {
            shard: Shard::new(1, self.shard.count()).unwrap_or(self.shard),
            ..self.clone()
        }
    }
}

/// How the output of `sweep --shard` or `tip --shard` begins: the shard's line and the
/// columns, `point` first. `purpose` is what [`Sweep::fingerprint`] is given besides the grid
/// (a search's steps).
pub fn head(kind: Kind, shard: Shard, sweep: &Sweep, purpose: &str, columns: &str) -> String {
    let ny = match kind {
        Kind::Sweep => sweep.y.as_ref().map(|y| y.values.len()),
        _ => None,
    };
    let head = Head {
        kind,
        shard,
        nx: sweep.nx(),
        ny,
        seeds: sweep.seeds,
        id: format!("{:016x}", sweep.fingerprint(purpose)),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    format!("{}\npoint,{columns}", head.line())
}

/// What a shard of `run --seeds`, `fix` or `hysteresis` says of its whole command.
pub struct Units<'a> {
    pub kind: Kind,
    pub shard: Shard,
    /// The seeds: the units along x.
    pub seeds: u32,
    /// For `fix`, the original and the fixes: the units along y.
    pub subjects: Option<usize>,
    /// What the command's output depends on, in a canonical text (hashed into the `id`, as
    /// [`Sweep::fingerprint`] hashes a sweep's).
    pub fingerprint: &'a str,
    /// What merge needs besides the units to print the output (one JSON object).
    pub context: &'a serde_json::Value,
}

impl Units<'_> {
    /// Whether this shard computes the unit of seed `seed` (of subject `subject`).
    pub fn owns(&self, seed: usize, subject: usize) -> bool {
        self.shard.owns(Point {
            ix: seed,
            iy: subject,
            x: 0.0,
            y: 0.0,
        })
    }

    /// The unit's place in the whole command's units: `subject × seeds + seed`.
    pub fn index(&self, seed: usize, subject: usize) -> usize {
        subject * self.seeds as usize + seed
    }

    /// How the shard begins: its line, then `point,` and the context.
    pub fn head(&self) -> Result<String> {
        let head = Head {
            kind: self.kind,
            shard: self.shard,
            nx: self.seeds as usize,
            ny: self.subjects,
            seeds: self.seeds,
            id: format!(
                "{:016x}",
                fnv1a_64(
                    format!("metastable {}\n{}", self.kind.as_str(), self.fingerprint).as_bytes()
                )
            ),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        Ok(format!(
            "{}\npoint,{}",
            head.line(),
            serde_json::to_string(self.context)?
        ))
    }
}

/// A unit's row: its place and its figures as one JSON value, its numbers in the shortest
/// text that reads back the same. Refused when reading it back would not give `value` exactly
/// (a figure that is not a finite number, which JSON cannot hold).
pub fn unit_row<T>(index: usize, value: &T, what: impl FnOnce() -> String) -> Result<String>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq,
{
    let text = serde_json::to_string(value)?;
    if serde_json::from_str::<T>(&text).ok().as_ref() != Some(value) {
        bail!(
            "{}: a figure of it is not a finite number, which a shard cannot carry exactly; run it unsharded",
            what()
        );
    }
    Ok(format!("{index},{text}"))
}

/// A unit as merge read it: its JSON text and where it came from.
pub struct Unit<'a> {
    text: &'a str,
    label: &'a str,
    line: usize,
}

impl Unit<'_> {
    /// The unit's figures; the error names the file and line.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.text).map_err(|e| {
            anyhow!(
                "{}, line {}: a damaged row: {e}: the shard was altered",
                self.label,
                self.line
            )
        })
    }

    /// An error about this unit, naming the file and line.
    pub fn error(&self, what: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}, line {}: {what}", self.label, self.line)
    }
}

/// The shards of a `run --seeds`, `fix` or `hysteresis`, joined: what the command's merge
/// prints its output from.
pub struct Merged<'a> {
    context: &'a str,
    /// Where the context was read (the first shard's second line).
    context_label: &'a str,
    /// Every unit, in order (`subject × seeds + seed`).
    pub units: Vec<Unit<'a>>,
    /// The seeds (units along x).
    pub seeds: u32,
}

impl Merged<'_> {
    /// The context; the error names the file.
    pub fn context<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.context).map_err(|e| {
            anyhow!(
                "{}, line 2: a damaged context: {e}: the shard was altered",
                self.context_label
            )
        })
    }
}

/// A shard's row: the whole command's row tagged with its place in the whole output.
pub fn row(index: usize, row: &str) -> String {
    format!("{index},{row}")
}

/// One shard as read: where it came from, its line, its columns and its rows.
struct Part<'a> {
    /// The file (or "standard input"), and the line the shard begins on when it is not the
    /// first line of its file.
    label: String,
    head: Head,
    /// The whole command's columns (without `point`).
    columns: &'a str,
    /// Each row's place, text (without its `point`) and line number in the file.
    rows: Vec<(usize, &'a str, usize)>,
}

/// `metastable merge`: the shards of one sweep or search, in any order, joined into what the
/// whole command prints; `--plot` draws its figure.
pub fn merge(sources: &[String], plot: Option<&Path>, out: &mut Stdout) -> Result<()> {
    if sources.iter().filter(|s| *s == "-").count() > 1 {
        bail!("`-` (standard input) is given more than once: it can be read once; several shards may come one after another on it");
    }
    let mut budget = MAX_MERGE_BYTES;
    let mut texts = Vec::with_capacity(sources.len());
    for source in sources {
        let (label, text) = read(source, &mut budget)?;
        texts.push((label, text));
    }
    let mut parts = Vec::new();
    for (label, text) in &texts {
        split(label, text, &mut parts)?;
    }
    let first = parts.first().ok_or_else(|| anyhow!("no shard to merge"))?;

    // One split of one sweep, made by one version.
    for part in &parts[1..] {
        let (a, b) = (&first.head, &part.head);
        let (la, lb) = (&first.label, &part.label);
        if a.kind != b.kind {
            bail!(
                "{la} is a shard of `metastable {}` and {lb} of `metastable {}`: merge the shards of one command",
                a.kind.as_str(),
                b.kind.as_str()
            );
        }
        if a.version != b.version {
            bail!(
                "{la} was written by metastable {} and {lb} by metastable {}: their rows may differ; run every shard with one version",
                a.version,
                b.version
            );
        }
        if (&a.id, a.nx, a.ny, a.seeds) != (&b.id, b.nx, b.ny, b.seeds) {
            let noun = a.kind.noun();
            bail!(
                "{lb} is a shard of another {noun} than {la} ({noun} {} and {noun} {}): only the shards of one {noun} merge — {}",
                b.id,
                a.id,
                a.kind.same()
            );
        }
        if a.split() != b.split() {
            bail!(
                "{la} is shard {} and {lb} is shard {}: the shards of one split merge (the same N in --shard I/N)",
                a.shard,
                b.shard
            );
        }
        if first.columns != part.columns {
            bail!(
                "{lb}'s {} from {la}'s: it was altered, or is not a shard of the same {}",
                if a.kind.carries_units() {
                    "second line (the command's context) differs"
                } else {
                    "columns differ"
                },
                a.kind.noun()
            );
        }
    }
    let head = first.head.split();
    let count = head.shard.count();
    let mut given: Vec<Option<&Part>> = vec![None; count as usize];
    for part in &parts {
        let slot = &mut given[part.head.shard.index() as usize - 1];
        if let Some(other) = slot {
            bail!(
                "{} and {} are both shard {}: each shard must be given once",
                other.label,
                part.label,
                part.head.shard
            );
        }
        *slot = Some(part);
    }
    let missing: Vec<Shard> = Shard::all(count)
        .filter(|s| given[s.index() as usize - 1].is_none())
        .collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().take(8).map(Shard::to_string).collect();
        let more = if missing.len() > names.len() {
            format!(", … ({} of {count} shards)", missing.len())
        } else {
            String::new()
        };
        let have: Vec<String> = parts
            .iter()
            .take(8)
            .map(|p| format!("{} from {}", p.head.shard, p.label))
            .collect();
        bail!(
            "shard{} {}{more} {} missing: merge needs all {count} shards of the {} (given: {}{})",
            if missing.len() == 1 { "" } else { "s" },
            names.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            head.kind.noun(),
            have.join(", "),
            if parts.len() > have.len() {
                ", …"
            } else {
                ""
            }
        );
    }

    // Every point once: each part's rows were checked to be its own points in order, so a
    // point not found is one its shard's file does not reach.
    let points = head.points();
    let mut rows: Vec<Option<(&str, &Part, usize)>> = vec![None; points];
    for part in &parts {
        for &(index, text, line) in &part.rows {
            rows[index] = Some((text, part, line));
        }
    }
    if let Some(index) = rows.iter().position(Option::is_none) {
        let part = given[head.owner(index) as usize - 1].ok_or_else(|| anyhow!("shard lost"))?;
        let owned = (0..points)
            .filter(|&i| head.owner(i) == part.head.shard.index())
            .count();
        bail!(
            "{} (shard {shard}) has {} of its {owned} points (point {index} is missing): it was cut short, or its command failed; run shard {shard} again",
            part.label,
            part.rows.len(),
            shard = part.head.shard,
        );
    }
    let rows: Vec<(&str, &Part, usize)> = rows.into_iter().flatten().collect();

    if head.kind.carries_units() {
        let merged = Merged {
            context: first.columns,
            context_label: &first.label,
            units: rows
                .iter()
                .map(|&(text, part, line)| Unit {
                    text,
                    label: &part.label,
                    line,
                })
                .collect(),
            seeds: head.seeds,
        };
        let units = match head.kind {
            Kind::Run => {
                refuse_plot(plot, "run --seeds")?;
                crate::replicas::merge(&merged, out)?;
                format!("{} seeds", head.seeds)
            }
            Kind::Fix => {
                refuse_plot(plot, "fix")?;
                crate::fix::merge(&merged, out)?;
                format!("{points} runs")
            }
            _ => {
                crate::hysteresis::merge(&merged, plot, out)?;
                format!(
                    "{} seed{}",
                    head.seeds,
                    if head.seeds == 1 { "" } else { "s" }
                )
            }
        };
        note!(
            "merged {count} shard{} of a {} of {units}",
            if count == 1 { "" } else { "s" },
            head.kind.noun()
        );
        return Ok(());
    }

    // The figure first (it reads every row, so a damaged one is refused before any output).
    let svg = match plot {
        Some(_) => Some(draw(&head, first.columns, &rows)?),
        None => None,
    };
    out.line(first.columns)?;
    for (text, _, _) in &rows {
        out.line(text)?;
    }
    out.flush()?;
    let (what, unit) = match head.kind {
        Kind::Tip => ("tipping search", "load"),
        _ => ("sweep", "point"),
    };
    note!(
        "merged {count} shard{} of a {what} of {points} {unit}{}",
        if count == 1 { "" } else { "s" },
        if points == 1 { "" } else { "s" }
    );
    if let (Some(path), Some(svg)) = (plot, svg) {
        write_file(path, svg.as_bytes())?;
        note!(
            "{}: {}",
            match head.kind {
                Kind::Tip => "tipping curve",
                _ => "phase diagram",
            },
            path.display()
        );
    }
    Ok(())
}

/// `merge --plot` for a command that draws no figure.
fn refuse_plot(plot: Option<&Path>, command: &str) -> Result<()> {
    if plot.is_some() {
        bail!("--plot: `metastable {command}` draws no figure, so its merged shards have none to draw");
    }
    Ok(())
}

/// The text of a source (`-`: standard input), within what is left of `budget`.
fn read(source: &str, budget: &mut u64) -> Result<(String, String)> {
    let (label, reader): (String, Box<dyn Read>) = if source == "-" {
        ("standard input".into(), Box::new(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(source).with_context(|| format!("reading {source}"))?;
        let size = file
            .metadata()
            .with_context(|| format!("reading {source}"))?
            .len();
        if size > *budget {
            bail!(
                "{source} is {size} bytes: merge reads at most {MAX_MERGE_BYTES} bytes of shards in all, so it was not read (a whole sweep's rows are far fewer)"
            );
        }
        (source.to_string(), Box::new(file))
    };
    let mut bytes = Vec::new();
    reader
        .take(*budget + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {label}"))?;
    if bytes.len() as u64 > *budget {
        bail!(
            "{label} takes merge past {MAX_MERGE_BYTES} bytes of shards in all, so it was not read further (a whole sweep's rows are far fewer)"
        );
    }
    *budget -= bytes.len() as u64;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{label} is not text (not UTF-8 at byte {}): not a shard",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((label, text))
}

/// The shards in one source's text, one after another, each checked on its own: its line,
/// its columns, and rows that are its own points, in order, each whole.
fn split<'a>(label: &str, text: &'a str, parts: &mut Vec<Part<'a>>) -> Result<()> {
    if text.is_empty() {
        bail!("{label} is empty: no shard in it (a shard begins with `{MARK} …`)");
    }
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    if !text.ends_with('\n') {
        bail!(
            "{label} ends in the middle of line {}: it was cut short; run its shard again",
            lines.len()
        );
    }
    let mut at = 0;
    while at < lines.len() {
        let number = at + 1;
        let line = lines[at];
        let where_ = if number == 1 {
            label.to_string()
        } else {
            format!("{label} (from line {number})")
        };
        if !line.starts_with(MARK) {
            let what = if number == 1 {
                format!("{label} is not a shard: its first line is not `{MARK} …` (what `metastable sweep … --shard I/N` writes first)")
            } else {
                format!(
                    "{label}, line {number}: expected a row or the next shard's `{MARK} …` line"
                )
            };
            bail!("{what}");
        }
        let head = Head::parse(line)
            .map_err(|e| anyhow!("{label}, line {number}: a damaged shard line: {e}"))?;
        let columns = lines
            .get(at + 1)
            .and_then(|l| l.strip_prefix("point,"))
            .ok_or_else(|| {
                anyhow!("{label}, line {}: expected the columns, `point,…`: the shard was cut short or altered", number + 1)
            })?;
        let width = columns.split(',').count();
        at += 2;
        let mut rows = Vec::new();
        let mut last: Option<usize> = None;
        while at < lines.len() && !lines[at].starts_with(MARK) {
            let number = at + 1;
            let line = lines[at];
            let bad = |what: String| anyhow!("{label}, line {number}: {what}");
            let (index, rest) = line
                .split_once(',')
                .filter(|(i, _)| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest)))
                .ok_or_else(|| {
                    bad(format!(
                        "expected POINT,… (the point's number, then the row), got `{}`",
                        abbreviate(line)
                    ))
                })?;
            if index >= head.points() {
                return Err(bad(format!(
                    "point {index} is past the grid's {} points",
                    head.points()
                )));
            }
            match last {
                Some(previous) if index == previous => {
                    return Err(bad(format!("point {index} again")))
                }
                Some(previous) if index < previous => {
                    return Err(bad(format!(
                        "point {index} after point {previous}: a shard's rows are in grid order"
                    )))
                }
                _ => {}
            }
            let owner = head.owner(index);
            if owner != head.shard.index() {
                return Err(bad(format!(
                    "point {index} is not one of shard {}'s points (it is shard {owner}/{}'s)",
                    head.shard,
                    head.shard.count()
                )));
            }
            let cells = rest.split(',').count();
            // A unit is one JSON value (read when merged), not cells.
            if !head.kind.carries_units() && cells != width {
                return Err(bad(format!(
                    "{cells} cells where the columns are {width}: the row was altered"
                )));
            }
            last = Some(index);
            rows.push((index, rest, number));
            at += 1;
        }
        parts.push(Part {
            label: where_,
            head,
            columns,
            rows,
        });
    }
    Ok(())
}

/// A line as a message quotes it: at most 60 characters.
fn abbreviate(line: &str) -> String {
    match line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// The merged sweep's phase diagram, or the merged search's tipping curve, from the rows (the
/// same figure the whole command draws).
fn draw(head: &Head, columns: &str, rows: &[(&str, &Part, usize)]) -> Result<String> {
    let names: Vec<&str> = columns.split(',').collect();
    let y = match head.kind {
        Kind::Tip => Some(names[1].strip_prefix("min_").unwrap_or(names[1])),
        _ => head.ny.map(|_| names[1]),
    };
    let labels = phase::Labels {
        x: names[0],
        y,
        seeds: head.seeds,
    };
    let number = |cells: &[&str], at: usize, part: &Part, line: usize| -> Result<f64> {
        let cell = cells[at];
        cell.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                anyhow!(
                    "{}, line {line}: `{}` in column {} is not a number",
                    part.label,
                    abbreviate(cell),
                    names[at]
                )
            })
    };
    let mut points = Vec::with_capacity(rows.len());
    match head.kind {
        Kind::Sweep | Kind::Run | Kind::Fix | Kind::Hysteresis => {
            let first = 1 + usize::from(head.ny.is_some());
            let mut outcomes = Vec::with_capacity(rows.len());
            for (index, (text, part, line)) in rows.iter().enumerate() {
                let cells: Vec<&str> = text.split(',').collect();
                let mut point = head.point(index);
                point.x = number(&cells, 0, part, *line)?;
                if head.ny.is_some() {
                    point.y = number(&cells, 1, part, *line)?;
                }
                points.push(point);
                outcomes.push(outcome(&cells[first..], head.seeds).ok_or_else(|| {
                    anyhow!(
                        "{}, line {line}: its verdict and fractions of seeds do not agree: the row was altered",
                        part.label
                    )
                })?);
            }
            phase::draw_labelled(&labels, &points, &outcomes)
        }
        Kind::Tip => {
            let mut thresholds = Vec::with_capacity(rows.len());
            let mut range = (0.0, 0.0);
            for (index, (text, part, line)) in rows.iter().enumerate() {
                let cells: Vec<&str> = text.split(',').collect();
                let mut point = head.point(index);
                point.x = number(&cells, 0, part, *line)?;
                points.push(point);
                let optional = |at: usize| -> Result<Option<f64>> {
                    if cells[at].is_empty() {
                        Ok(None)
                    } else {
                        number(&cells, at, part, *line).map(Some)
                    }
                };
                thresholds.push(match (optional(1)?, optional(2)?) {
                    (None, _) => Threshold::Never,
                    (Some(high), None) => Threshold::AtOrBelow(high),
                    (Some(high), Some(low)) => Threshold::Between(low, high),
                });
                range = (
                    number(&cells, 4, part, *line)?,
                    number(&cells, 5, part, *line)?,
                );
            }
            phase::draw_tipping_labelled(&labels, &points, &thresholds, range)
        }
    }
}

/// A point's outcome from its cells `seeds,verdict,agreement,frac_…`: the fractions times the
/// seeds are the counts (a fraction has four decimals and at most 1,000 seeds, so they are
/// exact), which give the outcome exactly as the sweep computed it. `None` when the cells do
/// not say one outcome.
fn outcome(cells: &[&str], seeds: u32) -> Option<Outcome> {
    if cells.len() < 3 + Verdict::ALL.len() || cells[0].parse::<u32>().ok()? != seeds {
        return None;
    }
    let mut verdicts = Vec::with_capacity(seeds as usize);
    for (verdict, cell) in Verdict::ALL.iter().zip(&cells[3..]) {
        let fraction: f64 = cell.parse().ok()?;
        let count = (fraction * f64::from(seeds)).round();
        if !(0.0..=f64::from(seeds)).contains(&count) {
            return None;
        }
        verdicts.extend(std::iter::repeat_n(*verdict, count as usize));
    }
    let outcome = Outcome::of_verdicts(verdicts.iter().copied());
    (verdicts.len() == seeds as usize && outcome.verdict.to_string() == cells[1]).then_some(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head {
            kind: Kind::Sweep,
            shard: Shard::new(2, 3).unwrap(),
            nx: 3,
            ny: Some(2),
            seeds: 2,
            id: "0123456789abcdef".into(),
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn a_shard_line_reads_back_and_a_damaged_one_says_what_is_wrong() {
        let line = head().line();
        assert_eq!(
            line,
            "# metastable-shard format=1 kind=sweep shard=2/3 grid=3x2 seeds=2 id=0123456789abcdef version=0.1.0"
        );
        assert_eq!(Head::parse(&line).unwrap(), head());
        let tip = Head {
            kind: Kind::Tip,
            ny: None,
            ..head()
        };
        assert_eq!(Head::parse(&tip.line()).unwrap(), tip);
        for (edit, says) in [
            (("format=1", "format=2"), "shard format 2"),
            (
                ("kind=sweep", "kind=walk"),
                "expected sweep, tip, run, fix or hysteresis",
            ),
            (
                ("shard=2/3", "shard=4/3"),
                "the shard number must be 1 to 3",
            ),
            (("grid=3x2", "grid=3x0"), "sides of 1 to 10000"),
            (("grid=3x2", "grid=200x200"), "is not the grid of a sweep"),
            (("seeds=2", "seeds=0"), "expected 1 to 1000"),
            (("id=0123456789abcdef", "id=xyz"), "16 hexadecimal digits"),
            ((" version=0.1.0", ""), "no `version=`"),
            (("seeds=2", "seeds=2 seeds=2"), "`seeds` twice"),
            (("seeds=2", "seeds=2 colour=red"), "unknown field `colour`"),
        ] {
            let damaged = line.replace(edit.0, edit.1);
            let error = Head::parse(&damaged).unwrap_err();
            assert!(error.contains(says), "{damaged}: {error}");
        }
        assert!(Head::parse("# metastable-shards").is_err());
    }

    #[test]
    fn the_lines_of_fix_hysteresis_and_run_shards_read_back() {
        let fix = Head {
            kind: Kind::Fix,
            nx: 3,
            ny: Some(14),
            seeds: 3,
            ..head()
        };
        assert_eq!(Head::parse(&fix.line()).unwrap(), fix);
        assert!(fix
            .line()
            .contains(" kind=fix shard=2/3 grid=3x14 seeds=3 "));
        let run = Head {
            kind: Kind::Run,
            nx: 5000,
            ny: None,
            seeds: 5000,
            ..head()
        };
        assert_eq!(
            Head::parse(&run.line()).unwrap(),
            run,
            "run takes 10,000 seeds"
        );
        for (kind, grid, seeds, says) in [
            ("hysteresis", "3x2", "3", "is not the grid of a hysteresis"),
            ("fix", "3", "3", "is not the grid of a fix"),
            ("run", "4", "5", "disagree"),
            ("fix", "4x14", "3", "disagree"),
            ("hysteresis", "2000", "2000", "expected 1 to 1000"),
        ] {
            let line = format!(
                "# metastable-shard format=1 kind={kind} shard=1/2 grid={grid} seeds={seeds} id=0123456789abcdef version=0.1.0"
            );
            let error = Head::parse(&line).unwrap_err();
            assert!(error.contains(says), "{line}: {error}");
        }
    }

    #[test]
    fn an_outcome_comes_back_exactly_from_its_cells() {
        let verdicts = [Verdict::Metastable, Verdict::Recovered, Verdict::Metastable];
        let expected = Outcome::of_verdicts(verdicts);
        let cells = "3,metastable,0.6667,0,0.3333,0,0,0.6667,0,0";
        let cells: Vec<&str> = cells.split(',').collect();
        assert_eq!(outcome(&cells, 3), Some(expected));
        let mut altered = cells.clone();
        altered[1] = "recovered";
        assert_eq!(
            outcome(&altered, 3),
            None,
            "the verdict is not the majority"
        );
        assert_eq!(outcome(&cells, 4), None, "another number of seeds");
    }
}
