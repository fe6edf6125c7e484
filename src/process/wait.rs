//! Waiting for something to hold, with a limit.

use std::time::{Duration, Instant};

/// Waits until `done` holds or `limit` passes; whether it held.
#[cfg(unix)]
pub fn wait_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
