//! git command lines as data. [`GitCommand`] is a command line, the folder
//! it runs in and how the runner treats it (progress, lazy fetches, letting
//! a checkout finish); every command line the tool gives git is built here
//! and nowhere else, by one `Git::*_cmd` function each, which the typed
//! operations run and plans print for `--dry-run` and `-v`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use super::{Git, CHECKED_OUT_REF};
use crate::process::shell_quote;
use crate::types::{BranchName, CommitId, Filter, RemoteUrl};

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
    /// [`end_children`]).
    pub(super) lets_finish: bool,
    /// The [`CheckoutLog`] records of the checkouts this command makes,
    /// told when it ends.
    pub(super) intents: Vec<u64>,
    /// Whether git may fetch missing objects from a partial clone's
    /// promisor remote while it runs. Only commands that are meant to reach
    /// the network (clones, fetches) and checkouts (which need the files'
    /// contents) may; every query runs with `GIT_NO_LAZY_FETCH=1`, so that
    /// reading a partial clone never opens a connection behind the tool's
    /// back.
    pub(super) lazy_fetch: bool,
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

impl GitCommand {
    pub(super) fn new<I, S>(dir: &Path, args: I) -> GitCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        GitCommand {
            dir: dir.to_path_buf(),
            args: args.into_iter().map(|a| a.as_ref().to_os_string()).collect(),
            progress_at: None,
            lets_finish: false,
            intents: Vec::new(),
            lazy_fetch: false,
        }
    }

    /// Marks a checkout that rewrites a working tree (see
    /// [`GitCommand::lets_finish`]).
    fn letting_finish(mut self) -> GitCommand {
        self.lets_finish = true;
        self
    }

    /// Marks a network command whose progress git can report with
    /// `--progress` inserted at `index` (used only when shown live). Being
    /// on the network, it may also fetch missing objects lazily.
    pub(super) fn with_progress_at(mut self, index: usize) -> GitCommand {
        self.progress_at = Some(index);
        self.lazy_fetch = true;
        self
    }

    /// Lets git fetch objects a partial clone lacks while this command runs
    /// (see [`GitCommand::lazy_fetch`]).
    fn fetching_lazily(mut self) -> GitCommand {
        self.lazy_fetch = true;
        self
    }

    /// The folder the command runs in.
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

impl Git {
    /// `git clone [--depth N] [--no-checkout] -- URL DEST`, run in `parent`.
    pub fn clone_cmd(parent: &Path, url: &RemoteUrl, dest: &Path, opts: &CloneOptions) -> GitCommand {
        let mut args: Vec<OsString> = vec!["clone".into()];
        if let Some(depth) = opts.depth {
            args.push(format!("--depth={depth}").into());
        }
        if opts.no_checkout {
            args.push("--no-checkout".into());
        }
        if let Some(filter) = opts.filter {
            args.push(format!("--filter={filter}").into());
        }
        if opts.no_local {
            args.push("--no-local".into());
        }
        if let Some(mirror) = &opts.reference {
            let mut arg = OsString::from("--reference=");
            arg.push(mirror);
            args.push(arg);
            if opts.dissociate {
                args.push("--dissociate".into());
            }
        }
        args.push("--".into());
        args.push(url.as_str().into());
        args.push(dest.as_os_str().to_os_string());
        GitCommand::new(parent, args).with_progress_at(1)
    }

    /// `git clone --bare -- URL DEST`: a mirror for the object cache (see
    /// [`Git::mirror_settings_cmds`] for what makes it one).
    pub fn mirror_clone_cmd(parent: &Path, url: &RemoteUrl, dest: &Path) -> GitCommand {
        let args: Vec<OsString> = vec![
            "clone".into(),
            "--bare".into(),
            "--".into(),
            url.as_str().into(),
            dest.as_os_str().to_os_string(),
        ];
        GitCommand::new(parent, args).with_progress_at(1)
    }

    /// `git -c gc.auto=0 -c maintenance.auto=false fetch --prune origin`,
    /// run in a mirror: its branches and tags as the server has them. The
    /// `-c` options win over any configuration: a fetch ends with an
    /// automatic gc, which in a mirror could delete objects that checkouts
    /// borrow.
    pub fn mirror_fetch_cmd(mirror: &Path) -> GitCommand {
        GitCommand::new(
            mirror,
            [
                "-c",
                "gc.auto=0",
                "-c",
                "maintenance.auto=false",
                "fetch",
                "--prune",
                "origin",
            ],
        )
        .with_progress_at(5)
    }

    /// The settings that make a bare clone a cache mirror, one `git config`
    /// each: fetch exactly the branches and tags (so `--prune` never
    /// touches [`KEEP_REFS`]), and never collect garbage on its own.
    pub fn mirror_settings_cmds(mirror: &Path) -> Vec<GitCommand> {
        let set = |args: &[&str]| {
            let mut all = vec!["config"];
            all.extend_from_slice(args);
            GitCommand::new(mirror, all)
        };
        vec![
            set(&[
                "--replace-all",
                "remote.origin.fetch",
                "+refs/heads/*:refs/heads/*",
            ]),
            set(&["--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"]),
            // `clone --mirror` (how older versions made mirrors) sets it.
            set(&["--unset-all", "remote.origin.mirror"]),
            set(&["gc.auto", "0"]),
            set(&["maintenance.auto", "false"]),
            set(&["gc.pruneExpire", "never"]),
        ]
    }

    /// `git update-ref --stdin` in a mirror, fed the keep refs to create
    /// (see [`Git::keep_mirror_tips`]).
    pub fn keep_tips_cmd(mirror: &Path) -> GitCommand {
        GitCommand::new(mirror, ["update-ref", "--stdin"])
    }

    /// `git init --quiet [--object-format=sha256] -- DEST`: an empty
    /// repository to fetch `commit` into (see [`Git::add_origin_cmd`]), in
    /// the object format its id says (64 hex digits: SHA-256).
    pub fn init_cmd(parent: &Path, dest: &Path, commit: &CommitId) -> GitCommand {
        let mut args: Vec<OsString> = vec!["init".into(), "--quiet".into()];
        if commit.as_str().len() == 64 {
            args.push("--object-format=sha256".into());
        }
        args.push("--".into());
        args.push(dest.as_os_str().to_os_string());
        GitCommand::new(parent, args)
    }

    /// `git remote add origin URL`, with the refspec a clone would have.
    pub fn add_origin_cmd(repo: &Path, url: &RemoteUrl) -> GitCommand {
        GitCommand::new(repo, ["remote", "add", "origin", url.as_str()])
    }

    /// `git remote set-url origin URL`.
    pub fn set_origin_url_cmd(repo: &Path, url: &RemoteUrl) -> GitCommand {
        GitCommand::new(repo, ["remote", "set-url", "origin", url.as_str()])
    }

    /// `git submodule --quiet init -- PATH...`: records the URLs of the
    /// given submodules in the superproject's configuration (relative ones
    /// resolved against its origin), before [`Git::submodule_update_cmd`]
    /// clones them. One process for all: the clones that follow run in
    /// parallel, and would otherwise all write that configuration at once.
    pub fn submodule_init_cmd(repo: &Path, paths: &[String]) -> GitCommand {
        let mut args: Vec<OsString> = vec!["submodule".into(), "--quiet".into(), "init".into(), "--".into()];
        args.extend(paths.iter().map(OsString::from));
        GitCommand::new(repo, args)
    }

    /// `git submodule update --quiet --init --checkout [--depth=N --recommend-shallow] [--filter=SPEC]
    /// [--reference=MIRROR [--dissociate]] -- PATH`: clones one submodule (made
    /// known by [`Git::submodule_init_cmd`], so that `--init`, which
    /// `--filter` needs, finds nothing left to write) and checks out the
    /// commit recorded for it. `--checkout` overrides any `update =
    /// rebase|merge|none|!command` a `.gitmodules` from someone else's
    /// repository sets. One submodule per process, so that each is one of
    /// the `--jobs` git processes (`git submodule update --jobs=N` would run
    /// N clones under one) and can borrow from its own cache mirror.
    pub fn submodule_update_cmd(repo: &Path, path: &str, opts: &SubmoduleClone) -> GitCommand {
        let mut args: Vec<OsString> = vec![
            "submodule".into(),
            "update".into(),
            "--quiet".into(),
            "--init".into(),
            "--checkout".into(),
        ];
        if let Some(depth) = opts.depth {
            args.push(format!("--depth={depth}").into());
            args.push("--recommend-shallow".into());
        }
        if let Some(filter) = opts.filter {
            args.push(format!("--filter={filter}").into());
        }
        if let Some(mirror) = &opts.reference {
            let mut arg = OsString::from("--reference=");
            arg.push(mirror);
            args.push(arg);
            if opts.dissociate {
                args.push("--dissociate".into());
            }
        }
        args.push("--".into());
        args.push(path.into());
        GitCommand::new(repo, args).with_progress_at(2)
    }

    /// `git fetch [--depth N] [--filter=SPEC] origin SHA`: fetch exactly
    /// one commit by id. `filter` is for a repository the tool has just
    /// made: git then records it as the repository's own, as a clone with
    /// `--filter` would. A partial clone's later fetches use the filter it
    /// records without being told.
    pub fn fetch_commit_cmd(
        repo: &Path,
        commit: &CommitId,
        depth: Option<u32>,
        filter: Option<Filter>,
    ) -> GitCommand {
        let mut args: Vec<OsString> = vec!["fetch".into(), "--no-tags".into()];
        if let Some(depth) = depth {
            args.push(format!("--depth={depth}").into());
        }
        if let Some(filter) = filter {
            args.push(format!("--filter={filter}").into());
        }
        args.push("origin".into());
        args.push(commit.as_str().into());
        GitCommand::new(repo, args).with_progress_at(1)
    }

    /// `git fetch origin BRANCH`: refresh `origin/BRANCH`.
    /// With `unshallow`, a shallow repository gets the branch's whole
    /// history (`--unshallow`), so an older commit on it becomes reachable.
    pub fn fetch_branch_cmd(
        repo: &Path,
        branch: &BranchName,
        depth: Option<u32>,
        unshallow: bool,
    ) -> GitCommand {
        let mut args: Vec<OsString> = vec!["fetch".into(), "--no-tags".into()];
        if let Some(depth) = depth {
            args.push(format!("--depth={depth}").into());
        } else if unshallow {
            args.push("--unshallow".into());
        }
        args.push("origin".into());
        args.push(format!("+refs/heads/{b}:refs/remotes/origin/{b}", b = branch.as_str()).into());
        GitCommand::new(repo, args).with_progress_at(1)
    }

    /// `git -c fetch.negotiationAlgorithm=noop fetch --no-tags --recurse-submodules=no
    /// --filter=blob:none origin OID...`: fetches the named objects (a tree,
    /// a file's contents) into a partial clone that lacks them, as git's own
    /// lazy fetch would, but as one visible step: a wanted tree comes with
    /// the trees under it and no file contents, a wanted blob by itself.
    pub fn fetch_objects_cmd(repo: &Path, objects: &[CommitId]) -> GitCommand {
        let mut args: Vec<OsString> = [
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            "--no-tags",
            "--recurse-submodules=no",
            "--filter=blob:none",
            "origin",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        args.extend(objects.iter().map(|o| OsString::from(o.as_str())));
        GitCommand::new(repo, args).with_progress_at(3)
    }

    /// `git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --no-overwrite-ignore --detach SHA --`
    pub fn checkout_detached_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        GitCommand::new(
            repo,
            [
                "-c",
                "advice.detachedHead=false",
                "checkout",
                // Submodules are the tool's own step (a user's
                // `submodule.recurse=true` would move them here, unchecked).
                "--no-recurse-submodules",
                // Nothing on stderr when it works: a run killed meanwhile
                // must not take git down with it half way (SIGPIPE).
                "--quiet",
                // Refuse, like for tracked changes, rather than silently
                // replace an ignored file that the target commit tracks.
                "--no-overwrite-ignore",
                "--detach",
                commit.as_str(),
                "--",
            ],
        )
        .letting_finish()
        // A partial clone fetches the files' contents it lacks.
        .fetching_lazily()
    }

    /// `git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --force --detach SHA --`:
    /// writes the files of `commit` into a repository that has no index
    /// (see [`Git::lacks_working_tree`]). Nothing in such a tree is the
    /// user's: no file of it was ever tracked, and the files there were
    /// written by the interrupted checkout that should have made the index,
    /// one of them perhaps cut short; git would refuse every one of them as
    /// "untracked". Files at paths the commit does not track stay.
    pub fn checkout_overwriting_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        GitCommand::new(
            repo,
            [
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "--no-recurse-submodules",
                "--quiet",
                "--force",
                "--detach",
                commit.as_str(),
                "--",
            ],
        )
        .letting_finish()
        .fetching_lazily()
    }

    /// `git checkout --no-recurse-submodules --quiet --force HEAD --`: write the working tree of a clone
    /// made without one (`--no-checkout`), staying on the branch HEAD
    /// names; `--force` for the reason [`Git::checkout_overwriting_cmd`]
    /// gives.
    pub fn populate_cmd(repo: &Path) -> GitCommand {
        GitCommand::new(
            repo,
            [
                "checkout",
                "--no-recurse-submodules",
                "--quiet",
                "--force",
                "HEAD",
                "--",
            ],
        )
        .letting_finish()
        .fetching_lazily()
    }

    /// `git update-ref -m MSG refs/openxla-workspace/pin SHA`: records that
    /// the tool checked `commit` out here (see [`CHECKED_OUT_REF`]).
    pub fn mark_checked_out_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        GitCommand::new(
            repo,
            [
                "update-ref",
                "-m",
                "openxla-workspace: checked out",
                CHECKED_OUT_REF,
                commit.as_str(),
            ],
        )
    }
    /// `git ls-remote --heads --exit-code -- URL refs/heads/BRANCH`, run in
    /// `dir`. The full ref name matters: ls-remote matches a pattern against
    /// the tail of each ref name, so `main` alone also lists
    /// `refs/heads/foo/main`.
    pub fn ls_remote_head_cmd(dir: &Path, url: &RemoteUrl, branch: &BranchName) -> GitCommand {
        let refname = format!("refs/heads/{}", branch.as_str());
        GitCommand::new(
            dir,
            [
                "ls-remote",
                "--heads",
                "--exit-code",
                "--",
                url.as_str(),
                refname.as_str(),
            ],
        )
    }

    /// `git diff --no-color --no-ext-diff [--cached] --src-prefix=a/PREFIX
    /// --dst-prefix=b/PREFIX`: the project's changes as a patch whose paths
    /// start with `PREFIX` (the project's folder and a slash), so that the
    /// patches of all projects make one patch of the workspace.
    pub fn diff_cmd(repo: &Path, prefix: &str, cached: bool) -> GitCommand {
        let mut args: Vec<OsString> = vec!["diff".into(), "--no-color".into(), "--no-ext-diff".into()];
        if cached {
            args.push("--cached".into());
        }
        args.push(format!("--src-prefix=a/{prefix}").into());
        args.push(format!("--dst-prefix=b/{prefix}").into());
        GitCommand::new(repo, args)
    }

    /// `git grep -z --full-name -I --no-color --no-column ... -e PATTERN --
    /// [PATH...]`: one record per match, each path ended by a NUL so that
    /// [`parse_grep`] can read any file name. Binary files are skipped.
    pub fn grep_cmd(repo: &Path, pattern: &str, options: &GrepOptions, paths: &[OsString]) -> GitCommand {
        let mut args: Vec<OsString> = ["grep", "-z", "--full-name", "-I", "--no-color", "--no-column"]
            .iter()
            .map(OsString::from)
            .collect();
        for (on, flag) in [
            (options.ignore_case, "--ignore-case"),
            (options.word_regexp, "--word-regexp"),
            (options.fixed_strings, "--fixed-strings"),
            (options.extended_regexp, "--extended-regexp"),
            (options.files_with_matches, "--files-with-matches"),
        ] {
            if on {
                args.push(flag.into());
            }
        }
        if !options.files_with_matches {
            // Said either way: `grep.lineNumber` in the user's config
            // would otherwise change the records' shape.
            args.push(
                if options.line_number {
                    "--line-number"
                } else {
                    "--no-line-number"
                }
                .into(),
            );
        }
        args.push("-e".into());
        args.push(pattern.into());
        args.push("--".into());
        args.extend(paths.iter().cloned());
        GitCommand::new(repo, args)
    }
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
}
