//! Asking the user on the terminal (`/dev/tty`): the prompt as git or ssh
//! gave it (escaped), the answer read without echo for secrets, and the
//! terminal's modes put back on every way out.
//!
//! The answer is read byte by byte with the terminal in non-canonical
//! mode and its signal keys off (`-icanon -isig`, as `stty` says), so that
//! Ctrl-C arrives as a byte the broker can act on (put the terminal back,
//! then stop the run) instead of killing the process with echo still off.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};

use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};

use super::answers::{wipe_bytes, Secret, MAX_ANSWER};
use crate::model::text::escape_control;

/// The controlling terminal.
const TTY: &str = "/dev/tty";

/// How the user answered.
#[derive(Debug)]
pub enum Reply {
    /// An answer, ended by Enter.
    Answer(Secret),
    /// Ctrl-D on an empty line, or the terminal went away.
    Cancelled,
    /// Ctrl-C.
    Interrupted,
}

/// Shows `notice` (a line of our own, if any) and `prompt` (text from git
/// or ssh, escaped) on the terminal and reads one answer, echoed only when
/// `echo` is set.
pub fn ask(prompt: &str, echo: bool, notice: Option<&str>) -> io::Result<Reply> {
    let mut tty = OpenOptions::new().read(true).write(true).open(TTY)?;
    let notice = notice.map(|notice| format!("{notice}\n")).unwrap_or_default();
    tty.write_all(format!("{notice}{}", escape_control(prompt, true)).as_bytes())?;
    let reply = {
        let _modes = RawModes::enter(&tty)?;
        read_answer(&mut tty, echo)
    };
    let end: &[u8] = match reply {
        Ok(Reply::Interrupted) => b"^C\n",
        _ => b"\n",
    };
    let _ = tty.write_all(end);
    reply
}

/// Shows a line (a notice from ssh: touch the security key) without
/// reading anything.
pub fn show(message: &str) -> io::Result<()> {
    let mut tty = OpenOptions::new().write(true).open(TTY)?;
    writeln!(tty, "{}", escape_control(message.trim_end(), true))
}

/// Reads bytes up to Enter, with the little line editing people expect:
/// Backspace, Ctrl-U (erase the line); Ctrl-C interrupts, Ctrl-D on an
/// empty line cancels; other control keys and escape sequences (arrows)
/// are ignored.
fn read_answer(tty: &mut File, echo: bool) -> io::Result<Reply> {
    let mut answer = Secret::new();
    let mut byte = [0u8; 1];
    let mut escape = Escape::None;
    let reply = loop {
        if !key_pressed(tty)? {
            continue;
        }
        // A signal that ends the run (SIGTERM, SIGHUP) ends the prompt
        // too: no answer, and the run's own message says why.
        if crate::process::interrupt::is_interrupted() {
            break Reply::Cancelled;
        }
        match tty.read(&mut byte) {
            Ok(0) => break Reply::Cancelled,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let b = byte[0];
        if escape != Escape::None {
            escape = match escape {
                Escape::Start if b == b'[' || b == b'O' => Escape::Sequence,
                Escape::Sequence if !(0x40..=0x7e).contains(&b) => Escape::Sequence,
                _ => Escape::None,
            };
            continue;
        }
        match b {
            b'\r' | b'\n' => break Reply::Answer(std::mem::take(&mut answer)),
            0x03 => break Reply::Interrupted,
            0x04 if answer.is_empty() => break Reply::Cancelled,
            0x7f | 0x08 => {
                if answer.pop_char() && echo {
                    tty.write_all(b"\x08 \x08")?;
                }
            }
            0x15 => {
                let typed = answer.chars();
                answer.wipe();
                if echo {
                    tty.write_all("\x08 \x08".repeat(typed).as_bytes())?;
                }
            }
            0x1b => escape = Escape::Start,
            b if b < 0x20 => {}
            b => {
                if answer.bytes().len() < MAX_ANSWER && answer.push(b) && echo {
                    tty.write_all(&[b])?;
                }
            }
        }
    };
    wipe_bytes(&mut byte);
    Ok(reply)
}

/// Waits up to a tenth of a second for a key; whether one came, or the run
/// was interrupted meanwhile. A prompt waiting in `read` would hold the
/// display and stderr while a signal winds the run down, and the run could
/// never say why it stopped, nor end.
fn key_pressed(tty: &File) -> io::Result<bool> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    if crate::process::interrupt::is_interrupted() {
        return Ok(true);
    }
    let mut fds = [PollFd::new(tty, PollFlags::IN)];
    let tenth = Timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    match poll(&mut fds, Some(&tenth)) {
        Ok(n) => Ok(n > 0),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Where an escape sequence (an arrow key) being skipped stands.
#[derive(Clone, Copy, PartialEq)]
enum Escape {
    None,
    /// After ESC.
    Start,
    /// After `ESC [` or `ESC O`, until its final byte.
    Sequence,
}

/// The terminal switched to reading a key at a time, without echo and
/// without signal keys; the saved modes come back when this is dropped
/// (on every return, and on a panic), and when a signal ends the run while
/// it lives (SIGTERM, SIGHUP: the signal thread exits the process without
/// dropping it).
struct RawModes {
    tty: File,
    saved: Termios,
    _on_interrupt: crate::process::interrupt::Cleanup,
}

impl RawModes {
    fn enter(tty: &File) -> io::Result<RawModes> {
        let tty = tty.try_clone()?;
        let saved = termios::tcgetattr(&tty)?;
        let mut raw = saved.clone();
        raw.local_modes
            .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG | LocalModes::IEXTEN);
        raw.special_codes[SpecialCodeIndex::VMIN] = 1;
        raw.special_codes[SpecialCodeIndex::VTIME] = 0;
        let (restore_tty, restore_modes) = (tty.try_clone()?, saved.clone());
        let on_interrupt = crate::process::interrupt::on_interrupt(Box::new(move || {
            let _ = termios::tcsetattr(&restore_tty, OptionalActions::Now, &restore_modes);
            // The prompt's line ends before the run's last message.
            let _ = (&restore_tty).write_all(b"\n");
        }));
        termios::tcsetattr(&tty, OptionalActions::Now, &raw)?;
        Ok(RawModes {
            tty,
            saved,
            _on_interrupt: on_interrupt,
        })
    }
}

impl Drop for RawModes {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(&self.tty, OptionalActions::Now, &self.saved);
    }
}
