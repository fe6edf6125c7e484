//! Shared harness for the integration tests: a fixture organisation built by
//! `scripts/fixture-org.sh` in a temporary folder, a workspace beside it, and
//! a hermetic environment for both git and the binary under test.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_openxla-workspace");

/// The variable that shortens the tool's grace period after an interrupt
/// (how long its git processes get to end before they are ended: 5 s), for
/// tests that wait it out, and the value they give it in milliseconds.
pub const TEST_GRACE_VAR: &str = "OPENXLA_WORKSPACE_TEST_GRACE_MS";
/// See [`TEST_GRACE_VAR`].
pub const TEST_GRACE_MS: u64 = 300;

/// A fixture organisation plus an initialised workspace, all under one
/// temporary folder that is removed when the test ends.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    /// The organisation (bare repositories, registry.toml, fixture.env).
    pub org: PathBuf,
    /// An initialised, empty workspace.
    pub ws: PathBuf,
    /// The temporary HOME.
    pub home: PathBuf,
    /// Commit ids from fixture.env (`BASE_1`, `LIBA_2`, …).
    pub ids: BTreeMap<String, String>,
}

impl Fixture {
    /// A fresh copy of the fixture organisation and an initialised, empty
    /// workspace. Building the organisation costs a second or more (it runs
    /// git a hundred times), so it is built once per version of
    /// `scripts/fixture-org.sh` into `CARGO_TARGET_TMPDIR`, and each test
    /// works on its own copy in its own temporary folder.
    pub fn new() -> Fixture {
        let shared = shared_org();
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().canonicalize().unwrap();
        let org = root.join("org");
        let ws = root.join("ws");
        let home = root.join("home");
        copy_tree(shared, &org);
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        // The registry and the manifest name the folder the organisation was
        // built in.
        let manifest = std::fs::read_to_string(shared.join("fixture.env")).unwrap();
        let old = manifest
            .lines()
            .find_map(|l| l.strip_prefix("FIXTURE_DIR="))
            .expect("FIXTURE_DIR in fixture.env")
            .to_string();
        let new = org.display().to_string();
        for file in ["registry.toml", "fixture.env"] {
            let path = org.join(file);
            let text = std::fs::read_to_string(&path).unwrap().replace(&old, &new);
            std::fs::write(&path, text).unwrap();
        }
        Fixture::finish(tmp, org, ws, home)
    }

    /// Like [`Fixture::new`], but the organisation is built by
    /// `scripts/fixture-org.sh` in this test's own folder, so every URL in
    /// it (including the `ORIGINS` inside its pin files) names this copy.
    pub fn built_in_place() -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().canonicalize().unwrap();
        let (org, ws, home) = (root.join("org"), root.join("ws"), root.join("home"));
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fixture-org.sh");
        let out = hermetic(Command::new("bash"), &home)
            .arg(&script)
            .arg(&org)
            .output()
            .unwrap();
        assert!(out.status.success(), "fixture-org.sh failed: {}", text(&out));
        Fixture::finish(tmp, org, ws, home)
    }

    /// Reads the organisation's commit ids and initialises the workspace.
    fn finish(tmp: tempfile::TempDir, org: PathBuf, ws: PathBuf, home: PathBuf) -> Fixture {
        let ids = std::fs::read_to_string(org.join("fixture.env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let fx = Fixture {
            tmp,
            org,
            ws,
            home,
            ids,
        };
        fx.ok(&["init"]);
        fx
    }

    /// A commit id from fixture.env.
    pub fn id(&self, key: &str) -> &str {
        self.ids
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in fixture.env"))
    }

    /// The fixture registry.
    pub fn registry(&self) -> PathBuf {
        self.org.join("registry.toml")
    }

    /// A command for the binary, in `dir`, with the fixture registry.
    pub fn cmd(&self, dir: &Path) -> Command {
        let mut cmd = hermetic(Command::new(BIN), &self.home);
        cmd.current_dir(dir)
            .env("OPENXLA_WORKSPACE_REGISTRY", self.registry());
        cmd
    }

    /// Runs the binary in `dir`.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd(dir).args(args).output().unwrap()
    }

    /// Runs the binary in the workspace and asserts success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(&self.ws, args);
        assert!(out.status.success(), "{args:?} failed:\n{}", text(&out));
        out
    }

    /// Runs git in `dir` with the hermetic environment; returns trimmed stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = hermetic(Command::new("git"), &self.home)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?} in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// HEAD of project `name` in the workspace.
    pub fn head(&self, name: &str) -> String {
        self.git(&self.ws.join(name), &["rev-parse", "HEAD"])
    }

    /// A bare repository of the organisation.
    pub fn remote(&self, name: &str) -> PathBuf {
        self.org.join("git").join(format!("{name}.git"))
    }

    /// Every file and folder under the workspace with its size and mtime,
    /// for asserting that a command changed nothing.
    pub fn snapshot(&self) -> Vec<String> {
        let mut entries = Vec::new();
        walk(&self.ws, &self.ws, &mut entries);
        entries.sort();
        entries
    }

    /// A fresh fixture after `checkout --sync app`: every dep at the pin
    /// that wins (liba@2, libb@2, base@2).
    pub fn synced() -> Fixture {
        Fixture::after(&["checkout", "--sync", "app"])
    }

    /// A fresh fixture whose workspace is as running the tool with `args`
    /// in the empty workspace left it. The run happens once per test
    /// binary, in a fixture of its own; each test gets a copy of its
    /// workspace, with that fixture's folder replaced by this one's in
    /// git's files that name it (the remotes' URLs in `config`,
    /// `FETCH_HEAD`, the reflogs), which is what the run would have
    /// written here.
    pub fn after(args: &[&str]) -> Fixture {
        let (template, old_root) = workspace_after(args);
        let fx = Fixture::new();
        std::fs::remove_dir_all(&fx.ws).unwrap();
        copy_tree(&template, &fx.ws);
        let new_root = fx.org.parent().unwrap().display().to_string();
        replace_in_git_files(&fx.ws, &old_root, &new_root);
        fx
    }

    /// `text` with the organisation's folder as `ORG`, the workspace's as
    /// `WS`, and elapsed times as `in TIME` (see [`normalise`]).
    pub fn normalise(&self, text: &str) -> String {
        let (org, ws) = (self.org.display().to_string(), self.ws.display().to_string());
        normalise(text, &[(&org, "ORG"), (&ws, "WS")])
    }

    /// Commits `files` (path, content), with `message`, on top of main of
    /// the organisation's repository `repo`, and pushes the commit to
    /// `branch` (main, or a new branch); returns the commit.
    pub fn push(&self, repo: &str, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        let work = tempfile::tempdir_in(self.tmp.path()).unwrap();
        let work = work.path();
        self.git(
            self.tmp.path(),
            &[
                "clone",
                "-q",
                self.remote(repo).to_str().unwrap(),
                work.to_str().unwrap(),
            ],
        );
        for (path, content) in files {
            let path = work.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
        }
        self.git(work, &["add", "-A"]);
        self.git(work, &["commit", "-q", "-m", message]);
        self.git(
            work,
            &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")],
        );
        self.git(work, &["rev-parse", "HEAD"])
    }

    /// Objects in a repository's own object folder (loose and packed, not
    /// borrowed through alternates), and its number of packs.
    pub fn own_objects(&self, repo: &Path) -> (usize, usize) {
        let counts = self.git(repo, &["count-objects", "-v"]);
        let field = |name: &str| -> usize {
            counts
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|n| n.trim().parse().unwrap())
                .unwrap()
        };
        (field("count:") + field("in-pack:"), field("packs:"))
    }
}

/// `NAME HEAD` for each of app, liba, libb and base that is checked out,
/// for asserting that no working tree moved.
pub fn heads(fx: &Fixture) -> Vec<String> {
    ["app", "liba", "libb", "base"]
        .iter()
        .filter(|n| fx.ws.join(n).exists())
        .map(|n| format!("{n} {}", fx.head(n)))
        .collect()
}

/// The short form of a commit id the tool prints (7 digits).
pub fn short(id: &str) -> &str {
    &id[..7]
}

/// The text of a file that must exist.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// This machine's name, as the tool writes it into its lock file.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// The organisation, built once per version of `scripts/fixture-org.sh`.
fn shared_org() -> &'static Path {
    static ORG: OnceLock<PathBuf> = OnceLock::new();
    ORG.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fixture-org.sh");
        let mut hasher = DefaultHasher::new();
        // The script assembles pin files from the tool's header and
        // runnable part: a change to any of them makes a new organisation.
        let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for file in [
            script.clone(),
            sources.join("model/pinfile/header.py"),
            sources.join("sync_deps_template.py"),
        ] {
            std::fs::read(file).unwrap().hash(&mut hasher);
        }
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let done = cache.join(format!("trust-org-{:016x}", hasher.finish()));
        if done.join("fixture.env").is_file() {
            return done;
        }
        // Build beside it and rename into place, so that concurrent test
        // binaries never see a half-built organisation.
        let building = cache.join(format!("trust-org-building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let home = cache.join(format!("trust-org-home-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let out = hermetic(Command::new("bash"), &home)
            .arg(&script)
            .arg(&building)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&home);
        assert!(out.status.success(), "fixture-org.sh failed: {}", text(&out));
        if std::fs::rename(&building, &done).is_err() {
            // Another test binary won the race; use its copy.
            let _ = std::fs::remove_dir_all(&building);
        }
        assert!(done.join("fixture.env").is_file());
        done
    })
}

/// The workspace after `args` (see [`Fixture::after`]), made once per
/// test binary under `CARGO_TARGET_TMPDIR`, and the folder of the fixture
/// it was made in.
fn workspace_after(args: &[&str]) -> (PathBuf, String) {
    static MADE: std::sync::Mutex<BTreeMap<String, (PathBuf, String)>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let key = args.join(" ");
    if let Some(found) = made.get(&key) {
        return found.clone();
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mine = format!("workspaces-{}", std::process::id());
    if made.is_empty() {
        // Those of test binaries that have ended.
        for entry in std::fs::read_dir(cache).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("workspaces-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
    let fx = Fixture::new();
    fx.ok(args);
    let template = cache.join(mine).join(made.len().to_string());
    let _ = std::fs::remove_dir_all(&template);
    copy_tree(&fx.ws, &template);
    let old_root = fx.org.parent().unwrap().display().to_string();
    made.insert(key, (template.clone(), old_root.clone()));
    (template, old_root)
}

/// Replaces `from` with `to` in the files of the git repositories under
/// `dir` that may hold it as text (all but indexes and objects).
fn replace_in_git_files(dir: &Path, from: &str, to: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        let name = entry.file_name();
        if kind.is_dir() {
            if name != "objects" {
                replace_in_git_files(&path, from, to);
            }
        } else if kind.is_file() && name != "index" && path.components().any(|c| c.as_os_str() == ".git") {
            let bytes = std::fs::read(&path).unwrap();
            if let Ok(text) = String::from_utf8(bytes) {
                if text.contains(from) {
                    std::fs::write(&path, text.replace(from, to)).unwrap();
                }
            }
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(link, &target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Asserts that two snapshots are equal, showing only what differs.
pub fn assert_unchanged(before: &[String], after: &[String]) {
    let gone: Vec<&String> = before.iter().filter(|e| !after.contains(e)).collect();
    let new: Vec<&String> = after.iter().filter(|e| !before.contains(e)).collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "the workspace changed:\n before: {gone:#?}\n after: {new:#?}"
    );
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        out.push(format!("{rel} {} {:?}", meta.len(), meta.modified().ok()));
        if meta.is_dir() {
            walk(root, &path, out);
        }
    }
}

/// The environment every test process gets: no system or user config, a
/// temporary HOME, fixed identities and dates, and file:// submodules
/// allowed through GIT_CONFIG_* (never by the tool itself).
pub fn hermetic(mut cmd: Command, home: &Path) -> Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("GIT_") || key.starts_with("OPENXLA_WORKSPACE") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.invalid")
        .env("GIT_AUTHOR_DATE", "2025-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-01-01T00:00:00Z")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .env("NO_COLOR", "1")
        // No sample hooks in every clone: less to write and to copy.
        .env("GIT_TEMPLATE_DIR", "")
        .env_remove("OPENXLA_WORKSPACE_CACHE");
    cmd
}

/// `text` with each `(from, to)` replaced, and the elapsed times of
/// summaries (`in 0.3s`) as `in TIME`, for whole-output comparisons.
pub fn normalise(text: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(" in ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits > 0 && rest[digits..].starts_with('s') && rest[..digits].contains('.') {
            out.push_str("TIME");
            rest = &rest[digits + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The size of the terminal [`run_in_pty`] gives the tool: tall enough that
/// nothing scrolls away before [`screen`] reads it.
pub const PTY_ROWS: u16 = 100;
/// See [`PTY_ROWS`].
pub const PTY_COLS: u16 = 100;

/// Runs `args` under a pseudo-terminal of [`PTY_COLS`] x [`PTY_ROWS`]
/// (util-linux `script`), so the tool sees a terminal on stdin, stdout and
/// stderr as a user's shell gives it; returns the exit status and everything
/// written to the terminal. `env` changes the fixture's environment
/// (`None` removes a variable, such as the `NO_COLOR` it sets).
pub fn run_in_pty(
    fx: &Fixture,
    dir: &Path,
    args: &[&str],
    env: &[(&str, Option<&str>)],
) -> (Option<i32>, String) {
    let mut cmd = fx.cmd(dir);
    cmd.args(args);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let line = format!(
        "stty cols {PTY_COLS} rows {PTY_ROWS} 2>/dev/null; exec {}",
        shell_words(&cmd)
    );
    let out = script(&line, &cmd);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs `cmd` (its program, arguments, folder and environment) with stdin,
/// stdout and stderr on a pseudo-terminal, through `script`; returns what
/// the terminal received (both streams, `\r\n` line ends as a terminal
/// driver writes them) and the exit status.
pub fn run_on_terminal(cmd: &Command) -> (String, Option<i32>) {
    let out = script(&shell_words(cmd), cmd);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

/// The program and arguments of `cmd`, each quoted for the shell.
fn shell_words(cmd: &Command) -> String {
    let words: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|word| {
            let word = word.to_str().expect("UTF-8 arguments");
            format!("'{}'", word.replace('\'', "'\\''"))
        })
        .collect();
    words.join(" ")
}

/// Runs the shell command `line` on a new pseudo-terminal (`script -qfec`),
/// in the folder and with the environment of `like`; stdin is /dev/null,
/// so `script` gives the terminal no input.
fn script(line: &str, like: &Command) -> Output {
    let mut script = Command::new("script");
    script.args(["-qfec", line, "/dev/null"]);
    if let Some(dir) = like.get_current_dir() {
        script.current_dir(dir);
    }
    for (key, value) in like.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    script
        .stdin(std::process::Stdio::null())
        .output()
        .expect("util-linux script runs")
}

/// What a terminal shows after receiving `transcript` (see [`run_in_pty`]):
/// its lines, without trailing spaces, up to the last one that is not
/// empty. A line the terminal wrapped onto the next row (a long path: the
/// temporary folder's name varies with `TMPDIR`) is one line again.
pub fn screen(transcript: &str) -> String {
    let size = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal size");
    let mut parser = vt100::Parser::new(size(PTY_ROWS), size(PTY_COLS), 0);
    parser.process(transcript.as_bytes());
    let screen = parser.screen();
    let mut lines = vec![String::new()];
    for (row, text) in screen.rows(0, PTY_COLS).enumerate() {
        let line = lines.last_mut().expect("one line at least");
        if screen.row_wrapped(row as u16) {
            line.push_str(&text);
        } else {
            line.push_str(text.trim_end());
            lines.push(String::new());
        }
    }
    let last = lines.iter().rposition(|r| !r.is_empty()).map_or(0, |i| i + 1);
    lines[..last].iter().map(|r| format!("{r}\n")).collect()
}

/// stdout and stderr of a finished command, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd` to its end (killed after `secs` seconds) and returns its
/// output and how many bytes it read: `rchar` of `/proc/PID/io`, which
/// counts every byte its `read` calls returned (files, pipes, whatever the
/// file system), read once it has ended and before it is reaped. `None`
/// when it had to be killed.
pub fn run_counting_reads(mut cmd: Command, secs: u64) -> Option<(Output, u64)> {
    use std::io::Read;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let proc = PathBuf::from(format!("/proc/{}", child.id()));
    let started = std::time::Instant::now();
    // Ended but not reaped (`Z`): `try_wait` would reap it and take its
    // counts with it.
    let ended = || {
        let stat = std::fs::read_to_string(proc.join("stat")).unwrap();
        let state = stat[stat.rfind(')').unwrap() + 1..].split_whitespace().next();
        state == Some("Z")
    };
    while !ended() {
        if started.elapsed().as_secs() >= secs {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let io = std::fs::read_to_string(proc.join("io")).unwrap();
    let read = io
        .lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .expect("rchar in /proc/PID/io")
        .parse()
        .unwrap();
    let status = child.wait().unwrap();
    let output = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    Some((output, read))
}
