//! What `sync` does to each chosen dep: the steps that make its pinned
//! commit present (and its pin file readable), planned from what the
//! checkout holds; then the apply phase, which moves it there.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use regex::Regex;

use super::{clone_step, SUBMODULE_DEPTH};
use crate::exec::cache::Cache;
use crate::exec::step::{placeholder_commit, Fetch, PendingPlan, ProjectPlan, Step};
use crate::git::{FileAtCommit, Probe};
use crate::model::registry::{Project, Registry};
use crate::model::types::{CommitId, Filter, RepoName};
use crate::model::workspace::Workspace;
use crate::plan::resolve::Chosen;

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
    pub filter: Option<Filter>,
    /// Move a detached HEAD even if that orphans its commit.
    pub force: bool,
    /// Clone missing deps from their read-only URLs.
    pub read_only: bool,
    /// Resolve and print; no clone, fetch or checkout.
    pub dry_run: bool,
    /// The shared object cache, if any.
    pub cache: Option<Arc<Cache>>,
    /// Deps this run has just cloned (`checkout --sync`): nothing in them
    /// is the user's, so moving them needs no orphan check.
    pub fresh: BTreeSet<RepoName>,
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

/// What the workspace holds of a chosen dep, as read before planning what
/// makes its pinned commit present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// No folder.
    Missing,
    /// A folder that is not a git checkout.
    NotCheckout { dir: PathBuf },
    /// A checkout (or the repository made for the pin in its temporary
    /// folder).
    Checkout(Looked),
}

/// What one look at a checkout tells: the probe and the files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Looked {
    pub repo: PathBuf,
    /// HEAD, the pin's presence, the pin file at the pin, the record of
    /// the last checkout by the tool.
    pub probe: Probe,
    /// It has no index: its files were never written.
    pub unwritten: bool,
    /// It is shallow (`.git/shallow`).
    pub shallow: bool,
    /// It borrows objects from the cache's mirror of its URL.
    pub borrows_cache: bool,
}

/// What has been done so far to make one dep's pinned commit present, so
/// that a step that did not help is not planned again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tried {
    /// The pinned commit was fetched (by id, or its branch).
    pub fetched: bool,
    /// Objects of the pin file were fetched this many times.
    pub pin_file_fetches: u8,
}

impl Tried {
    /// Takes note of `steps`, which have just run.
    pub fn ran(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::Fetch(_) => self.fetched = true,
                Step::FetchPinFile { .. } => self.pin_file_fetches += 1,
                _ => {}
            }
        }
    }
}

/// The next move towards a dep's pinned commit.
#[derive(Clone, Debug)]
pub enum Presence<'f> {
    /// The commit is present in this checkout and its pin file can be read
    /// (or it has none): its pins are read from the probe.
    Ready(&'f Looked),
    /// Run these steps, then look again.
    Steps(Vec<Step>),
}

/// The steps that bring a missing dep: a new repository in its temporary
/// folder with just the pin fetched (with
/// [`SyncOptions::fetches_pins_only`]), else a clone without its files,
/// which the apply phase writes once, at the pin.
fn missing_steps(
    workspace: &Workspace,
    project: &Project,
    commit: &CommitId,
    options: &SyncOptions,
) -> Vec<Step> {
    let dep = &project.name;
    if options.fetches_pins_only() {
        let partial = workspace.partial_dir(dep);
        return vec![
            Step::Init {
                url: project.url(options.read_only).clone(),
                partial: partial.clone(),
                commit: commit.clone(),
            },
            // A repository with nothing in it yet is not shallow.
            Step::Fetch(Fetch {
                depth: options.depth,
                filter: options.filter,
                ..super::fetch(partial, commit, project)
            }),
        ];
    }
    vec![
        clone_step(
            workspace,
            project,
            options.read_only,
            options.depth,
            options.filter,
            true,
            options.cache.clone(),
        ),
        Step::Rename {
            from: workspace.partial_dir(dep),
            to: workspace.project_dir(dep),
        },
    ]
}

/// Plans what makes `chosen`'s commit present in `project`'s checkout and
/// its pin file readable, from what it holds (`found`) and what was already
/// tried; an error when the commit cannot be had. A missing dep is made
/// ([`missing_steps`]); a missing commit is fetched by id; a partial clone
/// gets what reading the pin file needs.
pub fn make_present<'f>(
    workspace: &Workspace,
    project: &Project,
    chosen: &Chosen,
    found: &'f Found,
    tried: &Tried,
    options: &SyncOptions,
) -> Result<Presence<'f>> {
    let dep = &project.name;
    let commit = &chosen.commit;
    let looked = match found {
        Found::NotCheckout { dir } => {
            return Err(anyhow!(
                "{} exists but is not a git checkout; move it away, then sync again",
                dir.display()
            ))
        }
        Found::Missing => {
            return Ok(Presence::Steps(missing_steps(
                workspace, project, commit, options,
            )))
        }
        Found::Checkout(looked) => looked,
    };
    if !looked.probe.has_commit {
        if tried.fetched {
            return Err(anyhow!(
                "commit {commit} (pinned by {}) is not on {dep}'s origin, neither by id nor on branch {}; \
                 push it, or pin a commit that is upstream",
                chosen.pinned_by,
                project.tracking_branch
            ));
        }
        let mirror = match &options.cache {
            Some(cache) if looked.borrows_cache => {
                Some((cache.clone(), project.url(options.read_only).clone()))
            }
            _ => None,
        };
        return Ok(Presence::Steps(vec![Step::Fetch(Fetch {
            depth: options.depth,
            unshallow: looked.shallow,
            mirror,
            ..super::fetch(looked.repo.clone(), commit, project)
        })]));
    }
    match &looked.probe.file_at_commit {
        // Two fetches at most: the commit's tree (when even that is
        // missing), then the file's contents.
        FileAtCommit::NotFetched { object } if tried.pin_file_fetches >= 2 => Err(anyhow!(
            "{dep}: {} at {} is still missing after fetching {object} from origin",
            crate::model::pinfile::FILE_NAME,
            commit.short()
        )),
        FileAtCommit::NotFetched { object } => Ok(Presence::Steps(vec![Step::FetchPinFile {
            repo: looked.repo.clone(),
            commit: commit.clone(),
            object: object.clone(),
        }])),
        _ => Ok(Presence::Ready(looked)),
    }
}

/// Where a chosen dep stands before the apply phase: what planning that
/// phase needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepState {
    /// Checked out; the pinned commit is present.
    Present {
        /// HEAD before the sync.
        head: Option<CommitId>,
        /// Cloned by this run (by the sync, or by the `checkout --sync`
        /// that runs it).
        fresh: bool,
        /// What [`crate::git::CHECKED_OUT_REF`] names.
        marked: Option<CommitId>,
        /// No index: its files were never written.
        unwritten: bool,
    },
    /// Missing, so made as a new repository in its temporary folder
    /// `partial` with just the pinned commit fetched
    /// ([`SyncOptions::fetches_pins_only`]); the apply phase checks the pin
    /// out there and renames it into place, and a sync that stops before
    /// applying removes it.
    Fetched { partial: PathBuf },
    /// Dry run: the folder is missing; the steps that make the pin present
    /// clone it (or make it in its temporary folder).
    WouldClone,
    /// Dry run: the pinned commit is missing; the steps that make it
    /// present fetch it. The fields as for [`DepState::Present`].
    WouldFetch { head: Option<CommitId>, unwritten: bool },
}

impl DepState {
    /// Where `found`, which holds the pin, leaves a dep for the apply phase:
    /// `partial` when it is the repository made in the temporary folder.
    pub fn present(looked: &Looked, fresh: bool, partial: bool) -> DepState {
        if partial {
            return DepState::Fetched {
                partial: looked.repo.clone(),
            };
        }
        DepState::Present {
            head: looked.probe.head.clone(),
            fresh,
            marked: looked.probe.marked.clone(),
            unwritten: looked.unwritten,
        }
    }

    /// Where a dry run leaves a dep whose presence needs steps it does not
    /// run: as the steps would leave it.
    pub fn pending(found: &Found, fresh: bool) -> DepState {
        match found {
            Found::Checkout(looked) if !looked.probe.has_commit => DepState::WouldFetch {
                head: looked.probe.head.clone(),
                unwritten: looked.unwritten,
            },
            Found::Checkout(looked) => DepState::present(looked, fresh, false),
            Found::Missing | Found::NotCheckout { .. } => DepState::WouldClone,
        }
    }

    /// Whether the apply phase checks the dep out at `commit`: it is not at
    /// the pin, or it is but its files were never written.
    pub fn moves_to(&self, commit: &CommitId) -> bool {
        match self {
            DepState::Present { head, unwritten, .. } => *unwritten || head.as_ref() != Some(commit),
            DepState::Fetched { .. } | DepState::WouldClone | DepState::WouldFetch { .. } => true,
        }
    }
}

/// The apply phase as plans, one per chosen dep in order: a checkout where
/// HEAD is not at the pin (or no files were written), the record of it
/// where that is missing, the rename of a repository made in its temporary
/// folder, and submodules for deps that have them, unless the dep stays
/// put and its submodules are `settled` (nothing there for the step to do).
pub fn plan_apply(
    workspace: &Workspace,
    registry: &Registry,
    deps: &[(Chosen, DepState)],
    settled: &BTreeSet<RepoName>,
    options: &SyncOptions,
) -> Vec<ProjectPlan> {
    deps.iter()
        .map(|(chosen, state)| {
            let repo = workspace.project_dir(&chosen.dep);
            let mut steps = Vec::new();
            // Where the pin is checked out: in place, or in the temporary
            // folder of a new repository, renamed into place afterwards.
            let partial = match state {
                DepState::Fetched { partial } => Some(partial.clone()),
                DepState::WouldClone if options.fetches_pins_only() => {
                    Some(workspace.partial_dir(&chosen.dep))
                }
                _ => None,
            };
            // A dep cloned by this run holds nothing of the user's: no
            // orphan check before moving it.
            let (fresh, overwrite) = match state {
                DepState::Present { fresh, unwritten, .. } => (*fresh, *unwritten),
                DepState::WouldFetch { unwritten, .. } => (false, *unwritten),
                DepState::Fetched { .. } | DepState::WouldClone => (true, true),
            };
            let moves = state.moves_to(&chosen.commit);
            if moves {
                steps.push(Step::Checkout {
                    repo: partial.clone().unwrap_or_else(|| repo.clone()),
                    commit: chosen.commit.clone(),
                    force: options.force || fresh,
                    overwrite,
                });
            } else if let DepState::Present { marked, .. } = state {
                // At the pin, but not recorded as checked out by the tool:
                // a run was stopped between the two, or an older version of
                // the tool checked it out.
                if marked.as_ref() != Some(&chosen.commit) {
                    steps.push(Step::Mark {
                        repo: repo.clone(),
                        commit: chosen.commit.clone(),
                    });
                }
            }
            if let Some(partial) = partial {
                steps.push(Step::Rename {
                    from: partial,
                    to: repo.clone(),
                });
            }
            let has_submodules = registry.get(&chosen.dep).is_some_and(|p| p.submodules);
            if has_submodules && (moves || !settled.contains(&chosen.dep)) {
                steps.push(Step::Submodules {
                    repo,
                    exclude: options.exclude_submodule.clone(),
                    depth: Some(SUBMODULE_DEPTH),
                    filter: options.filter,
                    cache: options.cache.clone(),
                    force: options.force,
                });
            }
            ProjectPlan {
                project: chosen.dep.clone(),
                steps,
            }
        })
        .collect()
}

/// How a sync meets a dep whose pin is not known before the run (see
/// [`plan_pending_sync`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Cloned by this run without its files (`checkout --sync`).
    ClonedBare,
    /// Missing: made with just its pin fetched ([`SyncOptions::fetches_pins_only`]).
    Missing,
    /// Checked out already, somewhere.
    Present,
}

/// The sync of `roots` when their own pin files are not there yet (a dry
/// run of `checkout --sync` before they are cloned): each dep of their
/// registry closure, breadth first, at a named placeholder for the pin
/// its nearest pinner's file will hold; what makes that commit present,
/// then the apply phase. `state` tells how each dep stands.
pub fn plan_pending_sync(
    workspace: &Workspace,
    registry: &Registry,
    roots: &[RepoName],
    state: impl Fn(&RepoName) -> Pending,
    options: &SyncOptions,
) -> Vec<PendingPlan> {
    let mut presence = Vec::new();
    let mut apply = Vec::new();
    for chosen in pending_choices(registry, roots, options) {
        let Some(project) = registry.get(&chosen.dep) else {
            continue;
        };
        let placeholder = format!(
            "<{}'s pin in {}/{}>",
            chosen.dep,
            chosen.pinned_by,
            crate::model::pinfile::FILE_NAME
        );
        let pending = state(&chosen.dep);
        let (parts, dep_state) = pending_presence(workspace, project, &chosen, pending, options);
        let plan = |steps| ProjectPlan {
            project: chosen.dep.clone(),
            steps,
        };
        for (steps, condition) in parts {
            presence.push(PendingPlan {
                plan: plan(steps),
                placeholder: placeholder.clone(),
                condition,
            });
        }
        let mut applied = plan_apply(
            workspace,
            registry,
            &[(chosen.clone(), dep_state)],
            &BTreeSet::new(),
            options,
        );
        apply.push(PendingPlan {
            plan: applied.remove(0),
            placeholder,
            condition: (pending == Pending::Present)
                .then(|| "unless it is at that commit already".to_string()),
        });
    }
    presence
        .into_iter()
        .chain(apply)
        .filter(|p| !p.plan.steps.is_empty())
        .collect()
}

/// What makes a pending dep's pin present (see [`plan_pending_sync`]), in
/// parts, each with the condition it runs under, and where it leaves the
/// dep.
type PendingPresence = (Vec<(Vec<Step>, Option<String>)>, DepState);

/// See [`PendingPresence`].
fn pending_presence(
    workspace: &Workspace,
    project: &Project,
    chosen: &Chosen,
    pending: Pending,
    options: &SyncOptions,
) -> PendingPresence {
    // Fetched by id if the checkout (or the clone the sync makes) lacks
    // the pin, as the probe after it tells.
    let fetch = (
        vec![Step::Fetch(Fetch {
            depth: options.depth,
            unshallow: options.depth.is_some(),
            mirror: options
                .cache
                .as_ref()
                .map(|c| (c.clone(), project.url(options.read_only).clone())),
            ..super::fetch(workspace.project_dir(&chosen.dep), &chosen.commit, project)
        })],
        Some("if it lacks that commit".to_string()),
    );
    match pending {
        Pending::Missing => {
            let steps = missing_steps(workspace, project, &chosen.commit, options);
            // A repository made with just the pin fetched has it.
            let then_fetch = (!options.fetches_pins_only()).then_some(fetch);
            let parts = std::iter::once((steps, None)).chain(then_fetch).collect();
            (parts, DepState::WouldClone)
        }
        Pending::ClonedBare | Pending::Present => {
            let state = DepState::Present {
                head: None,
                fresh: pending == Pending::ClonedBare,
                marked: None,
                unwritten: pending == Pending::ClonedBare,
            };
            (vec![fetch], state)
        }
    }
}

/// The deps a sync of `roots` resolves, as far as the registry tells
/// before any pin file is read: breadth first, each pinned (with the
/// placeholder commit) by the first project nearest the roots that has it
/// as a registry dep; roots and `--exclude-dep` matches left out.
fn pending_choices(registry: &Registry, roots: &[RepoName], options: &SyncOptions) -> Vec<Chosen> {
    let mut seen: BTreeSet<RepoName> = roots.iter().cloned().collect();
    let mut chosen = Vec::new();
    // First in, first out: level after level.
    let mut pinners: VecDeque<RepoName> = roots.iter().cloned().collect();
    while let Some(pinner) = pinners.pop_front() {
        let Some(project) = registry.get(&pinner) else {
            continue;
        };
        for dep in &project.deps {
            let excluded = crate::model::exclude::matching(&options.exclude_dep, dep.as_str()).is_some();
            if excluded || !seen.insert(dep.clone()) {
                continue;
            }
            chosen.push(Chosen {
                dep: dep.clone(),
                commit: placeholder_commit(),
                pinned_by: pinner.clone(),
            });
            pinners.push_back(dep.clone());
        }
    }
    chosen
}

/// The deps whose submodules decide whether the apply phase has anything
/// to do for them: those with submodules that it does not move. The
/// command asks git which of them are settled (see [`plan_apply`]).
pub fn submodules_to_look_at<'d>(registry: &Registry, deps: &'d [(Chosen, DepState)]) -> Vec<&'d RepoName> {
    deps.iter()
        .filter(|(chosen, state)| {
            !state.moves_to(&chosen.commit) && registry.get(&chosen.dep).is_some_and(|p| p.submodules)
        })
        .map(|(chosen, _)| &chosen.dep)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn registry() -> Registry {
        crate::model::registry::from_str(
            "[repos.app]\nro_url = \"https://example.invalid/app.git\"\nrw_url = \"ssh://example.invalid/app.git\"\n\
             deps = [\"liba\", \"libb\"]\n\
             [repos.liba]\nro_url = \"https://example.invalid/liba.git\"\nrw_url = \"ssh://example.invalid/liba.git\"\n\
             deps = [\"base\"]\nsubmodules = true\n\
             [repos.libb]\nro_url = \"https://example.invalid/libb.git\"\nrw_url = \"ssh://example.invalid/libb.git\"\n\
             tracking_branch = \"trunk\"\n\
             deps = [\"base\"]\n\
             [repos.base]\nro_url = \"https://example.invalid/base.git\"\n",
            Path::new("test.toml"),
        )
        .unwrap()
    }

    fn workspace() -> Workspace {
        Workspace::at(Path::new("/ws"))
    }

    fn name(s: &str) -> RepoName {
        RepoName::new(s).unwrap()
    }

    fn id(label: &str) -> CommitId {
        CommitId::new(&label.repeat(40).chars().take(40).collect::<String>()).unwrap()
    }

    fn chosen(dep: &str, commit: &str) -> Chosen {
        Chosen {
            dep: name(dep),
            commit: id(commit),
            pinned_by: name("app"),
        }
    }

    /// A checkout at `head`, holding the pin or not, with its pin file
    /// readable.
    fn checkout(dir: &str, head: &str, has_commit: bool) -> Looked {
        Looked {
            repo: PathBuf::from(dir),
            probe: Probe {
                head: Some(id(head)),
                has_commit,
                marked: Some(id(head)),
                file_at_commit: FileAtCommit::Absent,
            },
            ..Looked::default()
        }
    }

    /// A step as a short line a table can hold (no paths but the folder's
    /// name, no ids but their first two characters).
    fn line(step: &Step) -> String {
        let dir = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        let short = |c: &CommitId| c.as_str()[..2].to_string();
        match step {
            Step::Clone {
                url,
                partial,
                options,
                cache,
            } => format!(
                "clone {url} into {}{}{}{}{}",
                dir(partial),
                if options.no_checkout { " no-checkout" } else { "" },
                options.depth.map(|d| format!(" depth {d}")).unwrap_or_default(),
                options.filter.map(|f| format!(" filter {f}")).unwrap_or_default(),
                if cache.is_some() { " cache" } else { "" }
            ),
            Step::Init { url, partial, commit } => {
                format!("init {} origin {url} for {}", dir(partial), short(commit))
            }
            Step::Fetch(Fetch {
                repo,
                commit,
                depth,
                filter,
                branch,
                unshallow,
                mirror,
            }) => format!(
                "fetch {} in {}{}{} else {branch}{}{}",
                short(commit),
                dir(repo),
                depth.map(|d| format!(" depth {d}")).unwrap_or_default(),
                filter.map(|f| format!(" filter {f}")).unwrap_or_default(),
                if *unshallow { " unshallow" } else { "" },
                mirror
                    .as_ref()
                    .map(|(_, url)| format!(", mirror of {url} first"))
                    .unwrap_or_default()
            ),
            Step::FetchPinFile { repo, object, .. } => {
                format!("fetch object {} in {}", short(object), dir(repo))
            }
            Step::Checkout {
                repo,
                commit,
                force,
                overwrite,
            } => format!(
                "checkout {} in {}{}{}",
                short(commit),
                dir(repo),
                if *force { " force" } else { "" },
                if *overwrite { " overwrite" } else { "" }
            ),
            Step::Mark { repo, commit } => format!("mark {} in {}", short(commit), dir(repo)),
            Step::FetchBranch { repo, branch } => format!("fetch {branch} in {}", dir(repo)),
            Step::PutBack { repo, commit, .. } => format!("put back {} in {}", short(commit), dir(repo)),
            Step::Rename { from, to } => format!("rename {} to {}", dir(from), dir(to)),
            Step::Commit { repo, .. } => format!("commit in {}", dir(repo)),
            Step::Submodules {
                repo, force, exclude, ..
            } => format!(
                "submodules of {}{}{}",
                dir(repo),
                if *force { " force" } else { "" },
                if exclude.is_empty() { "" } else { " except some" }
            ),
            Step::Populate { repo } => format!("populate {}", dir(repo)),
        }
    }

    fn presence(dep: &str, found: Found, tried: Tried, options: &SyncOptions) -> Result<Vec<String>, String> {
        let reg = registry();
        let project = reg.lookup(dep).unwrap();
        match make_present(&workspace(), project, &chosen(dep, "c2"), &found, &tried, options) {
            Ok(Presence::Ready(_)) => Ok(vec![]),
            Ok(Presence::Steps(steps)) => Ok(steps.iter().map(line).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn cache() -> Arc<Cache> {
        Arc::new(Cache::open(&std::env::temp_dir(), false).unwrap())
    }

    #[test]
    fn a_missing_dep_is_cloned_or_made_for_its_pin_as_depth_filter_and_cache_say() {
        let filter = Filter::parse("blob:none").unwrap();
        let cases: [(&str, SyncOptions, &[&str]); 5] = [
            (
                "plain: a clone without files",
                SyncOptions::default(),
                &[
                    "clone ssh://example.invalid/libb.git into .openxla-partial-libb no-checkout",
                    "rename .openxla-partial-libb to libb",
                ],
            ),
            (
                "--ro --filter: from the read-only URL, filtered",
                SyncOptions {
                    read_only: true,
                    filter,
                    ..SyncOptions::default()
                },
                &[
                    "clone https://example.invalid/libb.git into .openxla-partial-libb no-checkout filter blob:none",
                    "rename .openxla-partial-libb to libb",
                ],
            ),
            (
                "--depth: a new repository and the pin alone, by id",
                SyncOptions {
                    depth: Some(1),
                    filter,
                    ..SyncOptions::default()
                },
                &[
                    "init .openxla-partial-libb origin ssh://example.invalid/libb.git for c2",
                    "fetch c2 in .openxla-partial-libb depth 1 filter blob:none else trunk",
                ],
            ),
            (
                "--depth with the cache: a clone from the mirror, unfiltered",
                SyncOptions {
                    depth: Some(1),
                    filter,
                    cache: Some(cache()),
                    ..SyncOptions::default()
                },
                &[
                    "clone ssh://example.invalid/libb.git into .openxla-partial-libb no-checkout depth 1 cache",
                    "rename .openxla-partial-libb to libb",
                ],
            ),
            (
                "the cache without --depth",
                SyncOptions {
                    cache: Some(cache()),
                    ..SyncOptions::default()
                },
                &[
                    "clone ssh://example.invalid/libb.git into .openxla-partial-libb no-checkout cache",
                    "rename .openxla-partial-libb to libb",
                ],
            ),
        ];
        for (label, options, steps) in cases {
            assert_eq!(
                presence("libb", Found::Missing, Tried::default(), &options),
                Ok(steps.iter().map(|s| s.to_string()).collect()),
                "{label}"
            );
        }
    }

    #[test]
    fn a_missing_commit_is_fetched_once_by_id_then_it_is_an_error() {
        let options = SyncOptions {
            depth: Some(3),
            filter: Filter::parse("tree:0").unwrap(),
            ..SyncOptions::default()
        };
        let mut looked = checkout("/ws/libb", "c1", false);
        // The filter is only for a repository the tool makes.
        assert_eq!(
            presence(
                "libb",
                Found::Checkout(looked.clone()),
                Tried::default(),
                &options
            ),
            Ok(vec!["fetch c2 in libb depth 3 else trunk".to_string()])
        );
        looked.shallow = true;
        assert_eq!(
            presence(
                "libb",
                Found::Checkout(looked.clone()),
                Tried::default(),
                &options
            ),
            Ok(vec!["fetch c2 in libb depth 3 else trunk unshallow".to_string()])
        );
        // Borrowing from the cache: its mirror first, only then origin.
        looked.borrows_cache = true;
        let with_cache = SyncOptions {
            cache: Some(cache()),
            read_only: true,
            ..SyncOptions::default()
        };
        assert_eq!(
            presence(
                "libb",
                Found::Checkout(looked.clone()),
                Tried::default(),
                &with_cache
            ),
            Ok(vec![
                "fetch c2 in libb else trunk unshallow, mirror of https://example.invalid/libb.git first"
                    .to_string()
            ])
        );
        // Borrowing, but no cache this run: origin alone.
        assert_eq!(
            presence(
                "libb",
                Found::Checkout(looked.clone()),
                Tried::default(),
                &SyncOptions::default()
            ),
            Ok(vec!["fetch c2 in libb else trunk unshallow".to_string()])
        );
        let fetched = Tried {
            fetched: true,
            ..Tried::default()
        };
        assert_eq!(
            presence("libb", Found::Checkout(looked), fetched, &options),
            Err(format!(
                "commit {} (pinned by app) is not on libb's origin, neither by id nor on branch trunk; push it, \
                 or pin a commit that is upstream",
                id("c2")
            ))
        );
    }

    #[test]
    fn a_partial_clone_gets_what_reading_the_pin_file_needs_twice_at_most() {
        let mut looked = checkout("/ws/.openxla-partial-base", "c2", true);
        looked.probe.file_at_commit = FileAtCommit::NotFetched { object: id("e7") };
        let options = SyncOptions::default();
        for fetches in [0, 1] {
            let tried = Tried {
                fetched: true,
                pin_file_fetches: fetches,
            };
            assert_eq!(
                presence("base", Found::Checkout(looked.clone()), tried, &options),
                Ok(vec!["fetch object e7 in .openxla-partial-base".to_string()])
            );
        }
        let tried = Tried {
            fetched: false,
            pin_file_fetches: 2,
        };
        assert_eq!(
            presence("base", Found::Checkout(looked.clone()), tried, &options),
            Err(format!(
                "base: sync_deps.py at {} is still missing after fetching {} from origin",
                id("c2").short(),
                id("e7")
            ))
        );
        // Read, or too large to be one (an error when parsed), or none.
        for file in [
            FileAtCommit::Contents(b"x".to_vec()),
            FileAtCommit::TooLarge { size: 1 << 30 },
            FileAtCommit::Absent,
        ] {
            looked.probe.file_at_commit = file;
            assert_eq!(
                presence(
                    "base",
                    Found::Checkout(looked.clone()),
                    Tried::default(),
                    &options
                ),
                Ok(vec![])
            );
        }
    }

    #[test]
    fn a_folder_that_is_not_a_checkout_is_an_error() {
        assert_eq!(
            presence(
                "base",
                Found::NotCheckout {
                    dir: PathBuf::from("/ws/base")
                },
                Tried::default(),
                &SyncOptions::default()
            ),
            Err("/ws/base exists but is not a git checkout; move it away, then sync again".to_string())
        );
    }

    #[test]
    fn tried_counts_the_steps_that_ran() {
        let mut tried = Tried::default();
        tried.ran(&[Step::Populate {
            repo: PathBuf::from("/ws/a"),
        }]);
        assert_eq!(tried, Tried::default());
        tried.ran(&[Step::FetchPinFile {
            repo: PathBuf::from("/ws/a"),
            commit: id("c2"),
            object: id("e7"),
        }]);
        assert_eq!(tried.pin_file_fetches, 1);
        assert!(!tried.fetched);
    }

    fn present(head: &str, marked: &str, fresh: bool, unwritten: bool) -> DepState {
        DepState::Present {
            head: Some(id(head)),
            fresh,
            marked: Some(id(marked)),
            unwritten,
        }
    }

    fn apply(deps: &[(&str, DepState)], settled: &[&str], options: &SyncOptions) -> Vec<String> {
        let deps: Vec<(Chosen, DepState)> = deps
            .iter()
            .map(|(dep, state)| (chosen(dep, "c2"), state.clone()))
            .collect();
        let settled = settled.iter().map(|s| name(s)).collect();
        plan_apply(&workspace(), &registry(), &deps, &settled, options)
            .iter()
            .map(|p| {
                let steps: Vec<String> = p.steps.iter().map(line).collect();
                format!("{}: {}", p.project, steps.join("; "))
            })
            .collect()
    }

    #[test]
    fn the_apply_phase_moves_what_is_not_at_its_pin_and_records_what_is() {
        let rows: [(&str, DepState, &str); 9] = [
            ("at the pin, recorded", present("c2", "c2", false, false), "libb: "),
            ("at the pin, not recorded", present("c2", "c1", false, false), "libb: mark c2 in libb"),
            ("elsewhere", present("c1", "c1", false, false), "libb: checkout c2 in libb"),
            (
                "at the pin without files",
                present("c2", "c2", false, true),
                "libb: checkout c2 in libb overwrite",
            ),
            (
                "cloned by this run: no orphan check",
                present("c1", "c1", true, true),
                "libb: checkout c2 in libb force overwrite",
            ),
            (
                "made for its pin",
                DepState::Fetched {
                    partial: PathBuf::from("/ws/.openxla-partial-libb"),
                },
                "libb: checkout c2 in .openxla-partial-libb force overwrite; rename .openxla-partial-libb to libb",
            ),
            (
                "dry run: to be fetched",
                DepState::WouldFetch {
                    head: Some(id("c1")),
                    unwritten: false,
                },
                "libb: checkout c2 in libb",
            ),
            (
                "dry run: to be cloned",
                DepState::WouldClone,
                "libb: checkout c2 in libb force overwrite",
            ),
            (
                "no HEAD (an unborn branch)",
                DepState::Present {
                    head: None,
                    fresh: false,
                    marked: None,
                    unwritten: false,
                },
                "libb: checkout c2 in libb",
            ),
        ];
        for (label, state, plan) in rows {
            assert_eq!(
                apply(&[("libb", state)], &[], &SyncOptions::default()),
                [plan],
                "{label}"
            );
        }
        // --force moves even a HEAD the user made; --depth makes missing
        // deps in their temporary folder.
        let options = SyncOptions {
            force: true,
            depth: Some(1),
            ..SyncOptions::default()
        };
        assert_eq!(
            apply(
                &[("libb", present("c1", "c1", false, false)), ("base", DepState::WouldClone)],
                &[],
                &options
            ),
            [
                "libb: checkout c2 in libb force",
                "base: checkout c2 in .openxla-partial-base force overwrite; rename .openxla-partial-base to base"
            ]
        );
    }

    #[test]
    fn submodules_are_updated_when_the_dep_moves_or_they_are_not_settled() {
        let options = SyncOptions {
            exclude_submodule: vec![Regex::new("x").unwrap()],
            ..SyncOptions::default()
        };
        let deps = [("liba", present("c2", "c2", false, false))];
        assert_eq!(apply(&deps, &["liba"], &options), ["liba: "]);
        assert_eq!(
            apply(&deps, &[], &options),
            ["liba: submodules of liba except some"]
        );
        let deps = [("liba", present("c1", "c1", false, false))];
        assert_eq!(
            apply(&deps, &["liba"], &options),
            ["liba: checkout c2 in liba; submodules of liba except some"]
        );
        let forced = SyncOptions {
            force: true,
            ..SyncOptions::default()
        };
        let deps = [("liba", present("c2", "c1", false, false))];
        assert_eq!(
            apply(&deps, &[], &forced),
            ["liba: mark c2 in liba; submodules of liba force"]
        );

        // Only a dep with submodules that stays put is worth a look.
        let reg = registry();
        let deps: Vec<(Chosen, DepState)> = [
            ("liba", present("c2", "c2", false, false)),
            ("libb", present("c2", "c2", false, false)),
        ]
        .into_iter()
        .map(|(d, s)| (chosen(d, "c2"), s))
        .collect();
        assert_eq!(submodules_to_look_at(&reg, &deps), [&name("liba")]);
        let deps = vec![(chosen("liba", "c2"), present("c1", "c1", false, false))];
        assert!(submodules_to_look_at(&reg, &deps).is_empty());
    }

    #[test]
    fn a_dry_run_sees_a_dep_as_its_pending_steps_would_leave_it() {
        let mut looked = checkout("/ws/libb", "c1", false);
        looked.unwritten = true;
        assert_eq!(
            DepState::pending(&Found::Checkout(looked.clone()), false),
            DepState::WouldFetch {
                head: Some(id("c1")),
                unwritten: true
            }
        );
        looked.probe.has_commit = true;
        assert_eq!(
            DepState::pending(&Found::Checkout(looked.clone()), true),
            present("c1", "c1", true, true)
        );
        assert_eq!(DepState::pending(&Found::Missing, false), DepState::WouldClone);
        assert_eq!(
            DepState::present(&looked, false, true),
            DepState::Fetched {
                partial: PathBuf::from("/ws/libb")
            }
        );
    }

    /// Before the roots are cloned, each dep of their registry closure is
    /// planned at a placeholder naming the pin file that will hold its pin
    /// (the nearest pinner, first in dep order): a fresh clone checked out
    /// there (after a fetch only if it lacks it), a missing dep made with
    /// just that commit, roots and exclusions left out.
    #[test]
    fn pins_not_known_yet_are_planned_at_named_placeholders() {
        let reg = registry();
        let fresh = |_: &RepoName| Pending::ClonedBare;
        let plans = plan_pending_sync(&workspace(), &reg, &[name("app")], fresh, &SyncOptions::default());
        let lines: Vec<String> = plans.iter().flat_map(PendingPlan::lines).collect();
        let base = "<base's pin in liba/sync_deps.py>";
        assert!(
            lines.contains(&format!(
                "base: if it lacks that commit: (in /ws/base) git fetch --no-tags origin {base}"
            )),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&format!(
            "base: (in /ws/base) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet \
             --force --detach {base} --"
        )),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("liba: (in /ws/liba/<PATH>) git fetch")),
            "{lines:#?}"
        );
        // libb left out, and libb a root: base's pin is still liba's.
        let options = SyncOptions {
            exclude_dep: vec![Regex::new("^liba$").unwrap()],
            depth: Some(1),
            ..SyncOptions::default()
        };
        let missing = |_: &RepoName| Pending::Missing;
        let plans = plan_pending_sync(&workspace(), &reg, &[name("app")], missing, &options);
        let deps: Vec<&str> = plans.iter().map(|p| p.plan.project.as_str()).collect();
        assert_eq!(deps, ["libb", "base", "libb", "base"]);
        assert_eq!(plans[1].placeholder, "<base's pin in libb/sync_deps.py>");
        assert!(matches!(
            plans[1].plan.steps[..],
            [Step::Init { .. }, Step::Fetch(_)]
        ));
        let plans = plan_pending_sync(
            &workspace(),
            &reg,
            &[name("app"), name("libb")],
            missing,
            &options,
        );
        let deps: Vec<&str> = plans.iter().map(|p| p.plan.project.as_str()).collect();
        assert_eq!(deps, ["base", "base"]);
    }
}
