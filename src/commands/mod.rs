//! One module per subcommand. Each reads the workspace, asks the planner for
//! a plan, hands it to the executor and prints; none parses files or spawns
//! processes itself. `presence` is shared by `sync` and `status`: the pins
//! of the workspace's checkouts, as resolution asks for them.

pub mod cache;
pub mod checkout;
pub mod config;
pub mod foreach;
mod foreach_json;
pub mod in_progress;
pub mod init;
pub mod list;
mod list_dot;
pub mod pin;
pub mod presence;
pub mod roll;
mod roll_commit;
mod roll_story;
pub mod status;
pub mod sync;
pub mod sync_record;
pub mod undo;
pub mod version;

use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};

use crate::cli::{Cli, Command};
use crate::exec::Executor;
use crate::git::Git;
use crate::model::registry::{self, Project, Registry, Sources};
use crate::model::settings::{Given, InEffect, Source, WorkspaceSettings};
use crate::model::types::RepoName;
use crate::model::workspace::{Search, Workspace};
use crate::plan::SyncOptions;
use crate::ui::report::{Failure, Reporter, Verbosity};

/// What every command needs: the global options, turned into runners.
pub struct Context {
    /// The folder the tool was started in.
    pub cwd: PathBuf,
    /// `--registry` / `$OPENXLA_WORKSPACE_REGISTRY`, else the workspace's
    /// `registry` setting.
    pub registry_file: Option<PathBuf>,
    /// The settings in effect for this run (see [`crate::model::settings`]).
    pub settings: InEffect,
    /// What the workspace's settings file holds (its roots among it), or
    /// why it could not be read (then commands that need the workspace
    /// stop with that error).
    pub stored: std::result::Result<WorkspaceSettings, String>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--jobs`, else the workspace's `jobs`, else the default.
    pub jobs: usize,
    /// `--jobs` as given, if it was.
    pub jobs_given: Option<usize>,
    /// Runs git.
    pub git: Git,
    /// Prints progress and summaries.
    pub reporter: Reporter,
    /// Colours for stdout.
    pub paint: crate::ui::report::Paint,
    /// The shared object cache (`--cache-dir`), if any.
    pub cache: Option<std::sync::Arc<crate::exec::cache::Cache>>,
    /// Set once the markers [`Context::workspace`] passed over were named.
    warned_markers: std::sync::Once,
    /// `--json`: results go into one document on stdout, not lines.
    pub json: bool,
    /// With `--json`, what each sync of the run did (a `checkout --sync` or
    /// `roll --sync` runs syncs inside its own document).
    pub syncs: std::sync::Mutex<Vec<sync_record::SyncRecord>>,
    /// The worker pool, started on first use.
    executor: std::sync::OnceLock<Executor>,
    /// This run's undo record, begun when the workspace is locked.
    undo: std::sync::OnceLock<crate::exec::undo_log::Recorder>,
    /// Takes the live display off the terminal on Ctrl-C.
    _display_on_interrupt: crate::process::interrupt::Cleanup,
}

impl Context {
    /// Builds the context from parsed arguments and the settings of the
    /// workspace enclosing the current folder, if any.
    pub fn new(cli: &Cli) -> Result<Context> {
        let verbosity = if cli.quiet {
            Verbosity::Quiet
        } else if cli.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        let reporter = Reporter::for_stderr(verbosity, cli.color.into());
        let display = reporter.clone();
        let cwd = std::env::current_dir().context("could not read the current folder")?;
        let stored = match Workspace::search(&cwd, &|dir| Git::new(false).tracks_marker(dir))?.workspace {
            Some(workspace) => WorkspaceSettings::load(workspace.root()).map_err(|e| format!("{e:#}")),
            None => Ok(WorkspaceSettings::default()),
        };
        let env = |name: &str| std::env::var(name).ok();
        let settings = InEffect::resolve(
            &given(cli),
            &env,
            &stored.as_ref().map(|s| s.stored.clone()).unwrap_or_default(),
        )?;
        let jobs = settings.jobs.value;
        Ok(Context {
            _display_on_interrupt: crate::process::interrupt::on_interrupt(Box::new(move || {
                display.abandon()
            })),
            cwd,
            registry_file: settings.registry.value.clone(),
            dry_run: cli.dry_run,
            jobs,
            jobs_given: cli.jobs.map(usize::from),
            git: Git::new(cli.verbose)
                .with_prompts(&reporter)
                .with_process_cap(jobs)
                .with_ssh_sharing(),
            reporter,
            paint: crate::ui::report::Paint::new(cli.color.into()),
            // `config` never uses the cache, and must be able to repair a
            // `cache-dir` no run could open.
            cache: match &settings.cache_dir.value {
                Some(_) if matches!(cli.command, Some(crate::cli::Command::Config(_))) => None,
                Some(dir) => Some(std::sync::Arc::new(crate::exec::cache::Cache::open(
                    dir,
                    cli.dissociate,
                )?)),
                None => None,
            },
            settings,
            stored,
            warned_markers: std::sync::Once::new(),
            json: cli.command.as_ref().is_some_and(|c| c.json_requested().is_some()),
            syncs: Default::default(),
            executor: std::sync::OnceLock::new(),
            undo: std::sync::OnceLock::new(),
        })
    }

    /// The roots the workspace remembers (none when its settings could not
    /// be read).
    pub fn roots(&self) -> Vec<crate::model::types::RepoName> {
        self.stored.as_ref().map(|s| s.roots.clone()).unwrap_or_default()
    }

    /// Notes, for `undo`, where `moves` stand just before the executor
    /// moves them and which projects this run cloned (see
    /// [`crate::exec::undo_log`]). Only a run that locked the workspace
    /// records: a dry run moves nothing.
    pub fn note_for_undo(
        &self,
        moves: &[crate::exec::undo_log::Move],
        cloned: &[crate::model::types::RepoName],
    ) -> Result<()> {
        self.undo
            .get()
            .map_or(Ok(()), |recorder| recorder.note(&self.git, moves, cloned))
    }

    /// Fails with the settings file's problem, if it has one.
    pub fn check_settings(&self) -> Result<()> {
        self.stored.as_ref().map(|_| ()).map_err(|e| anyhow!("{e}"))
    }

    /// The workspace enclosing the current folder (whose settings file, if
    /// any, must be valid).
    pub fn workspace(&self) -> Result<Workspace> {
        let workspace = self.search_workspace()?.into_workspace()?;
        self.check_settings()?;
        Ok(workspace)
    }

    /// The search for the workspace enclosing the current folder, with a
    /// warning (once per run) for each marker passed over on the way.
    pub fn search_workspace(&self) -> Result<Search> {
        let search = Workspace::search(&self.cwd, &|dir| self.git.tracks_marker(dir))?;
        self.warned_markers.call_once(|| {
            for ignored in &search.ignored {
                self.reporter.warn(&ignored.to_string());
            }
        });
        Ok(search)
    }

    /// The registry: default, then the workspace's file, then `--registry`.
    pub fn registry(&self, workspace: Option<&Workspace>) -> Result<Registry> {
        let registry = registry::load(&Sources {
            workspace_file: workspace.and_then(|w| w.registry_file()),
            explicit_file: self.registry_file.clone(),
        })?;
        // A summary says which layer a URL that failed came from.
        self.reporter.know_registry_layers(
            registry
                .projects()
                .map(|p| (p.name.to_string(), p.layer.to_string()))
                .collect(),
        );
        Ok(registry)
    }

    /// The options of a sync in this run: the settings in effect, and what
    /// `exclude` leaves out.
    pub fn sync_options(&self, exclude: Option<&crate::cli::Exclusions>) -> SyncOptions {
        SyncOptions {
            exclude_dep: exclude.map(|e| e.exclude_dep.clone()).unwrap_or_default(),
            exclude_submodule: exclude.map(|e| e.exclude_submodule.clone()).unwrap_or_default(),
            depth: self.settings.depth.value,
            filter: self.settings.filter.value,
            read_only: self.settings.ro.value,
            dry_run: self.dry_run,
            cache: self.cache.clone(),
            ..SyncOptions::default()
        }
    }

    /// The sync records collected so far (see [`Context::syncs`]).
    pub fn take_syncs(&self) -> Vec<sync_record::SyncRecord> {
        std::mem::take(&mut *self.syncs.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether result lines go to stdout: not with `--json` (the document
    /// holds them) nor `-q` (only errors and the summary).
    pub fn prints_results(&self) -> bool {
        !self.json && !self.reporter.is_quiet()
    }

    /// The run's one worker pool, of `--jobs` threads (started on first
    /// use). Commands use it for one phase after another; nothing it runs
    /// uses it again.
    pub fn executor(&self) -> Result<&Executor> {
        if let Some(executor) = self.executor.get() {
            return Ok(executor);
        }
        let executor = Executor::new(self.jobs)?;
        Ok(self.executor.get_or_init(|| executor))
    }
}

/// What the command line gives for the settings: each global option with
/// whether it came from its environment variable, and the command's own
/// `--ro`, `--filter` and `--depth`.
fn given(cli: &Cli) -> Given {
    let source = |id: &str| {
        if cli.from_env.contains(&id) {
            Source::Env
        } else {
            Source::Flag
        }
    };
    let (ro, filter, depth) = match &cli.command {
        Some(Command::Init(a)) => (a.ro, a.filter, a.depth),
        Some(Command::Checkout(a)) => (a.ro, a.filter, a.depth),
        Some(Command::Sync(a)) => (a.ro, a.filter, a.depth),
        Some(Command::Roll(a)) => (a.ro, None, None),
        _ => (false, None, None),
    };
    Given {
        registry: cli.registry.clone().map(|p| (p, source("registry"))),
        ro,
        filter: filter.map(|f| f.0),
        depth,
        jobs: cli.jobs.map(|j| (j, source("jobs"))),
        cache_dir: cli.cache_dir.clone().map(|p| (p, source("cache_dir"))),
    }
}

/// The project a command acts on: `--repo NAME`, else the project folder
/// holding the current folder.
pub fn current_project<'r>(
    ctx: &Context,
    workspace: &Workspace,
    registry: &'r Registry,
    repo: Option<&str>,
    command: &str,
) -> Result<&'r Project> {
    let project = match repo {
        Some(name) => registry.lookup(name)?,
        None => {
            let folder = workspace.project_containing(&ctx.cwd).ok_or_else(|| {
                anyhow!(
                    "{} is not inside a project folder of the workspace {}; run `{command}` inside one, or name it with --repo NAME",
                    ctx.cwd.display(),
                    workspace.root().display()
                )
            })?;
            // A folder of the workspace that the registry does not know:
            // the user typed no name, so do not answer as if they had.
            registry.get(&folder).ok_or_else(|| {
                let known: Vec<String> = crate::model::workspace::project_folders(workspace)
                    .into_iter()
                    .filter(|n| registry.get(n).is_some())
                    .map(|n| n.to_string())
                    .collect();
                let known = if known.is_empty() {
                    String::new()
                } else {
                    format!(" (checked out here: {})", known.join(", "))
                };
                anyhow!(
                    "{} is not a project of the workspace: the registry has no project '{folder}'. Run `{command}` \
                     inside a project's folder, or name one with --repo NAME{known}",
                    workspace.project_dir(&folder).display()
                )
            })?
        }
    };
    let dir = workspace.project_dir(&project.name);
    if !dir.is_dir() {
        return Err(anyhow!(
            "{} is not checked out in {}; run `openxla-workspace checkout {}` first",
            project.name,
            workspace.root().display(),
            project.name
        ));
    }
    Ok(project)
}

/// Takes the workspace lock for `command`, then cleans up after the
/// previous run if it did not finish (see [`crate::exec::recover`]).
pub fn lock_workspace(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    command: &str,
) -> Result<crate::exec::journal::WorkspaceLock> {
    let lock = workspace.lock(command)?;
    let _ = ctx
        .undo
        .set(crate::exec::undo_log::Recorder::new(workspace.root(), command));
    if let Some(cache) = &ctx.cache {
        // So that `cache prune` knows this workspace may borrow from it.
        if let Err(e) = crate::exec::cache_admin::note_workspace(cache, workspace.root()) {
            ctx.reporter.warn(&format!("{e:#}"));
        }
    }
    let left = crate::exec::recover::look(
        workspace,
        registry,
        &ctx.git,
        lock.previous_run(),
        lock.unfinished_checkouts(),
    );
    match crate::plan::recover::recovery(&left, lock.started()) {
        Ok(steps) => crate::exec::recover::run(&steps, &ctx.git, &lock, workspace, &ctx.reporter),
        Err(e) => {
            lock.give_back();
            return Err(e);
        }
    }
    Ok(lock)
}

/// For a command that changes the workspace: [`lock_workspace`]; with
/// `--dry-run`, nothing is locked, and what that would first put right is
/// printed ([`print_recovery`]).
pub fn lock_unless_dry_run(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    command: &str,
) -> Result<Option<crate::exec::journal::WorkspaceLock>> {
    if ctx.dry_run {
        print_recovery(ctx, workspace, registry)?;
        Ok(None)
    } else {
        lock_workspace(ctx, workspace, registry, command).map(Some)
    }
}

/// For `--dry-run`: prints what the run would first put right after a run
/// that did not finish (see [`crate::plan::recover`]), as the real run
/// would find it now; fails as the real run would while a git process of
/// that run is still running. Nothing is printed when nothing is left (or
/// a run holding the workspace lock is under way: what it leaves is not
/// known yet).
fn print_recovery(ctx: &Context, workspace: &Workspace, registry: &Registry) -> Result<()> {
    let previous = workspace.previous_run_left();
    let unfinished: Vec<(u64, crate::exec::journal::CheckoutIntent)> = previous
        .as_ref()
        .map(|run| (0..).zip(run.checkouts.iter().cloned()).collect())
        .unwrap_or_default();
    let left = crate::exec::recover::look(workspace, registry, &ctx.git, previous.as_ref(), &unfinished);
    let steps = crate::plan::recover::recovery(&left, std::time::SystemTime::now())?;
    crate::exec::recover::note_repairs_pending(&steps);
    let lines = crate::exec::recover::lines(&steps);
    if ctx.json {
        crate::ui::json::note_recovery(lines);
    } else {
        for line in lines {
            crate::ui::stdout::outln!("{line}");
        }
    }
    Ok(())
}

/// The failures among `results`, each of the project beside it.
pub fn failures<'a, T>(results: impl IntoIterator<Item = (&'a RepoName, Result<T>)>) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (project, result) in results {
        if let Err(error) = result {
            let project = project.clone();
            failures.push(Failure { project, error });
        }
    }
    failures
}

/// Prints the git commands of a dry run, one a line (with `--json`, its
/// document holds them instead).
pub fn print_commands(ctx: &Context, lines: impl IntoIterator<Item = impl std::fmt::Display>) {
    if !ctx.json {
        for line in lines {
            crate::ui::stdout::outln!("{line}");
        }
    }
}

/// With the cache, clones borrow every object from its complete mirrors,
/// so a filter would save nothing: says so once when both are in effect.
pub fn note_filter_with_cache(ctx: &Context) {
    if let (Some(filter), Some(_)) = (ctx.settings.filter.value, &ctx.cache) {
        ctx.reporter.note_once(&format!(
            "--filter {filter} does not apply to clones made through --cache-dir: they borrow every object \
             from the cache's mirrors (which are complete), so they fetch and store none of their own"
        ));
    }
}
