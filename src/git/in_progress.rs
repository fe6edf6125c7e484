//! A git operation the user has under way in a repository: a rebase, a
//! merge, a cherry-pick or revert (alone or as a sequence), a bisect, `git
//! am`. Moving HEAD under one of them loses work: `git rebase --continue`
//! after a checkout drops the commits the rebase had made, and a checkout
//! removes `MERGE_HEAD`. git keeps their state as files in the git
//! directory (git's `wt_status_get_state`), so they are read from there,
//! without a process; a linked worktree or a submodule keeps them in its
//! own git directory, the one its `.git` file names.

use std::path::Path;

/// One operation under way, as git's files say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `rebase-merge/` or `rebase-apply/` (without `applying`).
    Rebase,
    /// `rebase-apply/applying`: `git am`.
    Am,
    /// `MERGE_HEAD`: a merge stopped on conflicts, or `merge --no-commit`.
    Merge,
    /// `CHERRY_PICK_HEAD`, or a sequence whose next step is a pick.
    CherryPick,
    /// `REVERT_HEAD`, or a sequence whose next step is a revert.
    Revert,
    /// `sequencer/` whose next step cannot be read.
    Sequence,
    /// `BISECT_LOG`.
    Bisect,
}

impl Operation {
    /// What it is, for a message: `a rebase`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Rebase => "a rebase",
            Operation::Am => "`git am`",
            Operation::Merge => "a merge",
            Operation::CherryPick => "a cherry-pick",
            Operation::Revert => "a revert",
            Operation::Sequence => "a cherry-pick or revert sequence",
            Operation::Bisect => "a bisect",
        }
    }

    /// Its short name in `--json` and in `status`: `rebase`.
    pub fn key(self) -> &'static str {
        match self {
            Operation::Rebase => "rebase",
            Operation::Am => "am",
            Operation::Merge => "merge",
            Operation::CherryPick => "cherry-pick",
            Operation::Revert => "revert",
            Operation::Sequence => "sequence",
            Operation::Bisect => "bisect",
        }
    }

    /// How to finish it or abort it, as commands the user types.
    pub fn how_to_end(self) -> &'static str {
        match self {
            Operation::Rebase => {
                "finish it with `git rebase --continue` or abort it with `git rebase --abort`"
            }
            Operation::Am => "finish it with `git am --continue` or abort it with `git am --abort`",
            Operation::Merge => {
                "finish it with `git commit` (or `git merge --continue`) or abort it with `git merge --abort`"
            }
            Operation::CherryPick => {
                "finish it with `git cherry-pick --continue` or abort it with `git cherry-pick --abort`"
            }
            Operation::Revert => {
                "finish it with `git revert --continue` or abort it with `git revert --abort`"
            }
            Operation::Sequence => {
                "finish it with `git cherry-pick --continue` (or `git revert --continue`) or end it with \
                 `git cherry-pick --quit`"
            }
            Operation::Bisect => "end it with `git bisect reset`",
        }
    }
}

/// The operations under way in the repository whose git directory is
/// `git_dir`, read from its files, each with the file or folder that says
/// so: the one that owns HEAD first (a rebase or `am` over the merge or
/// pick it stopped in), then a bisect.
pub fn operations_in(git_dir: &Path) -> Vec<(Operation, &'static str)> {
    let exists = |name: &str| std::fs::symlink_metadata(git_dir.join(name)).is_ok();
    let todo = std::fs::read(git_dir.join("sequencer/todo")).ok();
    classify(&exists, todo.as_deref())
}

/// The operations that the files `exists` says are present make, in the
/// order git's own `status` weighs them; `todo` is `sequencer/todo`.
fn classify(exists: &dyn Fn(&str) -> bool, todo: Option<&[u8]>) -> Vec<(Operation, &'static str)> {
    // The file git looks for, the operation it means, and the file named.
    let head_owners = [
        ("rebase-apply/applying", Operation::Am, "rebase-apply"),
        ("rebase-apply", Operation::Rebase, "rebase-apply"),
        ("rebase-merge", Operation::Rebase, "rebase-merge"),
        ("MERGE_HEAD", Operation::Merge, "MERGE_HEAD"),
        ("CHERRY_PICK_HEAD", Operation::CherryPick, "CHERRY_PICK_HEAD"),
        ("REVERT_HEAD", Operation::Revert, "REVERT_HEAD"),
    ];
    let head_owner = head_owners
        .into_iter()
        .find(|(path, ..)| exists(path))
        .map(|(_, operation, file)| (operation, file))
        .or_else(|| exists("sequencer").then(|| (next_sequence_step(todo), "sequencer")));
    let mut found: Vec<_> = head_owner.into_iter().collect();
    if exists("BISECT_LOG") {
        found.push((Operation::Bisect, "BISECT_LOG"));
    }
    found
}

/// What the first instruction of `sequencer/todo` makes the sequence.
fn next_sequence_step(todo: Option<&[u8]>) -> Operation {
    let text = String::from_utf8_lossy(todo.unwrap_or_default());
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().next());
    match first {
        Some("pick" | "p") => Operation::CherryPick,
        Some("revert") => Operation::Revert,
        _ => Operation::Sequence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(files: &[&str], todo: Option<&str>) -> Vec<Operation> {
        let exists = |name: &str| files.contains(&name);
        classify(&exists, todo.map(str::as_bytes))
            .into_iter()
            .map(|(op, _)| op)
            .collect()
    }

    #[test]
    fn each_of_gits_state_files_names_its_operation() {
        assert_eq!(with(&[], None), []);
        assert_eq!(with(&["rebase-merge"], None), [Operation::Rebase]);
        let exists = |name: &str| name == "rebase-apply";
        assert_eq!(classify(&exists, None), [(Operation::Rebase, "rebase-apply")]);
        assert_eq!(with(&["rebase-apply"], None), [Operation::Rebase]);
        assert_eq!(
            with(&["rebase-apply", "rebase-apply/applying"], None),
            [Operation::Am]
        );
        assert_eq!(with(&["MERGE_HEAD"], None), [Operation::Merge]);
        assert_eq!(with(&["CHERRY_PICK_HEAD"], None), [Operation::CherryPick]);
        assert_eq!(with(&["REVERT_HEAD"], None), [Operation::Revert]);
        assert_eq!(with(&["BISECT_LOG"], None), [Operation::Bisect]);
    }

    #[test]
    fn a_rebase_owns_the_merge_or_pick_it_stopped_in_and_a_bisect_is_said_too() {
        // `rebase -r` stopped on a merge's conflicts leaves MERGE_HEAD too.
        assert_eq!(with(&["rebase-merge", "MERGE_HEAD"], None), [Operation::Rebase]);
        assert_eq!(
            with(&["CHERRY_PICK_HEAD", "sequencer", "BISECT_LOG"], None),
            [Operation::CherryPick, Operation::Bisect]
        );
    }

    #[test]
    fn a_sequence_between_steps_is_named_by_its_next_instruction() {
        let seq = &["sequencer"][..];
        assert_eq!(
            with(seq, Some("pick 1234567 a\npick 89abcde b\n")),
            [Operation::CherryPick]
        );
        assert_eq!(
            with(seq, Some("# comment\n\nrevert 1234567 a\n")),
            [Operation::Revert]
        );
        assert_eq!(with(seq, Some("")), [Operation::Sequence]);
        assert_eq!(with(seq, None), [Operation::Sequence]);
    }

    #[test]
    fn the_files_are_read_from_the_git_directory_given() {
        let dir = tempfile::tempdir().unwrap();
        assert!(operations_in(dir.path()).is_empty());
        std::fs::create_dir_all(dir.path().join("sequencer")).unwrap();
        std::fs::write(dir.path().join("sequencer/todo"), "revert abc x\n").unwrap();
        std::fs::write(dir.path().join("BISECT_LOG"), "").unwrap();
        assert_eq!(
            operations_in(dir.path()),
            [
                (Operation::Revert, "sequencer"),
                (Operation::Bisect, "BISECT_LOG")
            ]
        );
    }
}
