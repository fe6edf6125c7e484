//! What the tool reads from a repository's own files rather than asking
//! git: where a checkout's git directory is, what `HEAD` names, the shallow
//! boundary, a loose ref. These settle the common cases without a process;
//! whatever they cannot read for sure (a packed ref, the reftable format)
//! is left to a query that asks git.

use std::path::{Path, PathBuf};

use super::Git;
use crate::model::types::CommitId;

impl Git {
    /// Whether `repo` is a clone whose working tree was never written: a
    /// `.git` folder without an index, as `git clone --no-checkout` leaves
    /// it (and as an interrupted `checkout --sync` or `sync` may leave a
    /// dep). Looks at the files only; no git process.
    pub fn lacks_working_tree(repo: &Path) -> bool {
        let git_dir = repo.join(".git");
        git_dir.is_dir() && !git_dir.join("index").exists()
    }

    /// Like [`Git::lacks_working_tree`], for a checkout whose `.git` may be
    /// a file naming its git directory (a submodule): it has a git
    /// directory, but no index in it.
    pub fn lacks_index(worktree: &Path) -> bool {
        git_dir_of(worktree).is_some_and(|dir| dir.is_dir() && !dir.join("index").exists())
    }
}

/// What a repository's `HEAD` file says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Head {
    /// A commit id: detached.
    Detached(CommitId),
    /// `ref: refs/heads/…`: on a branch.
    Symbolic,
    /// Missing, unreadable, or a stand-in (the reftable format keeps the
    /// real HEAD elsewhere): ask git.
    Unknown,
}

pub(super) fn read_head(git_dir: &Path) -> Head {
    let Ok(text) = std::fs::read_to_string(git_dir.join("HEAD")) else {
        return Head::Unknown;
    };
    let text = text.trim();
    match text.strip_prefix("ref: ") {
        Some(".invalid") | Some("refs/heads/.invalid") => Head::Unknown,
        Some(_) => Head::Symbolic,
        None => CommitId::new(text).map_or(Head::Unknown, Head::Detached),
    }
}

/// The commit a loose ref file names (refs packed by `git gc`, or in the
/// reftable format, are not seen: callers then ask git).
pub(super) fn read_loose_ref(git_dir: &Path, name: &str) -> Option<CommitId> {
    let text = std::fs::read_to_string(git_dir.join(name)).ok()?;
    CommitId::new(text.trim()).ok()
}

/// The commits listed in a repository's `shallow` file (its shallow
/// boundary); empty for a complete repository.
pub(super) fn read_shallow(git_dir: &Path) -> Vec<CommitId> {
    std::fs::read_to_string(git_dir.join("shallow"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| CommitId::new(l.trim()).ok())
        .collect()
}

/// The git directory of the checkout in `worktree`: `.git` itself, or the
/// folder a `.git` file (`gitdir: PATH`, as in submodules) names. Looks at
/// the files only.
pub fn git_dir_of(worktree: &Path) -> Option<PathBuf> {
    let dot_git = worktree.join(".git");
    let meta = std::fs::symlink_metadata(&dot_git).ok()?;
    if meta.is_dir() {
        return Some(dot_git);
    }
    if !meta.is_file() || meta.len() > 4096 {
        return None;
    }
    let text = std::fs::read_to_string(&dot_git).ok()?;
    let target = text.strip_prefix("gitdir:")?.trim();
    Some(worktree.join(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_files_say_detached_symbolic_or_ask_git() {
        let dir = tempfile::tempdir().unwrap();
        let head = |text: &str| {
            std::fs::write(dir.path().join("HEAD"), text).unwrap();
            read_head(dir.path())
        };
        let a = "a".repeat(40);
        assert_eq!(
            head(&format!("{a}\n")),
            Head::Detached(CommitId::new(&a).unwrap())
        );
        assert_eq!(head("ref: refs/heads/main\n"), Head::Symbolic);
        assert_eq!(head("ref: refs/heads/.invalid\n"), Head::Unknown);
        assert_eq!(head("garbage"), Head::Unknown);
    }

    #[test]
    fn a_checkouts_git_directory_is_its_dot_git_or_the_folder_a_gitdir_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let (full, sub, none) = (
            dir.path().join("full"),
            dir.path().join("sub"),
            dir.path().join("none"),
        );
        std::fs::create_dir_all(full.join(".git")).unwrap();
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir_all(&none).unwrap();
        assert_eq!(git_dir_of(&full), Some(full.join(".git")));
        // As git writes it in a submodule: relative to the checkout.
        std::fs::write(sub.join(".git"), "gitdir: ../full/.git/modules/sub\n").unwrap();
        assert_eq!(git_dir_of(&sub), Some(sub.join("../full/.git/modules/sub")));
        assert_eq!(git_dir_of(&none), None);
        std::fs::write(none.join(".git"), "not a gitdir line\n").unwrap();
        assert_eq!(git_dir_of(&none), None);
        // A `.git` file is a line, not a document to read whole.
        std::fs::write(none.join(".git"), format!("gitdir: {}\n", "x".repeat(5000))).unwrap();
        assert_eq!(git_dir_of(&none), None);
    }

    #[test]
    fn shallow_files_and_loose_refs_name_commits() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        assert!(read_shallow(dir.path()).is_empty());
        std::fs::write(dir.path().join("shallow"), format!("{a}\n{b}\nnot an id\n")).unwrap();
        assert_eq!(
            read_shallow(dir.path()),
            [CommitId::new(&a).unwrap(), CommitId::new(&b).unwrap()]
        );
        let name = "refs/openxla-workspace/pin";
        assert_eq!(read_loose_ref(dir.path(), name), None);
        std::fs::create_dir_all(dir.path().join("refs/openxla-workspace")).unwrap();
        std::fs::write(dir.path().join(name), format!("{a}\n")).unwrap();
        assert_eq!(read_loose_ref(dir.path(), name), Some(CommitId::new(&a).unwrap()));
        std::fs::write(dir.path().join(name), "ref: refs/heads/main\n").unwrap();
        assert_eq!(read_loose_ref(dir.path(), name), None);
    }
}
