//! `undo`: put the checkouts back where an undo record says they stood
//! before a run moved them (`crate::model::undo`), with `sync`'s rules:
//! all or nothing, never over uncommitted changes or an operation under
//! way, never losing a commit, a branch put back where it was.

use std::time::Instant;

use anyhow::{bail, Result};

use super::Context;
use crate::cli::UndoArgs;
use crate::exec;
use crate::model::registry::Registry;
use crate::model::undo::{self, Record, ValidStand};
use crate::model::workspace::Workspace;
use crate::plan::undo::{Now, ProjectNow, UndoPlan};
use crate::ui::report::Failure;
use crate::ui::stdout::outln;

/// Runs `undo`; returns the exit status.
pub fn run(ctx: &Context, args: &UndoArgs) -> Result<i32> {
    let workspace = ctx.workspace()?;
    let records = undo::load_all(workspace.root())?;
    if args.list {
        list(ctx, &records);
        return Ok(0);
    }
    let n = usize::from(args.number);
    let Some(record) = records.get(n - 1) else {
        bail!(
            "there is no undo record {n}: the workspace holds {} (a record is made by each checkout, sync or \
             roll --sync that moves checkouts; `undo --list` shows them)",
            records.len()
        );
    };
    let registry = ctx.registry(Some(&workspace))?;
    let _lock = super::lock_unless_dry_run(ctx, &workspace, &registry, "undo")?;
    let stands: Vec<ValidStand> = record
        .projects
        .iter()
        .map(|s| s.validate().map_err(|e| anyhow::anyhow!("undo record {n}: {e}")))
        .collect::<Result<_>>()?;
    let now: Vec<ProjectNow> = stands
        .iter()
        .map(|s| now_of(ctx, &workspace, &registry, s))
        .collect();
    let plan = crate::plan::undo::plan(&stands, &now);
    apply(ctx, n, record, &plan)
}

/// Refuses, prints the dry run, or moves; then names what the run cloned.
fn apply(ctx: &Context, n: usize, record: &Record, plan: &UndoPlan) -> Result<i32> {
    let lines: Vec<String> = plan.plans.iter().flat_map(|p| p.lines()).collect();
    // With `--json`: the document, however the run ends.
    let document = |ok: bool, failures: &[Failure]| {
        if !ctx.json {
            return;
        }
        let body = serde_json::json!({
            "record": n,
            "recorded_command": record.command,
            "when": record.when,
            "dry_run": ctx.dry_run,
            "commands": lines,
            "moved": plan.plans.iter().map(|p| p.project.to_string()).collect::<Vec<_>>(),
            "in_place": plan.in_place.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "refused": plan.refusals,
            "cloned_left": record.cloned,
            "failures": failures.iter().map(crate::ui::json::Problem::from).collect::<Vec<_>>(),
        });
        crate::ui::json::print_document("undo", ok, body);
    };
    if !plan.refusals.is_empty() {
        for refusal in &plan.refusals {
            ctx.reporter
                .error(&crate::model::text::escape_control(refusal, false));
        }
        document(false, &[]);
        bail!("undo changed nothing: put right what is said above, then undo again");
    }
    if ctx.dry_run {
        if !ctx.json {
            outln!("Would run:");
            for line in &lines {
                outln!("{line}");
            }
            if lines.is_empty() {
                outln!("  nothing: every checkout is where record {n} says");
            }
        }
        name_cloned(ctx, record);
        document(true, &[]);
        return Ok(0);
    }
    let failures = run_moves(ctx, plan)?;
    name_cloned(ctx, record);
    document(failures.is_empty(), &failures);
    Ok(i32::from(!failures.is_empty()))
}

/// Runs the moves, every project at once up to `--jobs`.
fn run_moves(ctx: &Context, plan: &UndoPlan) -> Result<Vec<Failure>> {
    let started = Instant::now();
    let executor = ctx.executor()?;
    let jobs = executor.jobs();
    ctx.reporter.begin("undo", plan.plans.len());
    let results = executor.map(
        &plan.plans,
        |_| None,
        |p| {
            let result = exec::run_project(&ctx.git, &ctx.reporter, jobs, p);
            ctx.reporter.done(&p.project, None);
            result
        },
    );
    ctx.reporter.clear();
    let mut failures = Vec::new();
    for (p, result) in plan.plans.iter().zip(results) {
        match result {
            Ok(()) if ctx.prints_results() => outln!("{}: put back", p.project),
            Ok(()) => {}
            Err(error) => failures.push(Failure {
                project: p.project.clone(),
                error,
            }),
        }
    }
    let moved = plan.plans.len() - failures.len();
    ctx.reporter.summary(
        "undo",
        &[("put back", moved), ("already in place", plan.in_place.len())],
        &failures,
        started.elapsed(),
    );
    Ok(failures)
}

/// Names the projects the undone run cloned: undo never deletes a folder.
fn name_cloned(ctx: &Context, record: &Record) {
    if !record.cloned.is_empty() {
        ctx.reporter.note(&format!(
            "{} cloned by that run: left in place (remove {} yourself if unwanted)",
            record.cloned.join(", "),
            if record.cloned.len() == 1 { "it" } else { "them" }
        ));
    }
}

/// Where the project of `stand` and its recorded submodules stand now.
fn now_of(ctx: &Context, workspace: &Workspace, registry: &Registry, stand: &ValidStand) -> ProjectNow {
    let dir = workspace.project_dir(&stand.name);
    let with_submodules =
        registry.get(&stand.name).is_some_and(|p| p.submodules) || !stand.submodules.is_empty();
    let mut project = checkout_now(ctx, &dir, &stand.commit);
    let paths: Vec<String> = stand.submodules.iter().map(|(p, _)| p.clone()).collect();
    for u in super::in_progress::under_way(&dir, with_submodules, &paths, &|_| true) {
        project.under_way.push(format!(
            "{} is under way in {}; {}",
            u.operation.name(),
            u.worktree.display(),
            u.operation.how_to_end()
        ));
    }
    if let Some(branch) = &stand.branch {
        project.branch_at = ctx.git.branch_commit(&dir, branch).ok().flatten();
    }
    project.orphan = ctx.git.orphanable_head(&dir).ok().flatten();
    let submodules = stand
        .submodules
        .iter()
        .map(|(path, commit)| {
            let mut sub = checkout_now(ctx, &dir.join(path), commit);
            // A commit the superproject recorded is one a checkout put there.
            sub.orphan = ctx
                .git
                .orphanable_head(&dir.join(path))
                .ok()
                .flatten()
                .filter(|head| !ctx.git.recorded_in_history(&dir, path, head).unwrap_or(false));
            sub
        })
        .collect();
    ProjectNow {
        dir,
        project,
        submodules,
    }
}

/// HEAD, branch, changes and whether `commit` is there, for one checkout.
fn checkout_now(ctx: &Context, dir: &std::path::Path, commit: &crate::model::types::CommitId) -> Now {
    if crate::git::git_dir_of(dir).is_none() {
        return Now::default();
    }
    let status = ctx.git.worktree_status(dir).unwrap_or_default();
    Now {
        exists: true,
        head: status.head,
        branch: status.branch,
        changed: status.changed,
        has_commit: ctx
            .git
            .head_and_presence(dir, commit)
            .is_ok_and(|(_, present)| present),
        ..Now::default()
    }
}

/// `undo --list`: each record, newest first, with what it moved.
fn list(ctx: &Context, records: &[Record]) {
    if ctx.json {
        let entries: Vec<serde_json::Value> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::json!({
                    "number": i + 1,
                    "when": r.when,
                    "command": r.command,
                    "projects": r.projects,
                    "cloned": r.cloned,
                })
            })
            .collect();
        crate::ui::json::print_document("undo", true, serde_json::json!({"records": entries}));
        return;
    }
    if records.is_empty() {
        outln!("No undo records yet: checkout, sync and roll --sync record where checkouts stood before they move them.");
        return;
    }
    for (i, r) in records.iter().enumerate() {
        outln!("{}  {}  {}", i + 1, undo::format_utc(r.when), r.command);
        for p in &r.projects {
            let at = match &p.branch {
                Some(b) => format!("{} on {b}", short(&p.commit)),
                None => short(&p.commit).to_string(),
            };
            let to =
                p.to.as_deref()
                    .map(|t| format!(" -> {}", short(t)))
                    .unwrap_or_default();
            let subs = match p.submodules.len() {
                0 => String::new(),
                1 => ", 1 submodule".to_string(),
                k => format!(", {k} submodules"),
            };
            let line = format!("   {}: {at}{to}{subs}", p.name);
            outln!("{}", crate::model::text::escape_control(&line, false));
        }
        if !r.cloned.is_empty() {
            outln!("   cloned: {}", r.cloned.join(", "));
        }
    }
}

/// A commit id of a record, shortened as everywhere else.
fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}
