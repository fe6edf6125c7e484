//! Plans as data: which projects, which git operations, in what order. A
//! command computes its plan first; `--dry-run` prints it, the executor runs
//! it, and summaries refer to it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use regex::Regex;

use crate::cache::Cache;
use crate::git::{CloneOptions, Git};
use crate::registry::Registry;
use crate::types::{CommitId, Filter, RemoteUrl, RepoName};
use crate::workspace::Workspace;

/// Depth of submodule clones made by `checkout` (shallow).
pub const SUBMODULE_DEPTH: u32 = 1;

/// One operation on one project.
#[derive(Clone, Debug)]
pub enum Step {
    /// Clone `url` into the temporary folder `partial`.
    Clone {
        /// Where to clone from.
        url: RemoteUrl,
        /// The temporary sibling folder the clone is made in.
        partial: PathBuf,
        /// Depth and checkout choices.
        options: CloneOptions,
        /// Make the clone from this object cache's mirror of `url`.
        cache: Option<Arc<Cache>>,
    },
    /// Make an empty repository in the temporary folder `partial` with
    /// origin at `url`, for a fetch of just the pinned commit (`--depth`,
    /// where a clone of the branch tip would transfer what is not wanted).
    Init {
        /// Where the commit will be fetched from.
        url: RemoteUrl,
        /// The temporary sibling folder.
        partial: PathBuf,
        /// The commit (its length gives the object format).
        commit: CommitId,
    },
    /// Fetch a missing pinned commit by id (resolution does this; plans
    /// show it in dry runs).
    Fetch {
        /// The checkout.
        repo: PathBuf,
        /// The commit.
        commit: CommitId,
        /// `--depth`.
        depth: Option<u32>,
        /// `--filter`, for a repository the tool has just made (see
        /// [`Git::fetch_commit_cmd`]).
        filter: Option<Filter>,
    },
    /// Move a checkout to `commit`, detached, and record it as checked out
    /// by the tool ([`crate::git::CHECKED_OUT_REF`]). Unless `force`, refuse
    /// when HEAD is a detached commit that moving could make unreachable. A
    /// checkout without an index gets its files written over whatever an
    /// interrupted write left there.
    Checkout {
        /// The checkout.
        repo: PathBuf,
        /// The pinned commit.
        commit: CommitId,
        /// Move even an unreachable detached HEAD.
        force: bool,
    },
    /// Initialise and update the submodules of the checkout in `repo` that
    /// are not at their recorded commit (shallow), except those whose
    /// `PROJECT:PATH` matches one of `exclude`.
    Submodules {
        /// The checkout whose submodules to update.
        repo: PathBuf,
        /// Regexes matched against `PROJECT:PATH`.
        exclude: Vec<Regex>,
        /// `--depth` for the submodule clones, `None` for full history.
        depth: Option<u32>,
        /// `--filter` for the submodule clones.
        filter: Option<Filter>,
        /// Clone submodules borrowing from this object cache's mirrors.
        cache: Option<Arc<Cache>>,
        /// Move a submodule even if its HEAD is a detached commit no ref
        /// contains.
        force: bool,
    },
    /// Record that `commit`, already checked out, is one the tool checked
    /// out (a run stopped between a checkout and its record).
    Mark {
        /// The checkout.
        repo: PathBuf,
        /// Its HEAD, the pin.
        commit: CommitId,
    },
    /// Write the working tree of a clone made without one, at the branch
    /// HEAD names (what a plain clone would have checked out).
    Populate {
        /// The checkout.
        repo: PathBuf,
    },
    /// Rename the finished clone into place.
    Rename {
        /// The temporary folder.
        from: PathBuf,
        /// The project folder.
        to: PathBuf,
    },
}

/// Everything one project needs, in order.
#[derive(Clone, Debug)]
pub struct ProjectPlan {
    /// The project.
    pub project: RepoName,
    /// The steps, run in order; a failed step ends this project's plan.
    pub steps: Vec<Step>,
}

impl ProjectPlan {
    /// Whether the plan updates submodules: several round trips one after
    /// another, so executors start such plans first.
    pub fn updates_submodules(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Submodules { .. }))
    }
}

/// What `checkout` will do.
#[derive(Debug, Default)]
pub struct CheckoutPlan {
    /// Projects to clone, in closure order.
    pub clones: Vec<ProjectPlan>,
    /// Projects whose folder already holds a checkout.
    pub existing: Vec<RepoName>,
    /// Projects whose folder exists but is not a git checkout.
    pub not_checkouts: Vec<(RepoName, PathBuf)>,
    /// Projects (cloned now or before) whose working tree is not written
    /// yet: the deps that `checkout --sync` clones without one, so that the
    /// sync writes each tree once, at its pin, and clones an interrupted
    /// run left without one. What no pin moves gets its branch checked out
    /// at the end ([`plan_populate`]).
    pub unwritten: Vec<RepoName>,
    /// Missing deps not cloned now: `checkout --sync --depth N` leaves them
    /// to the sync, which fetches only each pinned commit (one connection,
    /// and no branch tip). Any that no pin brings are cloned afterwards
    /// ([`clone_plan`]).
    pub left_to_sync: Vec<RepoName>,
    /// Deps of the projects checked out that `--exclude-dep` leaves out,
    /// each with the regex that matched it.
    pub excluded: Vec<(RepoName, String)>,
}

/// The choices `checkout` was given.
#[derive(Clone, Debug, Default)]
pub struct CheckoutOptions {
    /// Also the transitive closure of registry deps.
    pub with_deps: bool,
    /// Clone from `ro_url`.
    pub read_only: bool,
    /// Initialise submodules of projects that have them.
    pub submodules: bool,
    /// Deps to leave out.
    pub exclude_dep: Vec<Regex>,
    /// Submodules (`PROJECT:PATH`) to leave out.
    pub exclude_submodule: Vec<Regex>,
    /// The shared object cache, if any.
    pub cache: Option<Arc<Cache>>,
    /// `--depth N` for the clones.
    pub depth: Option<u32>,
    /// `--filter` for the clones (and their submodules).
    pub filter: Option<Filter>,
    /// `checkout --sync`: clone the deps (not the named projects) without
    /// a working tree and leave their submodules, for the sync to write
    /// both once, at the pins. With `--depth` (and no cache), do not clone
    /// them at all: the sync fetches just their pinned commits.
    pub defer_dep_trees: bool,
}

/// Plans a checkout of `roots` (already known to be in the registry).
pub fn plan_checkout(
    workspace: &Workspace,
    registry: &Registry,
    git: &Git,
    roots: &[RepoName],
    options: &CheckoutOptions,
) -> CheckoutPlan {
    let left_out = std::cell::RefCell::new(Vec::new());
    let excluded = |name: &RepoName| match matching(&options.exclude_dep, name.as_str()) {
        Some(re) => {
            let mut left_out = left_out.borrow_mut();
            if !left_out.iter().any(|(n, _)| n == name) {
                left_out.push((name.clone(), re.as_str().to_string()));
            }
            true
        }
        None => false,
    };
    let mut plan = CheckoutPlan::default();
    let closure = registry.closure(roots, options.with_deps, excluded);
    plan.excluded = left_out.into_inner();
    for name in closure {
        let Some(project) = registry.get(&name) else {
            continue;
        };
        let dest = workspace.project_dir(&name);
        if dest.exists() || dest.is_symlink() {
            if git.is_checkout_root(&dest) {
                // A clone with no working tree yet, but with a commit to
                // write one from (not a repository nobody committed to).
                if Git::lacks_working_tree(&dest) && git.head_commit(&dest).is_ok_and(|h| h.is_some()) {
                    plan.unwritten.push(name.clone());
                }
                plan.existing.push(name);
            } else {
                plan.not_checkouts.push((name, dest));
            }
            continue;
        }
        let defer = options.defer_dep_trees && !roots.contains(&name);
        if defer && options.depth.is_some() && options.cache.is_none() {
            plan.left_to_sync.push(name);
        } else {
            if defer {
                plan.unwritten.push(name.clone());
            }
            plan.clones.push(clone_plan(workspace, project, options, defer));
        }
    }
    plan
}

/// The first of `exclude` that matches `key` (a dep's name, or a
/// submodule's `PROJECT:PATH`).
pub fn matching<'r>(exclude: &'r [Regex], key: &str) -> Option<&'r Regex> {
    exclude.iter().find(|re| re.is_match(key))
}

/// The line that reports a dep left out by `--exclude-dep`.
pub fn excluded_dep_line(dep: &RepoName, re: &str) -> String {
    format!("{dep}: excluded (--exclude-dep {re})")
}

/// The line that reports a submodule left out by `--exclude-submodule`.
pub fn excluded_submodule_line(project: &RepoName, path: &str, re: &str) -> String {
    format!(
        "{project}: submodule {} excluded (--exclude-submodule {re})",
        crate::text::escape_control(path, false)
    )
}

/// The clone of one project into its temporary folder, its submodules, and
/// the rename into place. With `without_tree`, the clone has no working
/// tree and no submodules yet (see [`CheckoutPlan::unwritten`]).
pub fn clone_plan(
    workspace: &Workspace,
    project: &crate::registry::Project,
    options: &CheckoutOptions,
    without_tree: bool,
) -> ProjectPlan {
    let partial = workspace.partial_dir(&project.name);
    let mut steps = vec![clone_step(
        workspace,
        project,
        options.read_only,
        options.depth,
        options.filter,
        without_tree,
        options.cache.clone(),
    )];
    if !without_tree && project.submodules && options.submodules {
        steps.push(Step::Submodules {
            repo: partial.clone(),
            exclude: options.exclude_submodule.clone(),
            depth: Some(SUBMODULE_DEPTH),
            filter: options.filter,
            cache: options.cache.clone(),
            force: false,
        });
    }
    steps.push(Step::Rename {
        from: partial,
        to: workspace.project_dir(&project.name),
    });
    ProjectPlan {
        project: project.name.clone(),
        steps,
    }
}

/// The clone of `project` (from its read-only URL when `read_only`) into
/// its temporary folder, `--depth`, `--filter` and `--no-checkout` as
/// given. Through the cache the filter does not apply: such a clone
/// borrows every object from the cache's mirror, which is complete.
pub fn clone_step(
    workspace: &Workspace,
    project: &crate::registry::Project,
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

/// Writes the working trees that are still missing after a checkout (and
/// its sync): each project's branch, then its submodules as a plain
/// `checkout` would have done.
pub fn plan_populate(
    workspace: &Workspace,
    registry: &Registry,
    names: &[RepoName],
    options: &CheckoutOptions,
) -> Vec<ProjectPlan> {
    names
        .iter()
        .map(|name| {
            let repo = workspace.project_dir(name);
            let mut steps = vec![Step::Populate { repo: repo.clone() }];
            if options.submodules && registry.get(name).is_some_and(|p| p.submodules) {
                steps.push(Step::Submodules {
                    repo,
                    exclude: options.exclude_submodule.clone(),
                    depth: Some(SUBMODULE_DEPTH),
                    filter: options.filter,
                    cache: options.cache.clone(),
                    force: false,
                });
            }
            ProjectPlan {
                project: name.clone(),
                steps,
            }
        })
        .collect()
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Clone {
                url,
                partial,
                options,
                cache,
            } => {
                let parent = partial.parent().unwrap_or(partial);
                match cache {
                    None => write!(f, "{}", Git::clone_cmd(parent, url, partial, options)),
                    Some(cache) => {
                        let clone = cache_clone_commands(cache, url, partial, options);
                        let mut lines = cache.update_plan(url);
                        lines.extend(clone.iter().map(|c| c.to_string()));
                        write!(f, "{}", lines.join("\n  then "))
                    }
                }
            }
            Step::Init { url, partial, commit } => {
                let parent = partial.parent().unwrap_or(partial);
                write!(
                    f,
                    "{}\n  then {}",
                    Git::init_cmd(parent, partial, commit),
                    Git::add_origin_cmd(partial, url)
                )
            }
            Step::Fetch {
                repo,
                commit,
                depth,
                filter,
            } => {
                write!(f, "{}", Git::fetch_commit_cmd(repo, commit, *depth, *filter))
            }
            Step::Checkout { repo, commit, .. } => write!(
                f,
                "{}\n  then {}",
                if Git::lacks_working_tree(repo) {
                    Git::checkout_overwriting_cmd(repo, commit)
                } else {
                    Git::checkout_detached_cmd(repo, commit)
                },
                Git::mark_checked_out_cmd(repo, commit)
            ),
            Step::Mark { repo, commit } => write!(f, "{}", Git::mark_checked_out_cmd(repo, commit)),
            Step::Populate { repo } => write!(f, "{}", Git::populate_cmd(repo)),
            Step::Submodules {
                repo,
                exclude,
                depth,
                filter,
                cache,
                ..
            } => {
                let clone = crate::git::SubmoduleClone {
                    depth: if cache.is_some() { None } else { *depth },
                    filter: *filter,
                    reference: cache.as_ref().map(|_| PathBuf::from("<MIRROR>")),
                    dissociate: cache.as_ref().is_some_and(|c| c.dissociate),
                };
                let init = Git::submodule_init_cmd(repo, &["<PATH>...".to_string()]);
                let cmd = Git::submodule_update_cmd(repo, "<PATH>", &clone);
                write!(
                    f,
                    "{init}\n  then {cmd}  (each submodule not initialised, one process each"
                )?;
                if cache.is_some() {
                    write!(f, ", <MIRROR> being its cache mirror, brought up to date first")?;
                }
                write!(
                    f,
                    "; each other one not at its recorded commit gets `git checkout --no-overwrite-ignore \
                     --detach COMMIT` in it"
                )?;
                if !exclude.is_empty() {
                    let res: Vec<&str> = exclude.iter().map(|r| r.as_str()).collect();
                    write!(f, ", except PROJECT:PATH matching {}", res.join(", "))?;
                }
                write!(f, ")")
            }
            Step::Rename { from, to } => write!(f, "rename {} -> {}", from.display(), to.display()),
        }
    }
}

impl fmt::Display for CheckoutPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, dir) in &self.not_checkouts {
            writeln!(
                f,
                "{name}: error: {} exists but is not a git checkout",
                dir.display()
            )?;
        }
        for (name, re) in &self.excluded {
            writeln!(f, "{}", excluded_dep_line(name, re))?;
        }
        for name in &self.existing {
            writeln!(f, "{name}: skip (already exists)")?;
        }
        for project in &self.clones {
            for step in &project.steps {
                writeln!(f, "{}: {step}", project.project)?;
            }
        }
        Ok(())
    }
}

/// The commands that clone `url` into `partial` from its (up to date) cache
/// mirror, borrowing the mirror's objects, and then point origin at `url`.
pub fn cache_clone_commands(
    cache: &Cache,
    url: &RemoteUrl,
    partial: &std::path::Path,
    options: &CloneOptions,
) -> [crate::git::GitCommand; 2] {
    let parent = partial.parent().unwrap_or(partial);
    let (source, options) = cache_clone_source(cache, url, options);
    [
        Git::clone_cmd(parent, &source, partial, &options),
        Git::set_origin_url_cmd(partial, url),
    ]
}

/// Where a clone through the cache reads from (the mirror, as a path, or a
/// file:// URL when shallow so git honours `--depth`), and its options.
fn cache_clone_source(cache: &Cache, url: &RemoteUrl, options: &CloneOptions) -> (RemoteUrl, CloneOptions) {
    let mirror = cache.mirror_path(url);
    let source = if options.depth.is_some() {
        format!("file://{}", mirror.display())
    } else {
        mirror.display().to_string()
    };
    let options = CloneOptions {
        reference: Some(mirror),
        dissociate: cache.dissociate,
        no_local: true,
        ..options.clone()
    };
    // The cache folder was checked when opened: its paths are valid URLs.
    (RemoteUrl::new(&source).unwrap_or_else(|_| url.clone()), options)
}
