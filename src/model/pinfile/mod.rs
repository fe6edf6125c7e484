//! `sync_deps.py`, the pin file at a project's root: a
//! reader that picks the three dict literals out of whatever Python surrounds
//! them (`read.rs`), and a template writer that produces the whole file
//! (`write.rs`). This is the only module that knows the format.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::types::{CommitId, RemoteUrl, RepoName};

mod dict_literal;
mod read;
#[cfg(test)]
mod runnable_part_tests;
#[cfg(test)]
mod test_pins;
mod write;

pub use read::{parse, parse_bytes, read, read_raw, too_large};
pub use write::{render, write};

/// The pin file's name at a project's root.
pub const FILE_NAME: &str = "sync_deps.py";

/// The largest pin file we read. Real ones are a few kilobytes; anything
/// bigger is the wrong file, and refusing it early bounds the work.
pub const MAX_FILE_SIZE: usize = 1024 * 1024;

/// The three dicts of a pin file, each in file order.
///
/// Each list holds a name at most once; the setters keep it that way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pins {
    pinned: Vec<(RepoName, CommitId)>,
    origins: Vec<(RepoName, RemoteUrl)>,
    submodules: Vec<RepoName>,
}

impl Pins {
    /// `PINNED_VERSIONS`: each dependency and the commit it is pinned to.
    pub fn pinned(&self) -> &[(RepoName, CommitId)] {
        &self.pinned
    }

    /// `ORIGINS`: the URL to clone each dependency from.
    pub fn origins(&self) -> &[(RepoName, RemoteUrl)] {
        &self.origins
    }

    /// `SUBMODULES`: the dependencies whose submodules must be initialised
    /// (entries with `1` or `True`; `0` and `False` are left out).
    pub fn submodules(&self) -> &[RepoName] {
        &self.submodules
    }

    /// The commit `name` is pinned to, if any.
    pub fn pin(&self, name: &RepoName) -> Option<&CommitId> {
        self.pinned.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// The URL `name` is cloned from, if any.
    pub fn origin(&self, name: &RepoName) -> Option<&RemoteUrl> {
        self.origins.iter().find(|(n, _)| n == name).map(|(_, u)| u)
    }

    /// Whether `name`'s submodules must be initialised.
    pub fn has_submodules(&self, name: &RepoName) -> bool {
        self.submodules.contains(name)
    }

    /// Pins `name` to `commit`: an existing entry keeps its place, a new one
    /// goes last, so rewriting a file changes only the lines that changed.
    pub fn set_pin(&mut self, name: RepoName, commit: CommitId) {
        upsert(&mut self.pinned, name, commit);
    }

    /// Sets the URL `name` is cloned from (same ordering as [`Pins::set_pin`]).
    pub fn set_origin(&mut self, name: RepoName, url: RemoteUrl) {
        upsert(&mut self.origins, name, url);
    }

    /// Marks whether `name`'s submodules must be initialised; `false` removes
    /// the entry.
    pub fn set_submodules(&mut self, name: RepoName, on: bool) {
        let present = self.submodules.contains(&name);
        if on && !present {
            self.submodules.push(name);
        } else if !on && present {
            self.submodules.retain(|n| n != &name);
        }
    }
}

fn upsert<V>(entries: &mut Vec<(RepoName, V)>, name: RepoName, value: V) {
    match entries.iter_mut().find(|(n, _)| *n == name) {
        Some(entry) => entry.1 = value,
        None => entries.push((name, value)),
    }
}

/// A pin file that cannot be read: the file, the 1-based line (0 when the
/// problem is the whole file, such as an I/O error), and what was expected.
#[derive(Debug)]
pub struct PinFileError {
    /// The file, as the caller named it.
    pub file: PathBuf,
    /// 1-based line of the problem; 0 when it concerns the whole file.
    pub line: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl PinFileError {
    fn new(file: &Path, line: usize, message: impl Into<String>) -> PinFileError {
        PinFileError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for PinFileError {
    /// `FILE:LINE: MESSAGE`, or `FILE: MESSAGE` when the line is 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for PinFileError {}

#[cfg(test)]
mod tests {
    use super::test_pins::*;
    use super::*;

    // ---- Pins ------------------------------------------------------------

    #[test]
    fn set_pin_keeps_the_place_of_an_existing_name_and_appends_new_ones() {
        let mut pins = openxla_pins_only();
        pins.set_pin(name("xla"), commit(IREE));
        pins.set_pin(name("stablehlo"), commit(JAX));
        let names: Vec<&str> = pins.pinned().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["iree", "xla", "jax", "stablehlo"]);
        assert_eq!(pins.pin(&name("xla")), Some(&commit(IREE)));
        assert_eq!(pins.pin(&name("nope")), None);
    }

    #[test]
    fn set_submodules_adds_once_and_false_removes() {
        let mut pins = Pins::default();
        pins.set_submodules(name("iree"), true);
        pins.set_submodules(name("iree"), true);
        pins.set_submodules(name("xla"), true);
        assert_eq!(pins.submodules(), [name("iree"), name("xla")]);
        pins.set_submodules(name("iree"), false);
        assert!(!pins.has_submodules(&name("iree")));
        assert!(pins.has_submodules(&name("xla")));
    }

    #[test]
    fn set_origin_replaces_in_place() {
        let mut pins = openxla_pins();
        pins.set_origin(name("iree"), url("git@github.com:iree-org/iree.git"));
        assert_eq!(pins.origins()[0].1.as_str(), "git@github.com:iree-org/iree.git");
        assert_eq!(pins.origins().len(), 3);
        assert_eq!(
            pins.origin(&name("jax")).unwrap().as_str(),
            "https://github.com/jax-ml/jax.git"
        );
    }

    // ---- PinFileError --------------------------------------------------------

    #[test]
    fn error_display_is_file_colon_line_colon_message() {
        let err = parse("PINNED_VERSIONS = {\n  'a': b\n}", Path::new("x/sync_deps.py")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x/sync_deps.py:2: in PINNED_VERSIONS, expected a quoted commit id, found 'b'"
        );
        let err = parse("", Path::new("sync_deps.py")).unwrap_err();
        assert!(
            err.to_string().starts_with("sync_deps.py: no `PINNED_VERSIONS"),
            "{err}"
        );
    }
}
