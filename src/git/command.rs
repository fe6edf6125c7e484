//! git command lines as data. [`GitCommand`] is a command line, the folder
//! it runs in and how the runner treats it (progress, lazy fetches, letting
//! a checkout finish); every command line the tool gives git is built here
//! and nowhere else, by one `Git::*_cmd` function each, which the typed
//! operations run and plans print for `--dry-run` and `-v`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use super::{Git, CHECKED_OUT_REF, KEEP_REFS};
use crate::model::types::{BranchName, CommitId, Filter, RemoteUrl};
use crate::process::shell_quote;

/// A git command line and the folder it runs in, as data: plans print these
/// for `--dry-run` and `-v`, and [`Git::run`] executes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitCommand {
    pub(super) dir: PathBuf,
    pub(super) args: Vec<OsString>,
    /// Where `--progress` goes when the output is shown live (after the
    /// subcommand); `None` for commands that report no progress.
    pub(super) progress_at: Option<usize>,
    /// A checkout that rewrites a working tree: the terminal's Ctrl-C and
    /// hangup do not end it, and the run lets it finish (see
    /// [`crate::process::children::end_children`]).
    pub(super) lets_finish: bool,
    /// The [`super::CheckoutLog`] records of the checkouts this command makes,
    /// told when it ends.
    pub(super) intents: Vec<u64>,
    /// Whether git may fetch missing objects from a partial clone's promisor
    /// remote while it runs: only network commands and checkouts (which need
    /// the files' contents) may. Every query runs with `GIT_NO_LAZY_FETCH=1`,
    /// so reading a partial clone never opens a connection behind our back.
    pub(super) lazy_fetch: bool,
    /// Whether git may look for the repository in the folders above `dir`:
    /// only the questions about what encloses a folder do. Every other
    /// command is stopped at `dir` (`GIT_CEILING_DIRECTORIES`, see `run.rs`),
    /// so a damaged checkout inside another repository (a home folder kept
    /// in git) gets an error, never that repository's answers.
    pub(super) searches_upward: bool,
}

/// Options for [`Git::clone_cmd`].
#[derive(Clone, Debug, Default)]
pub struct CloneOptions {
    /// `--depth N` for a shallow clone.
    pub depth: Option<u32>,
    /// `--no-checkout`: the caller checks out a specific commit afterwards.
    pub no_checkout: bool,
    /// `--reference=MIRROR`: borrow objects from a cache mirror.
    pub reference: Option<PathBuf>,
    /// `--dissociate`: copy borrowed objects, leaving a standalone checkout.
    pub dissociate: bool,
    /// `--no-local`: clone a local path through the transport, so nothing
    /// is hard-linked and `--reference` alone supplies the objects.
    pub no_local: bool,
    /// `--filter=SPEC`: a partial clone, which git records as the clone's
    /// own setting (a promisor remote).
    pub filter: Option<Filter>,
}

/// How [`Git::submodule_update_cmd`] clones a submodule.
#[derive(Clone, Debug, Default)]
pub struct SubmoduleClone {
    /// `--depth=N --recommend-shallow`.
    pub depth: Option<u32>,
    /// `--filter=SPEC` (git 2.36 and later).
    pub filter: Option<Filter>,
    /// `--reference=MIRROR`: borrow objects from a cache mirror.
    pub reference: Option<PathBuf>,
    /// `--dissociate`: copy the borrowed objects instead.
    pub dissociate: bool,
}

/// What `grep` looks for and prints (the flags of `openxla-workspace grep`).
#[derive(Clone, Debug, Default)]
pub struct GrepOptions {
    /// `-i`.
    pub ignore_case: bool,
    /// `-w`.
    pub word_regexp: bool,
    /// `-F`.
    pub fixed_strings: bool,
    /// `-E`.
    pub extended_regexp: bool,
    /// `-l`: file names only.
    pub files_with_matches: bool,
    /// `-n`.
    pub line_number: bool,
}

/// A command in `dir` whose first arguments are `words`, split at each
/// space; an argument that holds a space is added with [`GitCommand::arg`].
/// `words` is a literal: nothing read from a repository or the user is
/// split into arguments.
fn git(dir: &Path, words: &'static str) -> GitCommand {
    debug_assert!(
        !words.split(' ').any(str::is_empty),
        "an empty argument in {words:?}"
    );
    GitCommand::new(dir, words.split(' '))
}

impl GitCommand {
    fn new<I, S>(dir: &Path, args: I) -> GitCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        GitCommand {
            dir: dir.to_path_buf(),
            args: Vec::new(),
            progress_at: None,
            lets_finish: false,
            intents: Vec::new(),
            lazy_fetch: false,
            searches_upward: false,
        }
        .args(args)
    }

    /// Appends one argument.
    fn arg(mut self, arg: impl AsRef<OsStr>) -> GitCommand {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Appends arguments; an `Option` appends its value, if any.
    fn args<I, S>(mut self, args: I) -> GitCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Marks a checkout that rewrites a working tree (see
    /// [`GitCommand::lets_finish`]); it may fetch the files' contents a
    /// partial clone lacks.
    fn letting_finish(mut self) -> GitCommand {
        self.lets_finish = true;
        self.lazy_fetch = true;
        self
    }

    /// Marks a network command whose progress git can report with
    /// `--progress` inserted at `index` (used only when shown live). Being
    /// on the network, it may also fetch missing objects lazily.
    fn with_progress_at(mut self, index: usize) -> GitCommand {
        self.progress_at = Some(index);
        self.lazy_fetch = true;
        self
    }

    /// Lets git look for the repository above the command's folder (see
    /// [`GitCommand::searches_upward`]).
    fn searching_upward(mut self) -> GitCommand {
        self.searches_upward = true;
        self
    }

    /// The arguments with `--progress` inserted at `index` (see
    /// [`GitCommand::progress_at`]), for a command whose progress is shown
    /// live.
    pub(super) fn args_with_progress(&self, index: usize) -> Vec<OsString> {
        let mut args = self.args.clone();
        args.insert(index.min(args.len()), "--progress".into());
        args
    }

    /// The folder it runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The command line as a user could retype it (`git clone -- URL DIR`).
    pub fn command_line(&self) -> String {
        let mut line = String::from("git");
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(&arg.to_string_lossy()));
        }
        line
    }
}

impl fmt::Display for GitCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(in {}) {}", self.dir.display(), self.command_line())
    }
}

impl Git {
    /// `git clone [--depth N] [--no-checkout] ... -- URL DEST`, run in `parent`.
    pub fn clone_cmd(parent: &Path, url: &RemoteUrl, dest: &Path, opts: &CloneOptions) -> GitCommand {
        git(parent, "clone")
            .args(opts.depth.map(|depth| format!("--depth={depth}")))
            .args(opts.no_checkout.then_some("--no-checkout"))
            .args(opts.filter.map(|filter| format!("--filter={filter}")))
            .args(opts.no_local.then_some("--no-local"))
            .args(reference_args(opts.reference.as_deref(), opts.dissociate))
            .args(["--", url.as_str()])
            .arg(dest)
            .with_progress_at(1)
    }

    /// `git clone --bare -- URL DEST`: a mirror for the object cache (see
    /// [`Git::mirror_settings_cmds`] for what makes it one).
    pub fn mirror_clone_cmd(parent: &Path, url: &RemoteUrl, dest: &Path) -> GitCommand {
        git(parent, "clone --bare --")
            .arg(url.as_str())
            .arg(dest)
            .with_progress_at(1)
    }

    /// `git -c gc.auto=0 -c maintenance.auto=false fetch --prune origin`,
    /// run in a mirror: its branches and tags as the server has them. The
    /// `-c` options win over any configuration: a fetch ends with an
    /// automatic gc, which in a mirror could delete objects that checkouts
    /// borrow.
    pub fn mirror_fetch_cmd(mirror: &Path) -> GitCommand {
        git(
            mirror,
            "-c gc.auto=0 -c maintenance.auto=false fetch --prune origin",
        )
        .with_progress_at(5)
    }

    /// The settings that make a bare clone a cache mirror, one `git config`
    /// each: fetch exactly the branches and tags (so `--prune` never
    /// touches [`KEEP_REFS`]), and never collect garbage on its own.
    pub fn mirror_settings_cmds(mirror: &Path) -> Vec<GitCommand> {
        [
            "config --replace-all remote.origin.fetch +refs/heads/*:refs/heads/*",
            "config --add remote.origin.fetch +refs/tags/*:refs/tags/*",
            // `clone --mirror` (how older versions made mirrors) sets it.
            "config --unset-all remote.origin.mirror",
            "config gc.auto 0",
            "config maintenance.auto false",
            "config gc.pruneExpire never",
        ]
        .into_iter()
        .map(|words| git(mirror, words))
        .collect()
    }

    /// `git update-ref --stdin` in a mirror, fed the keep refs to create
    /// (see [`Git::keep_mirror_tips`]).
    pub fn keep_tips_cmd(mirror: &Path) -> GitCommand {
        git(mirror, "update-ref --stdin")
    }

    /// `git init --quiet [--object-format=sha256] -- DEST`: an empty
    /// repository to fetch `commit` into (see [`Git::add_origin_cmd`]), in
    /// the object format its id says (64 hex digits: SHA-256).
    pub fn init_cmd(parent: &Path, dest: &Path, commit: &CommitId) -> GitCommand {
        let sha256 = commit.as_str().len() == 64;
        git(parent, "init --quiet")
            .args(sha256.then_some("--object-format=sha256"))
            .arg("--")
            .arg(dest)
    }

    /// `git remote add origin URL`, with the refspec a clone would have.
    pub fn add_origin_cmd(repo: &Path, url: &RemoteUrl) -> GitCommand {
        git(repo, "remote add origin").arg(url.as_str())
    }

    /// `git remote set-url origin URL`.
    pub fn set_origin_url_cmd(repo: &Path, url: &RemoteUrl) -> GitCommand {
        git(repo, "remote set-url origin").arg(url.as_str())
    }

    /// `git submodule --quiet init -- PATH...`: records the URLs of the
    /// given submodules in the superproject's configuration (relative ones
    /// resolved against its origin), before [`Git::submodule_update_cmd`]
    /// clones them. One process for all: the clones that follow run in
    /// parallel, and would otherwise all write that configuration at once.
    pub fn submodule_init_cmd(repo: &Path, paths: &[String]) -> GitCommand {
        git(repo, "submodule --quiet init --").args(paths)
    }

    /// Clones one submodule (made known by [`Git::submodule_init_cmd`], so
    /// that `--init`, which `--filter` needs, finds nothing left to write)
    /// and checks out the commit recorded for it. `--checkout` overrides any `update =
    /// rebase|merge|none|!command` a `.gitmodules` from someone else's
    /// repository sets. One submodule per process, so that each is one of
    /// the `--jobs` git processes (`git submodule update --jobs=N` would run
    /// N clones under one) and can borrow from its own cache mirror.
    pub fn submodule_update_cmd(repo: &Path, path: &str, opts: &SubmoduleClone) -> GitCommand {
        git(repo, "submodule update --quiet --init --checkout")
            .args(opts.depth.map(|depth| format!("--depth={depth}")))
            .args(opts.depth.map(|_| "--recommend-shallow"))
            .args(opts.filter.map(|filter| format!("--filter={filter}")))
            .args(reference_args(opts.reference.as_deref(), opts.dissociate))
            .args(["--", path])
            .with_progress_at(2)
    }

    /// `git fetch --no-tags [--depth N] [--filter=SPEC] origin SHA`: fetch
    /// exactly one commit by id. `filter` is for a repository the tool has
    /// just made: git then records it as the repository's own, as a clone
    /// with `--filter` would; a partial clone's later fetches use it unasked.
    pub fn fetch_commit_cmd(
        repo: &Path,
        commit: &CommitId,
        depth: Option<u32>,
        filter: Option<Filter>,
    ) -> GitCommand {
        git(repo, "fetch --no-tags")
            .args(depth.map(|depth| format!("--depth={depth}")))
            .args(filter.map(|filter| format!("--filter={filter}")))
            .args(["origin", commit.as_str()])
            .with_progress_at(1)
    }

    /// `git fetch --no-tags origin BRANCH`: refresh `origin/BRANCH`.
    /// With `unshallow` (and no depth), a shallow repository gets the
    /// branch's whole history, so an older commit on it becomes reachable.
    pub fn fetch_branch_cmd(
        repo: &Path,
        branch: &BranchName,
        depth: Option<u32>,
        unshallow: bool,
    ) -> GitCommand {
        git(repo, "fetch --no-tags")
            .args(depth.map(|depth| format!("--depth={depth}")))
            .args((depth.is_none() && unshallow).then_some("--unshallow"))
            .arg("origin")
            .arg(format!(
                "+refs/heads/{b}:refs/remotes/origin/{b}",
                b = branch.as_str()
            ))
            .with_progress_at(1)
    }

    /// Fetches the named objects (a tree, a file's contents) into a partial
    /// clone that lacks them, as git's own lazy fetch would, but as one
    /// visible step: a wanted tree comes with the trees under it and no file
    /// contents, a wanted blob by itself.
    pub fn fetch_objects_cmd(repo: &Path, objects: &[CommitId]) -> GitCommand {
        git(
            repo,
            "-c fetch.negotiationAlgorithm=noop fetch --no-tags --recurse-submodules=no \
             --filter=blob:none origin",
        )
        .args(objects.iter().map(CommitId::as_str))
        .with_progress_at(3)
    }

    /// Detaches HEAD at `commit`, writing its files. Submodules are the
    /// tool's own step (a user's `submodule.recurse=true` would move them
    /// here, unchecked). `--quiet`: nothing on stderr when it works, so a run
    /// killed meanwhile cannot take git down with it half way (SIGPIPE).
    /// `--no-overwrite-ignore` refuses, as for tracked changes, rather than
    /// silently replace an ignored file that the target commit tracks.
    pub fn checkout_detached_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        git(
            repo,
            "-c advice.detachedHead=false checkout --no-recurse-submodules --quiet \
             --no-overwrite-ignore --detach",
        )
        .args([commit.as_str(), "--"])
        .letting_finish()
    }

    /// Puts HEAD back on a local branch (`undo`), with the same refusals as
    /// [`Git::checkout_detached_cmd`].
    pub fn checkout_branch_cmd(repo: &Path, branch: &BranchName) -> GitCommand {
        git(
            repo,
            "checkout --no-recurse-submodules --quiet --no-overwrite-ignore",
        )
        .args([branch.as_str(), "--"])
        .letting_finish()
    }

    /// `git rev-parse --quiet --verify refs/heads/BRANCH^{commit}`: where a
    /// local branch points.
    pub(super) fn branch_commit_cmd(repo: &Path, branch: &BranchName) -> GitCommand {
        git(repo, "rev-parse --quiet --verify").arg(format!("refs/heads/{}^{{commit}}", branch.as_str()))
    }

    /// Writes the files of `commit`, with `--force`, into a repository that
    /// has no index (see [`Git::lacks_working_tree`]). Nothing in such a tree is the
    /// user's: no file of it was ever tracked, and the files there were
    /// written by the interrupted checkout that should have made the index,
    /// one of them perhaps cut short; git would refuse every one of them as
    /// "untracked". Files at paths the commit does not track stay.
    pub fn checkout_overwriting_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        git(
            repo,
            "-c advice.detachedHead=false checkout --no-recurse-submodules --quiet --force --detach",
        )
        .args([commit.as_str(), "--"])
        .letting_finish()
    }

    /// Writes the working tree of a clone made without one (`--no-checkout`),
    /// staying on HEAD's branch; `--force` for the reason
    /// [`Git::checkout_overwriting_cmd`] gives.
    pub fn populate_cmd(repo: &Path) -> GitCommand {
        git(repo, "checkout --no-recurse-submodules --quiet --force HEAD --").letting_finish()
    }

    /// `git checkout --quiet -b NAME`: a new branch at HEAD, keeping the
    /// working tree's changes (the roll's files) as they are.
    pub fn create_branch_cmd(repo: &Path, branch: &BranchName) -> GitCommand {
        git(repo, "checkout --quiet -b").arg(branch.as_str())
    }

    /// `git add -- PATH...`, paths relative to `repo`.
    pub fn add_paths_cmd(repo: &Path, paths: &[PathBuf]) -> GitCommand {
        git(repo, "add --").args(paths)
    }

    /// `git commit --quiet --file=-`: commits the index with the message
    /// fed on stdin (the user's hooks and signing settings apply).
    pub fn commit_cmd(repo: &Path) -> GitCommand {
        git(repo, "commit --quiet --file=-")
    }

    /// `git update-ref -m MSG refs/openxla-workspace/pin SHA`: records that
    /// the tool checked `commit` out here (see [`CHECKED_OUT_REF`]).
    pub fn mark_checked_out_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        git(repo, "update-ref -m")
            .arg("openxla-workspace: checked out")
            .args([CHECKED_OUT_REF, commit.as_str()])
    }

    /// `git ls-remote --heads --exit-code -- URL refs/heads/BRANCH`, run in
    /// `dir`. The full ref name matters: ls-remote matches a pattern against
    /// the tail of each ref name, so `main` alone also lists
    /// `refs/heads/foo/main`.
    pub fn ls_remote_head_cmd(dir: &Path, url: &RemoteUrl, branch: &BranchName) -> GitCommand {
        git(dir, "ls-remote --heads --exit-code --")
            .arg(url.as_str())
            .arg(format!("refs/heads/{}", branch.as_str()))
    }

    /// `git diff --no-color --no-ext-diff [--cached] --src-prefix=a/PREFIX
    /// --dst-prefix=b/PREFIX`: the project's changes as a patch whose paths
    /// start with `PREFIX` (the project's folder and a slash), so that the
    /// patches of all projects make one patch of the workspace.
    pub fn diff_cmd(repo: &Path, prefix: &str, cached: bool) -> GitCommand {
        git(repo, "diff --no-color --no-ext-diff")
            .args(cached.then_some("--cached"))
            .arg(format!("--src-prefix=a/{prefix}"))
            .arg(format!("--dst-prefix=b/{prefix}"))
    }

    /// `git grep -z --full-name -I --no-color --no-column ... -e PATTERN --
    /// [PATH...]`: one record per match, each path ended by a NUL so that
    /// `parse_grep` (in `grep.rs`) can read any file name. Binary files are skipped.
    pub fn grep_cmd(repo: &Path, pattern: &str, options: &GrepOptions, paths: &[OsString]) -> GitCommand {
        let flags = [
            (options.ignore_case, "--ignore-case"),
            (options.word_regexp, "--word-regexp"),
            (options.fixed_strings, "--fixed-strings"),
            (options.extended_regexp, "--extended-regexp"),
            (options.files_with_matches, "--files-with-matches"),
        ];
        // Said either way: `grep.lineNumber` in the user's config would
        // otherwise change the records' shape.
        let line_number = match (options.files_with_matches, options.line_number) {
            (true, _) => None,
            (false, true) => Some("--line-number"),
            (false, false) => Some("--no-line-number"),
        };
        git(repo, "grep -z --full-name -I --no-color --no-column")
            .args(flags.into_iter().filter_map(|(on, flag)| on.then_some(flag)))
            .args(line_number)
            .args(["-e", pattern, "--"])
            .args(paths)
    }
}

// The command lines of queries and of the operations that send git its
// input on stdin. Only the git layer runs these; they are here so that
// every argument the tool gives git is in this one file.
impl Git {
    /// `git --version`, run in the current folder.
    pub(super) fn version_cmd() -> GitCommand {
        git(Path::new("."), "--version")
    }

    /// `git fetch --no-tags [--unshallow] origin`: everything `origin`'s
    /// configured refspecs name, the fallback when a server refuses to send
    /// a commit by id.
    pub fn fetch_origin_cmd(repo: &Path, unshallow: bool) -> GitCommand {
        git(repo, "fetch --no-tags")
            .args(unshallow.then_some("--unshallow"))
            .arg("origin")
            .with_progress_at(1)
    }

    /// The name `.gitmodules` gives each submodule path.
    pub(super) fn submodule_paths_cmd(repo: &Path) -> GitCommand {
        git(
            repo,
            r"config -z -f .gitmodules --get-regexp ^submodule\..*\.path$",
        )
    }

    /// The URLs `git submodule init` recorded, by submodule name.
    pub(super) fn submodule_urls_cmd(repo: &Path) -> GitCommand {
        git(repo, r"config -z --get-regexp ^submodule\..*\.url$")
    }

    /// `git --git-dir=GIT_DIR rev-parse ...`, run in the current folder:
    /// HEAD's commit in a repository that may have no working tree.
    pub(super) fn git_dir_head_cmd(git_dir: &Path) -> GitCommand {
        GitCommand::new(Path::new("."), [git_dir_arg(git_dir)]).args([
            "rev-parse",
            "--quiet",
            "--verify",
            "HEAD^{commit}",
        ])
    }

    /// `git --git-dir=GIT_DIR for-each-ref --count=1`: whether the
    /// repository has any ref at all.
    pub(super) fn git_dir_any_ref_cmd(git_dir: &Path) -> GitCommand {
        GitCommand::new(Path::new("."), [git_dir_arg(git_dir)]).args(["for-each-ref", "--count=1"])
    }

    /// `git ls-files -z -- PATH`: the tracked files at or under `path`.
    pub(super) fn ls_files_cmd(dir: &Path, path: &str) -> GitCommand {
        git(dir, "ls-files -z --").arg(path)
    }

    /// `git rev-parse --show-toplevel`: the top of the work tree `dir` is
    /// in, wherever that is above it.
    pub(super) fn show_toplevel_cmd(dir: &Path) -> GitCommand {
        git(dir, "rev-parse --show-toplevel").searching_upward()
    }

    /// `git ls-files -z -- NAME`, asked of whatever repository `dir` lies
    /// in: whether an enclosing repository tracks the file.
    pub(super) fn enclosing_tracks_cmd(dir: &Path, name: &str) -> GitCommand {
        Self::ls_files_cmd(dir, name).searching_upward()
    }

    /// `git cat-file --batch`, fed [`probe_input`]: the questions of
    /// [`Git::probe`].
    pub(super) fn probe_cmd(repo: &Path) -> GitCommand {
        git(repo, "cat-file --batch")
    }

    pub(super) fn head_commit_cmd(repo: &Path) -> GitCommand {
        git(repo, "rev-parse --quiet --verify HEAD^{commit}")
    }

    /// The branch HEAD is on.
    pub(super) fn current_branch_cmd(repo: &Path) -> GitCommand {
        git(repo, "symbolic-ref --quiet --short HEAD")
    }

    /// Exits 1 when HEAD is detached.
    pub(super) fn symbolic_head_cmd(repo: &Path) -> GitCommand {
        git(repo, "symbolic-ref --quiet HEAD")
    }

    /// A ref that keeps HEAD's commit reachable, if any.
    pub(super) fn ref_containing_head_cmd(repo: &Path) -> GitCommand {
        git(
            repo,
            "for-each-ref --count=1 --contains=HEAD --format=%(refname) \
             refs/heads refs/remotes refs/tags refs/openxla-workspace",
        )
    }

    /// The git directory and HEAD's commit, one a line.
    pub(super) fn git_dir_and_head_cmd(repo: &Path) -> GitCommand {
        git(repo, "rev-parse --absolute-git-dir HEAD^{commit}")
    }

    /// Every change to `path` in the reachable history, read by
    /// `parse_raw_gitlinks` (in `query.rs`).
    pub(super) fn path_history_cmd(superproject: &Path, path: &str) -> GitCommand {
        git(
            superproject,
            "log --all --reflog -m --raw --no-abbrev --no-renames --format= --",
        )
        .arg(path)
    }

    /// `git cat-file --batch-check`, fed [`head_and_presence_input`] or
    /// [`presence_input`].
    pub(super) fn batch_check_cmd(repo: &Path) -> GitCommand {
        git(repo, "cat-file --batch-check")
    }

    /// `git rev-list BASE..HEAD --`: the commits HEAD has that `base` has
    /// not.
    pub(super) fn commits_since_cmd(repo: &Path, base: &CommitId) -> GitCommand {
        git(repo, "rev-list").args([format!("{base}..HEAD").as_str(), "--"])
    }

    /// Every file that is not as committed, even an ignored one.
    pub(super) fn pristine_status_cmd(dir: &Path) -> GitCommand {
        git(
            dir,
            "--no-optional-locks status --porcelain --ignored --untracked-files=all",
        )
    }

    /// The index, whose gitlinks are the submodules.
    pub(super) fn staged_entries_cmd(repo: &Path) -> GitCommand {
        git(repo, "ls-files --stage -z")
    }

    pub(super) fn head_summary_cmd(repo: &Path) -> GitCommand {
        git(
            repo,
            "log -1 --no-show-signature --format=%H%x00%cs%x00%s HEAD --",
        )
    }

    /// Walks `commit` and its parents, which fails ("Failed to traverse
    /// parents") when a parent is missing and `commit` is not a shallow
    /// boundary.
    pub(super) fn parents_readable_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        git(repo, "rev-list --max-count=2").args([commit.as_str(), "--"])
    }

    pub(super) fn is_ancestor_cmd(repo: &Path, commit: &CommitId, branch: &BranchName) -> GitCommand {
        git(repo, "merge-base --is-ancestor")
            .arg(commit.as_str())
            .arg(format!("refs/remotes/origin/{}", branch.as_str()))
    }

    /// `--no-optional-locks`: the index is not refreshed, so that status
    /// stays read-only.
    pub(super) fn worktree_status_cmd(repo: &Path) -> GitCommand {
        git(
            repo,
            "--no-optional-locks status --porcelain=v2 --branch --untracked-files=normal",
        )
    }

    /// The commits `to` has that `from` has not, newest first, read by
    /// `parse_log_entries` (in `history.rs`).
    pub(super) fn log_range_cmd(repo: &Path, from: &CommitId, to: &CommitId) -> GitCommand {
        git(repo, "log --no-show-signature --format=%H%x00%s").args([format!("{from}..{to}").as_str(), "--"])
    }

    /// Exits 0 when `older` is an ancestor of (or equal to) `newer`, 1 when
    /// not.
    pub(super) fn commit_is_ancestor_cmd(repo: &Path, older: &CommitId, newer: &CommitId) -> GitCommand {
        git(repo, "merge-base --is-ancestor").args([older.as_str(), newer.as_str()])
    }

    /// Every path that is not as committed, read by `parse_porcelain_z` (in
    /// `commit.rs`).
    pub(super) fn changed_paths_cmd(repo: &Path) -> GitCommand {
        git(
            repo,
            "--no-optional-locks status --porcelain -z --untracked-files=all",
        )
    }

    /// Exits 0 when the branch exists.
    pub(super) fn branch_exists_cmd(repo: &Path, branch: &BranchName) -> GitCommand {
        git(repo, "show-ref --verify --quiet").arg(format!("refs/heads/{}", branch.as_str()))
    }

    pub(super) fn behind_ahead_cmd(repo: &Path, pin: &CommitId) -> GitCommand {
        git(repo, "rev-list --left-right --count").args([format!("{pin}...HEAD").as_str(), "--"])
    }

    /// A mirror's branch and tag tips and keep refs, read by `tips_to_keep`
    /// (in `mirror.rs`).
    pub(super) fn mirror_tips_cmd(mirror: &Path) -> GitCommand {
        git(mirror, "for-each-ref")
            .arg("--format=%(objectname) %(refname)")
            .args(["refs/heads", "refs/tags", KEEP_REFS.trim_end_matches('/')])
    }

    /// A mirror's branch and tag tips (tags peeled) and its keep refs, read
    /// by `keeps_and_tips` (in `mirror.rs`).
    pub fn mirror_refs_cmd(mirror: &Path) -> GitCommand {
        git(mirror, "for-each-ref")
            .arg("--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname) %(refname)")
            .args(["refs/heads", "refs/tags", KEEP_REFS.trim_end_matches('/')])
    }

    /// The keep refs whose commit a branch or tag tip of a mirror reaches
    /// again (several `--merged`: git 2.29).
    pub(super) fn keeps_reached_cmd(mirror: &Path, tips: &[CommitId]) -> GitCommand {
        git(mirror, "for-each-ref --format=%(refname)")
            .args(tips.iter().map(|tip| format!("--merged={tip}")))
            .arg(KEEP_REFS.trim_end_matches('/'))
    }

    pub(super) fn origin_url_cmd(repo: &Path) -> GitCommand {
        git(repo, "config --get remote.origin.url")
    }

    pub(super) fn tree_changes_cmd(repo: &Path, from: &CommitId, to: &CommitId) -> GitCommand {
        git(repo, "diff-tree -r -z --no-renames").args([from.as_str(), to.as_str()])
    }

    /// The index with each entry's tag.
    pub(super) fn index_entries_cmd(repo: &Path) -> GitCommand {
        git(repo, "ls-files --stage -t -z")
    }

    /// Exits 1 when the index differs from the tree of `commit`.
    pub(super) fn index_differs_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        git(repo, "diff-index --cached --quiet").args([commit.as_str(), "--"])
    }

    /// `git hash-object --stdin-paths`, fed [`stdin_paths_input`].
    pub(super) fn hash_paths_cmd(repo: &Path) -> GitCommand {
        git(repo, "hash-object --stdin-paths")
    }

    pub(super) fn blob_cmd(repo: &Path, oid: &str) -> GitCommand {
        git(repo, "cat-file blob").arg(oid)
    }

    /// `git checkout-index --force -z --stdin`, fed [`nul_paths_input`].
    pub fn restore_from_index_cmd(repo: &Path) -> GitCommand {
        git(repo, "checkout-index --force -z --stdin")
    }

    /// `git update-ref --no-deref -m MSG HEAD TO FROM`: detaches HEAD at
    /// `to` if it is at `from`, touching neither index nor files.
    pub fn finish_head_move_cmd(repo: &Path, from: &CommitId, to: &CommitId) -> GitCommand {
        git(repo, "update-ref --no-deref -m")
            .arg("openxla-workspace: finish a checkout an interrupted run cut short")
            .args(["HEAD", to.as_str(), from.as_str()])
    }
}

/// `--reference=MIRROR [--dissociate]`: borrow objects from a cache mirror,
/// or copy them.
fn reference_args(mirror: Option<&Path>, dissociate: bool) -> Vec<OsString> {
    let Some(mirror) = mirror else {
        return Vec::new();
    };
    let mut reference = OsString::from("--reference=");
    reference.push(mirror);
    let mut args = vec![reference];
    if dissociate {
        args.push("--dissociate".into());
    }
    args
}

/// `--git-dir=GIT_DIR`.
fn git_dir_arg(git_dir: &Path) -> OsString {
    let mut arg = OsString::from("--git-dir=");
    arg.push(git_dir);
    arg
}

/// The questions [`Git::probe`] asks `git cat-file --batch`, one a line:
/// HEAD, `commit` as a commit, [`CHECKED_OUT_REF`], the commit's top tree
/// and `path` at the commit. The file comes last: when it is too large,
/// git is stopped before it sends it, and nothing after it could be read.
pub(super) fn probe_input(commit: &CommitId, path: &str) -> String {
    format!(
        "HEAD\n{c}^{{commit}}\n{CHECKED_OUT_REF}^{{commit}}\n{c}^{{tree}}\n{c}:{path}\n",
        c = commit.as_str()
    )
}

/// The questions [`Git::head_and_presence`] asks `git cat-file
/// --batch-check`: HEAD's commit, and `commit` as a commit.
pub(super) fn head_and_presence_input(commit: &CommitId) -> String {
    format!("HEAD^{{commit}}\n{}^{{commit}}\n", commit.as_str())
}

/// What [`Git::batch_check_cmd`] is fed to ask which of some commits the
/// repository holds: each as `SHA^{commit}`, one a line.
pub(super) fn presence_input(commits: &[&CommitId]) -> String {
    commits.iter().map(|c| format!("{c}^{{commit}}\n")).collect()
}

/// What [`Git::keep_tips_cmd`] is fed: one `update` of a keep ref per id.
pub(super) fn keep_tips_input(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("update {KEEP_REFS}{id} {id}\n"))
        .collect()
}

/// What [`Git::keep_tips_cmd`] is fed to drop keep refs: one `delete` of
/// each, only while it still names the commit it named.
pub(super) fn drop_keeps_input(keeps: &[(String, CommitId)]) -> String {
    keeps
        .iter()
        .map(|(name, id)| format!("delete {name} {id}\n"))
        .collect()
}

/// `paths` one a line, as `--stdin-paths` reads them (see
/// [`quote_stdin_path`]).
pub(super) fn stdin_paths_input(paths: &[Vec<u8>]) -> Vec<u8> {
    paths
        .iter()
        .flat_map(|path| [quote_stdin_path(path), vec![b'\n']])
        .flatten()
        .collect()
}

/// `paths` each ended by a NUL, as `-z --stdin` reads them.
pub(super) fn nul_paths_input(paths: &[Vec<u8>]) -> Vec<u8> {
    paths
        .iter()
        .flat_map(|path| path.iter().copied().chain([0]))
        .collect()
}

/// `path` as a line of `--stdin-paths` input: as it is, or in git's C
/// quoting (`"a\nb"`) when it holds a control character or starts with a
/// double quote, which git would otherwise read another way.
pub(super) fn quote_stdin_path(path: &[u8]) -> Vec<u8> {
    let plain = !path.starts_with(b"\"") && !path.iter().any(|&b| b < 0x20 || b == 0x7f);
    if plain {
        return path.to_vec();
    }
    let mut quoted = vec![b'"'];
    for &b in path {
        match b {
            b'"' | b'\\' => quoted.extend([b'\\', b]),
            b'\n' => quoted.extend(b"\\n"),
            b'\t' => quoted.extend(b"\\t"),
            0..=0x1f | 0x7f => quoted.extend(format!("\\{b:03o}").into_bytes()),
            _ => quoted.push(b),
        }
    }
    quoted.push(b'"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        let url = RemoteUrl::new("file:///tmp/my repo".replace(' ', "_").as_str()).unwrap();
        let cmd = Git::clone_cmd(
            Path::new("/ws"),
            &url,
            Path::new("/ws/.x"),
            &CloneOptions::default(),
        );
        assert_eq!(cmd.command_line(), "git clone -- file:///tmp/my_repo /ws/.x");
        let cmd = GitCommand::new(Path::new("/"), ["log", "--format=%H %s"]);
        assert_eq!(cmd.command_line(), "git log '--format=%H %s'");
    }

    #[test]
    fn a_repository_for_a_sha256_pin_is_made_in_that_object_format() {
        let sha1 = CommitId::new(&"a".repeat(40)).unwrap();
        let sha256 = CommitId::new(&"b".repeat(64)).unwrap();
        let (ws, dest) = (Path::new("/ws"), Path::new("/ws/.p"));
        assert_eq!(
            Git::init_cmd(ws, dest, &sha1).command_line(),
            "git init --quiet -- /ws/.p"
        );
        assert_eq!(
            Git::init_cmd(ws, dest, &sha256).command_line(),
            "git init --quiet --object-format=sha256 -- /ws/.p"
        );
    }

    #[test]
    fn mirror_fetches_cannot_start_a_gc_and_find_their_progress_flag() {
        let cmd = Git::mirror_fetch_cmd(Path::new("/m"));
        assert_eq!(
            cmd.command_line(),
            "git -c gc.auto=0 -c maintenance.auto=false fetch --prune origin"
        );
        assert_eq!(cmd.args[cmd.progress_at.unwrap() - 1], "fetch");
    }

    #[test]
    fn diff_and_grep_command_lines() {
        assert_eq!(
            Git::diff_cmd(Path::new("/ws/app"), "app/", true).command_line(),
            "git diff --no-color --no-ext-diff --cached --src-prefix=a/app/ --dst-prefix=b/app/"
        );
        let options = GrepOptions {
            ignore_case: true,
            fixed_strings: true,
            ..GrepOptions::default()
        };
        assert_eq!(
            Git::grep_cmd(Path::new("/ws/app"), "-x", &options, &["*.rs".into()]).command_line(),
            "git grep -z --full-name -I --no-color --no-column --ignore-case --fixed-strings \
             --no-line-number -e -x -- '*.rs'"
        );
    }

    #[test]
    fn stdin_paths_are_quoted_only_when_git_would_misread_them() {
        assert_eq!(quote_stdin_path(b"src/a b.txt"), b"src/a b.txt");
        assert_eq!(quote_stdin_path(b"back\\slash"), b"back\\slash");
        assert_eq!(quote_stdin_path("caf\u{e9}".as_bytes()), "caf\u{e9}".as_bytes());
        assert_eq!(quote_stdin_path(b"a\nb\\c"), b"\"a\\nb\\\\c\"");
        assert_eq!(quote_stdin_path(b"\"q\""), b"\"\\\"q\\\"\"");
        assert_eq!(quote_stdin_path(b"cr\r"), b"\"cr\\015\"");
    }

    #[test]
    fn queries_neither_show_progress_nor_fetch_lazily_nor_shield_themselves() {
        let (repo, a, b) = (
            Path::new("/ws/p"),
            CommitId::new(&"a".repeat(40)).unwrap(),
            CommitId::new(&"b".repeat(40)).unwrap(),
        );
        let branch = BranchName::new("main").unwrap();
        let queries = [
            Git::version_cmd(),
            Git::submodule_paths_cmd(repo),
            Git::submodule_urls_cmd(repo),
            Git::git_dir_head_cmd(repo),
            Git::git_dir_any_ref_cmd(repo),
            Git::ls_files_cmd(repo, "x"),
            Git::show_toplevel_cmd(repo),
            Git::probe_cmd(repo),
            Git::head_commit_cmd(repo),
            Git::current_branch_cmd(repo),
            Git::symbolic_head_cmd(repo),
            Git::ref_containing_head_cmd(repo),
            Git::git_dir_and_head_cmd(repo),
            Git::path_history_cmd(repo, "x"),
            Git::batch_check_cmd(repo),
            Git::commits_since_cmd(repo, &a),
            Git::pristine_status_cmd(repo),
            Git::staged_entries_cmd(repo),
            Git::head_summary_cmd(repo),
            Git::is_ancestor_cmd(repo, &a, &branch),
            Git::worktree_status_cmd(repo),
            Git::behind_ahead_cmd(repo, &a),
            Git::mirror_tips_cmd(repo),
            Git::origin_url_cmd(repo),
            Git::tree_changes_cmd(repo, &a, &b),
            Git::index_entries_cmd(repo),
            Git::index_differs_cmd(repo, &a),
            Git::hash_paths_cmd(repo),
            Git::blob_cmd(repo, a.as_str()),
            Git::diff_cmd(repo, "p/", false),
            Git::grep_cmd(repo, "x", &GrepOptions::default(), &[]),
        ];
        for cmd in &queries {
            assert!(
                !cmd.lazy_fetch && cmd.progress_at.is_none() && !cmd.lets_finish,
                "{cmd}"
            );
        }
        // Those that reach a server show progress, and may fetch lazily.
        let url = RemoteUrl::new("https://example.com/x.git").unwrap();
        let network = [
            Git::clone_cmd(repo, &url, repo, &CloneOptions::default()),
            Git::mirror_clone_cmd(repo, &url, repo),
            Git::mirror_fetch_cmd(repo),
            Git::submodule_update_cmd(repo, "x", &SubmoduleClone::default()),
            Git::fetch_commit_cmd(repo, &a, None, None),
            Git::fetch_branch_cmd(repo, &branch, None, true),
            Git::fetch_objects_cmd(repo, std::slice::from_ref(&a)),
            Git::fetch_origin_cmd(repo, true),
        ];
        for cmd in &network {
            let at = cmd.progress_at.expect("a network command shows progress");
            assert!(cmd.lazy_fetch && !cmd.lets_finish, "{cmd}");
            // `--progress` goes right after the subcommand.
            assert!(
                ["clone", "fetch", "update"].contains(&cmd.args[at - 1].to_str().unwrap()),
                "{cmd}"
            );
        }
        // Checkouts that rewrite a working tree fetch what they lack, and
        // are let finish.
        for cmd in [
            Git::checkout_detached_cmd(repo, &a),
            Git::checkout_overwriting_cmd(repo, &a),
            Git::populate_cmd(repo),
        ] {
            assert!(
                cmd.lazy_fetch && cmd.lets_finish && cmd.progress_at.is_none(),
                "{cmd}"
            );
        }
    }
}
