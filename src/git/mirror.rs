//! The cache's mirrors: the settings that make a bare clone one, and the
//! keep refs that hold every commit ever at a branch or tag tip, since
//! checkouts borrow objects from the mirror.

use std::path::Path;

use super::command::{drop_keeps_input, keep_tips_input};
use super::{Git, GitResult};
use crate::model::types::CommitId;

/// Where a cache mirror keeps, one ref per commit id, every commit that
/// was ever at the tip of one of its branches or tags: checkouts borrow
/// objects from the mirror, so none may ever become unreachable there.
/// `fetch --prune` only prunes what the refspecs map, branches and tags.
pub const KEEP_REFS: &str = "refs/openxla-workspace/keep/";

impl Git {
    /// Runs `cmd`, one of [`Git::mirror_settings_cmds`].
    pub fn configure_mirror_with(&self, cmd: &super::GitCommand) -> GitResult<()> {
        let out = self.spawn(cmd)?;
        // 5: `--unset-all` of a key that is not set.
        if !out.status.success() && out.status.code() != Some(5) {
            return Err(self.failure(cmd, &out));
        }
        Ok(())
    }

    /// Makes every current branch and tag tip of `mirror` reachable from
    /// [`KEEP_REFS`], before a fetch moves or deletes any: one
    /// `for-each-ref`, and one `update-ref --stdin` when there is a new
    /// tip. Returns how many were added.
    pub fn keep_mirror_tips(&self, mirror: &Path) -> GitResult<usize> {
        let list = Self::mirror_tips_cmd(mirror);
        let new = tips_to_keep(&self.output(&list)?);
        if new.is_empty() {
            return Ok(0);
        }
        let input = keep_tips_input(&new);
        let cmd = Self::keep_tips_cmd(mirror);
        self.run_with_input(&cmd, input.into_bytes())?;
        Ok(new.len())
    }

    /// Drops the keep refs of `mirror` whose commit a branch or tag tip
    /// reaches again (an old tip the branch went on from): that tip keeps
    /// it, and is itself kept before any fetch moves it, so the keep refs
    /// hold only commits nothing else does, instead of one per tip ever
    /// seen. Returns how many were dropped. On a git that cannot ask which
    /// are reached (older than 2.29) nothing is dropped.
    pub fn prune_mirror_keeps(&self, mirror: &Path) -> GitResult<usize> {
        let (keeps, tips) = keeps_and_tips(&self.output(&Self::mirror_refs_cmd(mirror))?);
        if keeps.is_empty() || tips.is_empty() {
            return Ok(0);
        }
        let Ok(listing) = self.output(&Self::keeps_reached_cmd(mirror, &tips)) else {
            return Ok(0);
        };
        let reached: std::collections::BTreeSet<&str> = listing.lines().collect();
        let dropped: Vec<(String, CommitId)> = keeps
            .into_iter()
            .filter(|(name, _)| reached.contains(name.as_str()))
            .collect();
        if dropped.is_empty() {
            return Ok(0);
        }
        let cmd = Self::keep_tips_cmd(mirror);
        self.run_with_input(&cmd, drop_keeps_input(&dropped).into_bytes())?;
        Ok(dropped.len())
    }

    /// `remote.origin.url` of the repository `repo`, if set.
    pub fn origin_url(&self, repo: &Path) -> GitResult<Option<String>> {
        let cmd = Self::origin_url_cmd(repo);
        Ok(self.answer(&cmd, 1)?.map(|out| out.trim_end().to_string()))
    }
}

/// The ids that `for-each-ref --format='%(objectname) %(refname)'` over a
/// mirror's branches, tags and [`KEEP_REFS`] shows at a branch or tag tip
/// and not yet kept, each once, in order.
fn tips_to_keep(listing: &str) -> Vec<String> {
    let mut kept = std::collections::BTreeSet::new();
    let mut tips = Vec::new();
    for (id, name) in listing.lines().filter_map(|l| l.split_once(' ')) {
        if name.starts_with(KEEP_REFS) {
            kept.insert(id);
        } else if CommitId::new(id).is_ok() && !tips.contains(&id) {
            tips.push(id);
        }
    }
    tips.into_iter()
        .filter(|id| !kept.contains(id))
        .map(str::to_string)
        .collect()
}

/// From [`Git::mirror_refs_cmd`]'s listing: the keep refs with their
/// commits, and the commits at branch and tag tips (tags peeled; a tag of
/// something else than a commit is no tip), each once.
fn keeps_and_tips(listing: &str) -> (Vec<(String, CommitId)>, Vec<CommitId>) {
    let mut keeps = Vec::new();
    let mut tips: Vec<CommitId> = Vec::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [kind, id, peeled_kind, peeled, name] = fields[..] else {
            continue;
        };
        let commit = match (kind, peeled_kind) {
            ("commit", _) => CommitId::new(id).ok(),
            ("tag", "commit") => CommitId::new(peeled).ok(),
            _ => None,
        };
        let Some(commit) = commit else {
            continue;
        };
        if name.starts_with(KEEP_REFS) {
            keeps.push((name.to_string(), commit));
        } else if !tips.contains(&commit) {
            tips.push(commit);
        }
    }
    (keeps, tips)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_and_tips_are_read_with_tags_peeled() {
        let (a, b, c, t) = ("a".repeat(40), "b".repeat(40), "c".repeat(40), "d".repeat(40));
        let listing = format!(
            "commit {a}   refs/heads/main\ncommit {a}   refs/heads/copy\ntag {t} commit {c} refs/tags/v1\n\
             tag {t} tree {b} refs/tags/a-tree\ncommit {b}   {KEEP_REFS}{b}\n"
        );
        let (keeps, tips) = keeps_and_tips(&listing);
        let id = |s: &str| CommitId::new(s).unwrap();
        assert_eq!(keeps, [(format!("{KEEP_REFS}{b}"), id(&b))]);
        assert_eq!(tips, [id(&a), id(&c)]);
    }

    #[test]
    fn only_mirror_tips_not_kept_yet_are_kept() {
        let (a, b, c) = ("a".repeat(40), "b".repeat(40), "c".repeat(40));
        let listing = format!(
            "{a} refs/heads/main\n{b} refs/heads/feature\n{a} refs/heads/copy\n{c} refs/tags/v1\n\
             {b} refs/openxla-workspace/keep/{b}\n"
        );
        assert_eq!(tips_to_keep(&listing), [a, c]);
        assert!(tips_to_keep("").is_empty());
    }
}
