//! Every interruption heals with one rerun (issue 11): a run is killed at
//! its k-th git process, for every k from the first to the last of a run
//! that is not interrupted, and one plain rerun must then leave the whole
//! workspace as an uninterrupted run does — every project and submodule at
//! its commit with all its files and nothing else, no temporary folder, no
//! lock file — with exit status 0. Both for `checkout --sync app` into an
//! empty workspace and for a `sync` that moves deps and submodules (one
//! added, two moved back, one fetched by id).
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
//! killed run are removed by the precise rule of `src/recover.rs`.

mod common;
mod trust_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use common::{stderr, text, Fixture};
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

/// Runs the scenario once without interruption (counting its git
/// processes), then, in parallel, once per k and per way of killing: the
/// run killed at its k-th git process, then one plain rerun. Returns the
/// number of trials.
fn every_kill_heals(fx: &Fixture, scenario: &Scenario) -> usize {
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
    let trials = kill_points(&processes);
    assert!(trials.len() > 20, "{}: only {processes}", scenario.name);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(&(k, how)) = trials.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let label = format!("{}-{k}-{how:?}", scenario.name);
                    let ws = fx.tmp.path().join(&label);
                    copy_dir(&scenario.start, &ws);
                    let log = fx.tmp.path().join(format!("{label}.log"));
                    let killed =
                        run_counted(fx, &dir_in(&ws), scenario.args, &exec_path, &log, Some((k, how)));
                    let out = fx.run(&dir_in(&ws), scenario.args);
                    let result = if !killed {
                        Err("the run was not killed".to_string())
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
                            "killed ({how:?}) at git process {k} ({}):\n  {e}\n  rerun said: {}",
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

#[test]
fn checkout_sync_killed_at_any_git_process_heals_with_one_rerun() {
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
    let trials = every_kill_heals(&fx, &scenario);
    eprintln!(
        "checkout --sync: {trials} interrupted runs, each healed, in {:.1?}",
        started.elapsed()
    );
}

#[test]
fn sync_moving_deps_and_submodules_killed_at_any_git_process_heals_with_one_rerun() {
    let started = Instant::now();
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
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
    let trials = every_kill_heals(&fx, &scenario);
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
        "error: interrupted (Ctrl-C); the git processes it started were ended. Run the same command again to\n\
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
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    pin_app(&fx, &fx.ws.join("app"), fx.id("LIBA_3"), fx.id("LIBB_2"));
    let left = fx.ws.join("liba/.git/index.lock");
    let blocked = start_blocked_with(
        &fx,
        &fx.ws.join("app"),
        "checkout",
        &["-j", "1", "sync"],
        &[
            ("TRUST_GIT_IGNORE_INT", std::ffi::OsStr::new("1")),
            ("TRUST_GIT_LEAVE_LOCK", left.as_os_str()),
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn touch_at(path: &Path, when: std::time::SystemTime) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(path).unwrap().set_modified(when).unwrap();
}

/// A killed run's git processes may leave lock files that make every later
/// git command there fail. The next run removes exactly those the rule of
/// `src/recover.rs` allows, and says so for each: not one made before the
/// killed run started, not one outside the repositories the tool manages.
#[test]
fn git_lock_files_a_killed_run_left_are_removed_by_the_next_run_and_no_others() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    let app = fx.ws.join("app");
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
    let started = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(since);

    let stale = [
        ("liba", ".git/index.lock"),
        ("liba", ".git/refs/heads/main.lock"),
        ("liba", ".git/modules/third_party/subx/shallow.lock"),
        ("liba", ".git/modules/third_party/suby/index.lock"),
        ("libb", ".git/HEAD.lock"),
        ("base", ".git/config.lock"),
    ];
    let now = std::time::SystemTime::now();
    for (project, path) in stale {
        touch_at(&fx.ws.join(project).join(path), now);
    }
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
    for (project, path) in stale {
        assert!(!fx.ws.join(project).join(path).exists(), "{project}/{path}");
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
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
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
        "pid={dead}\nhost={}\ncommand=sync\nsince={since}.0\nchild={}\n",
        hostname(),
        git.id()
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
