//! `sync`: move each dependency to its pin, recursively:
//! resolve every level, check that every pinned commit is present, then
//! apply the checkouts in parallel.

use std::time::Instant;

use anyhow::{bail, Result};
use serde::Serialize;

use super::Context;
use crate::cli::SyncArgs;
use crate::exec;
use crate::git::Git;
use crate::pinfile;
use crate::plan::{self, ProjectPlan, Step, SUBMODULE_DEPTH};
use crate::registry::{Project, Registry};
use crate::report::Failure;
use crate::resolve::{Chosen, DepState, Resolution, Resolver, SyncOptions};
use crate::workspace::Workspace;

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
    let settings = &ctx.settings;
    let options = SyncOptions {
        exclude_dep: args.exclude.exclude_dep.clone(),
        exclude_submodule: args.exclude.exclude_submodule.clone(),
        depth: settings.depth.value,
        filter: settings.filter.value,
        force: args.force,
        read_only: settings.ro.value,
        dry_run: ctx.dry_run,
        cache: ctx.cache.clone(),
        fresh: Default::default(),
    };
    super::note_filter_with_cache(ctx);
    let _lock = if ctx.dry_run {
        None
    } else {
        Some(super::lock_workspace(ctx, &workspace, &registry, "sync")?)
    };
    let code = sync_roots(ctx, &workspace, &registry, &roots, &options)?;
    if ctx.json {
        let mut record = ctx.take_syncs().pop().unwrap_or_default();
        if let Some(fields) = record.as_object_mut() {
            fields.shift_remove("ok");
        }
        crate::json::print_document("sync", code == 0, record);
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
                workspace.root().join(crate::settings::FILE).display()
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

/// Syncs the deps of `root`. The caller holds the workspace lock (unless
/// this is a dry run). Returns the exit status.
pub fn sync_project(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    root: &Project,
    options: &SyncOptions,
) -> Result<i32> {
    sync_roots(ctx, workspace, registry, &[root], options)
}

/// Syncs the deps of `roots` together (their pins resolved as one, see
/// [`Resolver::resolve_roots`]). The caller holds the workspace lock
/// (unless this is a dry run). Returns the exit status.
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
    if with_pins.is_empty() {
        record(ctx, roots, &Resolution::default(), Vec::new(), &[], None);
        return Ok(0);
    }

    let executor = ctx.executor()?;
    let resolver = Resolver {
        workspace,
        registry,
        git: &ctx.git,
        reporter: &ctx.reporter,
        executor,
        options,
    };
    let resolution = resolver.resolve_roots(with_pins);
    if !options.dry_run {
        for (dep, re) in &resolution.excluded {
            ctx.reporter.note_once(&plan::excluded_dep_line(dep, re));
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

    // Check: every commit must be present before any working tree moves.
    if !resolution.failures.is_empty() {
        ctx.reporter
            .summary(&label, &[], &resolution.failures, started.elapsed());
        resolution.discard_unplaced();
        ctx.reporter
            .error("stopped before changing any working tree: the commits above could not be had");
        let deps = resolution
            .chosen
            .iter()
            .map(|c| DepRecord::new(c, "not_moved"))
            .collect();
        record(ctx, roots, &resolution, deps, &resolution.failures, None);
        return Ok(1);
    }

    let plans = apply_plans(workspace, registry, &resolution, options);
    if options.dry_run {
        if ctx.json {
            let deps = resolution
                .chosen
                .iter()
                .zip(&plans)
                .map(|(chosen, plan)| {
                    let result = match chosen.state {
                        DepState::WouldClone => "would_clone",
                        _ if plan.steps.iter().any(|s| matches!(s, Step::Checkout { .. })) => "would_move",
                        _ => "at_pin",
                    };
                    DepRecord::new(chosen, result)
                })
                .collect();
            let commands = plans
                .iter()
                .flat_map(|p| p.steps.iter().map(move |s| format!("{}: {s}", p.project)))
                .collect();
            record(ctx, roots, &resolution, deps, &[], Some(commands));
        } else {
            print_dry_run(ctx, &names, &resolution, &plans);
        }
        return Ok(0);
    }

    for chosen in &resolution.chosen {
        if let DepState::Present { fresh: false, .. } = chosen.state {
            if Git::lacks_working_tree(&workspace.project_dir(&chosen.dep)) {
                ctx.reporter.note(&format!(
                    "{}: has no files (a clone an interrupted run left without them); writing them at {}",
                    chosen.dep,
                    chosen.commit.short()
                ));
            }
        }
    }
    let jobs = executor.jobs();
    ctx.reporter.begin(&label, plans.len());
    let work: Vec<(&Chosen, &ProjectPlan)> = resolution.chosen.iter().zip(&plans).collect();
    let results = executor.map_prioritised(
        &work,
        |(_, p)| p.updates_submodules(),
        |_| None,
        |(chosen, p)| {
            let branch = branch_to_leave(ctx, workspace, chosen, p);
            let result = exec::run_project(&ctx.git, &ctx.reporter, jobs, p);
            ctx.reporter.done(&p.project, None);
            result.map(|()| branch)
        },
    );
    resolution.discard_unplaced();
    // The live display ends before results go to stdout: on one terminal
    // its redraws would leave a stale copy of it among them.
    ctx.reporter.clear();
    let mut failures = Vec::new();
    let mut moved = 0;
    let mut deps = Vec::new();
    for (chosen, (plan, result)) in resolution.chosen.iter().zip(plans.iter().zip(results)) {
        let moves = plan.steps.iter().any(|s| matches!(s, Step::Checkout { .. }));
        match result {
            Ok(left_branch) => {
                if moves {
                    moved += 1;
                }
                if ctx.prints_results() {
                    println!("{}", result_line(chosen, moves));
                }
                let mut dep = DepRecord::new(chosen, result_kind(chosen, moves));
                if let (Some(branch), true) = (left_branch, moves) {
                    let at = match &chosen.state {
                        DepState::Present { head: Some(head), .. } => head.short().to_string(),
                        _ => "?".into(),
                    };
                    // The user's branch stays where it was; only HEAD left it.
                    ctx.reporter.note(&format!(
                        "{}: left branch {} (at {at})",
                        chosen.dep,
                        crate::text::escape_control(&branch, false)
                    ));
                    dep.left_branch = Some(branch);
                }
                deps.push(dep);
            }
            Err(error) => {
                let mut dep = DepRecord::new(chosen, "failed");
                dep.error = Some(format!("{error:#}"));
                deps.push(dep);
                failures.push(Failure {
                    project: chosen.dep.clone(),
                    error,
                })
            }
        }
    }
    record(ctx, roots, &resolution, deps, &failures, None);
    let at_pin = resolution.chosen.len() - moved - failures.len();
    ctx.reporter.summary(
        &label,
        &[("moved", moved), ("already at pin", at_pin)],
        &failures,
        started.elapsed(),
    );
    Ok(if failures.is_empty() { 0 } else { 1 })
}

/// The apply phase as plans: a checkout where HEAD is not at the pin, and
/// submodules for deps that have them. One plan per chosen dep, in order.
fn apply_plans(
    workspace: &Workspace,
    registry: &Registry,
    resolution: &Resolution,
    options: &SyncOptions,
) -> Vec<ProjectPlan> {
    resolution
        .chosen
        .iter()
        .map(|chosen| {
            let repo = workspace.project_dir(&chosen.dep);
            let partial = workspace.partial_dir(&chosen.dep);
            let mut steps = Vec::new();
            // A dep cloned by this run holds nothing of the user's: no
            // orphan check before moving it.
            let mut fresh = true;
            // Where the pin is checked out: in place, or in the temporary
            // folder of a new repository, renamed into place afterwards.
            let mut in_partial = false;
            let mut marked = None;
            let head = match &chosen.state {
                DepState::Present {
                    head,
                    fresh: cloned,
                    marked: mark,
                } => {
                    fresh = *cloned;
                    marked = mark.clone();
                    head.clone()
                }
                DepState::Fetched { .. } => {
                    in_partial = true;
                    None
                }
                DepState::WouldFetch { head } => {
                    fresh = false;
                    steps.push(Step::Fetch {
                        repo: repo.clone(),
                        commit: chosen.commit.clone(),
                        depth: options.depth,
                        filter: None,
                    });
                    head.clone()
                }
                DepState::WouldClone => {
                    if let Some(project) = registry.get(&chosen.dep) {
                        if options.fetches_pins_only() {
                            in_partial = true;
                            steps.push(Step::Init {
                                url: project.url(options.read_only).clone(),
                                partial: partial.clone(),
                                commit: chosen.commit.clone(),
                            });
                            steps.push(Step::Fetch {
                                repo: partial.clone(),
                                commit: chosen.commit.clone(),
                                depth: options.depth,
                                filter: options.filter,
                            });
                        } else {
                            steps.push(plan::clone_step(
                                workspace,
                                project,
                                options.read_only,
                                options.depth,
                                options.filter,
                                true,
                                options.cache.clone(),
                            ));
                            steps.push(Step::Rename {
                                from: partial.clone(),
                                to: repo.clone(),
                            });
                        }
                    }
                    None
                }
            };
            // A clone without a working tree gets it written even when
            // its HEAD is already the pin.
            if in_partial || head.as_ref() != Some(&chosen.commit) || Git::lacks_working_tree(&repo) {
                steps.push(Step::Checkout {
                    repo: if in_partial { partial.clone() } else { repo.clone() },
                    commit: chosen.commit.clone(),
                    force: options.force || fresh,
                });
            } else if marked.as_ref() != Some(&chosen.commit)
                && !matches!(chosen.state, DepState::WouldFetch { .. })
            {
                // At the pin, but not recorded as checked out by the tool: a
                // run was stopped between the two, or an older version of
                // the tool checked it out.
                steps.push(Step::Mark {
                    repo: repo.clone(),
                    commit: chosen.commit.clone(),
                });
            }
            if in_partial {
                steps.push(Step::Rename {
                    from: partial,
                    to: repo.clone(),
                });
            }
            if registry.get(&chosen.dep).is_some_and(|p| p.submodules) {
                steps.push(Step::Submodules {
                    repo,
                    exclude: options.exclude_submodule.clone(),
                    depth: Some(SUBMODULE_DEPTH),
                    filter: options.filter,
                    cache: options.cache.clone(),
                    force: options.force,
                });
            }
            ProjectPlan {
                project: chosen.dep.clone(),
                steps,
            }
        })
        .collect()
}

fn result_line(chosen: &Chosen, moved: bool) -> String {
    let was = match &chosen.state {
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

fn print_dry_run(ctx: &Context, roots: &[&str], resolution: &Resolution, plans: &[ProjectPlan]) {
    println!("Pins resolved for {}:", roots.join(", "));
    for chosen in &resolution.chosen {
        println!(
            "  {}: {} (pinned by {})",
            chosen.dep, chosen.commit, chosen.pinned_by
        );
    }
    for (dep, re) in &resolution.excluded {
        println!("  {}", plan::excluded_dep_line(dep, re));
    }
    for dep in &resolution.unresolved_below {
        println!("  {dep}: its own pins are not known until it is cloned or fetched");
    }
    for conflict in &resolution.conflicts {
        println!("  conflict: {conflict}");
    }
    println!("Would run:");
    let mut any = false;
    for plan in plans {
        let moves = plan.steps.iter().any(|s| !matches!(s, Step::Submodules { .. }));
        for step in &plan.steps {
            if let Step::Submodules { repo, exclude, .. } = step {
                // A dep that stays put keeps its recorded submodule commits:
                // ask git (read-only) whether any wanted submodule is elsewhere.
                let settled = !moves
                    && ctx.git.submodule_status(repo).is_ok_and(|entries| {
                        entries.iter().all(|e| {
                            let key = format!("{}:{}", plan.project, e.path);
                            (e.state == crate::git::SubmoduleState::AtRecorded
                                && !Git::lacks_index(&repo.join(&e.path)))
                                || exclude.iter().any(|re| re.is_match(&key))
                        })
                    });
                if settled {
                    continue;
                }
            }
            any = true;
            println!("{}: {step}", plan.project);
        }
    }
    if !any {
        println!("  nothing: every dep is at its pin");
    }
}

/// The branch a dep's HEAD is on, when this sync is about to detach it from
/// there (a checkout the user had before, not one this run cloned).
fn branch_to_leave(
    ctx: &Context,
    workspace: &Workspace,
    chosen: &Chosen,
    plan: &ProjectPlan,
) -> Option<String> {
    let moves = plan.steps.iter().any(|s| matches!(s, Step::Checkout { .. }));
    match chosen.state {
        DepState::Present { fresh: false, .. } if moves => ctx
            .git
            .current_branch(&workspace.project_dir(&chosen.dep))
            .ok()
            .flatten(),
        _ => None,
    }
}

/// `moved`, `cloned` or `at_pin`.
fn result_kind(chosen: &Chosen, moved: bool) -> &'static str {
    match &chosen.state {
        DepState::Present { fresh: true, .. } | DepState::Fetched { .. } => "cloned",
        _ if moved => "moved",
        _ => "at_pin",
    }
}

/// One dep in the `--json` record of a sync.
#[derive(Serialize)]
struct DepRecord {
    name: String,
    commit: String,
    pinned_by: String,
    /// `moved`, `cloned`, `at_pin`, `failed`, `not_moved` (the sync
    /// stopped before moving anything), or in a dry run `would_move`,
    /// `would_clone`, `at_pin`.
    result: &'static str,
    /// HEAD before the sync, when the dep was there.
    was: Option<String>,
    /// The branch HEAD was on, when the sync detached it from there.
    left_branch: Option<String>,
    error: Option<String>,
}

impl DepRecord {
    fn new(chosen: &Chosen, result: &'static str) -> DepRecord {
        let was = match &chosen.state {
            DepState::Present {
                head, fresh: false, ..
            }
            | DepState::WouldFetch { head } => head.as_ref(),
            _ => None,
        };
        DepRecord {
            name: chosen.dep.to_string(),
            commit: chosen.commit.to_string(),
            pinned_by: chosen.pinned_by.to_string(),
            result,
            was: was.map(|c| c.to_string()),
            left_branch: None,
            error: None,
        }
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
    let conflicts: Vec<serde_json::Value> = resolution
        .conflicts
        .iter()
        .map(|c| {
            serde_json::json!({
                "dep": c.dep.to_string(),
                "used": c.used.to_string(),
                "used_by": c.used_by.to_string(),
                "other": c.other.to_string(),
                "other_by": c.other_by.to_string(),
            })
        })
        .collect();
    let unpinned: Vec<serde_json::Value> = resolution
        .unpinned
        .iter()
        .map(|(pinner, dep)| serde_json::json!({"pinner": pinner.to_string(), "dep": dep.to_string()}))
        .collect();
    let failures: Vec<crate::json::Problem> = failures
        .iter()
        .chain(&resolution.failures)
        .map(crate::json::Problem::from)
        .collect();
    // `project`: the one project synced (null for the roots of the
    // workspace together); `roots`: every project whose pins were applied.
    let project = match roots {
        [root] => serde_json::Value::from(root.name.to_string()),
        _ => serde_json::Value::Null,
    };
    let roots: Vec<String> = roots.iter().map(|r| r.name.to_string()).collect();
    let mut value = serde_json::json!({
        "project": project,
        "ok": failures.is_empty(),
        "dry_run": commands.is_some(),
        "deps": deps,
        "conflicts": conflicts,
        "unpinned": unpinned,
        "failures": failures,
    });
    if let Some(commands) = commands {
        value["commands"] = commands.into();
    }
    value["roots"] = roots.into();
    ctx.syncs.lock().unwrap_or_else(|e| e.into_inner()).push(value);
}
