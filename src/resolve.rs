//! Pin resolution for `sync`: breadth-first over the pin
//! files, nearest pin wins, every losing pin reported as a conflict. Each
//! level's deps are made present in parallel (clone if missing, fetch the
//! pinned commit only if `cat-file` says it is absent) and their own pins are
//! read from the pinned commit, not from their working trees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use regex::Regex;

use crate::exec::{self, Executor};
use crate::git::{FileAtCommit, Git, GitResult, Probe};
use crate::pinfile::{self, Pins};
use crate::plan::{self, ProjectPlan, Step};
use crate::registry::{Project, Registry};
use crate::report::{Failure, Reporter};
use crate::types::{CommitId, RepoName};
use crate::workspace::Workspace;

/// What the user asked of a sync.
#[derive(Clone, Debug, Default)]
pub struct SyncOptions {
    /// Deps to leave out, at every level.
    pub exclude_dep: Vec<Regex>,
    /// Submodules (`DEP:PATH`) to leave out.
    pub exclude_submodule: Vec<Regex>,
    /// `--depth N` for clones and fetches.
    pub depth: Option<u32>,
    /// `--filter` for the clones (and new repositories) it makes.
    pub filter: Option<crate::types::Filter>,
    /// Move a detached HEAD even if that orphans its commit.
    pub force: bool,
    /// Clone missing deps from their read-only URLs.
    pub read_only: bool,
    /// Resolve and print; no clone, fetch or checkout.
    pub dry_run: bool,
    /// The shared object cache, if any.
    pub cache: Option<std::sync::Arc<crate::cache::Cache>>,
    /// Deps this run has just cloned (`checkout --sync`): nothing in them
    /// is the user's, so moving them needs no orphan check.
    pub fresh: std::collections::BTreeSet<RepoName>,
}

impl SyncOptions {
    /// Whether a missing dep is made by fetching just its pinned commit
    /// into an empty repository, rather than by a clone: with `--depth`
    /// (a shallow clone brings the branch tip, which is not wanted, and
    /// then costs a second connection for the pin), and not through the
    /// cache (whose local clones cost no connection anyway).
    pub fn fetches_pins_only(&self) -> bool {
        self.depth.is_some() && self.cache.is_none()
    }
}

/// A dep and the commit chosen for it.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// The dep.
    pub dep: RepoName,
    /// The commit it will be moved to.
    pub commit: CommitId,
    /// The project whose pin won.
    pub pinned_by: RepoName,
    /// Where it stands now.
    pub state: DepState,
}

/// Where a chosen dep stands before the apply phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepState {
    /// Checked out; the pinned commit is present. `head` is its HEAD.
    Present {
        /// HEAD before the sync.
        head: Option<CommitId>,
        /// Cloned by this run (by the sync, or by the `checkout --sync`
        /// that runs it).
        fresh: bool,
        /// What [`crate::git::CHECKED_OUT_REF`] names.
        marked: Option<CommitId>,
    },
    /// Missing, so made as a new repository in its temporary folder with
    /// just the pinned commit fetched ([`SyncOptions::fetches_pins_only`]);
    /// the apply phase checks the pin out there and renames it into place,
    /// and a sync that stops before applying removes it.
    Fetched {
        /// The temporary folder.
        partial: PathBuf,
    },
    /// Dry run: the folder is missing and would be cloned.
    WouldClone,
    /// Dry run: the pinned commit is missing and would be fetched.
    WouldFetch {
        /// HEAD before the sync.
        head: Option<CommitId>,
    },
}

/// A pin that lost against a nearer (or earlier) one.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// The dep pinned twice.
    pub dep: RepoName,
    /// The winning commit and its pinner.
    pub used: CommitId,
    /// Who pinned the winning commit.
    pub used_by: RepoName,
    /// The losing pinner.
    pub other_by: RepoName,
    /// The losing commit.
    pub other: CommitId,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: using {} (pinned by {}); {} pins {}",
            self.dep,
            self.used.short(),
            self.used_by,
            self.other_by,
            self.other.short()
        )
    }
}

/// The outcome of resolution: what to apply, and what went wrong.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Chosen commits, level by level, in resolution order.
    pub chosen: Vec<Chosen>,
    /// Pins that lost.
    pub conflicts: Vec<Conflict>,
    /// Registry deps with no pin in their pinner's file (left as they are).
    pub unpinned: Vec<(RepoName, RepoName)>,
    /// Deps whose own pins could not be read in a dry run (not cloned or
    /// not fetched yet), so the levels below them are unknown.
    pub unresolved_below: Vec<RepoName>,
    /// Deps that could not be made present or whose pin file is unreadable.
    pub failures: Vec<Failure>,
    /// Deps left out by `--exclude-dep`, each with the regex that matched,
    /// in the order met.
    pub excluded: Vec<(RepoName, String)>,
}

impl Resolution {
    /// Removes the temporary folders of deps fetched into new repositories
    /// ([`DepState::Fetched`]) that the apply phase did not rename into
    /// place: the sync stopped, or that dep's checkout failed.
    pub fn discard_unplaced(&self) {
        for chosen in &self.chosen {
            if let DepState::Fetched { partial } = &chosen.state {
                exec::remove_partial(partial);
            }
        }
    }
}

/// Everything resolution needs from the command.
pub struct Resolver<'a> {
    /// The workspace.
    pub workspace: &'a Workspace,
    /// The registry.
    pub registry: &'a Registry,
    /// Runs git.
    pub git: &'a Git,
    /// Progress output.
    pub reporter: &'a Reporter,
    /// The worker pool.
    pub executor: &'a Executor,
    /// The user's choices.
    pub options: &'a SyncOptions,
}

/// What resolving one dep yielded.
struct Present {
    state: DepState,
    pins: Option<Pins>,
}

impl Resolver<'_> {
    /// Resolves the pins of `root`, whose own pins are `root_pins` (read from
    /// its working tree: the file a developer may just have edited).
    pub fn resolve(&self, root: &Project, root_pins: Pins) -> Resolution {
        self.resolve_roots(vec![(root, root_pins)])
    }

    /// Resolves the pins of several roots together (`sync` at the top of
    /// the workspace): their own pins, read from their working trees, make
    /// level 0, in the order given, so a dep two roots pin differently is a
    /// conflict like any other, and the first root's pin wins. A root is
    /// never moved by another's pin: it is what the user works on.
    pub fn resolve_roots(&self, roots: Vec<(&Project, Pins)>) -> Resolution {
        let mut res = Resolution::default();
        let root_names: Vec<RepoName> = roots.iter().map(|(p, _)| p.name.clone()).collect();
        // Pins are followed only along registry deps, so a pin file cannot
        // bring in a project (or a URL) of its own; say so for the file the
        // user is syncing from, where an extra pin is most likely a mistake.
        for (root, root_pins) in &roots {
            for (name, _) in root_pins.pinned() {
                if !root.deps.contains(name) {
                    self.reporter.warn(&format!(
                        "{root}'s {} pins {name}, which is not one of {root}'s deps in the registry; ignored",
                        pinfile::FILE_NAME,
                        root = root.name
                    ));
                }
            }
        }
        let mut chosen_at: BTreeMap<RepoName, (CommitId, RepoName)> = BTreeMap::new();
        // The frontier: projects whose pins feed the next level, in order.
        let mut frontier: Vec<(RepoName, Pins)> = roots
            .into_iter()
            .map(|(p, pins)| (p.name.clone(), pins))
            .collect();
        let mut roots_pinned = std::collections::BTreeSet::new();
        while !frontier.is_empty() {
            // Gather this level's candidates in pinner order, then each
            // pinner's registry dep order; the first pin seen wins.
            let mut level: Vec<(RepoName, CommitId, RepoName)> = Vec::new();
            for (pinner, pins) in &frontier {
                let Some(project) = self.registry.get(pinner) else {
                    continue;
                };
                for dep in &project.deps {
                    if root_names.contains(dep) {
                        if let Some(commit) = pins.pin(dep) {
                            if root_names.len() > 1 && roots_pinned.insert((dep.clone(), pinner.clone())) {
                                self.reporter.warn(&format!(
                                    "{dep}: a root of the workspace, left as it is ({pinner} pins {})",
                                    commit.short()
                                ));
                            }
                        }
                        continue;
                    }
                    if let Some(re) = plan::matching(&self.options.exclude_dep, dep.as_str()) {
                        if !res.excluded.iter().any(|(d, _)| d == dep) {
                            res.excluded.push((dep.clone(), re.as_str().to_string()));
                        }
                        continue;
                    }
                    let Some(commit) = pins.pin(dep) else {
                        res.unpinned.push((pinner.clone(), dep.clone()));
                        continue;
                    };
                    let winner = chosen_at
                        .get(dep)
                        .map(|(c, by)| (c.clone(), by.clone()))
                        .or_else(|| {
                            level
                                .iter()
                                .find(|(d, _, _)| d == dep)
                                .map(|(_, c, by)| (c.clone(), by.clone()))
                        });
                    match winner {
                        Some((used, used_by)) => {
                            if &used != commit {
                                res.conflicts.push(Conflict {
                                    dep: dep.clone(),
                                    used,
                                    used_by,
                                    other_by: pinner.clone(),
                                    other: commit.clone(),
                                });
                            }
                        }
                        None => level.push((dep.clone(), commit.clone(), pinner.clone())),
                    }
                }
            }
            for (dep, commit, by) in &level {
                chosen_at.insert(dep.clone(), (commit.clone(), by.clone()));
            }
            let results = self.executor.map(
                &level,
                // Any dep may need the network (a clone, or a fetch of a
                // missing commit): on a terminal the first per host goes alone.
                |(dep, _, _)| {
                    self.registry
                        .get(dep)
                        .and_then(|p| self.clone_url(p).host().map(str::to_string))
                },
                |(dep, commit, by)| self.make_present(dep, commit, by),
            );
            let mut next = Vec::new();
            for ((dep, commit, by), result) in level.into_iter().zip(results) {
                match result {
                    Ok(present) => {
                        match present.pins {
                            Some(pins) => next.push((dep.clone(), pins)),
                            None => res.unresolved_below.push(dep.clone()),
                        }
                        res.chosen.push(Chosen {
                            dep,
                            commit,
                            pinned_by: by,
                            state: present.state,
                        });
                    }
                    Err(error) => res.failures.push(Failure { project: dep, error }),
                }
            }
            frontier = next;
        }
        res
    }

    /// HEAD of the checkout in `dir`, whether `commit` is there, and its
    /// pin file at `commit` if that is not too large to be one.
    fn probe(&self, dir: &Path, commit: &CommitId) -> GitResult<Probe> {
        self.git
            .probe(dir, commit, pinfile::FILE_NAME, pinfile::MAX_FILE_SIZE as u64)
    }

    fn clone_url<'p>(&self, project: &'p Project) -> &'p crate::types::RemoteUrl {
        project.url(self.options.read_only)
    }

    /// Makes `commit` present in `dep`'s checkout (cloning or fetching only
    /// when needed) and reads `dep`'s own pins at that commit.
    fn make_present(&self, dep: &RepoName, commit: &CommitId, pinned_by: &RepoName) -> Result<Present> {
        let project = self
            .registry
            .get(dep)
            .ok_or_else(|| anyhow!("{dep} is pinned by {pinned_by} but is not in the registry"))?;
        let dir = self.workspace.project_dir(dep);
        let mut fresh = self.options.fresh.contains(dep);
        if !dir.exists() {
            if self.options.dry_run {
                return Ok(Present {
                    state: DepState::WouldClone,
                    pins: None,
                });
            }
            if self.options.fetches_pins_only() {
                let (partial, probe) = self.fetch_into_new(project, commit, pinned_by)?;
                let probe = match self.fetch_pin_file(dep, &partial, commit, probe) {
                    Ok(probe) => probe,
                    Err(e) => {
                        exec::remove_partial(&partial);
                        return Err(e);
                    }
                };
                let pins = read_pins_at(dep, commit, &probe);
                if pins.is_err() {
                    exec::remove_partial(&partial);
                }
                return Ok(Present {
                    pins: Some(pins?),
                    state: DepState::Fetched { partial },
                });
            }
            self.clone_missing(project, &dir)?;
            fresh = true;
        } else if !dir.join(".git").exists() {
            return Err(anyhow!(
                "{} exists but is not a git checkout; move it away, then sync again",
                dir.display()
            ));
        }
        let mut probe = self.probe(&dir, commit)?;
        if !probe.has_commit {
            if self.options.dry_run {
                return Ok(Present {
                    state: DepState::WouldFetch { head: probe.head },
                    pins: None,
                });
            }
            probe = self.fetch_missing(project, &dir, commit, pinned_by, None)?;
        }
        if matches!(probe.file_at_commit, FileAtCommit::NotFetched { .. }) && self.options.dry_run {
            // A partial clone without the pin file at the pin: its own
            // pins are not known without the network.
            return Ok(Present {
                state: DepState::Present {
                    head: probe.head,
                    fresh,
                    marked: probe.marked,
                },
                pins: None,
            });
        }
        let probe = self.fetch_pin_file(dep, &dir, commit, probe)?;
        let pins = read_pins_at(dep, commit, &probe)?;
        Ok(Present {
            state: DepState::Present {
                head: probe.head,
                fresh,
                marked: probe.marked,
            },
            pins: Some(pins),
        })
    }

    /// Clones a dep that is not in the workspace, without checking out a
    /// branch: the apply phase checks out the pinned commit directly.
    fn clone_missing(&self, project: &Project, dir: &Path) -> Result<()> {
        let partial = self.workspace.partial_dir(&project.name);
        let plan = ProjectPlan {
            project: project.name.clone(),
            steps: vec![
                plan::clone_step(
                    self.workspace,
                    project,
                    self.options.read_only,
                    self.options.depth,
                    self.options.filter,
                    true,
                    self.options.cache.clone(),
                ),
                Step::Rename {
                    from: partial,
                    to: dir.to_path_buf(),
                },
            ],
        };
        exec::run_project(self.git, self.reporter, 1, &plan)
    }

    /// Makes a missing dep as an empty repository in its temporary folder,
    /// and fetches only the pinned commit into it: one connection. Returns
    /// the folder and its probe; the folder is removed if this fails.
    fn fetch_into_new(
        &self,
        project: &Project,
        commit: &CommitId,
        pinned_by: &RepoName,
    ) -> Result<(PathBuf, Probe)> {
        let partial = self.workspace.partial_dir(&project.name);
        let init = ProjectPlan {
            project: project.name.clone(),
            steps: vec![Step::Init {
                url: self.clone_url(project).clone(),
                partial: partial.clone(),
                commit: commit.clone(),
            }],
        };
        exec::run_project(self.git, self.reporter, 1, &init)?;
        match self.fetch_missing(project, &partial, commit, pinned_by, self.options.filter) {
            Ok(probe) => Ok((partial, probe)),
            Err(e) => {
                exec::remove_partial(&partial);
                Err(e)
            }
        }
    }

    /// Brings into a partial clone what reading the dep's pin file at
    /// `commit` needs and it lacks ([`FileAtCommit::NotFetched`]): the
    /// file's contents, or first the commit's trees. One fetch each, by id,
    /// instead of lazy fetches inside a query.
    fn fetch_pin_file(
        &self,
        dep: &RepoName,
        dir: &Path,
        commit: &CommitId,
        mut probe: Probe,
    ) -> Result<Probe> {
        for _ in 0..2 {
            let FileAtCommit::NotFetched { object } = &probe.file_at_commit else {
                return Ok(probe);
            };
            self.reporter.event(
                dep,
                &format!(
                    "fetching {} at {} (a partial clone)",
                    pinfile::FILE_NAME,
                    commit.short()
                ),
            );
            self.git.fetch_objects(dir, std::slice::from_ref(object))?;
            probe = self.probe(dir, commit)?;
        }
        match probe.file_at_commit {
            FileAtCommit::NotFetched { object } => Err(anyhow!(
                "{dep}: {} at {} is still missing after fetching {object} from origin",
                pinfile::FILE_NAME,
                commit.short()
            )),
            _ => Ok(probe),
        }
    }

    /// Fetches a missing pinned commit by id (with `filter` into a
    /// repository just made for it); if the server refuses requests for
    /// unadvertised commits, fetches the tracking branch instead.
    fn fetch_missing(
        &self,
        project: &Project,
        dir: &Path,
        commit: &CommitId,
        pinned_by: &RepoName,
        filter: Option<crate::types::Filter>,
    ) -> Result<Probe> {
        let dep = &project.name;
        if let Some(cache) = &self.options.cache {
            let url = self.clone_url(project);
            if cache.is_borrowed_by(url, dir) {
                // The checkout reads the mirror's objects: refreshing the
                // mirror (once per run) may be all that is needed.
                self.reporter.event(dep, "updating the cache mirror");
                cache.update(self.git, url)?;
                let probe = self.probe(dir, commit)?;
                if probe.has_commit {
                    return Ok(probe);
                }
            }
        }
        self.reporter.event(dep, &format!("fetching {}", commit.short()));
        let by_id = self.git.fetch_commit(dir, commit, self.options.depth, filter);
        match by_id {
            Ok(()) => {}
            Err(e) if e.is_refused_want() => {
                self.reporter.event(
                    dep,
                    &format!(
                        "origin refused a fetch by id; fetching {} instead",
                        project.tracking_branch
                    ),
                );
                // The pin may be anywhere in the branch's history, so a
                // shallow checkout needs the whole of it (--unshallow).
                let shallow = dir.join(".git/shallow").exists();
                self.git
                    .fetch_branch(dir, &project.tracking_branch, None, shallow)
                    .map_err(anyhow::Error::from)?;
            }
            Err(e) => return Err(e.into()),
        }
        let probe = self.probe(dir, commit)?;
        if !probe.has_commit {
            return Err(anyhow!(
                "commit {commit} (pinned by {pinned_by}) is not on {dep}'s origin, neither by id nor on branch {}; \
                 push it, or pin a commit that is upstream",
                project.tracking_branch
            ));
        }
        Ok(probe)
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
