//! Shared by the trust suites (`tests/trust_*.rs`): cheap fixtures, a fake
//! `git` that lets a test stop the tool at a chosen git command, and the
//! checks that "nothing happened".
//!
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{hermetic, text, Fixture};

/// A fresh copy of the fixture organisation and an initialised, empty
/// workspace (see [`Fixture::new`]).
pub fn fixture() -> Fixture {
    Fixture::new()
}

/// [`fixture`] after `checkout app`: app, liba, libb and base at their
/// branch tips, liba's submodules initialised.
pub fn checked_out() -> Fixture {
    Fixture::after(&["checkout", "app"])
}

// ---- Nothing happened ---------------------------------------------------------

/// Every file under the test's temporary folder (organisation, workspace,
/// HOME and anything a payload might have written beside them) with size
/// and mtime, minus git's own bookkeeping that read-only queries may touch.
pub fn snapshot_all(fx: &Fixture) -> Vec<String> {
    let mut entries = Vec::new();
    walk(fx.tmp.path(), fx.tmp.path(), &mut entries);
    entries.sort();
    entries
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        if meta.is_dir() {
            out.push(format!("{rel}/"));
            walk(root, &path, out);
        } else if name != "index" && name != "FETCH_HEAD" {
            // `git status` may refresh the index's stat data; that is not a
            // change to anyone's work.
            out.push(format!("{rel} {} {:?}", meta.len(), meta.modified().ok()));
        }
    }
}

/// Asserts that no file named `PWNED` exists under the test's folder, in the
/// folders commands ran in, or in the current folder of the test process.
pub fn assert_no_payload_ran(fx: &Fixture) {
    let mut found = Vec::new();
    find_named(fx.tmp.path(), "PWNED", &mut found);
    assert!(found.is_empty(), "a payload ran: {found:?}");
    assert!(!Path::new("PWNED").exists(), "a payload ran in the test's folder");
}

fn find_named(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().contains(name) {
            out.push(path.clone());
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_named(&path, name, out);
        }
    }
}

/// What a developer would call the state of a checkout: where HEAD is and
/// on which branch, every ref, the stash, and every change (staged,
/// unstaged, untracked) with its content.
pub fn work_state(fx: &Fixture, dir: &Path) -> String {
    let git = |args: &[&str]| raw_git(fx, dir, args);
    let mut state = String::new();
    state.push_str(&format!("HEAD {}\n", git(&["rev-parse", "HEAD"])));
    state.push_str(&format!("branch {}\n", git(&["symbolic-ref", "-q", "HEAD"])));
    state.push_str(&git(&["for-each-ref", "--format=%(refname) %(objectname)"]));
    state.push_str(&git(&["stash", "list"]));
    state.push_str(&git(&["status", "--porcelain=v1", "--untracked-files=all"]));
    state.push_str(&git(&["diff", "--cached"]));
    state.push_str(&git(&["diff"]));
    for line in git(&["ls-files", "--others", "--exclude-standard"]).lines() {
        let content = std::fs::read(dir.join(line)).unwrap_or_default();
        state.push_str(&format!(
            "untracked {line}: {}\n",
            String::from_utf8_lossy(&content)
        ));
    }
    state
}

/// Runs git in `dir` with the hermetic environment, whatever its status;
/// returns stdout.
pub fn raw_git(fx: &Fixture, dir: &Path, args: &[&str]) -> String {
    let out = hermetic(Command::new("git"), &fx.home)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `commit` is contained in some branch of the checkout in `dir`.
pub fn on_a_branch(fx: &Fixture, dir: &Path, commit: &str) -> bool {
    !raw_git(fx, dir, &["branch", "--contains", commit])
        .trim()
        .is_empty()
}

/// Commits `files` (path, content) in `dir` with `message`; returns the id.
pub fn commit_files(fx: &Fixture, dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
    }
    fx.git(dir, &["add", "-A"]);
    fx.git(dir, &["commit", "-q", "-m", message]);
    fx.git(dir, &["rev-parse", "HEAD"])
}

/// Pushes a new commit on top of `name`'s main in the organisation, with
/// `files` changed; returns its id.
pub fn push_upstream(fx: &Fixture, name: &str, files: &[(&str, &str)]) -> String {
    fx.push(name, "main", files, &format!("{name}: upstream change"))
}

// ---- Pin files ----------------------------------------------------------------

/// A pin file in the generated layout.
pub fn pin_file(pins: &[(&str, &str)], origins: &[(&str, &str)]) -> String {
    let dict = |entries: &[(&str, &str)]| {
        if entries.is_empty() {
            return "{}".to_string();
        }
        let body: Vec<String> = entries.iter().map(|(k, v)| format!("  {k}: {v}")).collect();
        format!("{{\n{}\n}}", body.join(",\n"))
    };
    format!(
        "# A pin file written by a test.\n\nPINNED_VERSIONS = {}\n\nORIGINS = {}\n\nSUBMODULES = {{}}\n",
        dict(pins),
        dict(origins)
    )
}

/// Python's double-quoted literal for plain text (no escapes needed).
pub fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// The 1-based line of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"))
        + 1
}

// ---- A fake git ---------------------------------------------------------------

/// The real git, found on PATH.
pub fn real_git() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("git"))
        .find(|p| p.is_file())
        .expect("git on PATH")
}

/// A folder holding a `git` that runs the real one, except for the git
/// command named by `$TRUST_GIT_BLOCK` (`clone`, `fetch` or `checkout`).
/// For that one it writes its pid to `$TRUST_GIT_SIGNAL` and then waits
/// until the process that started it is gone, so a test can kill the tool
/// at a known point; it then exits without doing anything more. Before
/// blocking, a clone creates its (empty) repository as git does first, and
/// a checkout runs for real, so the kill lands after git finished but before
/// the tool knew. While it blocks it holds the file `$TRUST_GIT_LEAVE_LOCK`
/// (made when set, as a git's lock file); with `$TRUST_GIT_BLOCK_IN` set to
/// a folder (its real path), only the command running there blocks. With
/// `$TRUST_GIT_IGNORE_INT`
/// it ignores SIGINT and SIGTERM. `--version` answers `$TRUST_GIT_VERSION`
/// when set.
/// Every call is appended to `$TRUST_GIT_LOG` when set. The git command
/// named by `$TRUST_GIT_FAIL` prints `$TRUST_GIT_STDERR` on stderr and
/// fails, as git does when a server or repository makes it say something.
/// With `$TRUST_GIT_TEE` set, what `git cat-file` sends the tool is also
/// appended to that file, as far as the tool takes it: its size is how much
/// the tool let git send.
pub fn fake_git_dir(fx: &Fixture) -> PathBuf {
    let bin = fx.tmp.path().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
real='{real}'
if [ -n "$TRUST_GIT_LOG" ]; then echo "$*" >> "$TRUST_GIT_LOG"; fi
for arg in "$@"; do
    if [ -n "$TRUST_GIT_FAIL" ] && [ "$arg" = "$TRUST_GIT_FAIL" ]; then
        printf '%s\n' "$TRUST_GIT_STDERR" >&2
        exit 128
    fi
done
if [ "$1" = "cat-file" ] && [ -n "$TRUST_GIT_TEE" ]; then
    "$real" "$@" | tee -a "$TRUST_GIT_TEE"
    exit
fi
if [ "$1" = "--version" ] && [ -n "$TRUST_GIT_VERSION" ]; then
    echo "git version $TRUST_GIT_VERSION"
    exit 0
fi
block=
for arg in "$@"; do
    if [ "$arg" = "$TRUST_GIT_BLOCK" ]; then block=1; fi
done
if [ -n "$TRUST_GIT_BLOCK_IN" ] && [ "$(pwd -P)" != "$TRUST_GIT_BLOCK_IN" ]; then block=; fi
if [ -z "$block" ]; then exec "$real" "$@"; fi
case "$TRUST_GIT_BLOCK" in
    clone) for last in "$@"; do :; done; "$real" init -q "$last" ;;
    checkout) "$real" "$@" || exit $? ;;
esac
if [ -n "$TRUST_GIT_LEAVE_LOCK" ]; then : > "$TRUST_GIT_LEAVE_LOCK"; fi
if [ -n "$TRUST_GIT_IGNORE_INT" ]; then trap '' INT TERM; fi
echo $$ > "$TRUST_GIT_SIGNAL.tmp" && mv "$TRUST_GIT_SIGNAL.tmp" "$TRUST_GIT_SIGNAL"
# Until the tool is gone: its parent is then another process (the pid
# alone could be another's by then).
parent() {{ read -r _ _ _ ppid _ < /proc/$$/stat; echo "$ppid"; }}
while [ "$(parent)" = "$PPID" ]; do sleep 0.05; done
exit 1
"#,
        real = real_git().display()
    );
    let path = bin.join("git");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// A run of the tool stopped inside the git command `verb`.
pub struct Blocked {
    /// The tool.
    pub child: Child,
    /// The fake git's pid.
    pub git_pid: u32,
}

/// Starts the tool with `args` in `dir` and waits until it is inside the
/// git command `verb` (see [`fake_git_dir`]).
pub fn start_blocked(fx: &Fixture, dir: &Path, verb: &str, args: &[&str]) -> Blocked {
    start_blocked_with(fx, dir, verb, args, &[])
}

/// [`start_blocked`], with `env` added to the tool's environment.
pub fn start_blocked_with(
    fx: &Fixture,
    dir: &Path,
    verb: &str,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Blocked {
    let bin = fake_git_dir(fx);
    let signal = fx.tmp.path().join(format!("blocked-in-{verb}"));
    let mut cmd = fx.cmd(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .args(args)
        .env("PATH", path_with(&bin))
        .env("TRUST_GIT_BLOCK", verb)
        .env("TRUST_GIT_SIGNAL", &signal)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut blocked = Blocked { child, git_pid: 0 };
    let started = Instant::now();
    loop {
        if let Ok(pid) = std::fs::read_to_string(&signal) {
            blocked.git_pid = pid.trim().parse().unwrap();
            return blocked;
        }
        if let Ok(Some(status)) = blocked.child.try_wait() {
            panic!("the tool ended ({status}) before reaching git {verb}");
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = blocked.child.kill();
            panic!("the tool did not reach git {verb} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Blocked {
    /// `kill -9` the tool, then wait until every git process it had
    /// running (the blocked one, and any started beside it) has ended too,
    /// so that none of them outlives it into the next run. The tool is
    /// stopped first, so that it starts none while they are listed.
    pub fn kill_9(mut self) {
        let tool = self.child.id();
        // SAFETY: signals the tool this test started, which it has not
        // waited for yet.
        unsafe {
            libc::kill(tool as libc::pid_t, libc::SIGSTOP);
        }
        let mut gits = children_of(tool);
        gits.push(self.git_pid);
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
        let started = Instant::now();
        for pid in gits {
            while runs(pid) && started.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Whether process `pid` exists and has not ended (a zombie has).
fn runs(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state != "Z")
}

/// The processes whose parent is `pid` (from `/proc/*/stat`).
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // After the command, which is in parentheses: state, then parent.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if parent == Some(pid.to_string().as_str()) {
            found.push(child);
        }
    }
    found
}

/// Runs `args` in `dir` with `var=value` settings added.
pub fn run_env(fx: &Fixture, dir: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let mut cmd = fx.cmd(dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Asserts exit status 1 and returns stderr.
pub fn fails(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", text(out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The entries of the workspace folder whose name starts with `prefix`.
pub fn leftovers(fx: &Fixture, prefix: &str) -> Vec<String> {
    std::fs::read_dir(&fx.ws)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// A registry with a `pip` schedule for app (jaxlib in requirements.txt) and
/// a stand-in Python whose pip always reports jaxlib 0.4.2 as the newest.
pub fn pip_schedule(fx: &Fixture) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let registry = fx.tmp.path().join("roll.toml");
    let base = std::fs::read_to_string(fx.registry()).unwrap();
    std::fs::write(
        &registry,
        format!(
            "{base}\n[[repos.app.schedules.pip]]\npy_package = \"jaxlib\"\nupdate_requirements = [\"requirements.txt\"]\n"
        ),
    )
    .unwrap();
    let python = fx.tmp.path().join("python3");
    std::fs::write(
        &python,
        "#!/bin/sh\necho 'jaxlib (0.4.2)'\necho 'Available versions: 0.4.2, 0.4.1'\n",
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    (registry, python)
}

// ---- The terminal ---------------------------------------------------------------

/// Asserts that `shown` holds no byte a terminal would act on: no escape,
/// no BEL, no carriage return except in a `\r\n` line end, no C1 control,
/// no bidi or zero-width character.
pub fn assert_terminal_safe(shown: &str) {
    let unix = shown.replace("\r\n", "\n");
    let bad: Vec<char> = unix
        .chars()
        .filter(|&c| (c.is_control() && c != '\n' && c != '\t') || invisible(c))
        .collect();
    assert!(bad.is_empty(), "the terminal received {bad:?}:\n{shown}");
}

fn invisible(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060 | 0x2066..=0x2069 | 0xFEFF)
}

// ---- Stopping a run at its k-th git process -------------------------------------

/// A folder `dir/name` standing for the real git's exec path: every entry
/// of it linked in, except those named in `except` (which the caller
/// writes itself). Returns the real exec path and the new folder.
pub fn mirrored_exec_path(dir: &Path, name: &str, except: &[&str]) -> (String, PathBuf) {
    let real = String::from_utf8(
        Command::new(real_git())
            .arg("--exec-path")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let path = dir.join(name);
    std::fs::create_dir_all(&path).unwrap();
    for entry in std::fs::read_dir(&real).unwrap() {
        let entry = entry.unwrap();
        let entry_name = entry.file_name();
        if !except.iter().any(|e| entry_name == *e) {
            std::os::unix::fs::symlink(entry.path(), path.join(&entry_name)).unwrap();
        }
    }
    (real, path)
}

/// A git "exec path" (`GIT_EXEC_PATH`, and first on `PATH`) in `dir` through
/// which every git process of a run passes: the tool's own, those git
/// starts itself (a `submodule update` starts clones, fetches, checkouts),
/// and `git-upload-pack`, which a fetch or clone starts once it is under
/// way (the server side of a `file://` transfer). Each appends a line
/// `PID top|nested WHAT ARGS` to `$TRUST_COUNT_LOG` when set (`top`: the
/// tool started it); the one whose line is
/// number `$TRUST_KILL_AT` then kills, as `$TRUST_KILL` says, the tool
/// alone (`tool`: `kill -9` of the process that started the first git, its
/// git processes go on) or the tool's whole process group (`group`: the
/// tool and every git at once, this one before it does anything) — what a
/// `kill -9` of the tool, or of the terminal's job, does. Every other
/// entry of the real exec path is linked in unchanged.
pub fn counting_exec_path(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let (real, path) = mirrored_exec_path(dir, "exec-path", &["git", "git-upload-pack"]);
    for (name, what) in [("git", "git"), ("git-upload-pack", "upload-pack")] {
        let script = format!(
            r#"#!/bin/sh
if [ -z "$TRUST_NESTED" ]; then
    TRUST_TOOL_PID=$PPID; export TRUST_TOOL_PID; level=top
else
    level=nested
fi
TRUST_NESTED=1; export TRUST_NESTED
if [ -n "$TRUST_COUNT_LOG" ]; then
    echo "$$ $level {what} $*" >> "$TRUST_COUNT_LOG"
    if [ -n "$TRUST_KILL_AT" ]; then
        n=0
        while read -r pid rest; do
            n=$((n + 1))
            if [ "$pid" = "$$" ]; then break; fi
        done < "$TRUST_COUNT_LOG"
        if [ "$n" = "$TRUST_KILL_AT" ]; then
            if [ "$TRUST_KILL" = group ]; then kill -9 0; else kill -9 "$TRUST_TOOL_PID"; fi
        fi
    fi
fi
exec '{real}/{name}' "$@"
"#
        );
        let file = path.join(name);
        std::fs::write(&file, script).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

/// How a run is stopped: see [`counting_exec_path`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kill {
    /// `kill -9` of the tool alone.
    Tool,
    /// `kill -9` of its process group.
    Group,
}

/// Runs the tool with `args` in `dir` through the exec path `exec_path`,
/// in a process group of its own, logging its git processes to `log`, and
/// (with `kill_at`) stops it at the k-th. Returns whether it was killed,
/// once every process of its group has ended.
pub fn run_counted(
    fx: &Fixture,
    dir: &Path,
    args: &[&str],
    exec_path: &Path,
    log: &Path,
    kill_at: Option<(usize, Kill)>,
) -> bool {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut cmd = fx.cmd(dir);
    cmd.args(args)
        // git's own background maintenance after fetches adds processes
        // that are none of the tool's doing.
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_1", "maintenance.auto")
        .env("GIT_CONFIG_VALUE_1", "false")
        .env("PATH", path_with(exec_path))
        .env("GIT_EXEC_PATH", exec_path)
        .env("TRUST_COUNT_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some((k, how)) = kill_at {
        cmd.env("TRUST_KILL_AT", k.to_string()).env(
            "TRUST_KILL",
            match how {
                Kill::Tool => "tool",
                Kill::Group => "group",
            },
        );
    }
    let mut child = cmd.spawn().unwrap();
    let group = child.id();
    let status = child.wait().unwrap();
    // After `kill -9` of the tool alone its git processes finish their
    // work; a user would see the prompt back only then, too.
    let started = Instant::now();
    while group_runs(group) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the killed run's git processes did not end"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    status.signal() == Some(9)
}

/// `kill -9` of process group `group` (a run started with a process
/// group of its own, and every process it started), and waits until
/// every one of them has ended.
pub fn kill_group(group: u32) {
    // SAFETY: sends SIGKILL to a process group this test started.
    unsafe {
        libc::kill(-(group as libc::pid_t), libc::SIGKILL);
    }
    let started = Instant::now();
    while group_runs(group) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "process group {group} did not end"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a process of process group `group` still runs (an orphan that
/// has ended but not yet been reaped by init does not: init may reap only
/// once a second, which would otherwise dominate these tests' time).
fn group_runs(group: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    let group = group.to_string();
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // `PID (COMM) STATE PPID PGRP ...`; COMM may hold spaces.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[2] == group && !matches!(fields[0], "Z" | "X")
    })
}

/// Every file under `dir` whose name ends in `.lock` (git's lock files,
/// and the workspace's own).
pub fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else if entry.file_name().to_string_lossy().ends_with(".lock") {
                found.push(path);
            }
        }
    }
    found
}

/// Copies the folder `from` to `to` (files, folders and symlinks as they are).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Commits, in the checkout of app at `app`, a pin file pinning liba and
/// libb at the given commits (what pulling app brings a developer).
pub fn pin_app(fx: &Fixture, app: &Path, liba: &str, libb: &str) {
    let file = app.join("sync_deps.py");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let line = match ["liba", "libb"]
            .iter()
            .zip([liba, libb])
            .find(|(name, _)| line.starts_with(&format!("  \"{name}\": \"")) && line.len() > 50)
        {
            Some((name, commit)) => {
                format!(
                    "  \"{name}\": \"{commit}\"{}",
                    if line.ends_with(',') { "," } else { "" }
                )
            }
            None => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    std::fs::write(&file, out).unwrap();
    fx.git(app, &["commit", "-q", "-am", "new pins"]);
}
