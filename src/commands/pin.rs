//! `pin`: rewrite a project's `sync_deps.py` from what its deps have checked
//! out, optionally checking first that every commit is upstream.

use std::time::Instant;

use anyhow::{anyhow, Context as _, Result};
use serde::Serialize;

use super::Context;
use crate::cli::PinArgs;
use crate::exec::step::ProjectPlan;
use crate::git::CommitSummary;
use crate::model::pinfile::{self, Pins};
use crate::model::registry::Project;
use crate::model::text::escape_control;
use crate::ui::report::Failure;

/// Runs `pin`; returns the exit status.
pub fn run(ctx: &Context, args: &PinArgs) -> Result<i32> {
    let started = Instant::now();
    let workspace = ctx.workspace()?;
    let registry = ctx.registry(Some(&workspace))?;
    let project = super::current_project(ctx, &workspace, &registry, args.target.repo.as_deref(), "pin")?;
    let path = workspace.project_dir(&project.name).join(pinfile::FILE_NAME);
    let title = format!("pin {}", project.name);
    let mut document = Document::new(project, &path, ctx.dry_run);
    if project.deps.is_empty() {
        if ctx.json {
            crate::ui::json::print_document("pin", true, document);
        } else {
            crate::ui::stdout::outln!("{} has no deps in the registry: nothing to pin", project.name);
        }
        return Ok(0);
    }
    let _lock = super::lock_unless_dry_run(ctx, &workspace, &registry, "pin")?;

    let old_text = pinfile::read_raw(&path)?;
    let old_pins = match &old_text {
        Some(bytes) => pinfile::parse_bytes(bytes, &path).map_err(|e| {
            anyhow!("{e}\n  pin keeps the pins it finds there; fix the file (or delete it to start afresh), then pin again")
        })?,
        None => Pins::default(),
    };

    let executor = ctx.executor()?;
    let (heads, mut failures) = dep_heads(ctx, &workspace, &registry, project)?;
    if failures.is_empty() && args.require_upstream {
        failures = check_upstream(ctx, executor, &workspace, &heads);
    }
    if !failures.is_empty() {
        ctx.reporter.summary(&title, &[], &failures, started.elapsed());
        ctx.reporter.error(&format!("{} was not changed", path.display()));
        if ctx.json {
            document.failures = failures.iter().map(crate::ui::json::Problem::from).collect();
            crate::ui::json::print_document("pin", false, document);
        }
        return Ok(1);
    }

    let (pins, moved) = new_pins(ctx, project, &old_pins, &heads, &mut document);
    let text = pinfile::render(&pins);
    if old_text.as_deref() == Some(text.as_bytes()) {
        ctx.reporter.note(&format!("{} is unchanged", path.display()));
    } else if ctx.dry_run {
        if !ctx.json {
            crate::ui::stdout::outln!("would write {}", path.display());
        }
        document.changed = true;
    } else {
        pinfile::write(&path, &pins)
            .with_context(|| format!("could not write {}; the old file is intact", path.display()))?;
        ctx.reporter.note(&format!("wrote {}", path.display()));
        document.changed = true;
        document.written = true;
    }
    let unchanged = heads.len() - moved;
    if ctx.json {
        crate::ui::json::print_document("pin", true, document);
    } else {
        let moved_label = if ctx.dry_run { "to move" } else { "moved" };
        ctx.reporter.summary(
            &title,
            &[(moved_label, moved), ("unchanged", unchanged)],
            &[],
            started.elapsed(),
        );
    }
    Ok(0)
}

/// Each registry dep with what it has checked out.
type Heads<'r> = Vec<(&'r Project, CommitSummary)>;

/// What each registry dep of `project` has checked out (one `git log -1`
/// per dep, in parallel), and the deps that could not say.
fn dep_heads<'r>(
    ctx: &Context,
    workspace: &crate::model::workspace::Workspace,
    registry: &'r crate::model::registry::Registry,
    project: &Project,
) -> Result<(Heads<'r>, Vec<Failure>)> {
    let deps: Vec<&Project> = project.deps.iter().filter_map(|d| registry.get(d)).collect();
    let executor = ctx.executor()?;
    let summaries = executor.map(&deps, |_| None, |dep| -> Result<CommitSummary> {
        let dir = workspace.project_dir(&dep.name);
        if !dir.join(".git").exists() {
            return Err(anyhow!(
                "{} is not checked out at {}; run `openxla-workspace checkout {}` (or remove it from {}'s deps)",
                dep.name,
                dir.display(),
                dep.name,
                project.name
            ));
        }
        Ok(ctx.git.head_summary(&dir)?)
    });
    let mut failures = Vec::new();
    let mut heads = Vec::new();
    for (dep, summary) in deps.iter().zip(summaries) {
        match summary {
            Ok(s) => heads.push((*dep, s)),
            Err(error) => failures.push(Failure {
                project: dep.name.clone(),
                error,
            }),
        }
    }
    Ok((heads, failures))
}

/// The pins `heads` make of `old_pins` (each dep's origin and submodules
/// flag too), printing each and recording it in `document`; with how many
/// moved. Pins of projects that are not registry deps are kept, and said.
fn new_pins(
    ctx: &Context,
    project: &Project,
    old_pins: &Pins,
    heads: &[(&Project, CommitSummary)],
    document: &mut Document,
) -> (Pins, usize) {
    let mut pins = old_pins.clone();
    let mut moved = 0;
    for (dep, summary) in heads {
        let before = old_pins.pin(&dep.name).cloned();
        if before.as_ref() != Some(&summary.id) {
            moved += 1;
        }
        pins.set_pin(dep.name.clone(), summary.id.clone());
        pins.set_origin(dep.name.clone(), dep.ro_url.clone());
        pins.set_submodules(dep.name.clone(), dep.submodules);
        if ctx.prints_results() {
            // The subject is anyone's text: escaped, so that it cannot
            // repaint the line or the terminal.
            crate::ui::stdout::outln!(
                "{}: {} {} : {}",
                dep.name,
                summary.id.short(),
                escape_control(&summary.date, false),
                escape_control(&summary.subject, false)
            );
        }
        document.pins.push(PinRecord {
            name: dep.name.to_string(),
            commit: summary.id.to_string(),
            was: before.map(|c| c.to_string()),
            date: summary.date.clone(),
            subject: summary.subject.clone(),
        });
    }
    for (name, commit) in old_pins.pinned() {
        if !project.deps.contains(name) {
            ctx.reporter.warn(&format!(
                "kept the pin {name}: {} although {name} is not a registry dep of {}; delete it from {} if it is no longer needed",
                commit.short(),
                project.name,
                pinfile::FILE_NAME
            ));
        }
    }

    (pins, moved)
}

/// The `--json` document of `pin` (after `schema`, `command`, `ok`).
#[derive(Default, Serialize)]
struct Document {
    project: String,
    /// The pin file.
    file: String,
    dry_run: bool,
    /// One per registry dep, in the registry's order.
    pins: Vec<PinRecord>,
    /// Whether the file's text changes (or, in a dry run, would).
    changed: bool,
    /// Whether it was written.
    written: bool,
    /// What stopped the pin (nothing was written).
    failures: Vec<crate::ui::json::Problem>,
}

impl Document {
    fn new(project: &Project, path: &std::path::Path, dry_run: bool) -> Document {
        Document {
            project: project.name.to_string(),
            file: path.display().to_string(),
            dry_run,
            ..Document::default()
        }
    }
}

/// One dep's pin, as `pin` set it.
#[derive(Serialize)]
struct PinRecord {
    name: String,
    commit: String,
    /// The pin before, if there was one.
    was: Option<String>,
    /// Committer date of the commit, `YYYY-MM-DD`.
    date: String,
    /// Its subject line.
    subject: String,
}

/// Fetches each dep's tracking branch and checks that its pinned commit is
/// an ancestor of it, all deps in parallel. Returns every failure.
fn check_upstream(
    ctx: &Context,
    executor: &crate::exec::Executor,
    workspace: &crate::model::workspace::Workspace,
    heads: &[(&Project, CommitSummary)],
) -> Vec<Failure> {
    let deps: Vec<&Project> = heads.iter().map(|(dep, _)| *dep).collect();
    let plans = crate::plan::fetch_tracking_branches(workspace, &deps);
    if ctx.dry_run {
        super::print_commands(ctx, plans.iter().flat_map(ProjectPlan::lines));
        return Vec::new();
    }
    let work: Vec<(&ProjectPlan, &(&Project, CommitSummary))> = plans.iter().zip(heads).collect();
    let results = executor.map(
        &work,
        |(_, (dep, _))| dep.ro_url.host().map(str::to_string),
        |(plan, (dep, summary))| -> Result<()> {
            let dir = workspace.project_dir(&dep.name);
            crate::exec::run_project(&ctx.git, &ctx.reporter, executor.jobs(), plan)?;
            if ctx.git.is_ancestor_of_remote_branch(&dir, &summary.id, &dep.tracking_branch)? {
                Ok(())
            } else {
                Err(anyhow!(
                    "{} is not on origin/{} (fetched just now); push it upstream first, or check out a commit that is",
                    summary.id.short(),
                    dep.tracking_branch
                ))
            }
        },
    );
    super::failures(heads.iter().map(|(dep, _)| &dep.name).zip(results))
}
