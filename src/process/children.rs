//! The child registry: every process of the run that is running now, told
//! to the spawn observer as it starts, and ended on an interrupt
//! ([`end_children`]). Process-wide, because the signal handling thread has
//! no handle to ask.

use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::SystemTime;

/// The git processes running now, for [`end_children`].
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// The running checkouts that rewrite a working tree (a subset of
/// [`CHILDREN`]), which an interrupt lets finish.
static FINISHING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// The run's leave to start processes: no process starts unseen by
/// [`end_children`], which closes it.
static GATE: Gate = Gate::new();

/// Held, shared, by each process from just before it starts until it is
/// listed ([`Start`]), and taken exclusively to close it: every process
/// that started is listed by then, and none starts after.
struct Gate {
    starting: RwLock<()>,
    /// The signal the run's processes are being ended with (0 while open).
    ending: AtomicI32,
}

impl Gate {
    const fn new() -> Gate {
        Gate {
            starting: RwLock::new(()),
            ending: AtomicI32::new(0),
        }
    }

    fn may_start(&'static self) -> Option<Start> {
        let gate = self.starting.read().unwrap_or_else(|e| e.into_inner());
        (self.ending.load(Ordering::SeqCst) == 0).then_some(Start { _gate: gate })
    }

    /// Closes the gate once every [`Start`] given has ended.
    fn close(&self, signal: i32) {
        let _all_listed = self.starting.write().unwrap_or_else(|e| e.into_inner());
        self.ending.store(signal, Ordering::SeqCst);
    }
}

/// Leave to start one child process, held until [`Running::new`] lists it.
pub struct Start {
    _gate: RwLockReadGuard<'static, ()>,
}

/// Leave to start a child process; `None` once the run is being ended.
pub fn may_start() -> Option<Start> {
    GATE.may_start()
}

/// Told of every child process twice: just before it is started (`None`,
/// with the time and its folder), and once started (its pid, the same time
/// and folder). The workspace lock records both, so a later run knows which
/// processes a run that did not finish had started, where, and since when
/// they could have written there, even when that run was killed between
/// the two.
pub type SpawnObserver = std::sync::Arc<dyn Fn(Option<u32>, SystemTime, &Path) + Send + Sync>;

static OBSERVER: RwLock<Option<SpawnObserver>> = RwLock::new(None);

/// Sets (or, with `None`, removes) the [`SpawnObserver`].
pub fn set_spawn_observer(observer: Option<SpawnObserver>) {
    *OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = observer;
}

fn observe(pid: Option<u32>, at: SystemTime, dir: &Path) {
    if let Some(observer) = OBSERVER.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        observer(pid, at, dir);
    }
}

/// Locks one of the pid lists, going on with it if another thread panicked.
fn lock(list: &'static Mutex<Vec<u32>>) -> MutexGuard<'static, Vec<u32>> {
    list.lock().unwrap_or_else(|e| e.into_inner())
}

/// Tells the spawn observer that a process is about to start in `dir`, and
/// returns the time to hand to [`Running::new`] once it has.
pub fn starting(dir: &Path) -> SystemTime {
    let at = SystemTime::now();
    observe(None, at, dir);
    at
}

/// Lists a started process among the running children until dropped.
pub struct Running(Vec<u32>);

impl Running {
    /// Lists `pids`, started in `dir` no earlier than `started` with leave
    /// `_start`, which ends here.
    pub fn new(pids: Vec<u32>, lets_finish: bool, dir: &Path, started: SystemTime, _start: Start) -> Running {
        for &pid in &pids {
            observe(Some(pid), started, dir);
        }
        if lets_finish {
            lock(&FINISHING).extend(&pids);
        }
        lock(&CHILDREN).extend(&pids);
        Running(pids)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        lock(&CHILDREN).retain(|pid| !self.0.contains(pid));
        lock(&FINISHING).retain(|pid| !self.0.contains(pid));
    }
}

/// Sends `signal` to process `pid`, one of the run's children: listed until
/// just after its wait returns, so the pid names that process (reuse in
/// that instant is not a practical concern).
#[cfg(unix)]
fn send(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Sends `signal` to every git process the run has running, except the
/// checkouts that rewrite a working tree, which are let finish (they do
/// not take the terminal's signals either: `crate::process::interrupt::child_signals`),
/// and waits up to `grace` for them all to end (git removes its own lock
/// files on SIGINT and SIGTERM). A checkout still running then gets
/// SIGTERM (it ends cut short, which the next run repairs), any other git
/// still running is killed, and after another `grace` whatever is left.
/// Returns whether a git had to be killed: it may have left its lock files.
#[cfg(unix)]
pub fn end_children(signal: i32, grace: std::time::Duration) -> bool {
    use rustix::process::Signal;
    let Some(first) = Signal::from_named_raw(signal) else {
        return false;
    };
    // Once every process that started is listed, and before the list is
    // read: none starts after (see `may_start`).
    GATE.close(signal);
    let ended = || super::wait::wait_until(grace, || lock(&CHILDREN).is_empty());
    // Sends `to_others` to each git not let finish, `to_finishing` (if any)
    // to the rest; whether there were any of the former.
    let send_each = |to_finishing: Option<Signal>, to_others: Signal| {
        let let_finish = lock(&FINISHING).clone();
        let mut others = false;
        for pid in lock(&CHILDREN).clone() {
            if !let_finish.contains(&pid) {
                send(pid, to_others);
                others = true;
            } else if let Some(signal) = to_finishing {
                send(pid, signal);
            }
        }
        others
    };
    send_each(None, first);
    if ended() {
        return false;
    }
    let killed = send_each(Some(Signal::TERM), Signal::KILL);
    if ended() {
        return killed;
    }
    send_each(Some(Signal::KILL), Signal::KILL);
    ended();
    true
}

/// Runs `expr` to its end as one of the run's children (pip for `roll`, the
/// user's command for `foreach`), running in `dir`: listed while it runs,
/// so that an interrupt ends it as it ends git, and told to the spawn
/// observer.
pub fn run_listed(expr: &duct::Expression, dir: &Path) -> std::io::Result<std::process::Output> {
    let start = may_start().ok_or_else(|| std::io::Error::other("interrupted; not started"))?;
    let started = starting(dir);
    let handle = expr.start()?;
    let _running = Running::new(handle.pids(), false, dir, started, start);
    handle.wait().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    #[test]
    fn the_gate_closes_only_once_every_start_given_is_listed() {
        static GATE: Gate = Gate::new();
        static LISTED: AtomicBool = AtomicBool::new(false);
        let (given, taken) = std::sync::mpsc::channel();
        let starting = std::thread::spawn(move || {
            let start = GATE.may_start().expect("open");
            given.send(()).unwrap();
            // A process started, and not yet listed, for a while.
            std::thread::sleep(Duration::from_millis(200));
            LISTED.store(true, Ordering::SeqCst);
            drop(start);
        });
        taken.recv().unwrap();
        GATE.close(15);
        assert!(
            LISTED.load(Ordering::SeqCst),
            "closed while a start was under way"
        );
        assert!(GATE.may_start().is_none(), "a start after closing");
        starting.join().unwrap();
    }
}
