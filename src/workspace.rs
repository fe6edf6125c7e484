//! The workspace: the folder holding the marker file, its project folders,
//! and the lock that keeps two changing runs from interleaving.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::git::Git;
use crate::types::RepoName;

/// The marker file; the same name and content the original Python tool
/// wrote, so workspaces it made keep working.
pub const MARKER: &str = ".openxla_workspace.json";
const MARKER_CONTENT: &str = "{\"version\": 0}\n";

/// The optional per-workspace registry layer.
pub const REGISTRY_FILE: &str = "openxla-workspace.toml";

/// The file whose OS lock is held while a command changes the workspace.
pub const LOCK_FILE: &str = ".openxla_workspace.lock";

/// Prefix of the temporary folders clones are made in before being renamed
/// into place; anything with this prefix is ours and may be removed.
pub const PARTIAL_PREFIX: &str = ".openxla-partial-";

/// The workspace's own file that a project folder named `name` would take
/// the place of, if any (compared without case, as macOS and Windows
/// compare file names).
pub fn own_file_named(name: &RepoName) -> Option<&'static str> {
    [MARKER, REGISTRY_FILE, LOCK_FILE, crate::settings::FILE]
        .into_iter()
        .find(|file| file.eq_ignore_ascii_case(name.as_str()))
}

/// A workspace root.
#[derive(Clone, Debug)]
pub struct Workspace {
    root: PathBuf,
}

/// What `init` found or did.
#[derive(Debug, PartialEq, Eq)]
pub enum InitOutcome {
    /// A new marker was written in this folder (or, in a dry run, would be).
    Created(PathBuf),
    /// The folder is already inside a workspace rooted here.
    Existing(PathBuf),
}

/// A marker found on the way up that is not a workspace, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredMarker {
    /// The marker file.
    pub path: PathBuf,
    /// Why it does not count, as a sentence part (`it is tracked by git`).
    pub reason: String,
}

impl std::fmt::Display for IgnoredMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ignored the workspace marker {}: {}; a marker that comes with a repository does not make a workspace",
            self.path.display(),
            self.reason
        )
    }
}

/// What the search for the enclosing workspace found.
#[derive(Debug)]
pub struct Search {
    /// Where the search started (absolute).
    pub start: PathBuf,
    /// The workspace, if any.
    pub workspace: Option<Workspace>,
    /// Markers passed over on the way up, nearest first.
    pub ignored: Vec<IgnoredMarker>,
}

impl Search {
    /// The workspace found, or the error for a folder in none.
    pub fn into_workspace(self) -> Result<Workspace> {
        match self.workspace {
            Some(workspace) => Ok(workspace),
            None => bail!(
                "No workspace found in a directory enclosing {}\n  run `openxla-workspace init` in the folder that should hold your checkouts",
                self.start.display()
            ),
        }
    }
}

impl Workspace {
    /// Walks up from `start` to the first folder holding the marker that
    /// is a workspace. A marker is not one when it sits inside a project
    /// folder of an enclosing workspace (a folder beside that workspace's
    /// marker with a `.git`), or when git tracks it: either way it came
    /// with someone's repository, and treating it as the workspace would
    /// load that repository's `openxla-workspace.toml` as a registry. A
    /// workspace that merely sits inside a repository (a home folder kept in
    /// git) is one as long as its marker is not committed. Only a marker
    /// with a `.git` at or above its folder costs a git process.
    pub fn search(start: &Path, git: &Git) -> Result<Search> {
        let start = absolute(start)?;
        let markers: Vec<&Path> = start
            .ancestors()
            .filter(|dir| dir.join(MARKER).is_file())
            .collect();
        let mut ignored = Vec::new();
        for (i, dir) in markers.iter().enumerate() {
            match came_with_a_repository(dir, &markers[i + 1..], git) {
                Some(reason) => ignored.push(IgnoredMarker {
                    path: dir.join(MARKER),
                    reason,
                }),
                None => {
                    let workspace = Some(Workspace {
                        root: dir.to_path_buf(),
                    });
                    return Ok(Search {
                        start: start.clone(),
                        workspace,
                        ignored,
                    });
                }
            }
        }
        Ok(Search {
            start,
            workspace: None,
            ignored,
        })
    }

    /// Creates a workspace where `search` started (when `write`; else
    /// only says it would), unless that folder is already inside one. A
    /// marker that git tracks there is an error: writing over it would not
    /// make a workspace.
    pub fn init(search: &Search, write: bool) -> Result<InitOutcome> {
        if let Some(existing) = &search.workspace {
            return Ok(InitOutcome::Existing(existing.root.clone()));
        }
        let marker = search.start.join(MARKER);
        if let Some(ignored) = search.ignored.iter().find(|m| m.path == marker) {
            bail!(
                "{} is here already, but {}, so this folder cannot be a workspace; \
                 run `openxla-workspace init` in a folder outside that repository",
                marker.display(),
                ignored.reason
            );
        }
        if write {
            fs::write(&marker, MARKER_CONTENT)
                .with_context(|| format!("could not write the workspace marker {}", marker.display()))?;
        }
        Ok(InitOutcome::Created(search.start.clone()))
    }

    /// A workspace rooted at `root`, as planning sees it (no file is read):
    /// for the planners' unit tests.
    #[cfg(test)]
    pub(crate) fn at(root: &Path) -> Workspace {
        Workspace {
            root: root.to_path_buf(),
        }
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where project `name` is checked out.
    pub fn project_dir(&self, name: &RepoName) -> PathBuf {
        self.root.join(name.as_str())
    }

    /// The temporary sibling folder a clone of `name` is made in.
    pub fn partial_dir(&self, name: &RepoName) -> PathBuf {
        self.root.join(format!("{PARTIAL_PREFIX}{name}"))
    }

    /// The workspace-level registry file, if the workspace has one (of
    /// any kind: reading it refuses what is not a regular file, rather than
    /// silently doing without it).
    pub fn registry_file(&self) -> Option<PathBuf> {
        let path = self.root.join(REGISTRY_FILE);
        fs::symlink_metadata(&path).is_ok().then_some(path)
    }

    /// The project whose folder contains `dir`, if any.
    pub fn project_containing(&self, dir: &Path) -> Option<RepoName> {
        let dir = absolute(dir).ok()?;
        let rel = dir.strip_prefix(&self.root).ok()?;
        let first = rel.components().next()?;
        RepoName::new(first.as_os_str().to_str()?).ok()
    }

    /// Takes the workspace lock for a command that changes the workspace:
    /// an OS file lock on [`LOCK_FILE`] (`File::try_lock`), held until the
    /// returned guard is dropped or the process ends, however it ends. The
    /// file's text (pid, host, command, start time, and the pids of the git
    /// processes the run starts) is only information: for the message a
    /// second run prints, and, when a run finds it left behind by a holder
    /// that no longer holds the lock, to know that run did not finish (see
    /// [`WorkspaceLock::previous_run`]).
    pub fn lock(&self, command: &str) -> Result<WorkspaceLock> {
        let path = self.root.join(LOCK_FILE);
        // A few rounds: a holder that finishes removes the file while still
        // holding its lock, so a file we opened just before may be gone.
        for _ in 0..10 {
            let file = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    if !same_file(&file, &path) {
                        continue; // released and removed meanwhile: try again
                    }
                    let who = match LockHolder::parse(&read_all(&file)) {
                        Some(h) => h.describe(),
                        None => "another run (it has not written its name yet)".to_string(),
                    };
                    bail!(
                        "the workspace is locked by {who}: {}\n  wait for that run to finish (the lock is released as soon as it ends, however it ends)",
                        path.display()
                    );
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
            if !same_file(&file, &path) {
                continue; // we locked a file its holder had just removed
            }
            let left = read_all(&file);
            let previous_run = (!left.trim().is_empty()).then(|| PreviousRun::from_text(&left));
            let previous_text = previous_run.as_ref().map(|_| left.clone());
            let me = LockHolder::current(command);
            let held = Held {
                file,
                path: path.clone(),
            };
            // The checkouts the previous run may have cut short stay on
            // record until this run has dealt with them (see
            // `crate::recover`): a run stopped before then leaves them to
            // the next.
            let carried = previous_run.as_ref().map_or(&[][..], |r| &r.checkouts[..]);
            let mut text = me.to_text();
            for (i, intent) in carried.iter().enumerate() {
                text.push_str(&intent.to_line(i as u64));
            }
            if let Err(e) = held.write_info(&text).and_then(|()| held.file.sync_data()) {
                held.release();
                return Err(e).with_context(|| format!("could not write the lock file {}", path.display()));
            }
            let shared = std::sync::Arc::new(std::sync::Mutex::new(Some(held)));
            let journal = std::sync::Arc::new(Journal {
                held: std::sync::Arc::clone(&shared),
                root: self.root.clone(),
                next: std::sync::atomic::AtomicU64::new(carried.len() as u64),
                open: std::sync::Mutex::new((0..carried.len() as u64).collect()),
            });
            let carried: Vec<(u64, CheckoutIntent)> = carried
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, c)| (i as u64, c))
                .collect();
            let recorder = std::sync::Arc::clone(&shared);
            crate::git::set_spawn_observer(Some(std::sync::Arc::new(move |pid| {
                if let Some(held) = lock_held(&recorder).as_mut() {
                    // Best effort: the record only narrows what a later
                    // run would clean up after this one.
                    let _ = writeln!(held.file, "child={pid}");
                }
            })));
            crate::git::set_checkout_log(Some(journal.clone()));
            let release = std::sync::Arc::clone(&shared);
            let open = std::sync::Arc::clone(&journal);
            let cleanup = crate::interrupt::on_interrupt(Box::new(move || {
                if let Some(held) = lock_held(&release).take() {
                    if crate::interrupt::children_were_killed() || open.any_open() {
                        drop(held.file); // unlocked, its information left
                    } else {
                        held.release();
                    }
                }
            }));
            return Ok(WorkspaceLock {
                held: shared,
                journal,
                carried,
                started: me.started,
                previous_run,
                previous_text,
                on_interrupt: Some(cleanup),
            });
        }
        bail!("could not take the workspace lock {}", path.display())
    }
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
}

fn lock_held<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Opens (creating it) the lock file at `path`, never through a symbolic
/// link (`O_NOFOLLOW`): a link planted there would make the run create,
/// lock, write and at its end remove a file elsewhere. Only a regular file
/// is taken (`O_NONBLOCK`: opening a FIFO does not wait).
fn open_lock_file(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32);
    }
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
/// (`child=PID`, by the spawn observer) and the checkouts that rewrite a
/// working tree from one commit to another (`checkout=ID FROM TO PATH`,
/// `FROM` `-` for a repository git is making
/// before one starts, on disk before it starts; `checkout-done=ID` once it
/// finished or was refused). `PATH` is relative to the workspace, with
/// `%`, control characters and spaces written `%XX`.
#[derive(Debug)]
struct Journal {
    held: std::sync::Arc<std::sync::Mutex<Option<Held>>>,
    root: PathBuf,
    next: std::sync::atomic::AtomicU64,
    /// The ids of the checkouts recorded and not yet done.
    open: std::sync::Mutex<std::collections::BTreeSet<u64>>,
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
    fn starting(
        &self,
        repo: &Path,
        from: Option<&crate::types::CommitId>,
        to: &crate::types::CommitId,
    ) -> std::io::Result<Option<u64>> {
        // Nothing outside the workspace is repaired by a later run.
        let Ok(rel) = repo.strip_prefix(&self.root) else {
            return Ok(None);
        };
        let intent = CheckoutIntent {
            repo: rel.to_path_buf(),
            from: from.cloned(),
            to: to.clone(),
        };
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
    pub from: Option<crate::types::CommitId>,
    /// What was checked out.
    pub to: crate::types::CommitId,
}

impl CheckoutIntent {
    fn to_line(&self, id: u64) -> String {
        format!(
            "checkout={id} {} {} {}\n",
            self.from.as_ref().map_or("-", |c| c.as_str()),
            self.to,
            encode_path(&self.repo)
        )
    }

    /// The checkout a `checkout=` line records, and its id; `None` for
    /// anything else, or a path that is absolute or climbs out (`..`).
    fn parse(value: &str) -> Option<(u64, CheckoutIntent)> {
        let mut fields = value.splitn(4, ' ');
        let id = fields.next()?.parse().ok()?;
        let from = match fields.next()? {
            "-" => None,
            from => Some(crate::types::CommitId::new(from).ok()?),
        };
        let to = crate::types::CommitId::new(fields.next()?).ok()?;
        let repo = decode_path(fields.next()?.trim_end())?;
        let inside = repo
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        (inside && repo.components().next().is_some()).then_some((id, CheckoutIntent { repo, from, to }))
    }
}

/// `path` on one line of the lock file: bytes other than printable ASCII,
/// and `%` and space, as `%XX`.
fn encode_path(path: &Path) -> String {
    let mut text = String::new();
    for &b in path_bytes(path).iter() {
        if b.is_ascii_graphic() && b != b'%' {
            text.push(b as char);
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    text
}

fn decode_path(text: &str) -> Option<PathBuf> {
    let mut bytes = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(bytes).ok().map(PathBuf::from)
    }
}

fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::borrow::Cow::Owned(path.to_string_lossy().into_owned().into_bytes())
    }
}

/// Held while a command changes the workspace; released (and its file
/// removed) when dropped, on Ctrl-C, or by the kernel when the process dies.
/// A run that leaves a checkout unfinished (see [`Journal`]) leaves the
/// file's text for the next run.
#[derive(Debug)]
pub struct WorkspaceLock {
    held: std::sync::Arc<std::sync::Mutex<Option<Held>>>,
    journal: std::sync::Arc<Journal>,
    /// The previous run's unfinished checkouts, recorded again under these
    /// ids for this run to deal with.
    carried: Vec<(u64, CheckoutIntent)>,
    started: SystemTime,
    previous_run: Option<PreviousRun>,
    /// The text the previous run left, to put back (see
    /// [`WorkspaceLock::give_back`]).
    previous_text: Option<String>,
    /// Releases the lock on an interrupt (see [`crate::interrupt`]).
    on_interrupt: Option<crate::interrupt::Cleanup>,
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
}

impl WorkspaceLock {
    /// Releases the lock having changed nothing: the previous run's text
    /// goes back into the file, so the next run still knows that run did
    /// not finish and cleans up after it.
    pub fn give_back(self) {
        crate::git::set_spawn_observer(None);
        crate::git::set_checkout_log(None);
        if let Some(held) = lock_held(&self.held).take() {
            match &self.previous_text {
                Some(text) => {
                    let _ = held.write_info(text);
                    drop(held.file); // unlocked; the file stays
                }
                None => held.release(),
            }
        }
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        crate::git::set_spawn_observer(None);
        crate::git::set_checkout_log(None);
        if crate::interrupt::is_interrupted() {
            // The run ended because of the interrupt, whose handling
            // releases the lock once the git processes are ended (keeping
            // its information if one had to be killed): leave it to that.
            std::mem::forget(self.on_interrupt.take());
            return;
        }
        if let Some(held) = lock_held(&self.held).take() {
            if self.journal.any_open() {
                drop(held.file); // unlocked, its information left
            } else {
                held.release();
            }
        }
    }
}

/// What a run that did not finish left in the lock file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousRun {
    /// Its process id.
    pub pid: Option<u32>,
    /// The host it ran on.
    pub host: Option<String>,
    /// Its command line (`checkout --sync`).
    pub command: String,
    /// When it took the lock; `None` when it did not say (an older version
    /// of the tool wrote the file).
    pub started: Option<SystemTime>,
    /// The git processes it started, in order.
    pub children: Vec<u32>,
    /// The checkouts it started and did not see end, in order.
    pub checkouts: Vec<CheckoutIntent>,
}

impl PreviousRun {
    fn from_text(text: &str) -> PreviousRun {
        let holder = LockHolder::parse(text);
        PreviousRun {
            pid: holder.as_ref().map(|h| h.pid),
            host: holder.as_ref().map(|h| h.host.clone()),
            command: holder.as_ref().map(|h| h.command.clone()).unwrap_or_default(),
            started: holder.as_ref().and_then(|h| h.since),
            children: text
                .lines()
                .filter_map(|l| l.strip_prefix("child="))
                .filter_map(|v| v.trim().parse().ok())
                .collect(),
            checkouts: unfinished_checkouts(text),
        }
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
    let done: std::collections::BTreeSet<u64> = text
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
    if let Some(name) = uname_nodename() {
        return name;
    }
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

#[cfg(unix)]
fn uname_nodename() -> Option<String> {
    let name = rustix::system::uname().nodename().to_string_lossy().into_owned();
    Some(name).filter(|n| !n.is_empty())
}

/// Why the marker in `dir` came with a repository rather than from `init`,
/// if it did: it lies inside a project folder of one of the workspaces
/// `outer` (folders holding a marker above `dir`), or git tracks it.
fn came_with_a_repository(dir: &Path, outer: &[&Path], git: &Git) -> Option<String> {
    for workspace in outer {
        let Some(first) = dir
            .strip_prefix(workspace)
            .ok()
            .and_then(|rel| rel.components().next())
        else {
            continue;
        };
        let project = workspace.join(first);
        if project.join(".git").exists() {
            return Some(format!(
                "it is inside {}, a project of the workspace {}",
                project.display(),
                workspace.display()
            ));
        }
    }
    if !dir.ancestors().any(|d| d.join(".git").exists()) {
        return None;
    }
    // A git that cannot say (a repository owned by another user, one it
    // cannot read) is no answer: the marker may have come with that
    // repository, so it is passed over with git's reason.
    match git.tracks_file(dir, MARKER) {
        Ok(false) => None,
        Ok(true) => Some("it is tracked by git".to_string()),
        Err(e) => Some(format!(
            "git cannot tell whether a repository around it tracks it ({})",
            crate::text::escape_control(e.stderr.lines().next().unwrap_or("no reason given").trim(), false)
        )),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("could not read the current folder")?
            .join(path)
    };
    // Resolve symlinks where we can, so walking up follows the real tree.
    Ok(abs.canonicalize().unwrap_or(abs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        (dir, Workspace { root })
    }

    #[test]
    fn a_marker_inside_a_project_of_an_enclosing_workspace_is_passed_over() {
        let (_dir, ws) = workspace();
        let app = ws.root().join("app");
        fs::create_dir_all(app.join(".git")).unwrap();
        fs::create_dir_all(app.join("src")).unwrap();
        fs::write(ws.root().join(MARKER), MARKER_CONTENT).unwrap();
        fs::write(app.join(MARKER), MARKER_CONTENT).unwrap();
        let git = Git::new(false);
        let search = Workspace::search(&app.join("src"), &git).unwrap();
        assert_eq!(search.workspace.unwrap().root(), ws.root());
        assert_eq!(
            search.ignored,
            [IgnoredMarker {
                path: app.join(MARKER),
                reason: format!(
                    "it is inside {}, a project of the workspace {}",
                    app.display(),
                    ws.root().display()
                ),
            }]
        );
        // A folder beside the projects, without a .git, may be a workspace
        // of its own.
        let nested = ws.root().join("notes");
        fs::create_dir_all(&nested).unwrap();
        fs::write(nested.join(MARKER), MARKER_CONTENT).unwrap();
        let search = Workspace::search(&nested, &git).unwrap();
        assert_eq!(search.workspace.unwrap().root(), nested);
        assert!(search.ignored.is_empty());
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
        drop(ws.lock("pin").unwrap());
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
                 checkout-done=0\n"
            ),
        )
        .unwrap();
        let lock = ws.lock("sync").unwrap();
        assert_eq!(
            lock.previous_run(),
            Some(&PreviousRun {
                pid: Some(4242),
                host: Some("elsewhere.example".into()),
                command: "checkout --sync".into(),
                started: Some(UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_500)),
                children: vec![17, 18],
                checkouts: vec![CheckoutIntent {
                    repo: PathBuf::from("liba/third_party/sub x\n"),
                    from: Some(crate::types::CommitId::new(&b).unwrap()),
                    to: crate::types::CommitId::new(&a).unwrap(),
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
            crate::types::CommitId::new(&"a".repeat(40)).unwrap(),
            crate::types::CommitId::new(&"b".repeat(40)).unwrap(),
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
            text.contains(&format!("\ncheckout={cut} {b} {a} liba/third_party/x\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("\ncheckout={cloned} - {a} liba/third_party/y\n")),
            "{text}"
        );

        let next = ws.lock("sync").unwrap();
        assert_eq!(
            next.previous_run().unwrap().checkouts,
            [
                CheckoutIntent {
                    repo: PathBuf::from("liba/third_party/x"),
                    from: Some(b.clone()),
                    to: a.clone()
                },
                CheckoutIntent {
                    repo: PathBuf::from("liba/third_party/y"),
                    from: None,
                    to: a.clone()
                }
            ]
        );
        assert_eq!(next.unfinished_checkouts().len(), 2);
        next.checkout_settled(next.unfinished_checkouts()[1].0);
        drop(next); // one not settled: still on record
        let after = ws.lock("sync").unwrap();
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
