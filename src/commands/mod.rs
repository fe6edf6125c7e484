//! One module per subcommand. Each reads the workspace, asks the planner for
//! a plan, hands it to the executor and prints; none parses files or spawns
//! processes itself.

pub mod checkout;
pub mod init;
pub mod list;

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::cli::Cli;
use crate::exec::{Executor, DEFAULT_JOBS};
use crate::git::Git;
use crate::registry::{self, Registry, Sources};
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
        Ok(Context {
            cwd: std::env::current_dir().context("could not read the current folder")?,
            registry_file: cli.registry.clone(),
            dry_run: cli.dry_run,
            jobs: cli.jobs.map(usize::from).unwrap_or(DEFAULT_JOBS),
            git: Git::new(cli.verbose),
            reporter: Reporter::new(verbosity),
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
