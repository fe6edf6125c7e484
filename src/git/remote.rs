//! The operations that talk to a server: clones, fetches (of a commit by
//! id, a branch, everything origin has, the objects a partial clone lacks)
//! and `roll`'s `ls-remote`. The cache's mirrors are cloned and fetched
//! through the same builders, by `exec/cache.rs`.

use std::path::Path;

use super::{CloneOptions, Git, GitCommand, GitError, GitErrorKind, GitResult};
use crate::model::types::{BranchName, CommitId, Filter, RemoteUrl};

impl Git {
    /// Clones `url` into `dest` (a path relative to or under `parent`).
    pub fn clone_repo(
        &self,
        parent: &Path,
        url: &RemoteUrl,
        dest: &Path,
        opts: &CloneOptions,
    ) -> GitResult<()> {
        let cmd = Self::clone_cmd(parent, url, dest, opts);
        self.to_host(url.as_str(), &cmd, || self.run(&cmd))
    }

    /// Fetches the named objects into a partial clone; see
    /// [`Git::fetch_objects_cmd`].
    pub fn fetch_objects(&self, repo: &Path, objects: &[CommitId]) -> GitResult<()> {
        self.run(&Self::fetch_objects_cmd(repo, objects))
    }

    /// Fetches one commit by id from `origin` (no tags, optionally shallow
    /// or partial; see [`Git::fetch_commit_cmd`]).
    pub fn fetch_commit(
        &self,
        repo: &Path,
        commit: &CommitId,
        depth: Option<u32>,
        filter: Option<Filter>,
    ) -> GitResult<()> {
        self.fetch_from_origin(&Self::fetch_commit_cmd(repo, commit, depth, filter))
    }

    /// Fetches `origin`'s `branch` into `refs/remotes/origin/BRANCH`.
    pub fn fetch_branch(
        &self,
        repo: &Path,
        branch: &BranchName,
        depth: Option<u32>,
        unshallow: bool,
    ) -> GitResult<()> {
        self.fetch_from_origin(&Self::fetch_branch_cmd(repo, branch, depth, unshallow))
    }

    /// `git fetch --no-tags origin` with its configured refspecs (and
    /// `--unshallow` for a shallow repository): the fallback when a server
    /// refuses to send a commit by id.
    pub fn fetch_origin(&self, repo: &Path, unshallow: bool) -> GitResult<()> {
        self.fetch_from_origin(&Self::fetch_origin_cmd(repo, unshallow))
    }

    /// Runs `cmd`, a fetch from the `origin` of the repository it runs in,
    /// through the run's gate of that remote's host (see `hosts.rs`): a host
    /// found shut gets no further process.
    fn fetch_from_origin(&self, cmd: &GitCommand) -> GitResult<()> {
        match super::ssh_share::origin_url_of(&cmd.dir) {
            Some(url) => self.to_host(&url, cmd, || self.run(cmd)),
            None => self.run(cmd),
        }
    }

    /// The commit at the head of `branch` on `url`, asked of the server
    /// (`dir` is only where git runs). A branch that does not exist, or an
    /// answer without exactly one `refs/heads/BRANCH` line, is an error
    /// naming the URL.
    pub fn ls_remote_head(&self, dir: &Path, url: &RemoteUrl, branch: &BranchName) -> GitResult<CommitId> {
        let cmd = Self::ls_remote_head_cmd(dir, url, branch);
        // Through the host gate, as a clone: a host found shut gets no
        // further process.
        let out = self.to_host(url.as_str(), &cmd, || {
            let out = self.spawn(&cmd)?;
            // A refusal is the server's answer, whose cause the gate reads.
            match out.status.code() {
                Some(0 | 2) => Ok(out),
                _ => Err(self.failure(&cmd, &out)),
            }
        })?;
        let refname = format!("refs/heads/{}", branch.as_str());
        let missing = || format!("{url} has no branch '{branch}' ({refname})");
        let problem = match out.status.code() {
            Some(0) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                let ids = ids_of_ref(&stdout, &refname);
                match ids.as_slice() {
                    [id] => match CommitId::new(id) {
                        Ok(commit) => return Ok(commit),
                        Err(e) => format!("{url} answered for {refname}: {e}"),
                    },
                    [] => missing(),
                    _ => format!("{url} lists {refname} {} times; expected it once", ids.len()),
                }
            }
            // --exit-code: 2 means that no ref matched.
            _ => missing(),
        };
        let status = out.status.code();
        Err(GitError::of(&cmd, problem, GitErrorKind::Failed { status }))
    }
}

/// The ids `git ls-remote` lists for exactly the ref `refname`: its lines
/// are `ID TAB REF`, and a pattern also matches the tail of longer names.
fn ids_of_ref<'a>(listing: &'a str, refname: &str) -> Vec<&'a str> {
    listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter(|(_, name)| *name == refname)
        .map(|(id, _)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_remote_lines_count_only_for_the_exact_ref() {
        // As git 2.47 prints it, with a branch whose name ends the same way.
        let (a, b) = (
            "0640a145cddd9e92b88004165c2c4cac3efd1b2d",
            "7b531caa1cf0834af8e5386edf10cb387676e10b",
        );
        let listing = format!("{b}\trefs/heads/foo/main\n{a}\trefs/heads/main\n");
        assert_eq!(ids_of_ref(&listing, "refs/heads/main"), [a]);
        assert_eq!(ids_of_ref(&listing, "refs/heads/dev"), Vec::<&str>::new());
        assert_eq!(ids_of_ref("", "refs/heads/main"), Vec::<&str>::new());
        let twice = format!("{a}\trefs/heads/main\n{b}\trefs/heads/main\n");
        assert_eq!(ids_of_ref(&twice, "refs/heads/main"), [a, b]);
    }
}
