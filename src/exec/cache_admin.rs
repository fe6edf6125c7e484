//! Looking after the shared object cache (`cache list|refresh|prune`):
//! what each mirror is (its URL, size, when it was last fetched), which
//! known workspaces borrow from it, and removing the ones no one uses.
//!
//! Which workspaces use the cache is known from the cache itself: each run
//! that locks a workspace with a cache in effect leaves a file naming that
//! workspace in `<cache>/workspaces/` ([`note_workspace`]). A workspace
//! borrows from a mirror when one of its repositories (or their submodules'
//! repositories) names the mirror's objects in `objects/info/alternates`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::exec::cache::{beside, sha256, Cache, MirrorLock};
use crate::git::Git;
use crate::model::workspace::Workspace;

/// The folder of the cache where workspaces that use it are named.
const WORKSPACES: &str = "workspaces";

/// One mirror of the cache, as `cache list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Mirror {
    /// Its folder.
    pub path: PathBuf,
    /// The URL it mirrors (`remote.origin.url`), if it can be read.
    pub url: Option<String>,
    /// Bytes on disk.
    pub size: u64,
    /// When it was last fetched into (or made), in seconds since the epoch.
    pub last_fetched: Option<u64>,
    /// The known workspaces that borrow from it.
    pub borrowers: Vec<PathBuf>,
}

/// Records in the cache that the workspace at `root` uses it (one small
/// file named by the SHA-256 of the workspace's path, written atomically).
pub fn note_workspace(cache: &Cache, root: &Path) -> Result<()> {
    let dir = cache.dir().join(WORKSPACES);
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let text = format!("{}\n", root.display());
    let file = dir.join(sha256::sha256_hex(text.as_bytes()));
    if std::fs::read_to_string(&file).is_ok_and(|t| t == text) {
        return Ok(());
    }
    crate::model::atomic::write_atomically(&file, text.as_bytes())
        .with_context(|| format!("could not write {}", file.display()))
}

/// The workspaces known to use the cache that still exist.
pub fn known_workspaces(cache: &Cache) -> Vec<Workspace> {
    let mut roots: Vec<PathBuf> = std::fs::read_dir(cache.dir().join(WORKSPACES))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| crate::model::atomic::read_regular_file(&e.path(), 64 * 1024).ok())
        .map(|b| PathBuf::from(String::from_utf8_lossy(&b).trim_end_matches('\n')))
        .filter(|root| root.join(crate::model::workspace::MARKER).is_file())
        .collect();
    roots.sort();
    roots.dedup();
    roots.into_iter().map(|r| Workspace::at(&r)).collect()
}

/// Every mirror of the cache, by folder name, with what is known of it.
pub fn mirrors(cache: &Cache, git: &Git) -> Vec<Mirror> {
    let workspaces = known_workspaces(cache);
    let borrowed: Vec<(PathBuf, Vec<PathBuf>)> = workspaces
        .iter()
        .map(|w| (w.root().to_path_buf(), alternates_of(w)))
        .collect();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cache.dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_mirror(p))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let objects = path.join("objects").canonicalize().unwrap_or_default();
            let borrowers = borrowed
                .iter()
                .filter(|(_, alts)| alts.contains(&objects))
                .map(|(root, _)| root.clone())
                .collect();
            Mirror {
                url: git.origin_url(&path).ok().flatten(),
                size: size_of(&path),
                last_fetched: last_fetched(&path),
                borrowers,
                path,
            }
        })
        .collect()
}

/// The mirrors unused for `unused_for` (by when they were last fetched:
/// every clone and fetch through the cache fetches its mirror first) that
/// no known workspace borrows from.
pub fn prunable(mirrors: &[Mirror], unused_for: Duration, now: SystemTime) -> Vec<&Mirror> {
    let since = now
        .checked_sub(unused_for)
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    mirrors
        .iter()
        .filter(|m| m.borrowers.is_empty() && m.last_fetched.is_none_or(|t| t <= since))
        .collect()
}

/// Removes `mirror` under its lock, checking again under the lock that no
/// known workspace has started borrowing from it meanwhile.
pub fn remove(cache: &Cache, git: &Git, mirror: &Mirror) -> Result<bool> {
    let _lock = MirrorLock::acquire(&mirror.path)?;
    let again = mirrors(cache, git);
    if again
        .iter()
        .any(|m| m.path == mirror.path && !m.borrowers.is_empty())
    {
        return Ok(false);
    }
    std::fs::remove_dir_all(&mirror.path)
        .with_context(|| format!("could not remove {}", mirror.path.display()))?;
    let _ = std::fs::remove_file(beside(&mirror.path, ".lock"));
    Ok(true)
}

/// Whether `path` is a mirror folder: `NAME.git` holding `HEAD`, not a
/// half-made `.partial` one, nor the link an adopted mirror left.
fn is_mirror(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "git")
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
        && path.join("HEAD").is_file()
}

/// The object folders that the repositories of `workspace` (projects and
/// their submodules) borrow from, canonical.
fn alternates_of(workspace: &Workspace) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for name in crate::model::workspace::project_folders(workspace) {
        let git_dir = workspace.project_dir(&name).join(".git");
        collect_alternates(&git_dir, 0, &mut found);
    }
    found.sort();
    found.dedup();
    found
}

/// Adds the alternates of the repository in `git_dir` and of those under
/// its `modules/` (submodules, and theirs).
fn collect_alternates(git_dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let file = git_dir.join("objects/info/alternates");
    if let Ok(bytes) = crate::model::atomic::read_regular_file(&file, 64 * 1024) {
        for line in String::from_utf8_lossy(&bytes).lines() {
            let p = Path::new(line.trim());
            let p = if p.is_relative() {
                git_dir.join("objects").join(p)
            } else {
                p.to_path_buf()
            };
            if let Ok(p) = p.canonicalize() {
                found.push(p);
            }
        }
    }
    collect_modules(&git_dir.join("modules"), depth, found);
}

/// How many folders deep [`collect_modules`] walks: each part of a
/// submodule's path is one (`third_party/llvm-project` two), and so is each
/// level of nesting. The walk follows no links, so it cannot loop; the
/// bound only stops a tree no repository has.
const MODULES_DEPTH: usize = 64;

/// Walks a `modules/` folder: a folder holding `HEAD` is a submodule's
/// repository; any other is a part of a submodule's path (`third_party/`).
fn collect_modules(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    if depth > MODULES_DEPTH {
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let sub = entry.path();
        if sub.join("HEAD").is_file() {
            collect_alternates(&sub, depth + 1, found);
        } else {
            collect_modules(&sub, depth + 1, found);
        }
    }
}

/// Bytes of the files under `dir` (links not followed).
fn size_of(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => total += size_of(&entry.path()),
            Ok(t) if t.is_file() => total += entry.metadata().map_or(0, |m| m.len()),
            _ => {}
        }
    }
    total
}

/// When the mirror was last fetched into: `FETCH_HEAD`'s time, else (a
/// mirror never fetched since its clone) `HEAD`'s.
fn last_fetched(mirror: &Path) -> Option<u64> {
    ["FETCH_HEAD", "HEAD"].iter().find_map(|f| {
        std::fs::metadata(mirror.join(f))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    })
}

/// `size` in B, KiB, MiB or GiB, one decimal.
pub fn human_size(size: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prune must see every mirror a workspace borrows from: before, the
    /// walk stopped 8 folders down, so submodules nested 4 deep with
    /// two-part paths (`third_party/m1`) were not seen.
    #[test]
    fn alternates_are_found_in_submodules_nested_ten_deep() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project/.git");
        let mut git_dir = root.clone();
        let mut objects = Vec::new();
        for level in 1..=10 {
            git_dir = git_dir.join(format!("modules/third_party/m{level}"));
            std::fs::create_dir_all(git_dir.join("objects/info")).unwrap();
            std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
            let borrowed = dir.path().join(format!("mirror{level}.git/objects"));
            std::fs::create_dir_all(&borrowed).unwrap();
            let line = format!("{}\n", borrowed.display());
            std::fs::write(git_dir.join("objects/info/alternates"), line).unwrap();
            objects.push(borrowed.canonicalize().unwrap());
        }
        let mut found = Vec::new();
        collect_alternates(&root, 0, &mut found);
        assert_eq!(found, objects);
    }

    #[test]
    fn the_modules_walk_stops_past_its_depth() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("modules/m");
        std::fs::create_dir_all(repo.join("objects/info")).unwrap();
        std::fs::write(repo.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let borrowed = dir.path().join("mirror.git/objects");
        std::fs::create_dir_all(&borrowed).unwrap();
        let line = format!("{}\n", borrowed.display());
        std::fs::write(repo.join("objects/info/alternates"), line).unwrap();
        let mut found = Vec::new();
        collect_modules(&dir.path().join("modules"), MODULES_DEPTH, &mut found);
        assert_eq!(found.len(), 1);
        found.clear();
        collect_modules(&dir.path().join("modules"), MODULES_DEPTH + 1, &mut found);
        assert!(found.is_empty());
    }

    #[test]
    fn a_mirror_is_a_real_name_git_folder_with_a_head() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str, head: bool| {
            let path = dir.path().join(name);
            std::fs::create_dir(&path).unwrap();
            if head {
                std::fs::write(path.join("HEAD"), "ref: refs/heads/main\n").unwrap();
            }
            path
        };
        assert!(is_mirror(&make("a.git", true)));
        assert!(!is_mirror(&make("b.git.partial", true)));
        assert!(!is_mirror(&make("c", true)));
        assert!(!is_mirror(&make("d.git", false)));
        #[cfg(unix)]
        {
            let link = dir.path().join("e.git");
            std::os::unix::fs::symlink(dir.path().join("a.git"), &link).unwrap();
            assert!(!is_mirror(&link), "the link an adopted mirror left");
        }
    }

    fn mirror(last_fetched: Option<u64>, borrowers: usize) -> Mirror {
        Mirror {
            path: PathBuf::from("/c/x.git"),
            url: None,
            size: 0,
            last_fetched,
            borrowers: vec![PathBuf::from("/w"); borrowers],
        }
    }

    #[test]
    fn only_old_mirrors_no_one_borrows_from_are_prunable() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100 * 86_400);
        let mirrors = [
            mirror(Some(10 * 86_400), 0),
            mirror(Some(99 * 86_400), 0),
            mirror(Some(0), 1),
        ];
        let old = prunable(&mirrors, Duration::from_secs(30 * 86_400), now);
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].last_fetched, Some(10 * 86_400));
    }

    #[test]
    fn sizes_read_like_du() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
    }
}
