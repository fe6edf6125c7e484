//! Runs plans: every project's steps on a rayon pool of `--jobs` threads.
//! One project's failure never stops the others; each yields its own
//! `Result`, and the caller summarises them all.

pub(crate) mod cache;
pub(crate) mod cache_admin;
pub(crate) mod cut_checkout;
pub(crate) mod failure_summary;
pub(crate) mod fetch_failure;
pub(crate) mod journal;
pub(crate) mod journal_path;
pub(crate) mod recover;
pub(crate) mod run_window;
pub(crate) mod step;
pub(crate) mod submodules;
pub(crate) mod undo_log;

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};

use crate::exec::cache::Cache;
use crate::exec::fetch_failure::{FetchFailure, UrlSource};
use crate::exec::step::{Fetch, ProjectPlan, Step};
use crate::git::{CloneOptions, Git, ProgressSink};
use crate::model::types::{BranchName, CommitId, RemoteUrl, RepoName};
use crate::model::workspace::PARTIAL_PREFIX;
use crate::ui::report::Reporter;

/// A pool of worker threads sized by `--jobs`.
pub struct Executor {
    pool: rayon::ThreadPool,
    jobs: usize,
    /// On a terminal, the first network operation per host runs alone: a
    /// credential helper that asks by itself can then ask once and cache
    /// the answer, and an ssh older than 8.4, which ignores
    /// `SSH_ASKPASS_REQUIRE` and asks on the terminal past the tool's
    /// prompter (`crate::ui::prompt`), asks once before the rest fan out.
    one_first_per_host: bool,
}

impl Executor {
    /// A pool of `jobs` workers.
    pub fn new(jobs: usize) -> Result<Executor> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .thread_name(|i| format!("openxla-workspace-{i}"))
            .build()
            .context("could not start the worker threads")?;
        Ok(Executor {
            pool,
            jobs,
            one_first_per_host: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        })
    }

    /// The number of workers.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Runs `work` on every item, at most `jobs` at a time, and returns the
    /// results in item order. `host` names the server an item first talks
    /// to; on a terminal the first item for each host runs before the rest
    /// fan out, so that at most one credential prompt is ever on screen.
    pub fn map<T, R, H, W>(&self, items: &[T], host: H, work: W) -> Vec<R>
    where
        T: Sync,
        R: Send,
        H: Fn(&T) -> Option<String>,
        W: Fn(&T) -> R + Sync + Send,
    {
        self.map_prioritised(items, |_| false, host, work)
    }

    /// Like [`Executor::map`], but items for which `first` holds start
    /// before the others (each group in item order): work with several
    /// round trips one after another, such as submodules, then overlaps
    /// the rest instead of trailing it.
    pub fn map_prioritised<T, R, F, H, W>(&self, items: &[T], first: F, host: H, work: W) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> bool,
        H: Fn(&T) -> Option<String>,
        W: Fn(&T) -> R + Sync + Send,
    {
        let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
        let mut hosts = BTreeSet::new();
        let alone: Vec<usize> = (0..items.len())
            .filter(|&i| self.one_first_per_host && host(&items[i]).is_some_and(|h| hosts.insert(h)))
            .collect();
        for &i in &alone {
            results[i] = Some(work(&items[i]));
        }
        // Start order: the `first` items, then the others; every worker
        // takes the next one as it becomes free.
        let mut queue: Vec<usize> = (0..items.len()).filter(|i| !alone.contains(i)).collect();
        queue.sort_by_key(|&i| !first(&items[i]));
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(queue.len()));
        self.pool.scope(|scope| {
            for _ in 0..self.jobs.min(queue.len()) {
                scope.spawn(|_| {
                    while let Some(&i) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let result = work(&items[i]);
                        done.lock().unwrap_or_else(|e| e.into_inner()).push((i, result));
                    }
                });
            }
        });
        for (i, r) in done.into_inner().unwrap_or_else(|e| e.into_inner()) {
            results[i] = Some(r);
        }
        results.into_iter().map(|r| r.expect("every item ran")).collect()
    }
}

/// Runs one project's steps in order, stopping at the first failure. On a
/// failed clone the temporary folder is removed, so no half-clone remains.
pub fn run_project(git: &Git, reporter: &Reporter, jobs: usize, plan: &ProjectPlan) -> Result<()> {
    if reporter.is_live() {
        let sink_reporter = reporter.clone();
        let project = plan.project.clone();
        let sink = ProgressSink::new(move |report: &str| sink_reporter.progress(&project, report));
        return run_steps(&git.with_progress(sink), reporter, jobs, plan);
    }
    run_steps(git, reporter, jobs, plan)
}

fn run_steps(git: &Git, reporter: &Reporter, jobs: usize, plan: &ProjectPlan) -> Result<()> {
    let mut run = StepRun {
        git,
        reporter,
        jobs,
        project: &plan.project,
        partial_to_clean: None,
    };
    let mut result = Ok(());
    for (i, step) in plan.steps.iter().enumerate() {
        if let Err(e) = run.step(step) {
            // A clone whose submodules could not all be cloned is put in
            // place all the same, as `sync` leaves a dep at its pin: the
            // project is complete, and the next run clones only the
            // submodules still missing instead of everything again.
            if let (Step::Submodules { .. }, Some(rename @ Step::Rename { .. })) =
                (step, plan.steps.get(i + 1))
            {
                let _ = run.step(rename);
            }
            result = Err(e);
            break;
        }
    }
    if result.is_err() {
        if let Some(partial) = run.partial_to_clean {
            remove_partial(partial);
        }
    }
    result
}

/// One project's plan while it runs: what every step needs, and the
/// temporary folder to remove if a later step fails.
struct StepRun<'a> {
    git: &'a Git,
    reporter: &'a Reporter,
    jobs: usize,
    project: &'a RepoName,
    /// A temporary folder a `Clone` or `Init` made and no `Rename` has put
    /// in place yet.
    partial_to_clean: Option<&'a Path>,
}

impl<'a> StepRun<'a> {
    /// Says on the project's progress line what the step does now.
    fn event(&self, text: &str) {
        self.reporter.event(self.project, text);
    }

    fn step(&mut self, step: &'a Step) -> Result<()> {
        match step {
            Step::Clone {
                url,
                partial,
                options,
                cache,
            } => self.clone(url, partial, options, cache.as_deref()),
            Step::Init { url, partial, commit } => self.init(url, partial, commit),
            Step::Fetch(fetch) => self.fetch(fetch),
            Step::FetchPinFile { repo, commit, object } => self.fetch_pin_file(repo, commit, object),
            Step::Checkout {
                repo,
                commit,
                force,
                overwrite,
            } => self.checkout(repo, commit, *force, *overwrite),
            Step::PutBack { repo, branch, commit } => self.put_back(repo, branch.as_ref(), commit),
            Step::Mark { repo, commit } => Ok(self.git.mark_checked_out(repo, commit)?),
            Step::FetchBranch { repo, branch } => {
                self.event(&format!("fetching {branch}"));
                Ok(self.git.fetch_branch(repo, branch, None, false)?)
            }
            Step::Populate { repo } => {
                self.event("checking out its branch");
                Ok(self.git.populate(repo)?)
            }
            Step::Submodules {
                repo,
                exclude,
                depth,
                filter,
                cache,
                force,
            } => crate::exec::submodules::Update {
                git: self.git,
                reporter: self.reporter,
                jobs: self.jobs,
                project: self.project,
                repo,
                exclude,
                depth: *depth,
                filter: *filter,
                cache: cache.as_deref(),
                force: *force,
            }
            .run(),
            Step::Commit {
                repo,
                branch,
                paths,
                message,
            } => self.commit(repo, branch.as_ref(), paths, message),
            Step::Rename { from, to } => self.rename(from, to),
        }
    }

    /// Clones `url` into `partial`: directly, or through the cache (one
    /// connection: refresh the mirror, then clone from it locally and point
    /// origin at the real URL).
    fn clone(
        &mut self,
        url: &RemoteUrl,
        partial: &'a Path,
        options: &CloneOptions,
        cache: Option<&Cache>,
    ) -> Result<()> {
        // A folder left by an interrupted run is ours (the workspace lock
        // rules out a concurrent one): start again from scratch.
        remove_partial(partial);
        self.partial_to_clean = Some(partial);
        let parent = partial.parent().unwrap_or(Path::new("."));
        match cache {
            None => {
                self.event(&format!("cloning {url}"));
                self.git
                    .clone_repo(parent, url, partial, options)
                    .map_err(|error| FetchFailure {
                        subject: self.project.to_string(),
                        url: url.to_string(),
                        source: UrlSource::Registry,
                        error,
                    })?;
            }
            Some(cache) => {
                self.event(&format!("updating the cache mirror of {url}"));
                cache.update(self.git, url).map_err(|e| {
                    crate::exec::fetch_failure::classified(
                        e,
                        self.project.as_str(),
                        url.as_str(),
                        UrlSource::Registry,
                    )
                })?;
                self.event("cloning from the cache");
                for cmd in crate::exec::step::cache_clone_commands(cache, url, partial, options) {
                    self.git.run(&cmd)?;
                }
            }
        }
        Ok(())
    }

    /// Makes an empty repository in `partial` with origin at `url`.
    fn init(&mut self, url: &RemoteUrl, partial: &'a Path, commit: &CommitId) -> Result<()> {
        remove_partial(partial);
        self.partial_to_clean = Some(partial);
        self.event(&format!("making an empty repository with origin {url}"));
        let parent = partial.parent().unwrap_or(Path::new("."));
        self.git.run(&Git::init_cmd(parent, partial, commit))?;
        self.git.run(&Git::add_origin_cmd(partial, url))?;
        Ok(())
    }

    /// Makes a pinned commit present; see [`Fetch`].
    fn fetch(&self, fetch: &Fetch) -> Result<()> {
        let (repo, commit) = (&fetch.repo, &fetch.commit);
        if let Some((cache, url)) = &fetch.mirror {
            // The checkout reads the mirror's objects: refreshing the
            // mirror (once per run) may be all that is needed.
            self.event("updating the cache mirror");
            cache.update(self.git, url)?;
            if self.git.head_and_presence(repo, commit)?.1 {
                return Ok(());
            }
        }
        self.event(&format!("fetching {}", commit.short()));
        let fetched = match self.git.fetch_commit(repo, commit, fetch.depth, fetch.filter) {
            Err(e) if e.is_refused_want() => {
                self.event(&format!(
                    "origin refused a fetch by id; fetching {} instead",
                    fetch.branch
                ));
                self.git.fetch_branch(repo, &fetch.branch, None, fetch.unshallow)
            }
            fetched => fetched,
        };
        // Told by cause and host in the summary, as a clone's failure is.
        fetched.map_err(|error| {
            FetchFailure {
                subject: self.project.to_string(),
                url: crate::git::origin_url_of(repo).unwrap_or_default(),
                source: UrlSource::Origin,
                error,
            }
            .into()
        })
    }

    /// Fetches one object that reading the pin file at `commit` needs.
    fn fetch_pin_file(&self, repo: &Path, commit: &CommitId, object: &CommitId) -> Result<()> {
        self.event(&format!(
            "fetching {} at {} (a partial clone)",
            crate::model::pinfile::FILE_NAME,
            commit.short()
        ));
        Ok(self.git.fetch_objects(repo, std::slice::from_ref(object))?)
    }

    /// Moves `repo` to `commit`, detached, and records it; see
    /// [`Step::Checkout`].
    fn checkout(&self, repo: &Path, commit: &CommitId, force: bool, overwrite: bool) -> Result<()> {
        if !force {
            if let Some(orphan) = self.git.orphanable_head(repo)? {
                bail!("{}", orphan_refusal(&Orphaned::Head { repo }, &orphan, commit));
            }
        }
        self.event(&format!("checking out {}", commit.short()));
        let checked_out = if overwrite {
            self.git.checkout_overwriting(repo, commit)
        } else {
            self.git.checkout_detached(repo, commit)
        };
        if let Err(e) = checked_out {
            if e.would_overwrite_local_changes() {
                return Err(anyhow::Error::new(e).context(format!(
                    "local changes in {} conflict with {}; nothing was changed there. Commit or stash them \
                     (`git -C {} stash`), then sync again",
                    repo.display(),
                    commit.short(),
                    repo.display()
                )));
            }
            return Err(e.into());
        }
        Ok(self.git.mark_checked_out(repo, commit)?)
    }

    /// Commits `paths` of `repo` with `message`, on a new branch first when
    /// one is named; see [`Step::Commit`].
    fn commit(
        &self,
        repo: &Path,
        branch: Option<&BranchName>,
        paths: &[PathBuf],
        message: &str,
    ) -> Result<()> {
        if let Some(branch) = branch {
            self.event(&format!("making branch {branch}"));
            self.git.run(&Git::create_branch_cmd(repo, branch))?;
        }
        self.event("committing");
        self.git.run(&Git::add_paths_cmd(repo, paths))?;
        Ok(self.git.commit(repo, message)?)
    }

    /// Puts `repo` back on `branch` (at `commit`), or at `commit` detached;
    /// see [`Step::PutBack`].
    fn put_back(&self, repo: &Path, branch: Option<&BranchName>, commit: &CommitId) -> Result<()> {
        if let Some(orphan) = self.git.orphanable_head(repo)? {
            bail!(
                "HEAD is at {orphan}, a detached commit that no branch contains: putting {} back at {} would \
                 leave it unreachable, so it was left as it is. Keep it with `git -C {} branch keep-{} {orphan}`, \
                 then undo again",
                repo.display(),
                commit.short(),
                repo.display(),
                orphan.short()
            );
        }
        match branch {
            Some(branch) => {
                self.event(&format!("checking out branch {branch}"));
                Ok(self.git.checkout_branch(repo, branch, commit)?)
            }
            None => {
                self.event(&format!("checking out {}", commit.short()));
                Ok(self.git.checkout_detached(repo, commit)?)
            }
        }
    }

    /// Renames the finished clone into place, unless something appeared
    /// there meanwhile.
    fn rename(&mut self, from: &Path, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(anyhow!(
                "{} appeared while cloning; the new clone is left out (remove it, then run again)",
                to.display()
            ));
        }
        std::fs::rename(from, to)
            .with_context(|| format!("could not rename {} to {}", from.display(), to.display()))?;
        self.partial_to_clean = None;
        Ok(())
    }
}

/// A checkout whose HEAD is a commit of the user's that moving it could
/// leave unreachable: a project's, or a submodule's.
pub enum Orphaned<'a> {
    /// A project's detached HEAD, in `repo`.
    Head { repo: &'a Path },
    /// The detached HEAD of the submodule at `path` in `project`, checked
    /// out in `dir`, that `project` never recorded.
    Submodule {
        path: &'a str,
        project: &'a RepoName,
        dir: &'a Path,
    },
}

/// Why a checkout at `head` was not moved to `target`, and the two ways on:
/// keep the commit on a branch, or `--force`. The one wording for projects
/// and submodules.
pub fn orphan_refusal(orphaned: &Orphaned, head: &CommitId, target: &CommitId) -> String {
    let (what, dir) = match orphaned {
        Orphaned::Head { repo } => (
            format!("HEAD is at {head}, a detached commit that no branch contains"),
            *repo,
        ),
        Orphaned::Submodule { path, project, dir } => (
            format!(
                "submodule {} is at {head}, a commit that no branch contains and that {project} never recorded",
                crate::model::text::escape_control(path, false)
            ),
            *dir,
        ),
    };
    format!(
        "{what}: moving it to {} would leave it unreachable, so it was left as it is. Keep it with \
         `git -C {} branch keep-{} {head}` and sync again, or run `sync --force` to move it anyway",
        target.short(),
        dir.display(),
        head.short()
    )
}

/// Removes a temporary clone folder; only ever called on our own
/// `.openxla-partial-*` folders.
pub fn remove_partial(path: &Path) {
    let ours = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(PARTIAL_PREFIX));
    if ours && path.exists() {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Whether `path` is `root/...` with no symbolic link on the way: nothing
/// is ever looked at or removed through one (a superproject may track a
/// symlink where a submodule used to be).
pub(crate) fn inside(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize(), path.strip_prefix(root)) {
        (Ok(root), Ok(real), Ok(rel)) => real == root.join(rel),
        _ => false,
    }
}

/// Removes the folders left empty between `removed` and `root`, as git
/// does when it deletes a file.
pub(crate) fn remove_empty_parents(root: &Path, removed: &Path) {
    let mut dir = removed.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prioritised_items_start_first_and_results_keep_item_order() {
        let executor = Executor::new(1).unwrap();
        let started = Mutex::new(Vec::new());
        let items = [1, 2, 3, 4, 5, 6];
        let results = executor.map_prioritised(
            &items,
            |&i| i % 3 == 0,
            |_| None,
            |&i| {
                started.lock().unwrap().push(i);
                i * 10
            },
        );
        assert_eq!(results, [10, 20, 30, 40, 50, 60]);
        // One worker: the start order is the queue's order.
        assert_eq!(started.into_inner().unwrap(), [3, 6, 1, 2, 4, 5]);
    }

    #[test]
    fn remove_partial_removes_only_the_tools_own_temporary_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let theirs = tmp.path().join("liba");
        let ours = tmp.path().join(format!("{PARTIAL_PREFIX}liba"));
        for dir in [&theirs, &ours] {
            std::fs::create_dir_all(dir.join(".git")).unwrap();
        }
        remove_partial(&theirs);
        assert!(theirs.join(".git").is_dir());
        remove_partial(&ours);
        assert!(!ours.exists());
        // Gone already: nothing to do, nothing else touched.
        remove_partial(&ours);
        assert!(theirs.join(".git").is_dir());
    }
}
