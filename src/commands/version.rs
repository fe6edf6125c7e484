//! `--version`: the tool's version, and the git it runs.

use crate::git::Git;

/// Prints `openxla-workspace X.Y.Z` and the git found on PATH (its version
/// and where it is, or why it cannot be used); returns the exit status.
pub fn run() -> i32 {
    crate::ui::stdout::outln!("openxla-workspace {}", env!("CARGO_PKG_VERSION"));
    crate::ui::stdout::outln!("{}", Git::new(false).describe_installed());
    0
}
