//! The record a run keeps in the workspace lock file, read as a later run
//! reads it: who holds the lock and since when, and every git process it
//! started, however long the record grows. (Taking and refusing the lock is
//! in `trust_faults.rs`; cleaning up after a run that did not finish, in
//! `interrupts.rs`.)

use crate::common;
use crate::trust_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{hostname, stderr, text, Fixture};
use trust_support::start_blocked;

const LOCK: &str = ".openxla_workspace.lock";

/// `SECONDS.NANOS` since the epoch, as the lock file writes times.
fn parse_time(text: &str) -> SystemTime {
    let (secs, nanos) = text.split_once('.').expect("SECONDS.NANOS");
    assert_eq!(nanos.len(), 9, "{text}");
    UNIX_EPOCH + Duration::new(secs.parse().unwrap(), nanos.parse().unwrap())
}

#[test]
fn the_lock_file_names_the_run_when_it_started_and_each_git_process_it_started() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    // This test's clock, not anything the run says, bounds its start.
    let before = SystemTime::now();
    // One git process at a time: the one it waits for is the last started.
    let blocked = start_blocked(&fx, &app, "cat-file", &["-j", "1", "sync"]);
    let after = SystemTime::now();
    // The run records a git process just after starting it, which may be
    // after that git has told this test it is waiting.
    let waiting = format!("child={} ", blocked.git_pid);
    let started = std::time::Instant::now();
    let mut record = std::fs::read_to_string(fx.ws.join(LOCK)).unwrap();
    let last_is_waiting = |record: &str| record.lines().last().is_some_and(|l| l.starts_with(&waiting));
    while !last_is_waiting(&record) && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
        record = std::fs::read_to_string(fx.ws.join(LOCK)).unwrap();
    }
    let lines: Vec<&str> = record.lines().collect();
    assert_eq!(
        lines[..3],
        [
            format!("pid={}", blocked.child.id()),
            format!("host={}", hostname()),
            "command=sync".to_string()
        ],
        "{record}"
    );
    let since = parse_time(lines[3].strip_prefix("since=").expect(&record));
    assert!(
        before <= since && since <= after,
        "the run started between {before:?} and {after:?}, its lock file says {since:?}:\n{record}"
    );
    // Then two lines per git process, the last the one it is waiting for:
    // before it starts, when and where; once started, its pid with them.
    let (starting, started): (Vec<&str>, Vec<&str>) =
        lines[4..].iter().partition(|l| l.starts_with("starting="));
    let mut before_each: Vec<&str> = starting.iter().map(|l| &l["starting=".len()..]).collect();
    let mut once_started: Vec<&str> = started
        .iter()
        .map(|l| l.split_once(' ').map_or("", |(_, place)| place))
        .collect();
    before_each.sort_unstable();
    once_started.sort_unstable();
    assert_eq!(before_each, once_started, "{record}");
    let children: Vec<u32> = started
        .iter()
        .map(|l| {
            let fields: Vec<&str> = l.strip_prefix("child=").expect(&record).split(' ').collect();
            let at = UNIX_EPOCH + Duration::from_millis(fields[1].parse().unwrap());
            assert!(
                since <= at + Duration::from_millis(1) && at <= SystemTime::now(),
                "{record}"
            );
            assert!(["liba", "libb", "base", "app"].contains(&fields[2]), "{record}");
            fields[0].parse().unwrap()
        })
        .collect();
    assert_eq!(children.last(), Some(&blocked.git_pid), "{record}");
    blocked.kill_9();
}

/// A run over a big workspace starts hundreds of git processes: one still
/// running that the record names late, after many that ended, holds off
/// the next run as the first would.
#[test]
fn a_git_process_still_running_holds_off_the_next_run_wherever_the_record_names_it() {
    let fx = Fixture::synced();
    let mut ended = std::process::Command::new("true").spawn().unwrap();
    let dead = ended.id();
    ended.wait().unwrap();
    let mut git = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() - 1;
    let mut record = format!("pid={dead}\nhost={}\ncommand=sync\nsince={since}.0\n", hostname());
    // Past the first 4 KiB, whatever the length of the pids.
    while record.len() < 5000 {
        record.push_str(&format!("child={dead}\n"));
    }
    record.push_str(&format!("child={}\n", git.id()));
    assert!(record.len() > 4096, "{}", record.len());
    std::fs::write(fx.ws.join(LOCK), &record).unwrap();

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: the previous run (process {dead} on {} running `sync`) was stopped, but git process {} it \
             started is still running; run again once it has finished (nothing was changed)\n",
            hostname(),
            git.id()
        )
    );
    assert_eq!(std::fs::read_to_string(fx.ws.join(LOCK)).unwrap(), record);

    git.kill().unwrap();
    git.wait().unwrap();
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!fx.ws.join(LOCK).exists());
}

/// A git process that ignores Ctrl-C is killed once the grace period is
/// over, and may have left its lock files, whatever it was doing: here a
/// fetch, with no checkout under way. The run releases the lock but keeps
/// its record in the file, so the next run knows that run did not finish
/// and cleans up after it.
#[test]
fn a_run_that_had_to_kill_a_fetch_on_ctrl_c_leaves_its_record_for_the_next_run() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let new_liba = fx.push("liba", "main", &[("new.txt", "new\n")], "liba: new commit");
    trust_support::pin_app(&fx, &app, &new_liba, fx.id("LIBB_2"));
    let left = fx.ws.join("liba/.git/shallow.lock");
    let grace = common::TEST_GRACE_MS.to_string();
    let blocked = trust_support::start_blocked_with(
        &fx,
        &app,
        "fetch",
        &["-j", "1", "sync"],
        &[
            ("TRUST_GIT_IGNORE_INT", std::ffi::OsStr::new("1")),
            ("TRUST_GIT_LEAVE_LOCK", left.as_os_str()),
            (common::TEST_GRACE_VAR, std::ffi::OsStr::new(&grace)),
        ],
    );
    let trust_support::Blocked { mut child, .. } = blocked;
    // SAFETY: sends SIGINT to the tool this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(left.exists());
    let record = std::fs::read_to_string(fx.ws.join(LOCK)).unwrap();
    assert!(record.starts_with(&format!("pid={}\n", child.id())), "{record}");

    let out = fx.run(&app, &["-q", "sync"]);
    assert_eq!(
        (out.status.code(), fx.normalise(&stderr(&out))),
        (
            Some(0),
            format!(
                "warning: liba: removed .git/shallow.lock, a git lock file left by process {} on {} running \
                 `sync`, which did not finish\n\
                 warning: base: using {} (pinned by liba); libb pins {}\n\
                 sync app: 1 moved, 2 already at pin in TIME\n",
                child.id(),
                hostname(),
                common::short(fx.id("BASE_2")),
                common::short(fx.id("BASE_3")),
            )
        )
    );
    assert!(!left.exists());
    assert!(!fx.ws.join(LOCK).exists());
    assert_eq!(fx.head("liba"), new_liba);
}

/// Finding the workspace asks git about a marker only when the marker lies
/// in a git work tree (whether git tracks it): in a workspace outside any
/// repository, commands that need nothing from git start none.
#[test]
fn finding_a_workspace_outside_any_repository_starts_no_git() {
    let fx = Fixture::new();
    let bin = trust_support::fake_git_dir(&fx);
    let log = fx.tmp.path().join("git.log");
    for args in [&["list"][..], &["config"], &["init"]] {
        let out = fx
            .cmd(&fx.ws)
            .args(args)
            .env("PATH", trust_support::path_with(&bin))
            .env("TRUST_GIT_LOG", &log)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), "", "{args:?}");
    }
}

/// A dry run reads what a run that did not finish left under a shared lock
/// of a moment: a real run starting in that moment waits for it, instead
/// of taking the dry run for a run holding the workspace.
#[test]
fn a_run_waits_out_a_dry_runs_moment_on_the_lock_file() {
    let fx = Fixture::synced();
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() - 1;
    std::fs::write(
        fx.ws.join(LOCK),
        format!("pid=999999\nhost={}\ncommand=sync\nsince={since}.0\n", hostname()),
    )
    .unwrap();
    let reader = std::fs::File::open(fx.ws.join(LOCK)).unwrap();
    reader.lock_shared().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(80));
        drop(reader);
    });
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    release.join().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains("the previous run (process 999999"),
        "{}",
        text(&out)
    );
}
