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

use std::ffi::OsString;

use clap_complete::env::{Bash, EnvCompleter, Fish, Shells, Zsh};

use crate::cli::Shell;

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
