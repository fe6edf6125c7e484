//! A repository the run could not clone or fetch, with what a user needs
//! to act on it besides git's own error: what it is (a project, or a
//! `PROJECT:PATH` submodule), its URL and where that URL came from (a
//! registry layer, or a project's `.gitmodules` at a commit). The
//! executor and the submodule step put these in a failure's error chain;
//! the summary (`crate::exec::failure_summary`) groups them by cause and host.

use std::fmt;

use crate::git::{Cause, GitError};
use crate::model::text::escape_control;
use crate::model::types::RepoName;

/// Where a URL that failed came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlSource {
    /// The project's entry in the registry (`rw_url`, or `ro_url` with
    /// `--ro`): the summary names the layer.
    Registry,
    /// The `origin` remote of the checkout already in the workspace (a
    /// fetch of a pin into it): the registry no longer decides it.
    Origin,
    /// The URL a cache mirror mirrors (`cache refresh`).
    Mirror,
    /// The `.gitmodules` of `project` at `commit` (short id, when known):
    /// neither `--ro` nor the registry changes it.
    Gitmodules {
        project: RepoName,
        commit: Option<String>,
    },
}

/// One clone or fetch that failed (or was not started, its host shut).
#[derive(Debug)]
pub struct FetchFailure {
    /// The project, or `PROJECT:PATH` for a submodule (the form
    /// `--exclude-submodule` matches).
    pub subject: String,
    /// The URL git was given.
    pub url: String,
    pub source: UrlSource,
    pub error: GitError,
}

impl FetchFailure {
    /// Why it failed.
    pub fn cause(&self) -> Cause {
        self.error.cause()
    }

    /// The host of its URL; `None` for a local path.
    pub fn host(&self) -> Option<&str> {
        crate::git::url_host(&self.url)
    }

    /// Whether it is a submodule's.
    pub fn is_submodule(&self) -> bool {
        matches!(self.source, UrlSource::Gitmodules { .. })
    }

    /// Whether it is a fetch into a checkout already there (not a clone).
    pub fn is_fetch(&self) -> bool {
        self.source == UrlSource::Origin
    }

    /// What did not happen, for the summary: `not cloned`, `not fetched`,
    /// or, for `roll`'s question to the server, `branch head not read`.
    pub fn missed(&self) -> &'static str {
        if self.error.command.starts_with("git ls-remote ") {
            "branch head not read"
        } else if self.source == UrlSource::Mirror {
            "not refreshed"
        } else if self.is_fetch() {
            "not fetched"
        } else {
            "not cloned"
        }
    }
}

impl fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            UrlSource::Registry | UrlSource::Origin | UrlSource::Mirror => write!(f, "{}", self.error),
            UrlSource::Gitmodules { .. } => {
                let path = self.subject.split_once(':').map_or("", |(_, p)| p);
                write!(f, "submodule {}: {}", escape_control(path, false), self.error)
            }
        }
    }
}

impl std::error::Error for FetchFailure {}

/// Several submodules of one project that could not be cloned.
#[derive(Debug)]
pub struct FetchFailures(pub Vec<FetchFailure>);

impl fmt::Display for FetchFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} submodules could not be cloned:", self.0.len())?;
        for failure in &self.0 {
            write!(f, "\n{failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FetchFailures {}

/// `error` as a [`FetchFailure`] of `subject` at `url` when git failed in
/// it for a cause the summary tells (the network, the server, the disk):
/// then grouped with the others of its cause and host. Any other error is
/// returned as it is.
pub fn classified(error: anyhow::Error, subject: &str, url: &str, source: UrlSource) -> anyhow::Error {
    let told = error
        .downcast_ref::<GitError>()
        .is_some_and(|e| e.cause() != Cause::Other);
    if !told {
        return error;
    }
    match error.downcast::<GitError>() {
        Ok(error) => FetchFailure {
            subject: subject.to_string(),
            url: url.to_string(),
            source,
            error,
        }
        .into(),
        Err(error) => error,
    }
}

/// Every clone or fetch that failed in `error`'s chain.
pub fn in_chain(error: &anyhow::Error) -> Vec<&FetchFailure> {
    for cause in error.chain() {
        if let Some(one) = cause.downcast_ref::<FetchFailure>() {
            return vec![one];
        }
        if let Some(many) = cause.downcast_ref::<FetchFailures>() {
            return many.0.iter().collect();
        }
    }
    Vec::new()
}
