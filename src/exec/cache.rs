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

use anyhow::{anyhow, bail, Context, Result};

use crate::git::{Git, KEEP_REFS};
use crate::model::types::RemoteUrl;

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

    /// Where earlier versions kept the mirror of `url` (named by a 64-bit
    /// hash); such a mirror is adopted on first use ([`Cache::update`]).
    fn legacy_mirror_path(&self, url: &RemoteUrl) -> PathBuf {
        self.dir.join(format!(
            "{}-{:016x}.git",
            readable_name(url),
            fnv1a(url.as_str().as_bytes())
        ))
    }

    /// What [`Cache::update`] would do for `url`, one line per step (for
    /// dry runs).
    pub fn update_plan(&self, url: &RemoteUrl) -> Vec<String> {
        let mirror = self.mirror_path(url);
        let mut lines = Vec::new();
        if !mirror.join("HEAD").exists() {
            let legacy = self.legacy_mirror_path(url);
            if is_plain_mirror(&legacy) {
                lines.push(format!(
                    "adopt the mirror {} as {} (if its origin is {url}), leaving a link behind",
                    legacy.display(),
                    mirror.display()
                ));
                lines.extend(Git::mirror_settings_cmds(&mirror).iter().map(|c| c.to_string()));
            } else {
                let partial = self.partial_path(&mirror);
                lines.push(Git::mirror_clone_cmd(&self.dir, url, &partial).to_string());
                lines.extend(Git::mirror_settings_cmds(&partial).iter().map(|c| c.to_string()));
                lines.push(format!("rename {} -> {}", partial.display(), mirror.display()));
                return lines;
            }
        }
        lines.push(format!(
            "{}  (keeps every branch and tag tip under {KEEP_REFS})",
            Git::keep_tips_cmd(&mirror)
        ));
        lines.push(Git::mirror_fetch_cmd(&mirror).to_string());
        lines.push(format!(
            "{}  (then drops the keep refs that a branch or tag tip reaches again: `for-each-ref \
             --merged=<each tip>`, `update-ref --stdin`)",
            Git::mirror_refs_cmd(&mirror)
        ));
        lines
    }

    /// Brings the mirror of `url` up to date, creating it on first use (or
    /// adopting the one an earlier version made); at most once per run.
    /// Returns its path.
    pub fn update(&self, git: &Git, url: &RemoteUrl) -> Result<PathBuf> {
        let mirror = self.mirror_path(url);
        if self.lock_updated().contains(&mirror) {
            return Ok(mirror);
        }
        let _lock = MirrorLock::acquire(&mirror)?;
        if !mirror.join("HEAD").exists() {
            self.adopt_legacy(git, url, &mirror)?;
        }
        if mirror.join("HEAD").exists() {
            let context = || format!("could not update the cache mirror {}", mirror.display());
            // Before the fetch can move or delete a tip that some checkout
            // borrows from.
            git.keep_mirror_tips(&mirror)
                .map_err(|e| anyhow!(e).context(context()))?;
            git.run(&Git::mirror_fetch_cmd(&mirror))
                .map_err(|e| anyhow!(e).context(context()))?;
            // Keep refs an old tip needed no more: its branch went on.
            git.prune_mirror_keeps(&mirror)
                .map_err(|e| anyhow!(e).context(context()))?;
        } else {
            // Made beside its final name and renamed when complete, so an
            // interrupted run never leaves a half mirror behind.
            let partial = self.partial_path(&mirror);
            if partial.exists() {
                std::fs::remove_dir_all(&partial)
                    .with_context(|| format!("could not remove the leftover {}", partial.display()))?;
            }
            let made = git
                .run(&Git::mirror_clone_cmd(&self.dir, url, &partial))
                .and_then(|()| git.configure_mirror(&partial));
            if let Err(e) = made {
                let _ = std::fs::remove_dir_all(&partial);
                return Err(anyhow!(e).context(format!("could not create the cache mirror of {url}")));
            }
            std::fs::rename(&partial, &mirror)
                .with_context(|| format!("could not rename {} to {}", partial.display(), mirror.display()))?;
        }
        self.lock_updated().insert(mirror.clone());
        Ok(mirror)
    }

    /// Moves the mirror of `url` that an earlier version made under its
    /// 64-bit-hash name to `mirror`, leaving a symlink at the old name (the
    /// checkouts that borrow from it name that path), and gives it the
    /// settings of a mirror. Only a mirror whose origin is `url` is adopted:
    /// another URL whose hash collided stays where it is, unused.
    fn adopt_legacy(&self, git: &Git, url: &RemoteUrl, mirror: &Path) -> Result<()> {
        let legacy = self.legacy_mirror_path(url);
        if !cfg!(unix) || !is_plain_mirror(&legacy) {
            return Ok(());
        }
        let _lock = MirrorLock::acquire(&legacy)?;
        if !is_plain_mirror(&legacy) || git.origin_url(&legacy)?.as_deref() != Some(url.as_str()) {
            return Ok(());
        }
        std::fs::rename(&legacy, mirror).with_context(|| {
            format!(
                "could not move the cache mirror {} to {}",
                legacy.display(),
                mirror.display()
            )
        })?;
        if let Err(e) = symlink(mirror, &legacy) {
            // Without the link, checkouts borrowing from the old name break:
            // put the mirror back.
            let _ = std::fs::rename(mirror, &legacy);
            return Err(anyhow!(e).context(format!(
                "could not link {} to {}",
                legacy.display(),
                mirror.display()
            )));
        }
        git.configure_mirror(mirror).map_err(|e| {
            anyhow!(e).context(format!("could not set up the cache mirror {}", mirror.display()))
        })?;
        Ok(())
    }

    /// Whether the checkout in `repo` borrows objects from the mirror of
    /// `url` (also through the link an adopted mirror left at its old name).
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

    fn partial_path(&self, mirror: &Path) -> PathBuf {
        let mut name = mirror.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        mirror.with_file_name(name)
    }

    fn lock_updated(&self) -> std::sync::MutexGuard<'_, BTreeSet<PathBuf>> {
        self.updated.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether `path` is a mirror folder itself (not the link an adopted mirror
/// left behind).
fn is_plain_mirror(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) && path.join("HEAD").is_file()
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("symbolic links are not supported here"))
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
        let mut name = mirror.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let path = mirror.with_file_name(name);
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

/// 64-bit FNV-1a, which names the mirrors of earlier versions
/// ([`Cache::legacy_mirror_path`]).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Where earlier versions kept it.
        assert_eq!(
            cache.legacy_mirror_path(&RemoteUrl::new("https://github.com/openxla/xla.git").unwrap()),
            cache.dir.join(format!(
                "xla-{:016x}.git",
                fnv1a(b"https://github.com/openxla/xla.git")
            ))
        );
    }

    #[test]
    fn fnv1a_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
    }
}
