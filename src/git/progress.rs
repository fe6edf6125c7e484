//! git's progress, for a live display: network commands run with
//! `--progress` when their [`Git`] handle carries a [`ProgressSink`], and
//! each progress line becomes a short report (`receiving objects 45%`).
//! A command makes one handle per project line ([`Git::with_progress`])
//! and passes it down, whatever thread runs the steps; work side by side
//! within a project (its submodules' clones) uses
//! [`Git::without_progress`]: several transfers cannot share one line.

use std::fmt;
use std::sync::Arc;

use super::Git;

/// Receives short progress reports from git (`receiving objects 45%`).
#[derive(Clone)]
pub struct ProgressSink(Arc<dyn Fn(&str) + Send + Sync>);

impl ProgressSink {
    /// A sink that hands each report to `report`.
    pub fn new(report: impl Fn(&str) + Send + Sync + 'static) -> ProgressSink {
        ProgressSink(Arc::new(report))
    }

    /// Sends one report.
    pub(super) fn send(&self, report: &str) {
        (self.0)(report)
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink")
    }
}

impl Git {
    /// This handle, with the progress of the network commands run through
    /// it (or a clone of it) sent to `sink`.
    pub fn with_progress(&self, sink: ProgressSink) -> Git {
        let mut git = self.clone();
        git.progress = Some(sink);
        git
    }

    /// This handle, showing no progress.
    pub fn without_progress(&self) -> Git {
        let mut git = self.clone();
        git.progress = None;
        git
    }
}

/// Turns a git progress line (`Receiving objects:  45% (9/20)`) into a
/// short report (`receiving objects 45%`); other lines give `None`.
pub(super) fn progress_report(line: &str) -> Option<String> {
    let line = line.trim_start_matches("remote: ").trim();
    let (phase, rest) = line.split_once(':')?;
    let percent = rest.trim_start().split('%').next()?;
    if phase.is_empty()
        || percent.is_empty()
        || percent.len() > 3
        || !percent.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(format!("{} {percent}%", phase.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_become_short_reports() {
        assert_eq!(
            progress_report("Receiving objects:  45% (9/20), 1.20 MiB | 2 MiB/s").as_deref(),
            Some("receiving objects 45%")
        );
        assert_eq!(
            progress_report("remote: Counting objects: 100% (3/3), done.").as_deref(),
            Some("counting objects 100%")
        );
        assert_eq!(progress_report("Cloning into 'x'..."), None);
        assert_eq!(progress_report("fatal: repository not found"), None);
    }

    #[test]
    fn network_commands_report_to_the_sink_of_the_handle_they_run_through() {
        use crate::git::CloneOptions;
        use crate::model::types::RemoteUrl;
        use std::sync::Mutex;
        let dir = tempfile::tempdir().unwrap();
        let origin = dir.path().join("origin");
        for args in [
            &["init", "--quiet", "origin"][..],
            &["-C", "origin", "commit", "--quiet", "--allow-empty", "-m", "x"],
        ] {
            let status = std::process::Command::new("git")
                .current_dir(dir.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .args(["-c", "user.name=a", "-c", "user.email=a@example.invalid"])
                .args(args)
                .status()
                .unwrap();
            assert!(status.success());
        }
        let url = RemoteUrl::new(&format!("file://{}", origin.display())).unwrap();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let reports = reports.clone();
            ProgressSink::new(move |report| reports.lock().unwrap().push(report.to_string()))
        };
        let git = Git::new(false).with_progress(sink);
        let clone = |git: &Git, dest: &str| {
            let cmd = Git::clone_cmd(dir.path(), &url, &dir.path().join(dest), &CloneOptions::default());
            git.run(&cmd).unwrap();
        };
        clone(&git, "a");
        let seen = std::mem::take(&mut *reports.lock().unwrap());
        assert!(seen.iter().any(|r| r == "receiving objects 100%"), "{seen:?}");
        // A query through the same handle shows nothing; neither does a
        // clone through a handle without progress.
        git.head_commit(&dir.path().join("a")).unwrap();
        clone(&git.without_progress(), "b");
        assert_eq!(*reports.lock().unwrap(), Vec::<String>::new());
    }
}
