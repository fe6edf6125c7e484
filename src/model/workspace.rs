//! The workspace: the folder holding the marker file, its project folders,
//! and the lock that keeps two changing runs from interleaving.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use crate::model::types::RepoName;

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
    [MARKER, REGISTRY_FILE, LOCK_FILE, crate::model::settings::FILE]
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

/// Folders of the workspace that hold a checkout and are valid project
/// names, sorted by name (hidden temporary clone folders never are).
pub fn project_folders(workspace: &Workspace) -> Vec<RepoName> {
    let mut names: Vec<RepoName> = std::fs::read_dir(workspace.root())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(".git").exists())
        .filter_map(|e| e.file_name().to_str().and_then(|n| RepoName::new(n).ok()))
        .collect();
    names.sort();
    names
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
        self.workspace.ok_or_else(|| {
            anyhow!(
                "No workspace found in a directory enclosing {}\n  run `openxla-workspace init` in the folder that should hold your checkouts",
                self.start.display()
            )
        })
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
    /// `tracks_marker(dir)` says whether git tracks the marker in `dir`, or
    /// why git cannot say (the caller asks git).
    pub fn search(start: &Path, tracks_marker: &dyn Fn(&Path) -> Result<bool, String>) -> Result<Search> {
        let start = absolute(start)?;
        let markers: Vec<&Path> = start
            .ancestors()
            .filter(|dir| dir.join(MARKER).is_file())
            .collect();
        let mut ignored = Vec::new();
        let mut workspace = None;
        for (i, dir) in markers.iter().enumerate() {
            match came_with_a_repository(dir, &markers[i + 1..], tracks_marker) {
                Some(reason) => ignored.push(IgnoredMarker {
                    path: dir.join(MARKER),
                    reason,
                }),
                None => {
                    workspace = Some(Workspace::at(dir));
                    break;
                }
            }
        }
        Ok(Search {
            start,
            workspace,
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
    /// for the planners' unit tests, and for the workspaces a cache knows.
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
}

/// Why the marker in `dir` came with a repository rather than from `init`,
/// if it did: it lies inside a project folder of one of the workspaces
/// `outer` (folders holding a marker above `dir`), or git tracks it.
fn came_with_a_repository(
    dir: &Path,
    outer: &[&Path],
    tracks_marker: &dyn Fn(&Path) -> Result<bool, String>,
) -> Option<String> {
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
    match tracks_marker(dir) {
        Ok(false) => None,
        Ok(true) => Some("it is tracked by git".to_string()),
        Err(reason) => Some(format!(
            "git cannot tell whether a repository around it tracks it ({})",
            crate::model::text::escape_control(&reason, false)
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
        let git = |_: &Path| Ok(false);
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
}
