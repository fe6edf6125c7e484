//! Runs plans: every project's steps on a rayon pool of `--jobs` threads.
//! One project's failure never stops the others; each yields its own
//! `Result`, and the caller summarises them all.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};

use crate::git::{Git, ProgressSink};
use crate::plan::{ProjectPlan, Step};
use crate::report::Reporter;
use crate::types::RepoName;
use crate::workspace::PARTIAL_PREFIX;

/// Default number of git processes at a time. Cloning and fetching wait on
/// the network far more than on the CPU, so this is well above the core
/// count. `scripts/bench.sh` measures the choice: on 2 cores, 8, 16 and 32
/// are within noise of each other at 150 ms per connection, and 16 or 32
/// gained 5% to 15% at 500 ms. It stays 8: OpenSSH servers by default start
/// dropping unauthenticated connections beyond 10 at once (`MaxStartups
/// 10:30:100`), and a workspace's connections often all go to one host.
pub const DEFAULT_JOBS: usize = 8;

/// A pool of worker threads sized by `--jobs`.
pub struct Executor {
    pool: rayon::ThreadPool,
    jobs: usize,
    /// On a terminal, the first network operation per host runs alone: a
    /// credential helper that asks by itself can then ask once and cache
    /// the answer, and an ssh older than 8.4, which ignores
    /// `SSH_ASKPASS_REQUIRE` and asks on the terminal past the tool's
    /// prompter (`crate::prompt`), asks once before the rest fan out.
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
        let mut alone: Vec<usize> = Vec::new();
        if self.one_first_per_host {
            let mut seen = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(h) = host(item) {
                    if seen.insert(h) {
                        alone.push(i);
                    }
                }
            }
            for &i in &alone {
                results[i] = Some(work(&items[i]));
            }
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
    let mut partial_to_clean: Option<&Path> = None;
    let result = (|| {
        for step in &plan.steps {
            run_step(git, reporter, jobs, &plan.project, step, &mut partial_to_clean)?;
        }
        Ok(())
    })();
    if result.is_err() {
        if let Some(partial) = partial_to_clean {
            remove_partial(partial);
        }
    }
    result
}

fn run_step<'a>(
    git: &Git,
    reporter: &Reporter,
    jobs: usize,
    project: &RepoName,
    step: &'a Step,
    partial_to_clean: &mut Option<&'a Path>,
) -> Result<()> {
    match step {
        Step::Clone {
            url,
            partial,
            options,
            cache,
        } => {
            // A folder left by an interrupted run is ours (the workspace lock
            // rules out a concurrent one): start again from scratch.
            remove_partial(partial);
            *partial_to_clean = Some(partial);
            let parent = partial.parent().unwrap_or(Path::new("."));
            match cache {
                None => {
                    reporter.event(project, &format!("cloning {url}"));
                    git.clone_repo(parent, url, partial, options)?;
                }
                Some(cache) => {
                    // One connection: refresh the mirror, then clone from it
                    // locally and point origin at the real URL.
                    reporter.event(project, &format!("updating the cache mirror of {url}"));
                    cache.update(git, url)?;
                    reporter.event(project, "cloning from the cache");
                    for cmd in crate::plan::cache_clone_commands(cache, url, partial, options) {
                        git.run(&cmd)?;
                    }
                }
            }
        }
        Step::Init { url, partial, commit } => {
            remove_partial(partial);
            *partial_to_clean = Some(partial);
            reporter.event(project, &format!("making an empty repository with origin {url}"));
            let parent = partial.parent().unwrap_or(Path::new("."));
            git.run(&Git::init_cmd(parent, partial, commit))?;
            git.run(&Git::add_origin_cmd(partial, url))?;
        }
        Step::Fetch {
            repo,
            commit,
            depth,
            filter,
        } => {
            reporter.event(project, &format!("fetching {}", commit.short()));
            git.fetch_commit(repo, commit, *depth, *filter)?;
        }
        Step::Checkout { repo, commit, force } => {
            if !force {
                if let Some(orphan) = git.orphanable_head(repo)? {
                    bail!(
                        "HEAD is at {orphan}, a detached commit that no branch contains; checking out {} would \
                         leave it unreachable, so {} was left as it is. Keep the commit with \
                         `git -C {} branch keep-{} {orphan}` and sync again, or run `sync --force` to move it anyway",
                        commit.short(),
                        repo.display(),
                        repo.display(),
                        orphan.short()
                    );
                }
            }
            reporter.event(project, &format!("checking out {}", commit.short()));
            // No index: nothing there is the user's (see
            // `Git::checkout_overwriting_cmd`).
            let checked_out = if Git::lacks_working_tree(repo) {
                git.checkout_overwriting(repo, commit)
            } else {
                git.checkout_detached(repo, commit)
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
            git.mark_checked_out(repo, commit)?;
        }
        Step::Mark { repo, commit } => git.mark_checked_out(repo, commit)?,
        Step::Populate { repo } => {
            reporter.event(project, "checking out its branch");
            git.populate(repo)?;
        }
        Step::Submodules {
            repo,
            exclude,
            depth,
            filter,
            cache,
            force,
        } => crate::submodules::Update {
            git,
            reporter,
            jobs,
            project,
            repo,
            exclude,
            depth: *depth,
            filter: *filter,
            cache: cache.as_deref(),
            force: *force,
        }
        .run()?,
        Step::Rename { from, to } => {
            if to.exists() {
                return Err(anyhow!(
                    "{} appeared while cloning; the new clone is left out (remove it, then run again)",
                    to.display()
                ));
            }
            std::fs::rename(from, to)
                .with_context(|| format!("could not rename {} to {}", from.display(), to.display()))?;
            *partial_to_clean = None;
        }
    }
    Ok(())
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
}
