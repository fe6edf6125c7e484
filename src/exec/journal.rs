//! The run journal: the workspace lock a changing run holds, and what the
//! run writes into the lock file as it goes (the git processes it starts,
//! each checkout that rewrites a working tree before it starts and once it
//! ends), so that the next run knows what a run that did not finish left.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::model::types::CommitId;
use crate::model::workspace::{Workspace, LOCK_FILE};

/// The lock file while this run holds it; `None` once released.
type Shared = Arc<Mutex<Option<Held>>>;

impl Workspace {
    /// Takes the workspace lock for a command that changes the workspace:
    /// an OS file lock on [`LOCK_FILE`] (`File::try_lock`), held until the
    /// returned guard is dropped or the process ends, however it ends. The
    /// file's text (pid, host, command, start time, and the pids of the git
    /// processes the run starts) is only information: for the message a
    /// second run prints, and, when a run finds it left behind by a holder
    /// that no longer holds the lock, to know that run did not finish (see
    /// [`WorkspaceLock::previous_run`]).
    pub fn lock(&self, command: &str) -> Result<WorkspaceLock> {
        let path = self.root().join(LOCK_FILE);
        // A few rounds: a holder that finishes removes the file while still
        // holding its lock, so a file we opened just before may be gone;
        // and a dry run reads a file left behind under a shared lock of a
        // moment, which is not a run holding it.
        let mut held = None;
        for _ in 0..10 {
            match try_lock_file(&path)? {
                Attempt::Taken(file) => return self.start_journal(command, file, &path),
                Attempt::Gone => {}
                Attempt::Held(message) => {
                    held = Some(message);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
        match held {
            Some(message) => Err(anyhow::anyhow!(message)),
            None => bail!("could not take the workspace lock {}", path.display()),
        }
    }

    /// What a run that did not finish left in the lock file, read without
    /// taking the lock or changing the file (for `--dry-run`): `None` when
    /// there is no such file, it is empty or cannot be read, or a run holds
    /// it now (what that run leaves is not known yet).
    pub fn previous_run_left(&self) -> Option<PreviousRun> {
        let file = lock_file_options()
            .read(true)
            .open(self.root().join(LOCK_FILE))
            .ok()?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return None;
        }
        // Shared: a run that holds the lock (exclusively) makes this fail.
        file.try_lock_shared().ok()?;
        let left = read_all(&file);
        let last_alive = file.metadata().and_then(|m| m.modified()).ok();
        PreviousRun::from_text(&left, last_alive)
    }

    /// Writes this run's record into the lock file it now holds, carrying
    /// over the checkouts a previous run left unsettled, and has the
    /// journal record what the run starts.
    fn start_journal(&self, command: &str, file: fs::File, path: &Path) -> Result<WorkspaceLock> {
        let left = read_all(&file);
        // The previous holder's last stamp, before this run writes: it
        // stopped no later than a heartbeat after (see
        // `crate::exec::run_window`).
        let last_alive = file.metadata().and_then(|m| m.modified()).ok();
        let previous_run = PreviousRun::from_text(&left, last_alive);
        let previous_text = previous_run.is_some().then_some(left);
        let me = LockHolder::current(command);
        let held = Held {
            file,
            path: path.to_path_buf(),
        };
        // The checkouts the previous run may have cut short stay on record
        // until this run has dealt with them (see `crate::exec::recover`):
        // a run stopped before then leaves them to the next.
        let carried: Vec<(u64, CheckoutIntent)> = previous_run
            .iter()
            .flat_map(|r| r.checkouts.iter().cloned())
            .enumerate()
            .map(|(i, c)| (i as u64, c))
            .collect();
        let mut text = me.to_text();
        for (id, intent) in &carried {
            text.push_str(&intent.to_line(*id));
        }
        if let Err(e) = held.write_info(&text).and_then(|()| held.file.sync_data()) {
            held.release();
            return Err(e).with_context(|| format!("could not write the lock file {}", path.display()));
        }
        let shared = Arc::new(Mutex::new(Some(held)));
        let journal = Arc::new(Journal {
            held: Arc::clone(&shared),
            root: self.root().to_path_buf(),
            next: AtomicU64::new(carried.len() as u64),
            open: Mutex::new(carried.iter().map(|(id, _)| *id).collect()),
        });
        record_children_and_stamp(&shared, self.root());
        crate::git::set_checkout_log(Some(journal.clone()));
        let cleanup = release_on_interrupt(&shared, &journal);
        Ok(WorkspaceLock {
            held: shared,
            journal,
            carried,
            started: me.started,
            previous_run,
            previous_text,
            on_interrupt: Some(cleanup),
        })
    }
}

/// What one try at the lock file gave.
enum Attempt {
    /// The file, locked.
    Taken(fs::File),
    /// Its holder released and removed it meanwhile: try again.
    Gone,
    /// Another run holds it: the message naming that run.
    Held(String),
}

/// Opens and locks the lock file at `path`; an error when it cannot be
/// opened or locked at all.
fn try_lock_file(path: &Path) -> Result<Attempt> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            if !same_file(&file, path) {
                return Ok(Attempt::Gone);
            }
            let who = match LockHolder::parse(&read_all(&file)) {
                Some(h) => h.describe(),
                None => "another run (it has not written its name yet)".to_string(),
            };
            return Ok(Attempt::Held(format!(
                "the workspace is locked by {who}: {}\n  wait for that run to finish (the lock is released as soon as it ends, however it ends)",
                path.display()
            )));
        }
        Err(fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
            bail!(
                "the file system of {} does not support file locks, so two runs could interleave: {e}",
                path.display()
            );
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("could not lock {}", path.display()))
        }
    }
    // We may have locked a file its holder had just removed.
    Ok(if same_file(&file, path) {
        Attempt::Taken(file)
    } else {
        Attempt::Gone
    })
}

/// On an interrupt, unlocks: removing the file when the run leaves nothing
/// for the next one, else leaving its text.
fn release_on_interrupt(shared: &Shared, journal: &Arc<Journal>) -> crate::process::interrupt::Cleanup {
    let release = Arc::clone(shared);
    let open = Arc::clone(journal);
    crate::process::interrupt::on_interrupt(Box::new(move || {
        if let Some(held) = lock_held(&release).take() {
            held.end(crate::process::interrupt::children_were_killed() || open.any_open());
        }
    }))
}

/// Has the journal in `shared` record each git process the run starts,
/// with where and when (see `crate::exec::run_window`), and stamped every
/// heartbeat while the lock is held.
fn record_children_and_stamp(shared: &Shared, root: &Path) {
    let recorder = Arc::clone(shared);
    let root = root.to_path_buf();
    crate::process::children::set_spawn_observer(Some(Arc::new(move |pid, started, dir: &Path| {
        if let Some(held) = lock_held(&recorder).as_mut() {
            // Best effort: the record only narrows what a later run would
            // clean up after this one.
            let line = match pid {
                Some(pid) => Some(crate::exec::run_window::child_line(pid, started, dir, &root)),
                None => crate::exec::run_window::starting_line(started, dir, &root),
            };
            if let Some(line) = line {
                let _ = held.file.write_all(line.as_bytes());
            }
        }
    })));
    let stamp = Arc::clone(shared);
    crate::exec::run_window::heartbeat(move || match lock_held(&stamp).as_ref() {
        Some(held) => {
            let _ = held.file.set_modified(SystemTime::now());
            true
        }
        None => false,
    });
}

/// The open, locked lock file.
#[derive(Debug)]
struct Held {
    file: fs::File,
    path: PathBuf,
}

impl Held {
    fn write_info(&self, text: &str) -> std::io::Result<()> {
        use std::io::Seek;
        let mut file = &self.file;
        file.set_len(0)?;
        file.seek(std::io::SeekFrom::Start(0))?;
        file.write_all(text.as_bytes())?;
        file.flush()
    }

    /// Removes the file while still holding its lock (so nobody can lock
    /// it and believe it valid; see [`same_file`]), then unlocks by closing.
    fn release(self) {
        let _ = fs::remove_file(&self.path);
        drop(self.file);
    }

    /// Unlocks: leaving the file's text for the next run when `keep_text`
    /// (a checkout may have been cut short), else removing it.
    fn end(self, keep_text: bool) {
        if keep_text {
            drop(self.file);
        } else {
            self.release();
        }
    }
}

fn lock_held<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Opens (creating it) the lock file at `path`, never through a symbolic
/// link (`O_NOFOLLOW`): a link planted there would make the run create,
/// lock, write and at its end remove a file elsewhere. Only a regular file
/// is taken (`O_NONBLOCK`: opening a FIFO does not wait).
fn open_lock_file(path: &Path) -> Result<fs::File> {
    let mut options = lock_file_options();
    options.read(true).write(true).create(true).truncate(false);
    let is_link = || fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let file = match options.open(path) {
        Err(_) if is_link() => bail!(
            "{} is a symbolic link; the workspace's lock file is never opened through one (the run would lock and \
             write the file it points to). Remove the link, then run again",
            path.display()
        ),
        opened => opened.with_context(|| format!("could not open the lock file {}", path.display()))?,
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        bail!(
            "{} is not a regular file, so it cannot be the workspace's lock file; remove it, then run again",
            path.display()
        );
    }
    Ok(file)
}

/// Options that never open the lock file through a symbolic link nor wait
/// on a FIFO (see [`open_lock_file`]).
fn lock_file_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32);
    }
    options
}

/// Whether the open `file` is still the one at `path` (not removed or
/// replaced since it was opened; a symbolic link there now is not it).
fn same_file(file: &fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

fn read_all(file: &fs::File) -> String {
    use std::io::{Read, Seek};
    let mut text = String::new();
    let mut reader = file;
    if reader.seek(std::io::SeekFrom::Start(0)).is_ok() {
        // The information is a few lines; a huge file is not ours to read.
        let _ = reader.take(64 * 1024).read_to_string(&mut text);
    }
    text
}

/// What a run writes into its lock file as it goes, for the next run to
/// read should this one not finish: the git processes it starts
/// (`starting=MILLIS PATH` just before, `child=PID MILLIS PATH` once
/// started, by the spawn observer; see `crate::exec::run_window`), and each
/// checkout that rewrites a working tree from one commit to another, on
/// disk before it starts (`checkout=ID FROM TO PATH`, `FROM` `-` for a
/// repository git is making) and once it finished or was refused
/// (`checkout-done=ID`). `PATH` is relative to the workspace, with `%`,
/// control characters and spaces written `%XX`.
#[derive(Debug)]
struct Journal {
    held: Shared,
    root: PathBuf,
    next: AtomicU64,
    /// The ids of the checkouts recorded and not yet done.
    open: Mutex<BTreeSet<u64>>,
}

impl Journal {
    /// Whether a recorded checkout has not ended: it may have been cut
    /// short, and the lock file's text is left for the next run.
    fn any_open(&self) -> bool {
        !lock_held(&self.open).is_empty()
    }

    fn done(&self, id: u64) {
        if lock_held(&self.open).remove(&id) {
            if let Some(held) = lock_held(&self.held).as_mut() {
                // Not synced: lost in a crash, the record only makes the
                // next run look at a checkout that finished.
                let _ = writeln!(held.file, "checkout-done={id}");
            }
        }
    }
}

impl crate::git::CheckoutLog for Journal {
    fn starting(&self, repo: &Path, from: Option<&CommitId>, to: &CommitId) -> std::io::Result<Option<u64>> {
        // Nothing outside the workspace is repaired by a later run.
        let Ok(rel) = repo.strip_prefix(&self.root) else {
            return Ok(None);
        };
        let intent = CheckoutIntent {
            repo: rel.to_path_buf(),
            from: from.cloned(),
            to: to.clone(),
            at: Some(SystemTime::now()),
        };
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut held = lock_held(&self.held);
        let Some(held) = held.as_mut() else {
            return Err(std::io::Error::other("the workspace lock was released"));
        };
        lock_held(&self.open).insert(id);
        held.file.write_all(intent.to_line(id).as_bytes())?;
        held.file.sync_data()?;
        Ok(Some(id))
    }

    fn ended(&self, id: u64) {
        self.done(id);
    }
}

/// A checkout of `to` over `from` in the repository at `repo` (relative to
/// the workspace): a project, or a submodule in one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutIntent {
    /// The repository's working tree, relative to the workspace.
    pub repo: PathBuf,
    /// Where HEAD was; `None` for a repository git was about to make
    /// (a submodule's clone).
    pub from: Option<CommitId>,
    /// What was checked out.
    pub to: CommitId,
    /// When the run recorded it, before git started; `None` when the
    /// record does not say (written by an older version, or by hand): not
    /// a record recovery acts on.
    pub at: Option<SystemTime>,
}

impl CheckoutIntent {
    fn to_line(&self, id: u64) -> String {
        let at = self
            .at
            .map(|t| format!(" at={}", crate::exec::run_window::millis(t)))
            .unwrap_or_default();
        format!(
            "checkout={id} {} {} {}{at}\n",
            self.from.as_ref().map_or("-", |c| c.as_str()),
            self.to,
            crate::exec::journal_path::encode_path(&self.repo)
        )
    }

    /// The checkout a `checkout=` line records, and its id; `None` for
    /// anything else, or a path that is absolute or climbs out (`..`).
    fn parse(value: &str) -> Option<(u64, CheckoutIntent)> {
        let mut fields = value.split_whitespace();
        let id = fields.next()?.parse().ok()?;
        let from = match fields.next()? {
            "-" => None,
            from => Some(CommitId::new(from).ok()?),
        };
        let to = CommitId::new(fields.next()?).ok()?;
        let repo = crate::exec::journal_path::decode_path(fields.next()?)?;
        let at = match fields.next() {
            None => None,
            Some(field) => Some(crate::exec::run_window::from_millis(field.strip_prefix("at=")?)?),
        };
        let inside = repo
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        (inside && repo.components().next().is_some()).then_some((id, CheckoutIntent { repo, from, to, at }))
    }
}

/// Held while a command changes the workspace; released (and its file
/// removed) when dropped, on Ctrl-C, or by the kernel when the process dies.
/// A run that leaves a checkout unfinished (see [`Journal`]) leaves the
/// file's text for the next run.
#[derive(Debug)]
pub struct WorkspaceLock {
    held: Shared,
    journal: Arc<Journal>,
    /// The previous run's unfinished checkouts, recorded again under these
    /// ids for this run to deal with.
    carried: Vec<(u64, CheckoutIntent)>,
    started: SystemTime,
    previous_run: Option<PreviousRun>,
    /// The text the previous run left, to put back (see
    /// [`WorkspaceLock::give_back`]).
    previous_text: Option<String>,
    /// Releases the lock on an interrupt (see [`crate::process::interrupt`]).
    on_interrupt: Option<crate::process::interrupt::Cleanup>,
}

impl WorkspaceLock {
    /// When this run took the lock.
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// The run that held the lock before and ended without releasing it
    /// (killed, crashed, or the machine went down): its information was
    /// still in the file when this run locked it.
    pub fn previous_run(&self) -> Option<&PreviousRun> {
        self.previous_run.as_ref()
    }

    /// The checkouts the previous run started and did not see end, each
    /// with the id this run recorded it again under (see
    /// [`WorkspaceLock::checkout_settled`]).
    pub fn unfinished_checkouts(&self) -> &[(u64, CheckoutIntent)] {
        &self.carried
    }

    /// Records that the unfinished checkout `id` was dealt with: the next
    /// run need not look at it again.
    pub fn checkout_settled(&self, id: u64) {
        self.journal.done(id);
    }

    /// Releases the lock having changed nothing: the previous run's text
    /// goes back into the file, so the next run still knows that run did
    /// not finish and cleans up after it.
    pub fn give_back(self) {
        crate::process::children::set_spawn_observer(None);
        crate::git::set_checkout_log(None);
        if let Some(held) = lock_held(&self.held).take() {
            match &self.previous_text {
                Some(text) => {
                    let _ = held.write_info(text);
                    // Its last stamp too: when that run stopped is what the
                    // next run judges its files by (see `crate::exec::run_window`).
                    if let Some(alive) = self.previous_run.as_ref().and_then(|r| r.last_alive) {
                        let _ = held.file.set_modified(alive);
                    }
                    drop(held.file); // unlocked; the file stays
                }
                None => held.release(),
            }
        }
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        crate::process::children::set_spawn_observer(None);
        crate::git::set_checkout_log(None);
        if crate::process::interrupt::is_interrupted() {
            // The run ended because of the interrupt, whose handling
            // releases the lock once the git processes are ended (keeping
            // its information if one had to be killed): leave it to that.
            std::mem::forget(self.on_interrupt.take());
            return;
        }
        if let Some(held) = lock_held(&self.held).take() {
            held.end(self.journal.any_open());
        }
    }
}

/// What a run that did not finish left in the lock file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousRun {
    pub pid: Option<u32>,
    pub host: Option<String>,
    /// Its command line (`checkout --sync`).
    pub command: String,
    /// When it took the lock; `None` when it did not say (an older version
    /// of the tool wrote the file).
    pub started: Option<SystemTime>,
    /// The git processes it started, in order.
    pub children: Vec<u32>,
    /// Where (relative to the workspace) and when each git process it
    /// started worked, as far as its lock file says (an older version of
    /// the tool did not say).
    pub worked_in: Vec<(PathBuf, SystemTime)>,
    /// When its lock file was last changed: its last heartbeat (see
    /// `crate::exec::run_window`), the latest time it is known to have run.
    pub last_alive: Option<SystemTime>,
    /// The checkouts it started and did not see end, in order.
    pub checkouts: Vec<CheckoutIntent>,
}

impl PreviousRun {
    /// What the lock file's `text` says; `None` when it is blank.
    fn from_text(text: &str, last_alive: Option<SystemTime>) -> Option<PreviousRun> {
        if text.trim().is_empty() {
            return None;
        }
        let holder = LockHolder::parse(text);
        let children: Vec<(u32, Option<(SystemTime, PathBuf)>)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("child="))
            .filter_map(crate::exec::run_window::parse_child)
            .collect();
        Some(PreviousRun {
            pid: holder.as_ref().map(|h| h.pid),
            host: holder.as_ref().map(|h| h.host.clone()),
            command: holder.as_ref().map(|h| h.command.clone()).unwrap_or_default(),
            started: holder.as_ref().and_then(|h| h.since),
            children: children.iter().map(|(pid, _)| *pid).collect(),
            worked_in: children
                .into_iter()
                .filter_map(|(_, place)| place)
                .chain(
                    text.lines()
                        .filter_map(|l| l.strip_prefix("starting="))
                        .filter_map(crate::exec::run_window::parse_starting),
                )
                .map(|(at, dir)| (dir, at))
                .collect(),
            last_alive,
            checkouts: unfinished_checkouts(text),
        })
    }

    /// Whether it ran on this machine, so its processes can be looked for.
    pub fn ran_here(&self) -> bool {
        self.host.as_deref() == Some(hostname().as_str())
    }

    /// `process 123 on HOST running `sync``, for messages.
    pub fn describe(&self) -> String {
        let mut text = match (self.pid, &self.host) {
            (Some(pid), Some(host)) => format!("process {pid} on {host}"),
            _ => "an earlier run".to_string(),
        };
        if !self.command.is_empty() {
            text.push_str(&format!(" running `{}`", self.command));
        }
        text
    }
}

/// The `checkout=` records of a lock file's text without a
/// `checkout-done=` record, in order.
fn unfinished_checkouts(text: &str) -> Vec<CheckoutIntent> {
    let done: BTreeSet<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("checkout-done="))
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    text.lines()
        .filter_map(|l| l.strip_prefix("checkout="))
        .filter_map(CheckoutIntent::parse)
        .filter(|(id, _)| !done.contains(id))
        .map(|(_, intent)| intent)
        .collect()
}

#[derive(Debug)]
struct LockHolder {
    pid: u32,
    host: String,
    command: String,
    /// When it took the lock (wall clock).
    since: Option<SystemTime>,
    started: SystemTime,
}

impl LockHolder {
    fn current(command: &str) -> LockHolder {
        let now = SystemTime::now();
        LockHolder {
            pid: std::process::id(),
            host: hostname(),
            command: command.to_string(),
            since: Some(now),
            started: now,
        }
    }

    fn to_text(&self) -> String {
        let since = self
            .since
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| format!("since={}.{:09}\n", d.as_secs(), d.subsec_nanos()))
            .unwrap_or_default();
        format!(
            "pid={}\nhost={}\ncommand={}\n{since}",
            self.pid, self.host, self.command
        )
    }

    fn parse(text: &str) -> Option<LockHolder> {
        let mut pid = None;
        let mut since = None;
        let mut host = None;
        let mut command = String::new();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", v)) => pid = v.trim().parse().ok(),
                Some(("since", v)) => since = parse_time(v.trim()),
                Some(("host", v)) => host = Some(v.trim().to_string()),
                Some(("command", v)) => command = v.trim().to_string(),
                _ => {}
            }
        }
        Some(LockHolder {
            pid: pid?,
            host: host?,
            command,
            since,
            started: UNIX_EPOCH,
        })
    }

    /// `process 123 on HOST running `sync` (for 42 s)`.
    fn describe(&self) -> String {
        let mut text = format!("process {} on {} running `{}`", self.pid, self.host, self.command);
        if let Some(for_secs) = self
            .since
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .map(|d| d.as_secs())
        {
            text.push_str(&format!(" (for {for_secs} s)"));
        }
        text
    }
}

/// `SECONDS.NANOS` since the Unix epoch.
fn parse_time(text: &str) -> Option<SystemTime> {
    let (secs, nanos) = text.split_once('.').unwrap_or((text, "0"));
    let secs: u64 = secs.parse().ok()?;
    let nanos: u32 = format!("{nanos:0<9}").get(..9)?.parse().ok()?;
    UNIX_EPOCH.checked_add(std::time::Duration::new(secs, nanos))
}

fn hostname() -> String {
    // The lock's information is for people; `uname` needs no /proc.
    #[cfg(unix)]
    let uname = Some(rustix::system::uname().nodename().to_string_lossy().into_owned());
    #[cfg(not(unix))]
    let uname: Option<String> = None;
    uname
        .filter(|n| !n.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown-host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes the lock this test process just released. Tests run in
    /// parallel threads that start processes: a child forked before its
    /// exec briefly shares every open file, and so the flock of a lock file
    /// closed here in that instant (never the case for a run, which takes
    /// the lock once).
    fn lock_again(ws: &Workspace, command: &str) -> WorkspaceLock {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match ws.lock(command) {
                Ok(lock) => return lock,
                Err(e) if std::time::Instant::now() < deadline => {
                    assert!(
                        e.to_string()
                            .contains(&format!("process {} ", std::process::id())),
                        "{e}"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// A workspace in a temporary folder, and the right to take workspace
    /// locks in it until dropped: the spawn observer a lock sets (and
    /// removes when released) is the process's, shared by the tests
    /// running at once, so those that take a lock take turns.
    fn workspace() -> ((tempfile::TempDir, std::sync::MutexGuard<'static, ()>), Workspace) {
        static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        ((dir, turn), Workspace::at(&root))
    }

    #[test]
    fn a_held_lock_names_its_holder_and_is_released_on_drop() {
        let (_dir, ws) = workspace();
        let lock = ws.lock("sync").unwrap();
        assert_eq!(lock.previous_run(), None);
        let text = fs::read_to_string(ws.root().join(LOCK_FILE)).unwrap();
        assert!(
            text.starts_with(&format!(
                "pid={}\nhost={}\ncommand=sync\nsince=",
                std::process::id(),
                hostname()
            )),
            "{text}"
        );
        // A second open file description of the same file: the OS lock
        // refuses it as it would another process.
        let err = ws.lock("pin").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "the workspace is locked by process {} on {} running `sync` (for ",
                std::process::id(),
                hostname()
            )) && err.contains(LOCK_FILE),
            "{err}"
        );
        drop(lock);
        let names: Vec<_> = fs::read_dir(ws.root()).unwrap().collect();
        assert!(names.is_empty(), "left behind: {names:?}");
        drop(lock_again(&ws, "pin"));
    }

    #[test]
    fn a_lock_file_left_by_a_run_that_ended_without_releasing_is_taken_over_and_described() {
        let (_dir, ws) = workspace();
        let path = ws.root().join(LOCK_FILE);
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        fs::write(
            &path,
            format!(
                "pid=4242\nhost=elsewhere.example\ncommand=checkout --sync\nsince=1700000000.5\nchild=17\n\
                 checkout=0 {a} {b} liba\nchild=18\ncheckout=1 {b} {a} liba/third_party/sub%20x%0A\n\
                 checkout=2 {a} {b} ../outside\ncheckout=3 {a} {b} /abs\ncheckout=4 {a} short base\n\
                 checkout-done=0\nchild=19 1700000001000 liba\nstarting=1700000002000 libb\n"
            ),
        )
        .unwrap();
        let lock = ws.lock("sync").unwrap();
        let last_alive = lock.previous_run().unwrap().last_alive;
        assert!(last_alive.is_some());
        assert_eq!(
            lock.previous_run(),
            Some(&PreviousRun {
                pid: Some(4242),
                host: Some("elsewhere.example".into()),
                command: "checkout --sync".into(),
                started: Some(UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_500)),
                children: vec![17, 18, 19],
                // The last process was about to start when that run
                // stopped: where it would work counts too.
                worked_in: vec![
                    (
                        PathBuf::from("liba"),
                        UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_001_000)
                    ),
                    (
                        PathBuf::from("libb"),
                        UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_002_000)
                    ),
                ],
                last_alive,
                checkouts: vec![CheckoutIntent {
                    repo: PathBuf::from("liba/third_party/sub x\n"),
                    from: Some(crate::model::types::CommitId::new(&b).unwrap()),
                    to: crate::model::types::CommitId::new(&a).unwrap(),
                    at: None,
                }],
            })
        );
        assert!(!lock.previous_run().unwrap().ran_here());
        assert_eq!(
            lock.previous_run().unwrap().describe(),
            "process 4242 on elsewhere.example running `checkout --sync`"
        );
        // Our own information replaced it; the unfinished checkout is
        // recorded again until this run settles it.
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("pid={}\n", std::process::id())),
            "{text}"
        );
        assert!(
            text.ends_with(&format!("\ncheckout=0 {b} {a} liba/third_party/sub%20x%0A\n")),
            "{text}"
        );
        assert_eq!(lock.unfinished_checkouts().len(), 1);
        lock.checkout_settled(0);
        drop(lock);
        assert!(!path.exists());
    }

    #[test]
    fn a_run_that_leaves_a_checkout_unfinished_leaves_its_record_for_the_next() {
        use crate::git::CheckoutLog;
        let (_dir, ws) = workspace();
        let path = ws.root().join(LOCK_FILE);
        let (a, b) = (
            crate::model::types::CommitId::new(&"a".repeat(40)).unwrap(),
            crate::model::types::CommitId::new(&"b".repeat(40)).unwrap(),
        );
        let lock = ws.lock("sync").unwrap();
        let finished = lock
            .journal
            .starting(&ws.root().join("libb"), Some(&a), &b)
            .unwrap()
            .unwrap();
        let cut = lock
            .journal
            .starting(&ws.root().join("liba/third_party/x"), Some(&b), &a)
            .unwrap()
            .unwrap();
        let cloned = lock
            .journal
            .starting(&ws.root().join("liba/third_party/y"), None, &a)
            .unwrap()
            .unwrap();
        lock.journal.ended(finished);
        assert_eq!(
            lock.journal
                .starting(Path::new("/elsewhere/repo"), Some(&a), &b)
                .unwrap(),
            None
        );
        drop(lock);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&format!("\ncheckout={cut} {b} {a} liba/third_party/x at=")),
            "{text}"
        );
        assert!(
            text.contains(&format!("\ncheckout={cloned} - {a} liba/third_party/y at=")),
            "{text}"
        );

        let next = lock_again(&ws, "sync");
        let at = |i: usize| next.previous_run().unwrap().checkouts[i].at;
        assert!(at(0).is_some() && at(1).is_some(), "each record says when");
        assert_eq!(
            next.previous_run().unwrap().checkouts,
            [
                CheckoutIntent {
                    repo: PathBuf::from("liba/third_party/x"),
                    from: Some(b.clone()),
                    to: a.clone(),
                    at: at(0),
                },
                CheckoutIntent {
                    repo: PathBuf::from("liba/third_party/y"),
                    from: None,
                    to: a.clone(),
                    at: at(1),
                }
            ]
        );
        assert_eq!(next.unfinished_checkouts().len(), 2);
        next.checkout_settled(next.unfinished_checkouts()[1].0);
        drop(next); // one not settled: still on record
        let after = lock_again(&ws, "sync");
        assert_eq!(after.unfinished_checkouts().len(), 1);
        let (id, _) = after.unfinished_checkouts()[0].clone();
        after.checkout_settled(id);
        drop(after);
        assert!(!path.exists());
    }

    #[test]
    fn the_git_processes_a_run_starts_are_recorded_in_its_lock_file() {
        let (_dir, ws) = workspace();
        let lock = ws.lock("sync").unwrap();
        crate::git::Git::new(false).check_installed().unwrap();
        let text = fs::read_to_string(ws.root().join(LOCK_FILE)).unwrap();
        assert!(text.lines().any(|l| l.starts_with("child=")), "{text}");
        drop(lock);
    }

    #[test]
    fn lock_times_are_read_to_the_nanosecond() {
        let t = |s: &str| parse_time(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_nanos());
        assert_eq!(t("12.5"), Some(12_500_000_000));
        assert_eq!(t("12.000000007"), Some(12_000_000_007));
        assert_eq!(t("12"), Some(12_000_000_000));
        assert_eq!(t("x"), None);
        let holder = LockHolder::current("sync");
        let back = LockHolder::parse(&holder.to_text()).unwrap();
        assert_eq!(back.since, holder.since);
    }
}
