//! Runs the user's own command (`foreach -- CMD ARGS...`) in a project
//! folder, without a shell, with the user's environment and locale, less
//! the variables that point git at another repository
//! ([`super::env::REPOSITORY_ENV`]), plus those naming the project.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::process::spool::Spool;

/// Where the command runs and what it is told about its project.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    /// The project's folder (the command's working directory).
    pub dir: PathBuf,
    /// The workspace folder.
    pub root: PathBuf,
    /// The commit it has checked out.
    pub head: Option<String>,
    /// The commit pinned for it, and the project whose pin that is.
    pub pin: Option<String>,
    pub pinned_by: Option<String>,
}

impl Target {
    /// The variables the command gets: `(name, value)`, empty values for
    /// what the project does not have, so that `set -u` scripts can read
    /// every one.
    pub fn variables(&self) -> Vec<(&'static str, OsString)> {
        let text = |v: &Option<String>| OsString::from(v.clone().unwrap_or_default());
        vec![
            ("OPENXLA_WORKSPACE_PROJECT", self.name.clone().into()),
            ("OPENXLA_WORKSPACE_PROJECT_DIR", self.dir.clone().into()),
            ("OPENXLA_WORKSPACE_ROOT", self.root.clone().into()),
            ("OPENXLA_WORKSPACE_HEAD", text(&self.head)),
            ("OPENXLA_WORKSPACE_PIN", text(&self.pin)),
            ("OPENXLA_WORKSPACE_PINNED_BY", text(&self.pinned_by)),
        ]
    }
}

/// How the command's output is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Straight to the tool's own stdout and stderr, and its stdin too
    /// (one project at a time: the command may be interactive).
    Through,
    /// stdout and stderr into one temporary file, in the order written;
    /// no stdin.
    Merged,
    /// stdout and stderr into two temporary files; no stdin.
    Separate,
}

/// What a run gave.
#[derive(Debug, Default)]
pub struct Ran {
    /// The exit code, or the signal that killed it.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// stdout (with stderr when merged), and stderr when kept apart; none
    /// when passed through. On disk: a command may print gigabytes.
    pub stdout: Option<Spool>,
    pub stderr: Option<Spool>,
}

impl Ran {
    /// Whether the command exited with status 0.
    pub fn succeeded(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `command` (program and arguments) for `target`. An error is a
/// command that could not be started (not found, not executable).
pub fn run(command: &[OsString], target: &Target, output: Output) -> std::io::Result<Ran> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| std::io::Error::other("no command given"))?;
    // The user's command takes Ctrl-C itself, as when run by hand (the
    // tool's own threads keep the signals blocked, and children would
    // inherit that).
    let expr = duct::cmd(program, args)
        .dir(&target.dir)
        .unchecked()
        .before_spawn(|child| crate::process::interrupt::child_signals(child, false));
    let mut expr = super::env::without_repository_env(expr);
    for (name, value) in target.variables() {
        expr = expr.env(name, value);
    }
    let (stdout, stderr) = match output {
        Output::Through => (None, None),
        Output::Merged => (Some(Spool::new()?), None),
        Output::Separate => (Some(Spool::new()?), Some(Spool::new()?)),
    };
    // duct applies the outer redirection first: stdout goes to the file,
    // then stderr joins it.
    let expr = match (&stdout, &stderr) {
        (None, _) => expr,
        (Some(out), None) => expr.stdin_null().stderr_to_stdout().stdout_file(out.writer()?),
        (Some(out), Some(err)) => expr
            .stdin_null()
            .stdout_file(out.writer()?)
            .stderr_file(err.writer()?),
    };
    let out = super::children::run_listed(&expr, &target.dir)?;
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
    #[cfg(not(unix))]
    let signal = None;
    Ok(Ran {
        code: out.status.code(),
        signal,
        stdout,
        stderr,
    })
}

/// The command line as a user could retype it, for messages and `--dry-run`.
pub fn command_line(command: &[OsString]) -> String {
    command
        .iter()
        .map(|a| crate::process::shell_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `(in DIR) CMD ARGS`, as `--dry-run` shows a step.
pub fn describe(command: &[OsString], dir: &Path) -> String {
    format!("(in {}) {}", dir.display(), command_line(command))
}
