//! A checkout that an interrupted run cut short, put right by the next run
//! without touching a byte of anyone's work.
//!
//! `git checkout` of another commit works in this order (git's
//! `unpack_trees`, then the ref update; seen with `strace` on git 2.47):
//! it takes `index.lock`; removes the files the new commit deletes; then
//! rewrites each changed or added file in index order — unlinks the old
//! one, runs the smudge filter, creates the new one and writes it; writes
//! the new index into `index.lock` and renames it over `index`; and only
//! then moves HEAD (`HEAD.lock`, the reflog entry, renamed over `HEAD`).
//! Stopped while writing files, it leaves HEAD and the index at the old
//! commit and some files at the new one (one perhaps missing or empty: the
//! file it was writing), which git then counts as local changes and will
//! not overwrite: every later sync would stop there. Stopped between the
//! index and HEAD, it leaves index and files at the new commit and HEAD at
//! the old one, which looks like the whole change staged. Stopped before
//! the first file or after HEAD, it leaves nothing to put right here (its
//! lock files are `crate::exec::recover`'s).
//!
//! Every such checkout the tool starts is recorded first (see
//! `crate::git::CheckoutLog`): the repository, `from` (HEAD then) and
//! `to`. For a record the run did not see end, when HEAD is still at
//! `from`:
//! - if the index holds exactly `to`'s tree, HEAD is moved to `to`, as the
//!   checkout would have done last (no file or index entry changes);
//! - otherwise, for each path whose entry differs between `from` and `to`
//!   and whose index entry is still `from`'s, the file is git's own
//!   half-done work, and is put back as the index has it, only when it is
//!   exactly what `to` has there (content as `git status` compares it, the
//!   executable bit, a symlink's target; for a path `to` deletes, its
//!   absence; a file `to` adds, present with `to`'s content, is removed), or
//!   when there is no byte in it to lose (missing, an empty file, an empty
//!   folder) while `from` has the path. A folder where `from` has no file
//!   (`to` has one) is `from`'s own folder, whose files are judged on their
//!   own paths: left as it is. Anything else there — a file that
//!   differs from both commits, a staged change — is kept as it is and
//!   reported: the user's, and git's own refusal then applies. Nothing is
//!   removed through a symbolic link or with a folder's content.
//!
//! The run then syncs as usual from `from`. Before the checkout began, git
//! had checked that every one of those paths held `from`'s file or none
//! (it refuses otherwise), so a file holding exactly `to`'s content can
//! only be git's write, or a copy of it whose every byte is in `to`.

use std::path::{Path, PathBuf};

use crate::exec::journal::CheckoutIntent;
use crate::exec::journal_path::path_bytes;
use crate::exec::remove_empty_parents;
use crate::exec::run_window::Window;
use crate::git::{git_dir_of, Git, GitResult, IndexEntry, TreeChange, TreeEntry};
use crate::model::types::CommitId;

/// What [`repair`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Repair {
    /// Nothing was left to do: HEAD is elsewhere (the checkout finished, or
    /// the user moved on), or no file differs from the index.
    Nothing,
    /// The files and the index were written; HEAD was moved to `to` from
    /// where it was, `from`.
    HeadMoved { from: CommitId },
    /// `put_back` paths went back to `from` (the index: written back or
    /// removed); the paths `kept` differ from both commits and were left as
    /// they are (in index order).
    PutBack { put_back: usize, kept: Vec<Vec<u8>> },
}

/// Puts right what the checkout `intent` left in the working tree `dir`,
/// if it was cut short; see the module documentation for the rule.
pub fn repair(git: &Git, dir: &Path, intent: &CheckoutIntent, window: &Window) -> GitResult<Repair> {
    // No git directory, or no index: not this repair's (a tree whose first
    // checkout was cut short is written whole where the run meets it).
    if git_dir_of(dir).is_none() || Git::lacks_index(dir) {
        return Ok(Repair::Nothing);
    }
    // HEAD elsewhere than where the checkout started (or, for a
    // repository git was making, at `to` or at no commit): it finished, or
    // was not the last to move HEAD; nothing here is this repair's.
    let Some(head) = git.head_commit(dir)? else {
        return Ok(Repair::Nothing);
    };
    if head == intent.to || intent.from.as_ref().is_some_and(|from| *from != head) {
        return Ok(Repair::Nothing);
    }
    if git.index_holds_tree_of(dir, &intent.to)? {
        // git's own index write, or the user's staging since: only the
        // first is finished here.
        let index = git_dir_of(dir).map(|d| d.join("index"));
        if !index.is_some_and(|i| window.holds_change_of(&i)) {
            return Ok(Repair::Nothing);
        }
        git.finish_head_move(dir, &head, &intent.to)?;
        return Ok(Repair::HeadMoved { from: head });
    }
    let Some(from) = &intent.from else {
        return Ok(Repair::Nothing);
    };
    let changes = git.tree_changes(dir, from, &intent.to)?;
    if changes.is_empty() {
        return Ok(Repair::Nothing);
    }
    let index = git.index_entries(dir)?;

    let mut found: Vec<Found> = changes.iter().map(|c| look(dir, &c.path)).collect();
    let files: Vec<Vec<u8>> = changes
        .iter()
        .zip(&found)
        .filter(|(_, found)| matches!(found, Found::File { .. }))
        .map(|(change, _)| change.path.clone())
        .collect();
    let mut oids = git.hash_worktree_files(dir, &files)?.into_iter();
    for found in &mut found {
        if let Found::File { oid, .. } = found {
            *oid = oids.next();
        }
    }
    let mut targets = Targets::default();
    let mut remove = Vec::new();
    let mut write = Vec::new();
    let mut kept = Vec::new();
    for (change, found) in changes.iter().zip(&found) {
        match judge(change, index.get(&change.path), found, &mut |oid| {
            targets.of(git, dir, oid)
        })? {
            Verdict::Untouched => {}
            Verdict::Kept => kept.push(change.path.clone()),
            // Bytes written after the run stopped are the user's, even
            // when they are `to`'s.
            Verdict::PutBack if !written_by_the_run(dir, &change.path, found, window) => {
                kept.push(change.path.clone())
            }
            Verdict::PutBack if change.old.is_none() => remove.push(change.path.clone()),
            Verdict::PutBack => write.push(change.path.clone()),
        }
    }

    let put_back = put_back(git, dir, remove, write, &mut kept)?;
    if put_back == 0 && kept.is_empty() {
        return Ok(Repair::Nothing);
    }
    kept.sort();
    Ok(Repair::PutBack { put_back, kept })
}

/// Removes the files `to` adds (`remove`) first, as a folder `from` has
/// may be in their place, then writes what `from` has from the index
/// (`write`); a path found otherwise than judged goes to `kept`. Returns
/// how many were put back.
fn put_back(
    git: &Git,
    dir: &Path,
    remove: Vec<Vec<u8>>,
    write: Vec<Vec<u8>>,
    kept: &mut Vec<Vec<u8>>,
) -> GitResult<usize> {
    let mut put_back = 0;
    for path in remove {
        let full = dir.join(os_path(&path));
        match look(dir, &path) {
            Found::File { .. } | Found::Symlink { .. } if std::fs::remove_file(&full).is_ok() => {
                remove_empty_parents(dir, &full);
                put_back += 1;
            }
            _ => kept.push(path),
        }
    }
    let mut ready = Vec::new();
    for path in write {
        match look(dir, &path) {
            Found::Absent | Found::File { .. } | Found::Symlink { .. } => ready.push(path),
            Found::EmptyDir if std::fs::remove_dir(dir.join(os_path(&path))).is_ok() => ready.push(path),
            _ => kept.push(path),
        }
    }
    git.restore_from_index(dir, &ready)?;
    Ok(put_back + ready.len())
}

/// Whether what is at `path` could be the interrupted checkout's write: no
/// byte there to lose (missing, empty), or changed while that run was
/// still running (`window`).
fn written_by_the_run(dir: &Path, path: &[u8], found: &Found, window: &Window) -> bool {
    match found {
        Found::File { empty: false, .. } | Found::Symlink { .. } => {
            window.holds_change_of(&dir.join(os_path(path)))
        }
        _ => true,
    }
}

/// What a working tree holds at a path.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// Nothing.
    Absent,
    /// Nothing, because a leading component is not a folder (a file or a
    /// symbolic link is in its place): nothing is written there before
    /// that is gone.
    Blocked,
    /// An empty folder.
    EmptyDir,
    /// A folder with something in it.
    Dir,
    /// A regular file: its executable bit, whether it is empty, and the
    /// blob id `git status` would compare (filled in once hashed).
    File {
        executable: bool,
        empty: bool,
        oid: Option<String>,
    },
    /// A symbolic link and its target.
    Symlink { target: Vec<u8> },
    /// Something else (a socket, a device).
    Other,
}

/// What the file at `path` (relative to `dir`) is, without following a
/// symbolic link anywhere on the way.
fn look(dir: &Path, path: &[u8]) -> Found {
    let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    let mut at = dir.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(os_path(part));
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            return Found::Absent;
        };
        let last = i + 1 == parts.len();
        if !last {
            if !meta.file_type().is_dir() {
                return Found::Blocked;
            }
            continue;
        }
        let kind = meta.file_type();
        return if kind.is_symlink() {
            match std::fs::read_link(&at) {
                Ok(target) => Found::Symlink {
                    target: path_bytes(&target).into_owned(),
                },
                Err(_) => Found::Other,
            }
        } else if kind.is_dir() {
            match std::fs::read_dir(&at).map(|mut entries| entries.next().is_none()) {
                Ok(true) => Found::EmptyDir,
                _ => Found::Dir,
            }
        } else if kind.is_file() {
            Found::File {
                executable: is_executable(&meta),
                empty: meta.len() == 0,
                oid: None,
            }
        } else {
            Found::Other
        };
    }
    Found::Absent
}

/// What to do with one path the checkout would change.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// It holds what the index says (not written yet), or is not this
    /// repair's (a submodule, a path outside a sparse checkout).
    Untouched,
    /// Written by the checkout, or holding nothing to lose: back to `from`.
    PutBack,
    /// Changed by someone: left as it is.
    Kept,
}

/// The rule of the module documentation for one path. `symlink_target`
/// gives a symbolic link's target from its blob id.
fn judge(
    change: &TreeChange,
    index: Option<&IndexEntry>,
    found: &Found,
    symlink_target: &mut dyn FnMut(&str) -> GitResult<Vec<u8>>,
) -> GitResult<Verdict> {
    let gitlink = |e: &Option<TreeEntry>| e.as_ref().is_some_and(|e| e.is_gitlink());
    if gitlink(&change.old) || gitlink(&change.new) {
        // A checkout does not write into submodules.
        return Ok(Verdict::Untouched);
    }
    let index_at_from = match (index, &change.old) {
        (None, None) => true,
        (Some(i), Some(old)) => i.stage == 0 && !i.skip_worktree && &i.entry == old,
        _ => false,
    };
    if !index_at_from {
        return Ok(if index.is_some_and(|i| i.skip_worktree) {
            Verdict::Untouched
        } else {
            Verdict::Kept
        });
    }
    if holds(found, change.old.as_ref(), symlink_target)? {
        return Ok(Verdict::Untouched);
    }
    if holds(found, change.new.as_ref(), symlink_target)? {
        return Ok(Verdict::PutBack);
    }
    // A folder where `from` has a file: git made it for files `to` adds
    // under it, judged on their own; once those are put back it is empty
    // and goes, or it holds something else and the path is kept.
    let nothing_to_lose = matches!(
        found,
        Found::Absent | Found::Blocked | Found::EmptyDir | Found::Dir | Found::File { empty: true, .. }
    );
    Ok(if change.old.is_some() && nothing_to_lose {
        Verdict::PutBack
    } else {
        Verdict::Kept
    })
}

/// Whether `found` is exactly what a checkout writes for `entry` (`None`:
/// no file).
fn holds(
    found: &Found,
    entry: Option<&TreeEntry>,
    symlink_target: &mut dyn FnMut(&str) -> GitResult<Vec<u8>>,
) -> GitResult<bool> {
    // No file: nothing there, or a folder (where `from` has none, `from`'s
    // own folder of files, each judged on its own path; git refuses to
    // start a checkout over anything else).
    let Some(entry) = entry else {
        return Ok(matches!(
            found,
            Found::Absent | Found::Blocked | Found::EmptyDir | Found::Dir
        ));
    };
    Ok(match found {
        // With `core.symlinks=false` a link is written as a file holding
        // its target, whose blob id is the link's.
        Found::File {
            executable,
            oid: Some(oid),
            ..
        } => oid == &entry.oid && (entry.is_symlink() || *executable == entry.is_executable()),
        Found::Symlink { target } => entry.is_symlink() && symlink_target(&entry.oid)? == *target,
        _ => false,
    })
}

/// The targets of the symbolic links involved, read once each.
#[derive(Default)]
struct Targets(std::collections::BTreeMap<String, Vec<u8>>);

impl Targets {
    fn of(&mut self, git: &Git, dir: &Path, oid: &str) -> GitResult<Vec<u8>> {
        if let Some(target) = self.0.get(oid) {
            return Ok(target.clone());
        }
        let target = git.blob(dir, oid)?;
        self.0.insert(oid.to_string(), target.clone());
        Ok(target)
    }
}

fn os_path(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

fn is_executable(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o100 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Runs git in `dir` with a fixed identity and no user config.
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.invalid")
            .env("GIT_COMMITTER_NAME", "a")
            .env("GIT_COMMITTER_EMAIL", "a@example.invalid")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn write(dir: &Path, path: &str, content: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn chmod(dir: &Path, path: &str, mode: u32) {
        std::fs::set_permissions(dir.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn symlink(dir: &Path, path: &str, target: &str) {
        let path = dir.join(path);
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, path).unwrap();
    }

    /// A repository with two commits, `from` (HEAD, checked out) and `to`,
    /// that differ in every way a checkout can change a path.
    fn repository() -> (tempfile::TempDir, PathBuf, CommitId, CommitId) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        git(&dir, &["init", "-q"]);
        for (path, content) in [
            ("same.txt", "same\n"),
            ("modified.txt", "from\n"),
            ("second.txt", "from 2\n"),
            ("gone.txt", "gone\n"),
            ("script.sh", "echo\n"),
            ("dir/inner.txt", "inner\n"),
            ("file", "a file\n"),
        ] {
            write(&dir, path, content);
        }
        symlink(&dir, "link", "same.txt");
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "from"]);
        let from = CommitId::new(&git(&dir, &["rev-parse", "HEAD"])).unwrap();
        std::fs::remove_file(dir.join("gone.txt")).unwrap();
        write(&dir, "modified.txt", "to\n");
        write(&dir, "second.txt", "to 2\n");
        chmod(&dir, "script.sh", 0o755);
        symlink(&dir, "link", "modified.txt");
        std::fs::remove_dir_all(dir.join("dir")).unwrap();
        write(&dir, "dir", "now a file\n");
        std::fs::remove_file(dir.join("file")).unwrap();
        write(&dir, "file/now/deep.txt", "deep\n");
        write(&dir, "added.txt", "added\n");
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "to"]);
        let to = CommitId::new(&git(&dir, &["rev-parse", "HEAD"])).unwrap();
        git(&dir, &["checkout", "-q", "--detach", from.as_str()]);
        (tmp, dir, from, to)
    }

    /// A window holding every change the test makes.
    fn any_time() -> Window {
        Window {
            from: std::time::UNIX_EPOCH,
            until: std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
        }
    }

    fn intent(from: &CommitId, to: &CommitId) -> CheckoutIntent {
        CheckoutIntent {
            repo: PathBuf::from("repo"),
            from: Some(from.clone()),
            to: to.clone(),
            at: None,
        }
    }

    /// Every file of the tree, with its kind, mode and content.
    fn tree(dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                let path = entry.path();
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if rel == ".git" {
                    continue;
                } else if meta.file_type().is_symlink() {
                    found.push(format!(
                        "{rel} -> {}",
                        std::fs::read_link(&path).unwrap().display()
                    ));
                } else if meta.is_dir() {
                    found.push(format!("{rel}/"));
                    pending.push(path);
                } else {
                    let mode = meta.permissions().mode() & 0o111;
                    let content = std::fs::read_to_string(&path).unwrap();
                    found.push(format!("{rel} {mode:o} {content:?}"));
                }
            }
        }
        found.sort();
        found
    }

    /// What a checkout of `to` cut short after writing everything leaves:
    /// each path at `to`, the index and HEAD at `from`.
    fn write_all_of_to(dir: &Path, from: &CommitId, to: &CommitId) {
        git(dir, &["checkout", "-q", "--detach", to.as_str()]);
        git(dir, &["read-tree", from.as_str()]);
        git(dir, &["update-ref", "--no-deref", "HEAD", from.as_str()]);
    }

    #[test]
    fn each_clause_of_the_judgement_of_one_path_decides_on_its_own() {
        let file = |oid: &str| TreeEntry {
            mode: 0o100644,
            oid: oid.to_string(),
        };
        let gitlink = TreeEntry {
            mode: 0o160000,
            oid: "c".repeat(40),
        };
        let indexed = |entry: &TreeEntry, stage: u8, skip_worktree: bool| IndexEntry {
            entry: entry.clone(),
            stage,
            skip_worktree,
        };
        let holding = |oid: &str| Found::File {
            executable: false,
            empty: false,
            oid: Some(oid.to_string()),
        };
        let change = |old: Option<TreeEntry>, new: Option<TreeEntry>| TreeChange {
            path: b"p".to_vec(),
            old,
            new,
        };
        let mut no_links = |_: &str| -> GitResult<Vec<u8>> { Ok(Vec::new()) };
        let (a, b) = (file("a"), file("b"));
        let mut judged =
            |c: &TreeChange, i: Option<&IndexEntry>, f: &Found| judge(c, i, f, &mut no_links).unwrap();
        // A submodule on either side is never this repair's.
        let to_submodule = change(Some(a.clone()), Some(gitlink.clone()));
        assert_eq!(
            judged(&to_submodule, Some(&indexed(&a, 0, false)), &holding("x")),
            Verdict::Untouched
        );
        let from_submodule = change(Some(gitlink.clone()), Some(a.clone()));
        assert_eq!(judged(&from_submodule, None, &holding("x")), Verdict::Untouched);
        // Written by the checkout, with the index still at `from`: back.
        let modified = change(Some(a.clone()), Some(b.clone()));
        assert_eq!(
            judged(&modified, Some(&indexed(&a, 0, false)), &holding("b")),
            Verdict::PutBack
        );
        // A conflict stage, or the user's staging, is someone's: kept.
        assert_eq!(
            judged(&modified, Some(&indexed(&a, 2, false)), &holding("b")),
            Verdict::Kept
        );
        assert_eq!(
            judged(&modified, Some(&indexed(&b, 0, false)), &holding("b")),
            Verdict::Kept
        );
        // Outside a sparse checkout git writes nothing there.
        assert_eq!(
            judged(&modified, Some(&indexed(&a, 0, true)), &holding("b")),
            Verdict::Untouched
        );
        // A file `to` adds: a folder in its place is `from`'s (its files
        // are judged on their own paths); an empty file there may be git's
        // first write, but `from` has nothing there to put back: kept.
        let added = change(None, Some(b.clone()));
        assert_eq!(judged(&added, None, &Found::EmptyDir), Verdict::Untouched);
        assert_eq!(judged(&added, None, &Found::Dir), Verdict::Untouched);
        let empty = Found::File {
            executable: false,
            empty: true,
            oid: Some("e".into()),
        };
        assert_eq!(judged(&added, None, &empty), Verdict::Kept);
        assert_eq!(
            judged(&modified, Some(&indexed(&a, 0, false)), &Found::EmptyDir),
            Verdict::PutBack
        );
    }

    #[test]
    fn every_path_git_wrote_goes_back_and_the_tree_matches_its_index_again() {
        let (_tmp, dir, from, to) = repository();
        let before = tree(&dir);
        write_all_of_to(&dir, &from, &to);
        assert_ne!(tree(&dir), before);
        let repair = repair(&Git::new(false), &dir, &intent(&from, &to), &any_time()).unwrap();
        assert_eq!(
            repair,
            Repair::PutBack {
                put_back: 10,
                kept: vec![]
            }
        );
        assert_eq!(tree(&dir), before);
        assert_eq!(git(&dir, &["status", "--porcelain", "--untracked-files=all"]), "");
        // The sync then moves it as it would have.
        git(&dir, &["checkout", "-q", "--detach", to.as_str()]);
    }

    #[test]
    fn files_holding_nothing_to_lose_go_back_and_anything_else_is_kept() {
        let (_tmp, dir, from, to) = repository();
        write_all_of_to(&dir, &from, &to);
        // Being written when the run was stopped: unlinked, or created
        // and still empty.
        std::fs::remove_file(dir.join("modified.txt")).unwrap();
        write(&dir, "second.txt", "");
        // Someone's since: content of neither commit, a mode of neither,
        // a staged change, a file of theirs in a folder that `to` made.
        write(&dir, "same.txt", "mine\n");
        write(&dir, "added.txt", "mine too\n");
        chmod(&dir, "dir", 0o755);
        write(&dir, "file/now/mine.txt", "mine\n");
        write(&dir, "gone.txt", "staged\n");
        git(&dir, &["add", "gone.txt"]);
        let repair = repair(&Git::new(false), &dir, &intent(&from, &to), &any_time()).unwrap();
        assert_eq!(
            repair,
            Repair::PutBack {
                put_back: 5,
                kept: ["added.txt", "dir", "dir/inner.txt", "file", "gone.txt"]
                    .map(|p| p.as_bytes().to_vec())
                    .to_vec()
            }
        );
        let tree = tree(&dir);
        for line in [
            "modified.txt 0 \"from\\n\"",
            "second.txt 0 \"from 2\\n\"",
            "same.txt 0 \"mine\\n\"",
            "added.txt 0 \"mine too\\n\"",
            "dir 111 \"now a file\\n\"",
            "file/now/mine.txt 0 \"mine\\n\"",
            "gone.txt 0 \"staged\\n\"",
            "script.sh 0 \"echo\\n\"",
            "link -> same.txt",
        ] {
            assert!(tree.contains(&line.to_string()), "{line} not in {tree:#?}");
        }
        // git's own file there goes, though the folder holding it stays.
        assert!(!dir.join("file/now/deep.txt").exists());
    }

    #[test]
    fn a_checkout_stopped_between_index_and_head_gets_its_head_moved() {
        let (_tmp, dir, from, to) = repository();
        git(&dir, &["checkout", "-q", "--detach", to.as_str()]);
        git(&dir, &["update-ref", "--no-deref", "HEAD", from.as_str()]);
        let files = tree(&dir);
        let git_runner = Git::new(false);
        assert_eq!(
            repair(&git_runner, &dir, &intent(&from, &to), &any_time()).unwrap(),
            Repair::HeadMoved { from: from.clone() }
        );
        assert_eq!(git(&dir, &["rev-parse", "HEAD"]), to.as_str());
        assert_eq!(tree(&dir), files);
        assert_eq!(git(&dir, &["status", "--porcelain"]), "");
        // Done: a second look finds nothing to do.
        assert_eq!(
            repair(&git_runner, &dir, &intent(&from, &to), &any_time()).unwrap(),
            Repair::Nothing
        );
    }

    /// Asserts that the repair of `from` -> `to` in `dir` finds nothing to
    /// do and changes no file.
    fn assert_leaves_alone(dir: &Path, from: &CommitId, to: &CommitId) {
        let files = tree(dir);
        assert_eq!(
            repair(&Git::new(false), dir, &intent(from, to), &any_time()).unwrap(),
            Repair::Nothing
        );
        assert_eq!(tree(dir), files);
    }

    #[test]
    fn a_checkout_cut_before_it_wrote_anything_leaves_nothing_to_say() {
        // `from` has a folder `dir` where `to` has a file: untouched, the
        // folder is `from`'s, not a file someone changed.
        let (_tmp, dir, from, to) = repository();
        assert_leaves_alone(&dir, &from, &to);
    }

    #[test]
    fn a_repository_without_an_index_is_not_this_repairs() {
        let (_tmp, dir, from, to) = repository();
        write_all_of_to(&dir, &from, &to);
        std::fs::remove_file(dir.join(".git/index")).unwrap();
        assert_leaves_alone(&dir, &from, &to);
    }

    #[test]
    fn an_empty_folder_the_checkout_made_where_from_has_a_file_goes_and_the_file_comes_back() {
        let (_tmp, dir, from, to) = repository();
        // Cut short just after git replaced the file `file` by the folder
        // `to` has there, before writing anything into it.
        std::fs::remove_file(dir.join("file")).unwrap();
        std::fs::create_dir(dir.join("file")).unwrap();
        let repair = repair(&Git::new(false), &dir, &intent(&from, &to), &any_time()).unwrap();
        assert_eq!(
            repair,
            Repair::PutBack {
                put_back: 1,
                kept: vec![]
            }
        );
        assert_eq!(std::fs::read_to_string(dir.join("file")).unwrap(), "a file\n");
        assert_eq!(git(&dir, &["status", "--porcelain"]), "");
    }

    #[test]
    fn a_repository_whose_head_moved_on_is_left_alone() {
        let (_tmp, dir, from, to) = repository();
        write_all_of_to(&dir, &from, &to);
        let other = CommitId::new(&git(&dir, &["commit-tree", "-m", "x", "HEAD^{tree}"])).unwrap();
        git(&dir, &["update-ref", "--no-deref", "HEAD", other.as_str()]);
        assert_leaves_alone(&dir, &from, &to);
    }
}
