//! One module per subcommand. Each reads the workspace, asks the planner for
//! a plan, hands it to the executor and prints; none parses files or spawns
//! processes itself.

pub mod checkout;
pub mod foreach;
pub mod init;
pub mod list;
pub mod pin;
pub mod roll;
pub mod status;
pub mod sync;
pub mod version;

use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};

use crate::cli::Cli;
use crate::exec::{Executor, DEFAULT_JOBS};
use crate::git::Git;
use crate::registry::{self, Project, Registry, Sources};
use crate::report::{Reporter, Verbosity};
use crate::workspace::{Search, Workspace};

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
    /// `--jobs` as given, if it was.
    pub jobs_given: Option<usize>,
    /// Runs git.
    pub git: Git,
    /// Prints progress and summaries.
    pub reporter: Reporter,
    /// Colours for stdout.
    pub paint: crate::report::Paint,
    /// The shared object cache (`--cache-dir`), if any.
    pub cache: Option<std::sync::Arc<crate::cache::Cache>>,
    /// Set once the markers [`Context::workspace`] passed over were named.
    warned_markers: std::sync::Once,
    /// `--json`: results go into one document on stdout, not lines.
    pub json: bool,
    /// With `--json`, what each sync of the run did (a `checkout --sync` or
    /// `roll --sync` runs syncs inside its own document).
    pub syncs: std::sync::Mutex<Vec<serde_json::Value>>,
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
        let reporter = Reporter::for_stderr(verbosity, cli.color);
        let display = reporter.clone();
        Ok(Context {
            _display_on_interrupt: crate::interrupt::on_interrupt(Box::new(move || display.abandon())),
            cwd: std::env::current_dir().context("could not read the current folder")?,
            registry_file: cli.registry.clone(),
            dry_run: cli.dry_run,
            jobs: cli.jobs.map(usize::from).unwrap_or(DEFAULT_JOBS),
            jobs_given: cli.jobs.map(usize::from),
            git: Git::new(cli.verbose).with_prompts(&reporter),
            reporter,
            paint: crate::report::Paint::new(cli.color),
            cache: match &cli.cache_dir {
                Some(dir) => Some(std::sync::Arc::new(crate::cache::Cache::open(
                    dir,
                    cli.dissociate,
                )?)),
                None => None,
            },
            warned_markers: std::sync::Once::new(),
            json: cli
                .command
                .as_ref()
                .is_some_and(|c| crate::json::requested(c).is_some()),
            syncs: Default::default(),
        })
    }

    /// The workspace enclosing the current folder.
    pub fn workspace(&self) -> Result<Workspace> {
        self.search_workspace()?.into_workspace()
    }

    /// The search for the workspace enclosing the current folder, with a
    /// warning (once per run) for each marker passed over on the way.
    pub fn search_workspace(&self) -> Result<Search> {
        let search = Workspace::search(&self.cwd, &self.git)?;
        self.warned_markers.call_once(|| {
            for ignored in &search.ignored {
                self.reporter.warn(&ignored.to_string());
            }
        });
        Ok(search)
    }

    /// The registry: default, then the workspace's file, then `--registry`.
    pub fn registry(&self, workspace: Option<&Workspace>) -> Result<Registry> {
        registry::load(&Sources {
            workspace_file: workspace.and_then(|w| w.registry_file()),
            explicit_file: self.registry_file.clone(),
        })
    }

    /// The sync records collected so far (see [`Context::syncs`]).
    pub fn take_syncs(&self) -> Vec<serde_json::Value> {
        std::mem::take(&mut *self.syncs.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether result lines go to stdout: not with `--json` (the document
    /// holds them) nor `-q` (only errors and the summary).
    pub fn prints_results(&self) -> bool {
        !self.json && !self.reporter.is_quiet()
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
                let known: Vec<String> = project_folders(workspace)
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
/// previous run if it did not finish (see [`crate::recover`]).
pub fn lock_workspace(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    command: &str,
) -> Result<crate::workspace::WorkspaceLock> {
    let lock = workspace.lock(command)?;
    if let Err(e) = crate::recover::after_previous_run(workspace, registry, &ctx.git, &lock, &ctx.reporter) {
        lock.give_back();
        return Err(e);
    }
    Ok(lock)
}

/// `--depth N` as git takes it: 0 means full history.
pub fn depth(arg: Option<u32>) -> Option<u32> {
    arg.filter(|&d| d > 0)
}

/// Folders of the workspace that hold a checkout and are valid project
/// names, sorted by name (hidden temporary clone folders never are).
pub fn project_folders(workspace: &Workspace) -> Vec<crate::types::RepoName> {
    let mut names: Vec<crate::types::RepoName> = std::fs::read_dir(workspace.root())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(".git").exists())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| crate::types::RepoName::new(n).ok())
        })
        .collect();
    names.sort();
    names
}
