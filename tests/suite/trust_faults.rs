//! Faults mid-run (issue 7): `kill -9` inside a clone, a fetch and a
//! checkout; an unreachable remote among several; a file that cannot be
//! written; two runs at once; git missing or too old. After each, the next
//! plain run must finish the job with nothing to clean by hand, and no half
//! state may ever be taken for a real one.
//!
//! A fake `git` first on PATH (see `trust_support::fake_git_dir`) holds the
//! tool inside a chosen git command until the test kills it, which makes
//! every interruption land at a known point.

use crate::common;
use crate::trust_support;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use common::{heads, hermetic, hostname, stderr, stdout, text, Fixture, BIN};
use trust_support::*;

const LOCK: &str = ".openxla_workspace.lock";

/// After `checkout --sync app` or `sync` in app: each dep at the pin that
/// wins (liba@2, libb@2, base@2 from liba) and liba's submodules at the
/// commits liba records.
fn assert_synced(fx: &Fixture) {
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
    let status = raw_git(fx, &fx.ws.join("liba"), &["submodule", "status"]);
    assert!(
        status.lines().all(|l| l.starts_with(' ')),
        "submodules not at their recorded commits:\n{status}"
    );
}

/// The lock a killed run leaves names a process that no longer exists.
fn assert_stale_lock_left(fx: &Fixture) {
    let lock = std::fs::read_to_string(fx.ws.join(LOCK)).expect("the killed run's lock is left");
    assert!(lock.contains("pid="), "{lock}");
}

// ---- kill -9 ------------------------------------------------------------------

#[test]
fn checkout_killed_inside_a_clone_is_finished_by_the_next_run() {
    let fx = fixture();
    let blocked = start_blocked(&fx, &fx.ws, "clone", &["-j", "1", "checkout", "app"]);
    blocked.kill_9();
    assert_stale_lock_left(&fx);
    // The half-clone sits in a temporary folder; no project folder exists
    // that a later command could take for a checkout.
    let partials = leftovers(&fx, ".openxla-partial-");
    assert_eq!(partials.len(), 1, "{partials:?}");
    for name in ["app", "liba", "libb", "base"] {
        assert!(!fx.ws.join(name).exists(), "{name} exists after the kill");
    }
    let out = fx.run(&fx.ws.join("."), &["sync", "--repo", "app"]);
    assert!(!out.status.success(), "sync used a half-clone: {}", text(&out));

    let out = fx.ok(&["checkout", "app"]);
    assert!(stderr(&out).contains("checkout: 4 cloned"), "{}", text(&out));
    assert_eq!(fx.head("app"), fx.id("APP_3"));
    assert_eq!(fx.head("liba"), fx.id("LIBA_3"));
    assert!(leftovers(&fx, ".openxla-partial-").is_empty());
    assert!(!fx.ws.join(LOCK).exists());
    let status = fx.git(&fx.ws.join("app"), &["status", "--porcelain"]);
    assert!(status.is_empty(), "{status}");
}

#[test]
fn checkout_killed_while_initialising_submodules_is_finished_by_the_next_run() {
    let fx = fixture();
    // liba is cloned, but its submodules are not ready: still a half-clone.
    let blocked = start_blocked(&fx, &fx.ws, "submodule", &["checkout", "--no-deps", "liba"]);
    blocked.kill_9();
    assert_stale_lock_left(&fx);
    assert_eq!(leftovers(&fx, ".openxla-partial-"), [".openxla-partial-liba"]);
    assert!(!fx.ws.join("liba").exists());

    fx.ok(&["checkout", "--no-deps", "liba"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_3"));
    let status = raw_git(&fx, &fx.ws.join("liba"), &["submodule", "status"]);
    assert_eq!(status.lines().count(), 2, "{status}");
    assert!(status.lines().all(|l| l.starts_with(' ')), "{status}");
    assert!(leftovers(&fx, ".openxla-partial-").is_empty());
}

#[test]
fn sync_killed_while_cloning_a_missing_dep_is_finished_by_the_next_run() {
    let fx = fixture();
    fx.ok(&["checkout", "--no-deps", "app"]);
    let app = fx.ws.join("app");
    let blocked = start_blocked(&fx, &app, "clone", &["-j", "1", "sync"]);
    blocked.kill_9();
    assert_stale_lock_left(&fx);
    assert_eq!(leftovers(&fx, ".openxla-partial-").len(), 1);
    for name in ["liba", "libb", "base"] {
        assert!(!fx.ws.join(name).exists(), "{name} exists after the kill");
    }

    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_synced(&fx);
    assert!(leftovers(&fx, ".openxla-partial-").is_empty());
    assert!(!fx.ws.join(LOCK).exists());
}

#[test]
fn sync_killed_inside_a_fetch_is_finished_by_the_next_run() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    // A pin the checkout lacks, so sync must fetch it.
    let newer = push_upstream(&fx, "liba", &[("liba.txt", "liba version 4\n")]);
    let pins = std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBA_2"), &newer);
    std::fs::write(app.join("sync_deps.py"), pins).unwrap();
    let before = heads(&fx);

    let blocked = start_blocked(&fx, &app, "fetch", &["sync"]);
    blocked.kill_9();
    assert_stale_lock_left(&fx);
    assert_eq!(
        heads(&fx),
        before,
        "a working tree moved before every pin was present"
    );

    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), newer);
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_2"), "liba@4 keeps liba@3's pins");
    assert!(!fx.ws.join(LOCK).exists());
}

#[test]
fn sync_killed_inside_a_checkout_is_finished_by_the_next_run() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    // The fake git lets the first checkout complete, then holds on: the
    // tool dies after git moved one dep and before anything else.
    let blocked = start_blocked(&fx, &app, "checkout", &["-j", "1", "sync"]);
    blocked.kill_9();
    assert_stale_lock_left(&fx);
    assert!(!fx.ws.join("liba/.git/index.lock").exists());

    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_synced(&fx);
    assert!(!fx.ws.join(LOCK).exists());
}

#[test]
fn checkout_sync_killed_before_its_sync_is_finished_by_the_next_run() {
    let fx = fixture();
    // The deps are cloned without their files, for the sync to write them
    // at the pins; the run dies as the sync starts.
    let blocked = start_blocked(&fx, &fx.ws, "cat-file", &["-j", "1", "checkout", "--sync", "app"]);
    blocked.kill_9();
    assert_stale_lock_left(&fx);
    let out = fx.ok(&["status", "--repo", "app"]);
    for dep in ["liba", "libb", "base"] {
        let line = stdout(&out)
            .lines()
            .find(|l| l.starts_with(dep))
            .unwrap()
            .to_string();
        assert!(line.contains("no working tree"), "{line}");
    }

    let out = fx.ok(&["checkout", "--sync", "app"]);
    assert!(stderr(&out).contains("already exists"), "{}", text(&out));
    assert_synced(&fx);
    for dep in ["liba", "libb", "base"] {
        let status = raw_git(&fx, &fx.ws.join(dep), &["status", "--porcelain"]);
        assert!(status.is_empty(), "{dep}: {status}");
    }
    assert!(!fx.ws.join(LOCK).exists());
}

#[test]
fn checkout_sync_depth_killed_inside_the_fetch_of_a_pin_leaves_no_repository_in_place() {
    let fx = fixture();
    let blocked = start_blocked(
        &fx,
        &fx.ws,
        "fetch",
        &["-j", "1", "checkout", "--sync", "--depth", "1", "app"],
    );
    blocked.kill_9();
    assert_stale_lock_left(&fx);
    // The dep being made sits in its temporary folder, never in place.
    assert_eq!(leftovers(&fx, ".openxla-partial-").len(), 1);
    for name in ["liba", "libb", "base"] {
        assert!(!fx.ws.join(name).exists(), "{name} exists after the kill");
    }

    fx.ok(&["checkout", "--sync", "--depth", "1", "app"]);
    assert_synced(&fx);
    assert!(leftovers(&fx, ".openxla-partial-").is_empty());
    assert!(!fx.ws.join(LOCK).exists());
}

// ---- Two runs at once -----------------------------------------------------------

#[test]
fn a_second_run_stops_with_a_message_naming_the_lock_and_its_holder() {
    let fx = fixture();
    fx.ok(&["checkout", "--no-deps", "app"]);
    let app = fx.ws.join("app");
    let since = std::time::Instant::now();
    let blocked = start_blocked(&fx, &app, "clone", &["-j", "1", "sync"]);
    let holder = blocked.child.id();
    let partials = leftovers(&fx, ".openxla-partial-");

    // How long the holder has run comes from the start time its lock file
    // records: at most as long as this test has waited for it.
    let for_secs = regex::Regex::new(r" \(for (\d+) s\): ").unwrap();
    for args in [
        vec!["sync", "--repo", "app"],
        vec!["pin", "--repo", "app"],
        vec!["checkout", "app"],
    ] {
        let err = fails(&fx.run(&fx.ws, &args));
        let secs: u64 = for_secs
            .captures(&err)
            .unwrap_or_else(|| panic!("{args:?}: no (for N s) in {err}"))[1]
            .parse()
            .unwrap();
        assert!(secs <= since.elapsed().as_secs(), "{args:?}: {err}");
        assert_eq!(
            for_secs.replace(&err, " (for N s): "),
            format!(
                "error: the workspace is locked by process {holder} on {} running `sync` (for N s): {}\n  \
                 wait for that run to finish (the lock is released as soon as it ends, however it ends)\n",
                hostname(),
                fx.ws.join(LOCK).display()
            ),
            "{args:?}"
        );
    }
    // The second runs did nothing.
    assert_eq!(leftovers(&fx, ".openxla-partial-"), partials);
    for name in ["liba", "libb", "base"] {
        assert!(!fx.ws.join(name).exists(), "{name}");
    }

    blocked.kill_9();
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_synced(&fx);
}

/// The lock is the OS lock on the file, not the file: text left by a run
/// that ended without releasing it never blocks, whatever pid it names and
/// even with no start time to tell a reused pid by (as on a system without
/// `/proc`).
#[test]
fn a_lock_file_nobody_holds_does_not_block_even_if_its_pid_is_alive() {
    let fx = checked_out();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    // This test's own pid is alive, and nothing says when it started.
    std::fs::write(
        fx.ws.join(LOCK),
        format!("pid={}\nhost={}\ncommand=sync\n", std::process::id(), host.trim()),
    )
    .unwrap();
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_synced(&fx);
    assert!(!fx.ws.join(LOCK).exists());
}

/// A lock held by a live process is respected whatever its text says: a
/// pid that no longer exists on this host (a holder on another machine
/// sharing the folder, or a text not yet rewritten) is not a reason to take
/// it over.
#[test]
fn a_held_lock_is_respected_whatever_pid_and_host_it_names() {
    let fx = checked_out();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for (pid, host) in [(4242, "build-7.example"), (dead, host.trim())] {
        let file = std::fs::File::create(fx.ws.join(LOCK)).unwrap();
        file.lock().unwrap();
        std::fs::write(
            fx.ws.join(LOCK),
            format!("pid={pid}\nhost={host}\ncommand=checkout\n"),
        )
        .unwrap();
        let before = snapshot_all(&fx);
        let err = fails(&fx.run(&fx.ws.join("app"), &["sync"]));
        assert_eq!(
            err,
            format!(
                "error: the workspace is locked by process {pid} on {host} running `checkout`: {}\n  wait for that \
                 run to finish (the lock is released as soon as it ends, however it ends)\n",
                fx.ws.join(LOCK).display()
            )
        );
        assert_eq!(snapshot_all(&fx), before);
        drop(file);
    }
}

// ---- Unreachable remotes ----------------------------------------------------------

#[test]
fn checkout_with_one_unreachable_remote_clones_the_others_and_names_it() {
    let fx = fixture();
    std::fs::rename(fx.remote("libb"), fx.org.join("git/libb.gone")).unwrap();
    let err = fails(&fx.run(&fx.ws, &["checkout", "app"]));
    assert!(err.contains("checkout: 3 cloned, 1 failed"), "{err}");
    // Named with its cause and URL (tests/failure_causes.rs has the block).
    assert!(
        err.contains("error: local path: no repository at the URL\n  not cloned: libb\n")
            && err.contains("rw/libb.git"),
        "{err}"
    );
    for name in ["app", "liba", "base"] {
        assert!(fx.ws.join(name).join(".git").exists(), "{name} not cloned");
    }
    assert!(!fx.ws.join("libb").exists());
    assert!(leftovers(&fx, ".openxla-partial-").is_empty());
    assert!(!fx.ws.join(LOCK).exists());
}

#[test]
fn sync_with_one_unreachable_remote_moves_no_working_tree_and_names_it() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let newer = push_upstream(&fx, "libb", &[("libb.txt", "libb version 4\n")]);
    let pins = std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBB_2"), &newer);
    std::fs::write(app.join("sync_deps.py"), pins).unwrap();
    std::fs::rename(fx.remote("libb"), fx.org.join("git/libb.gone")).unwrap();
    let before = heads(&fx);

    let err = fails(&fx.run(&app, &["sync"]));
    // Named with its cause and URL (tests/failure_causes.rs has the block).
    assert!(
        err.contains("error: local path: no repository at the URL\n  not fetched: libb\n"),
        "{err}"
    );
    assert!(err.contains("rw/libb.git"), "{err}");
    assert!(err.contains("stopped before changing any working tree"), "{err}");
    assert!(!err.contains("error: liba"), "{err}");
    assert_eq!(heads(&fx), before);
}

// ---- Files that cannot be written ---------------------------------------------------

/// Runs the tool with a file-size limit of `kib` KiB (and SIGXFSZ ignored,
/// so a write past it fails with EFBIG instead of killing the process):
/// running as root, a read-only folder would not stop anything.
fn run_with_file_size_limit(fx: &Fixture, dir: &Path, kib: u32, args: &[&str]) -> Output {
    let mut cmd = hermetic(Command::new("bash"), &fx.home);
    cmd.current_dir(dir)
        .env("OPENXLA_WORKSPACE_REGISTRY", fx.registry())
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args);
    cmd.output().unwrap()
}

#[test]
fn pin_that_cannot_write_sync_deps_leaves_the_old_file_intact() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    let old = std::fs::read(&file).unwrap();
    // The rendered file is several KiB; the limit lets the lock be written.
    let out = run_with_file_size_limit(&fx, &app, 1, &["pin"]);
    let err = fails(&out);
    assert!(
        err.contains(&format!(
            "could not write {}; the old file is intact",
            file.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), old);
    let temporaries: Vec<String> = std::fs::read_dir(&app)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temporaries.is_empty(), "{temporaries:?}");
    assert!(!fx.ws.join(LOCK).exists());
    // Nothing to clean by hand: the next run writes it.
    fx.ok(&["pin", "--repo", "app"]);
    assert!(std::fs::read_to_string(&file).unwrap().contains(fx.id("LIBA_3")));
}

#[test]
fn a_lock_that_cannot_be_written_is_not_left_behind() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let before = heads(&fx);
    let err = fails(&run_with_file_size_limit(&fx, &app, 0, &["sync"]));
    assert!(err.contains("could not write the lock file"), "{err}");
    assert_eq!(heads(&fx), before);
    let left: Vec<String> = leftovers(&fx, ".openxla_workspace.lock");
    assert!(left.is_empty(), "{left:?}");
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_synced(&fx);
}

#[test]
fn roll_that_cannot_write_a_requirements_file_leaves_it_intact() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let (registry, python) = pip_schedule(&fx);
    // Longer than the limit, so that rewriting it must fail.
    let requirements = app.join("requirements.txt");
    let old = format!("{}jaxlib==0.4.1\n", "# padding\n".repeat(300));
    std::fs::write(&requirements, &old).unwrap();

    let mut cmd = hermetic(Command::new("bash"), &fx.home);
    cmd.current_dir(&app)
        .env("OPENXLA_WORKSPACE_PYTHON", &python)
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"")
        .arg(BIN)
        .arg("--registry")
        .arg(&registry)
        .args(["roll", "pip"]);
    let out = cmd.output().unwrap();
    let err = fails(&out);
    assert!(err.contains("requirements.txt"), "{err}");
    assert_eq!(std::fs::read_to_string(&requirements).unwrap(), old);
    let temporaries: Vec<String> = std::fs::read_dir(&app)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temporaries.is_empty(), "{temporaries:?}");
    assert!(!fx.ws.join(LOCK).exists());
}

// ---- git itself -------------------------------------------------------------------

#[test]
fn git_missing_from_path_is_a_one_line_error_before_anything_runs() {
    let fx = fixture();
    let empty = fx.tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let before = snapshot_all(&fx);
    let out = run_env(&fx, &fx.ws, &["checkout", "app"], &[("PATH", empty.as_os_str())]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        "error: git was not found on PATH; install git (2.25 or newer) and try again\n"
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(snapshot_all(&fx), before);
}

#[test]
fn git_older_than_the_minimum_is_refused_before_anything_runs() {
    let fx = checked_out();
    let bin = fake_git_dir(&fx);
    let log = fx.tmp.path().join("git.log");
    let before = fx.snapshot();
    let out = run_env(
        &fx,
        &fx.ws.join("app"),
        &["sync"],
        &[
            ("PATH", &path_with(&bin)),
            ("TRUST_GIT_VERSION", OsStr::new("2.20.1")),
            ("TRUST_GIT_LOG", log.as_os_str()),
        ],
    );
    let err = fails(&out);
    assert!(
        err.contains("git version 2.20.1 is too old: openxla-workspace needs git 2.25 or newer"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "--version\n",
        "git ran for more than its version"
    );
    assert_eq!(fx.snapshot(), before);
}

/// `pin` and `status` do not ask for git's version up front (one process
/// fewer per run); when a git too old for them answers in a way that makes
/// no sense, they ask then, and say so instead of writing nonsense.
#[test]
fn pin_names_a_too_old_git_once_its_answers_make_no_sense() {
    use std::os::unix::fs::PermissionsExt;
    let fx = checked_out();
    let bin = fx.tmp.path().join("old-git");
    std::fs::create_dir_all(&bin).unwrap();
    let log = fx.tmp.path().join("old-git.log");
    // A git 2.20: `%cs` in a log format is printed as it is.
    let script = format!(
        r#"#!/bin/sh
echo "$*" >> '{log}'
case "$1" in
--version) echo "git version 2.20.1"; exit 0 ;;
log) printf '%s\0%%cs\0a subject\n' "$('{real}' rev-parse HEAD)"; exit 0 ;;
esac
exec '{real}' "$@"
"#,
        log = log.display(),
        real = real_git().display()
    );
    std::fs::write(bin.join("git"), script).unwrap();
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let app = fx.ws.join("app");
    let before = fx.snapshot();
    let out = run_env(&fx, &app, &["pin"], &[("PATH", &path_with(&bin))]);
    let err = fails(&out);
    assert!(
        err.contains("git version 2.20.1 is too old: openxla-workspace needs git 2.25 or newer"),
        "{err}"
    );
    assert_eq!(fx.snapshot(), before, "pin changed something");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(calls.lines().filter(|l| *l == "--version").count(), 1, "{calls}");
    assert!(
        !calls.starts_with("--version"),
        "asked for the version up front:\n{calls}"
    );

    // With a git whose answers make sense, pin runs one git per dep and no
    // `git --version`.
    std::fs::remove_file(&log).unwrap();
    let fake = fake_git_dir(&fx);
    let out = run_env(
        &fx,
        &app,
        &["pin"],
        &[("PATH", &path_with(&fake)), ("TRUST_GIT_LOG", log.as_os_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().map(|l| l.split(' ').next().unwrap_or("")).collect();
    assert_eq!(calls, ["log", "log"], "app has two deps");
}

// ---- The user's environment ---------------------------------------------------------

/// `GIT_*` variables a shell may have set (inside a git hook, or after
/// `export GIT_DIR=...`) that point git at the repository `decoy`.
fn pointing_at(decoy: &Path) -> Vec<(&'static str, std::ffi::OsString)> {
    let git_dir = decoy.join(".git");
    vec![
        ("GIT_DIR", git_dir.clone().into()),
        ("GIT_WORK_TREE", decoy.into()),
        ("GIT_INDEX_FILE", git_dir.join("index").into()),
        ("GIT_OBJECT_DIRECTORY", git_dir.join("objects").into()),
        ("GIT_ALTERNATE_OBJECT_DIRECTORIES", git_dir.join("objects").into()),
        ("GIT_COMMON_DIR", git_dir.clone().into()),
        ("GIT_NAMESPACE", "decoy".into()),
    ]
}

#[test]
fn status_and_sync_ignore_git_variables_that_point_at_another_repository() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    // A repository outside the workspace that every variable points at.
    let decoy = fx.tmp.path().join("decoy");
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            fx.remote("app").to_str().unwrap(),
            decoy.to_str().unwrap(),
        ],
    );
    let decoy_before = work_state(&fx, &decoy);
    let env = pointing_at(&decoy);
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();

    let plain = fx.run(&app, &["status"]);
    assert!(plain.status.success(), "{}", text(&plain));
    let inherited = run_env(&fx, &app, &["status"], &env);
    assert!(inherited.status.success(), "{}", text(&inherited));
    assert_eq!(
        stdout(&inherited),
        stdout(&plain),
        "status read another repository"
    );
    assert_eq!(stderr(&inherited), stderr(&plain));

    let out = run_env(&fx, &app, &["sync"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert_synced(&fx);
    assert_eq!(work_state(&fx, &decoy), decoy_before, "sync changed the decoy");
    assert_eq!(
        raw_git(&fx, &decoy, &["rev-list", "--all", "--count"]),
        raw_git(&fx, &fx.remote("app"), &["rev-list", "--all", "--count"]),
        "sync fetched into the decoy"
    );
    let after = run_env(&fx, &app, &["status"], &env);
    assert_eq!(stdout(&after), stdout(&fx.run(&app, &["status"])));
    assert!(!stdout(&after).contains("behind"), "{}", text(&after));
}

/// A git on this machine that speaks German when asked to (`LANGUAGE=de`
/// with a UTF-8 locale), as a folder to put first on PATH, and the locale
/// variables that make it do so; `None` when no git here has translations
/// (built without gettext, or its message catalogues not installed).
fn german_git(fx: &Fixture) -> Option<(std::path::PathBuf, [(&'static str, &'static str); 2])> {
    let probe = fx.tmp.path().join("language-probe");
    fx.git(fx.tmp.path(), &["init", "-q", probe.to_str().unwrap()]);
    let candidates = [real_git(), "/usr/bin/git".into(), "/usr/local/bin/git".into()];
    for git in candidates.iter().filter(|g| g.is_file()) {
        for locale in ["C.UTF-8", "C.utf8", "de_DE.UTF-8"] {
            let env = [("LANGUAGE", "de"), ("LC_ALL", locale)];
            let out = hermetic(Command::new(git), &fx.home)
                .current_dir(&probe)
                .envs(env)
                .args(["checkout", "no-such-branch"])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            if !err.is_empty() && !err.contains("did not match") {
                let bin = fx.tmp.path().join("german-git");
                std::fs::create_dir_all(&bin).unwrap();
                std::os::unix::fs::symlink(git, bin.join("git")).unwrap();
                return Some((bin, env));
            }
        }
    }
    None
}

#[test]
fn git_messages_the_tool_reads_are_understood_whatever_the_users_language() {
    let fx = checked_out();
    let Some((bin, locale)) = german_git(&fx) else {
        // Nothing to show here: every git on this machine speaks English.
        eprintln!("SKIPPED: no git on this machine has translations; this test shows nothing here");
        return;
    };
    let app = fx.ws.join("app");
    // libb holds an untracked file that its pinned commit tracks, so git
    // refuses the checkout; the tool must recognise that refusal.
    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "-q", "--detach", fx.id("LIBB_1")]);
    std::fs::write(libb.join("sync_deps.py"), "# my own notes, not the pins\n").unwrap();
    let libb_before = work_state(&fx, &libb);
    let mut env: Vec<(&str, &OsStr)> = locale.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
    let path = path_with(&bin);
    env.push(("PATH", &path));

    let err = fails(&run_env(&fx, &app, &["sync"], &env));
    assert!(
        err.contains(&format!(
            "error: libb: local changes in {} conflict with {}; nothing was changed there. \
             Commit or stash them (`git -C {} stash`), then sync again",
            libb.display(),
            &fx.id("LIBB_2")[..7],
            libb.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("would be overwritten by checkout"),
        "git's own words, in English:\n{err}"
    );
    assert_eq!(work_state(&fx, &libb), libb_before, "libb changed");
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));

    // A server that refuses a fetch by id (protocol v0, a commit that is
    // no branch tip): the tool must recognise the refusal and fetch the
    // branch instead.
    std::fs::remove_file(libb.join("sync_deps.py")).unwrap();
    let older = push_upstream(&fx, "libb", &[("libb.txt", "libb version 4\n")]);
    push_upstream(&fx, "libb", &[("libb.txt", "libb version 5\n")]);
    let pins = std::fs::read_to_string(app.join("sync_deps.py")).unwrap();
    std::fs::write(app.join("sync_deps.py"), pins.replace(fx.id("LIBB_2"), &older)).unwrap();
    env.extend([
        ("GIT_CONFIG_COUNT", OsStr::new("2")),
        ("GIT_CONFIG_KEY_1", OsStr::new("protocol.version")),
        ("GIT_CONFIG_VALUE_1", OsStr::new("0")),
    ]);
    let out = run_env(&fx, &app, &["sync"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains("libb: origin refused a fetch by id; fetching main instead"),
        "{}",
        text(&out)
    );
    assert_eq!(fx.head("libb"), older);
}

// ---- The shared cache ----------------------------------------------------------------

/// Pushes a commit changing `files` on a new branch `branch` of `name`
/// upstream; returns its id.
fn push_branch(fx: &Fixture, name: &str, branch: &str, files: &[(&str, &str)]) -> String {
    fx.push(name, branch, files, &format!("{name}: work on {branch}"))
}

/// The mirror that the checkout in `repo` borrows objects from.
fn mirror_of(repo: &Path) -> std::path::PathBuf {
    let alternates = std::fs::read_to_string(repo.join(".git/objects/info/alternates")).unwrap();
    Path::new(alternates.lines().next().unwrap())
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A workspace whose liba, cloned through the cache at `cache`, is checked
/// out at a commit that only upstream's branch `feature` holds (app pins
/// it), every object borrowed from the mirror. Returns that commit.
fn borrowing_a_feature_commit(fx: &Fixture, cache: &str) -> String {
    let feature = push_branch(fx, "liba", "feature", &[("liba.txt", "feature work\n")]);
    fx.ok(&["--cache-dir", cache, "checkout", "--ro", "app"]);
    let app = fx.ws.join("app");
    let pins = std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBA_2"), &feature);
    std::fs::write(app.join("sync_deps.py"), pins).unwrap();
    let out = fx.run(&app, &["--cache-dir", cache, "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), feature);
    assert_eq!(
        fx.own_objects(&fx.ws.join("liba")).0,
        0,
        "liba borrows every object"
    );
    feature
}

/// Another workspace's checkout through the same cache, which refreshes
/// the mirror of liba (`fetch --prune`).
fn refresh_the_mirror(fx: &Fixture, cache: &str) {
    let ws2 = fx.tmp.path().join("ws2");
    std::fs::create_dir_all(&ws2).unwrap();
    assert!(fx.run(&ws2, &["init"]).status.success());
    let out = fx.run(
        &ws2,
        &[
            "--cache-dir",
            cache,
            "checkout",
            "--ro",
            "--no-deps",
            "--no-submodules",
            "liba",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
}

/// The checkout in `repo` is whole and usable at `commit`.
fn assert_checkout_works(fx: &Fixture, repo: &Path, commit: &str) {
    fx.git(repo, &["fsck", "--no-progress", "--no-dangling"]);
    assert_eq!(fx.git(repo, &["log", "-1", "--format=%H", commit]), commit);
    fx.git(repo, &["checkout", "-q", "--detach", "main"]);
    fx.git(repo, &["checkout", "-q", "--detach", commit]);
    assert_eq!(fx.head("liba"), commit);
}

#[test]
fn a_checkout_borrowing_from_the_cache_survives_upstream_deleting_its_commit_and_a_gc_of_the_mirror() {
    let fx = fixture();
    let cache = fx.tmp.path().join("cache");
    let cache = cache.to_str().unwrap();
    let feature = borrowing_a_feature_commit(&fx, cache);
    let liba = fx.ws.join("liba");
    let mirror = mirror_of(&liba);

    // Upstream deletes the branch; the next refresh prunes it from the
    // mirror, and someone collects the mirror's garbage by hand.
    fx.git(&fx.remote("liba"), &["branch", "-q", "-D", "feature"]);
    refresh_the_mirror(&fx, cache);
    assert!(
        raw_git(&fx, &mirror, &["for-each-ref", "refs/heads/feature"]).is_empty(),
        "the refresh did not prune the deleted branch"
    );
    fx.git(&mirror, &["reflog", "expire", "--expire=now", "--all"]);
    fx.git(&mirror, &["gc", "-q", "--prune=now"]);

    assert_checkout_works(&fx, &liba, &feature);
    let out = fx.run(&fx.ws.join("app"), &["--cache-dir", cache, "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), feature);
}

#[test]
fn a_mirror_refresh_never_collects_garbage_even_when_the_users_config_asks_for_it() {
    let fx = fixture();
    let cache = fx.tmp.path().join("cache");
    let cache = cache.to_str().unwrap();
    let feature = borrowing_a_feature_commit(&fx, cache);
    let liba = fx.ws.join("liba");
    let mirror = mirror_of(&liba);
    fx.git(&fx.remote("liba"), &["branch", "-q", "-D", "feature"]);
    push_upstream(&fx, "liba", &[("liba.txt", "liba version 4\n")]);
    // A user's configuration that makes every fetch end with a gc that
    // prunes at once: each fetch leaves a pack, two packs are too many.
    std::fs::write(
        fx.home.join(".gitconfig"),
        "[gc]\n\tauto = 1\n\tautoPackLimit = 1\n\tpruneExpire = now\n\tautoDetach = false\n\
         [fetch]\n\tunpackLimit = 1\n[maintenance]\n\tauto = true\n",
    )
    .unwrap();
    let (_, packs_before) = fx.own_objects(&mirror);

    refresh_the_mirror(&fx, cache);
    let (_, packs_after) = fx.own_objects(&mirror);
    assert_eq!(
        packs_after,
        packs_before + 1,
        "the fetch's pack was repacked: a gc ran"
    );
    std::fs::remove_file(fx.home.join(".gitconfig")).unwrap();
    assert_checkout_works(&fx, &liba, &feature);
}
