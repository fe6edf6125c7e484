//! Steps: every operation a plan can hold, each knowing the git commands
//! it runs (its `Display` is what `--dry-run` prints), and a project's
//! steps in order. Plans build them; the executor runs them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use regex::Regex;

use crate::exec::cache::Cache;
use crate::git::{CloneOptions, Git};
use crate::model::types::{BranchName, CommitId, Filter, RemoteUrl, RepoName};

/// One operation on one project.
#[derive(Clone, Debug)]
pub enum Step {
    /// Clone `url` into the temporary sibling folder `partial` with
    /// `options` (depth, checkout), from `cache`'s mirror of `url` if given.
    Clone {
        url: RemoteUrl,
        partial: PathBuf,
        options: CloneOptions,
        cache: Option<Arc<Cache>>,
    },
    /// Make an empty repository in the temporary folder `partial` with
    /// origin at `url`, for a fetch of just the pinned commit (`--depth`,
    /// where a clone of the branch tip would transfer what is not wanted).
    /// The commit's length gives the object format.
    Init {
        url: RemoteUrl,
        partial: PathBuf,
        commit: CommitId,
    },
    /// Make a missing pinned commit present (see [`Fetch`]).
    Fetch(Fetch),
    /// Fetch what reading the pin file at the pinned `commit` needs into a
    /// partial clone that lacks it: `object`, the commit's tree (which then
    /// names the file's contents, fetched in a second such step) or the
    /// file's contents. One visible fetch by id, instead of git's lazy
    /// fetches.
    FetchPinFile {
        repo: PathBuf,
        commit: CommitId,
        object: CommitId,
    },
    /// Move a checkout to `commit`, detached, and record it as checked out
    /// by the tool ([`crate::git::CHECKED_OUT_REF`]). Unless `force`, refuse
    /// when HEAD is a detached commit that moving could make unreachable.
    Checkout {
        repo: PathBuf,
        commit: CommitId,
        force: bool,
        /// The checkout has no index (a clone made without its files, or
        /// one an interrupted run left so): nothing there is the user's, so
        /// its files are written over whatever an interrupted write left
        /// (see [`Git::checkout_overwriting_cmd`]).
        overwrite: bool,
    },
    /// Put a checkout back where an undo record says it stood (`undo`): on
    /// local branch `branch`, which points at `commit`, or at `commit`
    /// detached. Not recorded as checked out by the tool: the commit is the
    /// user's. Refused, like [`Step::Checkout`], when HEAD is a detached
    /// commit that moving could make unreachable.
    PutBack {
        repo: PathBuf,
        branch: Option<BranchName>,
        commit: CommitId,
    },
    /// Initialise and update the submodules of the checkout in `repo` that
    /// are not at their recorded commit, except those whose `PROJECT:PATH`
    /// matches one of the regexes `exclude`: cloned with `depth` (`None`:
    /// full history) and `filter`, borrowing from `cache`'s mirrors if
    /// given. `force` moves a submodule even if its HEAD is a detached
    /// commit no ref contains.
    Submodules {
        repo: PathBuf,
        exclude: Vec<Regex>,
        depth: Option<u32>,
        filter: Option<Filter>,
        cache: Option<Arc<Cache>>,
        force: bool,
    },
    /// Fetch origin's tracking `branch` into `refs/remotes/origin/BRANCH`
    /// (what `pin --require-upstream` checks its pins against).
    FetchBranch { repo: PathBuf, branch: BranchName },
    /// Record that `commit`, already checked out (HEAD, the pin), is one the
    /// tool checked out (a run stopped between a checkout and its record).
    Mark { repo: PathBuf, commit: CommitId },
    /// Write the working tree of a clone made without one, at the branch
    /// HEAD names (what a plain clone would have checked out).
    Populate { repo: PathBuf },
    /// Commit the files at `paths` (relative to the project's checkout
    /// `repo`) with `message` (fed to git on stdin), on a new branch
    /// `branch` made at HEAD first when one is named, else on the current
    /// one (`roll --commit`).
    Commit {
        repo: PathBuf,
        branch: Option<BranchName>,
        paths: Vec<PathBuf>,
        message: String,
    },
    /// Rename the finished clone from the temporary folder `from` to the
    /// project folder `to`.
    Rename { from: PathBuf, to: PathBuf },
}

/// Make a missing pinned commit present: fetch it by id; if origin refuses
/// requests for commits it does not advertise, fetch the tracking branch
/// instead, whose history holds the pin. With a cache mirror the checkout
/// borrows from, refresh the mirror first and fetch only if that did not
/// bring the commit. Whether the commit is then there is for the next look
/// at the checkout to tell.
#[derive(Clone, Debug)]
pub struct Fetch {
    /// The checkout (or the repository just made for the pin).
    pub repo: PathBuf,
    /// The commit.
    pub commit: CommitId,
    /// `--depth`.
    pub depth: Option<u32>,
    /// `--filter`, for a repository the tool has just made (see
    /// [`Git::fetch_commit_cmd`]).
    pub filter: Option<Filter>,
    /// The tracking branch, fetched when origin refuses the fetch by id.
    pub branch: BranchName,
    /// Fetch that branch's whole history (`--unshallow`): the checkout is
    /// shallow, and the pin may be anywhere in it.
    pub unshallow: bool,
    /// The cache and the URL whose mirror the checkout borrows objects
    /// from: refreshed first (once per run).
    pub mirror: Option<(Arc<Cache>, RemoteUrl)>,
}

impl fmt::Display for Fetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let by_id = Git::fetch_commit_cmd(&self.repo, &self.commit, self.depth, self.filter);
        match &self.mirror {
            None => write!(f, "{by_id}")?,
            Some((cache, url)) => write!(
                f,
                "{}\n  then, unless that brought {}: {by_id}",
                continued(&cache.update_plan(url)),
                self.commit.short()
            )?,
        }
        write!(
            f,
            "\n  or, if origin refuses a fetch by id: {}",
            Git::fetch_branch_cmd(&self.repo, &self.branch, None, self.unshallow)
        )
    }
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

    /// Whether the plan checks the project out at a commit (moves it).
    pub fn checks_out(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Checkout { .. }))
    }

    /// The plan as `--dry-run` prints it: `PROJECT: STEP` per step; each
    /// under a condition when the recovery the dry run printed first may
    /// finish a checkout of the project (it plans on the state before).
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        const UNLESS: &str = "unless the repair above finished the checkout there: ";
        let pending = crate::exec::recover::repair_pending(&self.project);
        self.steps.iter().map(move |step| {
            let text = step.to_string();
            if pending {
                let text = text.replace("\n  then ", &format!("\n  then, {UNLESS}"));
                format!("{}: {UNLESS}{text}", self.project)
            } else {
                format!("{}: {text}", self.project)
            }
        })
    }
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
                        write!(f, "{}", continued(&lines))
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
            Step::Fetch(fetch) => write!(f, "{fetch}"),
            Step::FetchPinFile { repo, commit, object } => write!(
                f,
                "{}  (what reading {} at {} needs, which this partial clone lacks)",
                Git::fetch_objects_cmd(repo, std::slice::from_ref(object)),
                crate::model::pinfile::FILE_NAME,
                commit.short()
            ),
            Step::Checkout {
                repo,
                commit,
                overwrite,
                ..
            } => write!(
                f,
                "{}\n  then {}",
                if *overwrite {
                    Git::checkout_overwriting_cmd(repo, commit)
                } else {
                    Git::checkout_detached_cmd(repo, commit)
                },
                Git::mark_checked_out_cmd(repo, commit)
            ),
            Step::PutBack { repo, branch, commit } => match branch {
                Some(branch) => write!(f, "{}", Git::checkout_branch_cmd(repo, branch)),
                None => write!(f, "{}", Git::checkout_detached_cmd(repo, commit)),
            },
            Step::Mark { repo, commit } => write!(f, "{}", Git::mark_checked_out_cmd(repo, commit)),
            Step::FetchBranch { repo, branch } => {
                write!(f, "{}", Git::fetch_branch_cmd(repo, branch, None, false))
            }
            Step::Populate { repo } => write!(f, "{}", Git::populate_cmd(repo)),
            Step::Submodules {
                repo,
                exclude,
                depth,
                filter,
                cache,
                ..
            } => write!(
                f,
                "{}",
                continued(&submodule_lines(repo, exclude, *depth, *filter, cache.as_deref()))
            ),
            Step::Commit {
                repo, branch, paths, ..
            } => write_commit(f, repo, branch.as_ref(), paths),
            Step::Rename { from, to } => write!(f, "rename {} -> {}", from.display(), to.display()),
        }
    }
}

/// The branch, add and commit commands of a [`Step::Commit`].
fn write_commit(
    f: &mut fmt::Formatter<'_>,
    repo: &std::path::Path,
    branch: Option<&BranchName>,
    paths: &[PathBuf],
) -> fmt::Result {
    if let Some(branch) = branch {
        write!(f, "{}\n  then ", Git::create_branch_cmd(repo, branch))?;
    }
    write!(
        f,
        "{}\n  then {}  (the message on stdin)",
        Git::add_paths_cmd(repo, paths),
        Git::commit_cmd(repo)
    )
}

/// What the `Submodules` step may run, one line per git command (see
/// [`crate::exec::submodules::Update`]): which submodules need what is only
/// known once the superproject is at its commit, so each command is printed
/// once, with `<PATH>` and `<COMMIT>` (the commit the superproject records
/// for it) as placeholders, saying which submodules it is run for.
fn submodule_lines(
    repo: &std::path::Path,
    exclude: &[Regex],
    depth: Option<u32>,
    filter: Option<Filter>,
    cache: Option<&Cache>,
) -> Vec<String> {
    // The superproject's name (its clone's temporary folder is named after it).
    let folder = repo
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let project = folder
        .strip_prefix(".openxla-partial-")
        .unwrap_or(&folder)
        .to_string();
    let but = if exclude.is_empty() {
        String::new()
    } else {
        let res: Vec<&str> = exclude.iter().map(|r| r.as_str()).collect();
        format!(", but those whose {project}:PATH matches {}", res.join(", "))
    };
    let sub = repo.join("<PATH>");
    let commit = placeholder_commit();
    let at = |cmd: crate::git::GitCommand| cmd.to_string().replace(commit.as_str(), "<COMMIT>");
    let initialised = format!("each initialised submodule of {project}{but}");
    let mut lines = vec![
        format!(
            "{}  ({initialised} that lacks the commit {project} records for it)",
            at(Git::fetch_commit_cmd(&sub, &commit, depth, None))
        ),
        format!(
            "or, if origin refuses a fetch by id: {}  ({initialised}, not shallow, whose fetch origin refused)",
            Git::fetch_origin_cmd(&sub, false)
        ),
        format!(
            "or, if origin refuses a fetch by id: {}  ({initialised}, shallow, whose fetch origin refused)",
            Git::fetch_origin_cmd(&sub, true)
        ),
        format!(
            "{}  ({initialised} not at the commit {project} records for it)",
            at(Git::checkout_detached_cmd(&sub, &commit))
        ),
        format!(
            "{}  ({initialised} that has no files yet)",
            at(Git::checkout_overwriting_cmd(&sub, &commit))
        ),
        format!(
            "if a submodule of {project} is not initialised: {}",
            unquoted(&Git::submodule_init_cmd(repo, &["<PATH>...".to_string()]).to_string())
        ),
    ];
    let uninitialised = format!("each submodule of {project} not initialised{but}");
    let mut clone = crate::git::SubmoduleClone {
        depth,
        filter,
        ..Default::default()
    };
    if let Some(cache) = cache {
        // Its own URL's mirror, brought up to date first.
        let url =
            RemoteUrl::new("https://placeholder.invalid/submodule.git").unwrap_or_else(|_| unreachable!());
        let mirror = cache.mirror_path(&url).display().to_string();
        for line in cache.update_plan(&url) {
            let line = unquoted(&line.replace(&mirror, "<MIRROR>").replace(url.as_str(), "<URL>"));
            lines.push(format!(
                "{line}  ({uninitialised}, <URL> its URL, <MIRROR> the cache's mirror of it)"
            ));
        }
        clone.depth = None;
        clone.reference = Some(std::path::PathBuf::from("<MIRROR>"));
        clone.dissociate = cache.dissociate;
    }
    lines.push(format!(
        "{}  ({uninitialised})",
        unquoted(&Git::submodule_update_cmd(repo, "<PATH>", &clone).to_string())
    ));
    lines
}

/// Lines of one step as printed: each after the first on its own line,
/// after `then` (`then, if ...` for one that runs only under a condition;
/// an alternative, `or, if ...`, as it is).
pub fn continued(lines: &[String]) -> String {
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            text.push_str(if line.starts_with("or, ") {
                "\n  "
            } else if line.starts_with("if ") || line.starts_with("unless ") {
                "\n  then, "
            } else {
                "\n  then "
            });
        }
        text.push_str(line);
    }
    text
}

/// `line` without the shell quotes around words holding a `<placeholder>`
/// (they are not what is run).
fn unquoted(line: &str) -> String {
    static QUOTED: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    QUOTED
        .get_or_init(|| Regex::new(r"'([^' ]*<[^'>]*>[^' ]*)'").unwrap_or_else(|_| unreachable!()))
        .replace_all(line, "$1")
        .into_owned()
}

/// The commit a printed plan shows as a named placeholder, before the run
/// knows the real one (see [`PendingPlan`]).
pub fn placeholder_commit() -> CommitId {
    CommitId::new(&"deadbeef".repeat(5)).unwrap_or_else(|_| unreachable!())
}

/// A project's plan whose pinned commit is not known before the run (the
/// pin is in a project not cloned yet), and what it runs under: printed
/// with the named placeholder in place of [`placeholder_commit`], and each
/// line under its condition, if any.
#[derive(Clone, Debug)]
pub struct PendingPlan {
    /// The steps, with [`placeholder_commit`] for the pin.
    pub plan: ProjectPlan,
    /// What stands for the pin: `<base's pin in liba/sync_deps.py>`.
    pub placeholder: String,
    /// When the steps run (`if the clone lacks it`), if not always.
    pub condition: Option<String>,
}

impl PendingPlan {
    /// The plan as `--dry-run` prints it, one git command a line.
    pub fn lines(&self) -> Vec<String> {
        let commit = placeholder_commit();
        let mut lines = Vec::new();
        for step in &self.plan.steps {
            for (i, line) in step.to_string().lines().enumerate() {
                let line = line
                    .replace(commit.as_str(), &self.placeholder)
                    .replace(commit.short(), &self.placeholder);
                lines.push(match (&self.condition, line.strip_prefix("  then ")) {
                    (None, _) if i > 0 => line,
                    (None, _) => format!("{}: {line}", self.plan.project),
                    (Some(cond), _) if i == 0 => format!("{}: {cond}: {line}", self.plan.project),
                    (Some(cond), Some(rest)) => format!("  then, {cond}: {rest}"),
                    // Already under a condition of its own.
                    (Some(_), None) => line,
                });
            }
        }
        lines
    }
}

/// The commands that clone `url` into `partial` from its (up to date) cache
/// mirror, borrowing the mirror's objects, and then point origin at `url`.
/// The clone reads the mirror as a path, or as a file:// URL when shallow
/// so that git honours `--depth`.
pub fn cache_clone_commands(
    cache: &Cache,
    url: &RemoteUrl,
    partial: &std::path::Path,
    options: &CloneOptions,
) -> [crate::git::GitCommand; 2] {
    let parent = partial.parent().unwrap_or(partial);
    let mirror = cache.mirror_path(url);
    let source = if options.depth.is_some() {
        format!("file://{}", mirror.display())
    } else {
        mirror.display().to_string()
    };
    // The cache folder was checked when opened: its paths are valid URLs.
    let source = RemoteUrl::new(&source).unwrap_or_else(|_| url.clone());
    let options = CloneOptions {
        reference: Some(mirror),
        dissociate: cache.dissociate,
        no_local: true,
        ..options.clone()
    };
    [
        Git::clone_cmd(parent, &source, partial, &options),
        Git::set_origin_url_cmd(partial, url),
    ]
}
