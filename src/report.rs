//! What the user sees: per-project progress lines on stderr, and the final
//! summary that lists every failure.

use std::fmt::Write as _;
use std::time::Duration;

use crate::types::RepoName;

/// How chatty to be (`-q`, default, `-v`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Only errors and the summary.
    Quiet,
    /// Progress lines too.
    Normal,
    /// Also each git command (printed by the git layer).
    Verbose,
}

/// Prints progress and summaries. Cheap to share across worker threads:
/// each event is one `eprintln!`, which locks stderr for the whole line.
#[derive(Clone, Debug)]
pub struct Reporter {
    verbosity: Verbosity,
}

/// One project's failure, kept for the summary.
#[derive(Debug)]
pub struct Failure {
    /// The project that failed.
    pub project: RepoName,
    /// What went wrong, with git's facts in its chain.
    pub error: anyhow::Error,
}

impl Reporter {
    /// A reporter at the given verbosity.
    pub fn new(verbosity: Verbosity) -> Reporter {
        Reporter { verbosity }
    }

    /// A progress event for one project (`app: cloning from URL`).
    pub fn event(&self, project: &RepoName, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{project}: {message}");
        }
    }

    /// A progress line not tied to one project.
    pub fn note(&self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{message}");
        }
    }

    /// A warning: shown even with `-q`.
    pub fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    /// The closing summary: counts, elapsed time, then every failure in
    /// full. Always printed, even with `-q`.
    pub fn summary(&self, command: &str, counts: &[(&str, usize)], failures: &[Failure], elapsed: Duration) {
        eprint!("{}", render_summary(command, counts, failures, elapsed));
    }
}

/// The summary text, separated from printing so tests can check it.
pub fn render_summary(
    command: &str,
    counts: &[(&str, usize)],
    failures: &[Failure],
    elapsed: Duration,
) -> String {
    let mut out = String::new();
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .chain((!failures.is_empty()).then(|| format!("{} failed", failures.len())))
        .collect();
    let parts = if parts.is_empty() {
        "nothing to do".to_string()
    } else {
        parts.join(", ")
    };
    let _ = writeln!(out, "{command}: {parts} in {:.1}s", elapsed.as_secs_f64());
    for failure in failures {
        let _ = writeln!(out, "error: {}: {:#}", failure.project, failure.error);
    }
    out
}

/// Colours for terminal output, or none (`--color`, `NO_COLOR`, not a terminal).
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    enabled: bool,
}

impl Paint {
    /// Decides once whether to colour stdout.
    pub fn new(choice: crate::cli::ColorChoice) -> Paint {
        use std::io::IsTerminal;
        let enabled = match choice {
            crate::cli::ColorChoice::Always => true,
            crate::cli::ColorChoice::Never => false,
            crate::cli::ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
            }
        };
        Paint { enabled }
    }

    /// `text` coloured after the most serious of `states`: red for dirty,
    /// missing or diverged; yellow for ahead, behind or unfetched; green at pin.
    pub fn state(&self, text: &str, states: &[String]) -> String {
        if !self.enabled {
            return text.to_string();
        }
        let has = |prefix: &str| states.iter().any(|s| s.starts_with(prefix));
        let code = if has("dirty") || has("missing") || has("diverged") || has("error") {
            "31"
        } else if has("ahead") || has("behind") || has("pin not fetched") {
            "33"
        } else if has("at pin") {
            "32"
        } else {
            return text.to_string();
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}
