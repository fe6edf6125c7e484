//! The askpass helper: what git (`GIT_ASKPASS`) and ssh (`SSH_ASKPASS`)
//! run to ask for a credential. It is this tool's own binary, run as the
//! hidden subcommand `askpass PROMPT` (answered before the command line is
//! parsed, so it appears in neither --help nor completions). It passes the
//! prompt to the running tool over the run's private socket and prints the
//! answer on stdout, or exits 1 when there is none.
//!
//! The wire format, one request per connection: the client sends
//! `1 TICKET PID KIND\n` (PID: the process that ran the helper, ssh or
//! git's https helper) then the prompt's bytes, and shuts its side; the
//! broker replies `+` and the answer, or `-`, and closes.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::answers::{wipe_bytes, Asker, Secret};

/// The socket of the running tool, set for every git it starts on a
/// terminal.
pub const SOCKET_VAR: &str = "OPENXLA_WORKSPACE_ASKPASS_SOCKET";

/// Which git process (of the running tool) this prompt belongs to.
pub const TICKET_VAR: &str = "OPENXLA_WORKSPACE_ASKPASS_TICKET";

/// The name under which git and ssh run the helper: a link to this binary
/// in the run's private folder.
pub const LINK_NAME: &str = "openxla-workspace-askpass";

/// The longest prompt accepted.
pub const MAX_PROMPT: usize = 16 * 1024;

/// What kind of question a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A credential or a question (username, passphrase, host key).
    Ask,
    /// ssh asks for a yes/no confirmation (`SSH_ASKPASS_PROMPT=confirm`):
    /// never taken from the cache.
    Confirm,
    /// ssh only shows a message (`SSH_ASKPASS_PROMPT=none`, e.g. "touch
    /// your security key"); nothing is read.
    Notice,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Ask => "ask",
            Kind::Confirm => "confirm",
            Kind::Notice => "notice",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "ask" => Some(Kind::Ask),
            "confirm" => Some(Kind::Confirm),
            "notice" => Some(Kind::Notice),
            _ => None,
        }
    }
}

/// A request as the broker reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub asker: Asker,
    pub kind: Kind,
    /// The prompt, as git or ssh gave it (not yet escaped).
    pub prompt: String,
}

/// The prompt arguments when this invocation is the helper: run as
/// `openxla-workspace askpass PROMPT`, or through the link [`LINK_NAME`]
/// with the prompt alone (ssh runs `SSH_ASKPASS` with one argument, so the
/// variable cannot hold the subcommand).
pub fn requested(args: &[OsString]) -> Option<&[OsString]> {
    let linked = args
        .first()
        .and_then(|arg0| std::path::Path::new(arg0).file_name())
        .is_some_and(|name| name == LINK_NAME);
    if linked {
        Some(&args[1..])
    } else if args.get(1).is_some_and(|arg| arg == "askpass") {
        Some(&args[2..])
    } else {
        None
    }
}

/// Runs the helper for `prompt` (the arguments git or ssh gave); returns
/// the exit status: 0 with the answer printed, 1 without an answer.
pub fn run(prompt: &[OsString]) -> i32 {
    let Some(socket) = std::env::var_os(SOCKET_VAR) else {
        crate::process::stderr::errln!(
            "openxla-workspace askpass: this is how git and ssh ask openxla-workspace for credentials while it runs; it is not for direct use"
        );
        return 2;
    };
    let asker = Asker {
        ticket: std::env::var(TICKET_VAR)
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(super::answers::UNTRACKED),
        pid: std::os::unix::process::parent_id(),
    };
    let kind = match std::env::var("SSH_ASKPASS_PROMPT").as_deref() {
        Ok("confirm") => Kind::Confirm,
        Ok("none") => Kind::Notice,
        _ => Kind::Ask,
    };
    let text = prompt
        .iter()
        .map(|part| part.as_bytes())
        .collect::<Vec<_>>()
        .join(&b' ');
    match ask(&socket, asker, kind, &text) {
        Ok(Some(mut answer)) => {
            // One write of the answer and its newline, straight to the
            // file descriptor: std's buffered stdout would keep a copy.
            answer.push(b'\n');
            let written = std::io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map(std::fs::File::from)
                .and_then(|mut out| out.write_all(answer.bytes()));
            if written.is_ok() {
                0
            } else {
                1
            }
        }
        Ok(None) => 1,
        Err(e) => {
            crate::process::stderr::errln!(
                "openxla-workspace askpass: could not reach openxla-workspace: {e}"
            );
            1
        }
    }
}

/// Sends one request and reads the reply.
fn ask(socket: &std::ffi::OsStr, asker: Asker, kind: Kind, prompt: &[u8]) -> std::io::Result<Option<Secret>> {
    let mut stream = UnixStream::connect(socket)?;
    let mut request = format!("1 {} {} {}\n", asker.ticket, asker.pid, kind.as_str()).into_bytes();
    request.extend_from_slice(prompt);
    stream.write_all(&request)?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut reply = Secret::new();
    let mut byte = [0u8; 1];
    while stream.read(&mut byte)? > 0 {
        if !reply.push(byte[0]) {
            wipe_bytes(&mut byte);
            return Err(std::io::Error::other("the answer is too long"));
        }
    }
    wipe_bytes(&mut byte);
    match reply.bytes().first() {
        Some(b'+') => {
            reply.drop_first();
            Ok(Some(reply))
        }
        _ => Ok(None),
    }
}

/// Reads a request from a connection (at most [`MAX_PROMPT`] bytes of
/// prompt, within a few seconds).
pub fn read_request(stream: &mut UnixStream) -> std::io::Result<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut raw = Vec::new();
    stream.take((MAX_PROMPT + 64) as u64).read_to_end(&mut raw)?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed askpass request");
    let newline = raw.iter().position(|&b| b == b'\n').ok_or_else(bad)?;
    let header = std::str::from_utf8(&raw[..newline]).map_err(|_| bad())?;
    let mut fields = header.split(' ');
    if fields.next() != Some("1") {
        return Err(bad());
    }
    let ticket = fields.next().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
    let pid = fields.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let kind = fields.next().and_then(Kind::parse).ok_or_else(bad)?;
    let prompt = String::from_utf8_lossy(&raw[newline + 1..]).into_owned();
    Ok(Request {
        asker: Asker { ticket, pid },
        kind,
        prompt,
    })
}

/// Replies with `answer`, or with a refusal.
pub fn reply(stream: &mut UnixStream, answer: Option<&Secret>) -> std::io::Result<()> {
    match answer {
        Some(answer) => {
            send_all(stream, b"+")?;
            send_all(stream, answer.bytes())
        }
        None => send_all(stream, b"-"),
    }
}

/// Writes all of `bytes`. A helper that went away (ssh or git killed while
/// it waited) is an error, never SIGPIPE: the tool dies of SIGPIPE on a
/// closed stdout, as Unix tools do, and must not die of one here.
fn send_all(stream: &mut UnixStream, mut bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    while !bytes.is_empty() {
        match rustix::net::send(&*stream, bytes, rustix::net::SendFlags::NOSIGNAL) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    stream.write_all(std::mem::take(&mut bytes))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_travel_whole_and_replies_carry_the_answer() {
        let (mut client, mut server) = UnixStream::pair().unwrap();
        let handle = std::thread::spawn(move || {
            let request = read_request(&mut server).unwrap();
            let mut answer = Secret::new();
            for b in b"s3cret" {
                answer.push(*b);
            }
            reply(&mut server, Some(&answer)).unwrap();
            request
        });
        client
            .write_all(b"1 7 4242 ask\nEnter passphrase for key '/k':")
            .unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"+s3cret");
        assert_eq!(
            handle.join().unwrap(),
            Request {
                asker: Asker { ticket: 7, pid: 4242 },
                kind: Kind::Ask,
                prompt: "Enter passphrase for key '/k':".into()
            }
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        for bad in [
            &b"2 1 1 ask\nx"[..],
            b"1 x 1 ask\nx",
            b"1 1 ask\nx",
            b"1 1 1 what\nx",
            b"no newline",
        ] {
            let (mut client, mut server) = UnixStream::pair().unwrap();
            client.write_all(bad).unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
            assert!(
                read_request(&mut server).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
