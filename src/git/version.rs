//! Which git is installed, asked at most once per run: the oldest git the
//! tool works with ([`MIN_VERSION`]), what a git too old for it is told,
//! and which features depend on the version.

use super::{Git, GitError, GitErrorKind, GitResult};
use crate::model::text::escape_control;

/// The oldest git this tool supports: `%cs` in log formats needs 2.21, and
/// 2.25 is the oldest release it is tested against in spirit of the
/// distributions still in use (Ubuntu 20.04 ships 2.25).
pub const MIN_VERSION: (u32, u32) = (2, 25);

/// The first git whose `submodule update` takes `--filter`.
pub const SUBMODULE_FILTER_VERSION: (u32, u32) = (2, 36);

/// `Some(text)` when `text` (what `git --version` printed) names a git
/// older than [`MIN_VERSION`]; text that is no version is given the benefit
/// of the doubt.
fn too_old(text: &str) -> Option<String> {
    parse_version(text)
        .filter(|found| *found < MIN_VERSION)
        .map(|_| text.to_string())
}

/// `(major, minor)` from `git version 2.47.3` (vendor suffixes allowed).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let number = text.strip_prefix("git version ")?.split_whitespace().next()?;
    let mut parts = number.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

impl Git {
    /// Fails with a one-line error when no usable `git` is on PATH, or when
    /// it is older than [`MIN_VERSION`].
    pub fn check_installed(&self) -> GitResult<()> {
        let cmd = Self::version_cmd();
        let out = self.raw(&cmd)?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let known = self.version.get_or_init(|| Some(version)).clone();
        match known.as_deref().and_then(too_old) {
            Some(found) => Err(GitError::of(&cmd, String::new(), GitErrorKind::TooOld { found })),
            None => Ok(()),
        }
    }

    /// What `--version` says about git: `git version 2.47.3
    /// (/usr/bin/git)`, or why there is no usable one.
    pub fn describe_installed(&self) -> String {
        let found = std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("git"))
                .find(|candidate| candidate.is_file())
        });
        let cmd = Self::version_cmd();
        let out = match self.spawn(&cmd) {
            Ok(out) if out.status.success() => out,
            Ok(out) => return format!("git: `git --version` failed: {}", self.failure(&cmd, &out)),
            Err(e) => return format!("git: {e}"),
        };
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let version = escape_control(&version, false).into_owned();
        let at = found.map(|p| format!(" ({})", p.display())).unwrap_or_default();
        match too_old(&version) {
            Some(_) => format!(
                "{version}{at}: too old, openxla-workspace needs git {}.{} or newer",
                MIN_VERSION.0, MIN_VERSION.1
            ),
            None => format!("{version}{at}"),
        }
    }

    /// The version text when git is older than [`MIN_VERSION`]; asks git at
    /// most once per run.
    pub(super) fn too_old(&self) -> Option<String> {
        self.version_text().and_then(|text| too_old(&text))
    }

    /// What `git --version` printed; asks git at most once per run (and
    /// not at all after [`Git::check_installed`]).
    fn version_text(&self) -> Option<String> {
        self.version
            .get_or_init(|| {
                let cmd = Self::version_cmd();
                let out = self.spawn_plain(&cmd).ok()?;
                Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
            })
            .clone()
    }

    /// Whether git can clone submodules partially (`git submodule update
    /// --filter`, from git 2.36). A git whose version cannot be read is
    /// taken to be able to.
    pub fn filters_submodules(&self) -> bool {
        self.version_text()
            .and_then(|text| parse_version(&text))
            .is_none_or(|found| found >= SUBMODULE_FILTER_VERSION)
    }

    /// `git version X.Y.Z`, for messages.
    pub fn version_for_messages(&self) -> String {
        self.version_text()
            .map(|t| escape_control(&t, false).into_owned())
            .unwrap_or_else(|| "this git".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_versions_are_parsed_with_vendor_suffixes() {
        assert_eq!(parse_version("git version 2.47.3"), Some((2, 47)));
        assert_eq!(parse_version("git version 2.39.5 (Apple Git-154)"), Some((2, 39)));
        assert_eq!(parse_version("git version 2.45.1.windows.1"), Some((2, 45)));
        assert_eq!(parse_version("nonsense"), None);
        assert!(parse_version("git version 2.20.1").unwrap() < MIN_VERSION);
    }

    #[test]
    fn only_a_git_older_than_the_minimum_is_too_old() {
        assert_eq!(
            too_old("git version 2.24.4").as_deref(),
            Some("git version 2.24.4")
        );
        assert_eq!(too_old("git version 1.9.0").as_deref(), Some("git version 1.9.0"));
        assert_eq!(too_old("git version 2.25.0"), None);
        assert_eq!(too_old("git version 2.47.3"), None);
        assert_eq!(too_old("git version 3.0.0"), None);
        // What is no version is given the benefit of the doubt.
        assert_eq!(too_old("hub version 2.14.2"), None);
    }
}
