//! The only place that spawns git. Every operation is one typed function that
//! builds its command line here, runs the system `git` through duct with the
//! user's environment unchanged, and turns failure into a [`GitError`] holding
//! the folder, the command line, the exit status and git's stderr.

use std::io::IsTerminal;

mod checkout;
mod command;
mod error;
mod files;
mod grep;
mod mirror;
mod probe;
mod progress;
mod query;
mod remote;
mod run;
mod submodule;
mod version;
mod worktree;

pub use command::{CloneOptions, GitCommand, GrepOptions, SubmoduleClone};
pub use error::{GitError, GitErrorKind, GitResult};
pub use files::git_dir_of;
pub use grep::GrepMatch;
pub use mirror::KEEP_REFS;
pub use probe::{FileAtCommit, Probe, MAX_KEPT_OBJECT};
pub use progress::ProgressSink;
pub use query::{CommitSummary, WorktreeStatus};
pub use run::{
    end_children, in_c_locale, set_checkout_log, set_spawn_observer, without_repository_env, CheckoutLog,
    ProcessCap, SpawnObserver, REPOSITORY_ENV,
};
pub use submodule::{SubmoduleEntry, SubmoduleState};
pub use version::{MIN_VERSION, SUBMODULE_FILTER_VERSION};
pub use worktree::{IndexEntry, TreeChange, TreeEntry};

/// How git is run for this invocation of the tool.
#[derive(Clone, Debug)]
pub struct Git {
    /// Echo each command with its folder on stderr before running it (`-v`).
    verbose: bool,
    /// Set `GIT_TERMINAL_PROMPT=0`: without a terminal nobody could answer.
    no_prompt: bool,
    /// `git --version`, asked at most once per run: up front by commands
    /// that clone, fetch or move checkouts ([`Git::check_installed`]), and
    /// by the others only once a git command has failed, to tell a git that
    /// is too old from other failures without a process on the way to
    /// success.
    version: std::sync::Arc<std::sync::OnceLock<Option<String>>>,
    /// On a terminal, where git's and ssh's credential prompts go (see
    /// [`crate::prompt`]).
    prompts: Option<std::sync::Arc<crate::prompt::Prompts>>,
    /// The most git processes running at once (`--jobs`); none without.
    cap: Option<std::sync::Arc<ProcessCap>>,
    /// Where the progress of network commands goes, when a live display
    /// shows it (see [`Git::with_progress`]).
    progress: Option<ProgressSink>,
}

/// The ref that names the commit the tool last checked out in a project
/// (a pin). A commit the tool checked out is never "at risk": it came from
/// the project's origin. Most such commits are also on a remote-tracking
/// branch or at the shallow boundary (see [`Git::orphanable_head`]), but a
/// pin fetched by id into a full clone, off every branch, is neither; this
/// ref says so, and keeps the commit's objects from `git gc` while it is
/// checked out. It is written after each checkout of a pin, and put right
/// by the next sync when a run was stopped between the two.
pub const CHECKED_OUT_REF: &str = "refs/openxla-workspace/pin";

impl Git {
    /// A runner for this invocation. `verbose` echoes every command.
    pub fn new(verbose: bool) -> Git {
        Git {
            verbose,
            no_prompt: !std::io::stdin().is_terminal(),
            version: Default::default(),
            prompts: None,
            cap: None,
            progress: None,
        }
    }

    /// Caps the git processes running at once at `max` (`--jobs`), across
    /// every thread that uses this runner or a clone of it.
    pub fn with_process_cap(mut self, max: usize) -> Git {
        self.cap = Some(std::sync::Arc::new(ProcessCap::new(max)));
        self
    }

    /// On a terminal, sends git's and ssh's credential prompts to the
    /// tool's own prompter, which asks one at a time with `reporter`'s live
    /// display suspended. Without a terminal, nobody could answer: git
    /// keeps `GIT_TERMINAL_PROMPT=0`.
    pub fn with_prompts(mut self, reporter: &crate::report::Reporter) -> Git {
        if !self.no_prompt {
            self.prompts = Some(std::sync::Arc::new(crate::prompt::Prompts::new(reporter.clone())));
        }
        self
    }
}
