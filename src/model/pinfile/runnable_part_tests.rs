//! The rendered `sync_deps.py` run by `python3`: importing it, its `--help`,
//! the dicts as Python reads them, and the runnable part
//! (`src/sync_deps_template.py`) syncing real git repositories.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::test_pins::*;
use super::write::RUNNABLE_PART;
use super::{write, Pins, FILE_NAME};
use crate::model::types::RemoteUrl;

// ---- The rendered file under Python ----------------------------------------

/// The interpreter: `python3`, or `SYNC_DEPS_PYTHON` (e.g. a Python 3.8,
/// the oldest the file supports).
fn interpreter() -> std::ffi::OsString {
    std::env::var_os("SYNC_DEPS_PYTHON").unwrap_or_else(|| "python3".into())
}

fn python3(dir: &Path, args: &[&str]) -> Output {
    Command::new(interpreter())
        .args(args)
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 is needed to test the runnable part of sync_deps.py")
}

fn render_into(dir: &Path, pins: &Pins) -> PathBuf {
    let path = dir.join(FILE_NAME);
    write(&path, pins).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn rendered_file_imports_without_side_effects() {
    let dir = tempfile::tempdir().unwrap();
    render_into(dir.path(), &openxla_pins());
    let out = python3(
        dir.path(),
        &["-c", "import sync_deps; print(sorted(sync_deps.PINNED_VERSIONS))"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "['iree', 'jax', 'xla']\n");
    assert_eq!(text(&out.stderr), "");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [FILE_NAME], "importing created files");
}

#[test]
fn rendered_file_compiles_and_prints_help() {
    let dir = tempfile::tempdir().unwrap();
    render_into(dir.path(), &openxla_pins());
    let out = python3(dir.path(), &["-m", "py_compile", FILE_NAME]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = python3(dir.path(), &[FILE_NAME, "--help"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for flag in [
        "--exclude-dep",
        "--exclude-submodule",
        "--depth",
        "--submodules-depth",
        "--jobs",
    ] {
        assert!(text(&out.stdout).contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn python_reads_the_dicts_as_json_dumps_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let pins = unusual_pins();
    let rendered = fs::read_to_string(render_into(dir.path(), &pins)).unwrap();
    let script = "import json, sync_deps as s\n\
                  s.ORIGINS.pop('emoji')\n\
                  for d in (s.PINNED_VERSIONS, s.ORIGINS, s.SUBMODULES):\n    \
                      print(json.dumps(d, indent=2))\n";
    let out = python3(dir.path(), &["-c", script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dumped = text(&out.stdout);
    let mut dicts = dumped.split("\n{").map(|d| d.trim_start_matches('{'));
    let pinned = dicts.next().unwrap();
    assert!(
        rendered.contains(&format!("PINNED_VERSIONS = {{{pinned}")),
        "{dumped}"
    );
    let origins = dicts.next().unwrap();
    let origins_without_emoji = origins.trim_end_matches("\n}");
    assert!(
        rendered.contains(&format!("ORIGINS = {{{origins_without_emoji},\n")),
        "{dumped}"
    );
    let check = "import sync_deps as s; print(s.ORIGINS['emoji'] == 'https://example.org/\\U0001F600.git')";
    assert_eq!(text(&python3(dir.path(), &["-c", check]).stdout), "True\n");
}

#[test]
fn the_files_escaper_escapes_as_the_tools_own_does() {
    let samples = [
        "plain text\twith a tab",
        "\x1b]0;title\x07\x1b[2K\rabc1234",
        "a\u{202e}b\u{200b}c\u{9b}d\u{2066}e\u{feff}f\u{2060}g\u{7f}",
        "one\ntwo\r\n",
        "caf\u{e9} \u{1F600}",
    ];
    let dir = tempfile::tempdir().unwrap();
    render_into(dir.path(), &Pins::default());
    for keep_newlines in [false, true] {
        let script = format!(
            "import json, sys, sync_deps\n\
             for s in json.load(sys.stdin):\n    \
                 print(json.dumps(sync_deps.escape_control(s, {})))\n",
            if keep_newlines { "True" } else { "False" }
        );
        let input = format!(
            "[{}]",
            samples
                .iter()
                .map(|s| json_string(s))
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut child = Command::new(interpreter())
            .args(["-c", &script])
            .current_dir(dir.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let expected: String = samples
            .iter()
            .map(|s| json_string(&crate::model::text::escape_control(s, keep_newlines)) + "\n")
            .collect();
        assert_eq!(text(&out.stdout), expected, "keep_newlines: {keep_newlines}");
    }
}

/// `s` as JSON with only ASCII, as Python's `json.dumps` writes it.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        match unit {
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(char::from(unit as u8)),
            _ => out.push_str(&format!("\\u{unit:04x}")),
        }
    }
    out.push('"');
    out
}

// ---- The runnable part against real repositories -----------------------------

/// A temporary folder with a hermetic git: no system or user config,
/// fixed identities and dates, file:// allowed for submodules.
struct Fixture {
    root: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("home")).unwrap();
        Fixture { root }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    fn hermetic(&self, command: &mut Command) {
        let home = self.path("home");
        command
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("GIT_AUTHOR_NAME", "Pin Test")
            .env("GIT_AUTHOR_EMAIL", "pin@example.org")
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00+00:00")
            .env("GIT_COMMITTER_NAME", "Pin Test")
            .env("GIT_COMMITTER_EMAIL", "pin@example.org")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00+00:00")
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
            .env("GIT_CONFIG_VALUE_0", "always")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut command = Command::new("git");
        command.args(args).current_dir(dir);
        self.hermetic(&mut command);
        let out = command.output().expect("git is needed for this test");
        assert!(
            out.status.success(),
            "git {args:?} in {}: {}",
            dir.display(),
            text(&out.stderr)
        );
        text(&out.stdout).trim().to_string()
    }

    /// Makes `src/NAME` with one commit per entry of `contents` and a
    /// bare copy at `remotes/NAME.git`; returns the commits.
    fn repo(&self, repo: &str, contents: &[&str]) -> Vec<String> {
        let src = self.path(&format!("src/{repo}"));
        fs::create_dir_all(&src).unwrap();
        self.git(&src, &["init", "-q", "-b", "main"]);
        let mut commits = vec![];
        for content in contents {
            fs::write(src.join("file.txt"), content).unwrap();
            self.git(&src, &["add", "file.txt"]);
            self.git(&src, &["commit", "-q", "-m", content]);
            commits.push(self.git(&src, &["rev-parse", "HEAD"]));
        }
        commits
    }

    fn publish(&self, repo: &str) -> RemoteUrl {
        let bare = self.path(&format!("remotes/{repo}.git"));
        let src = self.path(&format!("src/{repo}"));
        self.git(
            self.root.path(),
            &[
                "clone",
                "-q",
                "--bare",
                src.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        url(&format!("file://{}", bare.display()))
    }

    /// Runs `python3 sync_deps.py ARGS` in `WORKSPACE/project`.
    fn sync(&self, workspace: &str, pins: &Pins, args: &[&str]) -> Output {
        let project = self.path(&format!("{workspace}/project"));
        fs::create_dir_all(&project).unwrap();
        render_into(&project, pins);
        let mut command = Command::new(interpreter());
        command.arg(FILE_NAME).args(args).current_dir(&project);
        self.hermetic(&mut command);
        command.output().unwrap()
    }
}

#[test]
fn runnable_part_syncs_real_repositories() {
    let fx = Fixture::new();
    let dep = fx.repo("dep", &["one", "two"]);
    let dep_url = fx.publish("dep");
    let sub = fx.repo("sub", &["sub"]);
    let sub_url = fx.publish("sub");
    let lib = fx.repo("lib", &["lib"]);
    let lib_src = fx.path("src/lib");
    fs::write(
        lib_src.join(".gitmodules"),
        format!(
            "[submodule \"keep\"]\n\tpath = third_party/keep\n\turl = {sub_url}\n\
             [submodule \"skip\"]\n\tpath = third_party/skip me\n\turl = {sub_url}\n"
        ),
    )
    .unwrap();
    fx.git(&lib_src, &["add", ".gitmodules"]);
    for path in ["third_party/keep", "third_party/skip me"] {
        let info = format!("160000,{},{path}", sub[0]);
        fx.git(&lib_src, &["update-index", "--add", "--cacheinfo", &info]);
    }
    fx.git(&lib_src, &["commit", "-q", "-m", "submodules"]);
    let lib = [lib, vec![fx.git(&lib_src, &["rev-parse", "HEAD"])]].concat();
    let lib_url = fx.publish("lib");

    let mut pins = Pins::default();
    pins.set_pin(name("dep"), commit(&dep[0]));
    pins.set_pin(name("lib"), commit(&lib[1]));
    pins.set_origin(name("dep"), dep_url);
    pins.set_origin(name("lib"), lib_url);
    pins.set_submodules(name("lib"), true);

    // Pinned to the older commit, shallow, one submodule left out.
    let args = ["--jobs", "2", "--depth", "1", "--exclude-submodule", "lib:.*skip"];
    let out = fx.sync("ws", &pins, &args);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("dep: at {}\n", &dep[0][..7])),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("lib: at {}\n", &lib[1][..7])),
        "{stdout}"
    );
    let ws_dep = fx.path("ws/dep");
    assert_eq!(fx.git(&ws_dep, &["rev-parse", "HEAD"]), dep[0]);
    assert_eq!(fx.git(&ws_dep, &["rev-parse", "--is-shallow-repository"]), "true");
    assert_eq!(fs::read_to_string(ws_dep.join("file.txt")).unwrap(), "one");
    let ws_lib = fx.path("ws/lib");
    assert_eq!(fx.git(&ws_lib, &["rev-parse", "HEAD"]), lib[1]);
    assert_eq!(
        fs::read_to_string(ws_lib.join("third_party/keep/file.txt")).unwrap(),
        "sub"
    );
    assert!(!ws_lib.join("third_party/skip me/file.txt").exists());

    // A second run finds everything in place.
    let out = fx.sync("ws", &pins, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Excluded dependencies are not cloned.
    let out = fx.sync("ws2", &pins, &["--exclude-dep", "^dep$"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("dep: excluded by --exclude-dep"));
    assert!(!fx.path("ws2/dep").exists());
    assert_eq!(fx.git(&fx.path("ws2/lib"), &["rev-parse", "HEAD"]), lib[1]);

    // A commit the remote lacks fails that dependency only, with git's words.
    let mut broken = pins.clone();
    broken.set_pin(name("dep"), commit(&"1234abcd".repeat(5)));
    let out = fx.sync("ws3", &broken, &["--jobs", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("dep: failed"), "{stderr}");
    assert!(
        stderr.contains("command: git fetch --no-tags --depth 1 -- origin 1234abcd"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 2 dependencies failed: dep"), "{stderr}");
    assert_eq!(fx.git(&fx.path("ws3/lib"), &["rev-parse", "HEAD"]), lib[1]);
    let left: Vec<_> = fs::read_dir(fx.path("ws3"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !left.iter().any(|n| n.to_string_lossy().contains("dep")),
        "half-clone left: {left:?}"
    );
}

#[test]
fn runnable_part_refuses_unsafe_names_before_running_git() {
    let fx = Fixture::new();
    let project = fx.path("ws/project");
    fs::create_dir_all(&project).unwrap();
    let file = format!(
        "PINNED_VERSIONS = {{\"../x\": \"{IREE}\", \"ok\": \"HEAD\"}}\n\
         ORIGINS = {{\"ok\": \"ext::sh -c touch% PWNED\"}}\nSUBMODULES = {{}}\n\n{RUNNABLE_PART}"
    );
    fs::write(project.join(FILE_NAME), file).unwrap();
    let mut command = Command::new(interpreter());
    command.arg(FILE_NAME).current_dir(&project);
    fx.hermetic(&mut command);
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for fragment in [
        "project name '../x'",
        "'HEAD' is not a full commit id",
        "runs commands",
        "nothing was changed",
    ] {
        assert!(stderr.contains(fragment), "{fragment}: {stderr}");
    }
    let names: Vec<_> = fs::read_dir(fx.path("ws"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["project"]);
}
