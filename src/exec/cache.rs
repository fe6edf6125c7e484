//! The shared object cache (`--cache-dir DIR` / `OPENXLA_WORKSPACE_CACHE`):
//! one bare mirror per remote URL, named by the SHA-256 of the URL, created
//! on first use and brought up to date with a single fetch. Clones are made
//! from the mirror and borrow its objects through git's alternates (or copy
//! them with `--dissociate`), so a second workspace on the machine transfers
//! nothing the cache already has.
//!
//! Because checkouts borrow its objects, a mirror must never lose one: it
//! never collects garbage on its own (its settings, and `-c` on every
//! fetch), and before each fetch every branch and tag tip it holds is kept
//! under [`KEEP_REFS`], which `fetch --prune` does not touch; so a commit
//! that upstream deletes or force-pushes away stays reachable, even through
//! an explicit `git gc --prune=now`. Each mirror is guarded by an advisory
//! `flock`, so runs sharing a cache never write to one mirror at once, and
//! a killed holder releases it.

pub(crate) mod sha256;

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

use crate::git::{Git, KEEP_REFS};
use crate::model::types::RemoteUrl;

/// One operation of bringing a mirror up to date (see
/// [`Cache::update_ops`]); its `Display` is what a dry run prints.
#[derive(Clone, Debug)]
pub enum MirrorOp {
    /// Run this git command.
    Run(crate::git::GitCommand),
    /// One of the settings of a mirror (`git config`; unsetting what is
    /// not set is no failure).
    Configure(crate::git::GitCommand),
    /// Keep every branch and tag tip under [`KEEP_REFS`]: this command,
    /// fed the tips not kept yet, when there are any.
    KeepTips(crate::git::GitCommand),
    /// Drop the keep refs whose commit a branch or tag tip reaches again:
    /// this command, fed those refs, when there are any.
    PruneKeeps(crate::git::GitCommand),
    /// Rename the finished mirror from the temporary folder `from` into
    /// place, `to`.
    Rename { from: PathBuf, to: PathBuf },
}

impl std::fmt::Display for MirrorOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MirrorOp::Run(cmd) | MirrorOp::Configure(cmd) => write!(f, "{cmd}"),
            MirrorOp::KeepTips(cmd) => write!(
                f,
                "if a branch or tag tip is not kept yet: {cmd}  (keeps every branch and tag tip under {KEEP_REFS})"
            ),
            MirrorOp::PruneKeeps(cmd) => write!(
                f,
                "if a keep ref's commit is reached again by a branch or tag tip: {cmd}  (drops those keep refs)"
            ),
            MirrorOp::Rename { from, to } => write!(f, "rename {} -> {}", from.display(), to.display()),
        }
    }
}

/// A cache folder of mirrors, shared by runs and workspaces.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    /// Copy objects into each checkout instead of borrowing them, so
    /// checkouts survive deleting the cache.
    pub dissociate: bool,
    /// Mirrors already brought up to date in this run.
    updated: Mutex<BTreeSet<PathBuf>>,
}

impl Cache {
    /// Opens (creating it if needed) the cache folder `dir`.
    pub fn open(dir: &Path, dissociate: bool) -> Result<Cache> {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "could not create the cache folder {} (--cache-dir)",
                dir.display()
            )
        })?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("could not resolve the cache folder {}", dir.display()))?;
        if RemoteUrl::new(&dir.display().to_string()).is_err() {
            bail!(
                "the cache folder {} has white space or control characters in its path; choose another --cache-dir",
                dir.display()
            );
        }
        Ok(Cache {
            dir,
            dissociate,
            updated: Mutex::new(BTreeSet::new()),
        })
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the mirror of `url` lives: a readable name plus the SHA-256 of
    /// the whole URL, so distinct URLs never share a mirror (a registry
    /// cannot pick a URL whose mirror is another's).
    pub fn mirror_path(&self, url: &RemoteUrl) -> PathBuf {
        self.dir.join(format!(
            "{}-{}.git",
            readable_name(url),
            sha256::sha256_hex(url.as_str().as_bytes())
        ))
    }

    /// What [`Cache::update`] does for `url`, one line per git command (for
    /// dry runs): [`Cache::update_ops`] as printed.
    pub fn update_plan(&self, url: &RemoteUrl) -> Vec<String> {
        self.update_ops(url).iter().map(MirrorOp::to_string).collect()
    }

    /// What bringing the mirror of `url` up to date takes, from what the
    /// cache holds now: the one description that [`Cache::update`] runs
    /// and dry runs print.
    pub fn update_ops(&self, url: &RemoteUrl) -> Vec<MirrorOp> {
        let mirror = self.mirror_path(url);
        let mut ops = Vec::new();
        if !mirror.join("HEAD").exists() {
            let partial = beside(&mirror, ".partial");
            ops.push(MirrorOp::Run(Git::mirror_clone_cmd(&self.dir, url, &partial)));
            ops.extend(
                Git::mirror_settings_cmds(&partial)
                    .into_iter()
                    .map(MirrorOp::Configure),
            );
            ops.push(MirrorOp::Rename {
                from: partial,
                to: mirror,
            });
            return ops;
        }
        // Before the fetch can move or delete a tip that some checkout
        // borrows from.
        ops.push(MirrorOp::KeepTips(Git::keep_tips_cmd(&mirror)));
        ops.push(MirrorOp::Run(Git::mirror_fetch_cmd(&mirror)));
        // Keep refs an old tip needed no more: its branch went on.
        ops.push(MirrorOp::PruneKeeps(Git::keep_tips_cmd(&mirror)));
        ops
    }

    /// Brings the mirror of `url` up to date, creating it on first use; at
    /// most once per run.
    /// Runs [`Cache::update_ops`]. Returns its path.
    pub fn update(&self, git: &Git, url: &RemoteUrl) -> Result<PathBuf> {
        let mirror = self.mirror_path(url);
        if self.lock_updated().contains(&mirror) {
            return Ok(mirror);
        }
        let _lock = MirrorLock::acquire(&mirror)?;
        let ops = self.update_ops(url);
        let making = matches!(ops.last(), Some(MirrorOp::Rename { .. }));
        let partial = beside(&mirror, ".partial");
        if making && partial.exists() {
            // Made beside its final name and renamed when complete, so an
            // interrupted run never leaves a half mirror behind.
            std::fs::remove_dir_all(&partial)
                .with_context(|| format!("could not remove the leftover {}", partial.display()))?;
        }
        for op in &ops {
            if let Err(e) = self.run_op(git, url, op) {
                if making {
                    let _ = std::fs::remove_dir_all(&partial);
                    return Err(e.context(format!("could not create the cache mirror of {url}")));
                }
                return Err(e.context(format!("could not update the cache mirror {}", mirror.display())));
            }
        }
        self.lock_updated().insert(mirror.clone());
        Ok(mirror)
    }

    /// Runs one operation of [`Cache::update_ops`].
    fn run_op(&self, git: &Git, url: &RemoteUrl, op: &MirrorOp) -> Result<()> {
        match op {
            MirrorOp::Run(cmd) => git.run_to(url.as_str(), cmd)?,
            MirrorOp::Configure(cmd) => git.configure_mirror_with(cmd)?,
            MirrorOp::KeepTips(cmd) => {
                git.keep_mirror_tips(cmd.dir())?;
            }
            MirrorOp::PruneKeeps(cmd) => {
                git.prune_mirror_keeps(cmd.dir())?;
            }
            MirrorOp::Rename { from, to } => std::fs::rename(from, to)
                .with_context(|| format!("could not rename {} to {}", from.display(), to.display()))?,
        }
        Ok(())
    }

    /// Whether the checkout in `repo` borrows objects from the mirror of
    /// `url`.
    pub fn is_borrowed_by(&self, url: &RemoteUrl, repo: &Path) -> bool {
        let alternates = repo.join(".git/objects/info/alternates");
        let Ok(mirror_objects) = self.mirror_path(url).join("objects").canonicalize() else {
            return false;
        };
        crate::model::atomic::read_regular_file(&alternates, 64 * 1024)
            .map(|bytes| {
                String::from_utf8_lossy(&bytes).lines().any(|l| {
                    Path::new(l.trim())
                        .canonicalize()
                        .is_ok_and(|p| p == mirror_objects)
                })
            })
            .unwrap_or(false)
    }

    fn lock_updated(&self) -> std::sync::MutexGuard<'_, BTreeSet<PathBuf>> {
        self.updated.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An exclusive advisory lock on one mirror (`MIRROR.lock`), held while it
/// is created or fetched into. The kernel releases it if the holder dies.
pub(crate) struct MirrorLock {
    _file: File,
}

impl MirrorLock {
    /// Waits for the lock of `mirror` (`cache prune` holds it while it
    /// removes the mirror).
    pub(crate) fn acquire(mirror: &Path) -> Result<MirrorLock> {
        let path = beside(mirror, ".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("could not open the cache lock {}", path.display()))?;
        flock_exclusive(&file).with_context(|| format!("could not lock {}", path.display()))?;
        Ok(MirrorLock { _file: file })
    }
}

/// The file or folder `MIRROR<suffix>` beside `mirror`: its `.lock`, or
/// the `.partial` folder it is made in.
pub(crate) fn beside(mirror: &Path, suffix: &str) -> PathBuf {
    let mut name = mirror.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    mirror.with_file_name(name)
}

/// Waits for the exclusive lock on `file` (`flock` on Unix, `LockFileEx`
/// on Windows); the lock goes with the file's descriptor, so a process that
/// dies releases it.
fn flock_exclusive(file: &File) -> std::io::Result<()> {
    loop {
        match file.lock() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// The last part of `url`'s path, for people looking at the cache folder.
fn readable_name(url: &RemoteUrl) -> String {
    url.as_str()
        .rsplit(['/', ':'])
        .find(|s| !s.is_empty())
        .unwrap_or("repo")
        .trim_end_matches(".git")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_s_readable_name_keeps_letters_digits_dashes_and_underscores() {
        let name = |u: &str| readable_name(&RemoteUrl::new(u).unwrap());
        assert_eq!(name("https://example.com/org/my-repo_2.git"), "my-repo_2");
        assert_eq!(name("git@example.com:org/a.b+c.git"), "a_b_c");
        assert_eq!(name("file:///srv/git/xla/"), "xla");
        assert_eq!(name(&format!("https://h/{}", "x".repeat(60))).len(), 40);
    }

    #[test]
    fn mirrors_are_named_by_url_and_never_shared() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        let a = cache.mirror_path(&RemoteUrl::new("https://github.com/openxla/xla.git").unwrap());
        let b = cache.mirror_path(&RemoteUrl::new("git@github.com:openxla/xla.git").unwrap());
        assert_ne!(a, b);
        assert_eq!(
            a,
            cache
                .dir
                .join("xla-9c50440049d60de3702dcab344ffb242cebfd49d092b5f57a3695f8f4ed980c4.git")
        );
        assert_eq!(
            a,
            cache.mirror_path(&RemoteUrl::new("https://github.com/openxla/xla.git").unwrap())
        );
    }
}
