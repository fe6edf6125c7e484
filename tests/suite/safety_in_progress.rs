//! A git operation the user has under way in a dep or a submodule (a
//! rebase stopped to edit a commit, a merge, a bisect…) refuses the whole
//! run of `sync`, `checkout --sync` and the generated `sync_deps.py`
//! before anything changes, naming each and how to end it; `status` shows
//! it. Moving HEAD under a rebase makes `git rebase --continue` drop the
//! user's commits, and a checkout deletes `MERGE_HEAD`.

use crate::common;
use crate::trust_support;

use std::path::Path;
use std::process::Command;

use common::{hermetic, stderr, stdout, text, Fixture};
use trust_support::*;

/// In the checkout `dir`: a branch `mine` with two commits of the user's,
/// then `git rebase -i` told to stop at the first to edit it, as a user
/// does; returns the two commits' subjects.
fn rebase_stopped_to_edit(fx: &Fixture, dir: &Path) {
    fx.git(dir, &["checkout", "-q", "-b", "mine"]);
    commit_files(fx, dir, &[("mine-1.txt", "one\n")], "my first");
    commit_files(fx, dir, &[("mine-2.txt", "two\n")], "my second");
    let out = hermetic(Command::new("git"), &fx.home)
        .current_dir(dir)
        .args(["rebase", "-i", "HEAD~2"])
        .env("GIT_SEQUENCE_EDITOR", "sed -i -e '1s/^pick/edit/'")
        .output()
        .unwrap();
    assert!(out.status.success(), "rebase -i: {}", text(&out));
    assert!(dir.join(".git/rebase-merge").is_dir());
}

/// In the checkout `dir`: a branch `mine` from `from` with a commit of the
/// user's and `git merge --no-ff --no-commit` of `other` on top, not yet
/// committed.
fn merge_not_committed(fx: &Fixture, dir: &Path, from: &str, other: &str) {
    fx.git(dir, &["checkout", "-q", "-b", "mine", from]);
    commit_files(fx, dir, &[("mine.txt", "mine\n")], "my work");
    fx.git(dir, &["merge", "-q", "--no-ff", "--no-commit", other]);
    assert!(dir.join(".git/MERGE_HEAD").is_file());
}

#[test]
fn sync_refuses_to_move_anything_while_a_dep_has_a_rebase_stopped_to_edit() {
    let fx = Fixture::synced();
    let liba = fx.ws.join("liba");
    rebase_stopped_to_edit(&fx, &liba);
    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "-q", fx.id("LIBB_1")]);
    let before = (work_state(&fx, &liba), fx.head("libb"));

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        fx.normalise(&stderr(&out)),
        "error: liba: sync would move it, but a rebase is under way in WS/liba (rebase-merge in its git \
         directory); finish it with `git rebase --continue` or abort it with `git rebase --abort` there\nerror: sync changed nothing: a git operation is under way in a project it would move (liba); \
         end it as said above, then run sync again\n"
    );
    // Nothing moved, libb included: the whole run was refused.
    assert_eq!((work_state(&fx, &liba), fx.head("libb")), before);

    // The rebase goes on as if the sync had never run: both commits kept.
    fx.git(&liba, &["rebase", "--continue"]);
    let log = fx.git(&liba, &["log", "--format=%s", "-2", "mine"]);
    assert_eq!(log, "my second\nmy first");

    // Once it has ended, sync moves liba (off the user's branch, which
    // keeps the commits).
    fx.ok(&["sync", "--repo", "app"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
}

#[test]
fn sync_over_a_merge_not_committed_keeps_merge_head_and_status_shows_it() {
    let fx = Fixture::synced();
    let libb = fx.ws.join("libb");
    merge_not_committed(&fx, &libb, "HEAD", fx.id("LIBB_3"));
    let merge_head = read_merge_head(&libb);

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    let err = fails(&out);
    assert!(
        err.contains("libb: sync would move it, but a merge is under way in")
            && err.contains("finish it with `git commit` (or `git merge --continue`) or abort it with `git merge --abort`"),
        "{err}"
    );
    assert_eq!(read_merge_head(&libb), merge_head, "MERGE_HEAD is the user's");

    let out = fx.run(&fx.ws.join("app"), &["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = doc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "libb")
        .unwrap()
        .clone();
    assert_eq!(row["in_progress"], serde_json::json!(["merge"]), "{row}");
    assert!(
        row["state"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("in_progress")),
        "{row}"
    );
    let table = stdout(&fx.run(&fx.ws.join("app"), &["status"]));
    let line = table.lines().find(|l| l.starts_with("libb ")).unwrap();
    assert!(line.contains("merge in progress"), "{table}");

    // The merge finished, the sync goes on.
    fx.git(&libb, &["commit", "-q", "--no-edit"]);
    fx.ok(&["sync", "--repo", "app"]);
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
}

fn read_merge_head(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(".git/MERGE_HEAD")).expect("MERGE_HEAD is still there")
}

#[test]
fn a_bisect_in_a_submodule_refuses_the_sync_unless_that_submodule_is_excluded() {
    let fx = Fixture::synced();
    let subx = fx.ws.join("liba/third_party/subx");
    fx.git(&subx, &["bisect", "start"]);
    fx.git(&fx.ws.join("liba"), &["checkout", "-q", fx.id("LIBA_1")]);

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    let err = fails(&out);
    assert!(
        err.contains(&format!(
            "liba: sync would move it, but submodule third_party/subx: a bisect is under way in {} \
             (BISECT_LOG in its git directory); end it with `git bisect reset` there",
            subx.display()
        )),
        "{err}"
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_1"));
    let out = fx.run(&fx.ws.join("app"), &["status"]);
    assert!(
        stdout(&out).contains("bisect in third_party/subx in progress"),
        "{}",
        text(&out)
    );

    // Left out, it is not the run's to move: the sync goes on.
    fx.ok(&[
        "sync",
        "--repo",
        "app",
        "--exclude-submodule",
        "liba:third_party/subx",
    ]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert!(subx
        .join("../../.git/modules/third_party/subx/BISECT_LOG")
        .exists());
}

#[test]
fn checkout_sync_refuses_before_cloning_anything() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "liba"]);
    let liba = fx.ws.join("liba");
    merge_not_committed(&fx, &liba, fx.id("LIBA_1"), "main");

    let out = fx.run(&fx.ws, &["checkout", "--sync", "app"]);
    let err = fails(&out);
    assert!(
        err.contains("liba: checkout --sync would move it, but a merge is under way"),
        "{err}"
    );
    assert!(
        !fx.ws.join("app").exists() && !fx.ws.join("base").exists(),
        "nothing cloned"
    );
}

#[test]
fn sync_deps_py_refuses_while_a_dep_has_a_rebase_under_way() {
    let fx = Fixture::synced();
    fx.ok(&["pin", "--repo", "app"]);
    let liba = fx.ws.join("liba");
    rebase_stopped_to_edit(&fx, &liba);
    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "-q", fx.id("LIBB_1")]);
    let before = (work_state(&fx, &liba), fx.head("libb"));

    let out = hermetic(Command::new("python3"), &fx.home)
        .current_dir(fx.ws.join("app"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("sync_deps.py")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        fx.normalise(&stderr(&out)),
        "liba: sync_deps.py would move it, but a rebase is under way in WS/liba (rebase-merge in its git \
         directory); finish it with `git rebase --continue` or abort it with `git rebase --abort` there\n\
         sync_deps.py: nothing was changed: a git operation is under way in 1 of the dependencies it would \
         move; end each as said above, then run again\n"
    );
    assert_eq!((work_state(&fx, &liba), fx.head("libb")), before);
    fx.git(&liba, &["rebase", "--continue"]);
    assert_eq!(
        fx.git(&liba, &["log", "--format=%s", "-2", "mine"]),
        "my second\nmy first"
    );
}
