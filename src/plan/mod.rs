//! Plans as data: which projects, which git operations, in what order. A
//! command computes its plan first; `--dry-run` prints it, the executor runs
//! it, and summaries refer to it. Planning is pure: it reads no file and
//! starts no git, but works from the facts the command gathered, so it is
//! tested as tables. `docs/plan.md` tells how resolution, planning and
//! execution fit together.

pub mod checkout;
pub mod recover;
pub mod resolve;
pub mod roll;
pub mod sync;
pub mod undo;

use std::sync::Arc;

use std::path::PathBuf;

use crate::exec::cache::Cache;
use crate::exec::step::{Fetch, ProjectPlan, Step};
use crate::git::CloneOptions;
use crate::model::registry::Project;
use crate::model::types::{CommitId, Filter};
use crate::model::workspace::Workspace;

pub use checkout::{CheckoutOptions, CheckoutPlan, Folder};
pub use sync::{DepState, SyncOptions};

/// Depth of submodule clones made by `checkout` (shallow).
pub const SUBMODULE_DEPTH: u32 = 1;

/// What `pin --require-upstream` runs before it checks each pin: a fetch
/// of each dep's tracking branch, one plan per dep.
pub fn fetch_tracking_branches(workspace: &Workspace, deps: &[&Project]) -> Vec<ProjectPlan> {
    deps.iter()
        .map(|dep| ProjectPlan {
            project: dep.name.clone(),
            steps: vec![Step::FetchBranch {
                repo: workspace.project_dir(&dep.name),
                branch: dep.tracking_branch.clone(),
            }],
        })
        .collect()
}

/// The clone of `project` (from its read-only URL when `read_only`) into
/// its temporary folder, `--depth`, `--filter` and `--no-checkout` as
/// given. Through the cache the filter does not apply: such a clone
/// borrows every object from the cache's mirror, which is complete.
pub fn clone_step(
    workspace: &Workspace,
    project: &Project,
    read_only: bool,
    depth: Option<u32>,
    filter: Option<Filter>,
    no_checkout: bool,
    cache: Option<Arc<Cache>>,
) -> Step {
    Step::Clone {
        url: project.url(read_only).clone(),
        partial: workspace.partial_dir(&project.name),
        options: CloneOptions {
            depth,
            no_checkout,
            filter: if cache.is_some() { None } else { filter },
            ..CloneOptions::default()
        },
        cache,
    }
}

/// A plain fetch of `commit` into `repo`: by id, or else on `project`'s
/// tracking branch; no depth, filter, unshallowing or mirror.
fn fetch(repo: PathBuf, commit: &CommitId, project: &Project) -> Fetch {
    Fetch {
        repo,
        commit: commit.clone(),
        depth: None,
        filter: None,
        branch: project.tracking_branch.clone(),
        unshallow: false,
        mirror: None,
    }
}
