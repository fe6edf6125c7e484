//! Results on standard output, written so that a reader who stops reading
//! (`list | head -1`) ends nothing. `println!` would panic on the broken
//! pipe, and SIGPIPE would kill the run half way through moving working
//! trees. Here the first failed write closes the output for the rest of
//! the run: quietly for a reader that went away, with one warning on stderr
//! for any other failure (a full disk behind `>`). Use `out!` and `outln!`
//! as `print!` and `println!`.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to stdout, unless an earlier write failed.
pub fn write_fmt(args: fmt::Arguments) {
    write_with(|out| out.write_fmt(args));
}

/// Writes `bytes` to stdout as they are, unless an earlier write failed.
pub fn write_bytes(bytes: &[u8]) {
    write_with(|out| out.write_all(bytes));
}

/// Whether stdout was closed by a failed write (nothing more is written).
pub fn is_closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

/// Runs `write` on stdout and flushes it, unless an earlier write failed;
/// a failure closes stdout.
fn write_with(write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
    if CLOSED.load(Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout().lock();
    let Err(e) = write(&mut out).and_then(|()| out.flush()) else {
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
