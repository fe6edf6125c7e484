//! `status`: where every checkout of the workspace stands against the pins
//! of the project it is looked at from. Read-only and local: the pins below
//! the first level are read from the pinned commits already present, and
//! nothing is fetched.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::StatusArgs;
use crate::git::WorktreeStatus;
use crate::pinfile::{self, Pins};
use crate::registry::Project;
use crate::report::Paint;
use crate::resolve::{Resolver, SyncOptions};
use crate::text::{escape_control, json_for_terminal};
use crate::types::{CommitId, RepoName};
use crate::workspace::Workspace;

/// One row of `status`; also the `--json` object (a stable interface:
/// fields are only ever added).
#[derive(Debug, Serialize)]
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
    /// States, e.g. `["dirty", "ahead 2"]`: `at pin`, `ahead N`, `behind N`,
    /// `diverged`, `missing`, `dirty`, `not pinned`, `pin not fetched`,
    /// `no working tree`.
    pub state: Vec<String>,
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

    // The pins in force, nearest pinner first, read without any network.
    let mut pins: BTreeMap<RepoName, (CommitId, RepoName)> = BTreeMap::new();
    let mut order: Vec<RepoName> = Vec::new();
    if let Some(project) = from {
        order.push(project.name.clone());
        for (dep, commit, by) in pins_in_force(ctx, &workspace, &registry, project)? {
            order.push(dep.clone());
            pins.insert(dep, (commit, by));
        }
    }
    for name in project_folders(&workspace) {
        if !order.contains(&name) {
            order.push(name);
        }
    }

    let executor = ctx.executor()?;
    let rows = executor.map(
        &order,
        |_| None,
        |name| {
            let looked_from = from.map(|p| &p.name);
            row(ctx, &workspace, name, pins.get(name), looked_from)
        },
    );
    if args.json {
        // Exact data (a branch name as git has it), yet nothing a terminal
        // would act on: see `json_for_terminal`.
        println!("{}", json_for_terminal(&serde_json::to_string_pretty(&rows)?));
    } else {
        if from.is_none() {
            ctx.reporter.note(
                "(not inside a project: no pins to compare with; run status inside a project or pass --repo NAME)",
            );
        }
        print!("{}", render_table(&rows, &ctx.paint));
    }
    Ok(0)
}

/// The pins that `sync` would apply from `project`, as far as they can be
/// read locally: `(dep, commit, pinned_by)` in resolution order.
fn pins_in_force(
    ctx: &Context,
    workspace: &Workspace,
    registry: &crate::registry::Registry,
    project: &Project,
) -> Result<Vec<(RepoName, CommitId, RepoName)>> {
    let path = workspace.project_dir(&project.name).join(pinfile::FILE_NAME);
    let root_pins = if path.exists() {
        pinfile::read(&path)?
    } else {
        Pins::default()
    };
    let executor = ctx.executor()?;
    let options = SyncOptions {
        dry_run: true,
        ..SyncOptions::default()
    };
    let quiet = crate::report::Reporter::new(crate::report::Verbosity::Quiet);
    let resolver = Resolver {
        workspace,
        registry,
        git: &ctx.git,
        reporter: &quiet,
        executor: &executor,
        options: &options,
    };
    let resolution = resolver.resolve(project, root_pins);
    for failure in &resolution.failures {
        ctx.reporter
            .warn(&format!("{}: {:#}", failure.project, failure.error));
    }
    Ok(resolution
        .chosen
        .into_iter()
        .map(|c| (c.dep, c.commit, c.pinned_by))
        .collect())
}

/// Folders of the workspace that hold a checkout and are valid project names.
fn project_folders(workspace: &Workspace) -> Vec<RepoName> {
    let mut names: Vec<RepoName> = std::fs::read_dir(workspace.root())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(".git").exists())
        .filter_map(|e| e.file_name().to_str().and_then(|n| RepoName::new(n).ok()))
        .collect();
    names.sort();
    names
}

fn row(
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
        head: None,
        branch: None,
        pin: pin.map(|(c, _)| c.to_string()),
        pinned_by: pin.map(|(_, by)| by.to_string()),
        ahead: None,
        behind: None,
        changed: 0,
        untracked: 0,
        this_project,
        state: Vec::new(),
    };
    if !row.present {
        row.state.push("missing".into());
        return row;
    }
    let status = match ctx.git.worktree_status(&dir) {
        Ok(s) => s,
        Err(e) => {
            row.state.push(format!(
                "error: {}",
                escape_control(e.stderr.lines().next().unwrap_or("git status failed"), false)
            ));
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
        row.state.push("no working tree".into());
    } else if changed > 0 {
        row.state.push("dirty".into());
    }
    match (pin, &head) {
        _ if this_project || looked_from.is_none() => {}
        (None, _) => row.state.push("not pinned".into()),
        (Some((commit, _)), Some(head)) if head == commit => {
            row.ahead = Some(0);
            row.behind = Some(0);
            row.state.push("at pin".into());
        }
        (Some((commit, _)), _) => match ctx.git.behind_ahead(&dir, commit) {
            Ok((behind, ahead)) => {
                row.ahead = Some(ahead);
                row.behind = Some(behind);
                row.state.push(match (ahead, behind) {
                    (0, 0) => "at pin".into(),
                    (a, 0) => format!("ahead {a}"),
                    (0, b) => format!("behind {b}"),
                    (a, b) => format!("diverged ({a} ahead, {b} behind)"),
                });
            }
            Err(_) => row.state.push("pin not fetched".into()),
        },
    }
    row
}

/// The aligned table for terminals and logs.
pub fn render_table(rows: &[Row], paint: &Paint) -> String {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
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
            let state = if r.state.is_empty() {
                "-".to_string()
            } else {
                r.state.join(", ")
            };
            [r.name.clone(), head, pin, state, String::new()]
        })
        .collect();
    let headers = ["PROJECT", "HEAD", "PIN", "STATE"];
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
        headers[0],
        headers[1],
        headers[2],
        headers[3],
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2]
    );
    for (cell, row) in cells.iter().zip(rows) {
        let state = paint.state(&cell[3], &row.state);
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {state}\n",
            cell[0],
            cell[1],
            cell[2],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    out
}
