//! `status`: where every checkout of the workspace stands against the pins
//! of the project it is looked at from. Read-only and local: the pins below
//! the first level are read from the pinned commits already present, and
//! nothing is fetched.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::Serialize;

use super::presence::{Mode, WorkspacePins};
use super::Context;
use crate::cli::StatusArgs;
use crate::git::WorktreeStatus;
use crate::model::pinfile::{self, Pins};
use crate::model::registry::Project;
use crate::model::text::escape_control;
use crate::model::types::{CommitId, RepoName};
use crate::model::workspace::Workspace;
use crate::plan::resolve;
use crate::plan::SyncOptions;
use crate::ui::report::{Failure, Paint};

/// One row of `status`; also an object of `projects` in the `--json`
/// document (schema 1: fields are only ever added).
#[derive(Debug, Default, Serialize)]
pub struct Row {
    /// Project name (its folder in the workspace).
    pub name: String,
    /// Absolute path of the folder.
    pub path: String,
    /// Whether the folder exists.
    pub present: bool,
    /// Full id of HEAD, if checked out.
    pub head: Option<String>,
    /// Branch HEAD is on; `null` when detached.
    pub branch: Option<String>,
    /// Full id of the pin, if the looked-from project pins it.
    pub pin: Option<String>,
    /// The project whose pin applies (the nearest pinner).
    pub pinned_by: Option<String>,
    /// Commits in HEAD that the pin lacks.
    pub ahead: Option<usize>,
    /// Commits in the pin that HEAD lacks.
    pub behind: Option<usize>,
    /// Changed tracked files (staged, unstaged or conflicted).
    pub changed: usize,
    /// Untracked files.
    pub untracked: usize,
    /// True for the project the status is looked at from.
    pub this_project: bool,
    /// Where it stands; the counts are in `ahead` and `behind`.
    pub state: Vec<State>,
    /// What git said when it could not read the checkout (`state` holds
    /// `error`).
    pub error: Option<String>,
    /// The class of that failure (`disk-full`, `other`…; see
    /// [`crate::git::Cause::id`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    /// The git operations under way in the checkout or its submodules
    /// (`rebase`, `merge in third_party/x`; `state` holds `in_progress`).
    pub in_progress: Vec<String>,
}

/// One fact about a checkout: its name in `--json`, its text in the table
/// and the colour it gives its row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// HEAD is the pinned commit.
    AtPin,
    /// HEAD has this many commits the pin lacks (and the pin none that
    /// HEAD lacks).
    Ahead(usize),
    /// The pin has this many commits HEAD lacks (and HEAD none that the
    /// pin lacks).
    Behind(usize),
    /// Each has commits the other lacks.
    Diverged {
        /// Commits in HEAD that the pin lacks.
        ahead: usize,
        /// Commits in the pin that HEAD lacks.
        behind: usize,
    },
    /// The folder is not there.
    Missing,
    /// Tracked files are changed.
    Dirty,
    /// Checked out, but no pin names it.
    NotPinned,
    /// The pinned commit is not in the checkout (fetch it, or sync).
    PinNotFetched,
    /// A clone whose files were never written (an interrupted checkout).
    NoWorkingTree,
    /// A git operation is under way (`rebase`, `merge in third_party/x`):
    /// `sync` refuses to move the checkout until it ends.
    InProgress(String),
    /// git could not read the checkout; what it said.
    Error(String),
    /// Its pin file at the pinned commit was refused (the reason is in
    /// `problems`), so the pins below it are unknown.
    PinFileRefused,
}

/// How a state colours its row: the most severe state of a row wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Colour {
    /// Nothing to say (not pinned, or no state).
    Plain,
    /// As pinned.
    Green,
    /// Elsewhere than the pin, nothing at risk.
    Yellow,
    /// Needs the user: changes, missing, diverged, unreadable.
    Red,
}

impl Colour {
    /// The SGR code that paints it (empty for none).
    fn code(self) -> &'static str {
        match self {
            Colour::Plain => "",
            Colour::Green => "32",
            Colour::Yellow => "33",
            Colour::Red => "31",
        }
    }
}

impl State {
    /// Its name in the `--json` document, and the colour it gives its row.
    pub fn name_and_colour(&self) -> (&'static str, Colour) {
        match self {
            State::AtPin => ("at_pin", Colour::Green),
            State::Ahead(_) => ("ahead", Colour::Yellow),
            State::Behind(_) => ("behind", Colour::Yellow),
            State::Diverged { .. } => ("diverged", Colour::Red),
            State::Missing => ("missing", Colour::Red),
            State::Dirty => ("dirty", Colour::Red),
            State::NotPinned => ("not_pinned", Colour::Plain),
            State::PinNotFetched => ("pin_not_fetched", Colour::Yellow),
            State::NoWorkingTree => ("no_working_tree", Colour::Red),
            State::InProgress(_) => ("in_progress", Colour::Red),
            State::Error(_) => ("error", Colour::Red),
            State::PinFileRefused => ("pin_file_refused", Colour::Red),
        }
    }

    /// Its text in the table's state column.
    pub fn text(&self) -> String {
        match self {
            State::AtPin => "at pin".into(),
            State::Ahead(n) => format!("ahead {n}"),
            State::Behind(n) => format!("behind {n}"),
            State::Diverged { ahead, behind } => format!("diverged ({ahead} ahead, {behind} behind)"),
            State::Missing => "missing".into(),
            State::Dirty => "dirty".into(),
            State::NotPinned => "not pinned".into(),
            State::PinNotFetched => "pin not fetched".into(),
            State::NoWorkingTree => "no working tree".into(),
            State::InProgress(what) => format!("{what} in progress"),
            State::Error(message) => format!("error: {message}"),
            State::PinFileRefused => format!("{} refused (see above)", pinfile::FILE_NAME),
        }
    }
}

impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name_and_colour().0)
    }
}

impl Row {
    /// The state column of the table: `dirty, ahead 2`.
    pub(crate) fn state_text(&self) -> String {
        let texts: Vec<String> = self.state.iter().map(State::text).collect();
        if texts.is_empty() {
            "-".into()
        } else {
            texts.join(", ")
        }
    }

    /// The colour of the row: that of its most severe state.
    pub(crate) fn colour(&self) -> Colour {
        self.state
            .iter()
            .map(|state| state.name_and_colour().1)
            .max()
            .unwrap_or(Colour::Plain)
    }

    /// Whether this is a pinned dep that is not exactly as pinned: missing,
    /// elsewhere than its pin, dirty, unreadable (what `--exit-code` flags).
    fn off_pin(&self) -> bool {
        self.pin.is_some() && !self.this_project && self.state != [State::AtPin]
    }
}

/// The `--json` document of `status` (after `schema`, `command`, `ok`).
#[derive(Debug, Serialize)]
struct Document<'a> {
    /// The workspace folder.
    workspace: String,
    /// The project whose pins are compared with, if any.
    looked_from: Option<String>,
    /// Whether every pinned dep is present, at its pin and clean, and every
    /// pin file could be read (what `--exit-code` checks).
    at_pins: bool,
    /// One object per checkout.
    projects: &'a [Row],
    /// Pin files that could not be read.
    problems: Vec<crate::ui::json::Problem>,
    /// The settings in effect: `{KEY: {"value": ..., "source": ...}}`.
    settings: serde_json::Value,
    /// The projects the workspace remembers as checked out by name.
    roots: Vec<String>,
}

/// Runs `status`; returns the exit status.
pub fn run(ctx: &Context, args: &StatusArgs) -> Result<i32> {
    let workspace = ctx.workspace()?;
    let registry = ctx.registry(Some(&workspace))?;
    let from = match &args.repo {
        Some(name) => Some(super::current_project(
            ctx,
            &workspace,
            &registry,
            Some(name),
            "status",
        )?),
        None => workspace
            .project_containing(&ctx.cwd)
            .and_then(|n| registry.get(&n)),
    };
    if args.exit_code && from.is_none() {
        bail!(
            "status --exit-code compares the checkouts with a project's pins, and {} is in none: run it inside a project's folder, or name one with --repo NAME",
            ctx.cwd.display()
        );
    }

    let looked = look_from(ctx, &workspace, &registry, from)?;

    let executor = ctx.executor()?;
    let rows = executor.map(
        &looked.order,
        |_| None,
        |name| {
            let looked_from = from.map(|p| &p.name);
            let mut row = row(ctx, &workspace, name, looked.pins.get(name), looked_from);
            if looked.refused.contains(name) {
                row.state.push(State::PinFileRefused);
            }
            row
        },
    );
    let off: Vec<&str> = rows
        .iter()
        .filter(|r| r.off_pin())
        .map(|r| r.name.as_str())
        .collect();
    let at_pins = off.is_empty() && looked.problems.is_empty();
    // A refused pin file leaves status unable to say where things should
    // be: that is a failure, with or without --exit-code.
    let code = i32::from((args.exit_code && !at_pins) || !looked.problems.is_empty());
    if args.json.json {
        let document = Document {
            workspace: workspace.root().display().to_string(),
            looked_from: from.map(|p| p.name.to_string()),
            at_pins,
            projects: &rows,
            problems: looked
                .problems
                .iter()
                .map(crate::ui::json::Problem::from)
                .collect(),
            settings: ctx.settings.to_json(),
            roots: ctx.roots().iter().map(|r| r.to_string()).collect(),
        };
        crate::ui::json::print_document("status", code == 0, &document);
    } else {
        if from.is_none() {
            ctx.reporter.note(
                "(not inside a project: no pins to compare with; run status inside a project or pass --repo NAME)",
            );
        }
        crate::ui::stdout::out!("{}", render_table(&rows, &ctx.paint));
        if !ctx.reporter.is_quiet() {
            let settings = ctx.settings.render(&ctx.roots());
            crate::ui::stdout::out!("\n{}", escape_control(&settings, true));
        }
    }
    if args.exit_code && code != 0 && !off.is_empty() {
        ctx.reporter.note(&format!("not as pinned: {}", off.join(", ")));
    }
    Ok(code)
}

/// The pins in force seen from a project, and the order of the rows.
#[derive(Default)]
struct Looked {
    /// Each pinned dep's commit and the project whose pin it is.
    pins: BTreeMap<RepoName, (CommitId, RepoName)>,
    /// The project looked from, its deps nearest pinner first, then every
    /// other project folder.
    order: Vec<RepoName>,
    /// Pin files that could not be read.
    problems: Vec<Failure>,
    /// The deps whose pin file was refused.
    refused: Vec<RepoName>,
}

/// The pins in force from `from`, nearest pinner first, read without any
/// network.
fn look_from(
    ctx: &Context,
    workspace: &Workspace,
    registry: &crate::model::registry::Registry,
    from: Option<&Project>,
) -> Result<Looked> {
    let mut looked = Looked::default();
    if let Some(project) = from {
        looked.order.push(project.name.clone());
        let (chosen, failures) = pins_in_force(ctx, workspace, registry, project)?;
        for (dep, commit, by) in chosen {
            looked.order.push(dep.clone());
            looked.pins.insert(dep, (commit, by));
        }
        // A dep whose pin file was refused still has its own pin: its row
        // shows it, and the refusal.
        for (failure, (dep, commit, by)) in failures {
            looked.problems.push(failure);
            looked.refused.push(dep.clone());
            looked.order.push(dep.clone());
            looked.pins.insert(dep, (commit, by));
        }
    }
    for name in crate::model::workspace::project_folders(workspace) {
        if !looked.order.contains(&name) {
            looked.order.push(name);
        }
    }
    Ok(looked)
}

/// A pin in force: the dep, its commit, and the project whose pin it is.
pub(crate) type PinInForce = (RepoName, CommitId, RepoName);

/// A pin file that could not be read, with the pin its dep was chosen at.
pub(crate) type RefusedPin = (Failure, PinInForce);

/// The pins that `sync` would apply from `project`, as far as they can be
/// read locally: `(dep, commit, pinned_by)` in resolution order, and the
/// pin files that could not be read (each also warned about), each with
/// the pin its dep was chosen at.
pub(crate) fn pins_in_force(
    ctx: &Context,
    workspace: &Workspace,
    registry: &crate::model::registry::Registry,
    project: &Project,
) -> Result<(Vec<PinInForce>, Vec<RefusedPin>)> {
    let path = workspace.project_dir(&project.name).join(pinfile::FILE_NAME);
    let root_pins = if path.exists() {
        pinfile::read(&path)?
    } else {
        Pins::default()
    };
    let options = SyncOptions::default();
    let mut source = WorkspacePins::new(ctx, workspace, registry, &options, Mode::Look);
    let resolution = resolve::resolve(registry, vec![(project, root_pins)], &[], &mut source);
    for failure in &resolution.failures {
        ctx.reporter
            .warn(&format!("{}: {:#}", failure.project, failure.error));
    }
    // Read locally only: a pin not fetched yet, or a partial clone without
    // the pin file at the pin, hides the pins below it. A missing dep shows
    // as such; its pins are not the question.
    for dep in &resolution.unresolved_below {
        let chosen = resolution.chosen.iter().find(|c| &c.dep == dep);
        if let Some(chosen) = chosen.filter(|c| !source.was_missing(&c.dep)) {
            ctx.reporter.note(&format!(
                "{dep}: its own pins at {} are not known here: that commit or its {} has not been fetched \
                 (`sync` fetches it)",
                chosen.commit.short(),
                pinfile::FILE_NAME
            ));
        }
    }
    let pin = |c: resolve::Chosen| (c.dep, c.commit, c.pinned_by);
    let chosen = resolution.chosen.into_iter().map(pin).collect();
    let failed = resolution.failures.into_iter().zip(resolution.refused);
    let refused = failed.map(|(failure, c)| (failure, pin(c))).collect();
    Ok((chosen, refused))
}

/// Where the checkout of `name` stands against `pin`, the pin in force
/// seen from `looked_from`.
pub(crate) fn row(
    ctx: &Context,
    workspace: &Workspace,
    name: &RepoName,
    pin: Option<&(CommitId, RepoName)>,
    looked_from: Option<&RepoName>,
) -> Row {
    let this_project = looked_from == Some(name);
    let dir = workspace.project_dir(name);
    let mut row = Row {
        name: name.to_string(),
        path: dir.display().to_string(),
        present: dir.join(".git").exists(),
        pin: pin.map(|(c, _)| c.to_string()),
        pinned_by: pin.map(|(_, by)| by.to_string()),
        this_project,
        ..Row::default()
    };
    if !row.present {
        row.state.push(State::Missing);
        return row;
    }
    let status = match ctx.git.worktree_status(&dir) {
        Ok(s) => s,
        Err(e) => {
            // Classed as the failures of other commands are: `status`
            // shows the same causes where it reports one.
            let cause = e.cause();
            let said = Some(e.telling_line()).filter(|l| !l.is_empty());
            let said = said.unwrap_or_else(|| "git status failed".to_string());
            let message = match cause {
                crate::git::Cause::Other => said,
                _ => format!("{}: {said}", cause.words()),
            };
            row.state.push(State::Error(message.clone()));
            row.error = Some(message);
            row.cause = Some(cause.id());
            return row;
        }
    };
    let WorktreeStatus {
        head,
        branch,
        changed,
        untracked,
    } = status;
    row.head = head.as_ref().map(|h| h.to_string());
    row.branch = branch;
    row.changed = changed;
    row.untracked = untracked;
    if crate::git::Git::lacks_working_tree(&dir) && head.is_some() {
        // Cloned without a checkout, and interrupted before one: every
        // file would count as deleted.
        row.state.push(State::NoWorkingTree);
    } else if changed > 0 {
        row.state.push(State::Dirty);
    }
    for under_way in super::in_progress::under_way(&dir, true, &[], &|_| true) {
        row.in_progress.push(under_way.short());
        row.state.push(State::InProgress(under_way.short()));
    }
    if !this_project && looked_from.is_some() {
        compare_with_pin(ctx, &dir, pin.map(|(c, _)| c), head.as_ref(), &mut row);
    }
    row
}

/// Adds to `row` where HEAD stands against the pin in force: at it, ahead,
/// behind, diverged, not pinned, or the pin not fetched.
fn compare_with_pin(
    ctx: &Context,
    dir: &std::path::Path,
    pin: Option<&CommitId>,
    head: Option<&CommitId>,
    row: &mut Row,
) {
    match (pin, head) {
        (None, _) => row.state.push(State::NotPinned),
        (Some(commit), Some(head)) if head == commit => {
            row.ahead = Some(0);
            row.behind = Some(0);
            row.state.push(State::AtPin);
        }
        (Some(commit), _) => match ctx.git.behind_ahead(dir, commit) {
            Ok((behind, ahead)) => {
                row.ahead = Some(ahead);
                row.behind = Some(behind);
                row.state.push(match (ahead, behind) {
                    (0, 0) => State::AtPin,
                    (_, 0) => State::Ahead(ahead),
                    (0, _) => State::Behind(behind),
                    _ => State::Diverged { ahead, behind },
                });
            }
            Err(_) => row.state.push(State::PinNotFetched),
        },
    }
}

/// The aligned table for terminals and logs.
pub fn render_table(rows: &[Row], paint: &Paint) -> String {
    let header = ["PROJECT", "HEAD", "PIN", "STATE"].map(String::from);
    let cells: Vec<[String; 4]> = std::iter::once(header).chain(rows.iter().map(cells)).collect();
    let width = |i: usize| cells.iter().map(|c| c[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        // Line 0 is the header, which is not painted.
        let colour = i.checked_sub(1).map_or("", |row| rows[row].colour().code());
        let state = if colour.is_empty() {
            cell[3].clone()
        } else {
            paint.paint(colour, &cell[3])
        };
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {state}\n",
            cell[0], cell[1], cell[2]
        ));
    }
    out
}

/// A row's cells in the table: project, HEAD, pin, state.
fn cells(r: &Row) -> [String; 4] {
    let head = match (&r.head, &r.branch) {
        (Some(h), Some(b)) => format!("{} {}", &h[..7], escape_control(b, false)),
        (Some(h), None) => format!("{} detached", &h[..7]),
        (None, _) if r.present => "(no commits)".into(),
        (None, _) => "-".into(),
    };
    let pin = match (&r.pin, &r.pinned_by) {
        (Some(p), Some(by)) => format!("{} ({by})", &p[..7]),
        _ if r.this_project => "(looking from here)".into(),
        _ => "-".into(),
    };
    let state = escape_control(&r.state_text(), false).into_owned();
    [r.name.clone(), head, pin, state]
}
