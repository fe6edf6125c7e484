//! Never losing work (issue 7): uncommitted changes (staged, unstaged,
//! untracked) survive every command; commits on local branches and detached
//! commits stay reachable; a sync that cannot proceed in one project leaves
//! that project exactly as it was. Each of `sync`, `checkout --sync` and
//! `roll --sync` meets the same workspace full of work in progress:
//!
//! - liba is on a local branch `feature` with a commit of its own, and has a
//!   staged new file, an unstaged edit and an untracked file, none of which
//!   the move to its pin touches: they must come along;
//! - libb is detached at an old commit and has an untracked `sync_deps.py`
//!   that the pinned commit would overwrite: git refuses, libb stays as is;
//! - base is detached at a commit no branch contains, with changes of every
//!   kind: moving it would orphan the commit, so it stays as is;
//! - app (the project synced from) and a submodule of liba hold untracked
//!   files.

use crate::common;
use crate::trust_support;

use std::path::Path;
use std::process::Output;

use common::{read, stderr, text, Fixture};
use trust_support::*;

/// The work in progress, and what each project looked like before.
struct Work {
    feature_commit: String,
    base_commit: String,
    libb_before: String,
    base_before: String,
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn work_in_progress(fx: &Fixture) -> Work {
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["checkout", "-q", "-b", "feature"]);
    let feature_commit = commit_files(fx, &liba, &[("feature.txt", "my feature\n")], "feature work");
    write(&liba.join("staged.txt"), "staged work\n");
    fx.git(&liba, &["add", "staged.txt"]);
    write(&liba.join("README.md"), "# liba\n\nmy unstaged edit\n");
    write(&liba.join("notes.txt"), "untracked notes\n");
    write(
        &liba.join("third_party/suby/scratch.txt"),
        "untracked in a submodule\n",
    );

    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "-q", "--detach", fx.id("LIBB_1")]);
    write(&libb.join("sync_deps.py"), "# my own notes, not the pins\n");
    write(&libb.join("README.md"), "# libb\n\nunstaged in libb\n");

    let base = fx.ws.join("base");
    fx.git(&base, &["checkout", "-q", "--detach"]);
    let base_commit = commit_files(
        fx,
        &base,
        &[("experiment.txt", "detached experiment\n")],
        "experiment",
    );
    write(&base.join("base.txt"), "unstaged edit of base\n");
    write(&base.join("staged-in-base.txt"), "staged in base\n");
    fx.git(&base, &["add", "staged-in-base.txt"]);
    write(&base.join("untracked-in-base.txt"), "untracked in base\n");

    write(&fx.ws.join("app/app-notes.txt"), "untracked in app\n");

    Work {
        feature_commit,
        base_commit,
        libb_before: work_state(fx, &libb),
        base_before: work_state(fx, &base),
    }
}

/// What must hold after any of the three commands, with liba moved to
/// `liba_pin`.
fn assert_no_work_lost(fx: &Fixture, work: &Work, out: &Output, liba_pin: &str) {
    let err = fails(out);
    // libb: refused by git, reported, untouched.
    assert!(
        err.contains("error: libb: local changes in") && err.contains("would be overwritten"),
        "{}",
        text(out)
    );
    assert_eq!(
        work_state(fx, &fx.ws.join("libb")),
        work.libb_before,
        "libb changed"
    );
    // base: refused by us, reported with how to keep the commit, untouched.
    assert!(
        err.contains("error: base: HEAD is at") && err.contains("a detached commit that no branch contains"),
        "{}",
        text(out)
    );
    assert!(
        err.contains(&format!("branch keep-{}", &work.base_commit[..7])),
        "{err}"
    );
    assert_eq!(
        work_state(fx, &fx.ws.join("base")),
        work.base_before,
        "base changed"
    );
    assert_eq!(fx.head("base"), work.base_commit);

    // liba: moved, with all its work carried along and its commit on its branch.
    let liba = fx.ws.join("liba");
    assert_eq!(fx.head("liba"), liba_pin);
    assert_eq!(
        fx.git(&liba, &["rev-parse", "refs/heads/feature"]),
        work.feature_commit
    );
    assert!(on_a_branch(fx, &liba, &work.feature_commit));
    assert_eq!(fx.git(&liba, &["diff", "--cached", "--name-only"]), "staged.txt");
    assert_eq!(read(&liba.join("staged.txt")), "staged work\n");
    assert_eq!(fx.git(&liba, &["diff", "--name-only"]), "README.md");
    assert_eq!(read(&liba.join("README.md")), "# liba\n\nmy unstaged edit\n");
    assert_eq!(read(&liba.join("notes.txt")), "untracked notes\n");
    assert_eq!(
        read(&liba.join("third_party/suby/scratch.txt")),
        "untracked in a submodule\n"
    );
    assert_eq!(read(&fx.ws.join("app/app-notes.txt")), "untracked in app\n");
    // Nothing was stashed or reset on anyone's behalf.
    for name in ["app", "liba", "libb", "base"] {
        assert_eq!(raw_git(fx, &fx.ws.join(name), &["stash", "list"]), "", "{name}");
    }
}

#[test]
fn sync_keeps_every_change_and_every_commit() {
    let fx = checked_out();
    let work = work_in_progress(&fx);
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert_no_work_lost(&fx, &work, &out, fx.id("LIBA_2"));
}

#[test]
fn checkout_sync_keeps_every_change_and_every_commit() {
    let fx = checked_out();
    let work = work_in_progress(&fx);
    let out = fx.run(&fx.ws, &["checkout", "--sync", "app"]);
    assert!(
        stderr(&out).contains("Skipping checkout of liba (already exists)"),
        "{}",
        text(&out)
    );
    assert_no_work_lost(&fx, &work, &out, fx.id("LIBA_2"));
}

#[test]
fn roll_sync_keeps_every_change_and_every_commit() {
    let fx = checked_out();
    let work = work_in_progress(&fx);
    // The fixture's nightly schedule moves app's pins of liba and libb to
    // their branch tips; liba@3 still pins base@2.
    let out = fx.run(&fx.ws.join("app"), &["roll", "nightly", "--sync"]);
    let pins = read(&fx.ws.join("app/sync_deps.py"));
    assert!(
        pins.contains(fx.id("LIBA_3")) && pins.contains(fx.id("LIBB_3")),
        "{}",
        text(&out)
    );
    assert_no_work_lost(&fx, &work, &out, fx.id("LIBA_3"));
}

#[test]
fn sync_force_never_discards_uncommitted_changes() {
    let fx = checked_out();
    let work = work_in_progress(&fx);
    let out = fx.run(&fx.ws.join("app"), &["sync", "--force"]);
    let err = fails(&out);
    // --force lets sync move a detached commit, nothing more: git still
    // refuses to overwrite base's edit of base.txt and libb's untracked file.
    for name in ["base", "libb"] {
        assert!(err.contains(&format!("error: {name}: local changes in")), "{err}");
    }
    assert_eq!(work_state(&fx, &fx.ws.join("base")), work.base_before);
    assert_eq!(work_state(&fx, &fx.ws.join("libb")), work.libb_before);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
}

#[test]
fn sync_in_a_dep_in_the_middle_of_a_merge_leaves_it_as_it_was() {
    let fx = checked_out();
    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "-q", "-b", "other", fx.id("LIBB_2")]);
    commit_files(&fx, &libb, &[("libb.txt", "other version\n")], "other");
    fx.git(&libb, &["checkout", "-q", "main"]);
    let merge = hermetic_git(&fx, &libb, &["merge", "other"]);
    assert!(!merge.status.success(), "the merge was meant to conflict");
    let before = work_state(&fx, &libb);
    let merge_head = read(&libb.join(".git/MERGE_HEAD"));
    let others = (fx.head("liba"), fx.head("base"));

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    let err = fails(&out);
    assert!(
        err.contains("error: libb: sync would move it, but a merge is under way"),
        "{err}"
    );
    assert_eq!(work_state(&fx, &libb), before);
    assert_eq!(read(&libb.join(".git/MERGE_HEAD")), merge_head);
    // A git operation under way refuses the whole run (issue 22): the
    // others are left as they were too.
    assert_eq!((fx.head("liba"), fx.head("base")), others);
}

#[test]
fn sync_keeps_a_local_commit_in_a_submodule() {
    let fx = checked_out();
    let subx = fx.ws.join("liba/third_party/subx");
    let local = commit_files(
        &fx,
        &subx,
        &[("local.txt", "submodule work\n")],
        "local work in subx",
    );
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    // liba itself moves; its submodule's own commit must not be orphaned.
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"), "{}", text(&out));
    let reachable = raw_git(
        &fx,
        &subx,
        &["for-each-ref", "--contains", &local, "--format=%(refname)"],
    );
    let head = fx.git(&subx, &["rev-parse", "HEAD"]);
    assert!(
        head == local || !reachable.trim().is_empty(),
        "the submodule's commit {local} is no longer reachable:\n{}",
        text(&out)
    );
}

fn hermetic_git(fx: &Fixture, dir: &Path, args: &[&str]) -> Output {
    common::hermetic(std::process::Command::new("git"), &fx.home)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn sync_keeps_an_ignored_file_that_the_pinned_commit_tracks() {
    let fx = checked_out();
    let base = fx.ws.join("base");
    // base one commit before its pin, with a local file git ignores where
    // the pinned commit adds a tracked one.
    fx.git(&base, &["checkout", "-q", "--detach", fx.id("BASE_1")]);
    write(&base.join("include/base_2.h"), "// my local, ignored header\n");
    write(&base.join(".git/info/exclude"), "include/base_2.h\n");
    let before = work_state(&fx, &base);

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert_eq!(
        read(&base.join("include/base_2.h")),
        "// my local, ignored header\n",
        "sync overwrote an ignored file:\n{}",
        text(&out)
    );
    let err = fails(&out);
    assert!(err.contains("error: base: local changes in"), "{err}");
    assert_eq!(work_state(&fx, &base), before);
}
