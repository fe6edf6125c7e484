//! The values a shell completes for an argument: project names of the
//! registry or the workspace, schedules, settings. Read from the workspace
//! around the current folder and the registry in effect there; any failure
//! completes nothing.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap_complete::engine::CompletionCandidate;

use crate::git::Git;
use crate::model::registry::{self, Registry, Sources};
use crate::model::types::RepoName;
use crate::model::workspace::Workspace;

/// Candidates for a project of the registry (`checkout NAME`, `--exclude-dep`).
pub fn registry_projects(current: &OsStr) -> Vec<CompletionCandidate> {
    matching(current, Typed::read().map(|t| t.registry_names()))
}

/// Candidates for a project checked out in the workspace (`--repo`), or of
/// the registry when there is no workspace.
pub fn checked_out_projects(current: &OsStr) -> Vec<CompletionCandidate> {
    let names = Typed::read().map(|typed| match &typed.workspace {
        Some(workspace) => crate::model::workspace::project_folders(workspace)
            .iter()
            .map(|n| n.to_string())
            .collect(),
        None => typed.registry_names(),
    });
    matching(current, names)
}

/// Candidates for `roll SCHEDULE`: the schedules of the project `--repo`
/// names on the line, else of the one holding the current folder, else of
/// every project.
pub fn schedules(current: &OsStr) -> Vec<CompletionCandidate> {
    matching(current, Typed::read().map(|t| t.schedules()))
}

/// Candidates for a setting of `config` (its name, with what it sets).
pub fn config_keys(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    crate::model::settings::Key::ALL
        .iter()
        .filter(|k| k.name().starts_with(current.as_ref()))
        .map(|k| CompletionCandidate::new(k.name()).help(Some(k.about().into())))
        .collect()
}

/// What a completion needs to know: the words typed, the workspace around
/// the current folder and the registry in effect there.
struct Typed {
    words: Vec<OsString>,
    workspace: Option<Workspace>,
    registry: Option<Registry>,
}

impl Typed {
    fn read() -> Option<Typed> {
        // The shell passes the words after `--`.
        let words: Vec<OsString> = std::env::args_os().skip_while(|a| a != "--").skip(1).collect();
        let cwd = std::env::current_dir().ok()?;
        let workspace = Workspace::search(&cwd, &|dir| Git::new(false).tracks_marker(dir))
            .ok()
            .and_then(|s| s.into_workspace().ok());
        let mut typed = Typed {
            words,
            workspace,
            registry: None,
        };
        let explicit_file = typed
            .value_of("--registry")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("OPENXLA_WORKSPACE_REGISTRY").map(PathBuf::from))
            .or_else(|| {
                // The registry the workspace remembers.
                let workspace = typed.workspace.as_ref()?;
                crate::model::settings::WorkspaceSettings::load(workspace.root())
                    .ok()?
                    .stored
                    .registry
            });
        typed.registry = registry::load(&Sources {
            workspace_file: typed.workspace.as_ref().and_then(|w| w.registry_file()),
            explicit_file,
        })
        .ok();
        Some(typed)
    }

    fn schedules(&self) -> Vec<String> {
        let Some(registry) = &self.registry else {
            return Vec::new();
        };
        let project = self
            .value_of("--repo")
            .and_then(|name| RepoName::new(&name.to_string_lossy()).ok())
            .or_else(|| {
                let cwd = std::env::current_dir().ok()?;
                self.workspace.as_ref()?.project_containing(&cwd)
            })
            .and_then(|name| registry.get(&name));
        let mut names: Vec<String> = match project {
            Some(project) => project.schedules.keys().cloned().collect(),
            None => registry
                .projects()
                .flat_map(|p| p.schedules.keys().cloned())
                .collect(),
        };
        names.sort();
        names.dedup();
        names
    }

    fn registry_names(&self) -> Vec<String> {
        self.registry
            .iter()
            .flat_map(|r| r.projects().map(|p| p.name.to_string()))
            .collect()
    }

    /// The value of `--option VALUE` or `--option=VALUE` among the words
    /// typed (the last one given).
    fn value_of(&self, option: &str) -> Option<OsString> {
        let mut found = None;
        let mut words = self.words.iter();
        while let Some(word) = words.next() {
            let text = word.to_string_lossy();
            if text == "--" {
                break;
            }
            if text == option {
                found = words.next().cloned();
            } else if let Some(value) = text.strip_prefix(option).and_then(|v| v.strip_prefix('=')) {
                found = Some(value.into());
            }
        }
        found
    }
}

/// The `names` that start with what was typed (none when the context could not be read).
fn matching(current: &OsStr, names: Option<Vec<String>>) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    names
        .into_iter()
        .flatten()
        .filter(|n| n.starts_with(current.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}
