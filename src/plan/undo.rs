//! What `undo` does: from a record of where projects stood and the facts
//! of where they stand now, the moves that put them back, or every reason
//! not to. All or nothing: one refusal and nothing moves.

use std::path::PathBuf;

use crate::exec::step::{ProjectPlan, Step};
use crate::model::types::{BranchName, CommitId, RepoName};
use crate::model::undo::ValidStand;

/// Where a project (or a submodule) stands now, as `undo` needs to know.
#[derive(Clone, Debug, Default)]
pub struct Now {
    /// Its folder is a checkout.
    pub exists: bool,
    /// HEAD's commit, and the local branch HEAD is on.
    pub head: Option<CommitId>,
    pub branch: Option<String>,
    /// Uncommitted changes to tracked files.
    pub changed: usize,
    /// Git operations under way there, each with where and how to end it.
    pub under_way: Vec<String>,
    /// The commit to put back is in its object store.
    pub has_commit: bool,
    /// Where the recorded branch points now (`None`: no such branch).
    pub branch_at: Option<CommitId>,
    /// HEAD, when it is a detached commit that moving would leave
    /// unreachable (no ref contains it; for a submodule, nor did its
    /// superproject ever record it).
    pub orphan: Option<CommitId>,
}

/// A project of the record, now: itself, and each recorded submodule.
#[derive(Clone, Debug)]
pub struct ProjectNow {
    /// The project's checkout.
    pub dir: PathBuf,
    pub project: Now,
    /// In the record's order.
    pub submodules: Vec<Now>,
}

/// The moves, or why there are none.
#[derive(Debug, Default)]
pub struct UndoPlan {
    /// One plan per project that moves: the project, then its submodules.
    pub plans: Vec<ProjectPlan>,
    /// Every reason the undo is refused, one line each.
    pub refusals: Vec<String>,
    /// Projects already where the record says.
    pub in_place: Vec<RepoName>,
}

/// Plans putting each of `stands` back, given where each stands `now`.
pub fn plan(stands: &[ValidStand], now: &[ProjectNow]) -> UndoPlan {
    let mut out = UndoPlan::default();
    for (stand, now) in stands.iter().zip(now) {
        let mut steps = Vec::new();
        let mut refusals = Vec::new();
        project_steps(stand, now, &mut steps, &mut refusals);
        for ((path, commit), sub) in stand.submodules.iter().zip(&now.submodules) {
            let what = format!("{}: submodule {path}", stand.name);
            let dir = now.dir.join(path);
            if let Some(reason) = refusal(&what, sub, commit) {
                refusals.push(reason);
            } else if sub.exists && sub.head.as_ref() != Some(commit) {
                steps.push(Step::PutBack {
                    repo: dir,
                    branch: None,
                    commit: commit.clone(),
                });
            }
        }
        out.refusals.extend(refusals);
        if steps.is_empty() {
            out.in_place.push(stand.name.clone());
        } else {
            out.plans.push(ProjectPlan {
                project: stand.name.clone(),
                steps,
            });
        }
    }
    if !out.refusals.is_empty() {
        out.plans.clear();
    }
    out
}

/// The project's own move: back on its branch, or to its commit detached.
fn project_steps(stand: &ValidStand, now: &ProjectNow, steps: &mut Vec<Step>, refusals: &mut Vec<String>) {
    let p = &now.project;
    if !p.exists {
        refusals.push(format!(
            "{}: {} is not a checkout any more; undo moves checkouts, it does not make them",
            stand.name,
            now.dir.display()
        ));
        return;
    }
    let where_now_right = p.head.as_ref() == Some(&stand.commit)
        && p.branch.as_deref() == stand.branch.as_ref().map(BranchName::as_str);
    if where_now_right {
        return;
    }
    if let Some(reason) = refusal(stand.name.as_str(), p, &stand.commit) {
        refusals.push(reason);
        return;
    }
    match &stand.branch {
        Some(branch) if p.branch_at.as_ref() != Some(&stand.commit) => refusals.push(format!(
            "{}: it was on branch {branch} at {}, but {branch} {}; put it back yourself (`git -C {} checkout \
             {branch}`) or move the branch, then undo again",
            stand.name,
            stand.commit.short(),
            match &p.branch_at {
                Some(at) => format!("is now at {}", at.short()),
                None => "is gone".to_string(),
            },
            now.dir.display()
        )),
        branch => steps.push(Step::PutBack {
            repo: now.dir.clone(),
            branch: branch.clone(),
            commit: stand.commit.clone(),
        }),
    }
}

/// Why the checkout `what` cannot be moved to `commit`, if it cannot: an
/// operation under way, uncommitted changes, the commit gone.
fn refusal(what: &str, now: &Now, commit: &CommitId) -> Option<String> {
    if !now.exists || now.head.as_ref() == Some(commit) && now.branch.is_none() {
        return None;
    }
    if !now.under_way.is_empty() {
        return Some(format!("{what}: {}; then undo again", now.under_way.join("; ")));
    }
    if now.changed > 0 {
        return Some(format!(
            "{what}: {} uncommitted change{}; commit or stash them, then undo again",
            now.changed,
            if now.changed == 1 { "" } else { "s" }
        ));
    }
    if let Some(orphan) = &now.orphan {
        return Some(format!(
            "{what}: HEAD is at {orphan}, a detached commit that no branch contains; moving it would leave it \
             unreachable. Keep it on a branch (`git branch keep-{} {orphan}` there), then undo again",
            orphan.short()
        ));
    }
    if !now.has_commit {
        return Some(format!(
            "{what}: {} is no longer in its repository",
            commit.short()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: char) -> CommitId {
        CommitId::new(&n.to_string().repeat(40)).unwrap()
    }

    fn stand(branch: Option<&str>) -> ValidStand {
        ValidStand {
            name: RepoName::new("lib").unwrap(),
            commit: c('a'),
            branch: branch.map(|b| BranchName::new(b).unwrap()),
            submodules: Vec::new(),
        }
    }

    fn now(head: char, changed: usize, branch_at: Option<CommitId>) -> ProjectNow {
        ProjectNow {
            dir: PathBuf::from("/w/lib"),
            project: Now {
                exists: true,
                head: Some(c(head)),
                branch: None,
                changed,
                under_way: Vec::new(),
                has_commit: true,
                branch_at,
                orphan: None,
            },
            submodules: Vec::new(),
        }
    }

    #[test]
    fn a_moved_project_goes_back_detached_or_on_its_branch() {
        let p = plan(&[stand(None)], &[now('b', 0, None)]);
        assert!(matches!(p.plans[0].steps[0], Step::PutBack { branch: None, .. }));
        let p = plan(&[stand(Some("main"))], &[now('b', 0, Some(c('a')))]);
        assert!(matches!(
            p.plans[0].steps[0],
            Step::PutBack { branch: Some(_), .. }
        ));
    }

    #[test]
    fn refusals_stop_every_move() {
        let mut other = stand(None);
        other.name = RepoName::new("other").unwrap();
        let p = plan(&[stand(None), other], &[now('b', 2, None), now('b', 0, None)]);
        assert!(p.plans.is_empty());
        assert_eq!(p.refusals.len(), 1);
        let p = plan(&[stand(Some("main"))], &[now('b', 0, Some(c('d')))]);
        assert!(
            p.refusals[0].contains("main is now at ddddddd"),
            "{:?}",
            p.refusals
        );
    }

    #[test]
    fn a_project_in_place_is_left() {
        let p = plan(&[stand(None)], &[now('a', 3, None)]);
        assert!(p.plans.is_empty() && p.refusals.is_empty());
        assert_eq!(p.in_place.len(), 1);
    }
}
