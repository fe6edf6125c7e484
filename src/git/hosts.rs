//! What this run has learnt of each host it talks to: once a git process to
//! a host failed for a cause of the whole host ([`Cause::is_host_wide`]: no
//! name resolution, a refused connection, TLS), no further git process to
//! it starts, and each is reported as skipped for that cause.
//!
//! The first process to a host goes alone for up to
//! [`FIRST_CONTACT_GRACE`]: those causes show within milliseconds, so with
//! the network down one process per host is tried, not one per project.
//! Once it ends otherwise, or the grace is over (a slow clone is no reason
//! to wait), the rest go. Process-wide: one run is one process, its git
//! processes on many threads and handles.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::cause::{url_host, Cause};
use super::{Git, GitCommand, GitError, GitErrorKind, GitResult};

/// How long the others wait for the first git process to a host before
/// they start anyway.
pub const FIRST_CONTACT_GRACE: Duration = Duration::from_millis(1500);

/// A host found shut for the whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostDown {
    /// The host.
    pub host: String,
    /// Why.
    pub cause: Cause,
    /// git's line that showed it.
    pub said: String,
}

/// What may happen next for one host.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    /// Start the git process; `first`: it is the first to this host and
    /// must report its end with [`HostGate::leave`].
    Go { first: bool },
    /// Do not: the host is shut.
    Down(HostDown),
}

#[derive(Clone, Debug)]
enum State {
    /// A first git process to it is running.
    Contacting,
    /// It answered (or was given the benefit of the doubt).
    Open,
    /// Shut, for the whole run.
    Down(HostDown),
}

/// The state of every host of a run (see the module documentation).
#[derive(Debug, Default)]
pub struct HostGate {
    hosts: Mutex<BTreeMap<String, State>>,
    changed: Condvar,
}

impl HostGate {
    /// Whether a git process to `host` may start, waiting (up to `grace`)
    /// while the first one to it runs.
    pub fn enter(&self, host: &str, grace: Duration) -> Entry {
        let started = Instant::now();
        let mut hosts = self.lock();
        loop {
            match hosts.get(host) {
                None => {
                    hosts.insert(host.to_string(), State::Contacting);
                    return Entry::Go { first: true };
                }
                Some(State::Open) => return Entry::Go { first: false },
                Some(State::Down(down)) => return Entry::Down(down.clone()),
                Some(State::Contacting) => {
                    let Some(left) = grace.checked_sub(started.elapsed()).filter(|d| !d.is_zero()) else {
                        return Entry::Go { first: false };
                    };
                    hosts = self
                        .changed
                        .wait_timeout(hosts, left)
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
        }
    }

    /// A git process to `host` ended, having failed with `stderr` (`None`:
    /// it worked). A cause of the whole host shuts it for the run; any
    /// other end of the first process opens it to the others.
    pub fn leave(&self, host: &str, first: bool, failed: Option<&str>) {
        let cause = failed.map(Cause::classify);
        let mut hosts = self.lock();
        match cause.filter(|c| c.is_host_wide()) {
            Some(cause) => {
                let said = cause.telling_line(failed.unwrap_or_default());
                let down = HostDown {
                    host: host.to_string(),
                    cause,
                    said,
                };
                hosts.insert(host.to_string(), State::Down(down));
            }
            None if first => {
                hosts.insert(host.to_string(), State::Open);
            }
            None => {}
        }
        drop(hosts);
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, State>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Git {
    /// Runs `cmd`; when it reaches the server at `url` (a clone or fetch of
    /// a cache mirror), through the run's gate of that host, as
    /// [`Git::to_host`].
    pub fn run_to(&self, url: &str, cmd: &GitCommand) -> GitResult<()> {
        if super::ssh::reaches_remote(&cmd.args) {
            self.to_host(url, cmd, || self.run(cmd))
        } else {
            self.run(cmd)
        }
    }

    /// Runs `run`, which starts `cmd` to the server at `url`, unless the
    /// run found that host shut already (then `cmd` fails without a
    /// process, as [`GitErrorKind::HostDown`]); tells the run's
    /// [`HostGate`] how it went. A local URL has no host and just runs.
    pub(super) fn to_host<T>(
        &self,
        url: &str,
        cmd: &GitCommand,
        run: impl FnOnce() -> GitResult<T>,
    ) -> GitResult<T> {
        let Some(host) = url_host(url) else {
            return run();
        };
        match gate().enter(host, FIRST_CONTACT_GRACE) {
            Entry::Down(down) => Err(GitError::of(
                cmd,
                String::new(),
                GitErrorKind::HostDown(Box::new(down)),
            )),
            Entry::Go { first } => {
                let result = run();
                let failed = result.as_ref().err().map(|e| e.stderr.as_str());
                gate().leave(host, first, failed);
                result
            }
        }
    }
}

/// The run's gate.
fn gate() -> &'static HostGate {
    static GATE: std::sync::OnceLock<HostGate> = std::sync::OnceLock::new();
    GATE.get_or_init(HostGate::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_DNS: &str =
        "fatal: unable to access 'https://h.invalid/a.git/': Could not resolve host: h.invalid";
    const GRACE: Duration = Duration::from_secs(5);

    #[test]
    fn a_host_that_failed_for_the_whole_host_is_shut_for_the_run() {
        let gate = HostGate::default();
        assert_eq!(gate.enter("h.invalid", GRACE), Entry::Go { first: true });
        gate.leave("h.invalid", true, Some(NO_DNS));
        let down = HostDown {
            host: "h.invalid".to_string(),
            cause: Cause::NameResolution,
            said: NO_DNS.to_string(),
        };
        assert_eq!(gate.enter("h.invalid", GRACE), Entry::Down(down));
        // Other hosts are not concerned.
        assert_eq!(gate.enter("other", GRACE), Entry::Go { first: true });
    }

    #[test]
    fn a_host_that_answered_stays_open_whatever_its_repositories_say() {
        let gate = HostGate::default();
        assert_eq!(gate.enter("h", GRACE), Entry::Go { first: true });
        gate.leave("h", true, Some("fatal: repository 'https://h/x.git/' not found"));
        assert_eq!(gate.enter("h", GRACE), Entry::Go { first: false });
        gate.leave("h", false, None);
        assert_eq!(gate.enter("h", GRACE), Entry::Go { first: false });
    }

    #[test]
    fn the_others_wait_for_the_first_contact_and_learn_from_it() {
        let gate = std::sync::Arc::new(HostGate::default());
        assert_eq!(gate.enter("h", GRACE), Entry::Go { first: true });
        let waiter = {
            let gate = gate.clone();
            std::thread::spawn(move || gate.enter("h", GRACE))
        };
        std::thread::sleep(Duration::from_millis(50));
        gate.leave("h", true, Some(NO_DNS));
        assert!(matches!(waiter.join().unwrap(), Entry::Down(_)));
    }

    #[test]
    fn after_the_grace_the_others_go_without_waiting_for_a_slow_first() {
        let gate = HostGate::default();
        assert_eq!(gate.enter("h", GRACE), Entry::Go { first: true });
        let started = Instant::now();
        assert_eq!(
            gate.enter("h", Duration::from_millis(50)),
            Entry::Go { first: false }
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
    }
}
