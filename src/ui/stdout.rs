//! Results on standard output, written so that a reader who stops reading
//! (`openxla-workspace list | head -1`) ends nothing. `println!` would
//! panic on the broken pipe, and the default action of SIGPIPE would kill
//! the run half way through moving working trees. Here the first write
//! that fails closes the output for the rest of the run: a reader that went
//! away quietly, any other failure (a full disk behind `>`) with one
//! warning on stderr. The run finishes its work and exits with its own
//! status.
//!
//! Use `out!` and `outln!` as `print!` and
//! `println!`.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to stdout, unless an earlier write failed.
pub fn write_fmt(args: fmt::Arguments) {
    if CLOSED.load(Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.flush());
    closed_by(written);
}

/// Writes `bytes` to stdout as they are, unless an earlier write failed.
pub fn write_bytes(bytes: &[u8]) {
    if CLOSED.load(Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout().lock();
    let written = out.write_all(bytes).and_then(|()| out.flush());
    closed_by(written);
}

/// Whether stdout was closed by a failed write (nothing more is written).
pub fn is_closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

fn closed_by(written: io::Result<()>) {
    let Err(e) = written else {
        return;
    };
    if !CLOSED.swap(true, Ordering::SeqCst) && e.kind() != io::ErrorKind::BrokenPipe {
        let _ = writeln!(
            io::stderr(),
            "warning: could not write to standard output ({e}); the rest of the output is lost, the run goes on"
        );
    }
}

/// `print!` that never panics; see the module.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::ui::stdout::write_fmt(format_args!($($arg)*))
    };
}

/// `println!` that never panics; see the module.
macro_rules! outln {
    () => {
        $crate::ui::stdout::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::ui::stdout::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use {out, outln};
