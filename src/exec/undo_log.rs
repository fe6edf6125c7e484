//! Recording where checkouts stood before a run moves them, for `undo`.
//! A run that moves checkouts asks its [`Recorder`] to note each project
//! just before the executor runs the moves; the record (one per run,
//! `crate::model::undo`) is rewritten atomically each time it grows, so
//! it is on disk before any working tree changes.

use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::Result;

use crate::git::{Git, SubmoduleState};
use crate::model::types::{CommitId, RepoName};
use crate::model::undo::{self, Record, Stand, SubmoduleStand};

/// One run's undo record, written as it grows.
pub struct Recorder {
    root: std::path::PathBuf,
    file: String,
    record: Mutex<Record>,
}

/// A project (checked out in `dir`) the run is about to move, and where to.
pub struct Move<'a> {
    pub name: &'a RepoName,
    pub dir: &'a Path,
    /// The commit the run takes it to, when known.
    pub to: Option<&'a CommitId>,
    /// Whether its submodules are noted too.
    pub submodules: bool,
}

impl Recorder {
    /// A recorder for the run `command` in the workspace at `root`; nothing
    /// is written until a project is noted.
    pub fn new(root: &Path, command: &str) -> Recorder {
        let now = SystemTime::now();
        Recorder {
            root: root.to_path_buf(),
            file: undo::new_file_name(now),
            record: Mutex::new(Record {
                version: 1,
                when: now
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
                command: command.to_string(),
                ..Record::default()
            }),
        }
    }

    /// Notes where each of `moves` stands now (HEAD, branch, submodules)
    /// and that `cloned` were cloned by this run, then writes the record.
    /// A project already noted keeps its first stand: that is where it was
    /// before the run.
    pub fn note(&self, git: &Git, moves: &[Move], cloned: &[RepoName]) -> Result<()> {
        let mut record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        let before = record.clone();
        for m in moves {
            if record.projects.iter().any(|p| p.name == m.name.as_str())
                || record.cloned.iter().any(|c| c == m.name.as_str())
            {
                continue;
            }
            if let Some(stand) = stand_of(git, m)? {
                record.projects.push(stand);
            }
        }
        for name in cloned {
            if !record.cloned.iter().any(|c| c == name.as_str()) {
                record.cloned.push(name.to_string());
            }
        }
        if *record == before {
            return Ok(());
        }
        undo::save(&self.root, &self.file, &record)
    }
}

/// Where the project of `m` stands, `None` when HEAD names no commit.
fn stand_of(git: &Git, m: &Move) -> Result<Option<Stand>> {
    let Some(commit) = git.head_commit(m.dir)? else {
        return Ok(None);
    };
    let branch = git.current_branch(m.dir)?;
    let mut submodules = Vec::new();
    if m.submodules {
        for entry in git.submodule_status(m.dir)? {
            if entry.state == SubmoduleState::Uninitialised {
                continue;
            }
            if let Some(head) = git.head_commit(&m.dir.join(&entry.path))? {
                submodules.push(SubmoduleStand {
                    path: entry.path,
                    commit: head.to_string(),
                });
            }
        }
    }
    Ok(Some(Stand {
        name: m.name.to_string(),
        commit: commit.to_string(),
        branch,
        to: m.to.map(ToString::to_string),
        submodules,
    }))
}
