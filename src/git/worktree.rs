//! What the files of a working tree hold next to two commits and the
//! index, and putting paths back from the index: the git side of
//! repairing a checkout an interrupted run cut short (`exec/cut_checkout.rs`).
//! Paths are raw bytes, as git keeps them: a path that is not UTF-8 must
//! still name its own file.

use std::path::Path;

use super::command::{nul_paths_input, stdin_paths_input};
use super::{Git, GitResult};
use crate::model::types::CommitId;

/// One side of a [`TreeChange`]: a tree entry's mode and object id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    /// `0o100644`, `0o100755`, `0o120000` (a symlink) or `0o160000` (a
    /// submodule).
    pub mode: u32,
    /// The blob (or, for a submodule, commit) id.
    pub oid: String,
}

impl TreeEntry {
    /// Whether the entry is a submodule (a gitlink).
    pub fn is_gitlink(&self) -> bool {
        self.mode == 0o160000
    }

    /// Whether the entry is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.mode == 0o120000
    }

    /// Whether the entry is an executable file.
    pub fn is_executable(&self) -> bool {
        self.mode == 0o100755
    }
}

/// A path whose entry differs between two commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeChange {
    /// The path, relative to the repository's top.
    pub path: Vec<u8>,
    /// The entry in the first commit, `None` when the second adds it.
    pub old: Option<TreeEntry>,
    /// The entry in the second commit, `None` when it deletes it.
    pub new: Option<TreeEntry>,
}

/// An entry of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// Mode and object id.
    pub entry: TreeEntry,
    /// 0, or 1 to 3 for the sides of a merge conflict.
    pub stage: u8,
    /// Marked skip-worktree (outside a sparse checkout): git does not
    /// write its file.
    pub skip_worktree: bool,
}

impl Git {
    /// The paths whose entries differ between the commits `from` and `to`
    /// (`git diff-tree -r -z --no-renames FROM TO`).
    pub fn tree_changes(&self, repo: &Path, from: &CommitId, to: &CommitId) -> GitResult<Vec<TreeChange>> {
        let cmd = Self::tree_changes_cmd(repo, from, to);
        Ok(parse_tree_changes(&self.raw(&cmd)?.stdout))
    }

    /// Every entry of the index of `repo` (`git ls-files --stage -t -z`),
    /// by path.
    pub fn index_entries(&self, repo: &Path) -> GitResult<std::collections::BTreeMap<Vec<u8>, IndexEntry>> {
        let cmd = Self::index_entries_cmd(repo);
        Ok(parse_index_entries(&self.raw(&cmd)?.stdout))
    }

    /// Whether the index of `repo` holds exactly the tree of `commit`
    /// (`git diff-index --cached --quiet COMMIT --`; the files are not
    /// looked at).
    pub fn index_holds_tree_of(&self, repo: &Path, commit: &CommitId) -> GitResult<bool> {
        let cmd = Self::index_differs_cmd(repo, commit);
        Ok(self.answer(&cmd, 1)?.is_some())
    }

    /// The blob id each regular file at `paths` (relative to the top of
    /// `repo`) would get if added, after the clean filters and end-of-line
    /// conversion its attributes ask for: what `git status` compares with
    /// the index (`git hash-object --stdin-paths`). Every path must name a
    /// regular file.
    pub fn hash_worktree_files(&self, repo: &Path, paths: &[Vec<u8>]) -> GitResult<Vec<String>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let cmd = Self::hash_paths_cmd(repo);
        let out = self.run_with_input(&cmd, stdin_paths_input(paths))?;
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_string())
            .collect();
        if ids.len() != paths.len() {
            return Err(self.failed(
                &cmd,
                format!("{} ids for {} files", ids.len(), paths.len()),
                out.status.code(),
            ));
        }
        Ok(ids)
    }

    /// The content of the blob `oid` (`git cat-file blob OID`).
    pub fn blob(&self, repo: &Path, oid: &str) -> GitResult<Vec<u8>> {
        let cmd = Self::blob_cmd(repo, oid);
        Ok(self.raw(&cmd)?.stdout)
    }

    /// Writes the files at `paths` as the index of `repo` has them
    /// (`git checkout-index --force -z --stdin`): a file there is replaced,
    /// and a missing folder on the way made. The caller makes sure no
    /// folder and nothing but folders on the way is there (git would
    /// remove them).
    pub fn restore_from_index(&self, repo: &Path, paths: &[Vec<u8>]) -> GitResult<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let cmd = Self::restore_from_index_cmd(repo);
        self.run_with_input(&cmd, nul_paths_input(paths))?;
        Ok(())
    }

    /// Detaches HEAD at `to` if it is at `from`, changing neither index nor
    /// files: the last step of a checkout that wrote them (`git update-ref
    /// --no-deref -m MSG HEAD TO FROM`).
    pub fn finish_head_move(&self, repo: &Path, from: &CommitId, to: &CommitId) -> GitResult<()> {
        self.run(&Self::finish_head_move_cmd(repo, from, to))
    }
}

/// The records of `git diff-tree -r -z` (raw format):
/// `:OLDMODE NEWMODE OLDID NEWID STATUS<NUL>PATH<NUL>` each.
fn parse_tree_changes(out: &[u8]) -> Vec<TreeChange> {
    let mut changes = Vec::new();
    let mut fields = out.split(|&b| b == 0);
    while let Some(meta) = fields.next() {
        let Some(meta) = meta.strip_prefix(b":") else {
            continue;
        };
        let Some(path) = fields.next() else {
            break;
        };
        let meta = String::from_utf8_lossy(meta);
        let parts: Vec<&str> = meta.split(' ').collect();
        if parts.len() < 5 || path.is_empty() {
            continue;
        }
        let side = |mode: &str, oid: &str| {
            let mode = u32::from_str_radix(mode, 8).ok()?;
            (mode != 0).then(|| TreeEntry {
                mode,
                oid: oid.to_string(),
            })
        };
        changes.push(TreeChange {
            path: path.to_vec(),
            old: side(parts[0], parts[2]),
            new: side(parts[1], parts[3]),
        });
    }
    changes
}

/// The records of `git ls-files --stage -t -z`:
/// `TAG MODE ID STAGE<TAB>PATH<NUL>` each (`S` tags skip-worktree).
fn parse_index_entries(out: &[u8]) -> std::collections::BTreeMap<Vec<u8>, IndexEntry> {
    let mut entries = std::collections::BTreeMap::new();
    for record in out.split(|&b| b == 0) {
        let Some(tab) = record.iter().position(|&b| b == b'\t') else {
            continue;
        };
        let (meta, path) = (String::from_utf8_lossy(&record[..tab]), &record[tab + 1..]);
        let parts: Vec<&str> = meta.split(' ').collect();
        let [tag, mode, oid, stage] = parts[..] else {
            continue;
        };
        let (Ok(mode), Ok(stage)) = (u32::from_str_radix(mode, 8), stage.parse::<u8>()) else {
            continue;
        };
        entries.insert(
            path.to_vec(),
            IndexEntry {
                entry: TreeEntry {
                    mode,
                    oid: oid.to_string(),
                },
                stage,
                skip_worktree: tag == "S",
            },
        );
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "286c5f5776916d7d7d5849988ca9d83e722cf9c2";
    const B: &str = "c9c6af7f78bc47490dbf3e822cf2f3c24d4b9061";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn tree_changes_are_read_from_raw_diff_tree_output() {
        let out = format!(
            ":100644 000000 {A} {Z} D\0gone\0:100644 100755 {A} {B} M\0dir/with\ttab\0\
             :000000 120000 {Z} {B} A\0link\0:160000 160000 {A} {B} M\0third_party/x\0"
        );
        let entry = |mode, oid: &str| TreeEntry {
            mode,
            oid: oid.to_string(),
        };
        assert_eq!(
            parse_tree_changes(out.as_bytes()),
            [
                TreeChange {
                    path: b"gone".to_vec(),
                    old: Some(entry(0o100644, A)),
                    new: None
                },
                TreeChange {
                    path: b"dir/with\ttab".to_vec(),
                    old: Some(entry(0o100644, A)),
                    new: Some(entry(0o100755, B))
                },
                TreeChange {
                    path: b"link".to_vec(),
                    old: None,
                    new: Some(entry(0o120000, B))
                },
                TreeChange {
                    path: b"third_party/x".to_vec(),
                    old: Some(entry(0o160000, A)),
                    new: Some(entry(0o160000, B))
                },
            ]
        );
        assert!(parse_tree_changes(b"").is_empty());
    }

    #[test]
    fn index_entries_keep_their_stage_and_skip_worktree_tag() {
        let out = format!("H 100644 {A} 0\ta\0S 100755 {B} 0\tsparse/b\0M 100644 {A} 2\tc\n\0");
        let entries = parse_index_entries(out.as_bytes());
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[b"sparse/b".as_slice()],
            IndexEntry {
                entry: TreeEntry {
                    mode: 0o100755,
                    oid: B.to_string()
                },
                stage: 0,
                skip_worktree: true
            }
        );
        assert!(!entries[b"a".as_slice()].skip_worktree);
        assert_eq!(entries[b"c\n".as_slice()].stage, 2);
    }
}
