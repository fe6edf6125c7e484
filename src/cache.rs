//! The shared object cache (`--cache-dir DIR` / `OPENXLA_WORKSPACE_CACHE`):
//! one bare mirror per remote URL, created on first use and brought up to
//! date with a single fetch. Clones are made from the mirror and borrow its
//! objects through git's alternates (or copy them with `--dissociate`), so a
//! second workspace on the machine transfers nothing the cache already has.
//! Each mirror is guarded by an advisory `flock`, so runs sharing a cache
//! never write to one mirror at once, and a killed holder releases it.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};

use crate::git::{Git, GitCommand};
use crate::types::RemoteUrl;

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

    /// Where the mirror of `url` lives: a readable name plus a hash of the
    /// whole URL, so distinct URLs never share a mirror.
    pub fn mirror_path(&self, url: &RemoteUrl) -> PathBuf {
        let readable: String = url
            .as_str()
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
            .collect();
        self.dir
            .join(format!("{readable}-{:016x}.git", fnv1a(url.as_str().as_bytes())))
    }

    /// The commands that make or refresh the mirror of `url` (for dry runs).
    pub fn update_commands(&self, url: &RemoteUrl) -> Vec<GitCommand> {
        let mirror = self.mirror_path(url);
        if mirror.join("HEAD").exists() {
            vec![Git::mirror_fetch_cmd(&mirror)]
        } else {
            vec![Git::mirror_clone_cmd(&self.dir, url, &self.partial_path(&mirror))]
        }
    }

    /// Brings the mirror of `url` up to date, creating it on first use; at
    /// most once per run. Returns its path.
    pub fn update(&self, git: &Git, url: &RemoteUrl) -> Result<PathBuf> {
        let mirror = self.mirror_path(url);
        if self.lock_updated().contains(&mirror) {
            return Ok(mirror);
        }
        let _lock = MirrorLock::acquire(&mirror)?;
        if mirror.join("HEAD").exists() {
            git.run(&Git::mirror_fetch_cmd(&mirror)).map_err(|e| {
                anyhow!(e).context(format!("could not update the cache mirror {}", mirror.display()))
            })?;
        } else {
            // Made beside its final name and renamed when complete, so an
            // interrupted run never leaves a half mirror behind.
            let partial = self.partial_path(&mirror);
            if partial.exists() {
                std::fs::remove_dir_all(&partial)
                    .with_context(|| format!("could not remove the leftover {}", partial.display()))?;
            }
            let made = git.run(&Git::mirror_clone_cmd(&self.dir, url, &partial));
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

    /// Whether the checkout in `repo` borrows objects from the mirror of `url`.
    pub fn is_borrowed_by(&self, url: &RemoteUrl, repo: &Path) -> bool {
        let alternates = repo.join(".git/objects/info/alternates");
        let mirror_objects = self.mirror_path(url).join("objects");
        crate::atomic::read_regular_file(&alternates, 64 * 1024)
            .map(|bytes| {
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .any(|l| Path::new(l.trim()) == mirror_objects)
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

/// An exclusive advisory lock on one mirror (`MIRROR.lock`), held while it
/// is created or fetched into. The kernel releases it if the holder dies.
struct MirrorLock {
    _file: File,
}

impl MirrorLock {
    fn acquire(mirror: &Path) -> Result<MirrorLock> {
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

#[cfg(unix)]
fn flock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: the descriptor is owned by `file`, open for the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(not(unix))]
fn flock_exclusive(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// 64-bit FNV-1a: a stable hash (std's hasher may change between releases,
/// which would orphan every mirror).
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
        assert!(a.file_name().unwrap().to_str().unwrap().starts_with("xla-"));
        assert_eq!(
            a,
            cache.mirror_path(&RemoteUrl::new("https://github.com/openxla/xla.git").unwrap())
        );
    }

    #[test]
    fn fnv1a_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
    }
}
