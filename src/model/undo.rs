//! The undo records: before a run moves checkouts (`checkout`, `sync`,
//! `roll --sync`), where each project and submodule it is about to move
//! stood. One JSON file per run in `<workspace>/.openxla_workspace/undo/`,
//! written atomically, the newest [`KEEP`] kept. `undo` reads them back.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::model::types::{BranchName, CommitId, RepoName};

/// How many records the workspace keeps.
pub const KEEP: usize = 20;

/// The folder of the records, inside the workspace's own folder.
pub const FOLDER: &str = ".openxla_workspace/undo";

/// The largest record read back (a record lists projects and submodules).
const MAX_RECORD: u64 = 4 * 1024 * 1024;

/// One run's record.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// The schema of this file.
    pub version: u32,
    /// When the run recorded it, in seconds since the Unix epoch.
    pub when: u64,
    /// The command line the run was (`sync`, `checkout --sync`, `roll`).
    pub command: String,
    /// Where each project the run was about to move stood.
    pub projects: Vec<Stand>,
    /// The projects the run cloned (left in place by `undo`).
    pub cloned: Vec<String>,
}

/// Where one project stood before the run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stand {
    /// The project.
    pub name: String,
    /// Its HEAD's commit.
    pub commit: String,
    /// The local branch HEAD was on; `None` when detached.
    pub branch: Option<String>,
    /// Where the run was taking it, when known.
    pub to: Option<String>,
    /// Its initialised submodules and their HEADs.
    pub submodules: Vec<SubmoduleStand>,
}

/// Where one submodule of a project stood.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SubmoduleStand {
    /// Its path in the project.
    pub path: String,
    /// Its HEAD's commit.
    pub commit: String,
}

/// A [`Stand`] with its values validated, as `undo` acts on them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidStand {
    /// The project.
    pub name: RepoName,
    /// The commit to put back.
    pub commit: CommitId,
    /// The branch to put back, if HEAD was on one.
    pub branch: Option<BranchName>,
    /// Each submodule path and the commit to put back there.
    pub submodules: Vec<(String, CommitId)>,
}

impl Stand {
    /// The stand with every value validated (a record is a file anyone
    /// could have edited).
    pub fn validate(&self) -> Result<ValidStand, String> {
        let submodules = self
            .submodules
            .iter()
            .map(|s| {
                if s.path.is_empty() || s.path.starts_with('/') || s.path.split('/').any(|p| p == "..") {
                    return Err(format!("'{}' is not a submodule path", s.path));
                }
                Ok((s.path.clone(), CommitId::new(&s.commit)?))
            })
            .collect::<Result<_, String>>()?;
        Ok(ValidStand {
            name: RepoName::new(&self.name)?,
            commit: CommitId::new(&self.commit)?,
            branch: self.branch.as_deref().map(BranchName::new).transpose()?,
            submodules,
        })
    }
}

/// The record folder of the workspace at `root`.
pub fn folder(root: &Path) -> PathBuf {
    root.join(FOLDER)
}

/// Writes `record` as `file` in the record folder (atomically), creating
/// the folder, then removes the oldest records beyond [`KEEP`].
pub fn save(root: &Path, file: &str, record: &Record) -> Result<()> {
    let dir = folder(root);
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(record)?;
    text.push('\n');
    let path = dir.join(file);
    crate::model::atomic::write_atomically(&path, text.as_bytes())
        .with_context(|| format!("could not write the undo record {}", path.display()))?;
    let names = record_files(root);
    for old in names.iter().take(names.len().saturating_sub(KEEP)) {
        let _ = std::fs::remove_file(dir.join(old));
    }
    Ok(())
}

/// A new record's file name: the time, so names sort oldest first.
pub fn new_file_name(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{:020}-{}.json", d.as_nanos(), std::process::id())
}

/// The record files, oldest first.
fn record_files(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder(root))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".json") && n.starts_with(|c: char| c.is_ascii_digit()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The records, newest first (number 1 is the last run's).
pub fn load_all(root: &Path) -> Result<Vec<Record>> {
    let dir = folder(root);
    record_files(root)
        .iter()
        .rev()
        .map(|name| {
            let path = dir.join(name);
            let bytes = crate::model::atomic::read_regular_file(&path, MAX_RECORD)
                .with_context(|| format!("could not read the undo record {}", path.display()))?;
            let record: Record = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not an undo record", path.display()))?;
            if record.version != 1 {
                bail!(
                    "{}: undo record version {} is not known",
                    path.display(),
                    record.version
                );
            }
            Ok(record)
        })
        .collect()
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_civil() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn the_newest_records_are_kept_and_read_back_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..(KEEP as u64 + 3) {
            let record = Record {
                version: 1,
                when: i,
                command: format!("sync {i}"),
                ..Record::default()
            };
            let name = new_file_name(UNIX_EPOCH + std::time::Duration::from_secs(i));
            save(dir.path(), &name, &record).unwrap();
        }
        let records = load_all(dir.path()).unwrap();
        assert_eq!(records.len(), KEEP);
        assert_eq!(records[0].command, format!("sync {}", KEEP + 2));
        assert_eq!(records[KEEP - 1].command, "sync 3");
    }

    #[test]
    fn stands_with_bad_values_are_refused() {
        let stand = Stand {
            name: "-x".into(),
            commit: "a".repeat(40),
            branch: None,
            to: None,
            submodules: Vec::new(),
        };
        assert!(stand.validate().is_err());
        let stand = Stand {
            name: "lib".into(),
            submodules: vec![SubmoduleStand {
                path: "../x".into(),
                commit: "a".repeat(40),
            }],
            ..stand
        };
        assert!(stand.validate().is_err());
    }
}
