//! `checkout`: clone projects and the closure of their deps, in parallel.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};

use super::sync::sync_roots;
use super::Context;
use crate::cli::CheckoutArgs;
use crate::exec;
use crate::exec::step::{PendingPlan, ProjectPlan, Step};
use crate::git::Git;
use crate::model::exclude;
use crate::model::registry::{Project, Registry};
use crate::model::settings::WorkspaceSettings;
use crate::model::types::RepoName;
use crate::model::workspace::Workspace;
use crate::plan::checkout::AfterSync;
use crate::plan::sync::Pending;
use crate::plan::{self, CheckoutOptions, CheckoutPlan, Folder, SyncOptions};
use crate::ui::report::Failure;

/// Runs `checkout`; returns the exit status. In phases: the clones, then
/// (`--sync`) the sync of each named project, then the finish of what no
/// pin moved.
pub fn run(ctx: &Context, args: &CheckoutArgs) -> Result<i32> {
    if args.names.is_empty() {
        return Ok(no_name_given());
    }
    let workspace = ctx.workspace()?;
    let registry = ctx.registry(Some(&workspace))?;
    let roots = named_projects(&registry, &args.names)?;
    let options = checkout_options(ctx, args);
    super::note_filter_with_cache(ctx);
    // Locked before planning: cleaning up after an interrupted run changes
    // what is there.
    let command = if args.sync { "checkout --sync" } else { "checkout" };
    let _lock = super::lock_unless_dry_run(ctx, &workspace, &registry, command)?;
    if args.sync {
        // The sync moves deps that are there already: refuse before any
        // clone when one has a git operation under way.
        let exclude = (&options.exclude_dep[..], &options.exclude_submodule[..]);
        super::in_progress::refuse_if_under_way(
            ctx,
            &workspace,
            &registry,
            &roots,
            exclude,
            "checkout --sync",
        )?;
    }
    let plan = plan_checkout(ctx, &workspace, &registry, &roots, &options);
    let sync_options = SyncOptions {
        fresh: plan.clones.iter().map(|p| p.project.clone()).collect(),
        ..ctx.sync_options(Some(&args.exclude))
    };
    let phases = Phases {
        ctx,
        workspace: &workspace,
        registry: &registry,
        roots: &roots,
        sync: args.sync,
        options: &options,
        sync_options: &sync_options,
        plan: &plan,
    };
    if ctx.dry_run {
        return phases.dry_run();
    }
    let failures = phases.clone_all()?;
    remember_checked_out(&workspace, &roots, &failures)?;
    let mut results = Results::new(&plan, &failures, &ctx.reporter.registry_layers());
    let mut code = if failures.is_empty() { 0 } else { 1 };
    let mut all_synced = true;
    if args.sync {
        let synced = phases.sync_roots(&failures)?;
        all_synced = synced.all;
        code = code.max(synced.code);
    }
    code = code.max(phases.finish(all_synced, &mut results)?);
    if ctx.json {
        crate::ui::json::print_document(
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

/// Says that no project was named; the exit status of bad usage.
fn no_name_given() -> i32 {
    // Not left to clap: when a name was given after `--exclude-dep A`,
    // that option took it as one more value, and saying so is the help.
    crate::process::stderr::errln!(
        "error: no project to check out was named\n  --exclude-dep and --exclude-submodule take one or more values, \
         up to the next option: name the projects first (`checkout NAME --exclude-dep A B`), or end the \
         values with `--` (`checkout --exclude-dep A B -- NAME`)"
    );
    2
}

/// The workspace remembers what was checked out by name (`sync` at its
/// top syncs these), but only what is now there: a root whose clone
/// failed would later be reported as "left as it is".
fn remember_checked_out(workspace: &Workspace, roots: &[RepoName], failures: &[Failure]) -> Result<()> {
    let checked_out: Vec<RepoName> = roots
        .iter()
        .filter(|root| !failures.iter().any(|f| &f.project == *root))
        .filter(|root| workspace.project_dir(root).join(".git").exists())
        .cloned()
        .collect();
    let mut settings = WorkspaceSettings::load(workspace.root())?;
    if settings.add_roots(&checked_out) {
        settings.save(workspace.root())?;
    }
    Ok(())
}

/// The choices the command line and the workspace's settings make.
fn checkout_options(ctx: &Context, args: &CheckoutArgs) -> CheckoutOptions {
    let settings = &ctx.settings;
    CheckoutOptions {
        with_deps: !args.no_deps,
        read_only: settings.ro.value,
        submodules: !args.no_submodules,
        exclude_dep: args.exclude.exclude_dep.clone(),
        exclude_submodule: args.exclude.exclude_submodule.clone(),
        cache: ctx.cache.clone(),
        depth: settings.depth.value,
        filter: settings.filter.value,
        defer_dep_trees: args.sync,
    }
}

/// The projects named on the command line, in order, each once; every name
/// must be known before anything is cloned.
fn named_projects(registry: &Registry, names: &[String]) -> Result<Vec<RepoName>> {
    let mut roots: Vec<RepoName> = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
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
    Ok(roots)
}

/// Plans the checkout from what each folder of the closure holds.
fn plan_checkout(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    roots: &[RepoName],
    options: &CheckoutOptions,
) -> CheckoutPlan {
    let (closure, excluded) = plan::checkout::checkout_closure(registry, roots, options);
    let folders: Vec<(RepoName, Folder)> = closure
        .into_iter()
        .map(|name| {
            let submodules = options.submodules && registry.get(&name).is_some_and(|p| p.submodules);
            let folder = folder(ctx, &workspace.project_dir(&name), submodules.then_some(options));
            (name, folder)
        })
        .collect();
    plan::checkout::plan_checkout(workspace, registry, roots, &folders, excluded, options)
}

/// What the folder `dest` holds; `submodules`: the options of a checkout
/// that initialises the project's submodules.
fn folder(ctx: &Context, dest: &Path, submodules: Option<&CheckoutOptions>) -> Folder {
    if !dest.exists() && !dest.is_symlink() {
        return Folder::Missing;
    }
    if !ctx.git.is_checkout_root(dest) {
        return Folder::NotCheckout;
    }
    // A clone with no working tree yet, but with a commit to write one from
    // (not a repository nobody committed to).
    let unwritten = Git::lacks_working_tree(dest) && ctx.git.head_commit(dest).is_ok_and(|h| h.is_some());
    let submodules_missing = match submodules {
        Some(options) if !unwritten => missing_submodules(ctx, dest, &options.exclude_submodule),
        _ => false,
    };
    Folder::Checkout {
        unwritten,
        submodules_missing,
    }
}

/// Whether a submodule of the checkout in `dest` that `exclude` does not
/// leave out is not cloned (one `git ls-files`).
fn missing_submodules(ctx: &Context, dest: &Path, exclude: &[regex::Regex]) -> bool {
    let Some(project) = dest.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    ctx.git.submodule_status(dest).is_ok_and(|entries| {
        entries.iter().any(|e| {
            e.state == crate::git::SubmoduleState::Uninitialised
                && crate::model::exclude::matching(exclude, &format!("{project}:{}", e.path)).is_none()
        })
    })
}

/// Everything the phases of one checkout share.
struct Phases<'a> {
    ctx: &'a Context,
    workspace: &'a Workspace,
    registry: &'a Registry,
    /// The projects named.
    roots: &'a [RepoName],
    /// `--sync`.
    sync: bool,
    options: &'a CheckoutOptions,
    sync_options: &'a SyncOptions,
    plan: &'a CheckoutPlan,
}

/// How the syncs of a `checkout --sync` went.
struct Synced {
    /// The highest exit status of the syncs.
    code: i32,
    /// Whether every sync asked for ran to the end.
    all: bool,
}

impl Phases<'_> {
    /// Prints the plan (and, with `--sync`, the sync's dry run: with the
    /// pins it will find as placeholders while a root is not cloned yet);
    /// changes nothing.
    fn dry_run(&self) -> Result<i32> {
        let ctx = self.ctx;
        let mut lines: Vec<String> = self.plan.to_string().lines().map(str::to_string).collect();
        let cloned = |root: &RepoName| self.workspace.project_dir(root).join(".git").exists();
        let all_cloned = self.roots.iter().all(cloned);
        if self.sync && !all_cloned {
            let plan = self.plan;
            let state = |dep: &RepoName| {
                if plan.left_to_sync.contains(dep) {
                    Pending::Missing
                } else if plan.clones.iter().any(|c| &c.project == dep) {
                    Pending::ClonedBare
                } else {
                    Pending::Present
                }
            };
            let sync = plan::sync::plan_pending_sync(
                self.workspace,
                self.registry,
                self.roots,
                state,
                self.sync_options,
            );
            lines.extend(sync.iter().flat_map(PendingPlan::lines));
        }
        let finish =
            plan::checkout::finish_preview(self.workspace, self.registry, self.plan, self.options, self.sync);
        lines.extend(finish.iter().flat_map(PendingPlan::lines));
        super::print_commands(ctx, &lines);
        let mut code = if self.plan.not_checkouts.is_empty() { 0 } else { 1 };
        if self.sync && all_cloned {
            let roots: Vec<&Project> = self
                .roots
                .iter()
                .map(|r| self.registry.lookup(r.as_str()))
                .collect::<Result<_>>()?;
            code = code.max(sync_roots(
                ctx,
                self.workspace,
                self.registry,
                &roots,
                self.sync_options,
            )?);
        }
        if ctx.json {
            crate::ui::json::print_document(
                "checkout",
                code == 0,
                serde_json::json!({"dry_run": true, "commands": lines, "syncs": ctx.take_syncs()}),
            );
        }
        Ok(code)
    }

    /// The clones the plan says, all projects at once up to `--jobs`, and
    /// their summary; returns the failures.
    fn clone_all(&self) -> Result<Vec<Failure>> {
        let (ctx, plan) = (self.ctx, self.plan);
        let started = Instant::now();
        let mut failures = Vec::new();
        for (name, re) in &plan.excluded {
            ctx.reporter.note_once(&exclude::excluded_dep_line(name, re));
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
        let plans: Vec<ProjectPlan> = plan.complete.iter().chain(&plan.clones).cloned().collect();
        let cloned: Vec<RepoName> = plan.clones.iter().map(|p| p.project.clone()).collect();
        ctx.note_for_undo(&[], &cloned)?;
        failures.extend(run_plans(ctx, &plans)?);
        let is_clone = |name: &RepoName| plan.clones.iter().any(|p| &p.project == name);
        let completed = plan
            .complete
            .iter()
            .filter(|p| !failures.iter().any(|f| f.project == p.project));
        ctx.reporter.summary(
            "checkout",
            &[
                (
                    "cloned",
                    plan.clones.len() - failures.iter().filter(|f| is_clone(&f.project)).count(),
                ),
                ("already present", plan.existing.len()),
                ("with missing submodules cloned", completed.count()),
            ],
            &failures,
            started.elapsed(),
        );
        Ok(failures)
    }

    /// Syncs the named projects whose clone and deps' clones worked,
    /// together: one resolution of all their pins, as `sync` at the top of
    /// the workspace makes.
    fn sync_roots(&self, failures: &[Failure]) -> Result<Synced> {
        let ctx = self.ctx;
        let mut synced = Synced { code: 0, all: true };
        let mut roots = Vec::new();
        for root in self.roots {
            if !self.workspace.project_dir(root).join(".git").exists() {
                synced.all = false;
                continue; // its clone failed, and the summary said so
            }
            // A dep whose clone just failed would only fail again in the
            // sync, with the same error: say once why there is no sync.
            let excluded = |n: &RepoName| self.options.exclude_dep.iter().any(|re| re.is_match(n.as_str()));
            let closure = self.registry.closure(std::slice::from_ref(root), true, excluded);
            if let Some(dep) = closure.iter().find(|n| failures.iter().any(|f| &f.project == *n)) {
                ctx.reporter.warn(&format!(
                    "{root} was not synced: its dep {dep} could not be cloned (see above); once it can be, run \
                     `openxla-workspace sync --repo {root}`"
                ));
                synced.all = false;
                continue;
            }
            roots.push(self.registry.lookup(root.as_str())?);
        }
        if roots.is_empty() {
            return Ok(synced);
        }
        let code = match sync_roots(ctx, self.workspace, self.registry, &roots, self.sync_options) {
            Ok(code) => code,
            Err(e) => {
                let names: Vec<&str> = roots.iter().map(|r| r.name.as_str()).collect();
                ctx.reporter.error(&format!("{}: {e:#}", names.join(", ")));
                1
            }
        };
        synced.all &= code == 0;
        synced.code = synced.code.max(code);
        Ok(synced)
    }

    /// What no pin moved ends as a plain checkout leaves it: deps left to
    /// the sync that no pin named are cloned at their branch, and clones
    /// still without files get their branch written. Returns the exit
    /// status of this phase.
    fn finish(&self, all_synced: bool, results: &mut Results) -> Result<i32> {
        let ctx = self.ctx;
        let mut after = AfterSync::default();
        for name in self.plan.left_to_sync.iter().chain(&self.plan.unwritten) {
            let dir = self.workspace.project_dir(name);
            if dir.exists() {
                after.present.insert(name.clone());
                if Git::lacks_working_tree(&dir) {
                    after.unwritten.insert(name.clone());
                }
            }
        }
        let finish =
            plan::checkout::plan_finish(self.workspace, self.registry, self.plan, &after, self.options);
        if finish.is_empty() {
            return Ok(0);
        }
        let started = Instant::now();
        let plans: Vec<ProjectPlan> = finish.plans().cloned().collect();
        let failures = run_plans(ctx, &plans)?;
        let cloned_late = |name: &RepoName| finish.clones.iter().any(|p| &p.project == name);
        let failed_clones = failures.iter().filter(|f| cloned_late(&f.project)).count();
        let mut counts = Vec::new();
        if !finish.clones.is_empty() {
            counts.push(("cloned (no pin names them)", finish.clones.len() - failed_clones));
        }
        if !finish.populate.is_empty() {
            // Said as it is: after a sync that stopped (or never ran),
            // these deps are at their branch tip, not at any pin.
            let what = if all_synced {
                "branch checked out (no pin names them)"
            } else {
                "left at their branch tip, not synced"
            };
            counts.push((what, finish.populate.len() - (failures.len() - failed_clones)));
        }
        ctx.reporter
            .summary("checkout", &counts, &failures, started.elapsed());
        for plan in &finish.clones {
            results.set(&plan.project, "cloned", None);
        }
        let layers = ctx.reporter.registry_layers();
        for failure in &failures {
            results.set_failed(failure, &layers);
        }
        Ok(if failures.is_empty() { 0 } else { 1 })
    }
}

/// What became of each project, for `--json`.
struct Results {
    projects: Vec<serde_json::Value>,
}

impl Results {
    fn new(plan: &CheckoutPlan, failures: &[Failure], layers: &crate::ui::report::RegistryLayers) -> Results {
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
            results.set_failed(failure, layers);
        }
        results
    }

    /// Sets project `failure.project`'s result to `failed`, with the
    /// error and the cause, host and hint of each clone that failed.
    fn set_failed(&mut self, failure: &Failure, layers: &crate::ui::report::RegistryLayers) {
        self.set(&failure.project, "failed", Some(format!("{:#}", failure.error)));
        let causes = crate::exec::failure_summary::json_causes(&failure.error, layers);
        if let Some(entry) = self
            .projects
            .iter_mut()
            .find(|p| p["name"] == failure.project.as_str())
        {
            entry["causes"] = causes.into();
        }
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
            let skipped = result.as_ref().err().and_then(not_started);
            let done = match (&result, p.steps.first()) {
                (Err(_), _) if skipped.is_some() => skipped.as_deref().unwrap_or_default(),
                (Err(_), _) => "failed",
                (Ok(()), Some(Step::Clone { .. })) => "cloned",
                (Ok(()), Some(Step::Submodules { .. })) => "missing submodules cloned",
                (Ok(()), _) => "checked out",
            };
            ctx.reporter.done(&p.project, Some(done));
            result
        },
    );
    Ok(super::failures(plans.iter().map(|p| &p.project).zip(results)))
}

/// For a clone that was not started, its host found shut: what its
/// progress line ends with instead of `failed`.
fn not_started(error: &anyhow::Error) -> Option<String> {
    let fetches = crate::exec::fetch_failure::in_chain(error);
    let fetch = fetches
        .first()
        .filter(|f| !f.is_submodule() && f.error.was_skipped())?;
    Some(format!(
        "not tried: {} already failed",
        fetch.host().unwrap_or("its host")
    ))
}
