//! Shell completion. The scripts that `completions SHELL` prints are small:
//! on each TAB the shell runs `openxla-workspace` again with
//! `OPENXLA_WORKSPACE_COMPLETE=SHELL` and the words typed so far, and the
//! tool answers from its own command-line definition (clap_complete's
//! dynamic engine), so options, subcommands and their values are always
//! those of the binary installed. Project names and roll schedules come
//! from the registry in effect where the user types: the default, the
//! workspace's file, and `--registry FILE` (on the line typed, or from
//! `$OPENXLA_WORKSPACE_REGISTRY`). A completion never prints anything but
//! candidates: a missing workspace or a broken registry gives none.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{Bash, EnvCompleter, Fish, Shells, Zsh};

use crate::cli::Shell;
use crate::git::Git;
use crate::registry::{self, Registry, Sources};
use crate::types::RepoName;
use crate::workspace::Workspace;

/// The variable that makes the binary answer a completion request.
pub const VAR: &str = "OPENXLA_WORKSPACE_COMPLETE";

/// The name the scripts complete, and the program they ask.
const BIN: &str = "openxla-workspace";

/// Answers a completion request and exits, when the shell made one (see
/// the module documentation); otherwise returns at once.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(crate::cli::command)
        .var(VAR)
        .bin(BIN)
        .completer(BIN)
        .shells(Shells(&[&BASH, &ZSH, &FISH]))
        .complete();
}

static BASH: OptionsAfterDash<Bash> = OptionsAfterDash(Bash);
static ZSH: OptionsAfterDash<Zsh> = OptionsAfterDash(Zsh);
static FISH: OptionsAfterDash<Fish> = OptionsAfterDash(Fish);

/// One of clap_complete's shells, answering as it does except that options
/// are offered only for a word that starts with `-` (or when nothing else
/// fits): `roll <TAB>` lists the schedules, as `git <TAB>` lists commands.
struct OptionsAfterDash<S>(S);

impl<S: EnvCompleter> EnvCompleter for OptionsAfterDash<S> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn is(&self, name: &str) -> bool {
        self.0.is(name)
    }

    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn std::io::Write,
    ) -> Result<(), std::io::Error> {
        self.0.write_registration(var, name, bin, completer, buf)
    }

    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        args: Vec<OsString>,
        current_dir: Option<&std::path::Path>,
        buf: &mut dyn std::io::Write,
    ) -> Result<(), std::io::Error> {
        // bash and zsh say which word is completed; fish completes the last.
        let index = std::env::var("_CLAP_COMPLETE_INDEX")
            .ok()
            .and_then(|i| i.parse::<usize>().ok())
            .unwrap_or(args.len().saturating_sub(1));
        let empty_word = args.get(index).is_none_or(|w| w.is_empty());
        let mut answer = Vec::new();
        self.0.write_complete(cmd, args, current_dir, &mut answer)?;
        if !empty_word {
            return buf.write_all(&answer);
        }
        // Candidates are separated by `_CLAP_IFS` (bash), else by newlines.
        let separator = std::env::var("_CLAP_IFS").unwrap_or_else(|_| "\n".into());
        let text = String::from_utf8_lossy(&answer);
        let candidates: Vec<&str> = text.split(separator.as_str()).filter(|c| !c.is_empty()).collect();
        let values: Vec<&str> = candidates
            .iter()
            .copied()
            .filter(|c| !c.starts_with('-'))
            .collect();
        let kept = if values.is_empty() { candidates } else { values };
        buf.write_all(kept.join(&separator).as_bytes())?;
        if separator == "\n" && !kept.is_empty() {
            buf.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// The script that `completions SHELL` prints: it registers the completion
/// of `openxla-workspace` with the shell.
pub fn registration(shell: Shell) -> String {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &BASH,
        Shell::Zsh => &ZSH,
        Shell::Fish => &FISH,
    };
    let mut script = Vec::new();
    completer
        .write_registration(VAR, BIN, BIN, BIN, &mut script)
        .expect("writing to memory cannot fail");
    String::from_utf8_lossy(&script).into_owned()
}

/// Candidates for a project of the registry (`checkout NAME`, `--exclude-dep`).
pub fn registry_projects(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(context) = Typed::read() else {
        return Vec::new();
    };
    matching(current, context.registry_names())
}

/// Candidates for a project checked out in the workspace (`--repo`), or of
/// the registry when there is no workspace.
pub fn checked_out_projects(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(context) = Typed::read() else {
        return Vec::new();
    };
    let names = match &context.workspace {
        Some(workspace) => crate::commands::project_folders(workspace)
            .iter()
            .map(|n| n.to_string())
            .collect(),
        None => context.registry_names(),
    };
    matching(current, names)
}

/// Candidates for `roll SCHEDULE`: the schedules of the project `--repo`
/// names on the line, else of the one holding the current folder, else of
/// every project.
pub fn schedules(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(context) = Typed::read() else {
        return Vec::new();
    };
    let Some(registry) = &context.registry else {
        return Vec::new();
    };
    let project = context
        .value_of("--repo")
        .and_then(|name| RepoName::new(&name.to_string_lossy()).ok())
        .or_else(|| {
            let cwd = std::env::current_dir().ok()?;
            context.workspace.as_ref()?.project_containing(&cwd)
        })
        .and_then(|name| registry.get(&name).cloned());
    let mut names: Vec<String> = match project {
        Some(project) => project.schedules.keys().cloned().collect(),
        None => registry
            .projects()
            .flat_map(|p| p.schedules.keys().cloned())
            .collect(),
    };
    names.sort();
    names.dedup();
    matching(current, names)
}

/// Candidates for a setting of `config` (its name, with what it sets).
pub fn config_keys(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    crate::settings::Key::ALL
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
        let workspace = Workspace::search(&cwd, &Git::new(false))
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
                crate::settings::WorkspaceSettings::load(workspace.root())
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

fn matching(current: &OsStr, names: Vec<String>) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    names
        .into_iter()
        .filter(|n| n.starts_with(current.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}
