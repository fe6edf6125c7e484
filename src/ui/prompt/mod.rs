//! Credential prompts on a terminal, while git runs in parallel under the
//! live display.
//!
//! Left to themselves, git (https) and ssh ask on the terminal: the live
//! display repaints over the prompt at once, and parallel processes ask
//! over each other. Instead, every git the tool starts on a terminal gets
//! `GIT_ASKPASS` and `SSH_ASKPASS` (with `SSH_ASKPASS_REQUIRE=force`)
//! pointing at this binary's hidden [`askpass`] subcommand, which passes
//! the prompt to this process over a Unix socket in a private (0700)
//! folder of the run. One thread here, the broker, takes the requests one
//! at a time: it hands over an answer already given to the same prompt, or
//! takes the live display off the screen, asks on `/dev/tty` ([`terminal`]),
//! and puts the display back. [`answers`] holds the rules.
//!
//! Answers live only in this process's memory: they reach the helper over
//! the socket and git or ssh through its stdout, never an environment
//! variable, a command line or a file, and are overwritten when the run
//! ends. Ctrl-C at a prompt puts the terminal back, removes the folder
//! and the workspace lock, and ends the run as Ctrl-C does anywhere else.

pub mod answers;
pub mod askpass;
pub mod failures;
mod peer;
mod terminal;

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;

pub use answers::Verdict;
use answers::{Answers, Secret, Step, MAX_REFUSALS};
use askpass::Kind;
use terminal::Reply;

use crate::ui::report::Reporter;

/// Names one git process to the broker, so that the outcome of the git
/// process can be told to it (a failure may prove an answer wrong), and a
/// process asking again (its answer was wrong) be told from another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

impl Ticket {
    /// For git processes whose outcome is not followed (`git --version`,
    /// local queries).
    pub const UNTRACKED: Ticket = Ticket(answers::UNTRACKED);
}

/// The prompt broker of a run on a terminal. It starts (folder, socket,
/// thread) with the first git process, and is taken down, its answers
/// overwritten, when dropped.
pub struct Prompts {
    desk: Arc<Desk>,
    next_ticket: AtomicU64,
    broker: OnceLock<Option<Broker>>,
}

/// What the broker's thread works with.
struct Desk {
    answers: Mutex<Answers>,
    reporter: Reporter,
    /// The run's private folder, once made (removed on Ctrl-C).
    dir: OnceLock<PathBuf>,
}

/// The running broker: its folder, socket, helper link and thread.
struct Broker {
    dir: PathBuf,
    socket: PathBuf,
    helper: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The folders' name prefix in the temporary folder.
const DIR_PREFIX: &str = "openxla-workspace-prompts-";

impl Prompts {
    /// A broker that suspends `reporter`'s live display while it asks.
    pub fn new(reporter: Reporter) -> Prompts {
        Prompts {
            desk: Arc::new(Desk {
                answers: Mutex::new(Answers::default()),
                reporter,
                dir: OnceLock::new(),
            }),
            next_ticket: AtomicU64::new(1),
            broker: OnceLock::new(),
        }
    }

    /// A new ticket for a git process about to start.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.next_ticket.fetch_add(1, Ordering::Relaxed))
    }

    /// Sends the prompts of the git process `expr` to the broker.
    pub fn route(&self, expr: duct::Expression, ticket: Ticket) -> duct::Expression {
        let Some(broker) = self.broker() else {
            return expr;
        };
        expr.env("GIT_ASKPASS", &broker.helper)
            .env("SSH_ASKPASS", &broker.helper)
            .env("SSH_ASKPASS_REQUIRE", "force")
            // When the helper gives no answer, git would ask on the
            // terminal itself, under the live display: it must fail instead.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env(askpass::SOCKET_VAR, &broker.socket)
            .env(askpass::TICKET_VAR, ticket.0.to_string())
    }

    /// What the prompts of the finished git process `ticket` say about
    /// it: `failed` is whether it failed, `stderr` what it said.
    pub fn outcome(&self, ticket: Ticket, failed: bool, stderr: &[u8]) -> Verdict {
        if ticket == Ticket::UNTRACKED {
            return Verdict::Done;
        }
        let refused = failed && failures::credentials_refused(&String::from_utf8_lossy(stderr));
        lock(&self.desk.answers).outcome(ticket.0, failed, refused)
    }

    fn broker(&self) -> Option<&Broker> {
        self.broker
            .get_or_init(|| match Broker::start(&self.desk) {
                Ok(broker) => Some(broker),
                Err(e) => {
                    self.desk.reporter.warn(&format!(
                        "could not set up the credential prompter ({e}); git and ssh will ask on the terminal themselves"
                    ));
                    None
                }
            })
            .as_ref()
    }
}

impl Drop for Prompts {
    fn drop(&mut self) {
        if let Some(Some(mut broker)) = self.broker.take() {
            broker.shut_down();
        }
        lock(&self.desk.answers).forget_all();
        peer::guard_memory(false);
    }
}

// Written by hand: nothing of the prompts (a prompt may name a user).
impl std::fmt::Debug for Prompts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompts").finish_non_exhaustive()
    }
}

impl Broker {
    /// Makes the private folder, the socket and the helper link, and starts
    /// the thread that serves requests.
    fn start(desk: &Arc<Desk>) -> io::Result<Broker> {
        let exe = std::env::current_exe()?;
        // A socket path is limited to about 100 bytes: fall back to /tmp
        // when the temporary folder's path is too long.
        let mut last_error = None;
        for base in [std::env::temp_dir(), PathBuf::from("/tmp")] {
            match Broker::start_in(&base, &exe, desk) {
                Ok(broker) => return Ok(broker),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no temporary folder")))
    }

    fn start_in(base: &Path, exe: &Path, desk: &Arc<Desk>) -> io::Result<Broker> {
        // Before any answer can be held.
        peer::guard_memory(true);
        let dir = private_dir(base)?;
        let made = (|| {
            let socket = dir.join("socket");
            let listener = UnixListener::bind(&socket)?;
            let helper = dir.join(askpass::LINK_NAME);
            std::os::unix::fs::symlink(exe, &helper)?;
            Ok::<_, io::Error>((socket, listener, helper))
        })();
        let (socket, listener, helper) = made.inspect_err(|_| {
            let _ = fs::remove_dir_all(&dir);
        })?;
        remove_stale_dirs(base, &dir);
        let _ = desk.dir.set(dir.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (desk, stop) = (Arc::clone(desk), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("openxla-workspace-prompts".into())
                .spawn(move || serve(listener, &desk, &stop))?
        };
        Ok(Broker {
            dir,
            socket,
            helper,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and removes the folder.
    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the thread from `accept`.
        let _ = UnixStream::connect(&self.socket);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The broker's thread: one request at a time, so that one prompt at a
/// time is on the screen and a second request for the same prompt finds
/// the first one's answer.
fn serve(listener: UnixListener, desk: &Desk, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if let Ok(mut stream) = stream {
            // Another process of the user that found the socket could
            // replay a prompt and take its answer: it gets nothing.
            if !peer::is_ours(&stream) {
                continue;
            }
            // A helper that went away has nobody to tell.
            let _ = desk.handle(&mut stream);
        }
    }
}

impl Desk {
    fn handle(&self, stream: &mut UnixStream) -> io::Result<()> {
        let request = askpass::read_request(stream)?;
        let prompt = request.prompt.as_str();
        match request.kind {
            Kind::Notice => {
                let _ = self.reporter.suspend(|| terminal::show(prompt));
                askpass::reply(stream, Some(&Secret::new()))
            }
            // A confirmation is asked each time: a yes is for one use.
            Kind::Confirm => match self.ask_user(prompt, true, None) {
                Ok(Reply::Answer(answer)) => askpass::reply(stream, Some(&answer)),
                _ => askpass::reply(stream, None),
            },
            Kind::Ask => {
                let mut answers = lock(&self.answers);
                let refused = match answers.request(request.asker, prompt) {
                    Step::Give => return askpass::reply(stream, answers.answer(prompt)),
                    Step::Refuse => return askpass::reply(stream, None),
                    Step::Ask { refused } => refused,
                };
                // Not locked while the user types: finished git processes
                // report their outcome meanwhile.
                drop(answers);
                let left = MAX_REFUSALS - refused;
                let notice = (refused > 0).then(|| {
                    let tries = if left == 1 { "try" } else { "tries" };
                    format!("that answer was refused ({left} {tries} left)")
                });
                let reply = self.ask_user(prompt, echoes(prompt), notice.as_deref());
                let mut answers = lock(&self.answers);
                let reason = match reply {
                    Ok(Reply::Answer(answer)) => {
                        answers.store(request.asker, prompt, answer);
                        return askpass::reply(stream, answers.answer(prompt));
                    }
                    Ok(_) => "the prompt was cancelled".to_string(),
                    Err(e) => format!("it could not be asked on the terminal: {e}"),
                };
                answers.close(request.asker.ticket, prompt, &reason);
                askpass::reply(stream, None)
            }
        }
    }

    /// Asks on the terminal with the live display off the screen. Ctrl-C
    /// ends the run here, before the display comes back.
    fn ask_user(&self, prompt: &str, echo: bool, notice: Option<&str>) -> io::Result<Reply> {
        let reply = self.reporter.suspend(|| {
            let reply = terminal::ask(prompt, echo, notice);
            if matches!(reply, Ok(Reply::Interrupted)) {
                self.reporter.go_dark();
            }
            reply
        });
        // Outside `suspend`, which holds the display and stderr: the
        // interrupt thread needs both to wind the run down.
        if matches!(reply, Ok(Reply::Interrupted)) {
            self.interrupt();
        }
        reply
    }

    /// Ctrl-C at a prompt (the terminal's modes are already back): forget
    /// the answers and remove the folder, then stop the run as Ctrl-C
    /// anywhere else does, with SIGINT to the process group (the git and
    /// ssh processes, and this one). Exits 130 should SIGINT be ignored.
    fn interrupt(&self) -> ! {
        lock(&self.answers).forget_all();
        if let Some(dir) = self.dir.get() {
            let _ = fs::remove_dir_all(dir);
        }
        let _ = std::process::Command::new("sh")
            .args(["-c", "kill -s INT 0"])
            .status();
        // The interrupt thread now ends the git processes, releases the
        // workspace lock and exits 130 (see crate::process::interrupt); this
        // thread ends the run itself only should that not come.
        let _ = crate::process::wait::wait_until(std::time::Duration::from_secs(10), || false);
        std::process::exit(130);
    }
}

/// Whether the answer to `prompt` is shown as typed: user names and
/// yes/no questions (ssh's host key question), not secrets.
fn echoes(prompt: &str) -> bool {
    let p = prompt.trim_start().to_ascii_lowercase();
    p.starts_with("username") || p.contains("(yes/no")
}

/// Makes a new folder readable only by us under `base`.
fn private_dir(base: &Path) -> io::Result<PathBuf> {
    for _ in 0..16 {
        let dir = base.join(format!("{DIR_PREFIX}{}-{:016x}", std::process::id(), random()));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                // `create` fails on anything already there, so this is our
                // new folder; check that no umask or ACL default widened it.
                let meta = fs::symlink_metadata(&dir)?;
                if !meta.is_dir() || meta.permissions().mode() & 0o077 != 0 {
                    let _ = fs::remove_dir_all(&dir);
                    return Err(io::Error::other(format!("{} is not private", dir.display())));
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "could not make a new folder in {}",
        base.display()
    )))
}

/// Removes the folders that earlier runs killed before their end left
/// behind: ours (same owner) whose process is gone. Needs `/proc` to tell.
fn remove_stale_dirs(base: &Path, ours: &Path) {
    let Ok(our_meta) = fs::symlink_metadata(ours) else {
        return;
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = entry.path();
        if let Ok(meta) = fs::symlink_metadata(&path) {
            if meta.is_dir() && meta.uid() == our_meta.uid() {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
}

/// 64 unpredictable bits (std's hasher keys are random per process).
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    hasher.finish()
}

/// Locks a mutex, going on with its data if another thread panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_and_yes_no_questions_are_echoed_secrets_are_not() {
        assert!(echoes("Username for 'https://example.org': "));
        assert!(echoes(
            "The authenticity of host 'h' can't be established.\nAre you sure you want to continue connecting (yes/no/[fingerprint])? "
        ));
        assert!(!echoes("Password for 'https://u@example.org': "));
        assert!(!echoes("Enter passphrase for key '/k':"));
    }

    #[test]
    fn the_private_folder_is_ours_alone_and_stale_ones_go() {
        let base = tempfile::tempdir().unwrap();
        // A folder of a process that no longer runs (pid beyond pid_max).
        let stale = base.path().join(format!("{DIR_PREFIX}4999999-0"));
        fs::create_dir(&stale).unwrap();
        let other = base.path().join("unrelated");
        fs::create_dir(&other).unwrap();
        let dir = private_dir(base.path()).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        remove_stale_dirs(base.path(), &dir);
        assert!(dir.is_dir());
        assert!(other.is_dir());
        assert_eq!(stale.exists(), !Path::new("/proc/self").exists());
    }
}
