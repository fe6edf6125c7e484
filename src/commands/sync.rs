//! `sync`: move each dependency to its pin, recursively:
//! resolve every level, check that every pinned commit is present, then
//! apply the checkouts in parallel.

use std::time::Instant;

use anyhow::{bail, Result};

use super::presence::{Mode, WorkspacePins};
use super::sync_record::{ConflictRecord, DepRecord, SyncRecord, UnpinnedRecord};
use super::Context;
use crate::cli::SyncArgs;
use crate::exec;
use crate::exec::step::ProjectPlan;
use crate::exec::submodules;
use crate::model::exclude;
use crate::model::pinfile::{self, Pins};
use crate::model::registry::{Project, Registry};
use crate::model::types::RepoName;
use crate::model::workspace::Workspace;
use crate::plan::resolve::{self, Chosen, Resolution};
use crate::plan::{self, DepState, SyncOptions};
use crate::ui::report::Failure;

/// Runs `sync`; returns the exit status. At the top of the workspace
/// (no project around the current folder, no `--repo`), syncs every root
/// the workspace remembers, together.
pub fn run(ctx: &Context, args: &SyncArgs) -> Result<i32> {
    let workspace = ctx.workspace()?;
    let registry = ctx.registry(Some(&workspace))?;
    let at_top = args.target.repo.is_none() && workspace.project_containing(&ctx.cwd).is_none();
    let roots: Vec<&Project> = if at_top {
        workspace_roots(ctx, &workspace, &registry)?
    } else {
        vec![super::current_project(
            ctx,
            &workspace,
            &registry,
            args.target.repo.as_deref(),
            "sync",
        )?]
    };
    let options = SyncOptions {
        force: args.force,
        ..ctx.sync_options(Some(&args.exclude))
    };
    super::note_filter_with_cache(ctx);
    let _lock = super::lock_unless_dry_run(ctx, &workspace, &registry, "sync")?;
    let code = sync_roots(ctx, &workspace, &registry, &roots, &options)?;
    if ctx.json {
        // The document's own `ok` says it.
        let record = ctx
            .take_syncs()
            .pop()
            .map(|record| SyncRecord { ok: None, ..record });
        crate::ui::json::print_document("sync", code == 0, record);
    }
    Ok(code)
}

/// The roots the workspace remembers, each in the registry and checked
/// out; or the error that says why `sync` at the top has nothing to do.
fn workspace_roots<'r>(
    ctx: &Context,
    workspace: &Workspace,
    registry: &'r Registry,
) -> Result<Vec<&'r Project>> {
    let names = ctx.roots();
    if names.is_empty() {
        bail!(
            "{} is the top of the workspace, which has no roots yet: the projects `checkout NAME` names become \
             its roots, and `sync` here syncs them all. Run `sync` inside a project's folder, or name one with \
             --repo NAME",
            ctx.cwd.display()
        );
    }
    let mut roots = Vec::new();
    for name in &names {
        let project = registry.lookup(name.as_str()).map_err(|e| {
            anyhow::anyhow!(
                "{e}\n  {name} is a root of this workspace ({}); check it out under another name, or remove it \
                 from `roots` there",
                workspace.root().join(crate::model::settings::FILE).display()
            )
        })?;
        if !workspace.project_dir(&project.name).join(".git").exists() {
            bail!(
                "{name}, a root of this workspace, is not checked out in {}; run `openxla-workspace checkout {name}`",
                workspace.root().display()
            );
        }
        roots.push(project);
    }
    Ok(roots)
}

/// Syncs the deps of `roots` together (their pins resolved as one, see
/// [`resolve::resolve`]). The caller holds the workspace lock (unless this
/// is a dry run). Returns the exit status.
pub fn sync_roots(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    roots: &[&Project],
    options: &SyncOptions,
) -> Result<i32> {
    let started = Instant::now();
    let names: Vec<&str> = roots.iter().map(|r| r.name.as_str()).collect();
    let label = format!("sync {}", names.join(", "));
    let root_names: Vec<RepoName> = roots.iter().map(|r| r.name.clone()).collect();
    let exclude = (&options.exclude_dep[..], &options.exclude_submodule[..]);
    super::in_progress::refuse_if_under_way(ctx, workspace, registry, &root_names, exclude, "sync")?;
    let with_pins = root_pins(ctx, workspace, roots)?;
    if with_pins.is_empty() {
        record(ctx, roots, &Resolution::default(), Vec::new(), &[], None);
        return Ok(0);
    }

    // Resolve, making each level's pinned commits present (in a dry run:
    // planning the steps that would).
    let mode = if options.dry_run { Mode::DryRun } else { Mode::Sync };
    let mut source = WorkspacePins::new(ctx, workspace, registry, options, mode);
    let resolution = resolve::resolve(registry, with_pins, &options.exclude_dep, &mut source);
    report_resolution(ctx, &resolution, options);

    let deps = source.states_of(&resolution.chosen);

    // Check: every commit must be present before any working tree moves.
    if !resolution.failures.is_empty() {
        ctx.reporter
            .summary(&label, &[], &resolution.failures, started.elapsed());
        source.discard_unplaced();
        ctx.reporter
            .error("stopped before changing any working tree: the commits above could not be had");
        let records = deps
            .iter()
            .map(|(chosen, state)| DepRecord::new(chosen, state, "not_moved"))
            .collect();
        record(ctx, roots, &resolution, records, &resolution.failures, None);
        return Ok(1);
    }

    // Plan the apply phase from where each dep stands.
    let executor = ctx.executor()?;
    let settled = settled_submodules(ctx, executor, workspace, registry, &deps, options);
    let plans = plan::sync::plan_apply(workspace, registry, &deps, &settled, options);
    if options.dry_run {
        print_dry_run(ctx, roots, &resolution, &deps, source.presence_plans(), &plans);
        return Ok(0);
    }
    for (chosen, state) in &deps {
        if let DepState::Present {
            fresh: false,
            unwritten: true,
            ..
        } = state
        {
            ctx.reporter.note(&format!(
                "{}: has no files (a clone an interrupted run left without them); writing them at {}",
                chosen.dep,
                chosen.commit.short()
            ));
        }
    }

    note_for_undo(ctx, workspace, registry, &deps, &plans)?;

    // Apply, all deps at once up to --jobs.
    let jobs = executor.jobs();
    ctx.reporter.begin(&label, plans.len());
    let work: Vec<(&(Chosen, DepState), &ProjectPlan)> = deps.iter().zip(&plans).collect();
    let results = executor.map_prioritised(
        &work,
        |(_, p)| p.updates_submodules(),
        |_| None,
        |((chosen, state), p)| {
            let branch = branch_to_leave(ctx, workspace, chosen, state, p);
            let result = exec::run_project(&ctx.git, &ctx.reporter, jobs, p);
            ctx.reporter.done(&p.project, None);
            result.map(|()| branch)
        },
    );
    source.discard_unplaced();
    // The live display ends before results go to stdout: on one terminal
    // its redraws would leave a stale copy of it among them.
    ctx.reporter.clear();
    let (records, failures, moved) = outcomes(ctx, &deps, &plans, results);
    record(ctx, roots, &resolution, records, &failures, None);
    let at_pin = deps.len() - moved - failures.len();
    ctx.reporter.summary(
        &label,
        &[("moved", moved), ("already at pin", at_pin)],
        &failures,
        started.elapsed(),
    );
    Ok(if failures.is_empty() { 0 } else { 1 })
}

/// Each dep's record after the apply phase, the failures, and how many
/// moved; says which branch each dep left.
fn outcomes(
    ctx: &Context,
    deps: &[(Chosen, DepState)],
    plans: &[ProjectPlan],
    results: Vec<Result<Option<String>>>,
) -> (Vec<DepRecord>, Vec<Failure>, usize) {
    let mut failures = Vec::new();
    let mut moved = 0;
    let mut records = Vec::new();
    for ((chosen, state), (plan, result)) in deps.iter().zip(plans.iter().zip(results)) {
        let moves = plan.checks_out();
        match result {
            Ok(left_branch) => {
                if moves {
                    moved += 1;
                }
                if ctx.prints_results() {
                    crate::ui::stdout::outln!("{}", result_line(chosen, state, moves));
                }
                let mut dep = DepRecord::new(chosen, state, result_kind(state, moves));
                if let (Some(branch), true) = (left_branch, moves) {
                    let at = match state {
                        DepState::Present { head: Some(head), .. } => head.short().to_string(),
                        _ => "?".into(),
                    };
                    // The user's branch stays where it was; only HEAD left it.
                    ctx.reporter.note(&format!(
                        "{}: left branch {} (at {at})",
                        chosen.dep,
                        crate::model::text::escape_control(&branch, false)
                    ));
                    dep.left_branch = Some(branch);
                }
                records.push(dep);
            }
            Err(error) => {
                let mut dep = DepRecord::new(chosen, state, "failed");
                dep.error = Some(format!("{error:#}"));
                records.push(dep);
                failures.push(Failure {
                    project: chosen.dep.clone(),
                    error,
                })
            }
        }
    }
    (records, failures, moved)
}

/// The deps (with submodules, not moved) whose submodules the apply phase
/// would find nothing to do in: one look each, in parallel.
fn settled_submodules(
    ctx: &Context,
    executor: &exec::Executor,
    workspace: &Workspace,
    registry: &Registry,
    deps: &[(Chosen, DepState)],
    options: &SyncOptions,
) -> std::collections::BTreeSet<crate::model::types::RepoName> {
    let look_at = plan::sync::submodules_to_look_at(registry, deps);
    executor
        .map(
            &look_at,
            |_| None,
            |dep| {
                let settled = submodules::settled(
                    &ctx.git,
                    dep,
                    &workspace.project_dir(dep),
                    &options.exclude_submodule,
                );
                settled.then(|| (*dep).clone())
            },
        )
        .into_iter()
        .flatten()
        .collect()
}

/// Each root's own pins, read from its working tree (where a developer may
/// just have edited them), with a warning for each pin of a project that is
/// not among its registry deps. A root without deps has nothing to sync; a
/// root with deps needs its pin file.
fn root_pins<'r>(
    ctx: &Context,
    workspace: &Workspace,
    roots: &[&'r Project],
) -> Result<Vec<(&'r Project, Pins)>> {
    let mut with_pins = Vec::new();
    for root in roots {
        let pin_path = workspace.project_dir(&root.name).join(pinfile::FILE_NAME);
        if pin_path.exists() {
            with_pins.push((*root, pinfile::read(&pin_path)?));
        } else if root.deps.is_empty() {
            ctx.reporter.note(&format!(
                "{} has no deps in the registry: nothing to sync",
                root.name
            ));
        } else {
            bail!(
                "{}: {} not found; run `openxla-workspace pin` in {} to create it from what is checked out",
                root.name,
                pin_path.display(),
                root.name
            );
        }
    }
    // Most likely a mistake in the file the user is syncing from.
    for (root, pins) in &with_pins {
        for name in resolve::foreign_pins(root, pins) {
            ctx.reporter.warn(&format!(
                "{root}'s {} pins {name}, which is not one of {root}'s deps in the registry; ignored",
                pinfile::FILE_NAME,
                root = root.name
            ));
        }
    }
    Ok(with_pins)
}

/// Says what resolution found that the user should know: roots left
/// alone, exclusions (the dry run lists them itself), conflicts, deps
/// without a pin.
fn report_resolution(ctx: &Context, resolution: &Resolution, options: &SyncOptions) {
    for left in &resolution.roots_left {
        ctx.reporter.warn(&left.to_string());
    }
    if !options.dry_run {
        for (dep, re) in &resolution.excluded {
            ctx.reporter.note_once(&exclude::excluded_dep_line(dep, re));
        }
    }
    for conflict in &resolution.conflicts {
        ctx.reporter.warn(&conflict.to_string());
    }
    for (pinner, dep) in &resolution.unpinned {
        ctx.reporter.warn(&format!(
            "{pinner} depends on {dep} but its {} has no pin for it; {dep} is left as it is",
            pinfile::FILE_NAME
        ));
    }
}

fn result_line(chosen: &Chosen, state: &DepState, moved: bool) -> String {
    let was = match state {
        DepState::Present { fresh: true, .. } | DepState::Fetched { .. } => ", cloned".to_string(),
        DepState::Present { head: Some(head), .. } if moved => format!(", was {}", head.short()),
        _ if moved => String::new(),
        _ => ", already there".to_string(),
    };
    format!(
        "{}: {} (pinned by {}){was}",
        chosen.dep,
        chosen.commit.short(),
        chosen.pinned_by
    )
}

/// What a dry run prints (or, with `--json`, records): the resolution, then
/// every step the sync would run, in order: those that make the pinned
/// commits present, level by level, then the apply phase.
fn print_dry_run(
    ctx: &Context,
    roots: &[&Project],
    resolution: &Resolution,
    deps: &[(Chosen, DepState)],
    presence: &[ProjectPlan],
    plans: &[ProjectPlan],
) {
    let steps: Vec<String> = presence
        .iter()
        .chain(plans)
        .flat_map(ProjectPlan::lines)
        .collect();
    if ctx.json {
        let records = deps
            .iter()
            .zip(plans)
            .map(|((chosen, state), plan)| {
                let result = match state {
                    DepState::WouldClone => "would_clone",
                    _ if plan.checks_out() => "would_move",
                    _ => "at_pin",
                };
                DepRecord::new(chosen, state, result)
            })
            .collect();
        record(ctx, roots, resolution, records, &[], Some(steps));
        return;
    }
    let names: Vec<&str> = roots.iter().map(|r| r.name.as_str()).collect();
    crate::ui::stdout::outln!("Pins resolved for {}:", names.join(", "));
    for chosen in &resolution.chosen {
        crate::ui::stdout::outln!(
            "  {}: {} (pinned by {})",
            chosen.dep,
            chosen.commit,
            chosen.pinned_by
        );
    }
    for (dep, re) in &resolution.excluded {
        crate::ui::stdout::outln!("  {}", exclude::excluded_dep_line(dep, re));
    }
    for dep in &resolution.unresolved_below {
        crate::ui::stdout::outln!("  {dep}: its own pins are not known until it is cloned or fetched");
    }
    for (dep, pinner) in &resolution.undecided {
        crate::ui::stdout::outln!("  {dep}: its pin is not known until {pinner}'s pins are");
    }
    for conflict in &resolution.conflicts {
        crate::ui::stdout::outln!("  conflict: {conflict}");
    }
    crate::ui::stdout::outln!("Would run:");
    for line in &steps {
        crate::ui::stdout::outln!("{line}");
    }
    if steps.is_empty() {
        crate::ui::stdout::outln!("  nothing: every dep is at its pin");
    }
}

/// Records for `undo`, before anything moves, where each dep this sync will
/// move stands, and which deps it cloned.
fn note_for_undo(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    deps: &[(Chosen, DepState)],
    plans: &[ProjectPlan],
) -> Result<()> {
    let dirs: Vec<_> = deps.iter().map(|(c, _)| workspace.project_dir(&c.dep)).collect();
    let mut moves = Vec::new();
    let mut cloned = Vec::new();
    for (((chosen, state), plan), dir) in deps.iter().zip(plans).zip(&dirs) {
        match state {
            DepState::Present { fresh: false, .. } if plan.checks_out() || plan.updates_submodules() => moves
                .push(exec::undo_log::Move {
                    name: &chosen.dep,
                    dir,
                    to: Some(&chosen.commit),
                    submodules: registry.get(&chosen.dep).is_some_and(|p| p.submodules),
                }),
            DepState::Present { fresh: true, .. } | DepState::Fetched { .. } => {
                cloned.push(chosen.dep.clone())
            }
            _ => {}
        }
    }
    ctx.note_for_undo(&moves, &cloned)
}

/// The branch a dep's HEAD is on, when this sync is about to detach it from
/// there (a checkout the user had before, not one this run cloned).
fn branch_to_leave(
    ctx: &Context,
    workspace: &Workspace,
    chosen: &Chosen,
    state: &DepState,
    plan: &ProjectPlan,
) -> Option<String> {
    match state {
        DepState::Present { fresh: false, .. } if plan.checks_out() => ctx
            .git
            .current_branch(&workspace.project_dir(&chosen.dep))
            .ok()
            .flatten(),
        _ => None,
    }
}

/// `moved`, `cloned` or `at_pin`.
fn result_kind(state: &DepState, moved: bool) -> &'static str {
    match state {
        DepState::Present { fresh: true, .. } | DepState::Fetched { .. } => "cloned",
        _ if moved => "moved",
        _ => "at_pin",
    }
}

/// With `--json`, keeps what this sync did for the command's document.
fn record(
    ctx: &Context,
    roots: &[&Project],
    resolution: &Resolution,
    deps: Vec<DepRecord>,
    failures: &[Failure],
    commands: Option<Vec<String>>,
) {
    if !ctx.json {
        return;
    }
    let failures: Vec<crate::ui::json::Problem> = failures
        .iter()
        .chain(&resolution.failures)
        .map(crate::ui::json::Problem::from)
        .collect();
    let record = SyncRecord {
        // The one project synced (none for the roots of the workspace
        // together).
        project: match roots {
            [root] => Some(root.name.to_string()),
            _ => None,
        },
        ok: Some(failures.is_empty()),
        dry_run: commands.is_some(),
        deps,
        conflicts: resolution.conflicts.iter().map(ConflictRecord::from).collect(),
        unpinned: resolution
            .unpinned
            .iter()
            .map(|(pinner, dep)| UnpinnedRecord {
                pinner: pinner.to_string(),
                dep: dep.to_string(),
            })
            .collect(),
        failures,
        commands,
        roots: roots.iter().map(|r| r.name.to_string()).collect(),
    };
    ctx.syncs.lock().unwrap_or_else(|e| e.into_inner()).push(record);
}
