//! A command's output kept in a temporary file rather than in memory:
//! `foreach` holds each project's output until it can be printed in
//! project order, and a command may print gigabytes. The child writes
//! straight into the file; the tool reads it back a piece at a time.
//!
//! The file is readable only by the user and, on Unix, removed from its
//! folder as soon as it is open: nothing is left behind, however the run
//! ends.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The size of the pieces output is read back in.
pub const PIECE: usize = 64 * 1024;

/// Output written to a temporary file.
#[derive(Debug)]
pub struct Spool {
    file: File,
    /// Where the file was made, until it is removed (only where an open
    /// file cannot be removed: not on Unix).
    #[cfg_attr(unix, allow(dead_code))]
    path: Option<PathBuf>,
}

impl Spool {
    /// A new, empty spool in the temporary folder (`TMPDIR`).
    pub fn new() -> io::Result<Spool> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir();
        for _ in 0..16 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let path = dir.join(format!(
                ".openxla-workspace-output-{}-{}-{nanos}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(file) => {
                    let path = if cfg!(unix) {
                        std::fs::remove_file(&path)?;
                        None
                    } else {
                        Some(path)
                    };
                    return Ok(Spool { file, path });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "could not make a temporary file for a command's output",
        ))
    }

    /// A handle for a child to write its output into.
    pub fn writer(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Another handle on the same output (the reader's position is its own
    /// only through [`Spool::pieces`], which always starts at the top).
    pub fn try_clone(&self) -> io::Result<Spool> {
        Ok(Spool {
            file: self.file.try_clone()?,
            path: None,
        })
    }

    /// How many bytes were written.
    fn len(&self) -> u64 {
        self.file.metadata().map_or(0, |m| m.len())
    }

    /// Whether the output ends with a newline (or is empty).
    pub fn ends_with_newline(&self) -> bool {
        let len = self.len();
        if len == 0 {
            return true;
        }
        let mut last = [0u8; 1];
        let mut file = &self.file;
        file.seek(SeekFrom::Start(len - 1))
            .and_then(|_| file.read_exact(&mut last))
            .is_ok()
            && last[0] == b'\n'
    }

    /// Hands the output to `each`, [`PIECE`] bytes at a time, from the top.
    pub fn pieces(&self, mut each: impl FnMut(&[u8])) -> io::Result<()> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(0))?;
        let mut buffer = vec![0u8; PIECE];
        loop {
            let n = match file.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            each(&buffer[..n]);
        }
    }

    /// The output as text, invalid UTF-8 replaced as
    /// `String::from_utf8_lossy` replaces it, handed to `each` a piece at a
    /// time (a character is never split between two pieces).
    pub fn text_pieces(&self, mut each: impl FnMut(&str)) -> io::Result<()> {
        let mut carry: Vec<u8> = Vec::new();
        self.pieces(|bytes| {
            carry.extend_from_slice(bytes);
            let mut rest = &carry[..];
            loop {
                match std::str::from_utf8(rest) {
                    Ok(text) => {
                        each(text);
                        rest = &[];
                        break;
                    }
                    Err(e) => {
                        let valid = e.valid_up_to();
                        // The first `valid` bytes were just checked.
                        each(std::str::from_utf8(&rest[..valid]).unwrap_or_default());
                        match e.error_len() {
                            Some(bad) => {
                                each("\u{FFFD}");
                                rest = &rest[valid + bad..];
                            }
                            // A character cut by the end of this piece.
                            None => {
                                rest = &rest[valid..];
                                break;
                            }
                        }
                    }
                }
            }
            carry = rest.to_vec();
        })?;
        if !carry.is_empty() {
            each("\u{FFFD}");
        }
        Ok(())
    }
}

#[cfg(not(unix))]
impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn spool_of(bytes: &[u8]) -> Spool {
        let spool = Spool::new().unwrap();
        spool.writer().unwrap().write_all(bytes).unwrap();
        spool
    }

    #[test]
    fn text_matches_from_utf8_lossy_across_pieces() {
        // A character cut at every piece boundary, invalid bytes, and a
        // character cut by the end of the output.
        let mut bytes = Vec::new();
        while bytes.len() < 3 * PIECE {
            bytes.extend_from_slice("aé€😀\u{202e}".as_bytes());
            bytes.extend_from_slice(b"\xff\xc3(");
        }
        bytes.extend_from_slice(&"😀".as_bytes()[..2]);
        let spool = spool_of(&bytes);
        let mut text = String::new();
        spool.text_pieces(|t| text.push_str(t)).unwrap();
        assert_eq!(text, String::from_utf8_lossy(&bytes));
        assert_eq!(spool.len(), bytes.len() as u64);
        assert!(!spool.ends_with_newline());
        assert!(spool_of(b"x\n").ends_with_newline());
        assert_eq!(spool_of(b"").len(), 0);
    }
}
