//! `sync`: move each dependency to its pin, recursively (SPEC section 3):
//! resolve every level, check that every pinned commit is present, then
//! apply the checkouts in parallel.

use std::time::Instant;

use anyhow::{bail, Result};

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

/// Runs `sync`; returns the exit status.
pub fn run(ctx: &Context, args: &SyncArgs) -> Result<i32> {
    let workspace = ctx.workspace()?;
    let registry = ctx.registry(Some(&workspace))?;
    let project = super::current_project(ctx, &workspace, &registry, args.target.repo.as_deref(), "sync")?;
    let options = SyncOptions {
        exclude_dep: args.exclude.exclude_dep.clone(),
        exclude_submodule: args.exclude.exclude_submodule.clone(),
        depth: super::depth(args.depth),
        force: args.force,
        read_only: args.ro,
        dry_run: ctx.dry_run,
        cache: ctx.cache.clone(),
        fresh: Default::default(),
    };
    let _lock = if ctx.dry_run {
        None
    } else {
        Some(super::lock_workspace(ctx, &workspace, &registry, "sync")?)
    };
    sync_project(ctx, &workspace, &registry, project, &options)
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
    let started = Instant::now();
    let pin_path = workspace.project_dir(&root.name).join(pinfile::FILE_NAME);
    if !pin_path.exists() {
        if root.deps.is_empty() {
            ctx.reporter.note(&format!(
                "{} has no deps in the registry: nothing to sync",
                root.name
            ));
            return Ok(0);
        }
        bail!(
            "{}: {} not found; run `openxla-workspace pin` in {} to create it from what is checked out",
            root.name,
            pin_path.display(),
            root.name
        );
    }
    let root_pins = pinfile::read(&pin_path)?;

    let executor = ctx.executor()?;
    let resolver = Resolver {
        workspace,
        registry,
        git: &ctx.git,
        reporter: &ctx.reporter,
        executor: &executor,
        options,
    };
    let resolution = resolver.resolve(root, root_pins);
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
        ctx.reporter.summary(
            &format!("sync {}", root.name),
            &[],
            &resolution.failures,
            started.elapsed(),
        );
        resolution.discard_unplaced();
        eprintln!("error: stopped before changing any working tree: the commits above could not be had");
        return Ok(1);
    }

    let plans = apply_plans(workspace, registry, &resolution, options);
    if options.dry_run {
        print_dry_run(ctx, root, &resolution, &plans);
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
    ctx.reporter.begin(&format!("sync {}", root.name), plans.len());
    let results = executor.map_prioritised(
        &plans,
        ProjectPlan::updates_submodules,
        |_| None,
        |p| {
            let result = exec::run_project(&ctx.git, &ctx.reporter, jobs, p);
            ctx.reporter.done(&p.project, None);
            result
        },
    );
    resolution.discard_unplaced();
    ctx.reporter.clear();
    let mut failures = Vec::new();
    let mut moved = 0;
    for (chosen, (plan, result)) in resolution.chosen.iter().zip(plans.iter().zip(results)) {
        let moves = plan.steps.iter().any(|s| matches!(s, Step::Checkout { .. }));
        match result {
            Ok(()) => {
                if moves {
                    moved += 1;
                }
                println!("{}", result_line(chosen, moves));
            }
            Err(error) => failures.push(Failure {
                project: chosen.dep.clone(),
                error,
            }),
        }
    }
    let at_pin = resolution.chosen.len() - moved - failures.len();
    ctx.reporter.summary(
        &format!("sync {}", root.name),
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
                            });
                        } else {
                            steps.push(plan::clone_step(
                                workspace,
                                project,
                                options.read_only,
                                options.depth,
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

fn print_dry_run(ctx: &Context, root: &Project, resolution: &Resolution, plans: &[ProjectPlan]) {
    println!("Pins resolved for {}:", root.name);
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
