//! Errors of the git layer: [`GitError`] carries the folder, the command
//! line, git's stderr and why it failed ([`GitErrorKind`]); here a failure is
//! told apart by what git said (a git too old, a refused fetch by id, a
//! checkout refused over local changes or before it wrote a file).
//! Credential failures are read by `crate::ui::prompt::failures`, which the
//! prompter needs too and which must not depend on the git layer.

use std::fmt;
use std::path::PathBuf;

use super::{Git, GitCommand, MIN_VERSION};
use crate::model::text::escape_control;
use crate::process::capped_stderr;

/// What went wrong running git.
#[derive(Debug)]
pub enum GitErrorKind {
    /// No `git` executable on PATH.
    NotInstalled,
    /// git could not be started for another reason (e.g. the folder vanished).
    Spawn(std::io::Error),
    /// git ran and exited unsuccessfully.
    Failed { status: Option<i32> },
    /// git is older than [`MIN_VERSION`].
    TooOld { found: String },
    /// git ran and failed for want of credentials; `problem` says why and
    /// what to do, in one line.
    Credentials { status: Option<i32>, problem: String },
    /// Not started: an earlier git process of this run to `host` failed
    /// for a cause of the whole host (see `super::hosts`).
    HostDown(Box<super::HostDown>),
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
    /// The error of running `cmd`.
    pub(super) fn of(cmd: &GitCommand, stderr: String, kind: GitErrorKind) -> GitError {
        GitError {
            dir: cmd.dir.clone(),
            command: cmd.command_line(),
            stderr,
            kind,
        }
    }

    /// True when git reported that the server refused a fetch by commit id
    /// (servers without `uploadpack.allowReachableSHA1InWant` and the like).
    pub fn is_refused_want(&self) -> bool {
        super::Cause::RefusedWant.is_named_in(&self.stderr)
    }

    /// True when git stopped because it needed an object a partial clone
    /// lacks and was not allowed to fetch it (`GIT_NO_LAZY_FETCH=1`, which
    /// every query runs with). git 2.39.4 to about 2.45 die on this in
    /// `cat-file --batch` where later ones answer `missing`.
    pub fn is_lazy_fetch_refused(&self) -> bool {
        self.stderr.contains("lazy fetching disabled")
    }

    /// True when git refused because the command would overwrite local changes
    /// (checkout/merge protect uncommitted work this way).
    pub fn would_overwrite_local_changes(&self) -> bool {
        self.stderr.contains("would be overwritten")
            || self.stderr.contains("Please commit your changes or stash them")
    }
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (command, dir) = (&self.command, self.dir.display());
        match &self.kind {
            GitErrorKind::TooOld { found } => write!(
                f,
                "{found} is too old: openxla-workspace needs git {}.{} or newer; install a newer git first on PATH",
                MIN_VERSION.0, MIN_VERSION.1
            ),
            GitErrorKind::NotInstalled => {
                f.write_str("git was not found on PATH; install git (2.25 or newer) and try again")
            }
            GitErrorKind::Spawn(e) => write!(f, "could not run `{command}` in {dir}: {e}"),
            GitErrorKind::HostDown(down) => write!(
                f,
                "`{command}` in {dir} was not started: {} already failed in this run ({}): {}",
                down.host,
                down.cause.words(),
                escape_control(&down.said, false)
            ),
            GitErrorKind::Failed { status } | GitErrorKind::Credentials { status, .. } => {
                let status = match status {
                    Some(code) => format!("exit status {code}"),
                    None => "killed by a signal".to_string(),
                };
                write!(f, "`{command}` failed in {dir} ({status})")?;
                if let GitErrorKind::Credentials { problem, .. } = &self.kind {
                    write!(f, ": {problem}")?;
                }
                // git's stderr carries what servers and repositories say
                // (`remote:` lines, file names): escaped, one line each.
                for line in self.stderr.lines() {
                    write!(f, "\n    {}", escape_control(line, false))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for GitError {}

/// Result of a git operation.
pub type GitResult<T> = Result<T, GitError>;

impl Git {
    pub(super) fn spawn_error(&self, cmd: &GitCommand, e: std::io::Error) -> GitError {
        let kind = if e.kind() == std::io::ErrorKind::NotFound && cmd.dir.is_dir() {
            GitErrorKind::NotInstalled
        } else {
            GitErrorKind::Spawn(e)
        };
        GitError::of(cmd, String::new(), kind)
    }

    pub(super) fn failure(&self, cmd: &GitCommand, out: &std::process::Output) -> GitError {
        let stderr = git_stderr(&out.stderr);
        if let Some(hint) = crate::ui::prompt::failures::hint(&stderr, self.no_prompt) {
            let status = out.status.code();
            let problem = hint.to_string();
            return GitError::of(cmd, stderr, GitErrorKind::Credentials { status, problem });
        }
        self.failed(cmd, stderr, out.status.code())
    }

    /// The error for a command that failed or said something unexpected.
    /// A git older than [`MIN_VERSION`] is the likelier cause, and named
    /// instead (see [`Git::too_old`]).
    pub(super) fn failed(&self, cmd: &GitCommand, stderr: String, status: Option<i32>) -> GitError {
        let kind = match self.too_old() {
            Some(found) => GitErrorKind::TooOld { found },
            None => GitErrorKind::Failed { status },
        };
        GitError::of(cmd, stderr, kind)
    }

    /// The error for a command that failed because the credential
    /// prompter found the answers given refused (`problem` says so).
    pub(super) fn refused_credentials(
        &self,
        cmd: &GitCommand,
        out: &std::process::Output,
        problem: String,
    ) -> GitError {
        let status = out.status.code();
        GitError::of(
            cmd,
            git_stderr(&out.stderr),
            GitErrorKind::Credentials { status, problem },
        )
    }

    /// The error for a checkout whose record could not be written.
    pub(super) fn record_error(&self, cmd: &GitCommand, e: std::io::Error) -> GitError {
        let message = format!("could not record the checkout in the workspace lock file first: {e}");
        GitError::of(
            cmd,
            String::new(),
            GitErrorKind::Spawn(std::io::Error::new(e.kind(), message)),
        )
    }
}

/// git's stderr as an error shows it: each line as it ended up on a
/// terminal (a progress line redrawn after `\r` shows its last state),
/// cut down by [`capped_stderr`].
pub(super) fn git_stderr(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    capped_stderr(stderr.lines().map(|l| l.rsplit('\r').next().unwrap_or(l)))
}

/// Whether a checkout's stderr says it refused to start over files in the
/// way (it checks every path before it writes any). The messages of
/// git's `unpack_trees`, in the C locale git runs in.
pub(super) fn refused_before_writing(stderr: &[u8]) -> bool {
    let stderr = String::from_utf8_lossy(stderr);
    [
        "would be overwritten by checkout",
        "would be removed by checkout",
        "would be lost by checkout",
        "Please commit your changes or stash them",
        "Please move or remove them before you switch branches",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

/// Whether a `git submodule update` of one submodule says that its
/// clone failed, retry included: git then never started the checkout, so
/// no file of the submodule was written (`submodule--helper` checks a
/// submodule out only once its clone is complete).
pub(super) fn submodule_clone_failed(stderr: &[u8]) -> bool {
    let stderr = String::from_utf8_lossy(stderr);
    stderr.contains("Failed to clone '") && stderr.contains("' a second time, aborting")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(stderr: &str) -> GitError {
        GitError {
            dir: PathBuf::from("/ws/p"),
            command: "git fetch --no-tags origin 0123".into(),
            stderr: stderr.into(),
            kind: GitErrorKind::Failed { status: Some(128) },
        }
    }

    // stderr below as git 2.47 prints it in the C locale.

    #[test]
    fn a_server_refusing_a_fetch_by_id_is_told_from_other_failures() {
        let refused = [
            "fatal: remote error: upload-pack: not our ref 0123456789abcdef0123456789abcdef01234567",
            "error: Server does not allow request for unadvertised object 0123456789abcdef0123456789abcdef01234567",
            "fatal: couldn't find remote ref refs/heads/gone",
        ];
        for stderr in refused {
            assert!(failed(stderr).is_refused_want(), "{stderr}");
        }
        for stderr in [
            "fatal: repository 'https://example.com/x.git/' not found",
            "fatal: unable to access 'https://example.com/x.git/': Could not resolve host: example.com",
        ] {
            assert!(!failed(stderr).is_refused_want(), "{stderr}");
        }
    }

    #[test]
    fn a_partial_clone_refusing_to_fetch_lazily_is_told_from_other_failures() {
        // git 2.39.5's cat-file --batch, with GIT_NO_LAZY_FETCH=1, on a
        // blob a blobless clone lacks.
        let refused = "warning: lazy fetching disabled; some objects may not be available\n\
                       fatal: could not fetch c8715a0d394cbd330f0cbacb67b5f516db118488 from promisor remote";
        assert!(failed(refused).is_lazy_fetch_refused());
        for stderr in [
            "fatal: not a git repository (or any of the parent directories): .git",
            "fatal: bad object HEAD",
        ] {
            assert!(!failed(stderr).is_lazy_fetch_refused(), "{stderr}");
        }
    }

    #[test]
    fn checkouts_refused_over_files_in_the_way_are_recognised() {
        let tracked =
            "error: Your local changes to the following files would be overwritten by checkout:\n\tf\n\
                       Please commit your changes or stash them before you switch branches.\nAborting";
        let untracked =
            "error: The following untracked working tree files would be overwritten by checkout:\n\tg\n\
                         Please move or remove them before you switch branches.\nAborting";
        for stderr in [tracked, untracked] {
            assert!(failed(stderr).would_overwrite_local_changes(), "{stderr}");
            assert!(refused_before_writing(stderr.as_bytes()), "{stderr}");
        }
        // A checkout that failed while writing may have written some files.
        let cut_short = "error: unable to write file big.bin\nfatal: cannot create directory at 'd': No space left on device";
        assert!(!failed(cut_short).would_overwrite_local_changes());
        assert!(!refused_before_writing(cut_short.as_bytes()));
    }

    #[test]
    fn failures_show_the_command_the_folder_the_status_and_escaped_stderr() {
        let error = failed("remote: \x1b]0;title\x07hello\nfatal: boom");
        assert_eq!(
            error.to_string(),
            "`git fetch --no-tags origin 0123` failed in /ws/p (exit status 128)\n    \
             remote: \\x1b]0;title\\x07hello\n    fatal: boom"
        );
        let too_old = GitError {
            kind: GitErrorKind::TooOld {
                found: "git version 2.20.1".into(),
            },
            ..failed("")
        };
        assert_eq!(
            too_old.to_string(),
            "git version 2.20.1 is too old: openxla-workspace needs git 2.25 or newer; install a newer git \
             first on PATH"
        );
    }

    #[test]
    fn a_submodule_whose_clone_failed_twice_was_never_checked_out() {
        // git 2.47.3's `submodule update --init --checkout -- third_party/one`.
        let failed = "fatal: unable to access 'https://h.invalid/one.git/': Could not resolve host: h.invalid\n\
            fatal: clone of 'https://h.invalid/one.git' into submodule path '/ws/liba/third_party/one' failed\n\
            Failed to clone 'third_party/one'. Retry scheduled\n\
            fatal: clone of 'https://h.invalid/one.git' into submodule path '/ws/liba/third_party/one' failed\n\
            Failed to clone 'third_party/one' a second time, aborting";
        assert!(submodule_clone_failed(failed.as_bytes()));
        let checkout_failed =
            "error: Your local changes to the following files would be overwritten by checkout:\n\
            \tf\nfatal: Unable to checkout '0123' in submodule path 'third_party/one'";
        assert!(!submodule_clone_failed(checkout_failed.as_bytes()));
    }

    #[test]
    fn git_stderr_keeps_the_last_state_of_progress_lines() {
        let noisy = b"Receiving objects:  10%\rReceiving objects: 100%\n\nfatal: boom\n";
        assert_eq!(git_stderr(noisy), "Receiving objects: 100%\nfatal: boom");
    }
}
