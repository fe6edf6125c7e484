//! The workspace: the folder holding the marker file, its project folders,
//! and the lock that keeps two changing runs from interleaving.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::git::Git;
use crate::types::RepoName;

/// The marker file; the same name and content the original Python tool
/// wrote, so workspaces it made keep working.
pub const MARKER: &str = ".openxla_workspace.json";
const MARKER_CONTENT: &str = "{\"version\": 0}\n";

/// The optional per-workspace registry layer.
pub const REGISTRY_FILE: &str = "openxla-workspace.toml";

/// The lock file held while a command changes the workspace.
pub const LOCK_FILE: &str = ".openxla_workspace.lock";

/// Prefix of the temporary folders clones are made in before being renamed
/// into place; anything with this prefix is ours and may be removed.
pub const PARTIAL_PREFIX: &str = ".openxla-partial-";

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
    /// Finds the workspace enclosing `start`: the nearest folder at or above
    /// it holding the marker, except that a marker that came with a
    /// repository is passed over (see [`Workspace::search`]).
    pub fn find(start: &Path, git: &Git) -> Result<Workspace> {
        Workspace::search(start, git)?.into_workspace()
    }

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

    /// Takes the workspace lock for a command that changes the workspace.
    /// A lock left by a process that no longer runs on this host is removed.
    pub fn lock(&self, command: &str) -> Result<WorkspaceLock> {
        let path = self.root.join(LOCK_FILE);
        let me = LockHolder::current(command);
        // A few rounds: each stale lock removed may be replaced by a
        // concurrent run before we get to create ours.
        for _ in 0..5 {
            let created = create_with_content(&path, &me.to_text())
                .with_context(|| format!("could not write the lock file {}", path.display()))?;
            if created {
                return Ok(WorkspaceLock::new(path));
            }
            let text = fs::read_to_string(&path).unwrap_or_default();
            let holder = LockHolder::parse(&text);
            if holder.as_ref().is_some_and(|h| h.is_stale()) {
                // Its process is gone (killed, machine rebooted): the lock
                // protects nothing any more.
                remove_if_unchanged(&path, &text);
                continue;
            }
            let who = match holder {
                Some(h) => format!("process {} on {} running `{}`", h.pid, h.host, h.command),
                None => "another run (the lock file is unreadable)".to_string(),
            };
            bail!(
                "the workspace is locked by {who}: {}\n  wait for that run to finish; if it is no longer running, delete {}",
                path.display(),
                path.display()
            );
        }
        bail!("could not take the workspace lock {}", path.display())
    }
}

/// Creates `path` holding `text`, unless it exists (then `false`). The file
/// appears with its whole content at once (written aside, then hard-linked
/// into place), so a run killed half-way never leaves an empty lock that
/// names nobody; where hard links are not supported, it is created and
/// written, and removed again if writing fails.
fn create_with_content(path: &Path, text: &str) -> std::io::Result<bool> {
    let aside = path.with_file_name(format!("{LOCK_FILE}.{}.tmp", std::process::id()));
    let linked = fs::write(&aside, text).and_then(|()| fs::hard_link(&aside, path));
    let _ = fs::remove_file(&aside);
    match linked {
        Ok(()) => return Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(_) => {} // no hard links here (or the write failed): try directly
    }
    let mut file = match fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    };
    if let Err(e) = file.write_all(text.as_bytes()).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(true)
}

/// Removes the stale lock at `path` whose content was `stale`, unless
/// another run replaced it since it was read: the file is moved aside
/// first, and put back if what was moved is not the stale lock.
fn remove_if_unchanged(path: &Path, stale: &str) {
    let aside = path.with_file_name(format!("{LOCK_FILE}.{}.stale", std::process::id()));
    if fs::rename(path, &aside).is_err() {
        return; // already gone: another run removed it
    }
    if fs::read_to_string(&aside).unwrap_or_default() != stale {
        let _ = fs::hard_link(&aside, path);
    }
    let _ = fs::remove_file(&aside);
}

/// Held while a command changes the workspace; removes the lock when dropped.
#[derive(Debug)]
pub struct WorkspaceLock {
    path: PathBuf,
}

impl WorkspaceLock {
    fn new(path: PathBuf) -> WorkspaceLock {
        held_locks().push(path.clone());
        WorkspaceLock { path }
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        held_locks().retain(|p| p != &self.path);
        let _ = fs::remove_file(&self.path);
    }
}

/// The lock files this process holds, for [`release_held_locks`].
fn held_locks() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the lock files this process holds, for an end of the run that
/// skips destructors (Ctrl-C at a credential prompt).
pub fn release_held_locks() {
    for path in std::mem::take(&mut *held_locks()) {
        let _ = fs::remove_file(path);
    }
}

#[derive(Debug)]
struct LockHolder {
    pid: u32,
    /// When the process started (`/proc/PID/stat` field 22), if known: a
    /// pid reused by an unrelated process after the holder died has another.
    started: Option<u64>,
    host: String,
    command: String,
}

impl LockHolder {
    fn current(command: &str) -> LockHolder {
        let pid = std::process::id();
        LockHolder {
            pid,
            started: process_start(pid),
            host: hostname(),
            command: command.to_string(),
        }
    }

    fn to_text(&self) -> String {
        let started = self.started.map(|s| format!("started={s}\n")).unwrap_or_default();
        format!(
            "pid={}\n{started}host={}\ncommand={}\n",
            self.pid, self.host, self.command
        )
    }

    fn parse(text: &str) -> Option<LockHolder> {
        let mut pid = None;
        let mut started = None;
        let mut host = None;
        let mut command = String::new();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", v)) => pid = v.trim().parse().ok(),
                Some(("started", v)) => started = v.trim().parse().ok(),
                Some(("host", v)) => host = Some(v.trim().to_string()),
                Some(("command", v)) => command = v.trim().to_string(),
                _ => {}
            }
        }
        Some(LockHolder {
            pid: pid?,
            started,
            host: host?,
            command,
        })
    }

    /// A lock is stale when it was taken on this host by a process that no
    /// longer exists (or whose pid now belongs to a process started at
    /// another time). Locks from other hosts (shared folders) are never
    /// judged stale: we cannot see their processes.
    fn is_stale(&self) -> bool {
        if self.host != hostname() || !Path::new("/proc/self").exists() {
            return false;
        }
        if !Path::new(&format!("/proc/{}", self.pid)).exists() {
            return true;
        }
        match (self.started, process_start(self.pid)) {
            (Some(then), Some(now)) => then != now,
            _ => false,
        }
    }
}

/// The start time of process `pid` in clock ticks since boot, from
/// `/proc/PID/stat` (Linux); `None` where that is not available.
fn process_start(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or
    // parentheses itself; the fields after the last ')' start at field 3.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(22 - 3)?.parse().ok()
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".to_string())
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
    let in_a_work_tree = dir.ancestors().any(|d| d.join(".git").exists());
    // A git that cannot say (not installed, a repository it refuses to
    // read) leaves the marker be: the repositories this guards against are
    // the user's own clones, which git reads.
    if in_a_work_tree && git.tracks_file(dir, MARKER).unwrap_or(false) {
        return Some("it is tracked by git".to_string());
    }
    None
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
        let text = fs::read_to_string(ws.root().join(LOCK_FILE)).unwrap();
        assert!(
            text.starts_with(&format!("pid={}\n", std::process::id())),
            "{text}"
        );
        let err = ws.lock("pin").unwrap_err().to_string();
        assert!(
            err.contains(&format!("locked by process {} on ", std::process::id()))
                && err.contains("running `sync`")
                && err.contains(LOCK_FILE),
            "{err}"
        );
        drop(lock);
        assert!(!ws.root().join(LOCK_FILE).exists());
        let names: Vec<_> = fs::read_dir(ws.root()).unwrap().collect();
        assert!(names.is_empty(), "left behind: {names:?}");
    }

    #[test]
    fn a_lock_of_a_dead_or_replaced_process_is_taken_over() {
        let (_dir, ws) = workspace();
        let path = ws.root().join(LOCK_FILE);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        fs::write(&path, format!("pid={dead}\nhost={}\ncommand=sync\n", hostname())).unwrap();
        drop(ws.lock("sync").unwrap());
        // Our own pid, but started at another time: the pid was reused.
        let me = std::process::id();
        fs::write(
            &path,
            format!("pid={me}\nstarted=1\nhost={}\ncommand=sync\n", hostname()),
        )
        .unwrap();
        drop(ws.lock("sync").unwrap());
        assert!(!path.exists());
    }

    #[test]
    fn a_lock_from_another_host_or_unreadable_is_never_taken_over() {
        let (_dir, ws) = workspace();
        let path = ws.root().join(LOCK_FILE);
        fs::write(&path, "pid=1\nhost=elsewhere.example\ncommand=checkout\n").unwrap();
        let err = ws.lock("sync").unwrap_err().to_string();
        assert!(
            err.contains("process 1 on elsewhere.example running `checkout`"),
            "{err}"
        );
        fs::write(&path, "").unwrap();
        let err = ws.lock("sync").unwrap_err().to_string();
        assert!(err.contains("the lock file is unreadable"), "{err}");
    }

    #[test]
    fn removing_a_stale_lock_spares_one_that_replaced_it() {
        let (_dir, ws) = workspace();
        let path = ws.root().join(LOCK_FILE);
        fs::write(&path, "pid=2\nhost=h\ncommand=new\n").unwrap();
        remove_if_unchanged(&path, "pid=1\nhost=h\ncommand=old\n");
        assert_eq!(fs::read_to_string(&path).unwrap(), "pid=2\nhost=h\ncommand=new\n");
        remove_if_unchanged(&path, "pid=2\nhost=h\ncommand=new\n");
        assert!(!path.exists());
    }

    #[test]
    fn process_start_times_are_read() {
        assert!(process_start(std::process::id()).is_some());
        assert_eq!(
            process_start(std::process::id()),
            process_start(std::process::id())
        );
    }
}
