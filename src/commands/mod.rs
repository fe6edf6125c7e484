//! One module per subcommand. Each reads the workspace, asks the planner for
//! a plan, hands it to the executor and prints; none parses files or spawns
//! processes itself.

pub mod checkout;
pub mod init;
pub mod list;
pub mod pin;
pub mod roll;
pub mod status;
pub mod sync;

use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};

use crate::cli::Cli;
use crate::exec::{Executor, DEFAULT_JOBS};
use crate::git::Git;
use crate::registry::{self, Project, Registry, Sources};
use crate::report::{Reporter, Verbosity};
use crate::workspace::Workspace;

/// What every command needs: the global options, turned into runners.
pub struct Context {
    /// The folder the tool was started in.
    pub cwd: PathBuf,
    /// `--registry` / `$OPENXLA_WORKSPACE_REGISTRY`.
    pub registry_file: Option<PathBuf>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--jobs`, or the default.
    pub jobs: usize,
    /// Runs git.
    pub git: Git,
    /// Prints progress and summaries.
    pub reporter: Reporter,
    /// Colours for stdout.
    pub paint: crate::report::Paint,
    /// The shared object cache (`--cache-dir`), if any.
    pub cache: Option<std::sync::Arc<crate::cache::Cache>>,
    /// Takes the live display off the terminal on Ctrl-C.
    _display_on_interrupt: crate::interrupt::Cleanup,
}

impl Context {
    /// Builds the context from parsed arguments.
    pub fn new(cli: &Cli) -> Result<Context> {
        let verbosity = if cli.quiet {
            Verbosity::Quiet
        } else if cli.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        let reporter = Reporter::for_stderr(verbosity);
        let display = reporter.clone();
        Ok(Context {
            _display_on_interrupt: crate::interrupt::on_interrupt(Box::new(move || display.abandon())),
            cwd: std::env::current_dir().context("could not read the current folder")?,
            registry_file: cli.registry.clone(),
            dry_run: cli.dry_run,
            jobs: cli.jobs.map(usize::from).unwrap_or(DEFAULT_JOBS),
            git: Git::new(cli.verbose),
            reporter,
            paint: crate::report::Paint::new(cli.color),
            cache: match &cli.cache_dir {
                Some(dir) => Some(std::sync::Arc::new(crate::cache::Cache::open(
                    dir,
                    cli.dissociate,
                )?)),
                None => None,
            },
        })
    }

    /// The workspace enclosing the current folder.
    pub fn workspace(&self) -> Result<Workspace> {
        Workspace::find(&self.cwd)
    }

    /// The registry: default, then the workspace's file, then `--registry`.
    pub fn registry(&self, workspace: Option<&Workspace>) -> Result<Registry> {
        registry::load(&Sources {
            workspace_file: workspace.and_then(|w| w.registry_file()),
            explicit_file: self.registry_file.clone(),
        })
    }

    /// A worker pool of `--jobs` threads.
    pub fn executor(&self) -> Result<Executor> {
        Executor::new(self.jobs)
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
    let name = match repo {
        Some(name) => name.to_string(),
        None => workspace
            .project_containing(&ctx.cwd)
            .map(|n| n.to_string())
            .ok_or_else(|| {
                anyhow!(
                    "{} is not inside a project folder of the workspace {}; run `{command}` inside one, or name it with --repo NAME",
                    ctx.cwd.display(),
                    workspace.root().display()
                )
            })?,
    };
    let project = registry.lookup(&name)?;
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
/// previous run if it did not finish (see [`crate::recover`]).
pub fn lock_workspace(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    command: &str,
) -> Result<crate::workspace::WorkspaceLock> {
    let lock = workspace.lock(command)?;
    if let Err(e) = crate::recover::after_previous_run(workspace, registry, &lock, &ctx.reporter) {
        lock.give_back();
        return Err(e);
    }
    Ok(lock)
}

/// `--depth N` as git takes it: 0 means full history.
pub fn depth(arg: Option<u32>) -> Option<u32> {
    arg.filter(|&d| d > 0)
}
