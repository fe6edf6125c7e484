//! The submodules of one checkout brought to the commits its superproject
//! records (the plan's `Submodules` step), with the same care as projects:
//!
//! - the recorded commit is always checked out, detached: a `.gitmodules`
//!   `update = rebase|merge|none|!command` from someone else's repository is
//!   never obeyed (initialised submodules are moved by the tool itself,
//!   uninitialised ones cloned by `git submodule update --checkout`);
//! - a submodule with uncommitted changes, on a local branch with commits
//!   the recorded commit lacks, or detached at a commit of the user's (see
//!   [`at_risk`]) is reported and left as it is; untracked or ignored files
//!   in the way of the recorded commit make git refuse, as for projects;
//! - what an interrupted run leaves is repaired and said on one line: a
//!   submodule without its files (no index), a half-made clone in
//!   `.git/modules`; and the files of a submodule the superproject no
//!   longer has are removed when nothing in them is the user's.
//!
//! A submodule is found in `.git/modules/PATH`, named after its path as git
//! names submodules by default.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use regex::Regex;

use crate::exec::fetch_failure::{FetchFailure, FetchFailures, UrlSource};
use crate::exec::{inside, remove_empty_parents};
use crate::git::{git_dir_of, Git, SubmoduleClone, SubmoduleEntry, SubmoduleState};
use crate::model::text::escape_control;
use crate::model::types::{CommitId, RepoName};
use crate::ui::report::Reporter;

/// What the `Submodules` step was given (see [`crate::exec::step::Step`]),
/// with the superproject's `project` name and checkout `repo`, and `jobs`
/// for the clones of uninitialised submodules.
pub struct Update<'a> {
    pub git: &'a Git,
    pub reporter: &'a Reporter,
    pub jobs: usize,
    pub project: &'a RepoName,
    pub repo: &'a Path,
    pub exclude: &'a [Regex],
    pub depth: Option<u32>,
    pub filter: Option<crate::model::types::Filter>,
    pub cache: Option<&'a crate::exec::cache::Cache>,
    pub force: bool,
}

impl Update<'_> {
    /// Brings every submodule that is not left out to its recorded commit.
    /// Submodules that cannot be moved are listed in the error; the others
    /// are moved all the same.
    pub fn run(&self) -> Result<()> {
        let entries = self.git.submodule_status(self.repo)?;
        self.remove_leftovers(&entries)?;
        let mut wanted = Vec::new();
        for entry in &entries {
            let key = format!("{}:{}", self.project, entry.path);
            match crate::model::exclude::matching(self.exclude, &key) {
                Some(re) => self
                    .reporter
                    .note_once(&crate::model::exclude::excluded_submodule_line(
                        self.project,
                        &entry.path,
                        re.as_str(),
                    )),
                None => wanted.push(entry),
            }
        }

        let mut problems = Vec::new();
        let mut to_init = Vec::new();
        for entry in wanted {
            let path = &entry.path;
            let commit = &entry.recorded;
            let result = match entry.state {
                SubmoduleState::Uninitialised => {
                    let module = modules_dir(self.repo).map(|m| m.join(path));
                    self.rebuild_if_half_made(path, module)?;
                    to_init.push((path.clone(), commit.clone()));
                    Ok(())
                }
                _ if Git::lacks_index(&self.repo.join(path)) => self.write_files(path, commit, &mut to_init),
                SubmoduleState::AtRecorded => Ok(()),
                SubmoduleState::Elsewhere => self.move_to(path, commit),
            };
            if let Err(problem) = result {
                problems.push(problem);
            }
        }

        if !to_init.is_empty() {
            self.reporter.event(
                self.project,
                &format!(
                    "cloning {} submodule{}",
                    to_init.len(),
                    if to_init.len() == 1 { "" } else { "s" }
                ),
            );
            self.clone_all(&to_init)?;
        }
        match problems.len() {
            0 => Ok(()),
            1 => bail!("{}", problems[0]),
            n => bail!("{n} submodules were left as they are:\n{}", problems.join("\n")),
        }
    }

    /// Clones the uninitialised submodules at `paths`, one `git submodule
    /// update` each, `jobs` at a time (each counts among the run's git
    /// processes, see [`crate::process::cap::ProcessCap`]). With the cache, each
    /// first brings its own mirror up to date and then borrows from it
    /// (full history: borrowed objects cost nothing, and a shallow clone
    /// of a commit that is not its branch tip would cost more round trips).
    fn clone_all(&self, submodules: &[(String, CommitId)]) -> Result<()> {
        let paths: Vec<String> = submodules.iter().map(|(path, _)| path.clone()).collect();
        let paths = &paths[..];
        let mut options = SubmoduleClone {
            depth: self.depth,
            filter: self.filter,
            ..SubmoduleClone::default()
        };
        if options.filter.is_some() && !self.git.filters_submodules() {
            self.reporter.note_once(&format!(
                "{}: submodules cloned in full, not with --filter {}: {} has no `git submodule update \
                 --filter` (git 2.36 and later have)",
                self.project,
                self.filter.map(|f| f.as_str()).unwrap_or_default(),
                self.git.version_for_messages()
            ));
            options.filter = None;
        }
        self.git.submodule_init(self.repo, paths)?;
        if self.cache.is_some() {
            options.depth = None;
            options.dissociate = self.cache.is_some_and(|c| c.dissociate);
        }
        // Each clone's URL: to borrow from the cache's mirror of it, to
        // start none to a host the run found shut, and to say where a
        // failure went.
        let urls = self.git.submodule_urls(self.repo, paths)?;
        // The clones run side by side: their transfers cannot share the
        // project's one progress line.
        let git = self.git.without_progress();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failures = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..self.jobs.clamp(1, submodules.len().max(1)) {
                scope.spawn(|| {
                    while let Some((path, commit)) =
                        submodules.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        if let Err(e) = self.clone_one(&git, path, commit, &options, urls.get(path)) {
                            failures.lock().unwrap_or_else(|e| e.into_inner()).push((path, e));
                        }
                    }
                });
            }
        });
        let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        if failures.is_empty() {
            return Ok(());
        }
        // In the order of the paths, whichever clone ended first.
        failures.sort_by_key(|(path, _)| paths.iter().position(|p| p == *path));
        let commit = self.git.head_commit(self.repo).ok().flatten();
        let failures = failures
            .into_iter()
            .map(|(path, e)| self.fetch_failure(e, path, urls.get(path), commit.as_ref()));
        Err(one_error(failures.collect()))
    }

    /// `error`, a failure to clone the submodule at `path` from `url`, as
    /// a [`FetchFailure`] when git's error is what it holds (the summary
    /// then groups it by cause and host, and says where the URL came from:
    /// this project's `.gitmodules` at `commit`).
    fn fetch_failure(
        &self,
        error: anyhow::Error,
        path: &str,
        url: Option<&String>,
        commit: Option<&CommitId>,
    ) -> Result<FetchFailure, anyhow::Error> {
        let Some(url) = url else {
            return Err(error);
        };
        let error = error.downcast::<crate::git::GitError>()?;
        Ok(FetchFailure {
            subject: format!("{}:{path}", self.project),
            url: url.clone(),
            source: UrlSource::Gitmodules {
                project: self.project.clone(),
                commit: commit.map(|c| c.short().to_string()),
            },
            error,
        })
    }

    /// Clones one submodule (see [`Update::clone_all`]) through `git`;
    /// `url` is its URL, to borrow from the cache's mirror of it.
    fn clone_one(
        &self,
        git: &Git,
        path: &str,
        commit: &CommitId,
        options: &SubmoduleClone,
        url: Option<&String>,
    ) -> Result<()> {
        let mut options = options.clone();
        if let (Some(cache), Some(url)) = (self.cache, url) {
            // A URL the tool would refuse for a project (a transport
            // helper, an option) is left to git, without the cache.
            if let Ok(url) = crate::model::types::RemoteUrl::new(url) {
                self.reporter.event(
                    self.project,
                    &format!("submodule {}: updating the cache mirror of {url}", shown(path)),
                );
                options.reference = Some(cache.update(git, &url)?);
            }
        }
        git.submodule_update(self.repo, path, commit, url.map(String::as_str), &options)?;
        Ok(())
    }

    /// Moves an initialised submodule to `commit`, unless that could lose
    /// work; returns what to report instead.
    fn move_to(&self, path: &str, commit: &CommitId) -> Result<(), String> {
        let dir = self.repo.join(path);
        let git_error = |e: crate::git::GitError| format!("submodule {}: {e}", shown(path));
        self.reporter.event(
            self.project,
            &format!("updating submodule {} to {}", shown(path), commit.short()),
        );
        self.make_present(&dir, commit)
            .map_err(|e| format!("submodule {}: {e:#}", shown(path)))?;
        let status = self.git.worktree_status(&dir).map_err(git_error)?;
        if status.changed > 0 {
            return Err(format!(
                "submodule {} has uncommitted changes, so it was left where it is rather than moved to {}, \
                 the commit {} records. Commit or stash them (`git -C {} stash`), then sync again",
                shown(path),
                commit.short(),
                self.project,
                dir.display()
            ));
        }
        if let Some(branch) = &status.branch {
            let ahead = self.git.commits_ahead_of(&dir, commit).map_err(git_error)?;
            if ahead > 0 {
                return Err(format!(
                    "submodule {} is on branch {}, {ahead} commit{} ahead of {}, the commit {} records; it \
                     was left as it is. Check out {} yourself when that work is pushed or kept elsewhere \
                     (`git -C {} checkout --detach {}`), then sync again",
                    shown(path),
                    escape_control(branch, false),
                    if ahead == 1 { "" } else { "s" },
                    commit.short(),
                    self.project,
                    commit.short(),
                    dir.display(),
                    commit
                ));
            }
        } else if !self.force {
            if let Some(head) = self.at_risk(path, &dir).map_err(git_error)? {
                let orphaned = crate::exec::Orphaned::Submodule {
                    path,
                    project: self.project,
                    dir: &dir,
                };
                return Err(crate::exec::orphan_refusal(&orphaned, &head, commit));
            }
        }
        if let Err(e) = self.git.checkout_detached(&dir, commit) {
            if e.would_overwrite_local_changes() {
                return Err(format!(
                    "files in submodule {} (untracked or ignored) are in the way of {}, the commit {} records; \
                     nothing was changed there. Move them away, then sync again\n    {}",
                    shown(path),
                    commit.short(),
                    self.project,
                    escape_control(&e.stderr, true).replace('\n', "\n    ")
                ));
            }
            return Err(git_error(e));
        }
        if let Some(branch) = status.branch {
            self.reporter.note(&format!(
                "{}: submodule {} left branch {} (at {})",
                self.project,
                shown(path),
                escape_control(&branch, false),
                status.head.map(|h| h.short().to_string()).unwrap_or_default()
            ));
        }
        Ok(())
    }

    /// The submodule's detached HEAD when it is a commit the user made: no
    /// ref contains it, it is not at the shallow boundary, and no reachable
    /// commit of the superproject records it for this path (a routine bump
    /// leaves the submodule at the commit the superproject's previous HEAD
    /// recorded: that one is not at risk).
    fn at_risk(&self, path: &str, dir: &Path) -> crate::git::GitResult<Option<CommitId>> {
        let Some(head) = self.git.orphanable_head(dir)? else {
            return Ok(None);
        };
        if self.git.recorded_in_history(self.repo, path, &head)? {
            return Ok(None);
        }
        Ok(Some(head))
    }

    /// Fetches `commit` into the submodule in `dir` unless it is there:
    /// by id, or, where the server refuses that, everything from origin.
    fn make_present(&self, dir: &Path, commit: &CommitId) -> Result<()> {
        let present = self.git.head_and_presence(dir, commit)?.1;
        if present && self.git.parents_readable(dir, commit)? {
            return Ok(());
        }
        // There without its parents: a depth-limited fetch was cut short
        // before git recorded the shallow boundary. Fetching it again with
        // a depth records it (git does, even for a commit it has).
        let depth = if present {
            Some(self.depth.unwrap_or(1))
        } else {
            self.depth
        };
        if present {
            self.reporter.note(&format!(
                "{}: submodule {}: {} is there without its history (a fetch an interrupted run cut short); \
                 fetching it again",
                self.project,
                shown(&dir.strip_prefix(self.repo).unwrap_or(dir).to_string_lossy()),
                commit.short()
            ));
        }
        match self.git.fetch_commit(dir, commit, depth, None) {
            Ok(()) => {}
            Err(e) if e.is_refused_want() => {
                let shallow = git_dir_of(dir).is_some_and(|d| d.join("shallow").exists());
                self.git.fetch_origin(dir, shallow)?;
            }
            Err(e) => return Err(e.into()),
        }
        if !self.git.head_and_presence(dir, commit)?.1 {
            bail!("{commit} is not on its origin, neither by id nor on a branch");
        }
        Ok(())
    }

    /// A submodule without an index: an interrupted run cloned it and was
    /// stopped before (or while) writing its files. Its files are written at
    /// the recorded commit; a clone that never got a commit is made again.
    fn write_files(
        &self,
        path: &str,
        commit: &CommitId,
        to_init: &mut Vec<(String, CommitId)>,
    ) -> Result<(), String> {
        let dir = self.repo.join(path);
        let problem = |e: anyhow::Error| format!("submodule {}: {e:#}", shown(path));
        let module = git_dir_of(&dir);
        if self.rebuild_if_half_made(path, module).map_err(problem)? {
            to_init.push((path.to_string(), commit.clone()));
            return Ok(());
        }
        self.reporter.note(&format!(
            "{}: submodule {} has no files (an interrupted run left it so); writing them at {}",
            self.project,
            shown(path),
            commit.short()
        ));
        self.make_present(&dir, commit).map_err(problem)?;
        self.git
            .checkout_overwriting(&dir, commit)
            .map_err(|e| problem(e.into()))
    }

    /// Removes the submodule repository `module` (and the `.git` file that
    /// points at it) when it holds no commit at all, or has no HEAD yet: a
    /// clone an interrupted run left half made, which `git submodule update` would otherwise
    /// fail on at every run. Returns whether it did.
    fn rebuild_if_half_made(&self, path: &str, module: Option<PathBuf>) -> Result<bool> {
        // A folder without a HEAD is no repository at all: a clone killed
        // while git was making it (every git command there fails with "not
        // a git repository").
        let Some(module) = module.filter(|m| std::fs::symlink_metadata(m).is_ok_and(|t| t.is_dir())) else {
            return Ok(false);
        };
        // Only ever inside this superproject's own `.git/modules`.
        let Some(modules) = modules_dir(self.repo) else {
            return Ok(false);
        };
        let ours = match (module.canonicalize(), modules.canonicalize()) {
            (Ok(m), Ok(root)) => m.starts_with(&root) && m != root,
            _ => false,
        };
        if !ours || (module.join("HEAD").is_file() && !self.git.holds_no_commit(&module)?) {
            return Ok(false);
        }
        self.reporter.note(&format!(
            "{}: submodule {}: removing {}, a clone an interrupted run left half made; cloning it again",
            self.project,
            shown(path),
            module.display()
        ));
        std::fs::remove_dir_all(&module)?;
        let dot_git = self.repo.join(path).join(".git");
        if dot_git.is_file() && inside(self.repo, &dot_git) {
            std::fs::remove_file(&dot_git)?;
        }
        Ok(true)
    }

    /// Removes the files of submodules the superproject no longer has at
    /// its current commit (git leaves them behind as an untracked folder)
    /// when nothing in them is the user's; their repositories stay in
    /// `.git/modules`, so no commit is lost. Otherwise says they were left.
    fn remove_leftovers(&self, entries: &[SubmoduleEntry]) -> Result<()> {
        for name in leftovers(self.repo, entries) {
            let dir = self.repo.join(&name);
            if !self.git.tracks_nothing_under(self.repo, &name)? {
                continue;
            }
            if self.git.is_pristine(&dir)? {
                std::fs::remove_dir_all(&dir)?;
                remove_empty_parents(self.repo, &dir);
                self.reporter.note(&format!(
                    "{}: submodule {} is gone from {} at this commit: removed its files (its repository stays \
                     in .git/modules/{})",
                    self.project,
                    shown(&name),
                    self.project,
                    shown(&name)
                ));
            } else {
                self.reporter.warn(&format!(
                    "{}: submodule {} is gone from {} at this commit, but {} holds changes or files of yours; \
                     left in place",
                    self.project,
                    shown(&name),
                    self.project,
                    dir.display()
                ));
            }
        }
        Ok(())
    }
}

/// The error of the submodule clones that failed: git's failures as
/// [`FetchFailures`] (the summary groups them by cause and host), unless
/// some other failure (the cache's) is among them, which keeps them all in
/// one message.
fn one_error(failures: Vec<Result<FetchFailure, anyhow::Error>>) -> anyhow::Error {
    let (fetches, others): (Vec<_>, Vec<_>) = failures.into_iter().partition(|e| e.is_ok());
    let mut fetches: Vec<FetchFailure> = fetches.into_iter().filter_map(Result::ok).collect();
    let mut others: Vec<anyhow::Error> = others.into_iter().filter_map(Result::err).collect();
    match (fetches.len(), others.len()) {
        (1, 0) => fetches.remove(0).into(),
        (_, 0) => FetchFailures(fetches).into(),
        (0, 1) => others.remove(0),
        (f, o) => {
            let each: Vec<String> = fetches
                .iter()
                .map(|e| e.to_string())
                .chain(others.iter().map(|e| format!("{e:#}")))
                .collect();
            anyhow::anyhow!("{} submodules could not be cloned:\n{}", f + o, each.join("\n"))
        }
    }
}

/// Whether the `Submodules` step would find nothing to do in the checkout
/// `repo` of `project`: every submodule initialised at its recorded commit
/// with its files, none left out by `exclude` (the step would say so), and
/// no files of a submodule the superproject no longer has for it to look
/// at. One `git ls-files`, as the step itself starts with; when that fails
/// there is something to do (the step then says what went wrong).
pub fn settled(git: &Git, project: &RepoName, repo: &Path, exclude: &[Regex]) -> bool {
    let Ok(entries) = git.submodule_status(repo) else {
        return false;
    };
    let at_recorded = entries.iter().all(|e| {
        e.state == SubmoduleState::AtRecorded
            && !Git::lacks_index(&repo.join(&e.path))
            && crate::model::exclude::matching(exclude, &format!("{project}:{}", e.path)).is_none()
    });
    at_recorded && leftovers(repo, &entries).is_empty()
}

/// The submodules whose files are in the checkout `repo` though it no
/// longer has them (`entries` are those it has): a folder inside it whose
/// `.git` points at its repository in `.git/modules`. Read from the files.
fn leftovers(repo: &Path, entries: &[SubmoduleEntry]) -> Vec<String> {
    let Some(modules) = modules_dir(repo) else {
        return Vec::new();
    };
    let current: BTreeSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    module_names(&modules)
        .into_iter()
        .filter(|name| !current.contains(name.as_str()))
        .filter(|name| {
            let dir = repo.join(name);
            let points_here = match (
                git_dir_of(&dir).map(|d| d.canonicalize()),
                modules.join(name).canonicalize(),
            ) {
                (Some(Ok(a)), Ok(b)) => a == b,
                _ => false,
            };
            points_here && inside(repo, &dir)
        })
        .collect()
}

/// The `.git/modules` folder of the checkout `repo`, if it has one.
fn modules_dir(repo: &Path) -> Option<PathBuf> {
    git_dir_of(repo).map(|d| d.join("modules")).filter(|m| m.is_dir())
}

/// The names of the submodule repositories under `modules`: the relative
/// paths of the folders holding a `HEAD` file (not looking inside them).
pub(crate) fn module_names(modules: &Path) -> Vec<String> {
    let mut names: Vec<String> = module_repos(modules)
        .iter()
        .filter_map(|path| Some(path.strip_prefix(modules).ok()?.to_str()?.to_string()))
        .collect();
    names.sort();
    names
}

/// The submodule repositories under `modules` (folders holding `HEAD`),
/// not looking inside them.
pub(crate) fn module_repos(modules: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![modules.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let path = entry.path();
                if path.join("HEAD").is_file() {
                    found.push(path);
                } else {
                    pending.push(path);
                }
            }
        }
    }
    found
}

/// A submodule path as printed: it comes from someone else's repository.
fn shown(path: &str) -> std::borrow::Cow<'_, str> {
    escape_control(path, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_are_the_folders_holding_a_head_file() {
        let dir = tempfile::tempdir().unwrap();
        let modules = dir.path();
        for name in ["third_party/x", "third_party/y", "z"] {
            std::fs::create_dir_all(modules.join(name).join("refs")).unwrap();
            std::fs::write(modules.join(name).join("HEAD"), "ref: refs/heads/main\n").unwrap();
        }
        // A nested submodule's repository is not looked for inside another.
        std::fs::create_dir_all(modules.join("z/modules/inner")).unwrap();
        std::fs::write(modules.join("z/modules/inner/HEAD"), "x").unwrap();
        std::fs::create_dir_all(modules.join("empty/folder")).unwrap();
        assert_eq!(module_names(modules), ["third_party/x", "third_party/y", "z"]);
    }

    #[test]
    fn a_path_through_a_symlink_is_not_inside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("third_party/x")).unwrap();
        std::fs::create_dir_all(dir.path().join("elsewhere/x")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("link")).unwrap();
        assert!(inside(&root, &root.join("third_party/x")));
        assert!(!inside(&root, &root.join("link/x")));
        assert!(!inside(&root, &dir.path().join("elsewhere/x")));
    }

    #[test]
    fn only_empty_parents_inside_the_root_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::write(root.join("a/keep"), "").unwrap();
        std::fs::remove_dir(root.join("a/b/c")).unwrap();
        remove_empty_parents(&root, &root.join("a/b/c"));
        assert!(!root.join("a/b").exists());
        assert!(root.join("a/keep").exists());
        assert!(root.exists());
        // The root stays even when it is left empty; nothing outside it
        // is looked at.
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(empty.join("x/y")).unwrap();
        std::fs::remove_dir(empty.join("x/y")).unwrap();
        remove_empty_parents(&empty, &empty.join("x/y"));
        assert!(empty.is_dir() && !empty.join("x").exists());
        std::fs::create_dir_all(dir.path().join("outside/z")).unwrap();
        remove_empty_parents(&root, &dir.path().join("outside/z/gone"));
        assert!(dir.path().join("outside/z").is_dir());
    }
}
