//! The check that runs before a command moves any checkout: a git
//! operation the user has under way (a rebase stopped to edit a commit, a
//! merge, a cherry-pick, a bisect…) in a project or submodule the run
//! would move refuses the whole run, before anything changes, with one
//! message per project saying what is under way and how to end it.
//! `status` shows the same operations.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use regex::Regex;

use super::Context;
use crate::git::{git_dir_of, operations_in, Operation};
use crate::model::registry::Registry;
use crate::model::types::RepoName;
use crate::model::workspace::Workspace;

/// An operation under way in a checkout or one of its submodules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderWay {
    /// The submodule's path in the checkout; `None` for the checkout.
    pub submodule: Option<String>,
    /// Its working tree.
    pub worktree: PathBuf,
    /// What is under way there.
    pub operation: Operation,
    /// The file or folder of its git directory that says so.
    pub marker: &'static str,
}

impl UnderWay {
    /// `rebase`, or `rebase in third_party/x`, for `status`.
    pub fn short(&self) -> String {
        match &self.submodule {
            None => self.operation.key().to_string(),
            Some(path) => format!("{} in {path}", self.operation.key()),
        }
    }
}

/// Refuses the run (an error naming every project, what is under way and
/// how to end it) when an operation is under way in a project it would
/// move: the deps of `roots` through the registry, minus `exclude_dep`,
/// that are checked out, and the submodules of those with submodules,
/// minus `exclude_submodule`. Roots are never moved, so not looked at.
pub fn refuse_if_under_way(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    roots: &[RepoName],
    exclude: (&[Regex], &[Regex]),
    command: &str,
) -> Result<()> {
    let (exclude_dep, exclude_submodule) = exclude;
    let excluded = |n: &RepoName| crate::model::exclude::matching(exclude_dep, n.as_str()).is_some();
    let mut refused = Vec::new();
    for name in registry.closure(roots, true, excluded) {
        if roots.contains(&name) {
            continue;
        }
        let dir = workspace.project_dir(&name);
        if git_dir_of(&dir).is_none() {
            continue; // cloned by the run, if at all
        }
        let with_submodules = registry.get(&name).is_some_and(|p| p.submodules);
        // Submodules from the files alone (`.git/modules`): a sync with
        // nothing to do starts no git process for this check.
        let keep = |path: &str| {
            crate::model::exclude::matching(exclude_submodule, &format!("{name}:{path}")).is_none()
        };
        let found = under_way(&dir, with_submodules, &[], &keep);
        if !found.is_empty() {
            ctx.reporter.error(&message(&name, &found, command));
            refused.push(name.to_string());
        }
    }
    let (which, each) = match refused.len() {
        0 => return Ok(()),
        1 => ("a project it would move", "it"),
        _ => ("projects it would move", "each"),
    };
    bail!(
        "{command} changed nothing: a git operation is under way in {which} ({}); end {each} as said above, \
         then run {command} again",
        refused.join(", "),
    )
}

/// The operations under way in the checkout `dir` and, with `submodules`,
/// in its submodules that `keep` does not leave out: those at `gitlinks`
/// (paths in the checkout) and every repository in its `.git/modules`.
/// Read from the files; no git process.
pub fn under_way(
    dir: &Path,
    submodules: bool,
    gitlinks: &[String],
    keep: &dyn Fn(&str) -> bool,
) -> Vec<UnderWay> {
    let Some(git_dir) = git_dir_of(dir) else {
        return Vec::new();
    };
    let mut found: Vec<UnderWay> = operations_in(&git_dir)
        .into_iter()
        .map(|(operation, marker)| UnderWay {
            submodule: None,
            worktree: dir.to_path_buf(),
            operation,
            marker,
        })
        .collect();
    if !submodules {
        return found;
    }
    let mut paths: Vec<String> = gitlinks.to_vec();
    paths.extend(crate::exec::submodules::module_names(&git_dir.join("modules")));
    paths.sort();
    paths.dedup();
    for path in paths.iter().filter(|p| keep(p)) {
        let worktree = dir.join(path);
        // A submodule checked out has its git directory where its `.git`
        // says; one that is not, only its repository in `.git/modules`.
        let sub_git_dir = git_dir_of(&worktree).unwrap_or_else(|| git_dir.join("modules").join(path));
        for (operation, marker) in operations_in(&sub_git_dir) {
            found.push(UnderWay {
                submodule: Some(path.clone()),
                worktree: worktree.clone(),
                operation,
                marker,
            });
        }
    }
    found
}

/// One project's refusal: each operation under way in it, where, and how
/// to end it.
fn message(project: &RepoName, found: &[UnderWay], command: &str) -> String {
    let lines: Vec<String> = found
        .iter()
        .map(|u| {
            let what = match &u.submodule {
                None => String::new(),
                Some(path) => format!("submodule {}: ", crate::model::text::escape_control(path, false)),
            };
            format!(
                "{what}{} is under way in {} ({} in its git directory); {} there",
                u.operation.name(),
                u.worktree.display(),
                u.marker,
                u.operation.how_to_end()
            )
        })
        .collect();
    let body = if lines.len() == 1 {
        lines[0].clone()
    } else {
        format!("\n  {}", lines.join("\n  "))
    };
    format!("{project}: {command} would move it, but {body}")
}
