//! Typed queries of a local repository: HEAD and its branch, status,
//! history, what the index tracks. Each runs one git command (or none, when
//! the repository's files settle it: `files.rs`), without a connection to
//! any server, and reads its output with a parser that is a plain function
//! of the text git printed.

use std::path::{Path, PathBuf};

use super::command::head_and_presence_input;
use super::files::{read_head, read_loose_ref, read_shallow, Head};
use super::{git_dir_of, Git, GitResult, CHECKED_OUT_REF};
use crate::model::types::{BranchName, CommitId};

/// `git log -1` facts for the summary line of `pin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitSummary {
    /// The full id.
    pub id: CommitId,
    /// Committer date, `YYYY-MM-DD`.
    pub date: String,
    /// The subject line.
    pub subject: String,
}

/// What `git status --porcelain=v2 --branch` says about a checkout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorktreeStatus {
    /// The commit HEAD points at (`None` before the first commit).
    pub head: Option<CommitId>,
    /// The branch HEAD is on, `None` when detached.
    pub branch: Option<String>,
    /// Staged or unstaged changes to tracked files, or merge conflicts.
    pub changed: usize,
    /// Untracked files (not ignored).
    pub untracked: usize,
}

impl Git {
    /// The commit HEAD names in the repository at `git_dir`, if any.
    pub(super) fn head_of_git_dir(&self, git_dir: &Path) -> GitResult<Option<CommitId>> {
        if let Head::Detached(head) = read_head(git_dir) {
            return Ok(Some(head));
        }
        let cmd = Self::git_dir_head_cmd(git_dir);
        let out = self.spawn(&cmd)?;
        Ok(match out.status.code() {
            Some(0) => CommitId::new(String::from_utf8_lossy(&out.stdout).trim()).ok(),
            _ => None,
        })
    }

    /// Whether git tracks the workspace marker in `dir` (`git ls-files`;
    /// false for an untracked or ignored file), or git's reason (the first
    /// line of its stderr) when it cannot say, as when `dir` is in no
    /// repository git will read.
    pub fn tracks_marker(&self, dir: &Path) -> Result<bool, String> {
        let cmd = Self::enclosing_tracks_cmd(dir, crate::model::workspace::MARKER);
        match self.output(&cmd) {
            Ok(listed) => Ok(!listed.is_empty()),
            Err(e) => {
                let reason = e.stderr.lines().next().unwrap_or("no reason given");
                Err(reason.trim().to_string())
            }
        }
    }

    /// Whether `dir` is the top folder of a git checkout (not merely inside
    /// one: a workspace may itself sit inside a repository).
    pub fn is_checkout_root(&self, dir: &Path) -> bool {
        if !dir.join(".git").exists() {
            return false;
        }
        let Ok(top) = self.output(&Self::show_toplevel_cmd(dir)) else {
            return false;
        };
        let top = PathBuf::from(top.trim_end_matches(['\n', '\r']));
        matches!((top.canonicalize(), dir.canonicalize()), (Ok(a), Ok(b)) if a == b)
    }

    /// HEAD's commit, or `None` when HEAD does not name one (an unborn
    /// branch).
    pub fn head_commit(&self, repo: &Path) -> GitResult<Option<CommitId>> {
        let cmd = Self::head_commit_cmd(repo);
        Ok(self
            .answer(&cmd, 1)?
            .and_then(|out| CommitId::new(out.trim()).ok()))
    }

    /// The branch HEAD is on (`refs/heads/` left off), `None` when
    /// detached.
    pub fn current_branch(&self, repo: &Path) -> GitResult<Option<String>> {
        let cmd = Self::current_branch_cmd(repo);
        Ok(self.answer(&cmd, 1)?.map(|out| out.trim_end().to_string()))
    }

    /// When HEAD is detached at a commit that moving HEAD could make
    /// unreachable, returns it. A commit is not at risk when a branch, a
    /// remote-tracking ref, a tag or [`CHECKED_OUT_REF`] contains it, nor
    /// when it is at the repository's shallow boundary (listed in
    /// `.git/shallow`: it was fetched without its parents, so it came from
    /// a server and cannot be one the user made). For a submodule, the
    /// caller also asks [`Git::recorded_in_history`].
    pub fn orphanable_head(&self, repo: &Path) -> GitResult<Option<CommitId>> {
        // From the files first, which settles the usual cases without a
        // process: on a branch, at the shallow boundary, or at the commit
        // the tool recorded checking out.
        if let Some(git_dir) = git_dir_of(repo) {
            match read_head(&git_dir) {
                Head::Symbolic => return Ok(None),
                Head::Detached(head) => {
                    if read_shallow(&git_dir).contains(&head)
                        || read_loose_ref(&git_dir, CHECKED_OUT_REF).as_ref() == Some(&head)
                    {
                        return Ok(None);
                    }
                }
                Head::Unknown => {}
            }
        }
        // On a branch (exit 0), the branch keeps its commits.
        if self.answer(&Self::symbolic_head_cmd(repo), 1)?.is_some() {
            return Ok(None);
        }
        let contains = Self::ref_containing_head_cmd(repo);
        if !self.output(&contains)?.trim().is_empty() {
            return Ok(None);
        }
        let out = self.output(&Self::git_dir_and_head_cmd(repo))?;
        let (git_dir, head) = parse_git_dir_and_head(&out);
        let Some(head) = head else {
            return Ok(None);
        };
        if read_shallow(&git_dir).contains(&head) {
            return Ok(None);
        }
        Ok(Some(head))
    }

    /// Whether some commit of `superproject` that is reachable (from any
    /// ref, or from the reflogs, such as HEAD's previous positions) records
    /// `commit` for the submodule at `path`: then the submodule's HEAD
    /// there is one a checkout of the superproject put there, not one the
    /// user made. One `git log` over the superproject's history of `path`.
    pub fn recorded_in_history(&self, superproject: &Path, path: &str, commit: &CommitId) -> GitResult<bool> {
        let cmd = Self::path_history_cmd(superproject, path);
        let out = self.output(&cmd)?;
        Ok(parse_raw_gitlinks(&out).iter().any(|c| c == commit))
    }

    /// HEAD's commit (`None` when unborn) and whether `commit` is present,
    /// in one `git cat-file --batch-check`.
    pub fn head_and_presence(&self, repo: &Path, commit: &CommitId) -> GitResult<(Option<CommitId>, bool)> {
        let cmd = Self::batch_check_cmd(repo);
        let out = self.run_with_input(&cmd, head_and_presence_input(commit).into_bytes())?;
        Ok(parse_head_and_presence(&String::from_utf8_lossy(&out.stdout)))
    }

    /// How many commits HEAD has that `base` has not (`git rev-list
    /// base..HEAD`), not counting those at the shallow boundary: in a
    /// shallow clone an ancestor of `base` fetched without its parents is
    /// not known to be one, but it came from the server all the same.
    pub fn commits_ahead_of(&self, repo: &Path, base: &CommitId) -> GitResult<usize> {
        let shallow = git_dir_of(repo).map(|d| read_shallow(&d)).unwrap_or_default();
        let ahead = self.output(&Self::commits_since_cmd(repo, base))?;
        Ok(parse_commit_lines(&ahead)
            .iter()
            .filter(|c| !shallow.contains(c))
            .count())
    }

    /// Whether the checkout in `dir` has nothing uncommitted, not even an
    /// untracked or ignored file (`git status --ignored`): its files can be
    /// removed without losing anything.
    pub fn is_pristine(&self, dir: &Path) -> GitResult<bool> {
        let out = self.output(&Self::pristine_status_cmd(dir))?;
        Ok(out.trim().is_empty())
    }

    /// Whether the repository at `git_dir` holds no commit at all: HEAD
    /// names none and no ref exists (a clone that stopped before its first
    /// fetch finished).
    pub fn holds_no_commit(&self, git_dir: &Path) -> GitResult<bool> {
        if self.spawn(&Self::git_dir_head_cmd(git_dir))?.status.success() {
            return Ok(false);
        }
        let refs = Self::git_dir_any_ref_cmd(git_dir);
        Ok(self.output(&refs)?.trim().is_empty())
    }

    /// Whether the history of `commit`, present in `repo`, can be walked:
    /// its parents are there, or it is a boundary of a shallow history. A
    /// depth-limited fetch cut short after its objects arrived and before
    /// git recorded the new shallow boundary leaves a commit that is there
    /// but whose parents are neither (`git log` and `git fsck` fail).
    pub fn parents_readable(&self, repo: &Path, commit: &CommitId) -> GitResult<bool> {
        let cmd = Self::parents_readable_cmd(repo, commit);
        Ok(self.answer(&cmd, 128)?.is_some())
    }

    /// Whether the index of `repo` has no entry at or under `path` (so
    /// removing that folder removes nothing the project tracks).
    pub fn tracks_nothing_under(&self, repo: &Path, path: &str) -> GitResult<bool> {
        let out = self.output(&Self::ls_files_cmd(repo, path))?;
        Ok(out.is_empty())
    }

    /// Id, committer date and subject of HEAD, in one `git log -1`.
    pub fn head_summary(&self, repo: &Path) -> GitResult<CommitSummary> {
        let cmd = Self::head_summary_cmd(repo);
        let out = self.output(&cmd)?;
        parse_head_summary(&out)
            .ok_or_else(|| self.failed(&cmd, format!("unexpected output: {}", out.trim()), Some(0)))
    }

    /// Whether `commit` is an ancestor of (or equal to) `origin/BRANCH`.
    pub fn is_ancestor_of_remote_branch(
        &self,
        repo: &Path,
        commit: &CommitId,
        branch: &BranchName,
    ) -> GitResult<bool> {
        let cmd = Self::is_ancestor_cmd(repo, commit, branch);
        Ok(self.answer(&cmd, 1)?.is_some())
    }

    /// HEAD, branch and local changes of a checkout in one `git status`.
    pub fn worktree_status(&self, repo: &Path) -> GitResult<WorktreeStatus> {
        let cmd = Self::worktree_status_cmd(repo);
        Ok(parse_status_v2(&self.output(&cmd)?))
    }

    /// `(behind, ahead)`: commits of `pin` not in HEAD, and of HEAD not in
    /// `pin`. Fails when `pin` is not in the object store.
    pub fn behind_ahead(&self, repo: &Path, pin: &CommitId) -> GitResult<(usize, usize)> {
        let cmd = Self::behind_ahead_cmd(repo, pin);
        Ok(parse_left_right_counts(&self.output(&cmd)?))
    }
}

/// The answers of `git cat-file --batch-check` to
/// [`head_and_presence_input`]: HEAD's commit, and whether the asked-for
/// commit is present. Each answer is `OID TYPE SIZE`, or `NAME missing`.
fn parse_head_and_presence(text: &str) -> (Option<CommitId>, bool) {
    let mut answers = text.lines().map(|line| {
        let mut fields = line.split(' ');
        match (fields.next(), fields.next()) {
            (Some(oid), Some("commit")) => CommitId::new(oid).ok(),
            _ => None,
        }
    });
    let head = answers.next().flatten();
    let present = answers.next().flatten().is_some();
    (head, present)
}

/// The commit ids of `git rev-list` output, one a line.
fn parse_commit_lines(out: &str) -> Vec<CommitId> {
    out.lines().filter_map(|l| CommitId::new(l.trim()).ok()).collect()
}

/// The git directory and HEAD's commit from `git rev-parse
/// --absolute-git-dir HEAD^{commit}`, one a line.
fn parse_git_dir_and_head(out: &str) -> (PathBuf, Option<CommitId>) {
    let mut lines = out.lines();
    let git_dir = PathBuf::from(lines.next().unwrap_or_default());
    let head = lines.next().and_then(|l| CommitId::new(l.trim()).ok());
    (git_dir, head)
}

/// The output of [`Git::head_summary_cmd`]: `ID NUL DATE NUL SUBJECT`.
/// `None` when it is not that, as from a git too old for `%cs`
/// (YYYY-MM-DD, git 2.21), which prints it as is.
fn parse_head_summary(out: &str) -> Option<CommitSummary> {
    let mut parts = out.trim_end_matches('\n').splitn(3, '\0');
    let id = parts.next().and_then(|s| CommitId::new(s).ok());
    let date = parts.next().unwrap_or_default().to_string();
    let subject = parts.next().unwrap_or_default().to_string();
    match id {
        Some(id) if date != "%cs" => Some(CommitSummary { id, date, subject }),
        _ => None,
    }
}

/// The output of `git status --porcelain=v2 --branch`: the `# branch.oid`
/// and `# branch.head` headers, then one line per changed entry (`1`
/// ordinary, `2` renamed or copied, `u` unmerged) and per untracked file
/// (`?`).
fn parse_status_v2(out: &str) -> WorktreeStatus {
    let mut status = WorktreeStatus::default();
    for line in out.lines() {
        if let Some(oid) = line.strip_prefix("# branch.oid ") {
            status.head = CommitId::new(oid).ok();
        } else if let Some(head) = line.strip_prefix("# branch.head ") {
            if head != "(detached)" {
                status.branch = Some(head.to_string());
            }
        } else if line.starts_with("1 ") || line.starts_with("2 ") || line.starts_with("u ") {
            status.changed += 1;
        } else if line.starts_with("? ") {
            status.untracked += 1;
        }
    }
    status
}

/// `(left, right)` from `git rev-list --left-right --count`: `LEFT TAB
/// RIGHT`; what is not a number counts as 0.
fn parse_left_right_counts(out: &str) -> (usize, usize) {
    let mut counts = out.split_whitespace().map(|n| n.parse::<usize>().unwrap_or(0));
    (counts.next().unwrap_or(0), counts.next().unwrap_or(0))
}

/// The gitlink commits in `git log --raw` output (both sides of each
/// change of a mode-160000 entry).
fn parse_raw_gitlinks(out: &str) -> Vec<CommitId> {
    let mut found = Vec::new();
    for line in out.lines() {
        // `:OLDMODE NEWMODE OLDSHA NEWSHA STATUS\tPATH`
        let Some(meta) = line.strip_prefix(':').and_then(|l| l.split('\t').next()) else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        if fields.len() < 4 {
            continue;
        }
        for (mode, sha) in [(fields[0], fields[2]), (fields[1], fields[3])] {
            if mode == "160000" {
                if let Ok(commit) = CommitId::new(sha) {
                    found.push(commit);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_log_output_gives_both_sides_of_each_gitlink_change() {
        let (a, b, z) = ("a".repeat(40), "b".repeat(40), "0".repeat(40));
        let c = "c".repeat(40);
        let out = format!(
            ":160000 160000 {a} {b} M\tthird_party/x\n\n:000000 160000 {z} {c} A\tthird_party/x\n\
             :100644 100644 {a} {c} M\tfile\n"
        );
        let found: Vec<String> = parse_raw_gitlinks(&out).iter().map(|c| c.to_string()).collect();
        assert_eq!(found, [a, b, c]);
    }

    // Ids and output below were captured from git 2.47.

    const HEAD: &str = "bbc8fc902171432e84f51a6c66766b72f300f768";

    fn id(hex: &str) -> CommitId {
        CommitId::new(hex).unwrap()
    }

    #[test]
    fn status_v2_counts_changes_renames_conflicts_and_untracked_files() {
        let out = format!(
            "# branch.oid {HEAD}\n# branch.head main\n\
             1 .M N... 100644 100644 100644 78981922613b2afb6025042ff6bd878ac1994e85 78981922613b2afb6025042ff6bd878ac1994e85 a.txt\n\
             2 R. N... 100644 100644 100644 61780798228d17af2d34fce4cfbdf35556832472 61780798228d17af2d34fce4cfbdf35556832472 R100 b2.txt\tb.txt\n\
             1 A. N... 000000 100644 100644 0000000000000000000000000000000000000000 587be6b4c3f93f93c489c0111bba5596147a26cb new.txt\n\
             u UU N... 100644 100644 100644 100644 d00491fd7e5bb6fa28c517a0bb32b8b506539d4d 00750edc07d6415dcc07ae0351e9397b0222b7ba 0cfbf08886fca9a91cb753ec8734c84fcbe52c9f f\n\
             ? untracked.txt\n? 1 odd name\n"
        );
        assert_eq!(
            parse_status_v2(&out),
            WorktreeStatus {
                head: Some(id(HEAD)),
                branch: Some("main".into()),
                changed: 4,
                untracked: 2,
            }
        );
        let detached = format!("# branch.oid {HEAD}\n# branch.head (detached)\n");
        assert_eq!(
            parse_status_v2(&detached),
            WorktreeStatus {
                head: Some(id(HEAD)),
                ..WorktreeStatus::default()
            }
        );
        // Before the first commit.
        assert_eq!(
            parse_status_v2("# branch.oid (initial)\n# branch.head main\n? f\n"),
            WorktreeStatus {
                head: None,
                branch: Some("main".into()),
                changed: 0,
                untracked: 1,
            }
        );
    }

    #[test]
    fn batch_check_answers_give_head_and_whether_the_commit_is_present() {
        let missing = "0123456789012345678901234567890123456789";
        assert_eq!(
            parse_head_and_presence(&format!("{HEAD} commit 170\n{missing}^{{commit}} missing\n")),
            (Some(id(HEAD)), false)
        );
        assert_eq!(
            parse_head_and_presence(&format!("{HEAD} commit 170\n{HEAD} commit 170\n")),
            (Some(id(HEAD)), true)
        );
        // An unborn HEAD; a name that is no commit.
        assert_eq!(
            parse_head_and_presence(&format!("HEAD^{{commit}} missing\n{HEAD} tree 35\n")),
            (None, false)
        );
    }

    #[test]
    fn head_summaries_are_split_at_their_nuls() {
        let out = format!("{HEAD}\x002024-03-05\x00first: a subject with \u{fc}n\u{ef}code\n");
        assert_eq!(
            parse_head_summary(&out),
            Some(CommitSummary {
                id: id(HEAD),
                date: "2024-03-05".into(),
                subject: "first: a subject with \u{fc}n\u{ef}code".into(),
            })
        );
        // A subject may itself hold what looks like a separator.
        let odd = format!("{HEAD}\x002024-03-05\x00a\x00b\n");
        assert_eq!(parse_head_summary(&odd).unwrap().subject, "a\x00b");
        // git before 2.21 prints `%cs` as it is.
        assert_eq!(parse_head_summary(&format!("{HEAD}\x00%cs\x00s\n")), None);
        assert_eq!(parse_head_summary(""), None);
    }

    #[test]
    fn rev_list_output_reads_as_counts_and_commits() {
        assert_eq!(parse_left_right_counts("0\t1\n"), (0, 1));
        assert_eq!(parse_left_right_counts("12\t3\n"), (12, 3));
        assert_eq!(parse_left_right_counts(""), (0, 0));
        assert_eq!(
            parse_commit_lines(&format!("{HEAD}\n2f845669a1c6ba4f36b1c42f4e21c6aae6f9dde7\n")),
            [id(HEAD), id("2f845669a1c6ba4f36b1c42f4e21c6aae6f9dde7")]
        );
        assert_eq!(
            parse_git_dir_and_head(&format!("/tmp/ws/r/.git\n{HEAD}\n")),
            (PathBuf::from("/tmp/ws/r/.git"), Some(id(HEAD)))
        );
        assert_eq!(
            parse_git_dir_and_head("/tmp/ws/r/.git\n"),
            (PathBuf::from("/tmp/ws/r/.git"), None)
        );
    }
}
