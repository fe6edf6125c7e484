//! What a roll tells about itself: per git dep the commits between its old
//! and new pin, per package its old and new version, as a commit message
//! (`roll --message`) and as data (`--json`); and the steps that make the
//! history present (fetches) and commit the roll (`roll --commit`). Pure:
//! the command gathers the facts (which commits a checkout holds, the log
//! between them) and hands them in.

use std::path::{Path, PathBuf};

use crate::exec::step::{ProjectPlan, Step};
use crate::git::LogEntry;
use crate::model::registry::Project;
use crate::model::text::escape_control;
use crate::model::types::{BranchName, CommitId, RepoName};

/// The most log entries a message lists per dep; the rest are counted
/// (`and 12 more`).
pub const LOG_LIMIT: usize = 10;

/// A git dep whose pin moved `from` one commit `to` another, and what lies
/// between, as far as the workspace can tell.
#[derive(Clone, Debug)]
pub struct DepRoll {
    pub dep: RepoName,
    pub from: CommitId,
    pub to: CommitId,
    pub history: History,
}

/// The commits between an old and a new pin.
#[derive(Clone, Debug)]
pub enum History {
    /// The new pin descends from the old: the commits it adds, newest first.
    Forward(Vec<LogEntry>),
    /// The new pin is an ancestor of the old: the commits the roll drops,
    /// newest first.
    Backward(Vec<LogEntry>),
    /// Neither descends from the other: the commits the new pin adds
    /// (newest first), and how many of the old one's it drops.
    Diverged { added: Vec<LogEntry>, dropped: usize },
    /// Not known here; why (`no checkout of liba in the workspace`).
    Unknown(String),
}

/// A Python package whose version changed in at least one requirements
/// file.
#[derive(Clone, Debug)]
pub struct PackageRoll {
    /// The package, as the schedule names it, and its new version.
    pub name: String,
    pub to: String,
    /// Each changed file (as the registry names it) with what it said
    /// before (`0.4.1`, `>=20240101.0`; `None`: the line was appended).
    pub files: Vec<(String, Option<String>)>,
}

/// Everything one roll changed, in schedule order.
#[derive(Clone, Debug, Default)]
pub struct RollStory {
    /// The schedule rolled.
    pub schedule: String,
    pub deps: Vec<DepRoll>,
    pub packages: Vec<PackageRoll>,
}

impl RollStory {
    /// Whether the roll changed nothing (and so has nothing to tell).
    pub fn is_empty(&self) -> bool {
        self.deps.is_empty() && self.packages.is_empty()
    }

    /// `Roll liba, libb, jaxlib (nightly)`.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = self
            .deps
            .iter()
            .map(|d| d.dep.as_str())
            .chain(self.packages.iter().map(|p| p.name.as_str()))
            .collect();
        escape_control(&format!("Roll {} ({})", names.join(", "), self.schedule), false).into_owned()
    }

    /// The commit message: the summary line, a blank line, then a
    /// paragraph per dep and one for the packages. Text from repositories
    /// and from pip has its control characters escaped.
    pub fn message(&self) -> String {
        let mut paragraphs = vec![self.summary()];
        paragraphs.extend(self.deps.iter().map(dep_paragraph));
        if !self.packages.is_empty() {
            let lines: Vec<String> = self.packages.iter().flat_map(package_lines).collect();
            paragraphs.push(lines.join("\n"));
        }
        let mut message = paragraphs.join("\n\n");
        message.push('\n');
        message
    }
}

impl DepRoll {
    /// The dep as the `--json` document shows it (`count` is `null` when
    /// unknown).
    pub fn to_json(&self) -> serde_json::Value {
        let entries = |log: &[LogEntry]| {
            log.iter()
                .map(|e| serde_json::json!({"id": e.id.to_string(), "subject": e.subject}))
                .collect::<Vec<_>>()
        };
        let (direction, count, log, dropped, unknown) = match &self.history {
            History::Forward(log) => ("forward", Some(log.len()), entries(log), 0, None),
            History::Backward(log) => ("backward", Some(log.len()), entries(log), log.len(), None),
            History::Diverged { added, dropped } => {
                ("diverged", Some(added.len()), entries(added), *dropped, None)
            }
            History::Unknown(why) => ("unknown", None, Vec::new(), 0, Some(why.clone())),
        };
        serde_json::json!({
            "dep": self.dep.to_string(),
            "from": self.from.to_string(),
            "to": self.to.to_string(),
            "direction": direction,
            "count": count,
            "dropped": dropped,
            "log": log,
            "unknown_because": unknown,
        })
    }
}

impl PackageRoll {
    /// The package as the `--json` document shows it.
    pub fn to_json(&self) -> serde_json::Value {
        let files: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|(file, from)| serde_json::json!({"file": file, "from": from}))
            .collect();
        serde_json::json!({"package": self.name, "to": self.to, "files": files})
    }
}

/// `liba: 1f541e4 -> afd0eac (2 commits)` and its log.
fn dep_paragraph(roll: &DepRoll) -> String {
    let head = format!("{}: {} -> {}", roll.dep, roll.from.short(), roll.to.short());
    let (what, log) = match &roll.history {
        History::Forward(log) => (commits(log.len()), log.as_slice()),
        History::Backward(log) => (
            format!(
                "backwards: the new pin is an ancestor of the old, {} dropped",
                commits(log.len())
            ),
            log.as_slice(),
        ),
        History::Diverged { added, dropped } => (
            format!(
                "diverged: the new pin is not a descendant of the old, {} added, {} dropped",
                commits(added.len()),
                commits(*dropped)
            ),
            added.as_slice(),
        ),
        History::Unknown(why) => (format!("count unknown: {why}"), &[][..]),
    };
    let mut lines = vec![format!("{head} ({what})")];
    lines.extend(
        log.iter()
            .take(LOG_LIMIT)
            .map(|e| format!("  {} {}", e.id.short(), escape_control(&e.subject, false))),
    );
    if log.len() > LOG_LIMIT {
        lines.push(format!("  and {} more", log.len() - LOG_LIMIT));
    }
    lines.join("\n")
}

/// `jaxlib: 0.4.1 -> 0.4.2 (requirements.txt)`, one line per old version.
fn package_lines(roll: &PackageRoll) -> Vec<String> {
    let mut froms: Vec<&Option<String>> = Vec::new();
    for (_, from) in &roll.files {
        if !froms.contains(&from) {
            froms.push(from);
        }
    }
    froms
        .into_iter()
        .map(|from| {
            let files: Vec<&str> = roll
                .files
                .iter()
                .filter(|(_, f)| f == from)
                .map(|(file, _)| file.as_str())
                .collect();
            let line = match from {
                Some(from) => format!("{}: {from} -> {} ({})", roll.name, roll.to, files.join(", ")),
                None => format!("{}: {} added to {}", roll.name, roll.to, files.join(", ")),
            };
            escape_control(&line, false).into_owned()
        })
        .collect()
}

/// `1 commit`, `3 commits`.
fn commits(n: usize) -> String {
    format!("{n} commit{}", if n == 1 { "" } else { "s" })
}

/// The fetches that make `missing` (pins the checkout of `dep` at `repo`
/// lacks) present, one [`Step::Fetch`] each, by id or else by tracking
/// branch.
pub fn fetch_history(dep: &Project, repo: &Path, missing: &[CommitId]) -> ProjectPlan {
    let steps = missing
        .iter()
        .map(|commit| Step::Fetch(super::fetch(repo.to_path_buf(), commit, dep)))
        .collect();
    ProjectPlan {
        project: dep.name.clone(),
        steps,
    }
}

/// The commit of a roll's changed `paths` in `project`'s checkout at
/// `repo`, on a new `branch` when one is named.
pub fn commit_roll(
    project: &RepoName,
    repo: &Path,
    branch: Option<BranchName>,
    paths: Vec<PathBuf>,
    message: String,
) -> ProjectPlan {
    ProjectPlan {
        project: project.clone(),
        steps: vec![Step::Commit {
            repo: repo.to_path_buf(),
            branch,
            paths,
            message,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: char) -> CommitId {
        CommitId::new(&c.to_string().repeat(40)).unwrap()
    }

    fn entries(n: usize) -> Vec<LogEntry> {
        (0..n)
            .map(|i| LogEntry {
                id: id(char::from_digit((i % 9) as u32 + 1, 10).unwrap()),
                subject: format!("change {i}"),
            })
            .collect()
    }

    fn roll(dep: &str, history: History) -> DepRoll {
        DepRoll {
            dep: RepoName::new(dep).unwrap(),
            from: id('a'),
            to: id('b'),
            history,
        }
    }

    #[test]
    fn a_log_of_exactly_the_limit_is_shown_whole_with_no_more_line() {
        let whole = dep_paragraph(&roll("iree", History::Forward(entries(LOG_LIMIT))));
        assert_eq!(whole.lines().count(), 1 + LOG_LIMIT, "{whole}");
        assert!(!whole.contains("more"), "{whole}");
        let capped = dep_paragraph(&roll("iree", History::Forward(entries(LOG_LIMIT + 1))));
        assert!(capped.ends_with("\n  and 1 more"), "{capped}");
    }

    #[test]
    fn a_message_tells_each_dep_and_package_and_caps_long_logs() {
        let story = RollStory {
            schedule: "nightly".into(),
            deps: vec![
                roll("iree", History::Forward(entries(12))),
                roll("jax", History::Backward(entries(1))),
                roll(
                    "xla",
                    History::Diverged {
                        added: entries(1),
                        dropped: 2,
                    },
                ),
                roll(
                    "stablehlo",
                    History::Unknown("no checkout of stablehlo in the workspace".into()),
                ),
            ],
            packages: vec![PackageRoll {
                name: "jaxlib".into(),
                to: "0.4.2".into(),
                files: vec![
                    ("requirements.txt".into(), Some("0.4.1".into())),
                    ("dev.txt".into(), None),
                ],
            }],
        };
        let listed: String = (0..10)
            .map(|i| format!("  {} change {i}\n", ((i % 9) + 1).to_string().repeat(7)))
            .collect();
        assert_eq!(
            story.message(),
            format!(
                "Roll iree, jax, xla, stablehlo, jaxlib (nightly)\n\n\
                 iree: aaaaaaa -> bbbbbbb (12 commits)\n{listed}  and 2 more\n\n\
                 jax: aaaaaaa -> bbbbbbb (backwards: the new pin is an ancestor of the old, 1 commit dropped)\n\
                 \x20 1111111 change 0\n\n\
                 xla: aaaaaaa -> bbbbbbb (diverged: the new pin is not a descendant of the old, 1 commit added, \
                 2 commits dropped)\n  1111111 change 0\n\n\
                 stablehlo: aaaaaaa -> bbbbbbb (count unknown: no checkout of stablehlo in the workspace)\n\n\
                 jaxlib: 0.4.1 -> 0.4.2 (requirements.txt)\njaxlib: 0.4.2 added to dev.txt\n"
            )
        );
    }

    #[test]
    fn subjects_from_repositories_have_control_characters_escaped() {
        let mut log = entries(1);
        log[0].subject = "evil\x1b[2J\rsubject".into();
        let story = RollStory {
            schedule: "s".into(),
            deps: vec![roll("liba", History::Forward(log))],
            packages: Vec::new(),
        };
        let message = story.message();
        assert!(
            !message.contains('\x1b') && !message.contains('\r'),
            "{message:?}"
        );
    }
}
