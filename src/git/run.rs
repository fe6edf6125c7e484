//! The runner: the one place a git process is started. Every git the tool
//! runs goes through [`Git::start`] (environment, locale, prompts, signal
//! mask) and then waits for a place under the `--jobs` cap ([`ProcessCap`]),
//! starts nothing once the run is interrupted, is listed among the running
//! children (which [`crate::process::children::end_children`] signals on an
//! interrupt) and told to the [`crate::process::children::SpawnObserver`],
//! and, for a checkout, has its record in the [`CheckoutLog`] opened before
//! it starts and closed when it ends whole.
//!
//! The observer, the checkout log and the children are process-wide, not
//! fields of the handle: the workspace lock sets the first two for as long
//! as it is held, whatever handles exist, and the signal handling thread,
//! which has no handle, needs the list of children.

use std::ffi::OsString;
use std::path::Path;
use std::process::Output;

use super::command::GitCommand;
use super::error::refused_before_writing;
use super::progress::{progress_report, ProgressSink};
use super::{Git, GitResult};
use crate::model::types::CommitId;
use crate::process::cap::{Permit, ProcessCap};
use crate::process::children::{Running, Start};
use crate::process::env::{in_c_locale, without_repository_env};
use crate::ui::prompt::answers::MAX_REFUSALS;
use crate::ui::prompt::{Ticket, Verdict};

impl Git {
    /// Waits for a place under the process cap, if there is one.
    fn permit(&self) -> Option<Permit<'_>> {
        self.cap.as_deref().map(ProcessCap::acquire)
    }

    /// Nothing new starts once the run is interrupted.
    fn not_interrupted(&self, cmd: &GitCommand) -> GitResult<()> {
        if crate::process::interrupt::is_interrupted() {
            let error = std::io::Error::other("interrupted; not started");
            return Err(self.spawn_error(cmd, error));
        }
        Ok(())
    }

    /// Leave to start `cmd`'s process, to hand to [`Running::new`] once it
    /// has started; none once the run is interrupted.
    fn may_start(&self, cmd: &GitCommand) -> GitResult<Start> {
        self.not_interrupted(cmd)?;
        crate::process::children::may_start()
            .ok_or_else(|| self.spawn_error(cmd, std::io::Error::other("interrupted; not started")))
    }

    /// Runs a command, discarding stdout.
    pub fn run(&self, cmd: &GitCommand) -> GitResult<()> {
        self.output(cmd).map(|_| ())
    }

    /// Runs a command and returns its stdout as text.
    pub fn output(&self, cmd: &GitCommand) -> GitResult<String> {
        let out = self.raw(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a command and returns stdout bytes; a non-zero exit is an error.
    pub(super) fn raw(&self, cmd: &GitCommand) -> GitResult<Output> {
        let out = self.spawn(cmd)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(self.failure(cmd, &out))
        }
    }

    /// Runs a command whose exit status answers a yes-or-no question: its
    /// stdout on 0, `None` on `no` (the status git gives for "no"), an
    /// error on any other.
    pub(super) fn answer(&self, cmd: &GitCommand, no: i32) -> GitResult<Option<String>> {
        let out = self.spawn(cmd)?;
        match out.status.code() {
            Some(0) => Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned())),
            Some(code) if code == no => Ok(None),
            _ => Err(self.failure(cmd, &out)),
        }
    }

    /// Runs a command and returns its output whatever the exit status; the
    /// caller decides what a non-zero exit means (e.g. `cat-file -e`). On a
    /// terminal, a command that failed on a credential answer found wrong
    /// runs again (so that the user is asked again), and one that failed
    /// because a prompt is no longer asked is an error saying so.
    pub(super) fn spawn(&self, cmd: &GitCommand) -> GitResult<Output> {
        let mut runs = 1;
        loop {
            let ticket = self.prompts.as_ref().map_or(Ticket::UNTRACKED, |p| p.ticket());
            let out = self.retrying_transient(cmd, || self.spawn_once(cmd, ticket))?;
            let Some(prompts) = &self.prompts else {
                return Ok(out);
            };
            match prompts.outcome(ticket, !out.status.success(), &out.stderr) {
                Verdict::AskAgain if runs <= MAX_REFUSALS => runs += 1,
                Verdict::Refused(problem) => return Err(self.refused_credentials(cmd, &out, problem)),
                _ => return Ok(out),
            }
        }
    }

    fn spawn_once(&self, cmd: &GitCommand, ticket: Ticket) -> GitResult<Output> {
        if let Some(index) = cmd.progress_at {
            if let Some(sink) = &self.progress {
                return self.spawn_streaming(cmd, index, sink, ticket);
            }
        }
        let expr = self
            .start(cmd, &cmd.args, ticket)
            .stdin_null()
            .stdout_capture()
            .stderr_capture();
        self.run_tracked(cmd, expr)
    }

    /// Starts `expr` (set up by [`Git::start`]) and waits for it, with its
    /// process listed among the running children while it runs (see
    /// [`crate::process::children::end_children`]). Once the run is interrupted nothing new starts.
    /// The end of the checkouts it makes is told to the [`CheckoutLog`]
    /// while it still counts as running (see [`checkouts_ended`]).
    fn run_tracked(&self, cmd: &GitCommand, expr: duct::Expression) -> GitResult<Output> {
        let _permit = self.permit();
        // Sharing may wait (for a master, or git's probe of the ssh): the
        // interrupt is checked after it.
        let (expr, _ssh) = self.share_ssh(cmd, expr);
        let start = self.may_start(cmd)?;
        let started = crate::process::children::starting(&cmd.dir);
        let handle = expr.start().map_err(|e| self.spawn_error(cmd, e))?;
        let _running = Running::new(handle.pids(), cmd.lets_finish, &cmd.dir, started, start);
        let out = handle.into_output().map_err(|e| self.spawn_error(cmd, e))?;
        checkouts_ended(cmd, &out.status, &out.stderr);
        Ok(out)
    }

    /// The one place a git process is set up: echoed for `-v`, run in its
    /// folder with the user's environment minus what would point git at
    /// another repository ([`crate::process::env::REPOSITORY_ENV`]), in the C
    /// locale so that its output can be read, with `GIT_TERMINAL_PROMPT=0`
    /// when nobody could answer a prompt and, on a terminal, the variables
    /// that send its prompts to the tool (for the process `ticket` names).
    /// The exit status is left to the caller.
    fn start(&self, cmd: &GitCommand, args: &[OsString], ticket: Ticket) -> duct::Expression {
        if self.verbose {
            crate::process::stderr::errln!("+ {cmd}");
        }
        // A checkout that rewrites a working tree does not take the
        // terminal's Ctrl-C or hangup: the run lets it finish rather than
        // have it stop half way through the files (see
        // `crate::process::interrupt::child_signals`).
        let shielded = cmd.lets_finish;
        let expr = duct::cmd("git", args)
            .dir(&cmd.dir)
            .unchecked()
            .before_spawn(move |child| crate::process::interrupt::child_signals(child, shielded));
        let mut expr = in_c_locale(without_repository_env(expr));
        if let Some(ceilings) = stop_at(cmd) {
            expr = expr.env("GIT_CEILING_DIRECTORIES", ceilings);
        }
        // Queries never fetch what a partial clone lacks (git 2.45.1 and
        // the May 2024 security releases from 2.39.4 honour this; an older
        // git ignores it).
        if !cmd.lazy_fetch {
            expr = expr.env("GIT_NO_LAZY_FETCH", "1");
        }
        if self.no_prompt {
            expr = expr.env("GIT_TERMINAL_PROMPT", "0");
        }
        // On a terminal, credential prompts go to the tool's own prompter
        // (GIT_ASKPASS, SSH_ASKPASS; see crate::ui::prompt).
        match &self.prompts {
            Some(prompts) => prompts.route(expr, ticket),
            None => expr,
        }
    }

    /// Runs a command with `input` on stdin; a non-zero exit is an error.
    pub(super) fn run_with_input(&self, cmd: &GitCommand, input: Vec<u8>) -> GitResult<Output> {
        let expr = self
            .start(cmd, &cmd.args, Ticket::UNTRACKED)
            .stdin_bytes(input)
            .stdout_capture()
            .stderr_capture();
        let out = self.run_tracked(cmd, expr)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(self.failure(cmd, &out))
        }
    }

    /// Runs `cmd` without the credential prompter, whatever its exit
    /// status, dropping its stderr: how git's version is asked from within
    /// the reading of a failure (see [`Git::failed`]), which must not fail
    /// in turn.
    pub(super) fn spawn_plain(&self, cmd: &GitCommand) -> GitResult<Output> {
        let expr = self
            .start(cmd, &cmd.args, Ticket::UNTRACKED)
            .stdin_null()
            .stdout_capture()
            .stderr_null();
        self.run_tracked(cmd, expr)
    }

    /// Starts `cmd` with `input` on its stdin, for a query that reads its
    /// stdout as it comes and may stop git part way (the probe); its stderr
    /// is kept for errors. Like every git process, it first waits for a
    /// place under the cap, and is listed among the running children while
    /// it runs.
    pub(super) fn start_reading(&self, cmd: &GitCommand, input: Vec<u8>) -> GitResult<Reading<'_>> {
        let permit = self.permit();
        let start = self.may_start(cmd)?;
        let started = crate::process::children::starting(&cmd.dir);
        let reader = self
            .start(cmd, &cmd.args, Ticket::UNTRACKED)
            .stdin_bytes(input)
            .stderr_capture()
            .reader()
            .map_err(|e| self.spawn_error(cmd, e))?;
        let running = Running::new(reader.pids(), false, &cmd.dir, started, start);
        Ok(Reading {
            reader,
            _running: running,
            _permit: permit,
        })
    }

    /// Runs `cmd`, a checkout of `to` in `worktree`, whose HEAD is at
    /// `from`, having first recorded it in `log` (durably): a later run
    /// that finds the record open knows the checkout may have been cut
    /// short, and from where to where (see `exec/cut_checkout.rs`). The
    /// record is closed when git ends having written everything or nothing
    /// (see [`checkouts_ended`]).
    pub(super) fn run_recorded(
        &self,
        mut cmd: GitCommand,
        log: &dyn CheckoutLog,
        worktree: &Path,
        from: Option<&CommitId>,
        to: &CommitId,
    ) -> GitResult<()> {
        let id = log
            .starting(worktree, from, to)
            .map_err(|e| self.record_error(&cmd, e))?;
        cmd.intents.extend(id);
        self.run(&cmd)
    }

    /// Runs a network command with `--progress`, reading its stderr as it
    /// comes to report percentages, and keeping it whole for errors.
    fn spawn_streaming(
        &self,
        cmd: &GitCommand,
        index: usize,
        sink: &ProgressSink,
        ticket: Ticket,
    ) -> GitResult<Output> {
        use std::io::Read;
        let args = cmd.args_with_progress(index);
        let _permit = self.permit();
        self.not_interrupted(cmd)?;
        let expr = self.start(cmd, &args, ticket).stdin_null().stderr_to_stdout();
        let (expr, _ssh) = self.share_ssh(cmd, expr);
        let start = self.may_start(cmd)?;
        let started = crate::process::children::starting(&cmd.dir);
        let reader = expr.reader().map_err(|e| self.spawn_error(cmd, e))?;
        let _running = Running::new(reader.pids(), false, &cmd.dir, started, start);
        let mut all = Vec::new();
        let mut pending = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = (&reader).read(&mut buf).map_err(|e| self.spawn_error(cmd, e))?;
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            for &b in &buf[..n] {
                if b == b'\r' || b == b'\n' {
                    if let Some(report) = progress_report(&String::from_utf8_lossy(&pending)) {
                        sink.send(&report);
                    }
                    pending.clear();
                } else {
                    pending.push(b);
                }
            }
        }
        let status = match reader.try_wait() {
            Ok(Some(output)) => output.status,
            Ok(None) => return Err(self.spawn_error(cmd, std::io::Error::other("git did not exit"))),
            Err(e) => return Err(self.spawn_error(cmd, e)),
        };
        checkouts_ended(cmd, &status, &all);
        Ok(Output {
            status,
            stdout: Vec::new(),
            stderr: all,
        })
    }
}

/// A git process started by [`Git::start_reading`]. Dropping it stops git
/// if it still runs and waits for it, then takes it off the running
/// children and gives its place under the cap back (the fields' order).
pub(super) struct Reading<'a> {
    reader: duct::ReaderHandle,
    _running: Running,
    _permit: Option<Permit<'a>>,
}

impl Reading<'_> {
    /// git's stdout, as it comes.
    pub(super) fn stdout(&self) -> &duct::ReaderHandle {
        &self.reader
    }

    /// Stops git: nothing more it would print is wanted.
    pub(super) fn stop(self) {
        let _ = self.reader.kill();
    }

    /// How git ended, once it has (its stdout read to the end): `None`
    /// while it still runs.
    pub(super) fn exit(&self) -> std::io::Result<Option<&Output>> {
        self.reader.try_wait()
    }
}

/// The `GIT_CEILING_DIRECTORIES` that keeps git from looking for the
/// repository above the folder of `cmd`: its parent, after the user's own
/// ceilings. `None` for the commands that ask about what encloses their
/// folder, and for those run in the current folder (they name their
/// repository with `--git-dir`, or none).
fn stop_at(cmd: &GitCommand) -> Option<std::ffi::OsString> {
    if cmd.searches_upward || !cmd.dir.is_absolute() {
        return None;
    }
    let parent = cmd.dir.parent()?;
    let mut ceilings = std::env::var_os("GIT_CEILING_DIRECTORIES").unwrap_or_default();
    if !ceilings.is_empty() {
        ceilings.push(":");
    }
    ceilings.push(parent);
    Some(ceilings)
}

/// Where the run records, before each checkout that rewrites a working
/// tree from one commit to another, that it starts, and when it has ended:
/// a checkout cut short (the run killed, or git ended by a signal) leaves
/// HEAD and the index at the old commit and some files at the new one,
/// and the next run puts those back from this record. The workspace lock
/// keeps it in its file.
pub trait CheckoutLog: Send + Sync {
    /// The checkout of `to` in `repo`, whose HEAD is at `from` (`None`: a
    /// repository git is about to make, or without a commit), is about to
    /// start. Returns the record's id once it is on disk (the checkout does
    /// not start without it), `None` when it keeps no record of `repo`.
    fn starting(&self, repo: &Path, from: Option<&CommitId>, to: &CommitId) -> std::io::Result<Option<u64>>;
    /// Record `id`'s checkout finished, or was refused before it wrote
    /// anything.
    fn ended(&self, id: u64);
}

static CHECKOUT_LOG: std::sync::RwLock<Option<std::sync::Arc<dyn CheckoutLog>>> =
    std::sync::RwLock::new(None);

/// Sets (or, with `None`, removes) the [`CheckoutLog`].
pub fn set_checkout_log(log: Option<std::sync::Arc<dyn CheckoutLog>>) {
    *CHECKOUT_LOG.write().unwrap_or_else(|e| e.into_inner()) = log;
}

pub(super) fn checkout_log() -> Option<std::sync::Arc<dyn CheckoutLog>> {
    CHECKOUT_LOG.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Tells the [`CheckoutLog`] that the checkouts `cmd` made have ended, when
/// they have: `cmd` worked, git refused before writing a file (local changes
/// in the way), or a submodule's clone failed before its checkout started;
/// any other end (a signal, a failed write) may have left one half done.
/// Called while the process still counts as running, so that an interrupt,
/// which waits for the running processes, finds the record complete.
fn checkouts_ended(cmd: &GitCommand, status: &std::process::ExitStatus, stderr: &[u8]) {
    let nothing_half_done =
        status.success() || refused_before_writing(stderr) || super::error::submodule_clone_failed(stderr);
    if cmd.intents.is_empty() || !nothing_half_done {
        return;
    }
    if let Some(log) = checkout_log() {
        for &id in &cmd.intents {
            log.ended(id);
        }
    }
}
