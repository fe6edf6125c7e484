//! The git layer: the only code that builds git command lines and starts
//! git. The tool runs the system `git` as a subprocess for everything; each
//! operation is a typed function on the [`Git`] handle, and each failure a
//! [`GitError`] holding the folder, the command line, the exit status and
//! git's stderr. Where things are:
//!
//! - `command.rs`: [`GitCommand`] and every command line (`Git::*_cmd`),
//!   with what some commands are fed on stdin; `run.rs`: the runner, the
//!   one place a process is started.
//! - `error.rs`: [`GitError`] and what git's stderr says; `cause.rs`: why a
//!   command that talks to a server failed ([`Cause`]); `hosts.rs`: the
//!   hosts found shut, to which no further git process of the run starts.
//! - `ssh.rs` and `ssh_share.rs`: one ssh connection per host for a run;
//!   `version.rs`: git's version, asked at most once; `progress.rs`: git's
//!   progress lines as short reports; `files.rs`: what is read without git.
//! - Typed operations, their parsers plain functions tested on captured
//!   output: `query.rs`, `probe.rs` (the one `cat-file --batch` per dep),
//!   `submodule.rs`, `remote.rs`, `checkout.rs`, `mirror.rs` (the cache),
//!   `grep.rs`, `history.rs`, `commit.rs`, `in_progress.rs` and
//!   `worktree.rs` (repairing a checkout cut short).
//!
//! Inputs are explicit: a command's folder and arguments are data, and the
//! progress sink is part of the handle ([`Git::with_progress`]). What stays
//! process-wide, and why, is told in `run.rs`.

use std::io::IsTerminal;

mod cause;
mod checkout;
mod command;
mod commit;
mod error;
mod files;
mod grep;
mod history;
mod hosts;
mod in_progress;
mod mirror;
mod probe;
mod progress;
mod query;
mod remote;
mod run;
mod ssh;
mod ssh_share;
mod submodule;
mod version;
mod worktree;

pub use cause::{url_host, Cause};
pub use command::{CloneOptions, GitCommand, GrepOptions, SubmoduleClone};
pub use error::{GitError, GitErrorKind, GitResult};
pub use files::git_dir_of;
pub use history::LogEntry;
pub use hosts::HostDown;
pub use in_progress::{operations_in, Operation};
pub use mirror::KEEP_REFS;
pub use probe::{FileAtCommit, Probe};
pub use progress::ProgressSink;
pub use query::{CommitSummary, WorktreeStatus};
pub use run::{set_checkout_log, CheckoutLog};
pub use ssh_share::origin_url_of;
pub use submodule::{SubmoduleEntry, SubmoduleState};
pub use version::MIN_VERSION;
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
    /// [`crate::ui::prompt`]).
    prompts: Option<std::sync::Arc<crate::ui::prompt::Prompts>>,
    /// The most git processes running at once (`--jobs`); none without.
    cap: Option<std::sync::Arc<crate::process::cap::ProcessCap>>,
    /// Where the progress of network commands goes, when a live display
    /// shows it (see [`Git::with_progress`]).
    progress: Option<ProgressSink>,
    /// OpenSSH connection sharing for the run's network commands (see
    /// `ssh_share.rs`); none without [`Git::with_ssh_sharing`].
    ssh: Option<ssh_share::Sharing>,
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
            ssh: None,
        }
    }

    /// Shares one ssh connection per host (per eight processes at a time)
    /// among the git processes of this run when git would run OpenSSH,
    /// closing the masters when the last clone of this runner is dropped or
    /// the run is interrupted (see `ssh_share.rs`).
    pub fn with_ssh_sharing(mut self) -> Git {
        self.ssh = Some(Default::default());
        self
    }

    /// Caps the git processes running at once at `max` (`--jobs`), across
    /// every thread that uses this runner or a clone of it.
    pub fn with_process_cap(mut self, max: usize) -> Git {
        self.cap = Some(std::sync::Arc::new(crate::process::cap::ProcessCap::new(max)));
        self
    }

    /// On a terminal, sends git's and ssh's credential prompts to the
    /// tool's own prompter, which asks one at a time with `reporter`'s live
    /// display suspended. Without a terminal, nobody could answer: git
    /// keeps `GIT_TERMINAL_PROMPT=0`.
    pub fn with_prompts(mut self, reporter: &crate::ui::report::Reporter) -> Git {
        if !self.no_prompt {
            self.prompts = Some(std::sync::Arc::new(crate::ui::prompt::Prompts::new(
                reporter.clone(),
            )));
        }
        self
    }
}
