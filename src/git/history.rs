//! The history between two commits of a local repository: which of them it
//! holds, whether one descends from the other, and the commits in between
//! with their subjects (what `roll --message` tells). Local only: making a
//! missing commit present is a fetch step of the executor's.

use std::path::Path;

use super::command::presence_input;
use super::{Git, GitResult};
use crate::model::types::CommitId;

/// One commit of a range: its id and subject line (as git printed it; the
/// caller escapes it before showing it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The full id.
    pub id: CommitId,
    /// The subject line.
    pub subject: String,
}

impl Git {
    /// Which of `commits` the repository at `repo` holds, in order.
    pub fn commits_present(&self, repo: &Path, commits: &[&CommitId]) -> GitResult<Vec<bool>> {
        let cmd = Self::batch_check_cmd(repo);
        let out = self.run_with_input(&cmd, presence_input(commits).into_bytes())?;
        Ok(parse_presence(
            &String::from_utf8_lossy(&out.stdout),
            commits.len(),
        ))
    }

    /// Whether `older` is an ancestor of (or is) `newer`.
    pub fn commit_is_ancestor(&self, repo: &Path, older: &CommitId, newer: &CommitId) -> GitResult<bool> {
        let cmd = Self::commit_is_ancestor_cmd(repo, older, newer);
        Ok(self.answer(&cmd, 1)?.is_some())
    }

    /// The commits `to` has that `from` has not, newest first.
    pub fn log_range(&self, repo: &Path, from: &CommitId, to: &CommitId) -> GitResult<Vec<LogEntry>> {
        let cmd = Self::log_range_cmd(repo, from, to);
        Ok(parse_log_entries(&self.output(&cmd)?))
    }
}

/// The answers of `git cat-file --batch-check` to [`presence_input`]:
/// `OID commit SIZE` for a commit it holds, `NAME missing` otherwise.
/// Answers that never came count as missing.
fn parse_presence(out: &str, asked: usize) -> Vec<bool> {
    let mut present: Vec<bool> = out
        .lines()
        .map(|line| line.split(' ').nth(1) == Some("commit"))
        .collect();
    present.resize(asked, false);
    present
}

/// The output of [`Git::log_range_cmd`]: `ID NUL SUBJECT` a line. A line
/// without a valid id is skipped.
fn parse_log_entries(out: &str) -> Vec<LogEntry> {
    out.lines()
        .filter_map(|line| {
            let (id, subject) = line.split_once('\0')?;
            Some(LogEntry {
                id: CommitId::new(id).ok()?,
                subject: subject.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from git 2.47.
    const A: &str = "bbc8fc902171432e84f51a6c66766b72f300f768";
    const B: &str = "2f845669a1c6ba4f36b1c42f4e21c6aae6f9dde7";

    #[test]
    fn presence_answers_say_which_commits_are_held() {
        let out = format!("{A} commit 170\n{B}^{{commit}} missing\n");
        assert_eq!(parse_presence(&out, 2), [true, false]);
        assert_eq!(parse_presence("", 2), [false, false]);
    }

    #[test]
    fn log_lines_split_into_ids_and_subjects() {
        let out = format!("{A}\0liba: new commit on main\n{B}\0a subject\0with a NUL\nnot a line\n");
        assert_eq!(
            parse_log_entries(&out),
            [
                LogEntry {
                    id: CommitId::new(A).unwrap(),
                    subject: "liba: new commit on main".into()
                },
                LogEntry {
                    id: CommitId::new(B).unwrap(),
                    subject: "a subject\0with a NUL".into()
                },
            ]
        );
    }
}
