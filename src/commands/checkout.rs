//! `checkout`: clone projects and the closure of their deps, in parallel.

use std::time::Instant;

use anyhow::{anyhow, bail, Result};

use super::sync::sync_project;
use super::Context;
use crate::cli::CheckoutArgs;
use crate::exec;
use crate::plan::{self, CheckoutOptions, CheckoutPlan, Step};
use crate::report::Failure;
use crate::resolve::SyncOptions;
use crate::types::RepoName;

/// Runs `checkout`; returns the exit status.
pub fn run(ctx: &Context, args: &CheckoutArgs) -> Result<i32> {
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

    let options = CheckoutOptions {
        with_deps: !args.no_deps,
        read_only: args.ro,
        submodules: !args.no_submodules,
        exclude_dep: args.exclude.exclude_dep.clone(),
        exclude_submodule: args.exclude.exclude_submodule.clone(),
        cache: ctx.cache.clone(),
        depth: super::depth(args.depth),
    };
    let plan = plan::plan_checkout(&workspace, &registry, &ctx.git, &roots, &options);

    let sync_options = SyncOptions {
        exclude_dep: args.exclude.exclude_dep.clone(),
        exclude_submodule: args.exclude.exclude_submodule.clone(),
        depth: super::depth(args.depth),
        force: false,
        read_only: args.ro,
        dry_run: ctx.dry_run,
        cache: ctx.cache.clone(),
    };

    if ctx.dry_run {
        print!("{plan}");
        let mut code = if plan.not_checkouts.is_empty() { 0 } else { 1 };
        if args.sync {
            for root in &roots {
                if workspace.project_dir(root).exists() {
                    let project = registry.lookup(root.as_str())?;
                    code = code.max(sync_project(ctx, &workspace, &registry, project, &sync_options)?);
                } else {
                    println!(
                        "{root}: then sync to the pins in {root}/sync_deps.py (known once it is cloned)"
                    );
                }
            }
        }
        return Ok(code);
    }

    let _lock = workspace.lock(if args.sync { "checkout --sync" } else { "checkout" })?;
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
    let mut code = if failures.is_empty() { 0 } else { 1 };
    if args.sync {
        for root in &roots {
            if !workspace.project_dir(root).join(".git").exists() {
                continue; // its clone failed, and the summary said so
            }
            let project = registry.lookup(root.as_str())?;
            let synced = sync_project(ctx, &workspace, &registry, project, &sync_options);
            code = code.max(match synced {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {root}: {e:#}");
                    1
                }
            });
        }
    }
    Ok(code)
}

/// Clones what the plan says, all projects at once up to `--jobs`.
fn execute(ctx: &Context, plan: &CheckoutPlan) -> Result<Vec<Failure>> {
    let mut failures = Vec::new();
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
    let executor = ctx.executor()?;
    let jobs = executor.jobs();
    ctx.reporter.begin("checkout", plan.clones.len());
    let results = executor.map(
        &plan.clones,
        |p| {
            p.steps.iter().find_map(|s| match s {
                Step::Clone { url, .. } => url.host().map(str::to_string),
                _ => None,
            })
        },
        |p| {
            let result = exec::run_project(&ctx.git, &ctx.reporter, jobs, p);
            ctx.reporter
                .done(&p.project, Some(if result.is_ok() { "cloned" } else { "failed" }));
            result
        },
    );
    for (project, result) in plan.clones.iter().zip(results) {
        if let Err(error) = result {
            failures.push(Failure {
                project: project.project.clone(),
                error,
            });
        }
    }
    Ok(failures)
}

fn is_clone(plan: &CheckoutPlan, name: &RepoName) -> bool {
    plan.clones.iter().any(|p| &p.project == name)
}
