//! When, and where, a run that did not finish could have written: what
//! lets the next run tell what that run left (a git lock file, a file of a
//! checkout cut short) from what the user did after it stopped.
//!
//! - *Where*: the run's journal (the workspace lock's file) records each
//!   git process it starts with its folder and start time
//!   (`child=PID MILLIS PATH`, see [`child_line`]).
//! - *Until when*: while it holds the workspace lock, a run stamps the
//!   file's modification time every [`HEARTBEAT`]; the next run reads that
//!   time before writing its own text, so the run that did not finish
//!   stopped no later than [`SLACK`] after it. A lock file or a file of a
//!   cut checkout changed later is the user's.
//! - *Not now*: a lock that a running process holds open, or in a
//!   repository where a git process is running, is never stale (Linux
//!   tells through `/proc`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often a run stamps its journal while it holds the workspace lock.
pub const HEARTBEAT: Duration = Duration::from_millis(250);

/// How long after its journal's last stamp a run may still have written:
/// a few heartbeats, for a machine too busy to keep time.
pub const SLACK: Duration = Duration::from_secs(1);

/// Calls `beat` every [`HEARTBEAT`] on a thread of its own until it
/// returns false (the lock was released).
pub fn heartbeat(beat: impl Fn() -> bool + Send + 'static) {
    let _ = std::thread::Builder::new()
        .name("journal heartbeat".into())
        .spawn(move || loop {
            std::thread::sleep(HEARTBEAT);
            if !beat() {
                break;
            }
        });
}

/// The span of time in which a run that did not finish may have written:
/// from when it started (its whole second: file times may be coarser)
/// to [`SLACK`] after its journal's last stamp, and never after `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: SystemTime,
    pub until: SystemTime,
}

impl Window {
    /// From `from` (floored to its second) until `last_alive` + [`SLACK`],
    /// at most `now`.
    pub fn new(from: SystemTime, last_alive: SystemTime, now: SystemTime) -> Window {
        Window {
            from: whole_second(from),
            until: (last_alive + SLACK).min(now),
        }
    }

    /// Whether `t` lies within.
    pub fn holds(&self, t: SystemTime) -> bool {
        t >= self.from && t <= self.until
    }

    /// Whether the file at `path` (not followed if a link) was last changed
    /// within.
    pub fn holds_change_of(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| self.holds(t))
    }
}

fn whole_second(t: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

/// The journal line for a git process `pid` started at `at` in `dir`:
/// `child=PID MILLIS PATH`, `PATH` relative to `root` and encoded as the
/// journal's paths are (`crate::exec::journal_path::encode_path`);
/// `child=PID` for a folder outside the workspace (a cache mirror).
pub fn child_line(pid: u32, at: SystemTime, dir: &Path, root: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(rel) => format!("child={pid} {} {}\n", millis(at), encode_rel(rel)),
        Err(_) => format!("child={pid}\n"),
    }
}

/// The journal line written just before a git process is started in `dir`
/// at `at`: `starting=MILLIS PATH`. Written before the process exists, it
/// holds even when the run is killed before it learns the process's pid
/// (and writes its [`child_line`]); `None` for a folder outside the
/// workspace.
pub fn starting_line(at: SystemTime, dir: &Path, root: &Path) -> Option<String> {
    let rel = dir.strip_prefix(root).ok()?;
    Some(format!("starting={} {}\n", millis(at), encode_rel(rel)))
}

/// What a `starting=` line's value says: when, and in which folder
/// (relative to the workspace).
pub fn parse_starting(value: &str) -> Option<(SystemTime, PathBuf)> {
    let (at, path) = value.split_once(' ')?;
    let at = from_millis(at)?;
    match path {
        "." => Some((at, PathBuf::new())),
        _ => crate::exec::journal_path::decode_path(path).map(|p| (at, p)),
    }
}

fn encode_rel(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".to_string()
    } else {
        crate::exec::journal_path::encode_path(rel)
    }
}

/// `at` in milliseconds since the Unix epoch.
pub fn millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// The time `millis` (as [`millis`] writes it) names.
pub fn from_millis(text: &str) -> Option<SystemTime> {
    let ms: u64 = text.parse().ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(ms))
}

/// What a `child=` line's value says: the pid, and, when the line says so,
/// when and in which folder (relative to the workspace) it started.
pub fn parse_child(value: &str) -> Option<(u32, Option<(SystemTime, PathBuf)>)> {
    let mut fields = value.split_whitespace();
    let pid = fields.next()?.parse().ok()?;
    let place = match (fields.next().and_then(from_millis), fields.next()) {
        (Some(at), Some(".")) => Some((at, PathBuf::new())),
        (Some(at), Some(path)) => crate::exec::journal_path::decode_path(path).map(|p| (at, p)),
        _ => None,
    };
    Some((pid, place))
}

/// A running git process (pid) whose current folder is `dir` or inside
/// it: it may hold locks there. Linux only; elsewhere `None`.
pub fn git_running_in(dir: &Path) -> Option<u32> {
    let dir = dir.canonicalize().ok()?;
    processes().into_iter().find(|&pid| {
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let comm = std::fs::read_to_string(proc.join("comm")).unwrap_or_default();
        comm.trim_end().starts_with("git")
            && std::fs::read_link(proc.join("cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
    })
}

/// A running process (pid) that has the file `path` open. Linux only;
/// elsewhere `None`.
pub fn held_open(path: &Path) -> Option<u32> {
    let path = path.canonicalize().ok()?;
    processes().into_iter().find(|&pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
    })
}

/// The pids of the processes `/proc` lists (none where there is no
/// `/proc`), but this one.
fn processes() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&pid| pid != me)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_git_process_working_in_a_folder_is_found_there_and_not_elsewhere() {
        let tmp = tempfile::tempdir().unwrap();
        let (inside, outside) = (tmp.path().join("repo/sub"), tmp.path().join("other"));
        std::fs::create_dir_all(&inside).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let init = std::process::Command::new("git")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["init", "-q"])
            .current_dir(tmp.path().join("repo"))
            .status()
            .unwrap();
        assert!(init.success());
        // `git cat-file --batch` waits for its input: a git that runs there.
        let mut git = std::process::Command::new("git")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["cat-file", "--batch"])
            .current_dir(&inside)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = git.id();
        let found = (0..100).find_map(|_| {
            std::thread::sleep(Duration::from_millis(10));
            git_running_in(&tmp.path().join("repo")).filter(|&p| p == pid)
        });
        let elsewhere = git_running_in(&outside);
        drop(git.stdin.take());
        let _ = git.kill();
        let _ = git.wait();
        assert_eq!(found, Some(pid));
        assert_eq!(elsewhere, None);
    }

    #[test]
    fn child_lines_say_where_and_when_and_read_back() {
        let root = Path::new("/ws");
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let line = child_line(42, at, Path::new("/ws/liba/third party"), root);
        assert_eq!(line, "child=42 1700000000123 liba/third%20party\n");
        let value = line.trim_end().strip_prefix("child=").unwrap();
        assert_eq!(
            parse_child(value),
            Some((42, Some((at, PathBuf::from("liba/third party")))))
        );
        assert_eq!(child_line(7, at, Path::new("/cache/m.git"), root), "child=7\n");
        assert_eq!(parse_child("7"), Some((7, None)));
        assert_eq!(
            parse_child(&child_line(8, at, root, root)[6..]),
            Some((8, Some((at, PathBuf::new()))))
        );
        assert_eq!(parse_child("x 1 a"), None);
    }

    #[test]
    fn starting_lines_say_where_and_when_and_read_back() {
        let root = Path::new("/ws");
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let line = starting_line(at, Path::new("/ws/liba/third party"), root).unwrap();
        assert_eq!(line, "starting=1700000000123 liba/third%20party\n");
        let value = line.trim_end().strip_prefix("starting=").unwrap();
        assert_eq!(
            parse_starting(value),
            Some((at, PathBuf::from("liba/third party")))
        );
        assert_eq!(starting_line(at, Path::new("/cache/m.git"), root), None);
        let top = starting_line(at, root, root).unwrap();
        assert_eq!(parse_starting(top[9..].trim_end()), Some((at, PathBuf::new())));
        assert_eq!(parse_starting("x a"), None);
        assert_eq!(parse_starting("1"), None);
    }

    #[test]
    fn the_window_runs_from_the_start_second_to_slack_after_the_last_stamp() {
        let start = UNIX_EPOCH + Duration::from_millis(1_000_500);
        let stamp = start + Duration::from_secs(10);
        let now = stamp + Duration::from_secs(60);
        let window = Window::new(start, stamp, now);
        assert!(window.holds(UNIX_EPOCH + Duration::from_secs(1_000)));
        assert!(window.holds(stamp + SLACK));
        assert!(!window.holds(stamp + SLACK + Duration::from_millis(1)));
        assert!(!window.holds(UNIX_EPOCH + Duration::from_millis(999_999)));
        assert_eq!(Window::new(start, stamp, stamp).until, stamp);
    }

    #[test]
    fn a_file_another_process_holds_open_is_seen_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.lock");
        let file = std::fs::File::create(&path).unwrap();
        assert_eq!(held_open(&path), None, "this process is not counted");
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .stdout(file)
            .spawn()
            .unwrap();
        let held = held_open(&path);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(held, Some(child.id()));
        assert_eq!(git_running_in(dir.path()), None);
    }
}
