//! Committing a project's changed files: what is not as committed, whether
//! a branch exists, and the branch, add and commit themselves (what `roll
//! --commit` runs).

use std::path::{Path, PathBuf};

use super::{Git, GitResult};
use crate::model::types::BranchName;

/// One path `git status --porcelain` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathChange {
    /// The two status letters (`" M"`, `"A "`, `"??"`).
    pub status: String,
    /// The path, relative to the repository's top.
    pub path: PathBuf,
}

impl PathChange {
    /// Whether the path is untracked (`??`), as opposed to a change of a
    /// tracked file, staged or not.
    pub fn untracked(&self) -> bool {
        self.status == "??"
    }
}

impl Git {
    /// Every path of the checkout at `repo` that is not as committed
    /// (ignored files left out).
    pub fn changed_paths(&self, repo: &Path) -> GitResult<Vec<PathChange>> {
        let cmd = Self::changed_paths_cmd(repo);
        Ok(parse_porcelain_z(&self.output(&cmd)?))
    }

    /// Whether branch `branch` exists in `repo`.
    pub fn branch_exists(&self, repo: &Path, branch: &BranchName) -> GitResult<bool> {
        let cmd = Self::branch_exists_cmd(repo, branch);
        Ok(self.answer(&cmd, 1)?.is_some())
    }

    /// Commits the index of `repo` with `message`.
    pub fn commit(&self, repo: &Path, message: &str) -> GitResult<()> {
        let cmd = Self::commit_cmd(repo);
        self.run_with_input(&cmd, message.as_bytes().to_vec())?;
        Ok(())
    }
}

/// The output of `git status --porcelain -z`: `XY PATH` entries ended by a
/// NUL; a rename or copy (`R`, `C`) is followed by its source path as an
/// entry of its own, which is skipped.
fn parse_porcelain_z(out: &str) -> Vec<PathChange> {
    let mut changes = Vec::new();
    let mut entries = out.split('\0').filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        let (Some(status), Some(path)) = (entry.get(..2), entry.get(3..)) else {
            continue;
        };
        if status.starts_with(['R', 'C']) {
            entries.next();
        }
        changes.push(PathChange {
            status: status.to_string(),
            path: PathBuf::from(path),
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_entries_give_status_and_path_and_skip_rename_sources() {
        // Captured from git 2.47.
        let out = " M sync_deps.py\0R  new name.txt\0old name.txt\0?? notes/a b.txt\0A  added\0";
        let found: Vec<(String, String)> = parse_porcelain_z(out)
            .into_iter()
            .map(|c| (c.status, c.path.display().to_string()))
            .collect();
        assert_eq!(
            found,
            [
                (" M".to_string(), "sync_deps.py".to_string()),
                ("R ".into(), "new name.txt".into()),
                ("??".into(), "notes/a b.txt".into()),
                ("A ".into(), "added".into()),
            ]
        );
        assert!(parse_porcelain_z("").is_empty());
    }
}
