//! Submodules as git sees them: where each stands against the commit its
//! superproject records (read from the index and the submodules' own
//! files), the URLs they are cloned from, and their clones. What to do
//! with them is `exec/submodules.rs`.

use std::path::Path;

use super::files::{read_head, Head};
use super::run::checkout_log;
use super::{git_dir_of, Git, GitCommand, GitResult, SubmoduleClone};
use crate::model::types::CommitId;

/// Where a submodule stands against the commit its superproject records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmoduleState {
    /// Not initialised.
    Uninitialised,
    /// Checked out at the recorded commit.
    AtRecorded,
    /// Checked out elsewhere, or in a merge conflict.
    Elsewhere,
}

/// A submodule of a checkout: a gitlink in its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmoduleEntry {
    /// Its path in the superproject.
    pub path: String,
    /// Where it stands.
    pub state: SubmoduleState,
    /// The commit the superproject's index records for it.
    pub recorded: CommitId,
}

impl Git {
    /// Clones the uninitialised submodule at `path` of `repo` and checks
    /// out `commit`, the commit the superproject records for it (see
    /// [`Git::submodule_update_cmd`]). That checkout is recorded in the
    /// [`super::CheckoutLog`] first, as the tool's own are: git makes it last, in
    /// a new clone or in a repository an earlier removal left in
    /// `.git/modules`. `url`, the submodule's URL, says which host it
    /// talks to: none starts to a host the run found shut.
    pub fn submodule_update(
        &self,
        repo: &Path,
        path: &str,
        commit: &CommitId,
        url: Option<&str>,
        opts: &SubmoduleClone,
    ) -> GitResult<()> {
        let cmd = Self::submodule_update_cmd(repo, path, opts);
        self.to_host(url.unwrap_or_default(), &cmd, || {
            let Some(log) = checkout_log() else {
                return self.run(&cmd);
            };
            let module = git_dir_of(repo).map(|d| d.join("modules").join(path));
            let from = match module.filter(|m| m.join("HEAD").is_file()) {
                Some(module) => self.head_of_git_dir(&module)?,
                None => None,
            };
            self.run_recorded(cmd.clone(), log.as_ref(), &repo.join(path), from.as_ref(), commit)
        })
    }

    /// Records the URLs of the submodules at `paths`; see
    /// [`Git::submodule_init_cmd`].
    pub fn submodule_init(&self, repo: &Path, paths: &[String]) -> GitResult<()> {
        self.run(&Self::submodule_init_cmd(repo, paths))
    }

    /// The URLs git will clone the submodules at `paths` of `repo` from,
    /// by path, once [`Git::submodule_init`] has recorded them: read from
    /// the configuration, with the names `.gitmodules` gives the paths.
    /// Paths without a URL are left out.
    pub fn submodule_urls(
        &self,
        repo: &Path,
        paths: &[String],
    ) -> GitResult<std::collections::BTreeMap<String, String>> {
        // Exit 1: no such key at all.
        let list = |cmd: GitCommand| -> GitResult<Vec<(String, String)>> {
            Ok(parse_config_z(&self.answer(&cmd, 1)?.unwrap_or_default()))
        };
        let names = list(Self::submodule_paths_cmd(repo))?;
        let urls = list(Self::submodule_urls_cmd(repo))?;
        Ok(urls_by_path(&names, &urls, paths))
    }

    /// Every submodule of the checkout in `repo` and where it stands, as
    /// `git submodule status` tells, for one `git ls-files` (that script
    /// starts a dozen processes, `git describe` among them): the recorded
    /// commits come from the index, each submodule's HEAD from its files,
    /// and only a submodule on a branch costs a `git rev-parse`.
    pub fn submodule_status(&self, repo: &Path) -> GitResult<Vec<SubmoduleEntry>> {
        let out = self.output(&Self::staged_entries_cmd(repo))?;
        let mut entries = Vec::new();
        for (path, recorded) in parse_gitlinks(&out) {
            let worktree = repo.join(&path);
            let state = match git_dir_of(&worktree) {
                None => SubmoduleState::Uninitialised,
                Some(git_dir) => {
                    let head = match read_head(&git_dir) {
                        Head::Detached(commit) => Some(commit),
                        Head::Unknown => None,
                        Head::Symbolic => self.head_commit(&worktree).unwrap_or(None),
                    };
                    if head.as_ref() == Some(&recorded) {
                        SubmoduleState::AtRecorded
                    } else {
                        SubmoduleState::Elsewhere
                    }
                }
            };
            entries.push(SubmoduleEntry {
                path,
                state,
                recorded,
            });
        }
        Ok(entries)
    }
}

/// The gitlinks (mode 160000 entries) in `git ls-files --stage -z`
/// output: `MODE SHA STAGE<TAB>PATH<NUL>` per entry.
fn parse_gitlinks(out: &str) -> Vec<(String, CommitId)> {
    out.split('\0')
        .filter_map(|entry| {
            let (meta, path) = entry.split_once('\t')?;
            let mut fields = meta.split(' ');
            let (mode, oid) = (fields.next()?, fields.next()?);
            if mode != "160000" {
                return None;
            }
            Some((path.to_string(), CommitId::new(oid).ok()?))
        })
        .collect()
}

/// The URL of each submodule at one of `paths`, from `names`, the
/// `submodule.NAME.path` settings of `.gitmodules`, and `urls`, the
/// `submodule.NAME.url` settings of the configuration (both as
/// [`parse_config_z`] reads them). Paths without a URL are left out.
fn urls_by_path(
    names: &[(String, String)],
    urls: &[(String, String)],
    paths: &[String],
) -> std::collections::BTreeMap<String, String> {
    let name_of = |key: &str, suffix: &str| {
        key.strip_prefix("submodule.")
            .and_then(|k| k.strip_suffix(suffix))
            .map(str::to_string)
    };
    let mut by_path = std::collections::BTreeMap::new();
    for (key, path) in names {
        let Some(name) = name_of(key, ".path") else {
            continue;
        };
        if !paths.contains(path) {
            continue;
        }
        if let Some((_, url)) = urls
            .iter()
            .find(|(k, _)| name_of(k, ".url").as_deref() == Some(&name))
        {
            by_path.insert(path.clone(), url.clone());
        }
    }
    by_path
}

/// The `KEY NEWLINE VALUE NUL` records of `git config -z --get-regexp`.
fn parse_config_z(out: &str) -> Vec<(String, String)> {
    out.split('\0')
        .filter(|r| !r.is_empty())
        .map(|record| match record.split_once('\n') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (record.to_string(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlinks_are_read_from_ls_files_stage_output() {
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        let out =
            format!("100644 {b} 0\tREADME.md\0160000 {a} 0\tthird_party/x\0160000 {b} 0\todd path (1)\0");
        let found: Vec<(String, String)> = parse_gitlinks(&out)
            .into_iter()
            .map(|(p, c)| (p, c.to_string()))
            .collect();
        assert_eq!(
            found,
            [("third_party/x".to_string(), a), ("odd path (1)".to_string(), b)]
        );
    }

    #[test]
    fn config_z_records_keep_newlines_and_spaces_in_values() {
        // `git config -z --get-regexp` as captured from git 2.47, and a
        // value holding a newline (only the first one ends the key).
        let out = "submodule.third_party/sub.path\nthird_party/sub\0\
                   submodule.odd.url\n/tmp/a b\nc\0submodule.flag\0";
        assert_eq!(
            parse_config_z(out),
            [
                (
                    "submodule.third_party/sub.path".to_string(),
                    "third_party/sub".to_string()
                ),
                ("submodule.odd.url".to_string(), "/tmp/a b\nc".to_string()),
                // A key without a value (`[submodule] flag`).
                ("submodule.flag".to_string(), String::new()),
            ]
        );
        assert!(parse_config_z("").is_empty());
    }

    #[test]
    fn submodule_urls_are_found_through_the_names_gitmodules_gives_their_paths() {
        let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        // The name differs from the path; one path has no URL yet; one
        // URL belongs to a submodule nobody asked about.
        let names = pairs(&[
            ("submodule.sub.path", "third_party/sub"),
            ("submodule.other.path", "third_party/other"),
            ("submodule.skipped.path", "skipped"),
        ]);
        let urls = pairs(&[
            ("submodule.skipped.url", "https://example.com/skipped.git"),
            ("submodule.sub.url", "https://example.com/sub.git"),
            ("submodule.third_party/other.url", "https://example.com/wrong.git"),
        ]);
        let wanted = ["third_party/sub".to_string(), "third_party/other".to_string()];
        let found = urls_by_path(&names, &urls, &wanted);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            [(
                "third_party/sub".to_string(),
                "https://example.com/sub.git".to_string()
            )]
        );
    }
}
