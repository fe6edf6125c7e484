//! Asking pip for a package's newest version: the `pip index versions`
//! command line as data ([`PipCommand`]), running it ([`Pip`]) isolated from
//! the project, reading its `Available versions:` line, and errors that
//! show what pip printed.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::pip_flags::PipFlags;
use crate::process::{capped_stderr, shell_quote};

/// The environment variable naming the Python that runs pip.
pub const PYTHON_ENV: &str = "OPENXLA_WORKSPACE_PYTHON";

/// The Python that runs pip when [`PYTHON_ENV`] is unset.
pub const DEFAULT_PYTHON: &str = "python3";

/// The longest version string we accept from pip; real ones are short.
const MAX_VERSION_LEN: usize = 100;

/// Whether `s` can be written as `NAME==s` in a requirements file: it
/// starts with a letter or digit and holds only characters PEP 440 versions
/// use (with local versions and epochs), so nothing pip prints can smuggle a
/// marker, an option or a second line into the file.
pub fn is_plausible_version(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_VERSION_LEN
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '_' | '-'))
}

/// The versions on pip's `Available versions: A, B, C` line, newest first as
/// pip sorts them; `None` when there is no such line or a version on it is
/// not plausible (see [`is_plausible_version`]).
pub fn parse_available_versions(stdout: &str) -> Option<Vec<String>> {
    let line = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Available versions:"))?;
    let versions: Vec<String> = line.split(',').map(|v| v.trim().to_string()).collect();
    if versions.iter().all(|v| is_plausible_version(v)) {
        Some(versions)
    } else {
        None
    }
}

/// Runs `python -I -m pip index versions`, with the Python from
/// [`PYTHON_ENV`] or [`DEFAULT_PYTHON`].
#[derive(Clone, Debug)]
pub struct Pip {
    python: OsString,
}

/// A `pip index versions` command line and the folder it runs in, as data:
/// `--dry-run` output and errors show it, [`Pip::newest_version`] runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipCommand {
    dir: PathBuf,
    program: OsString,
    args: Vec<String>,
}

/// Why asking pip for versions failed.
#[derive(Debug)]
pub enum PipErrorKind {
    /// The Python could not be started (not installed, not executable).
    NoPython(io::Error),
    /// The Python has no pip module.
    NoPip,
    /// pip is older than 21.2, which added `pip index versions`.
    NoIndexCommand,
    /// pip ran and failed (package not found, index unreachable, bad flag).
    Failed,
    /// pip succeeded but printed no usable `Available versions:` line.
    NoVersions,
}

/// A failed `pip index versions`, with what pip printed.
#[derive(Debug)]
pub struct PipError {
    pub dir: PathBuf,
    /// The Python that ran pip.
    pub python: String,
    /// The command line, as a user could retype it.
    pub command: String,
    /// pip's exit status (`None` when it did not run or was killed).
    pub status: Option<i32>,
    /// Trimmed.
    pub stdout: String,
    /// Trimmed, without pip's "experimental command" warning.
    pub stderr: String,
    pub kind: PipErrorKind,
}

impl Pip {
    /// The Python named by [`PYTHON_ENV`] if set and not empty, else
    /// [`DEFAULT_PYTHON`].
    pub fn from_env() -> Pip {
        let python = std::env::var_os(PYTHON_ENV)
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_PYTHON.into());
        Pip { python }
    }

    /// `PYTHON -I -m pip index versions --disable-pip-version-check FLAGS -- NAME`
    /// for the project in `project`, its flags' paths made absolute there
    /// ([`PipFlags::args`]). Isolated (`-I`: no current folder or user site
    /// on `sys.path`, no `PYTHON*` variables) and run outside any checkout
    /// ([`pip_folder`]), so a `pip/` or `pip.py` in the project never runs.
    pub fn index_versions_cmd(
        &self,
        project: &Path,
        package: &str,
        flags: &PipFlags,
    ) -> Result<PipCommand, String> {
        let mut args: Vec<String> = "-I -m pip index versions --disable-pip-version-check"
            .split(' ')
            .map(String::from)
            .collect();
        args.extend(flags.args(project)?);
        args.extend(["--".into(), package.into()]);
        Ok(PipCommand {
            dir: pip_folder(),
            program: self.python.clone(),
            args,
        })
    }

    /// The newest version `cmd` reports: the first on pip's `Available
    /// versions:` line. pip's stderr is ignored unless pip fails. (The error
    /// is boxed: it carries all pip printed.)
    pub fn newest_version(&self, cmd: &PipCommand) -> Result<String, Box<PipError>> {
        // Like git, pip gets the user's environment (PIP_INDEX_URL, proxies,
        // credentials), minus what would point a git it starts elsewhere.
        // (The locale stays: pip has no translations, and Python takes its
        // text encoding from it.)
        let expr = duct::cmd(&cmd.program, &cmd.args)
            .dir(&cmd.dir)
            .before_spawn(|child| crate::process::interrupt::child_signals(child, false));
        let expr = super::env::without_repository_env(expr)
            .env("PIP_NO_INPUT", "1")
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked();
        let error = |kind, status, stdout: &[u8], stderr: &[u8]| {
            Box::new(PipError {
                dir: cmd.dir.clone(),
                python: cmd.program.to_string_lossy().into_owned(),
                command: cmd.command_line(),
                status,
                stdout: String::from_utf8_lossy(stdout).trim().to_string(),
                stderr: pip_stderr(&String::from_utf8_lossy(stderr)),
                kind,
            })
        };
        let out = match super::children::run_listed(&expr, &cmd.dir) {
            Ok(out) => out,
            Err(e) => return Err(error(PipErrorKind::NoPython(e), None, b"", b"")),
        };
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let kind = if stderr.contains("No module named pip") {
                PipErrorKind::NoPip
            } else if stderr.contains("unknown command \"index\"") {
                PipErrorKind::NoIndexCommand
            } else {
                PipErrorKind::Failed
            };
            return Err(error(kind, out.status.code(), &out.stdout, &out.stderr));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        match parse_available_versions(&stdout).and_then(|v| v.into_iter().next()) {
            Some(newest) => Ok(newest),
            None => Err(error(
                PipErrorKind::NoVersions,
                out.status.code(),
                &out.stdout,
                &out.stderr,
            )),
        }
    }
}

/// Where pip runs: the system's temporary folder, which no checkout
/// contains (pip writes nothing there for `index versions`).
fn pip_folder() -> PathBuf {
    std::env::temp_dir()
}

impl PipCommand {
    /// The folder the command runs in (outside every checkout).
    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The command line as a user could retype it.
    pub fn command_line(&self) -> String {
        let mut line = shell_quote(&self.program.to_string_lossy());
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(arg));
        }
        line
    }
}

impl fmt::Display for PipCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(in {}) {}", self.dir.display(), self.command_line())
    }
}

impl fmt::Display for PipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let python = shell_quote(&self.python);
        let (command, dir) = (&self.command, self.dir.display());
        match &self.kind {
            PipErrorKind::NoPython(e) => {
                return write!(
                    f,
                    "could not run `{command}` in {dir}: {e}; install Python 3 with pip, or set {PYTHON_ENV} to one"
                )
            }
            PipErrorKind::NoPip => write!(
                f,
                "`{command}` failed in {dir}: {python} has no pip; install it (`{python} -m ensurepip`), or set {PYTHON_ENV} to a Python that has it"
            )?,
            PipErrorKind::NoIndexCommand => write!(
                f,
                "`{command}` failed in {dir}: this pip is too old for `pip index versions` (pip 21.2 or newer has it); upgrade it with `{python} -m pip install --upgrade pip`, or set {PYTHON_ENV} to a Python with a newer pip"
            )?,
            PipErrorKind::Failed => {
                let status = match self.status {
                    Some(code) => format!("exit status {code}"),
                    None => "killed by a signal".to_string(),
                };
                write!(
                    f,
                    "`{command}` failed in {dir} ({status}); check the package name and the pip_flags of the action"
                )?
            }
            PipErrorKind::NoVersions => write!(
                f,
                "`{command}` in {dir} printed no `Available versions:` line with valid versions; pip printed:"
            )?,
        }
        let streams = [("stdout", &self.stdout), ("stderr", &self.stderr)];
        let shown: Vec<_> = streams.iter().filter(|(_, s)| !s.is_empty()).collect();
        if matches!(self.kind, PipErrorKind::NoVersions) && shown.is_empty() {
            write!(f, "\n    (nothing)")?;
        }
        for (name, text) in shown {
            if matches!(self.kind, PipErrorKind::NoVersions) {
                write!(f, "\n    {name}:")?;
            }
            // What pip printed may quote a server's answer: escaped.
            for line in text.lines() {
                write!(f, "\n    {}", crate::model::text::escape_control(line, false))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for PipError {}

/// pip's stderr as worth showing: without its warning that `pip index` is
/// experimental (printed on every run), cut down as git's is, but with
/// each line whole.
fn pip_stderr(stderr: &str) -> String {
    capped_stderr(
        stderr
            .lines()
            .filter(|l| !l.starts_with("WARNING: pip index is currently an experimental command")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_version_is_the_first_on_the_available_versions_line() {
        let out = "jaxlib (0.4.3.dev20240101)\nAvailable versions: 0.4.3.dev20240101, 0.4.2, 0.4.1\n  INSTALLED: 0.4.1\n  LATEST:    0.4.3.dev20240101\n";
        assert_eq!(
            parse_available_versions(out).unwrap(),
            ["0.4.3.dev20240101", "0.4.2", "0.4.1"]
        );
        assert_eq!(
            parse_available_versions("Available versions: 1!2.0+local.1\n").unwrap(),
            ["1!2.0+local.1"]
        );
        assert_eq!(parse_available_versions("jaxlib (0.4.2)\n"), None);
        assert_eq!(parse_available_versions(""), None);
        // Nothing that could break the requirements file is accepted.
        assert_eq!(
            parse_available_versions("Available versions: 1.0; os_name=='nt'\n"),
            None
        );
        assert_eq!(parse_available_versions("Available versions: --hash=x\n"), None);
        assert_eq!(parse_available_versions("Available versions: \n"), None);
    }

    #[test]
    fn the_pip_command_ends_options_before_the_package_name() {
        let pip = Pip {
            python: "python3".into(),
        };
        let tokens = ["--pre", "-f", "https://x/links.html", "--find-links=wheels"].map(String::from);
        let flags = PipFlags::parse(&tokens).unwrap();
        let cmd = pip.index_versions_cmd(Path::new("/p"), "jaxlib", &flags).unwrap();
        assert_eq!(
            cmd.command_line(),
            "python3 -I -m pip index versions --disable-pip-version-check --pre -f https://x/links.html \
             --find-links /p/wheels -- jaxlib"
        );
        assert_eq!(cmd.dir(), std::env::temp_dir());
    }

    #[test]
    fn pip_errors_show_what_pip_printed_without_the_experimental_warning() {
        let err = PipError {
            dir: PathBuf::from("/p"),
            python: "py".into(),
            command: "py -m pip index versions -- x".into(),
            status: Some(0),
            stdout: "something else".into(),
            stderr: pip_stderr(
                "WARNING: pip index is currently an experimental command. It may be removed/changed.\nreal problem\n",
            ),
            kind: PipErrorKind::NoVersions,
        };
        let msg = err.to_string();
        assert!(msg.contains("printed no `Available versions:` line"), "{msg}");
        assert!(
            msg.contains("\n    stdout:\n    something else\n    stderr:\n    real problem"),
            "{msg}"
        );
        assert!(!msg.contains("experimental"), "{msg}");
        let old = PipError {
            kind: PipErrorKind::NoIndexCommand,
            status: Some(1),
            stdout: String::new(),
            stderr: "ERROR: unknown command \"index\"".into(),
            ..err
        };
        let msg = old.to_string();
        assert!(msg.contains("too old for `pip index versions`"), "{msg}");
        assert!(msg.contains("py -m pip install --upgrade pip"), "{msg}");
    }
}
