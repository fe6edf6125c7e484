//! A run killed inside its submodule step is healed by one rerun, and
//! what the rerun reports as done is true: every submodule at its recorded
//! commit with its objects (`git fsck --connectivity-only` clean).

use crate::common;
use crate::trust_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{text, Fixture};
use trust_support::*;

/// A git exec path whose `git` kills the run's whole process group (`kill
/// -9 0`, as a kill of the terminal's job does) when the clone of a
/// submodule starts, right after making that clone's git folder under
/// `.git/modules` as git does first, before it writes a HEAD there: the
/// state a kill at that moment leaves. Every other call runs the real git.
fn killing_exec_path(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let (real, path) = mirrored_exec_path(dir, "kill-exec-path", &["git"]);
    let script = format!(
        r#"#!/bin/sh
prev=
for arg in "$@"; do
    if [ "$prev" = "--separate-git-dir" ]; then
        mkdir -p "$arg/objects/pack" "$arg/refs"
        kill -9 0
    fi
    prev="$arg"
done
exec '{real}/git' "$@"
"#
    );
    let file = path.join("git");
    std::fs::write(&file, script).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A git exec path whose `git`, after an `unpack-objects` or `index-pack`
/// run in a folder whose path holds `place` has stored a pack's objects
/// (not an empty pack),
/// kills the run's whole process group before that process returns: the
/// objects arrived, and git never got to record what it fetched (the
/// shallow boundary, the refs). Every other call runs the real git.
fn killing_after_pack_exec_path(dir: &Path, place: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let (real, path) = mirrored_exec_path(dir, "pack-exec-path", &["git"]);
    let script = format!(
        r#"#!/bin/sh
case "$PWD $*" in
    *unpack-objects*pack_header=2,0*) ;;
    *{place}*" unpack-objects "*|*{place}*" index-pack "*)
        '{real}/git' "$@"
        status=$?
        kill -9 0
        exit $status ;;
esac
exec '{real}/git' "$@"
"#
    );
    let file = path.join("git");
    std::fs::write(&file, script).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Runs `args` in `dir` through `exec_path`, in a process group of its own,
/// until that group has ended; returns whether the tool was killed.
fn run_killed(fx: &Fixture, dir: &Path, args: &[&str], exec_path: &Path) -> bool {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut child = fx
        .cmd(dir)
        .args(args)
        .env("PATH", path_with(exec_path))
        .env("GIT_EXEC_PATH", exec_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let group = child.id();
    let status = child.wait().unwrap();
    kill_group(group);
    status.signal() == Some(9)
}

#[test]
fn a_submodule_git_folder_killed_before_its_head_was_written_is_made_again_by_one_rerun() {
    let fx = Fixture::synced();
    let liba = fx.ws.join("liba");
    // subx gone as if never cloned: the sync clones it again.
    fx.git(&liba, &["submodule", "deinit", "-q", "-f", "third_party/subx"]);
    std::fs::remove_dir_all(liba.join(".git/modules/third_party/subx")).unwrap();

    let exec_path = killing_exec_path(fx.tmp.path());
    assert!(
        run_killed(&fx, &fx.ws.join("app"), &["sync"], &exec_path),
        "killed in the submodule clone"
    );
    let module = liba.join(".git/modules/third_party/subx");
    assert!(
        module.is_dir() && !module.join("HEAD").exists(),
        "half made, as the kill left it"
    );

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let subx = liba.join("third_party/subx");
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_2"));
    for repo in [&liba, &subx, &liba.join("third_party/suby")] {
        fx.git(repo, &["fsck", "--connectivity-only", "--no-progress"]);
        assert_eq!(fx.git(repo, &["status", "--porcelain"]), "", "{}", repo.display());
    }
}

#[test]
fn a_submodule_fetch_killed_after_its_objects_arrived_is_fetched_again_not_taken_as_done() {
    let fx = Fixture::synced();
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["submodule", "deinit", "-q", "-f", "third_party/subx"]);
    std::fs::remove_dir_all(liba.join(".git/modules/third_party/subx")).unwrap();

    // The clone brings subx's tip (SUBX_3) one commit deep, then fetches the
    // commit liba records (SUBX_2), one deep: killed once that arrived.
    let exec_path = killing_after_pack_exec_path(fx.tmp.path(), "third_party/subx");
    assert!(
        run_killed(&fx, &fx.ws.join("app"), &["sync"], &exec_path),
        "killed in the submodule fetch"
    );
    let module = liba.join(".git/modules/third_party/subx");
    let walk = common::hermetic(std::process::Command::new("git"), &fx.home)
        .arg("--git-dir")
        .arg(&module)
        .args(["rev-list", "--max-count=2", fx.id("SUBX_2"), "--"])
        .output()
        .unwrap();
    assert!(
        !walk.status.success(),
        "SUBX_2 there without its history: {}",
        text(&walk)
    );

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let subx = liba.join("third_party/subx");
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_2"));
    fx.git(&subx, &["log", "--oneline"]);
    for repo in [&liba, &subx, &liba.join("third_party/suby")] {
        fx.git(repo, &["fsck", "--connectivity-only", "--no-progress"]);
        assert_eq!(fx.git(repo, &["status", "--porcelain"]), "", "{}", repo.display());
    }
}

#[test]
fn a_submodule_moved_by_a_shallow_fetch_killed_after_its_objects_arrived_is_not_taken_as_done() {
    let fx = Fixture::synced();
    // Upstream subx goes two commits on; liba records the last, app pins
    // that liba: the sync moves subx there, fetching it one commit deep.
    fx.push("subx", "main", &[("four.txt", "4\n")], "subx: four");
    let five = fx.push("subx", "main", &[("five.txt", "5\n")], "subx: five");
    let work = fx.tmp.path().join("liba-work");
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            fx.remote("liba").to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    let gitlink = format!("160000,{five},third_party/subx");
    fx.git(&work, &["update-index", "--cacheinfo", &gitlink]);
    fx.git(&work, &["commit", "-q", "-m", "liba: subx to five"]);
    fx.git(&work, &["push", "-q", "origin", "HEAD:main"]);
    let liba_next = fx.git(&work, &["rev-parse", "HEAD"]);
    pin_app(&fx, &fx.ws.join("app"), &liba_next, fx.id("LIBB_2"));

    let exec_path = killing_after_pack_exec_path(fx.tmp.path(), "third_party/subx");
    let args = ["sync", "--depth", "1"];
    assert!(
        run_killed(&fx, &fx.ws.join("app"), &args, &exec_path),
        "killed in subx's fetch"
    );
    let liba = fx.ws.join("liba");
    let module = liba.join(".git/modules/third_party/subx");
    let walk = common::hermetic(std::process::Command::new("git"), &fx.home)
        .arg("--git-dir")
        .arg(&module)
        .args(["rev-list", "--max-count=2", &five, "--"])
        .output()
        .unwrap();
    assert!(
        !walk.status.success(),
        "five there without its history: {}",
        text(&walk)
    );

    let out = fx.run(&fx.ws.join("app"), &args);
    assert!(out.status.success(), "{}", text(&out));
    let subx = liba.join("third_party/subx");
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), five);
    fx.git(&subx, &["log", "--oneline"]);
    for repo in [&liba, &subx, &liba.join("third_party/suby")] {
        fx.git(repo, &["fsck", "--connectivity-only", "--no-progress"]);
        assert_eq!(fx.git(repo, &["status", "--porcelain"]), "", "{}", repo.display());
    }
}
