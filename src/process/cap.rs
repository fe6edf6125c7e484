//! The `--jobs` cap: at most that many child processes of a run at once.

/// A counting semaphore over the git processes of a run: every process the
/// runner starts holds one permit while it runs, so however many threads
/// ask (projects in parallel, and the submodules of each in parallel), at
/// most `--jobs` git processes run at once.
#[derive(Debug)]
pub struct ProcessCap {
    max: usize,
    running: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

impl ProcessCap {
    /// A cap of `max` processes (at least one).
    pub fn new(max: usize) -> ProcessCap {
        ProcessCap {
            max: max.max(1),
            running: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits for a free permit and takes it; it is given back when the
    /// returned guard is dropped.
    pub fn acquire(&self) -> Permit<'_> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= self.max {
            running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Permit(self)
    }
}

/// One running git process's place under the [`ProcessCap`].
pub struct Permit<'a>(&'a ProcessCap);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        self.0.freed.notify_one();
    }
}
