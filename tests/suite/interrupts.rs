//! Every interruption heals with one rerun (issue 11): a run is killed at
//! its k-th git process, and one plain rerun must then leave the whole
//! workspace as an uninterrupted run does — every project and submodule at
//! its commit with all its files and nothing else, no temporary folder, no
//! lock file — with exit status 0. Both for `checkout --sync app` into an
//! empty workspace and for a `sync` that moves deps and submodules (one
//! added, two moved back, one fetched by id).
//!
//! The default run kills at one git process of each kind (see
//! [`kill_class`]: the same git command at the same step of the run, killed
//! the same way, leaves the same kind of state to repair); the exhaustive
//! sweeps, at every k from the first to the last git process of a run, and
//! before every file a checkout writes, are `#[ignore]`d: `cargo test --test
//! suite -- --ignored interrupts::` runs them.
//!
//! The git processes counted are all of them (see
//! `trust_support::counting_exec_path`): those the tool starts, those git
//! starts (the clones, fetches and checkouts of `git submodule update`), and
//! the server side of every transfer, at whose start the client is under
//! way (a half-received pack, `shallow.lock` held, a half-made
//! `.git/modules/X`). Killing the tool alone lets its git processes finish;
//! killing its process group stops every one of them where it is.
//!
//! Also: Ctrl-C ends the git processes, takes the live display off the
//! terminal, releases the lock and exits with 130; and lock files of a
//! killed run are removed by the precise rule of `src/exec/recover.rs`.

use crate::common;
use crate::trust_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use common::{hostname, stderr, text, Fixture};
use trust_support::*;

/// A workspace as the run under test finds it, and what it must become.
struct Scenario {
    name: &'static str,
    /// The workspace before the run (copied for each trial).
    start: PathBuf,
    /// The command, run in `start`'s `app` (or its root when absent).
    args: &'static [&'static str],
    in_app: bool,
    /// Where each project must end: (name, commit).
    expected: Vec<(&'static str, String)>,
}

/// Every project at its commit, every submodule of liba at the commit liba
/// records with all its files, nothing changed or left over anywhere. One
/// `git status` per project, which looks into its submodules too (a
/// submodule at another commit, with changes, files missing or extra ones
/// shows there); their index is checked from the files.
fn healed(fx: &Fixture, ws: &Path, expected: &[(&str, String)]) -> Result<(), String> {
    let mut problems = Vec::new();
    for (name, commit) in expected {
        let dir = ws.join(name);
        let status = raw_git(
            fx,
            &dir,
            &[
                "status",
                "--porcelain=v2",
                "--branch",
                "--ignore-submodules=none",
                "--untracked-files=all",
            ],
        );
        let mut head = None;
        for line in status.lines() {
            match line.strip_prefix("# branch.oid ") {
                Some(oid) => head = Some(oid.to_string()),
                None if line.starts_with("# ") => {}
                None => problems.push(format!("{name}: git status says {line:?}")),
            }
        }
        if head.as_deref() != Some(commit.as_str()) {
            problems.push(format!("{name} is at {head:?}, not {commit}"));
        }
        if !dir.join(".git/index").exists() {
            problems.push(format!("{name} has no index"));
        }
    }
    let liba = ws.join("liba");
    let gitmodules = std::fs::read_to_string(liba.join(".gitmodules")).unwrap_or_default();
    for path in gitmodules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path = "))
    {
        let gitfile = std::fs::read_to_string(liba.join(path).join(".git")).unwrap_or_default();
        let git_dir = liba
            .join(path)
            .join(gitfile.trim().trim_start_matches("gitdir: "));
        if gitfile.is_empty() || !git_dir.join("index").exists() {
            problems.push(format!(
                "submodule {path} is not checked out (no .git file or index)"
            ));
        }
    }
    let partials = std::fs::read_dir(ws)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".openxla-partial-"))
        .collect::<Vec<_>>();
    if !partials.is_empty() {
        problems.push(format!("left over: {partials:?}"));
    }
    let locks = lock_files(ws);
    if !locks.is_empty() {
        problems.push(format!("lock files left: {locks:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Where to kill, from the log of an uninterrupted run (line k is the k-th
/// git process): the tool alone at every git process it starts itself that
/// writes (killed at a process git started, it would let that process's
/// parent finish just the same), and the whole process group at every git
/// process but those whose start is no new state: the setup of git's shell
/// scripts and reachability queries, which only read, and the steps of a
/// transfer after its server side started (packing, receiving, checking
/// the pack), which leave what a kill as the server starts leaves: a
/// transfer cut off half way, its lock files held, its temporary files
/// behind, no ref updated.
fn kill_points(log: &str) -> Vec<(usize, Kill)> {
    let mut points = Vec::new();
    for (i, line) in log.lines().enumerate() {
        let k = i + 1;
        let mut fields = line.split(' ').skip(1);
        let level = fields.next().unwrap_or("");
        let what: Vec<&str> = fields.collect();
        let args: Vec<&str> = what
            .iter()
            .skip(1)
            .copied()
            .filter(|a| !a.starts_with("--shallow-file") && !a.starts_with('/'))
            .collect();
        // A git that only reads finishes having changed nothing: killing
        // the tool alone as it starts leaves what killing the whole group
        // there leaves.
        let writes = matches!(
            args.first().copied(),
            Some("clone" | "fetch" | "checkout" | "update-ref" | "submodule" | "init" | "remote")
        ) || (args.first() == Some(&"-c") && args.contains(&"checkout"));
        if level == "top" && writes {
            points.push((k, Kill::Tool));
        }
        let same_as_another = level == "nested"
            && matches!(
                args.first().copied(),
                Some(
                    "rev-parse"
                        | "--exec-path"
                        | "pack-objects"
                        | "index-pack"
                        | "unpack-objects"
                        | "rev-list"
                )
            );
        if !same_as_another {
            points.push((k, Kill::Group));
        }
    }
    points
}

/// The kind of kill point `k` (the 1-based line of `log`) killed `how`:
/// the way of killing, the step of the run (the git command the tool
/// started that is running, without the paths, URLs and commit ids that
/// differ between deps), and for a git process git started, its part in
/// that step. The parts are: a transfer under way (the server side and the
/// packing and receiving, reported as the transfer of the clone or fetch
/// they serve), or another git command (a submodule's clone, fetch or
/// checkout). The start of `git submodule`'s shell script (its setup, and
/// the `submodule--helper` it hands the step to) changes nothing yet: a
/// kill there is of the kind of a kill as the step starts. Two kill points
/// of one kind leave the same kind of state for the rerun to repair — the
/// same step cut off at the same place, in another dep or submodule — so
/// one of each is killed by default.
fn kill_class(log: &[&str], k: usize, how: Kill) -> String {
    let step = log[..k]
        .iter()
        .rev()
        .find(|line| line.split(' ').nth(1) == Some("top"))
        .map_or_else(|| "?".to_string(), |line| command_kind(line));
    let line = log[k - 1];
    let this = command_kind(line);
    let verb = this.split(' ').next().unwrap_or("");
    let script_start = matches!(verb, "sh-i18n--envsubst" | "--exec-path" | "rev-parse")
        || (verb == "submodule--helper" && step.split(' ').nth(1) == this.split(' ').nth(1));
    if line.split(' ').nth(1) == Some("top") || script_start {
        return format!("{how:?} at {step}");
    }
    let part = if matches!(
        verb,
        "upload-pack" | "pack-objects" | "index-pack" | "unpack-objects" | "rev-list"
    ) {
        let client = log[..k - 1]
            .iter()
            .rev()
            .map(|line| command_kind(line))
            .find(|kind| kind.starts_with("clone ") || kind.starts_with("fetch "))
            .unwrap_or_else(|| "?".to_string());
        format!("the transfer of {client}")
    } else {
        this
    };
    format!("{how:?} in {step}: {part}")
}

/// A log line's git command as a kind: the subcommand (two words for
/// `submodule` and `submodule--helper`, as in `submodule init`) and its
/// options, sorted, without their values, and `ARGS` for any other
/// arguments (paths, URLs, commit ids, refs), with git's global options
/// (`-c`, `--shallow-file`, `--no-optional-locks`) left out.
fn command_kind(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').skip(2).collect();
    if words.first() == Some(&"upload-pack") {
        return "upload-pack".to_string();
    }
    let mut args = words.iter().skip(1).copied().peekable();
    loop {
        match args.peek().copied() {
            Some("-c" | "--shallow-file") => {
                args.next();
                args.next();
            }
            Some("--no-optional-locks") => {
                args.next();
            }
            _ => break,
        }
    }
    let mut kind = vec![args.next().unwrap_or("?").to_string()];
    let mut rest: Vec<&str> = args.filter(|a| *a != "--").collect();
    if matches!(kind[0].as_str(), "submodule" | "submodule--helper") {
        if let Some(i) = rest.iter().position(|a| !a.starts_with('-')) {
            kind.push(rest.remove(i).to_string());
        }
    }
    let mut options: Vec<&str> = rest
        .iter()
        .filter(|a| a.starts_with('-'))
        .map(|a| a.split('=').next().unwrap_or(a))
        .collect();
    options.sort_unstable();
    options.dedup();
    kind.extend(options.iter().map(|o| o.to_string()));
    if rest.iter().any(|a| !a.starts_with('-')) {
        kind.push("ARGS".to_string());
    }
    kind.join(" ")
}

/// The first kill point of each kind (see [`kill_class`]), with its kind.
fn one_of_each_kind(log: &str, points: &[(usize, Kill)]) -> Vec<(usize, Kill, String)> {
    let lines: Vec<&str> = log.lines().collect();
    let mut seen = std::collections::BTreeSet::new();
    points
        .iter()
        .map(|&(k, how)| (k, how, kill_class(&lines, k, how)))
        .filter(|(_, _, class)| seen.insert(class.clone()))
        .collect()
}

/// Which kill points a test kills at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sweep {
    /// One of each kind.
    Kinds,
    /// Every one.
    Every,
}

/// Runs the scenario once without interruption (counting its git
/// processes), then, in parallel, once per kill point (every one, or one
/// of each kind) and way of killing: the run killed at its k-th git
/// process, then one plain rerun. Returns the number of trials.
fn kills_heal(fx: &Fixture, scenario: &Scenario, sweep: Sweep) -> usize {
    let exec_path = counting_exec_path(fx.tmp.path());
    let dir_in = |ws: &Path| {
        if scenario.in_app {
            ws.join("app")
        } else {
            ws.to_path_buf()
        }
    };

    // The clean run, counted; it must itself end as expected.
    let clean = fx.tmp.path().join(format!("{}-clean", scenario.name));
    copy_dir(&scenario.start, &clean);
    let log = fx.tmp.path().join(format!("{}-clean.log", scenario.name));
    assert!(!run_counted(
        fx,
        &dir_in(&clean),
        scenario.args,
        &exec_path,
        &log,
        None
    ));
    healed(fx, &clean, &scenario.expected)
        .unwrap_or_else(|e| panic!("{}: the clean run: {e}", scenario.name));
    let processes = std::fs::read_to_string(&log).unwrap();
    let points = kill_points(&processes);
    assert!(points.len() > 20, "{}: only {processes}", scenario.name);
    let trials: Vec<(usize, Kill, String)> = match sweep {
        Sweep::Kinds => one_of_each_kind(&processes, &points),
        Sweep::Every => {
            let lines: Vec<&str> = processes.lines().collect();
            points
                .iter()
                .map(|&(k, how)| (k, how, kill_class(&lines, k, how)))
                .collect()
        }
    };
    for (k, _, class) in &trials {
        eprintln!("{}: killed at git process {k}: {class}", scenario.name);
    }
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some((k, how, class)) = trials.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let (k, how) = (*k, *how);
                    let label = format!("{}-{k}-{how:?}", scenario.name);
                    let ws = fx.tmp.path().join(&label);
                    copy_dir(&scenario.start, &ws);
                    let log = fx.tmp.path().join(format!("{label}.log"));
                    let killed =
                        run_counted(fx, &dir_in(&ws), scenario.args, &exec_path, &log, Some((k, how)));
                    let out = fx.run(&dir_in(&ws), scenario.args);
                    // The k-th git process of the killed run is of the kind
                    // chosen (processes git starts side by side, such as
                    // both ends of a transfer, may log in either order, but
                    // they are of one kind).
                    let killed_log = std::fs::read_to_string(&log).unwrap_or_default();
                    let killed_lines: Vec<&str> = killed_log.lines().collect();
                    let killed_class = (killed_lines.len() >= k).then(|| kill_class(&killed_lines, k, how));
                    let result = if !killed {
                        Err("the run was not killed".to_string())
                    } else if killed_class.as_ref() != Some(class) {
                        Err(format!("it was killed {killed_class:?}, not {class}"))
                    } else if !out.status.success() {
                        Err(format!("the rerun failed: {}", text(&out)))
                    } else {
                        healed(fx, &ws, &scenario.expected)
                    };
                    match result {
                        Ok(()) => {
                            let _ = std::fs::remove_dir_all(&ws);
                        }
                        Err(e) => failures.lock().unwrap().push(format!(
                            "killed ({class}) at git process {k} ({}):\n  {e}\n  rerun said: {}",
                            std::fs::read_to_string(&log)
                                .unwrap_or_default()
                                .lines()
                                .nth(k - 1)
                                .unwrap_or("?"),
                            stderr(&out).trim().replace('\n', "\n    ")
                        )),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{}: {} of {} interruptions did not heal with one rerun:\n{}",
        scenario.name,
        failures.len(),
        trials.len(),
        failures.join("\n")
    );
    trials.len()
}

/// `checkout --sync app` into an empty workspace, killed at one git
/// process of each kind.
#[test]
fn checkout_sync_killed_at_each_kind_of_git_process_heals_with_one_rerun() {
    checkout_sync_killed_heals(Sweep::Kinds);
}

/// `checkout --sync app` into an empty workspace, killed at every git
/// process: `cargo test -- --ignored`.
#[test]
#[ignore = "exhaustive: every git process of the run; the default run kills one of each kind"]
fn checkout_sync_killed_at_any_git_process_heals_with_one_rerun() {
    checkout_sync_killed_heals(Sweep::Every);
}

fn checkout_sync_killed_heals(sweep: Sweep) {
    let started = Instant::now();
    let fx = Fixture::new();
    let scenario = Scenario {
        name: "checkout-sync",
        start: fx.ws.clone(),
        args: &["-j", "1", "checkout", "--sync", "app"],
        in_app: false,
        expected: vec![
            ("app", fx.id("APP_3").to_string()),
            ("liba", fx.id("LIBA_2").to_string()),
            ("libb", fx.id("LIBB_2").to_string()),
            ("base", fx.id("BASE_2").to_string()),
        ],
    };
    let trials = kills_heal(&fx, &scenario, sweep);
    eprintln!(
        "checkout --sync: {trials} interrupted runs, each healed, in {:.1?}",
        started.elapsed()
    );
}

/// A `sync` that moves deps and submodules, killed at one git process of
/// each kind.
#[test]
fn sync_moving_deps_and_submodules_killed_at_each_kind_of_git_process_heals_with_one_rerun() {
    sync_killed_heals(Sweep::Kinds);
}

/// A `sync` that moves deps and submodules, killed at every git process:
/// `cargo test -- --ignored`.
#[test]
#[ignore = "exhaustive: every git process of the run; the default run kills one of each kind"]
fn sync_moving_deps_and_submodules_killed_at_any_git_process_heals_with_one_rerun() {
    sync_killed_heals(Sweep::Every);
}

fn sync_killed_heals(sweep: Sweep) {
    let started = Instant::now();
    let fx = Fixture::synced();
    // LIBA_D3 moves subx and suby back (fetched by id into the shallow
    // submodules) and adds subz; base moves with liba's pin.
    pin_app(&fx, &fx.ws.join("app"), fx.id("LIBA_D3"), fx.id("LIBB_2"));
    let scenario = Scenario {
        name: "sync",
        start: fx.ws.clone(),
        args: &["-j", "1", "sync"],
        in_app: true,
        expected: vec![
            ("app", fx.head("app")),
            ("liba", fx.id("LIBA_D3").to_string()),
            ("libb", fx.id("LIBB_2").to_string()),
            ("base", fx.id("BASE_4").to_string()),
        ],
    };
    let trials = kills_heal(&fx, &scenario, sweep);
    eprintln!(
        "sync: {trials} interrupted runs, each healed, in {:.1?}",
        started.elapsed()
    );
}

// ---- Ctrl-C ---------------------------------------------------------------------

const LOCK: &str = ".openxla_workspace.lock";

/// Waits up to 10 s for process `pid` to be gone.
fn gone(pid: u32) -> bool {
    let started = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        if started.elapsed() > std::time::Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    true
}

#[test]
fn ctrl_c_ends_the_git_processes_releases_the_lock_and_exits_130() {
    let fx = Fixture::new();
    let blocked = start_blocked(&fx, &fx.ws, "clone", &["-j", "1", "checkout", "app"]);
    let Blocked { mut child, git_pid } = blocked;
    // SAFETY: sends SIGINT to the tool this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(gone(git_pid), "the git process {git_pid} was left running");
    assert!(!fx.ws.join(LOCK).exists(), "the lock was not released");
    // Nothing to clean by hand: the next run does the whole job.
    let out = fx.ok(&["checkout", "app"]);
    assert!(stderr(&out).contains("checkout: 4 cloned"), "{}", text(&out));
    assert!(lock_files(&fx.ws).is_empty());
}

/// On a terminal, Ctrl-C (typed: the terminal sends SIGINT to the tool and
/// its git processes at once) leaves no frozen live display: every live
/// line is cleared, the cursor is shown, and the last line says what
/// happened.
#[test]
fn ctrl_c_on_a_terminal_takes_the_live_display_away_and_exits_130() {
    use std::io::{Read, Write};
    let fx = Fixture::new();
    let bin = fake_git_dir(&fx);
    let signal = fx.tmp.path().join("blocked-in-clone");
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let line = format!(
        "stty cols {} rows {} 2>/dev/null; exec {} -j 1 checkout app",
        common::PTY_COLS,
        common::PTY_ROWS,
        quote(common::BIN)
    );
    let mut cmd = std::process::Command::new("script");
    cmd.current_dir(&fx.ws).args(["-qfec", &line, "/dev/null"]);
    for (k, v) in fx.cmd(&fx.ws).get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut script = cmd
        .env("PATH", path_with(&bin))
        .env("TRUST_GIT_BLOCK", "clone")
        .env("TRUST_GIT_SIGNAL", &signal)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux script");
    let mut output = script.stdout.take().unwrap();
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let seen = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    // Ctrl-C once the tool is inside git clone and the live display shows it.
    let started = Instant::now();
    while !signal.exists() || !String::from_utf8_lossy(&seen.lock().unwrap()).contains("cloning") {
        assert!(
            started.elapsed().as_secs() < 60,
            "the tool never showed itself cloning: {:?}",
            String::from_utf8_lossy(&seen.lock().unwrap())
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let git_pid: u32 = std::fs::read_to_string(&signal).unwrap().trim().parse().unwrap();
    let mut keyboard = script.stdin.take().unwrap();
    keyboard.write_all(b"\x03").unwrap();
    keyboard.flush().unwrap();
    let status = script.wait().unwrap();
    drop(keyboard);
    reader.join().unwrap();
    let transcript = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    assert_eq!(status.code(), Some(130), "{transcript:?}");
    let mut terminal = vt100::Parser::new(
        std::num::NonZeroU16::new(common::PTY_ROWS).unwrap(),
        std::num::NonZeroU16::new(common::PTY_COLS).unwrap(),
        0,
    );
    terminal.process(transcript.as_bytes());
    assert!(!terminal.screen().hide_cursor(), "the cursor was left hidden");
    assert_eq!(
        common::screen(&transcript).replace("^C", ""),
        "error: interrupted (Ctrl-C); the git processes it started were ended. Run the same command again to \
         finish: it picks up where this one stopped\n",
        "{transcript:?}"
    );
    assert!(gone(git_pid), "the git process {git_pid} was left running");
    assert!(!fx.ws.join(LOCK).exists(), "the lock was not released");
    fx.ok(&["checkout", "app"]);
}

/// A git that does not end when asked is killed after a grace period; it
/// may have left its lock files, so the lock file keeps this run's
/// information (the lock itself is released) and the next run cleans up
/// after it as after a killed run.
#[test]
fn a_git_that_ignores_ctrl_c_is_killed_and_the_next_run_cleans_up_after_it() {
    let fx = Fixture::synced();
    pin_app(&fx, &fx.ws.join("app"), fx.id("LIBA_3"), fx.id("LIBB_2"));
    let left = fx.ws.join("liba/.git/index.lock");
    let grace = common::TEST_GRACE_MS.to_string();
    let blocked = start_blocked_with(
        &fx,
        &fx.ws.join("app"),
        "checkout",
        &["-j", "1", "sync"],
        &[
            ("TRUST_GIT_IGNORE_INT", std::ffi::OsStr::new("1")),
            ("TRUST_GIT_LEAVE_LOCK", left.as_os_str()),
            (common::TEST_GRACE_VAR, std::ffi::OsStr::new(&grace)),
        ],
    );
    let Blocked { mut child, git_pid } = blocked;
    // SAFETY: sends SIGINT to the tool this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(gone(git_pid), "the git process {git_pid} was left running");
    assert!(left.exists());
    let info = std::fs::read_to_string(fx.ws.join(LOCK)).unwrap();
    assert!(info.starts_with(&format!("pid={}\n", child.id())), "{info}");

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!(
            "warning: liba: removed .git/index.lock, a git lock file left by process {} on {} running `sync`, \
             which did not finish",
            child.id(),
            hostname()
        )),
        "{}",
        text(&out)
    );
    assert!(lock_files(&fx.ws).is_empty());
    assert_eq!(fx.head("liba"), fx.id("LIBA_3"));
}

// ---- Lock files a killed run leaves --------------------------------------------

fn touch_at(path: &Path, when: std::time::SystemTime) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(path).unwrap().set_modified(when).unwrap();
}

/// A killed run's git processes may leave lock files that make every later
/// git command there fail. The next run removes exactly those the rule of
/// `src/exec/recover.rs` allows, and says so for each: not one made before the
/// killed run started, not one outside the repositories the tool manages.
#[test]
fn git_lock_files_a_killed_run_left_are_removed_by_the_next_run_and_no_others() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    // The times here are this test's own clock, not what the run wrote:
    // the rule must hold for when the run really started.
    let started = std::time::SystemTime::now();
    let blocked = start_blocked(&fx, &app, "cat-file", &["sync"]);
    let killed = blocked.child.id();
    blocked.kill_9();
    let left = std::fs::read_to_string(fx.ws.join(LOCK)).unwrap();
    let since: f64 = left
        .lines()
        .find_map(|l| l.strip_prefix("since="))
        .unwrap()
        .parse()
        .unwrap();
    let since = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(since);
    assert!(
        started <= since + std::time::Duration::from_millis(1) && since <= std::time::SystemTime::now(),
        "the lock file says the run started at {since:?}, not between {started:?} and now"
    );

    // Lock files as its git processes leave them, no later than its last
    // stamp: removed where its journal says one of them worked or was
    // about to (liba, and libb when its probe had started: the first level
    // runs in parallel), and only there.
    let worked: Vec<&str> = left
        .lines()
        .filter_map(|l| match l.strip_prefix("child=") {
            Some(v) => v.split(' ').nth(2),
            None => l.strip_prefix("starting=")?.split(' ').nth(1),
        })
        .collect();
    assert!(worked.contains(&"liba"), "{left}");
    let candidates = [
        ("liba", ".git/index.lock"),
        ("liba", ".git/refs/heads/main.lock"),
        ("liba", ".git/modules/third_party/subx/shallow.lock"),
        ("liba", ".git/modules/third_party/suby/index.lock"),
        ("libb", ".git/HEAD.lock"),
        ("base", ".git/config.lock"),
    ];
    let now = std::fs::metadata(fx.ws.join(LOCK)).unwrap().modified().unwrap();
    for (project, path) in candidates {
        touch_at(&fx.ws.join(project).join(path), now);
    }
    let (stale, elsewhere): (Vec<_>, Vec<_>) = candidates.iter().partition(|(p, _)| worked.contains(p));
    // Older than the killed run: not its doing.
    let older = fx.ws.join("base/.git/packed-refs.lock");
    touch_at(&older, started - std::time::Duration::from_secs(60));
    // A repository in the workspace that no registry project names.
    fx.git(&fx.ws, &["init", "-q", "notes"]);
    let unmanaged = fx.ws.join("notes/.git/index.lock");
    touch_at(&unmanaged, now);

    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    let mut removed: Vec<&str> = err.lines().filter(|l| l.contains(": removed ")).collect();
    removed.sort();
    let mut expected: Vec<String> = stale
        .iter()
        .map(|(project, path)| {
            format!(
                "warning: {project}: removed {path}, a git lock file left by process {killed} on {} running `sync`, \
                 which did not finish",
                hostname()
            )
        })
        .collect();
    expected.sort();
    assert_eq!(removed, expected, "{}", text(&out));
    for (project, path) in &stale {
        assert!(!fx.ws.join(project).join(path).exists(), "{project}/{path}");
    }
    for (project, path) in &elsewhere {
        assert!(fx.ws.join(project).join(path).exists(), "{project}/{path}");
    }
    assert!(older.exists() && unmanaged.exists());
    assert!(stderr(&out).contains(&format!(
        "the previous run (process {killed} on {} running `sync`) did not finish; this run picks up where it stopped",
        hostname()
    )));
    assert!(!fx.ws.join(LOCK).exists());
}

/// After `kill -9` of the tool alone its git processes go on: until they
/// end, their lock files are live, and the next run stops at once, changes
/// nothing, and leaves the killed run's information for the run after.
#[test]
fn a_run_whose_git_processes_still_run_is_left_alone_until_they_end() {
    let fx = Fixture::synced();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let mut git = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    let info = format!(
        "pid={dead}\nhost={}\ncommand=sync\nsince={since}.0\nchild={} {}000 liba\n",
        hostname(),
        git.id(),
        since + 1
    );
    std::fs::write(fx.ws.join(LOCK), &info).unwrap();
    let index_lock = fx.ws.join("liba/.git/index.lock");
    touch_at(&index_lock, std::time::SystemTime::now());
    // Everything but the lock file, whose text is checked apart.
    let snapshot = || -> Vec<String> {
        fx.snapshot()
            .into_iter()
            .filter(|e| !e.starts_with(LOCK))
            .collect()
    };
    let before = snapshot();

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
    assert_eq!(std::fs::read_to_string(fx.ws.join(LOCK)).unwrap(), info);
    common::assert_unchanged(&before, &snapshot());

    git.kill().unwrap();
    git.wait().unwrap();
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!index_lock.exists(), "{}", text(&out));
    assert!(!fx.ws.join(LOCK).exists());
}

// ---- Checkouts cut short ---------------------------------------------------------

/// Stops a run at a chosen point inside one of its checkouts: before git
/// writes its k-th file (a smudge filter every file passes through, set
/// up only for that run with `core.attributesFile` and `filter.slow.smudge`
/// in its environment; git has unlinked the old file and not yet created
/// the new one), or as it moves HEAD after writing the index (a
/// `reference-transaction` hook, through `core.hooksPath`, at the
/// `prepared` state of a HEAD update: `HEAD.lock` held, HEAD still at the
/// old commit). Each point is counted across the whole run, in run order.
/// The filter is a Python program that git starts without a shell, so it
/// takes signals as git was started to (a shell unblocks them all), and
/// logs each file by the working tree it is in and its blob id.
struct Stopper {
    scripts: PathBuf,
}

/// Where a [`Stopper`] stops a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Point {
    /// Before writing the k-th file.
    File(usize),
    /// As the k-th HEAD move is about to be committed.
    Head(usize),
}

/// One run under a [`Stopper`]: its folder of counters and signals.
struct Stop {
    dir: PathBuf,
}

impl Stopper {
    fn new(fx: &Fixture) -> Stopper {
        use std::os::unix::fs::PermissionsExt;
        let scripts = fx.tmp.path().join("stopper");
        std::fs::create_dir_all(scripts.join("hooks")).unwrap();
        std::fs::write(scripts.join("attributes"), "* filter=slow\n").unwrap();
        // A stop says where it is in `$STOP_DIR/blocked` (its pid) and
        // waits for `$STOP_DIR/release` (60 s at most).
        let filter = r#"#!/usr/bin/env python3
import hashlib, os, sys, time
data = sys.stdin.buffer.read()
d = os.environ["STOP_DIR"]
count = os.path.join(d, "file.count")
n = int(open(count).read()) + 1 if os.path.exists(count) else 1
open(count, "w").write(str(n))
with open(os.path.join(d, "file.log"), "a") as log:
    log.write("%d %s %s\n" % (n, os.getcwd(), hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()))
if os.environ.get("STOP_AT") == "file %d" % n:
    open(os.path.join(d, "blocked.tmp"), "w").write(str(os.getpid()))
    os.rename(os.path.join(d, "blocked.tmp"), os.path.join(d, "blocked"))
    for _ in range(3000):
        if os.path.exists(os.path.join(d, "release")):
            break
        time.sleep(0.02)
sys.stdout.buffer.write(data)
"#;
        let hook = r#"#!/bin/sh
refs=$(cat)
[ "$1" = prepared ] || exit 0
printf '%s\n' "$refs" | grep -q ' HEAD$' || exit 0
n=$(( $(cat "$STOP_DIR/head.count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$STOP_DIR/head.count"
echo "$n $PWD" >> "$STOP_DIR/head.log"
if [ "$STOP_AT" = "head $n" ]; then
    echo $$ > "$STOP_DIR/blocked.tmp" && mv "$STOP_DIR/blocked.tmp" "$STOP_DIR/blocked"
    i=0
    while [ ! -e "$STOP_DIR/release" ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i + 1)); done
fi
exit 0
"#;
        for (path, text) in [
            (scripts.join("slow-filter"), filter),
            (scripts.join("hooks/reference-transaction"), hook),
        ] {
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Stopper { scripts }
    }

    /// The environment that sends a run through the stops, stopping at
    /// `at`, on top of the fixture's.
    fn env(&self, stop: &Stop, at: Option<Point>) -> Vec<(String, String)> {
        std::fs::create_dir_all(&stop.dir).unwrap();
        let filter = self.scripts.join("slow-filter").display().to_string();
        let settings = [
            ("maintenance.auto", "false".to_string()),
            (
                "core.attributesFile",
                self.scripts.join("attributes").display().to_string(),
            ),
            ("filter.slow.smudge", filter),
            ("core.hooksPath", self.scripts.join("hooks").display().to_string()),
        ];
        let mut env = vec![("GIT_CONFIG_COUNT".to_string(), (settings.len() + 1).to_string())];
        for (i, (key, value)) in settings.iter().enumerate() {
            env.push((format!("GIT_CONFIG_KEY_{}", i + 1), key.to_string()));
            env.push((format!("GIT_CONFIG_VALUE_{}", i + 1), value.clone()));
        }
        let at = match at {
            Some(Point::File(k)) => format!("file {k}"),
            Some(Point::Head(k)) => format!("head {k}"),
            None => String::new(),
        };
        env.push(("STOP_DIR".to_string(), stop.dir.display().to_string()));
        env.push(("STOP_AT".to_string(), at));
        env
    }

    /// The command for the tool with `args` in `dir`, in a process group of
    /// its own, going through the stops, and stopping at `at`.
    fn command(
        &self,
        fx: &Fixture,
        dir: &Path,
        args: &[&str],
        stop: &Stop,
        at: Option<Point>,
    ) -> std::process::Command {
        use std::os::unix::process::CommandExt;
        let mut cmd = fx.cmd(dir);
        cmd.envs(self.env(stop, at));
        cmd.args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0);
        cmd
    }
}

impl Stop {
    /// Waits until the run is stopped (returns the stopped process's pid),
    /// or has ended without reaching the stop (`None`).
    fn reached(&self, run: &mut std::process::Child) -> Option<u32> {
        let started = Instant::now();
        loop {
            if let Ok(pid) = std::fs::read_to_string(self.dir.join("blocked")) {
                return Some(pid.trim().parse().unwrap());
            }
            if run.try_wait().unwrap().is_some() {
                return None;
            }
            assert!(
                started.elapsed().as_secs() < 60,
                "the run neither stopped nor ended"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    fn release(&self) {
        std::fs::write(self.dir.join("release"), "").unwrap();
    }

    /// The lines of `file.log` or `head.log`.
    fn log(&self, kind: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(format!("{kind}.log")))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The `sync` scenario of the kill-at-every-k test: after `checkout --sync
/// app`, app pins liba at LIBA_D3, so liba, base and liba's submodules move
/// (one cloned).
fn sync_scenario(fx: &Fixture) -> Vec<(&'static str, String)> {
    fx.ok(&["checkout", "--sync", "app"]);
    pin_app(fx, &fx.ws.join("app"), fx.id("LIBA_D3"), fx.id("LIBB_2"));
    vec![
        ("app", fx.head("app")),
        ("liba", fx.id("LIBA_D3").to_string()),
        ("libb", fx.id("LIBB_2").to_string()),
        ("base", fx.id("BASE_4").to_string()),
    ]
}

/// `kill -9` of the whole process group in the middle of a checkout —
/// before each file any checkout of the run writes, and as each of them
/// moves HEAD once the index is written — then one plain rerun: every
/// project and submodule at its commit, `git status` empty, no lock file.
/// A checkout cut short leaves files of the new commit over the old index,
/// which git takes for local changes and refuses to overwrite; the rerun
/// puts exactly those back first.
///
/// By default one stop of each kind (see [`stop_class`]);
/// `cargo test -- --ignored` stops before every file and at every HEAD move.
#[test]
fn a_checkout_killed_half_way_through_its_files_heals_with_one_rerun() {
    checkouts_cut_short_heal(Sweep::Kinds);
}

/// [`a_checkout_killed_half_way_through_its_files_heals_with_one_rerun`]
/// before every file any checkout of the run writes and at every HEAD move.
#[test]
#[ignore = "exhaustive: every file and HEAD move of the run; the default run stops at one of each kind"]
fn a_checkout_killed_before_any_file_or_head_move_heals_with_one_rerun() {
    checkouts_cut_short_heal(Sweep::Every);
}

/// The kind of a stop in the clean run of `ws`, whose `files` and `heads`
/// logs are given: a HEAD move, the first file of a checkout (none of its
/// files written yet) or a later one (some written), each in a dep or in
/// a submodule. Stops of one kind leave the same kind of half-done
/// checkout for the rerun to undo.
fn stop_class(ws: &Path, files: &[String], heads: &[String], at: Point) -> String {
    // `N FOLDER [BLOB]`: the working tree the stop is in.
    let folder = |line: &str| line.split(' ').nth(1).unwrap_or("").to_string();
    let repo = |line: &str| {
        let folder = folder(line);
        let inside = Path::new(&folder).strip_prefix(ws).map(Path::to_path_buf);
        match inside {
            Ok(p) if p.components().count() == 1 => "a dep",
            Ok(_) => "a submodule",
            Err(_) => "?",
        }
    };
    match at {
        Point::Head(k) => format!("as HEAD moves in {}", repo(&heads[k - 1])),
        Point::File(k) => {
            let first = k == 1 || folder(&files[k - 2]) != folder(&files[k - 1]);
            let which = if first { "the first" } else { "a later" };
            format!("before {which} file of a checkout in {}", repo(&files[k - 1]))
        }
    }
}

fn checkouts_cut_short_heal(sweep: Sweep) {
    let started = Instant::now();
    let fx = Fixture::new();
    let expected = sync_scenario(&fx);
    let stopper = Stopper::new(&fx);
    let start = fx.tmp.path().join("start");
    copy_dir(&fx.ws, &start);

    let clean = Stop {
        dir: fx.tmp.path().join("clean-stop"),
    };
    let ws = fx.tmp.path().join("clean");
    copy_dir(&start, &ws);
    let status = stopper
        .command(&fx, &ws.join("app"), &["-j", "1", "sync"], &clean, None)
        .status()
        .unwrap();
    assert!(status.success());
    healed(&fx, &ws, &expected).unwrap_or_else(|e| panic!("the clean run: {e}"));
    let files = clean.log("file");
    let heads = clean.log("head");
    assert!(files.len() >= 8 && heads.len() >= 4, "{files:?} {heads:?}");
    let mut seen = std::collections::BTreeSet::new();
    let points: Vec<Point> = (1..=files.len())
        .map(Point::File)
        .chain((1..=heads.len()).map(Point::Head))
        .filter(|&at| sweep == Sweep::Every || seen.insert(stop_class(&ws, &files, &heads, at)))
        .collect();
    for &at in &points {
        eprintln!("stopped at {at:?}: {}", stop_class(&ws, &files, &heads, at));
    }

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while let Some(&at) = points.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let label = match at {
                        Point::File(k) => format!("file-{k}"),
                        Point::Head(k) => format!("head-{k}"),
                    };
                    let ws = fx.tmp.path().join(&label);
                    copy_dir(&start, &ws);
                    let stop = Stop {
                        dir: fx.tmp.path().join(format!("{label}-stop")),
                    };
                    let mut run = stopper
                        .command(&fx, &ws.join("app"), &["-j", "1", "sync"], &stop, Some(at))
                        .spawn()
                        .unwrap();
                    let reached = stop.reached(&mut run);
                    kill_group(run.id());
                    run.wait().unwrap();
                    let out = fx.run(&ws.join("app"), &["sync"]);
                    let result = if reached.is_none() {
                        Err("the run did not reach its stop".to_string())
                    } else if !out.status.success() {
                        Err(format!("the rerun failed: {}", text(&out)))
                    } else {
                        healed(&fx, &ws, &expected)
                    };
                    let at_what = match at {
                        Point::File(k) => files[k - 1].clone(),
                        Point::Head(k) => heads[k - 1].clone(),
                    };
                    match result {
                        Ok(()) => {
                            let _ = std::fs::remove_dir_all(&ws);
                        }
                        Err(e) => failures.lock().unwrap().push(format!(
                            "killed at {at:?} ({at_what}):\n  {e}\n  rerun said: {}",
                            stderr(&out).trim().replace('\n', "\n    ")
                        )),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} checkouts cut short did not heal with one rerun:\n{}",
        failures.len(),
        points.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} checkouts cut short, each healed, in {:.1?}",
        points.len(),
        started.elapsed()
    );
}

/// Where `sync` in `ws`'s app writes the file `path` of `project` at the
/// commit `key`: the [`Point`] before it, found by a run on a copy of `ws`.
fn before_writing(
    fx: &Fixture,
    stopper: &Stopper,
    ws: &Path,
    (project, key, path): (&str, &str, &str),
) -> Point {
    let blob = fx.git(
        &fx.remote(project),
        &["rev-parse", &format!("{}:{path}", fx.id(key))],
    );
    let probe = Stop {
        dir: fx.tmp.path().join("probe-stop"),
    };
    let probe_ws = fx.tmp.path().join("probe");
    copy_dir(ws, &probe_ws);
    assert!(stopper
        .command(fx, &probe_ws.join("app"), &["-j", "1", "sync"], &probe, None)
        .status()
        .unwrap()
        .success());
    let k = probe
        .log("file")
        .iter()
        .position(|l| l.ends_with(&format!(" {blob}")))
        .unwrap_or_else(|| panic!("{project}'s {path} is not written: {:?}", probe.log("file")))
        + 1;
    std::fs::remove_dir_all(&probe_ws).unwrap();
    Point::File(k)
}

/// Runs `sync` in `ws`'s app under `stopper`, stopped before `file` (see
/// [`before_writing`]) is written, and `kill -9`s its process group
/// there. Returns the killed run's pid.
fn kill_before_writing(fx: &Fixture, stopper: &Stopper, ws: &Path, file: (&str, &str, &str)) -> u32 {
    let at = before_writing(fx, stopper, ws, file);
    let stop = Stop {
        dir: fx.tmp.path().join("stop"),
    };
    let mut run = stopper
        .command(fx, &ws.join("app"), &["-j", "1", "sync"], &stop, Some(at))
        .spawn()
        .unwrap();
    assert!(
        stop.reached(&mut run).is_some(),
        "the run did not stop before {file:?}"
    );
    kill_group(run.id());
    run.wait().unwrap();
    run.id()
}

/// A file that an interrupted checkout would change, and that someone
/// changed since (its content is neither commit's), is the user's: the
/// rerun puts back only what git itself wrote, keeps that file and says
/// so, and git then refuses to move the dep over it, as over any local
/// change. Once the user has put the change aside, the next sync finishes.
#[test]
fn a_file_changed_since_a_checkout_was_cut_short_is_kept_and_reported() {
    let fx = Fixture::new();
    let expected = sync_scenario(&fx);
    let stopper = Stopper::new(&fx);
    // liba's checkout of LIBA_D3 writes .gitmodules, liba.txt and
    // sync_deps.py, in that order: stopped before the last, the first two
    // hold LIBA_D3's content and the last is missing.
    let killed = kill_before_writing(&fx, &stopper, &fx.ws, ("liba", "LIBA_D3", "sync_deps.py"));
    let liba = fx.ws.join("liba");
    assert_eq!(
        raw_git(&fx, &liba, &["status", "--porcelain"]),
        " M .gitmodules\n M liba.txt\n D sync_deps.py\n"
    );
    std::fs::write(liba.join("liba.txt"), "my own liba\n").unwrap();

    let out = fx.run(&fx.ws.join("app"), &["-j", "1", "sync"]);
    let host = hostname();
    let shown = |text: &str| {
        let mut names = vec![
            (killed.to_string(), "PID".to_string()),
            (host.clone(), "HOST".to_string()),
        ];
        for key in ["LIBA_D3", "LIBA_2", "BASE_2", "BASE_3", "BASE_4", "LIBB_2"] {
            names.push((fx.id(key).to_string(), key.to_string()));
            names.push((fx.id(key)[..7].to_string(), key.to_string()));
        }
        names.push((fx.ws.display().to_string(), "WS".to_string()));
        let names: Vec<(&str, &str)> = names.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        common::normalise(text, &names)
    };
    assert_eq!(
        shown(&stderr(&out)),
        "the previous run (process PID on HOST running `sync`) did not finish; this run picks up where it stopped\n\
         warning: liba: removed .git/index.lock, a git lock file left by process PID on HOST running `sync`, which \
         did not finish\n\
         liba: undid the checkout of LIBA_D3 an interrupted run cut short half way: 2 files put back at LIBA_2, \
         where HEAD and the index are\n\
         warning: liba: kept 1 file that the checkout of LIBA_D3 an interrupted run cut short would change, and \
         that differs from both LIBA_2 and LIBA_D3 (changed since, or being written when the run was stopped): \
         liba.txt\n\
         warning: base: using BASE_4 (pinned by liba); libb pins BASE_3\n\
         liba: checking out LIBA_D3\n\
         base: checking out BASE_4\n\
         sync app: 1 moved, 1 already at pin, 1 failed in TIME\n\
         error: liba: local changes in WS/liba conflict with LIBA_D3; nothing was changed there. Commit or stash \
         them (`git -C WS/liba stash`), then sync again: `git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet \
         --no-overwrite-ignore --detach LIBA_D3 --` failed in WS/liba (exit status 1)\n\
         \x20   error: Your local changes to the following files would be overwritten by checkout:\n\
         \x20   \tliba.txt\n\
         \x20   Please commit your changes or stash them before you switch branches.\n\
         \x20   Aborting\n",
        "{}",
        text(&out)
    );
    assert_eq!(
        shown(&common::stdout(&out)),
        "libb: LIBB_2 (pinned by app), already there\nbase: BASE_4 (pinned by liba), was BASE_2\n"
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(liba.join("liba.txt")).unwrap(),
        "my own liba\n"
    );
    assert_eq!(raw_git(&fx, &liba, &["status", "--porcelain"]), " M liba.txt\n");
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));

    fx.git(&liba, &["stash", "-q"]);
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    healed(&fx, &fx.ws, &expected).unwrap();
    assert_eq!(fx.git(&liba, &["show", "stash@{0}:liba.txt"]), "my own liba");
}

/// `sync` run in `dir` on a pseudo-terminal (util-linux `script`), through
/// the stops of `stopper`, stopping at `at`; what the terminal receives is
/// collected.
struct OnTerminal {
    script: std::process::Child,
    keyboard: std::process::ChildStdin,
    reader: std::thread::JoinHandle<()>,
}

impl OnTerminal {
    fn start(fx: &Fixture, stopper: &Stopper, dir: &Path, stop: &Stop, at: Point) -> OnTerminal {
        OnTerminal::start_with(fx, stopper, dir, stop, at, &[])
    }

    /// [`OnTerminal::start`], with `env` added to the tool's environment.
    fn start_with(
        fx: &Fixture,
        stopper: &Stopper,
        dir: &Path,
        stop: &Stop,
        at: Point,
        env: &[(&str, &str)],
    ) -> OnTerminal {
        use std::io::Read;
        let line = format!(
            "stty cols {} rows {} 2>/dev/null; exec '{}' -j 1 sync",
            common::PTY_COLS,
            common::PTY_ROWS,
            common::BIN
        );
        let mut cmd = std::process::Command::new("script");
        cmd.current_dir(dir).args(["-qfec", &line, "/dev/null"]);
        for (k, v) in fx.cmd(dir).get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut script = cmd
            .envs(stopper.env(stop, Some(at)))
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("util-linux script");
        let mut output = script.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while matches!(output.read(&mut buf), Ok(n) if n > 0) {}
        });
        let keyboard = script.stdin.take().unwrap();
        OnTerminal {
            script,
            keyboard,
            reader,
        }
    }

    fn ctrl_c(&mut self) {
        use std::io::Write;
        self.keyboard.write_all(b"\x03").unwrap();
        self.keyboard.flush().unwrap();
    }

    fn wait(self) -> Option<i32> {
        let OnTerminal {
            mut script,
            keyboard,
            reader,
        } = self;
        let status = script.wait().unwrap();
        drop(keyboard);
        reader.join().unwrap();
        status.code()
    }
}

/// Waits until process `pid` has a SIGINT waiting to be taken (it has it
/// blocked), or has ended; returns which.
fn holds_sigint_or_ends(pid: u32) -> &'static str {
    let started = Instant::now();
    loop {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            return "ended";
        };
        let pending = status
            .lines()
            .filter(|l| l.starts_with("ShdPnd:") || l.starts_with("SigPnd:"))
            .filter_map(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
            .any(|mask| mask & (1 << (libc::SIGINT - 1)) != 0);
        let state = status.lines().find(|l| l.starts_with("State:")).unwrap_or("");
        if pending {
            return "holds SIGINT";
        }
        if state.contains("zombie") {
            return "ended";
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "process {pid} neither took nor held the Ctrl-C"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Ctrl-C on a terminal reaches the tool and every git it runs at once.
/// A checkout that is writing a dep's files does not take it (it would
/// stop half way, leaving the files of two commits): the tool lets it
/// finish, then exits with 130 and releases the lock; the dep is at its
/// new commit with a clean tree, and the rerun has only the rest to do.
#[test]
fn ctrl_c_on_a_terminal_lets_a_checkout_writing_files_finish() {
    let fx = Fixture::new();
    let expected = sync_scenario(&fx);
    let stopper = Stopper::new(&fx);
    // base's checkout of BASE_4 writes base.txt, then include/base_3.h.
    let at = before_writing(&fx, &stopper, &fx.ws, ("base", "BASE_4", "include/base_3.h"));
    let stop = Stop {
        dir: fx.tmp.path().join("stop"),
    };
    let mut terminal = OnTerminal::start(&fx, &stopper, &fx.ws.join("app"), &stop, at);
    let filter = stop
        .reached(&mut terminal.script)
        .expect("the run stops in base's checkout");
    terminal.ctrl_c();
    let what = holds_sigint_or_ends(filter);
    stop.release();
    assert_eq!(terminal.wait(), Some(130));
    assert_eq!(
        what, "holds SIGINT",
        "the checkout's processes took the Ctrl-C themselves"
    );
    assert_eq!(fx.head("base"), fx.id("BASE_4"));
    assert_eq!(raw_git(&fx, &fx.ws.join("base"), &["status", "--porcelain"]), "");
    assert!(!fx.ws.join(LOCK).exists(), "the lock was not released");

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    healed(&fx, &fx.ws, &expected).unwrap();
}

/// A checkout still writing 5 s after Ctrl-C (a smudge filter that hangs)
/// is ended like any git (SIGTERM; git removes its lock files) and is then
/// cut short: the lock file keeps the run's record, and the next run puts
/// back the one file git had written and finishes the sync. (The test
/// shortens the 5 s to [`common::TEST_GRACE_MS`].)
#[test]
fn a_checkout_still_running_5_s_after_ctrl_c_is_ended_and_put_right_by_the_next_run() {
    let fx = Fixture::new();
    let expected = sync_scenario(&fx);
    let stopper = Stopper::new(&fx);
    let at = before_writing(&fx, &stopper, &fx.ws, ("base", "BASE_4", "include/base_3.h"));
    let stop = Stop {
        dir: fx.tmp.path().join("stop"),
    };
    let mut terminal = OnTerminal::start_with(
        &fx,
        &stopper,
        &fx.ws.join("app"),
        &stop,
        at,
        &[(common::TEST_GRACE_VAR, &common::TEST_GRACE_MS.to_string())],
    );
    stop.reached(&mut terminal.script)
        .expect("the run stops in base's checkout");
    let tool: u32 = std::fs::read_to_string(fx.ws.join(LOCK))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("pid="))
        .unwrap()
        .parse()
        .unwrap();
    let interrupted = Instant::now();
    terminal.ctrl_c();
    assert_eq!(terminal.wait(), Some(130));
    let waited = interrupted.elapsed();
    stop.release();
    assert!(
        waited >= std::time::Duration::from_millis(common::TEST_GRACE_MS * 9 / 10),
        "it waited only {waited:?} for the checkout"
    );
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
    assert_eq!(
        raw_git(&fx, &fx.ws.join("base"), &["status", "--porcelain"]),
        " M base.txt\n"
    );
    assert!(lock_files(&fx.ws.join("base")).is_empty(), "git left its lock");

    let out = fx.run(&fx.ws.join("app"), &["-j", "1", "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut names = vec![
        (tool.to_string(), "PID".to_string()),
        (hostname(), "HOST".to_string()),
    ];
    for key in ["BASE_2", "BASE_3", "BASE_4"] {
        names.push((fx.id(key)[..7].to_string(), key.to_string()));
    }
    let names: Vec<(&str, &str)> = names.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    // git ended on SIGTERM and removed its own lock files: none is left
    // for this run to remove.
    assert_eq!(
        common::normalise(&stderr(&out), &names),
        "the previous run (process PID on HOST running `sync`) did not finish; this run picks up where it \
         stopped\n\
         base: undid the checkout of BASE_4 an interrupted run cut short half way: 1 file put back at BASE_2, \
         where HEAD and the index are\n\
         warning: base: using BASE_4 (pinned by liba); libb pins BASE_3\n\
         base: checking out BASE_4\n\
         sync app: 1 moved, 2 already at pin in TIME\n",
        "{}",
        text(&out)
    );
    healed(&fx, &fx.ws, &expected).unwrap();
}

/// Ctrl-C on a terminal ends a transfer at once: the git the tool started,
/// and the ssh it runs, take the Ctrl-C themselves, as when run by hand,
/// and git cleans up after itself. (They once inherited the tool's
/// blocked signals: they went on waiting for the server, and the run
/// killed git 5 s later, leaving its lock files.) The ssh here is a
/// stand-in that never answers; git runs it without a shell (`GIT_SSH`),
/// so it takes signals as git was started to.
#[test]
fn ctrl_c_on_a_terminal_ends_a_transfer_at_once() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let stop = Stop {
        dir: fx.tmp.path().join("stop"),
    };
    std::fs::create_dir_all(&stop.dir).unwrap();
    let ssh = fx.tmp.path().join("silent-ssh");
    std::fs::write(
        &ssh,
        format!(
            "#!/usr/bin/env python3\nimport os, time\nd = {:?}\n\
             open(d + '/blocked.tmp', 'w').write(str(os.getpid()))\n\
             os.rename(d + '/blocked.tmp', d + '/blocked')\n\
             for _ in range(3000):\n    if os.path.exists(d + '/release'):\n        break\n    time.sleep(0.02)\n",
            stop.dir.display().to_string()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let registry = fx.tmp.path().join("ssh.toml");
    std::fs::write(
        &registry,
        "include_default = false\n[repos.remote]\nro_url = \"ssh://git.example.invalid/remote.git\"\n",
    )
    .unwrap();

    let line = format!(
        "stty cols {} rows {} 2>/dev/null; exec '{}' checkout remote",
        common::PTY_COLS,
        common::PTY_ROWS,
        common::BIN
    );
    let mut cmd = std::process::Command::new("script");
    cmd.current_dir(&fx.ws).args(["-qfec", &line, "/dev/null"]);
    for (k, v) in fx.cmd(&fx.ws).get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut script = cmd
        .env("OPENXLA_WORKSPACE_REGISTRY", &registry)
        .env("GIT_SSH", &ssh)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("util-linux script");
    stop.reached(&mut script).expect("the clone starts ssh");
    let interrupted = Instant::now();
    {
        use std::io::Write;
        let keyboard = script.stdin.as_mut().unwrap();
        keyboard.write_all(b"\x03").unwrap();
        keyboard.flush().unwrap();
    }
    let status = script.wait().unwrap();
    let took = interrupted.elapsed();
    stop.release();
    assert_eq!(status.code(), Some(130));
    assert!(took.as_secs_f64() < 3.0, "the run ended {took:?} after Ctrl-C");
    assert!(
        !fx.ws.join(LOCK).exists(),
        "the lock file kept a run that had to kill its git"
    );
    let left: Vec<String> = std::fs::read_dir(&fx.ws)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // The workspace marker, its settings (the roots it remembers) and
        // its own folder (the undo record, written before the clone began).
        .filter(|n| {
            n != ".openxla_workspace.json"
                && n != ".openxla_workspace.settings.json"
                && n != ".openxla_workspace"
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
