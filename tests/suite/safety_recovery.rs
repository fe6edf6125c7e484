//! Recovery after a run that did not finish stays in its lane: it removes
//! only the git lock files that run's own git processes left (where they
//! worked, while it ran, held by nobody), never acts through a project
//! folder that is a symbolic link, and acts only on the interrupted run's
//! own checkout records, never on bytes written after it stopped.

use crate::common;
use crate::trust_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{hostname, stderr, stdout, text, Fixture};
use trust_support::*;

/// How long after its last heartbeat a stopped run may still have
/// written (`crate::exec::run_window::SLACK`), and a margin: a change made this
/// long after the kill is the user's, by the clock.
const AFTER_THE_RUN: Duration = Duration::from_millis(1500);

/// [`Fixture::synced`] with liba moved off its pin (to LIBA_1, which
/// its branch holds), so that a sync checks it out.
fn liba_off_its_pin() -> Fixture {
    let fx = Fixture::synced();
    fx.git(&fx.ws.join("liba"), &["checkout", "-q", fx.id("LIBA_1")]);
    fx
}

/// Kills `sync` (`kill -9` of the tool) while its checkout of liba runs,
/// that checkout leaving `liba/.git/HEAD.lock` as a git killed there does.
fn kill_sync_in_liba_checkout(fx: &Fixture) -> PathBuf {
    let ours = fx.ws.join("liba/.git/HEAD.lock");
    let blocked = start_blocked_with(
        fx,
        &fx.ws.join("app"),
        "checkout",
        &["sync"],
        &[("TRUST_GIT_LEAVE_LOCK", ours.as_os_str())],
    );
    blocked.kill_9();
    assert!(ours.exists());
    ours
}

#[test]
fn recovery_removes_the_lock_its_killed_run_left_but_not_one_taken_after_or_held_open() {
    let fx = liba_off_its_pin();
    // A process of the user's holding a lock file open since before the
    // run: not stale, whoever made it, even when its time alone would make
    // it the run's (set to the run's last stamp below: whether its making
    // and the run's start fall in one second is left to chance otherwise).
    let held = fx.ws.join("libb/.git/index.lock");
    let mut holder = std::process::Command::new("sleep")
        .arg("60")
        .stdout(std::fs::File::create(&held).unwrap())
        .spawn()
        .unwrap();
    let ours = kill_sync_in_liba_checkout(&fx);
    let stamp = std::fs::metadata(fx.ws.join(".openxla_workspace.lock"))
        .unwrap()
        .modified()
        .unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&held)
        .unwrap()
        .set_modified(stamp)
        .unwrap();
    // The user's own git takes a lock in base after the run stopped.
    std::thread::sleep(AFTER_THE_RUN);
    let users = fx.ws.join("base/.git/index.lock");
    std::fs::write(&users, "").unwrap();

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    assert!(!ours.exists(), "{err}");
    assert!(
        err.contains("liba: removed .git/HEAD.lock, a git lock file left by process"),
        "{err}"
    );
    assert!(users.exists(), "the user's lock was removed:\n{err}");
    assert!(held.exists(), "a lock held open was removed:\n{err}");
    assert!(
        err.contains(&format!(
            "libb: .git/index.lock is held open by process {}",
            holder.id()
        )),
        "{err}"
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
}

#[test]
fn recovery_never_cleans_through_a_project_folder_linked_outside_the_workspace() {
    let fx = liba_off_its_pin();
    let outside = fx.tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::rename(fx.ws.join("libb"), outside.join("libb")).unwrap();
    std::os::unix::fs::symlink(outside.join("libb"), fx.ws.join("libb")).unwrap();
    let theirs = outside.join("libb/.git/index.lock");
    std::fs::write(&theirs, "").unwrap();
    // Made while the run runs: its time alone would make it the run's.
    let ours = {
        let ours = fx.ws.join("liba/.git/HEAD.lock");
        let blocked = start_blocked_with(
            &fx,
            &fx.ws.join("app"),
            "checkout",
            &["sync"],
            &[("TRUST_GIT_LEAVE_LOCK", ours.as_os_str())],
        );
        std::fs::write(&theirs, "").unwrap();
        blocked.kill_9();
        ours
    };

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    let err = stderr(&out);
    assert!(theirs.exists(), "removed through the link:\n{}", text(&out));
    assert!(
        err.contains(&format!(
            "libb: {} is a symbolic link (to {}); nothing is cleaned up through it after the interrupted run",
            fx.ws.join("libb").display(),
            outside.join("libb").display()
        )),
        "{err}"
    );
    assert!(!ours.exists(), "{err}");
}

/// A path liba's LIBA_2 and LIBA_3 hold differently.
fn changed_by_liba_3(fx: &Fixture) -> String {
    let names = fx.git(
        &fx.ws.join("liba"),
        &["diff", "--name-only", fx.id("LIBA_2"), fx.id("LIBA_3"), "--", "."],
    );
    names
        .lines()
        .find(|n| !n.starts_with("third_party"))
        .unwrap()
        .to_string()
}

/// The user's edit in liba (at LIBA_2): `path` made, unstaged, exactly
/// what LIBA_3 has there, as `git restore --source` does.
fn edit_to_liba_3(fx: &Fixture, path: &str) -> String {
    let liba = fx.ws.join("liba");
    fx.git(
        &liba,
        &["restore", "--source", fx.id("LIBA_3"), "--worktree", "--", path],
    );
    read_file(&liba.join(path))
}

fn read_file(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The lock file a run stopped while checking out LIBA_3 over LIBA_2 in
/// liba would leave; `at`: the record's time field, as written.
fn record_left(fx: &Fixture, since_secs_ago: u64, at: Option<u128>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let since = now.as_secs() - since_secs_ago;
    let at = at.map(|ms| format!(" at={ms}")).unwrap_or_default();
    std::fs::write(
        fx.ws.join(".openxla_workspace.lock"),
        format!(
            "pid=999999\nhost={}\ncommand=sync\nsince={since}.0\ncheckout=0 {} {} liba{at}\n",
            hostname(),
            fx.id("LIBA_2"),
            fx.id("LIBA_3")
        ),
    )
    .unwrap();
}

#[test]
fn a_record_written_by_hand_or_left_by_an_older_run_never_puts_back_the_users_edit() {
    let fx = Fixture::synced();
    let path = changed_by_liba_3(&fx);
    let edit = edit_to_liba_3(&fx, &path);
    record_left(&fx, 60, None);

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!(
            "liba: dropped a record of a checkout of {} that is not the interrupted run's own",
            &fx.id("LIBA_3")[..7]
        )),
        "{}",
        text(&out)
    );
    assert_eq!(
        read_file(&fx.ws.join("liba").join(&path)),
        edit,
        "the user's edit was put back"
    );
}

#[test]
fn a_file_changed_after_the_interrupted_run_stopped_is_kept_even_when_it_is_the_checkouts_content() {
    let fx = Fixture::synced();
    let path = changed_by_liba_3(&fx);
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    record_left(&fx, 1, Some(at));
    std::thread::sleep(AFTER_THE_RUN);
    let edit = edit_to_liba_3(&fx, &path);

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    let err = stderr(&out);
    assert_eq!(
        read_file(&fx.ws.join("liba").join(&path)),
        edit,
        "put back:\n{err}"
    );
    assert!(
        err.contains(&format!(
            "liba: kept 1 file that the checkout of {} an interrupted run cut short would change",
            &fx.id("LIBA_3")[..7]
        )),
        "{err}"
    );
}

#[test]
fn pin_after_a_killed_pin_recovers_its_record_its_lock_and_its_half_written_pin_file() {
    let fx = Fixture::synced();
    let left = fx.ws.join("liba/.git/index.lock");
    // Stopped in liba's `git log`, which leaves the lock there: the git
    // of another dep may not have started yet, and a lock is removed only
    // where the interrupted run's git processes worked.
    let liba = fx.ws.join("liba").canonicalize().unwrap();
    let blocked = start_blocked_with(
        &fx,
        &fx.ws.join("app"),
        "log",
        &["pin"],
        &[
            ("TRUST_GIT_LEAVE_LOCK", left.as_os_str()),
            ("TRUST_GIT_BLOCK_IN", liba.as_os_str()),
        ],
    );
    let pid = blocked.child.id();
    blocked.kill_9();
    // Killed half way through writing the new pin file: its temporary
    // file is there, named after that run's pid.
    let half = fx.ws.join(format!("app/.sync_deps.py.{pid}-1.tmp"));
    std::fs::write(&half, "PINNED_VERS").unwrap();

    let out = fx.run(&fx.ws.join("app"), &["pin"]);
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    let run = format!("process {pid} on {} running `pin`", hostname());
    assert!(
        err.contains(&format!("the previous run ({run}) did not finish")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "liba: removed .git/index.lock, a git lock file left by {run}"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "app: removed .sync_deps.py.{pid}-1.tmp, a temporary file {run}"
        )),
        "{err}"
    );
    assert!(!left.exists() && !half.exists());
    let pins = read_file(&fx.ws.join("app/sync_deps.py"));
    assert!(
        pins.contains(fx.id("LIBA_2")) && pins.contains(fx.id("LIBB_2")),
        "written whole"
    );
    assert!(
        !fx.ws.join(".openxla_workspace.lock").exists(),
        "the run finished"
    );
}

/// A temporary clone folder an interrupted run left, of a project this run
/// does not clone: the dry run says it would go, and the run removes it
/// (not only says so).
#[test]
fn a_partial_clone_folder_left_behind_is_shown_by_the_dry_run_and_removed_by_the_run() {
    let fx = Fixture::synced();
    let partial = fx.ws.join(".openxla-partial-gone");
    std::fs::create_dir_all(partial.join("objects")).unwrap();
    std::fs::write(partial.join("objects/half"), "half a pack").unwrap();
    let dry = fx.run(&fx.ws.join("app"), &["--dry-run", "sync"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        stdout(&dry).starts_with(
            "first, what an interrupted run left is put right:\n  remove .openxla-partial-gone  (an unfinished \
             clone an interrupted run left behind)\nPins resolved"
        ),
        "{}",
        text(&dry)
    );
    assert!(partial.exists(), "a dry run changes nothing");
    let json = fx.run(&fx.ws.join("app"), &["--dry-run", "sync", "--json"]);
    let document: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("one JSON document");
    assert_eq!(
        document["recovery"],
        serde_json::json!([
            "first, what an interrupted run left is put right:",
            "  remove .openxla-partial-gone  (an unfinished clone an interrupted run left behind)"
        ]),
        "{}",
        text(&json)
    );
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out)
            .contains("removed .openxla-partial-gone, an unfinished clone an interrupted run left behind"),
        "{}",
        text(&out)
    );
    assert!(!partial.exists());
}
