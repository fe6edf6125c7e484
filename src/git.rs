//! The only place that spawns git. Every operation is one typed function that
//! builds its command line here, runs the system `git` through duct with the
//! user's environment unchanged, and turns failure into a [`GitError`] holding
//! the folder, the command line, the exit status and git's stderr.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::types::{BranchName, CommitId, RemoteUrl};

/// How git is run for this invocation of the tool.
#[derive(Clone, Debug)]
pub struct Git {
    /// Echo each command with its folder on stderr before running it (`-v`).
    verbose: bool,
    /// Set `GIT_TERMINAL_PROMPT=0`: without a terminal nobody could answer.
    no_prompt: bool,
    /// Number of git processes spawned, for `-v` summaries and the benchmark.
    spawned: Arc<AtomicUsize>,
}

/// A git command line and the folder it runs in, as data: plans print these
/// for `--dry-run` and `-v`, and [`Git::run`] executes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitCommand {
    dir: PathBuf,
    args: Vec<OsString>,
}

/// What went wrong running git.
#[derive(Debug)]
pub enum GitErrorKind {
    /// No `git` executable on PATH.
    NotInstalled,
    /// git could not be started for another reason (e.g. the folder vanished).
    Spawn(std::io::Error),
    /// git ran and exited unsuccessfully.
    Failed { status: Option<i32> },
}

/// A failed git call, carrying everything a user needs to understand it.
#[derive(Debug)]
pub struct GitError {
    /// The folder git ran in.
    pub dir: PathBuf,
    /// The full command line, as the user could retype it.
    pub command: String,
    /// git's stderr, trimmed.
    pub stderr: String,
    /// Why it failed.
    pub kind: GitErrorKind,
}

impl GitError {
    /// True when git reported that the server refused a fetch by commit id
    /// (servers without `uploadpack.allowReachableSHA1InWant` and the like).
    pub fn is_refused_want(&self) -> bool {
        let s = self.stderr.to_ascii_lowercase();
        s.contains("not our ref")
            || s.contains("couldn't find remote ref")
            || s.contains("upload-pack: not our ref")
            || s.contains("server does not allow request for unadvertised object")
    }

    /// True when git refused because the command would overwrite local changes
    /// (checkout/merge protect uncommitted work this way).
    pub fn would_overwrite_local_changes(&self) -> bool {
        self.stderr.contains("would be overwritten")
            || self
                .stderr
                .contains("Please commit your changes or stash them")
    }
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            GitErrorKind::NotInstalled => {
                write!(
                    f,
                    "git was not found on PATH; install git (2.25 or newer) and try again"
                )
            }
            GitErrorKind::Spawn(e) => write!(
                f,
                "could not run `{}` in {}: {e}",
                self.command,
                self.dir.display()
            ),
            GitErrorKind::Failed { status } => {
                let status = match status {
                    Some(code) => format!("exit status {code}"),
                    None => "killed by a signal".to_string(),
                };
                write!(
                    f,
                    "`{}` failed in {} ({status})",
                    self.command,
                    self.dir.display()
                )?;
                if !self.stderr.is_empty() {
                    for line in self.stderr.lines() {
                        write!(f, "\n    {line}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for GitError {}

/// Result of a git operation.
pub type GitResult<T> = Result<T, GitError>;

/// Options for [`Git::clone_cmd`].
#[derive(Clone, Debug, Default)]
pub struct CloneOptions {
    /// `--depth N` for a shallow clone.
    pub depth: Option<u32>,
    /// `--no-checkout`: the caller checks out a specific commit afterwards.
    pub no_checkout: bool,
}

impl GitCommand {
    fn new<I, S>(dir: &Path, args: I) -> GitCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        GitCommand {
            dir: dir.to_path_buf(),
            args: args
                .into_iter()
                .map(|a| a.as_ref().to_os_string())
                .collect(),
        }
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

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,%^{}".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

// Command builders. Each is the single definition of one git command line;
// the typed operations below and the plans' dry-run output both use them.
impl Git {
    /// `git clone [--depth N] [--no-checkout] -- URL DEST`, run in `parent`.
    pub fn clone_cmd(
        parent: &Path,
        url: &RemoteUrl,
        dest: &Path,
        opts: &CloneOptions,
    ) -> GitCommand {
        let mut args: Vec<OsString> = vec!["clone".into()];
        if let Some(depth) = opts.depth {
            args.push(format!("--depth={depth}").into());
        }
        if opts.no_checkout {
            args.push("--no-checkout".into());
        }
        args.push("--".into());
        args.push(url.as_str().into());
        args.push(dest.as_os_str().to_os_string());
        GitCommand::new(parent, args)
    }

    /// `git submodule update --init [--depth N --recommend-shallow] [--jobs N] -- PATH...`
    pub fn submodule_update_cmd(
        repo: &Path,
        paths: &[String],
        shallow: Option<u32>,
        jobs: usize,
    ) -> GitCommand {
        let mut args: Vec<OsString> = vec!["submodule".into(), "update".into(), "--init".into()];
        if let Some(depth) = shallow {
            args.push(format!("--depth={depth}").into());
            args.push("--recommend-shallow".into());
        }
        if jobs > 1 {
            args.push(format!("--jobs={jobs}").into());
        }
        args.push("--".into());
        args.extend(paths.iter().map(OsString::from));
        GitCommand::new(repo, args)
    }

    /// `git fetch [--depth N] origin SHA`: fetch exactly one commit by id.
    pub fn fetch_commit_cmd(repo: &Path, commit: &CommitId, depth: Option<u32>) -> GitCommand {
        let mut args: Vec<OsString> = vec!["fetch".into(), "--no-tags".into()];
        if let Some(depth) = depth {
            args.push(format!("--depth={depth}").into());
        }
        args.push("origin".into());
        args.push(commit.as_str().into());
        GitCommand::new(repo, args)
    }

    /// `git fetch origin BRANCH`: refresh `origin/BRANCH`.
    pub fn fetch_branch_cmd(repo: &Path, branch: &BranchName, depth: Option<u32>) -> GitCommand {
        let mut args: Vec<OsString> = vec!["fetch".into(), "--no-tags".into()];
        if let Some(depth) = depth {
            args.push(format!("--depth={depth}").into());
        }
        args.push("origin".into());
        args.push(
            format!(
                "+refs/heads/{b}:refs/remotes/origin/{b}",
                b = branch.as_str()
            )
            .into(),
        );
        GitCommand::new(repo, args)
    }

    /// `git -c advice.detachedHead=false checkout --detach SHA --`
    pub fn checkout_detached_cmd(repo: &Path, commit: &CommitId) -> GitCommand {
        GitCommand::new(
            repo,
            [
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "--detach",
                commit.as_str(),
                "--",
            ],
        )
    }

    /// `git init` then `git remote add origin URL`, as two commands.
    pub fn init_with_origin_cmds(repo: &Path, url: &RemoteUrl) -> [GitCommand; 2] {
        [
            GitCommand::new(repo, ["init", "--quiet"]),
            GitCommand::new(repo, ["remote", "add", "origin", "--", url.as_str()]),
        ]
    }
}

impl Git {
    /// A runner for this invocation. `verbose` echoes every command.
    pub fn new(verbose: bool) -> Git {
        Git {
            verbose,
            no_prompt: !std::io::stdin().is_terminal(),
            spawned: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many git processes this runner has started.
    pub fn processes_spawned(&self) -> usize {
        self.spawned.load(Ordering::Relaxed)
    }

    /// Fails with a one-line error when no usable `git` is on PATH.
    pub fn check_installed(&self) -> GitResult<String> {
        let cmd = GitCommand::new(Path::new("."), ["--version"]);
        let out = self.output(&cmd)?;
        Ok(out.trim().to_string())
    }

    /// Runs a command, discarding stdout.
    pub fn run(&self, cmd: &GitCommand) -> GitResult<()> {
        self.output(cmd).map(|_| ())
    }

    /// Runs a command and returns its stdout as text.
    pub fn output(&self, cmd: &GitCommand) -> GitResult<String> {
        let out = self.raw(cmd)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a command and returns stdout bytes; a non-zero exit is an error.
    fn raw(&self, cmd: &GitCommand) -> GitResult<std::process::Output> {
        let out = self.spawn(cmd)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(self.failure(cmd, &out))
        }
    }

    /// Runs a command and returns its output whatever the exit status; the
    /// caller decides what a non-zero exit means (e.g. `cat-file -e`).
    fn spawn(&self, cmd: &GitCommand) -> GitResult<std::process::Output> {
        if self.verbose {
            eprintln!("+ {cmd}");
        }
        self.spawned.fetch_add(1, Ordering::Relaxed);
        let mut expr = duct::cmd("git", &cmd.args)
            .dir(&cmd.dir)
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked();
        if self.no_prompt {
            expr = expr.env("GIT_TERMINAL_PROMPT", "0");
        }
        expr.run().map_err(|e| GitError {
            dir: cmd.dir.clone(),
            command: cmd.command_line(),
            stderr: String::new(),
            kind: if e.kind() == std::io::ErrorKind::NotFound && cmd.dir.is_dir() {
                GitErrorKind::NotInstalled
            } else {
                GitErrorKind::Spawn(e)
            },
        })
    }

    fn failure(&self, cmd: &GitCommand, out: &std::process::Output) -> GitError {
        GitError {
            dir: cmd.dir.clone(),
            command: cmd.command_line(),
            stderr: trim_stderr(&String::from_utf8_lossy(&out.stderr)),
            kind: GitErrorKind::Failed {
                status: out.status.code(),
            },
        }
    }

    /// Clones `url` into `dest` (a path relative to or under `parent`).
    pub fn clone(
        &self,
        parent: &Path,
        url: &RemoteUrl,
        dest: &Path,
        opts: &CloneOptions,
    ) -> GitResult<()> {
        self.run(&Self::clone_cmd(parent, url, dest, opts))
    }

    /// The submodules recorded in `repo`'s `.gitmodules`, as `(name, path)`
    /// pairs in file order. A repository without `.gitmodules` has none.
    pub fn submodule_paths(&self, repo: &Path) -> GitResult<Vec<String>> {
        if !repo.join(".gitmodules").is_file() {
            return Ok(Vec::new());
        }
        let cmd = GitCommand::new(
            repo,
            [
                "config",
                "--file",
                ".gitmodules",
                "--null",
                "--get-regexp",
                r"^submodule\..*\.path$",
            ],
        );
        let out = self.spawn(&cmd)?;
        // `git config --get-regexp` exits 1 when nothing matches.
        if out.status.code() == Some(1) {
            return Ok(Vec::new());
        }
        if !out.status.success() {
            return Err(self.failure(&cmd, &out));
        }
        // With --null each entry is `KEY\nVALUE\0`.
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text
            .split('\0')
            .filter_map(|entry| entry.split_once('\n').map(|(_, path)| path.to_string()))
            .filter(|path| !path.is_empty())
            .collect())
    }

    /// Initialises and updates the given submodules of `repo`.
    pub fn submodule_update(
        &self,
        repo: &Path,
        paths: &[String],
        shallow: Option<u32>,
        jobs: usize,
    ) -> GitResult<()> {
        self.run(&Self::submodule_update_cmd(repo, paths, shallow, jobs))
    }

    /// Whether `dir` is the top folder of a git checkout (not merely inside
    /// one: a workspace may itself sit inside a repository).
    pub fn is_checkout_root(&self, dir: &Path) -> bool {
        if !dir.join(".git").exists() {
            return false;
        }
        let cmd = GitCommand::new(dir, ["rev-parse", "--show-toplevel"]);
        match self.output(&cmd) {
            Ok(top) => {
                let top = PathBuf::from(top.trim_end_matches(['\n', '\r']));
                match (top.canonicalize(), dir.canonicalize()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                }
            }
            Err(_) => false,
        }
    }

    /// The remote URL configured as `origin` in `repo`, if any.
    pub fn origin_url(&self, repo: &Path) -> GitResult<Option<String>> {
        let cmd = GitCommand::new(repo, ["config", "--get", "remote.origin.url"]);
        let out = self.spawn(&cmd)?;
        if out.status.code() == Some(1) {
            return Ok(None);
        }
        if !out.status.success() {
            return Err(self.failure(&cmd, &out));
        }
        Ok(Some(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ))
    }
}

/// Keeps what matters of git's stderr: drops blank lines and progress
/// chatter, and caps the length so one failure cannot flood a summary.
fn trim_stderr(stderr: &str) -> String {
    const MAX_LINES: usize = 20;
    let lines: Vec<&str> = stderr
        .lines()
        .map(|l| l.rsplit('\r').next().unwrap_or(l).trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() <= MAX_LINES {
        lines.join("\n")
    } else {
        let mut kept = lines[..MAX_LINES - 1].join("\n");
        kept.push_str(&format!(
            "\n… ({} more lines)",
            lines.len() - (MAX_LINES - 1)
        ));
        kept
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
        assert_eq!(
            cmd.command_line(),
            "git clone -- file:///tmp/my_repo /ws/.x"
        );
        let cmd = GitCommand::new(Path::new("/"), ["log", "--format=%H %s"]);
        assert_eq!(cmd.command_line(), "git log '--format=%H %s'");
    }

    #[test]
    fn stderr_is_trimmed_of_progress_and_capped() {
        let noisy = "Receiving objects:  10%\rReceiving objects: 100%\n\nfatal: boom\n";
        assert_eq!(trim_stderr(noisy), "Receiving objects: 100%\nfatal: boom");
        let long: String = (0..50).map(|i| format!("line {i}\n")).collect();
        assert!(trim_stderr(&long).ends_with("(31 more lines)"));
    }
}
