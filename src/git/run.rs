//! The runner: the one place a git process is started. Every git the tool
//! runs goes through [`Git::start`], which echoes it for `-v`, runs it in
//! its folder with the user's environment minus what would point it at
//! another repository ([`REPOSITORY_ENV`]), in the C locale, without lazy
//! fetches unless the command is one that may reach the network, with
//! `GIT_TERMINAL_PROMPT=0` when nobody could answer a prompt and with the
//! credential prompter's variables on a terminal; and with the signal mask
//! a child should have (a checkout that rewrites a working tree does not
//! take the terminal's Ctrl-C).
//!
//! Around each process: a place under the `--jobs` cap ([`ProcessCap`]),
//! nothing new once the run is interrupted, the pid listed among the
//! running children (which [`end_children`] signals on an interrupt) and
//! told to the [`SpawnObserver`], and, for a checkout, its record in the
//! [`CheckoutLog`] opened before it starts and closed when it ends whole.
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
use crate::prompt::answers::MAX_REFUSALS;
use crate::prompt::{Ticket, Verdict};
use crate::types::CommitId;

/// A counting semaphore over the git processes of a run: every process the
/// runner starts holds one permit while it runs, so however many threads
/// ask (projects in parallel, and the submodules of each in parallel), at
/// most `--jobs` git processes run at once.
#[derive(Debug)]
pub struct ProcessCap {
    max: usize,
    running: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

impl ProcessCap {
    /// A cap of `max` processes (at least one).
    pub fn new(max: usize) -> ProcessCap {
        ProcessCap {
            max: max.max(1),
            running: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits for a free permit and takes it; it is given back when the
    /// returned guard is dropped.
    fn acquire(&self) -> Permit<'_> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= self.max {
            running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Permit(self)
    }
}

/// One running git process's place under the [`ProcessCap`].
struct Permit<'a>(&'a ProcessCap);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        self.0.freed.notify_one();
    }
}

impl Git {
    /// Waits for a place under the process cap, if there is one.
    fn permit(&self) -> Option<Permit<'_>> {
        self.cap.as_deref().map(ProcessCap::acquire)
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
    /// [`end_children`]). Once the run is interrupted nothing new starts.
    /// The end of the checkouts it makes is told to the [`CheckoutLog`]
    /// while it still counts as running (see [`checkouts_ended`]).
    fn run_tracked(&self, cmd: &GitCommand, expr: duct::Expression) -> GitResult<Output> {
        let _permit = self.permit();
        // Sharing may wait (for a master, or git's probe of the ssh): the
        // interrupt is checked after it.
        let (expr, _ssh) = self.share_ssh(cmd, expr);
        if crate::interrupt::is_interrupted() {
            return Err(self.spawn_error(cmd, interrupted()));
        }
        let handle = expr.start().map_err(|e| self.spawn_error(cmd, e))?;
        let _running = Running::new(handle.pids(), cmd.lets_finish);
        let out = handle.into_output().map_err(|e| self.spawn_error(cmd, e))?;
        checkouts_ended(cmd, &out.status, &out.stderr);
        Ok(out)
    }

    /// The one place a git process is set up: echo for `-v`, run
    /// it in its folder with the user's environment (minus what would point
    /// git at another repository, in the C locale so that what it prints can
    /// be read, plus `GIT_TERMINAL_PROMPT=0` when nobody could answer a
    /// prompt, and on a terminal the variables that send its prompts to the
    /// tool, for the process `ticket` names), and leave the exit status to
    /// the caller.
    fn start(&self, cmd: &GitCommand, args: &[OsString], ticket: Ticket) -> duct::Expression {
        if self.verbose {
            eprintln!("+ {cmd}");
        }
        // A checkout that rewrites a working tree does not take the
        // terminal's Ctrl-C or hangup: the run lets it finish rather than
        // have it stop half way through the files (see
        // `crate::interrupt::child_signals`).
        let shielded = cmd.lets_finish;
        let expr = duct::cmd("git", args)
            .dir(&cmd.dir)
            .unchecked()
            .before_spawn(move |child| crate::interrupt::child_signals(child, shielded));
        let expr = in_c_locale(without_repository_env(expr));
        // Queries never fetch what a partial clone lacks (git 2.45.1 and
        // the May 2024 security releases from 2.39.4 honour this; an older
        // git ignores it).
        let expr = if cmd.lazy_fetch {
            expr
        } else {
            expr.env("GIT_NO_LAZY_FETCH", "1")
        };
        let expr = if self.no_prompt {
            expr.env("GIT_TERMINAL_PROMPT", "0")
        } else {
            expr
        };
        // On a terminal, credential prompts go to the tool's own prompter
        // (GIT_ASKPASS, SSH_ASKPASS; see crate::prompt).
        match &self.prompts {
            Some(prompts) => prompts.route(expr, ticket),
            None => expr,
        }
    }

    /// Runs a command with `input` on stdin, whatever its exit status.
    pub(super) fn spawn_with_input(&self, cmd: &GitCommand, input: Vec<u8>) -> GitResult<Output> {
        let expr = self
            .start(cmd, &cmd.args, Ticket::UNTRACKED)
            .stdin_bytes(input)
            .stdout_capture()
            .stderr_capture();
        self.run_tracked(cmd, expr)
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
        if crate::interrupt::is_interrupted() {
            return Err(self.spawn_error(cmd, interrupted()));
        }
        let reader = self
            .start(cmd, &cmd.args, Ticket::UNTRACKED)
            .stdin_bytes(input)
            .stderr_capture()
            .reader()
            .map_err(|e| self.spawn_error(cmd, e))?;
        let running = Running::new(reader.pids(), false);
        Ok(Reading {
            reader,
            _running: running,
            _permit: permit,
        })
    }

    /// Runs `cmd`, a checkout of `to` in `worktree`, whose HEAD is at
    /// `from`, having first recorded it in `log` (durably): a later run
    /// that finds the record open knows the checkout may have been cut
    /// short, and from where to where (see `crate::cut_checkout`). The
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
        if crate::interrupt::is_interrupted() {
            return Err(self.spawn_error(cmd, interrupted()));
        }
        let expr = self.start(cmd, &args, ticket).stdin_null().stderr_to_stdout();
        let (expr, _ssh) = self.share_ssh(cmd, expr);
        if crate::interrupt::is_interrupted() {
            return Err(self.spawn_error(cmd, interrupted()));
        }
        let reader = expr.reader().map_err(|e| self.spawn_error(cmd, e))?;
        let _running = Running::new(reader.pids(), false);
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

/// Variables that make git work on another repository than the folder it
/// runs in (an inherited `GIT_DIR` would make every project's status show
/// one repository, and fetches land in it). Removed from every git the tool
/// starts, and from pip's environment; everything else (config,
/// credentials, ssh, `insteadOf`) passes through.
pub const REPOSITORY_ENV: [&str; 7] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
];

/// `expr` without the variables of [`REPOSITORY_ENV`].
pub fn without_repository_env(expr: duct::Expression) -> duct::Expression {
    REPOSITORY_ENV.iter().fold(expr, |expr, var| expr.env_remove(var))
}

/// `expr` in the C locale (`LC_ALL=C`): the tool reads git's messages
/// (a refused fetch by id, a checkout refused over local changes) and
/// progress lines, which a translated git words differently. With the
/// locale `C`, gettext also ignores `LANGUAGE`.
pub fn in_c_locale(expr: duct::Expression) -> duct::Expression {
    expr.env("LC_ALL", "C")
}

/// The git processes running now, for [`end_children`].
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Told the pid of every git process as it starts (the workspace lock
/// records them, so a later run knows which processes a run that did not
/// finish had started).
pub type SpawnObserver = std::sync::Arc<dyn Fn(u32) + Send + Sync>;

static OBSERVER: std::sync::RwLock<Option<SpawnObserver>> = std::sync::RwLock::new(None);

/// Sets (or, with `None`, removes) the [`SpawnObserver`].
pub fn set_spawn_observer(observer: Option<SpawnObserver>) {
    *OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = observer;
}

fn children() -> std::sync::MutexGuard<'static, Vec<u32>> {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running checkouts that rewrite a working tree (a subset of
/// [`CHILDREN`]), which an interrupt lets finish.
static FINISHING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

fn finishing() -> std::sync::MutexGuard<'static, Vec<u32>> {
    FINISHING.lock().unwrap_or_else(|e| e.into_inner())
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

/// Tells the [`CheckoutLog`] that the checkouts `cmd` made have ended,
/// when they have: `cmd` worked, or git refused before writing a file
/// (local changes in the way). Any other end (a signal, a write that
/// failed) may have left one half done. Called while the process still
/// counts as running, so that an interrupt, which waits for the running
/// processes, finds the record complete.
fn checkouts_ended(cmd: &GitCommand, status: &std::process::ExitStatus, stderr: &[u8]) {
    if cmd.intents.is_empty() || !(status.success() || refused_before_writing(stderr)) {
        return;
    }
    if let Some(log) = checkout_log() {
        for &id in &cmd.intents {
            log.ended(id);
        }
    }
}

/// Lists a started process among the running children until dropped.
struct Running(Vec<u32>);

impl Running {
    fn new(pids: Vec<u32>, lets_finish: bool) -> Running {
        if let Some(observer) = OBSERVER.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
            for &pid in &pids {
                observer(pid);
            }
        }
        if lets_finish {
            finishing().extend(&pids);
        }
        children().extend(&pids);
        Running(pids)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        children().retain(|pid| !self.0.contains(pid));
        finishing().retain(|pid| !self.0.contains(pid));
    }
}

fn interrupted() -> std::io::Error {
    std::io::Error::other("interrupted; not started")
}

/// Sends `signal` to every git process the run has running, except the
/// checkouts that rewrite a working tree, which are let finish (they do
/// not take the terminal's signals either: `crate::interrupt::child_signals`),
/// and waits up to `grace` for them all to end (git removes its own lock
/// files on SIGINT and SIGTERM). A checkout still running then gets
/// SIGTERM (it ends cut short, which the next run repairs), any other git
/// still running is killed, and after another `grace` whatever is left.
/// Returns whether a git had to be killed: it may have left its lock files.
#[cfg(unix)]
pub fn end_children(signal: i32, grace: std::time::Duration) -> bool {
    use rustix::process::{kill_process, Pid, Signal};
    // The pid is one of our children, listed until just after its wait
    // returns, so it names that git (reuse in that instant is not a
    // practical concern).
    let send = |pid: u32, signal: Signal| {
        if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, signal);
        }
    };
    let Some(signal) = Signal::from_named_raw(signal) else {
        return false;
    };
    let let_finish = finishing().clone();
    for pid in children().clone() {
        if !let_finish.contains(&pid) {
            send(pid, signal);
        }
    }
    if crate::interrupt::wait_until(grace, || children().is_empty()) {
        return false;
    }
    let let_finish = finishing().clone();
    let mut killed = false;
    for pid in children().clone() {
        if let_finish.contains(&pid) {
            send(pid, Signal::TERM);
        } else {
            send(pid, Signal::KILL);
            killed = true;
        }
    }
    if crate::interrupt::wait_until(grace, || children().is_empty()) {
        return killed;
    }
    for pid in children().clone() {
        send(pid, Signal::KILL);
    }
    crate::interrupt::wait_until(grace, || children().is_empty());
    true
}
