//! Results on stdout when nobody reads them any more (`| head -1`): the
//! run is neither killed by SIGPIPE nor panics, says nothing about it, and
//! exits with its own status.

use crate::common;

use common::Fixture;
use std::process::{Command, Stdio};

/// Runs `cmd` with a stdout whose reading end is already closed, so that
/// the first write fails with a broken pipe; returns (exit code, stderr).
fn with_closed_stdout(mut cmd: Command) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = cmd
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_reader_that_went_away_ends_nothing_and_the_run_keeps_its_exit_status() {
    let fx = Fixture::after(&["checkout", "app"]);
    let app = fx.ws.join("app");
    let times = regex::Regex::new(r"in \d+\.\ds").unwrap();
    for args in [
        &["--version"][..],
        &["completions", "bash"],
        &["list"],
        &["list", "--json"],
        &["grep", "liba"],
        // With -j 1 the command writes to stdout itself (and git dies of
        // the broken pipe, as it would run by hand); with more, the tool
        // prints each project's block.
        &["foreach", "-j", "2", "--", "git", "rev-parse", "HEAD"],
        &["foreach", "--dry-run", "--", "git", "status"],
    ] {
        let mut cmd = fx.cmd(&app);
        cmd.args(args);
        let (code, stderr) = with_closed_stdout(cmd);
        // Killed by SIGPIPE: no code; a panic on the failed write: 101.
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        // Nothing more said than when stdout is read (the summary's time
        // aside).
        let read = fx.run(&app, args);
        assert_eq!(
            times.replace_all(&stderr, "in Ns"),
            times.replace_all(&String::from_utf8_lossy(&read.stderr), "in Ns"),
            "{args:?}"
        );
    }
    // A failing command keeps its failure.
    let mut cmd = fx.cmd(&app);
    cmd.args([
        "foreach",
        "-j",
        "2",
        "--",
        "git",
        "rev-parse",
        "--verify",
        "no-such-ref",
    ]);
    let (code, _) = with_closed_stdout(cmd);
    assert_eq!(code, Some(1));
}

#[test]
fn a_stdout_that_cannot_be_written_is_said_once_and_the_run_goes_on() {
    let fx = Fixture::after(&["checkout", "app"]);
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = fx
        .cmd(&fx.ws.join("app"))
        .args(["foreach", "-j", "2", "--", "git", "rev-parse", "HEAD"])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(
        warnings,
        ["warning: could not write to standard output (No space left on device (os error 28)); the rest of the \
          output is lost, the run goes on"],
        "{stderr}"
    );
}
