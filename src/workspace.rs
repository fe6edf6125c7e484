//! The workspace: the folder holding the marker file, its project folders,
//! and the lock that keeps two changing runs from interleaving.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

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
    /// A new marker was written in this folder.
    Created(PathBuf),
    /// The folder is already inside a workspace rooted here.
    Existing(PathBuf),
}

impl Workspace {
    /// Finds the workspace enclosing `start` by walking up to the first
    /// folder that holds the marker.
    pub fn find(start: &Path) -> Result<Workspace> {
        let start = absolute(start)?;
        for dir in start.ancestors() {
            if dir.join(MARKER).is_file() {
                return Ok(Workspace {
                    root: dir.to_path_buf(),
                });
            }
        }
        bail!(
            "No workspace found in a directory enclosing {}\n  run `openxla-workspace init` in the folder that should hold your checkouts",
            start.display()
        )
    }

    /// Creates a workspace in `dir` unless `dir` is already inside one.
    pub fn init(dir: &Path) -> Result<InitOutcome> {
        if let Ok(existing) = Workspace::find(dir) {
            return Ok(InitOutcome::Existing(existing.root));
        }
        let dir = absolute(dir)?;
        let marker = dir.join(MARKER);
        fs::write(&marker, MARKER_CONTENT)
            .with_context(|| format!("could not write the workspace marker {}", marker.display()))?;
        Ok(InitOutcome::Created(dir))
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

    /// The workspace-level registry file, if the workspace has one.
    pub fn registry_file(&self) -> Option<PathBuf> {
        let path = self.root.join(REGISTRY_FILE);
        path.is_file().then_some(path)
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
        for _ in 0..2 {
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    file.write_all(me.to_text().as_bytes())
                        .with_context(|| format!("could not write the lock file {}", path.display()))?;
                    return Ok(WorkspaceLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = fs::read_to_string(&path).unwrap_or_default();
                    let holder = LockHolder::parse(&text);
                    if holder.as_ref().is_some_and(|h| h.is_stale()) {
                        // Its process is gone (killed, machine rebooted): the
                        // lock protects nothing any more.
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    let who = match holder {
                        Some(h) => {
                            format!("process {} on {} running `{}`", h.pid, h.host, h.command)
                        }
                        None => "another run (the lock file is unreadable)".to_string(),
                    };
                    bail!(
                        "the workspace is locked by {who}: {}\n  wait for that run to finish; if it is no longer running, delete {}",
                        path.display(),
                        path.display()
                    );
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("could not create the lock file {}", path.display()))
                }
            }
        }
        bail!("could not take the workspace lock {}", path.display())
    }
}

/// Held while a command changes the workspace; removes the lock when dropped.
#[derive(Debug)]
pub struct WorkspaceLock {
    path: PathBuf,
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[derive(Debug)]
struct LockHolder {
    pid: u32,
    host: String,
    command: String,
}

impl LockHolder {
    fn current(command: &str) -> LockHolder {
        LockHolder {
            pid: std::process::id(),
            host: hostname(),
            command: command.to_string(),
        }
    }

    fn to_text(&self) -> String {
        format!("pid={}\nhost={}\ncommand={}\n", self.pid, self.host, self.command)
    }

    fn parse(text: &str) -> Option<LockHolder> {
        let mut pid = None;
        let mut host = None;
        let mut command = String::new();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", v)) => pid = v.trim().parse().ok(),
                Some(("host", v)) => host = Some(v.trim().to_string()),
                Some(("command", v)) => command = v.trim().to_string(),
                _ => {}
            }
        }
        Some(LockHolder {
            pid: pid?,
            host: host?,
            command,
        })
    }

    /// A lock is stale when it was taken on this host by a process that no
    /// longer exists. Locks from other hosts (shared folders) are never
    /// judged stale: we cannot see their processes.
    fn is_stale(&self) -> bool {
        self.host == hostname()
            && !Path::new(&format!("/proc/{}", self.pid)).exists()
            && Path::new("/proc/self").exists()
    }
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".to_string())
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
