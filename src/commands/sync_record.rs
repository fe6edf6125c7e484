//! The `--json` record of one sync, typed: `sync` prints it as its
//! document; `checkout --sync` and `roll --sync` carry theirs in `syncs`.

use serde::Serialize;

use crate::plan::resolve::{Chosen, Conflict};
use crate::plan::DepState;
use crate::ui::json::Problem;

/// What one sync did (or, in a dry run, would do).
#[derive(Debug, Serialize)]
pub struct SyncRecord {
    /// The one project synced; `null` for the roots of the workspace
    /// together.
    pub project: Option<String>,
    /// Whether it went without failures; left out where the document's
    /// own `ok` says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    pub dry_run: bool,
    pub deps: Vec<DepRecord>,
    pub conflicts: Vec<ConflictRecord>,
    pub unpinned: Vec<UnpinnedRecord>,
    pub failures: Vec<Problem>,
    /// In a dry run, the git commands it would run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    /// Every project whose pins were applied.
    pub roots: Vec<String>,
}

/// A pin that lost against another.
#[derive(Debug, Serialize)]
pub struct ConflictRecord {
    pub dep: String,
    pub used: String,
    pub used_by: String,
    pub other: String,
    pub other_by: String,
}

impl From<&Conflict> for ConflictRecord {
    fn from(c: &Conflict) -> ConflictRecord {
        ConflictRecord {
            dep: c.dep.to_string(),
            used: c.used.to_string(),
            used_by: c.used_by.to_string(),
            other: c.other.to_string(),
            other_by: c.other_by.to_string(),
        }
    }
}

/// A registry dep its pinner's file does not pin.
#[derive(Debug, Serialize)]
pub struct UnpinnedRecord {
    pub pinner: String,
    pub dep: String,
}

/// One dep in the `--json` record of a sync.
#[derive(Debug, Serialize)]
pub struct DepRecord {
    pub name: String,
    pub commit: String,
    pub pinned_by: String,
    /// `moved`, `cloned`, `at_pin`, `failed`, `not_moved` (the sync
    /// stopped before moving anything), or in a dry run `would_move`,
    /// `would_clone`, `at_pin`.
    pub result: &'static str,
    /// HEAD before the sync, when the dep was there.
    pub was: Option<String>,
    /// The branch HEAD was on, when the sync detached it from there.
    pub left_branch: Option<String>,
    pub error: Option<String>,
}

impl DepRecord {
    /// `chosen`'s record, from where it stood before the sync.
    pub fn new(chosen: &Chosen, state: &DepState, result: &'static str) -> DepRecord {
        let was = match state {
            DepState::Present {
                head, fresh: false, ..
            }
            | DepState::WouldFetch { head, .. } => head.as_ref(),
            _ => None,
        };
        DepRecord {
            name: chosen.dep.to_string(),
            commit: chosen.commit.to_string(),
            pinned_by: chosen.pinned_by.to_string(),
            result,
            was: was.map(|c| c.to_string()),
            left_branch: None,
            error: None,
        }
    }
}
