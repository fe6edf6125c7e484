//! What `roll --message`, `--commit` and `--json` tell of each moved pin:
//! the commits between the old and the new pin, read from the dep's
//! checkout in the workspace. A pin the checkout lacks is fetched first,
//! through the executor like every other fetch (printed instead with
//! `--dry-run`); what cannot be known is said to be unknown, never guessed.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::Context;
use crate::exec::step::ProjectPlan;
use crate::model::registry::{Project, Registry};
use crate::model::types::CommitId;
use crate::model::workspace::Workspace;
use crate::plan::roll::{fetch_history, DepRoll, History};

/// A pin a roll moved: the dep, its old and its new commit.
pub struct MovedPin<'a> {
    pub dep: &'a Project,
    pub from: CommitId,
    pub to: CommitId,
}

/// Where the history of one moved pin can be read, once looked at.
enum Checkout {
    /// In this folder, which lacks the listed commits.
    At(PathBuf, Vec<CommitId>),
    /// Nowhere: why.
    Unknown(String),
}

/// The history of every moved pin, in order: looks at each dep's checkout,
/// fetches the pins it lacks, then reads the log between them.
pub fn tell(
    ctx: &Context,
    workspace: &Workspace,
    registry: &Registry,
    moved: &[MovedPin],
) -> Result<Vec<DepRoll>> {
    let executor = ctx.executor()?;
    let looked = executor.map(moved, |_| None, |pin| look(ctx, workspace, pin));
    let fetches: Vec<ProjectPlan> = moved
        .iter()
        .zip(&looked)
        .filter_map(|(pin, checkout)| match checkout {
            Checkout::At(repo, missing) if !missing.is_empty() => Some(fetch_history(pin.dep, repo, missing)),
            _ => None,
        })
        .collect();
    let fetch_failed = fetch(ctx, registry, &fetches)?;
    let items: Vec<(&MovedPin, Checkout)> = moved.iter().zip(looked).collect();
    Ok(executor.map(
        &items,
        |_| None,
        |(pin, checkout)| {
            let history = match checkout {
                Checkout::Unknown(why) => History::Unknown(why.clone()),
                Checkout::At(repo, missing) if !missing.is_empty() => {
                    still_missing(ctx, pin, repo, fetch_failed.contains(&pin.dep.name))
                        .map_or_else(|| read_history(ctx, pin, repo), History::Unknown)
                }
                Checkout::At(repo, _) => read_history(ctx, pin, repo),
            };
            DepRoll {
                dep: pin.dep.name.clone(),
                from: pin.from.clone(),
                to: pin.to.clone(),
                history,
            }
        },
    ))
}

/// The dep's checkout and the pins it lacks.
fn look(ctx: &Context, workspace: &Workspace, pin: &MovedPin) -> Checkout {
    let repo = workspace.project_dir(&pin.dep.name);
    if !repo.join(".git").exists() {
        return Checkout::Unknown(format!("no checkout of {} in the workspace", pin.dep.name));
    }
    match lacking(ctx, pin, &repo) {
        Ok(missing) => Checkout::At(repo, missing),
        Err(e) => Checkout::Unknown(format!(
            "git could not read the checkout of {}: {}",
            pin.dep.name,
            first_line(&e.to_string())
        )),
    }
}

/// The pins of `pin` that the checkout at `repo` lacks.
fn lacking(ctx: &Context, pin: &MovedPin, repo: &Path) -> crate::git::GitResult<Vec<CommitId>> {
    let present = ctx.git.commits_present(repo, &[&pin.from, &pin.to])?;
    let pins = [&pin.from, &pin.to].into_iter().zip(present);
    Ok(pins
        .filter(|(_, present)| !present)
        .map(|(commit, _)| commit.clone())
        .collect())
}

/// Runs (or with `--dry-run` prints) the fetches; returns the deps whose
/// fetch failed, each warned about.
fn fetch(
    ctx: &Context,
    registry: &Registry,
    plans: &[ProjectPlan],
) -> Result<Vec<crate::model::types::RepoName>> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    if ctx.dry_run {
        super::print_commands(ctx, plans.iter().flat_map(ProjectPlan::lines));
        return Ok(Vec::new());
    }
    let host = |plan: &ProjectPlan| {
        registry
            .get(&plan.project)
            .and_then(|p| p.ro_url.host().map(str::to_string))
    };
    let results = ctx.executor()?.map(plans, host, |plan| {
        crate::exec::run_project(&ctx.git, &ctx.reporter, ctx.jobs, plan)
    });
    let mut failed = Vec::new();
    for (plan, result) in plans.iter().zip(results) {
        if let Err(e) = result {
            ctx.reporter.warn(&format!(
                "{}: could not fetch the history between its pins: {e:#}",
                plan.project
            ));
            failed.push(plan.project.clone());
        }
    }
    Ok(failed)
}

/// Why the history of `pin` is unknown when the checkout at `repo` still
/// lacks a pin after the fetches; `None` when it now holds both.
fn still_missing(ctx: &Context, pin: &MovedPin, repo: &Path, fetch_failed: bool) -> Option<String> {
    // A checkout git cannot read lacks them both, as far as anyone can tell.
    let lacking = lacking(ctx, pin, repo).unwrap_or_else(|_| vec![pin.from.clone(), pin.to.clone()]);
    let lacking: Vec<&str> = lacking.iter().map(CommitId::short).collect();
    if lacking.is_empty() {
        return None;
    }
    let dep = &pin.dep.name;
    let lacking = lacking.join(" and ");
    Some(if ctx.dry_run {
        format!("the checkout of {dep} lacks {lacking} (a run without --dry-run fetches it)")
    } else if fetch_failed {
        format!("the checkout of {dep} lacks {lacking}, and fetching it failed")
    } else {
        format!("the checkout of {dep} lacks {lacking}, which its origin did not send")
    })
}

/// The commits between the pins, read from a checkout that holds both.
fn read_history(ctx: &Context, pin: &MovedPin, repo: &Path) -> History {
    let git = &ctx.git;
    let (from, to) = (&pin.from, &pin.to);
    let read = || -> crate::git::GitResult<History> {
        if git.commit_is_ancestor(repo, from, to)? {
            return Ok(History::Forward(git.log_range(repo, from, to)?));
        }
        if git.commit_is_ancestor(repo, to, from)? {
            return Ok(History::Backward(git.log_range(repo, to, from)?));
        }
        // In a shallow checkout, unrelated-looking pins may only be cut off
        // from each other: git cannot see the history between them.
        if crate::git::git_dir_of(repo).is_some_and(|d| d.join("shallow").exists()) {
            return Ok(History::Unknown(format!(
                "the shallow checkout of {} does not hold the history between them",
                pin.dep.name
            )));
        }
        Ok(History::Diverged {
            added: git.log_range(repo, from, to)?,
            dropped: git.log_range(repo, to, from)?.len(),
        })
    };
    read().unwrap_or_else(|e| {
        History::Unknown(format!(
            "git could not read the history of {}: {}",
            pin.dep.name,
            first_line(&e.to_string())
        ))
    })
}

/// The first line of an error, for a message that holds it in a
/// parenthesis.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
