//! `checkout`: clone projects and the closure of their deps, in parallel.

use std::time::Instant;

use anyhow::{anyhow, bail, Result};

use super::sync::sync_project;
use super::Context;
use crate::cli::CheckoutArgs;
use crate::exec;
use crate::git::Git;
use crate::plan::{self, CheckoutOptions, CheckoutPlan, ProjectPlan, Step};
use crate::report::Failure;
use crate::resolve::SyncOptions;
use crate::types::RepoName;

/// Runs `checkout`; returns the exit status.
pub fn run(ctx: &Context, args: &CheckoutArgs) -> Result<i32> {
    if args.names.is_empty() {
        // Not left to clap: when a name was given after `--exclude-dep A`,
        // that option took it as one more value, and saying so is the help.
        eprintln!(
            "error: no project to check out was named\n  --exclude-dep and --exclude-submodule take one or more values, \
             up to the next option: name the projects first (`checkout NAME --exclude-dep A B`), or end the \
             values with `--` (`checkout --exclude-dep A B -- NAME`)"
        );
        return Ok(2);
    }
    let workspace = ctx.workspace()?;
    let registry = ctx.registry(Some(&workspace))?;

    // Every name must be known before anything is cloned.
    let mut roots: Vec<RepoName> = Vec::new();
    let mut unknown = Vec::new();
    for name in &args.names {
        match registry.lookup(name) {
            Ok(project) => {
                if !roots.contains(&project.name) {
                    roots.push(project.name.clone());
                }
            }
            Err(e) => unknown.push(e.to_string()),
        }
    }
    if !unknown.is_empty() {
        bail!(unknown.join("\n"));
    }

    let settings = &ctx.settings;
    let options = CheckoutOptions {
        with_deps: !args.no_deps,
        read_only: settings.ro.value,
        submodules: !args.no_submodules,
        exclude_dep: args.exclude.exclude_dep.clone(),
        exclude_submodule: args.exclude.exclude_submodule.clone(),
        cache: ctx.cache.clone(),
        depth: settings.depth.value,
        filter: settings.filter.value,
        defer_dep_trees: args.sync,
    };
    super::note_filter_with_cache(ctx);
    // Locked before planning: cleaning up after an interrupted run changes
    // what is there.
    let _lock = if ctx.dry_run {
        None
    } else {
        Some(super::lock_workspace(
            ctx,
            &workspace,
            &registry,
            if args.sync { "checkout --sync" } else { "checkout" },
        )?)
    };
    let plan = plan::plan_checkout(&workspace, &registry, &ctx.git, &roots, &options);
    if !ctx.dry_run {
        // The workspace remembers what was checked out by name: `sync` at
        // its top syncs these.
        super::remember_roots(&workspace, &roots)?;
    }

    let sync_options = SyncOptions {
        exclude_dep: args.exclude.exclude_dep.clone(),
        exclude_submodule: args.exclude.exclude_submodule.clone(),
        depth: settings.depth.value,
        filter: settings.filter.value,
        force: false,
        read_only: settings.ro.value,
        dry_run: ctx.dry_run,
        cache: ctx.cache.clone(),
        fresh: plan.clones.iter().map(|p| p.project.clone()).collect(),
    };

    if ctx.dry_run {
        let mut lines: Vec<String> = plan.to_string().lines().map(str::to_string).collect();
        if !plan.unwritten.is_empty() {
            let names: Vec<&str> = plan.unwritten.iter().map(|n| n.as_str()).collect();
            lines.push(format!(
                "then, for {} (no working tree yet){}: {}",
                names.join(", "),
                if args.sync { " unless a pin moves it" } else { "" },
                Git::populate_cmd(std::path::Path::new("NAME"))
            ));
        }
        for name in &plan.left_to_sync {
            lines.push(format!(
                "{name}: left to the sync, which fetches only its pinned commit (cloned at its branch if no pin names it)"
            ));
        }
        if !ctx.json {
            for line in lines.drain(..) {
                println!("{line}");
            }
        }
        let mut code = if plan.not_checkouts.is_empty() { 0 } else { 1 };
        if args.sync {
            for root in &roots {
                if workspace.project_dir(root).exists() {
                    let project = registry.lookup(root.as_str())?;
                    code = code.max(sync_project(ctx, &workspace, &registry, project, &sync_options)?);
                } else if !ctx.json {
                    println!(
                        "{root}: then sync to the pins in {root}/sync_deps.py (known once it is cloned)"
                    );
                }
            }
        }
        if ctx.json {
            crate::json::print_document(
                "checkout",
                code == 0,
                serde_json::json!({"dry_run": true, "commands": lines, "syncs": ctx.take_syncs()}),
            );
        }
        return Ok(code);
    }

    let started = Instant::now();
    let failures = execute(ctx, &plan)?;
    ctx.reporter.summary(
        "checkout",
        &[
            (
                "cloned",
                plan.clones.len() - failures.iter().filter(|f| is_clone(&plan, &f.project)).count(),
            ),
            ("already present", plan.existing.len()),
        ],
        &failures,
        started.elapsed(),
    );
    let mut results = Results::new(&plan, &failures);
    let mut code = if failures.is_empty() { 0 } else { 1 };
    // Whether every sync asked for ran to the end.
    let mut all_synced = true;
    if args.sync {
        for root in &roots {
            if !workspace.project_dir(root).join(".git").exists() {
                all_synced = false;
                continue; // its clone failed, and the summary said so
            }
            // A dep whose clone just failed would only fail again in the
            // sync, with the same error: say once why there is no sync.
            let excluded = |n: &RepoName| options.exclude_dep.iter().any(|re| re.is_match(n.as_str()));
            let closure = registry.closure(std::slice::from_ref(root), true, excluded);
            if let Some(dep) = closure.iter().find(|n| failures.iter().any(|f| &f.project == *n)) {
                ctx.reporter.warn(&format!(
                    "{root} was not synced: its dep {dep} could not be cloned (see above); once it can be, run \
                     `openxla-workspace sync --repo {root}`"
                ));
                all_synced = false;
                continue;
            }
            let project = registry.lookup(root.as_str())?;
            let synced = sync_project(ctx, &workspace, &registry, project, &sync_options);
            let synced = match synced {
                Ok(code) => code,
                Err(e) => {
                    ctx.reporter.error(&format!("{root}: {e:#}"));
                    1
                }
            };
            all_synced &= synced == 0;
            code = code.max(synced);
        }
    }
    // What no pin moved ends as a plain checkout leaves it: deps left to
    // the sync that no pin named are cloned at their branch, and clones
    // still without files get their branch written.
    let mut finish: Vec<ProjectPlan> = plan
        .left_to_sync
        .iter()
        .filter(|name| !workspace.project_dir(name).exists())
        .filter_map(|name| registry.get(name))
        .map(|project| plan::clone_plan(&workspace, project, &options, false))
        .collect();
    let cloned_late = finish.len();
    let unwritten: Vec<RepoName> = plan
        .unwritten
        .iter()
        .filter(|name| {
            let dir = workspace.project_dir(name);
            dir.exists() && Git::lacks_working_tree(&dir)
        })
        .cloned()
        .collect();
    finish.extend(plan::plan_populate(&workspace, &registry, &unwritten, &options));
    if !finish.is_empty() {
        let started = Instant::now();
        let failures = run_plans(ctx, &finish)?;
        let failed_clones = failures
            .iter()
            .filter(|f| finish[..cloned_late].iter().any(|p| p.project == f.project))
            .count();
        let mut counts = Vec::new();
        if cloned_late > 0 {
            counts.push(("cloned (no pin names them)", cloned_late - failed_clones));
        }
        if !unwritten.is_empty() {
            // Said as it is: after a sync that stopped (or never ran),
            // these deps are at their branch tip, not at any pin.
            let what = if all_synced {
                "branch checked out (no pin names them)"
            } else {
                "left at their branch tip, not synced"
            };
            counts.push((what, unwritten.len() - (failures.len() - failed_clones)));
        }
        ctx.reporter
            .summary("checkout", &counts, &failures, started.elapsed());
        for plan in &finish[..cloned_late] {
            results.set(&plan.project, "cloned", None);
        }
        for failure in &failures {
            results.set(&failure.project, "failed", Some(format!("{:#}", failure.error)));
        }
        if !failures.is_empty() {
            code = 1;
        }
    }
    if ctx.json {
        crate::json::print_document(
            "checkout",
            code == 0,
            serde_json::json!({
                "dry_run": false,
                "projects": results.projects,
                "syncs": ctx.take_syncs(),
            }),
        );
    }
    Ok(code)
}

/// What became of each project, for `--json`.
struct Results {
    projects: Vec<serde_json::Value>,
}

impl Results {
    fn new(plan: &CheckoutPlan, failures: &[Failure]) -> Results {
        let mut results = Results { projects: Vec::new() };
        for name in &plan.existing {
            results.set(name, "already_present", None);
        }
        for clone in &plan.clones {
            results.set(&clone.project, "cloned", None);
        }
        for name in &plan.left_to_sync {
            results.set(name, "left_to_sync", None);
        }
        for failure in failures {
            results.set(&failure.project, "failed", Some(format!("{:#}", failure.error)));
        }
        results
    }

    /// Sets (or adds) project `name`'s result: `cloned`, `already_present`,
    /// `failed` or `left_to_sync` (not cloned: the sync fetched its pin).
    fn set(&mut self, name: &RepoName, result: &str, error: Option<String>) {
        let value = serde_json::json!({"name": name.to_string(), "result": result, "error": error});
        match self.projects.iter_mut().find(|p| p["name"] == name.as_str()) {
            Some(existing) => *existing = value,
            None => self.projects.push(value),
        }
    }
}

/// Clones what the plan says, all projects at once up to `--jobs`.
fn execute(ctx: &Context, plan: &CheckoutPlan) -> Result<Vec<Failure>> {
    let mut failures = Vec::new();
    for (name, re) in &plan.excluded {
        ctx.reporter.note_once(&plan::excluded_dep_line(name, re));
    }
    for name in &plan.existing {
        ctx.reporter
            .note(&format!("Skipping checkout of {name} (already exists)"));
    }
    for (name, dir) in &plan.not_checkouts {
        failures.push(Failure {
            project: name.clone(),
            error: anyhow!(
                "{} exists but is not a git checkout; move it away (or clone {name} there yourself), then run checkout again",
                dir.display()
            ),
        });
    }
    failures.extend(run_plans(ctx, &plan.clones)?);
    Ok(failures)
}

/// Runs project plans (clones, or checkouts of clones without files) in
/// parallel, up to `--jobs`; returns the failures.
fn run_plans(ctx: &Context, plans: &[ProjectPlan]) -> Result<Vec<Failure>> {
    let executor = ctx.executor()?;
    let jobs = executor.jobs();
    ctx.reporter.begin("checkout", plans.len());
    let results = executor.map_prioritised(
        plans,
        ProjectPlan::updates_submodules,
        |p| {
            p.steps.iter().find_map(|s| match s {
                Step::Clone { url, .. } => url.host().map(str::to_string),
                _ => None,
            })
        },
        |p| {
            let result = exec::run_project(&ctx.git, &ctx.reporter, jobs, p);
            let done = match (&result, p.steps.first()) {
                (Err(_), _) => "failed",
                (Ok(()), Some(Step::Clone { .. })) => "cloned",
                (Ok(()), _) => "checked out",
            };
            ctx.reporter.done(&p.project, Some(done));
            result
        },
    );
    Ok(plans
        .iter()
        .zip(results)
        .filter_map(|(project, result)| {
            result.err().map(|error| Failure {
                project: project.project.clone(),
                error,
            })
        })
        .collect())
}

fn is_clone(plan: &CheckoutPlan, name: &RepoName) -> bool {
    plan.clones.iter().any(|p| &p.project == name)
}
