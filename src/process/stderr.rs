//! Human lines on standard error, written so that a stderr nobody reads
//! any more (`sync 2>&1 | head -1`) ends nothing. `eprintln!` panics when
//! the write fails (the tool ignores SIGPIPE, so a closed pipe is `EPIPE`),
//! and a panic while moving working trees would leave them half moved.
//! Here a failed write is dropped. Use `errln!` and `err!` as `eprintln!`
//! and `eprint!`.

use std::fmt;
use std::io::{self, Write};

/// Writes `args` to stderr; a failure is ignored (see the module).
pub fn write_fmt(args: fmt::Arguments) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.flush());
}

/// `eprint!` that never panics; see the module.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::process::stderr::write_fmt(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics; see the module.
macro_rules! errln {
    () => {
        $crate::process::stderr::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::process::stderr::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use {err, errln};
