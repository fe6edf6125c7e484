//! The operations that rewrite a working tree: checking out a commit
//! (detached, or over the files of a tree that has no index), writing the
//! tree of a clone made without one, and marking the commit the tool
//! checked out (`CHECKED_OUT_REF`). Every checkout from one commit to
//! another is recorded in the run's checkout log before git starts (see
//! `run.rs`), so that one cut short is repaired by the next run.

use std::path::Path;

use super::files::{read_head, Head};
use super::run::checkout_log;
use super::{git_dir_of, Git, GitCommand, GitResult};
use crate::model::types::{BranchName, CommitId};

impl Git {
    /// Checks out `commit` detached. git refuses (and we report) when that
    /// would overwrite local changes; compatible local changes are carried.
    pub fn checkout_detached(&self, repo: &Path, commit: &CommitId) -> GitResult<()> {
        self.run_checkout(Self::checkout_detached_cmd(repo, commit), repo, commit)
    }

    /// Writes the working tree of a clone made without one; see
    /// [`Git::populate_cmd`].
    pub fn populate(&self, repo: &Path) -> GitResult<()> {
        self.run(&Self::populate_cmd(repo))
    }

    /// Runs `cmd`, a checkout of `to` in `repo`, having first recorded in
    /// the [`super::CheckoutLog`] (durably) where HEAD was: a later run that finds
    /// the record open knows this checkout may have been cut short, and
    /// from where to where (see `exec/cut_checkout.rs`).
    fn run_checkout(&self, cmd: GitCommand, repo: &Path, to: &CommitId) -> GitResult<()> {
        let Some(log) = checkout_log() else {
            return self.run(&cmd);
        };
        let from = match git_dir_of(repo).map(|d| read_head(&d)) {
            Some(Head::Detached(head)) => Some(head),
            _ => self.head_commit(repo)?,
        };
        // To where HEAD is, it is the first writing of a tree without an
        // index, which a later run sees by that.
        if from.as_ref() == Some(to) {
            return self.run(&cmd);
        }
        self.run_recorded(cmd, log.as_ref(), repo, from.as_ref(), to)
    }

    /// Puts HEAD back on `branch`, which points at `commit` (`undo`).
    pub fn checkout_branch(&self, repo: &Path, branch: &BranchName, commit: &CommitId) -> GitResult<()> {
        self.run_checkout(Self::checkout_branch_cmd(repo, branch), repo, commit)
    }

    /// The commit local branch `branch` points at, `None` when there is no
    /// such branch.
    pub fn branch_commit(&self, repo: &Path, branch: &BranchName) -> GitResult<Option<CommitId>> {
        let cmd = Self::branch_commit_cmd(repo, branch);
        Ok(self
            .answer(&cmd, 1)?
            .and_then(|out| CommitId::new(out.trim()).ok()))
    }

    /// Records that the tool checked `commit` out in `repo`.
    pub fn mark_checked_out(&self, repo: &Path, commit: &CommitId) -> GitResult<()> {
        self.run(&Self::mark_checked_out_cmd(repo, commit))
    }

    /// Writes the files of `commit`, detached, into a repository that has
    /// no index; see [`Git::checkout_overwriting_cmd`].
    pub fn checkout_overwriting(&self, repo: &Path, commit: &CommitId) -> GitResult<()> {
        self.run_checkout(Self::checkout_overwriting_cmd(repo, commit), repo, commit)
    }
}
