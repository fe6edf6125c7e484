//! Ctrl-C (SIGINT), and SIGTERM or SIGHUP alike: the run ends the git
//! processes it started, takes its live display off the terminal, releases
//! the workspace lock and exits with 128 + the signal number (130 for
//! Ctrl-C). What it left half done is finished by the next run.
//!
//! The signals are blocked in every thread and taken by one thread of the
//! tool with `sigwait`, so the work on them is ordinary code, not a signal
//! handler. A blocked signal stays blocked across `exec`, so each git
//! unblocks them as it starts ([`child_signals`]): a git in the terminal's
//! foreground group gets the Ctrl-C itself and cleans up its own lock
//! files, as when run by hand. Except a checkout that rewrites a working
//! tree: it keeps SIGINT and SIGHUP blocked, and the run lets it finish
//! (it is local, and usually short) rather than stop it between two files,
//! with the files of two commits in the tree; one still running after the
//! grace period gets SIGTERM (see `super::children::end_children`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
#[cfg(unix)]
use std::time::Duration;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static KILLED_CHILDREN: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

type Action = Box<dyn FnOnce() + Send>;

/// What to undo on an interrupt, newest last.
static CLEANUPS: Mutex<Vec<(u64, Action)>> = Mutex::new(Vec::new());

/// How long the git processes get to end on their own before they are
/// killed: 5 s. The tests shorten it with `OPENXLA_WORKSPACE_TEST_GRACE_MS`
/// (1 to 5000 ms; any other value is ignored), read once; not for users.
#[cfg(unix)]
fn grace() -> Duration {
    static GRACE: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *GRACE.get_or_init(|| grace_from(std::env::var("OPENXLA_WORKSPACE_TEST_GRACE_MS").ok().as_deref()))
}

#[cfg(unix)]
fn grace_from(ms: Option<&str>) -> Duration {
    ms.and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| (1..=5000).contains(ms))
        .map_or(Duration::from_secs(5), Duration::from_millis)
}

/// A registered action; dropping it unregisters it (the work it guarded
/// was finished or undone normally).
#[derive(Debug)]
pub struct Cleanup {
    id: u64,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        cleanups().retain(|(id, _)| *id != self.id);
    }
}

/// Runs `action` if the run is interrupted while the returned guard lives.
/// Actions run newest first.
pub fn on_interrupt(action: Action) -> Cleanup {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    cleanups().push((id, action));
    Cleanup { id }
}

/// Whether an interrupt arrived: no new git starts, and progress output
/// stops, while the run winds down.
pub fn is_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The exit status of a run that finished with `code`, unless a signal
/// came (or is pending): its git processes then failed for that reason, and
/// the signal thread ends the process (with 130 for Ctrl-C) instead; this
/// waits for it.
pub fn finish(code: i32) -> i32 {
    #[cfg(unix)]
    let pending = unix::pending();
    #[cfg(not(unix))]
    let pending = false;
    if is_interrupted() || pending {
        loop {
            std::thread::park();
        }
    }
    code
}

/// Whether, on an interrupt, a git process did not end when asked and had
/// to be killed: it may have left lock files, so the workspace lock is then
/// released with this run's information left in its file, for the next
/// run to clean up after it as after a killed run.
pub fn children_were_killed() -> bool {
    KILLED_CHILDREN.load(Ordering::SeqCst)
}

/// Takes SIGINT, SIGTERM and SIGHUP for the rest of the process. Call
/// before any other thread starts: threads inherit the blocked signals.
pub fn install() {
    #[cfg(unix)]
    unix::install();
}

/// Sets up `cmd` so that the child process takes SIGINT, SIGTERM and
/// SIGHUP as a process run by hand does (they are blocked in the tool,
/// and the child would inherit that), or, `shielded`, keeps SIGINT and
/// SIGHUP blocked (its own children, a smudge filter or a hook, inherit
/// that): the terminal sends Ctrl-C and a hangup to its whole foreground
/// process group, and a shielded child stays in it (so that anything it
/// runs that asks on the terminal still can), but only the tool acts on
/// them. SIGTERM, which the tool sends to end it, is taken either way.
pub fn child_signals(cmd: &mut std::process::Command, shielded: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
        use std::os::unix::process::CommandExt;
        let mut taken = SigSet::empty();
        let mut kept = SigSet::empty();
        for (signal, _) in unix::SIGNALS {
            if shielded && signal != nix::sys::signal::Signal::SIGTERM {
                kept.add(signal);
            } else {
                taken.add(signal);
            }
        }
        // SAFETY: runs between fork and exec, and only calls sigprocmask
        // (async-signal-safe) on sets made before the fork.
        unsafe {
            cmd.pre_exec(move || {
                sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&taken), None)?;
                sigprocmask(SigmaskHow::SIG_BLOCK, Some(&kept), None)?;
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (cmd, shielded);
    Ok(())
}

fn cleanups() -> std::sync::MutexGuard<'static, Vec<(u64, Action)>> {
    CLEANUPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// What happens when a signal arrives; returns the exit status.
#[cfg(unix)]
fn wind_down(signal: i32, name: &str) -> i32 {
    INTERRUPTED.store(true, Ordering::SeqCst);
    if super::children::end_children(signal, grace()) {
        KILLED_CHILDREN.store(true, Ordering::SeqCst);
    }
    let actions: Vec<(u64, Action)> = std::mem::take(&mut *cleanups());
    for (_, action) in actions.into_iter().rev() {
        action();
    }
    crate::process::stderr::errln!(
        "error: interrupted ({name}); the git processes it started were ended. Run the same command again to \
         finish: it picks up where this one stopped"
    );
    128 + signal
}

#[cfg(unix)]
mod unix {
    use nix::sys::signal::{SigSet, Signal};

    pub const SIGNALS: [(Signal, &str); 3] = [
        (Signal::SIGINT, "Ctrl-C"),
        (Signal::SIGTERM, "SIGTERM"),
        (Signal::SIGHUP, "SIGHUP"),
    ];

    /// Whether one of the signals arrived but the signal thread has not yet
    /// taken it. Linux lists the signals pending for the whole process in
    /// `/proc/self/status` (`ShdPnd`, a hexadecimal mask, bit N-1 for
    /// signal N). Elsewhere this says no, and a signal that comes as the
    /// run ends may be taken a moment later, or not at all.
    pub fn pending() -> bool {
        #[cfg(target_os = "linux")]
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let mask = status
                .lines()
                .find_map(|l| l.strip_prefix("ShdPnd:"))
                .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                .unwrap_or(0);
            return SIGNALS
                .iter()
                .any(|(signal, _)| mask & (1u64 << (*signal as i32 - 1)) != 0);
        }
        false
    }

    pub fn install() {
        // Read before any git starts, not once a signal has come.
        super::grace();
        let set: SigSet = SIGNALS.iter().map(|(signal, _)| *signal).collect();
        if set.thread_block().is_err() {
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("openxla-workspace-signals".into())
            .spawn(move || loop {
                let Ok(signal) = set.wait() else {
                    continue;
                };
                let name = SIGNALS
                    .iter()
                    .find(|(s, _)| *s == signal)
                    .map_or("signal", |(_, n)| n);
                std::process::exit(super::wind_down(signal as i32, name));
            });
        if spawned.is_err() {
            // Nobody would take them: let them act as before.
            let _ = set.thread_unblock();
        }
    }
}

#[cfg(unix)]
#[cfg(test)]
mod tests {
    use super::grace_from;
    use std::time::Duration;

    #[test]
    fn the_grace_period_is_5_s_unless_a_test_shortens_it() {
        assert_eq!(grace_from(None), Duration::from_secs(5));
        assert_eq!(grace_from(Some("300")), Duration::from_millis(300));
        for ignored in ["", "0", "5001", "-1", "1.5", "abc"] {
            assert_eq!(grace_from(Some(ignored)), Duration::from_secs(5), "{ignored:?}");
        }
    }
}
