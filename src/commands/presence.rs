//! The pins of the workspace's checkouts, for resolution: the
//! [`PinSource`] that `sync` and `status` resolve with. For each chosen dep
//! it looks at the checkout (one `git cat-file --batch` probe: HEAD, the
//! pinned commit, the pin file at it), asks the planner what makes the
//! commit present, and, when syncing, has the executor run those steps and
//! looks again, until the pins can be read. A dry run records the steps it
//! would run first instead, and `status` only looks.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

use super::Context;
use crate::exec;
use crate::exec::step::{ProjectPlan, Step};
use crate::git::{FileAtCommit, Git, Probe};
use crate::model::pinfile::{self, Pins};
use crate::model::registry::{Project, Registry};
use crate::model::types::{CommitId, RepoName};
use crate::model::workspace::Workspace;
use crate::plan::resolve::{Chosen, PinSource};
use crate::plan::sync::{make_present, Found, Looked, Presence, Tried};
use crate::plan::{DepState, SyncOptions};

/// The most rounds of steps one dep's pin takes: a clone, a fetch by id,
/// and two fetches for its pin file in a partial clone.
const MAX_ROUNDS: usize = 5;

/// What the source does about a pinned commit that is not there yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Make it present: run the steps, then read the pins (`sync`).
    Sync,
    /// Keep the steps for the dry run to print; the pins below stay
    /// unknown (`sync --dry-run`).
    DryRun,
    /// Read what is there, and nothing more (`status`).
    Look,
}

/// The checkouts of a workspace as a [`PinSource`].
pub struct WorkspacePins<'a> {
    ctx: &'a Context,
    workspace: &'a Workspace,
    registry: &'a Registry,
    options: &'a SyncOptions,
    mode: Mode,
    /// Where each dep whose pins were had (or left unknown) stands, in
    /// resolution order.
    states: Vec<(RepoName, DepState)>,
    /// The steps that made pinned commits present (or, in a dry run, that
    /// would), one plan per dep that needed any, in resolution order.
    presence: Vec<ProjectPlan>,
    /// Deps whose lack of a folder the last look found.
    missing: Vec<RepoName>,
}

/// What making one dep's pin present yielded.
struct Made {
    pins: Option<Pins>,
    state: DepState,
    steps: Vec<Step>,
    missing: bool,
}

impl<'a> WorkspacePins<'a> {
    /// A source over `workspace`'s checkouts.
    pub fn new(
        ctx: &'a Context,
        workspace: &'a Workspace,
        registry: &'a Registry,
        options: &'a SyncOptions,
        mode: Mode,
    ) -> WorkspacePins<'a> {
        WorkspacePins {
            ctx,
            workspace,
            registry,
            options,
            mode,
            states: Vec::new(),
            presence: Vec::new(),
            missing: Vec::new(),
        }
    }

    /// Each chosen dep with where it stands, for planning the apply phase
    /// (the deps whose pins could not be had have no state).
    pub fn states_of(&self, chosen: &[Chosen]) -> Vec<(Chosen, DepState)> {
        chosen
            .iter()
            .filter_map(|c| {
                self.states
                    .iter()
                    .find(|(dep, _)| dep == &c.dep)
                    .map(|(_, state)| (c.clone(), state.clone()))
            })
            .collect()
    }

    /// The steps that made the pinned commits present (in a dry run: that
    /// would), in the order they ran.
    pub fn presence_plans(&self) -> &[ProjectPlan] {
        &self.presence
    }

    /// Whether the folder of `dep` was missing (in a dry run or `status`,
    /// where nothing is cloned).
    pub fn was_missing(&self, dep: &RepoName) -> bool {
        self.missing.contains(dep)
    }

    /// Removes the temporary folders of deps made as new repositories
    /// ([`DepState::Fetched`]) that the apply phase did not rename into
    /// place: the sync stopped, or that dep's checkout failed.
    pub fn discard_unplaced(&self) {
        for (_, state) in &self.states {
            if let DepState::Fetched { partial } = state {
                exec::remove_partial(partial);
            }
        }
    }

    /// Makes `chosen`'s commit present as far as the mode allows, and reads
    /// the dep's own pins at it.
    fn make_present(&self, chosen: &Chosen) -> Result<Made> {
        let dep = &chosen.dep;
        let project = self.registry.get(dep).ok_or_else(|| {
            anyhow!(
                "{dep} is pinned by {} but is not in the registry",
                chosen.pinned_by
            )
        })?;
        let mut at = self.workspace.project_dir(dep);
        let partial = self.workspace.partial_dir(dep);
        let mut fresh = self.options.fresh.contains(dep);
        let mut tried = Tried::default();
        let mut ran = Vec::new();
        // Each round runs steps that cannot be planned again without an
        // error (see `Tried`): a clone, a fetch by id, two fetches for the
        // pin file. The bound only guards against a planner that forgets.
        for _ in 0..MAX_ROUNDS {
            let found = self.look(project, &at, &chosen.commit)?;
            let presence = make_present(self.workspace, project, chosen, &found, &tried, self.options);
            let steps = match presence {
                Err(e) => {
                    // A repository made for the pin is not kept half done.
                    if at == partial {
                        exec::remove_partial(&partial);
                    }
                    return Err(e);
                }
                Ok(Presence::Ready(looked)) => {
                    let pins = read_pins_at(dep, &chosen.commit, &looked.probe);
                    if pins.is_err() && at == partial {
                        exec::remove_partial(&partial);
                    }
                    return Ok(Made {
                        pins: Some(pins?),
                        state: DepState::present(looked, fresh, at == partial),
                        steps: ran,
                        missing: false,
                    });
                }
                Ok(Presence::Steps(steps)) => steps,
            };
            if self.mode != Mode::Sync {
                return Ok(Made {
                    pins: None,
                    state: DepState::pending(&found, fresh),
                    steps: if self.mode == Mode::DryRun {
                        steps
                    } else {
                        Vec::new()
                    },
                    missing: found == Found::Missing,
                });
            }
            let plan = ProjectPlan {
                project: dep.clone(),
                steps,
            };
            exec::run_project(&self.ctx.git, &self.ctx.reporter, 1, &plan)?;
            tried.ran(&plan.steps);
            for step in &plan.steps {
                match step {
                    Step::Init { partial, .. } => at = partial.clone(),
                    Step::Clone { .. } => fresh = true,
                    _ => {}
                }
            }
            ran.extend(plan.steps);
        }
        if at == partial {
            exec::remove_partial(&partial);
        }
        Err(anyhow!(
            "{dep}: {} is still not present after {MAX_ROUNDS} rounds of fetching",
            chosen.commit.short()
        ))
    }

    /// What `dir` holds of `project`, with its probe for `commit`.
    fn look(&self, project: &Project, dir: &Path, commit: &CommitId) -> Result<Found> {
        if !dir.exists() {
            return Ok(Found::Missing);
        }
        if !dir.join(".git").exists() {
            return Ok(Found::NotCheckout {
                dir: dir.to_path_buf(),
            });
        }
        let probe = self
            .ctx
            .git
            .probe(dir, commit, pinfile::FILE_NAME, pinfile::MAX_FILE_SIZE as u64)?;
        let url = project.url(self.options.read_only);
        Ok(Found::Checkout(Looked {
            repo: dir.to_path_buf(),
            probe,
            unwritten: Git::lacks_working_tree(dir),
            shallow: dir.join(".git/shallow").exists(),
            borrows_cache: self
                .options
                .cache
                .as_ref()
                .is_some_and(|cache| cache.is_borrowed_by(url, dir)),
        }))
    }
}

impl PinSource for WorkspacePins<'_> {
    fn pins_of(&mut self, level: &[Chosen]) -> Vec<Result<Option<Pins>>> {
        let executor = match self.ctx.executor() {
            Ok(executor) => executor,
            Err(e) => return level.iter().map(|_| Err(anyhow!("{e:#}"))).collect(),
        };
        let results = executor.map(
            level,
            // Any dep may need the network (a clone, or a fetch of a
            // missing commit): on a terminal the first per host goes alone.
            |chosen| {
                self.registry
                    .get(&chosen.dep)
                    .and_then(|p| p.url(self.options.read_only).host().map(str::to_string))
            },
            |chosen| self.make_present(chosen),
        );
        level
            .iter()
            .zip(results)
            .map(|(chosen, made)| {
                let made = made?;
                if !made.steps.is_empty() {
                    self.presence.push(ProjectPlan {
                        project: chosen.dep.clone(),
                        steps: made.steps,
                    });
                }
                if made.missing {
                    self.missing.push(chosen.dep.clone());
                }
                self.states.push((chosen.dep.clone(), made.state));
                Ok(made.pins)
            })
            .collect()
    }
}

/// Parses the dep's own pin file as read from the pinned commit; a commit
/// without one has no pins (a leaf).
fn read_pins_at(dep: &RepoName, commit: &CommitId, probe: &Probe) -> Result<Pins> {
    let label = PathBuf::from(format!("{dep}/{} at {}", pinfile::FILE_NAME, commit.short()));
    match &probe.file_at_commit {
        FileAtCommit::Absent => Ok(Pins::default()),
        FileAtCommit::Contents(bytes) => pinfile::parse_bytes(bytes, &label).map_err(anyhow::Error::from),
        FileAtCommit::TooLarge { .. } => Err(pinfile::too_large(&label).into()),
        FileAtCommit::NotFetched { .. } => Err(anyhow!("{}: not in this partial clone", label.display())),
    }
}
