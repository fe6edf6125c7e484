//! `roll --commit [--branch NAME]`: commit the files a roll changed, with
//! its message. Everything that would make the commit wrong is checked
//! before the roll writes a file: a git operation under way, a branch name
//! that is taken, a detached HEAD without `--branch`, and uncommitted
//! changes that are not the roll's (they would be mixed into its commit, or
//! the roll's edits into theirs).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::Context;
use crate::model::registry::Project;
use crate::model::text::escape_control;
use crate::model::types::BranchName;
use crate::plan::roll::commit_roll;

/// The branch `--branch` names, validated before anything runs.
pub fn branch(name: Option<&str>) -> Result<Option<BranchName>> {
    name.map(|name| {
        BranchName::new(name)
            .map_err(|e| anyhow::anyhow!("--branch: {e}; name a branch git accepts (`roll/nightly`)"))
    })
    .transpose()
}

/// Refuses the commit, before any file is written, when the checkout at
/// `repo` is not in a state to take it. `paths` are the files the roll
/// will write, relative to `repo`.
pub fn check(
    ctx: &Context,
    project: &Project,
    repo: &Path,
    branch: Option<&BranchName>,
    paths: &[PathBuf],
) -> Result<()> {
    let name = &project.name;
    if let Some(git_dir) = crate::git::git_dir_of(repo) {
        if let Some((operation, _)) = crate::git::operations_in(&git_dir).first() {
            bail!(
                "{name}: {} is under way in {}; finish or abort it, then roll again (nothing was changed)",
                operation.name(),
                repo.display()
            );
        }
    }
    match branch {
        Some(branch) if ctx.git.branch_exists(repo, branch)? => bail!(
            "{name}: branch {branch} already exists; name a new one with --branch, or check it out and roll with --commit alone (nothing was changed)"
        ),
        Some(_) => {}
        None if ctx.git.current_branch(repo)?.is_none() => bail!(
            "{name}: HEAD is detached in {}; name a branch to commit on with --branch NAME (nothing was changed)",
            repo.display()
        ),
        None => {}
    }
    let others: Vec<String> = ctx
        .git
        .changed_paths(repo)?
        .into_iter()
        .filter(|change| !change.untracked() || paths.contains(&change.path))
        .map(|change| format!("{} ({})", change.path.display(), describe(&change.status)))
        .collect();
    if !others.is_empty() {
        bail!(
            "{name} has uncommitted changes, which would be mixed with the roll's: {}\n  \
             commit them, or put them aside (`git -C {} stash --include-untracked`), then roll again (nothing was changed)",
            escape_control(&others.join(", "), false),
            repo.display()
        );
    }
    Ok(())
}

/// Commits `paths` with `message` (with `--dry-run`, prints the git
/// commands instead); returns the new commit, `None` under `--dry-run`.
pub fn commit(
    ctx: &Context,
    project: &Project,
    repo: &Path,
    branch: Option<BranchName>,
    paths: Vec<PathBuf>,
    message: String,
) -> Result<Option<crate::model::types::CommitId>> {
    let plan = commit_roll(&project.name, repo, branch, paths, message);
    if ctx.dry_run {
        super::print_commands(ctx, plan.lines());
        return Ok(None);
    }
    crate::exec::run_project(&ctx.git, &ctx.reporter, ctx.jobs, &plan).map_err(|e| {
        e.context(format!(
            "{}: the roll's files are written but could not be committed; commit them by hand",
            project.name
        ))
    })?;
    Ok(ctx.git.head_commit(repo)?)
}

/// What `git status --porcelain`'s two letters say, in words.
fn describe(status: &str) -> &'static str {
    match status {
        "??" => "untracked",
        s if s.contains('U') || s == "AA" || s == "DD" => "conflicted",
        s if s.starts_with(['A', 'M', 'D', 'R', 'C', 'T']) && s.ends_with(' ') => "staged",
        s if s.ends_with('D') => "deleted",
        _ => "modified",
    }
}
