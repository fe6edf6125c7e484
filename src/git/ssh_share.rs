//! One ssh connection per host for the git processes of a run (OpenSSH
//! connection sharing), and transient refusals retried.
//!
//! When git would run OpenSSH (see `ssh.rs`), each git process that may
//! reach a remote gets `GIT_SSH_COMMAND`: the ssh command in effect with
//! `-o ControlMaster=auto -o ControlPath=… -o ControlPersist=30`. The
//! sockets live in a private (0700) folder of the run, removed with the
//! masters (`ssh -O exit`) when the run ends or is interrupted; after a
//! hard kill the masters end on their own after the persist time.
//!
//! A server caps the sessions on one connection (OpenSSH's `MaxSessions`,
//! 10 by default), so processes are spread over *slots* of at most
//! [`SESSIONS_PER_MASTER`], each with its own master per host (`--jobs 64`:
//! at most 8 per host). The first process of a slot to a host runs alone
//! until its master's socket appears or it ends; at most one master per
//! slot opens at a time, which also keeps the unauthenticated connections
//! under sshd's `MaxStartups`.
//!
//! A process's host comes from a clone's URL or a fetch's `origin`. A
//! submodule's process, whose URL the tool does not read, shares (without
//! waiting) once an ssh process has set sharing up: a run that reaches no
//! ssh URL never asks git for its ssh settings.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::command::GitCommand;
use super::ssh::{reaches_remote, sharing_command, ssh_destination, SshSettings, SshVariant};
use super::Git;

/// The most git processes sharing one master at a time: under OpenSSH's
/// default `MaxSessions` of 10, with room for a session the server has not
/// yet counted as closed.
pub const SESSIONS_PER_MASTER: usize = 8;

/// How many times a command refused for a transient reason runs again.
pub const RETRIES: u32 = 4;

/// The environment variable that turns sharing off (`0`), for comparing.
pub const SHARING_ENV: &str = "OPENXLA_WORKSPACE_SSH_SHARING";

/// The run's connection sharing, set up on its first network command.
#[derive(Debug, Default)]
pub struct SshSharing {
    masters: OnceLock<Option<Masters>>,
}

/// The run's masters: the folder of their sockets, the ssh command, and
/// which slot each running process uses.
#[derive(Debug)]
struct Masters {
    dir: PathBuf,
    command: String,
    slots: Mutex<Slots>,
    changed: Condvar,
    /// Per host: whether the user's ssh configuration shares connections
    /// to it already (see [`users_own_sharing`]).
    own: Mutex<std::collections::HashMap<String, bool>>,
    _on_interrupt: crate::process::interrupt::Cleanup,
}

#[derive(Debug, Default)]
struct Slots {
    /// Processes running per slot.
    users: Vec<usize>,
    /// (slot, host) pairs whose master is up, or was tried.
    opened: HashSet<(usize, String)>,
    /// (slot, host) pairs whose first process is opening the master.
    opening: HashSet<(usize, String)>,
}

/// A process's place in a slot, held while it runs.
pub(super) struct Lease<'a> {
    masters: &'a Masters,
    slot: usize,
    opening: Option<(usize, String)>,
}

impl SshSharing {
    /// The masters, set up on first use: `None` when ssh is not OpenSSH by
    /// git's rules, sharing is turned off, or no private folder could be made.
    fn masters(&self, dir: &Path) -> Option<&Masters> {
        self.masters.get_or_init(|| Masters::new(dir)).as_ref()
    }
}

impl Drop for SshSharing {
    fn drop(&mut self) {
        if let Some(Some(masters)) = self.masters.get() {
            close_masters(&masters.dir, &masters.command);
        }
    }
}

impl Masters {
    fn new(dir: &Path) -> Option<Masters> {
        if std::env::var(SHARING_ENV).is_ok_and(|v| v == "0") {
            return None;
        }
        let ssh = read_settings(dir).in_effect();
        let openssh = match ssh.variant {
            SshVariant::OpenSsh => true,
            SshVariant::Other => false,
            SshVariant::Probe => probe_openssh(&ssh.command),
        };
        if !openssh {
            return None;
        }
        let dir = private_dir()?;
        let (closing_dir, command) = (dir.clone(), ssh.command.clone());
        Some(Masters {
            _on_interrupt: crate::process::interrupt::on_interrupt(Box::new(move || {
                close_masters(&closing_dir, &command)
            })),
            dir,
            command: ssh.command,
            slots: Mutex::default(),
            changed: Condvar::new(),
            own: Mutex::default(),
        })
    }

    /// Whether the user's own ssh configuration shares connections to
    /// `host` (asked once per host and run): theirs is then left to work.
    fn users_own(&self, host: &str) -> bool {
        let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        *own.entry(host.to_string())
            .or_insert_with(|| users_own_sharing(&self.command, host))
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place in the first slot with room, waiting while another process
    /// of that slot opens the master to `host`.
    fn lease(&self, host: Option<String>) -> Lease<'_> {
        let mut slots = self.slots();
        let slot = slots
            .users
            .iter()
            .position(|&n| n < SESSIONS_PER_MASTER)
            .unwrap_or_else(|| {
                slots.users.push(0);
                slots.users.len() - 1
            });
        slots.users[slot] += 1;
        let mut lease = Lease {
            masters: self,
            slot,
            opening: None,
        };
        let Some(host) = host else {
            return lease;
        };
        let key = (slot, host);
        while !slots.opened.contains(&key) {
            if slots.opening.insert(key.clone()) {
                lease.opening = Some(key);
                return lease;
            }
            if self.socket_exists(&key) {
                slots.opened.insert(key.clone());
                break;
            }
            slots = self
                .changed
                .wait_timeout(slots, Duration::from_millis(10))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        lease
    }

    /// The control path of `slot` to `host` (`%C`, a hash of the real
    /// destination, keeps two hosts an `insteadOf` maps one name to apart).
    fn control_path(&self, slot: usize, host: Option<&str>) -> String {
        let dir = self.dir.to_string_lossy().replace('%', "%%");
        format!("{dir}/{}-%C", socket_prefix(slot, host))
    }

    fn socket_exists(&self, (slot, host): &(usize, String)) -> bool {
        let prefix = socket_prefix(*slot, Some(host));
        std::fs::read_dir(&self.dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_prefix(&prefix)
                    .is_some_and(|rest| rest.starts_with('-') && !rest.contains('.'))
            })
        })
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut slots = self.masters.slots();
        slots.users[self.slot] -= 1;
        if let Some(key) = self.opening.take() {
            slots.opening.remove(&key);
            slots.opened.insert(key);
        }
        self.masters.changed.notify_all();
    }
}

/// The start of a socket's name: its slot and a short hash of the host
/// (`x` for a process whose host is not known).
fn socket_prefix(slot: usize, host: Option<&str>) -> String {
    match host {
        Some(host) => {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            host.hash(&mut hasher);
            format!("{slot}-{:08x}", hasher.finish() as u32)
        }
        None => format!("{slot}-x"),
    }
}

impl Git {
    /// Sets `cmd` up to share the run's ssh connections, if it may reach a
    /// remote and sharing is on: `expr` with `GIT_SSH_COMMAND` naming its
    /// slot's master, and the place in the slot, held while git runs.
    /// Called once the process holds its place under the `--jobs` cap.
    pub(super) fn share_ssh<'a>(
        &'a self,
        cmd: &GitCommand,
        expr: duct::Expression,
    ) -> (duct::Expression, Option<Lease<'a>>) {
        let Some(sharing) = self.ssh.as_deref() else {
            return (expr, None);
        };
        if !reaches_remote(&cmd.args) {
            return (expr, None);
        }
        // A process to another transport is left alone. One whose remote is
        // not known (a submodule's) shares once an ssh process of the run
        // has set sharing up, without waiting for a master (it may go to
        // any host); a run that uses no ssh never sets it up.
        let remote = remote_of(cmd);
        let host = remote.as_deref().and_then(ssh_destination);
        let masters = match (&remote, &host) {
            (_, Some(_)) => sharing.masters(&cmd.dir),
            (None, None) => sharing.masters.get().and_then(Option::as_ref),
            (Some(_), None) => None,
        };
        let Some(masters) = masters else {
            return (expr, None);
        };
        // The user's ~/.ssh/config (or -F file) already shares connections
        // to this host: our options would override theirs (ssh takes the
        // command line first), so theirs are left to work.
        if host.as_deref().is_some_and(|h| masters.users_own(h)) {
            return (expr, None);
        }
        let lease = masters.lease(host.clone());
        let path = masters.control_path(lease.slot, host.as_deref());
        let expr = expr.env("GIT_SSH_COMMAND", sharing_command(&masters.command, &path));
        (expr, Some(lease))
    }

    /// Runs `cmd` once by `run`, and again after a pause (doubling from a
    /// quarter second) up to [`RETRIES`] times while it fails for a
    /// transient ssh reason (see [`super::ssh::transient_refusal`]); `-v`
    /// says each time.
    pub(super) fn retrying_transient<F>(
        &self,
        cmd: &GitCommand,
        mut run: F,
    ) -> super::GitResult<std::process::Output>
    where
        F: FnMut() -> super::GitResult<std::process::Output>,
    {
        let mut attempt = 0;
        loop {
            let out = run()?;
            if out.status.success() || attempt >= RETRIES || !reaches_remote(&cmd.args) {
                return Ok(out);
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            let Some(why) = super::ssh::transient_refusal(&stderr) else {
                return Ok(out);
            };
            if crate::process::interrupt::is_interrupted() {
                return Ok(out);
            }
            attempt += 1;
            let pause = Duration::from_millis(250 << (attempt - 1)) + jitter();
            if self.verbose {
                let line = format!(
                    "retrying in {} ms ({attempt}/{RETRIES}), {why}: {cmd}",
                    pause.as_millis()
                );
                // Never a panic on a closed stderr; what the server said is
                // shown escaped.
                crate::process::stderr::errln!("{}", crate::model::text::escape_control(&line, false));
            }
            std::thread::sleep(pause);
        }
    }
}

/// Up to 100 ms, so that processes refused together do not come back
/// together.
fn jitter() -> Duration {
    Duration::from_millis(random() % 100)
}

/// A number no other call or run is likely to get.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    hasher.finish()
}

/// The remote URL `cmd` reaches: its URL argument (a clone, `ls-remote`),
/// else the `origin` URL of the repository it runs in, from its config
/// file (a fetch); `None` when neither says (a submodule's URL).
fn remote_of(cmd: &GitCommand) -> Option<String> {
    let takes_url = cmd.args.iter().any(|a| a == "clone" || a == "ls-remote");
    if let Some(dash) = cmd.args.iter().position(|a| a == "--").filter(|_| takes_url) {
        if let Some(url) = cmd.args.get(dash + 1) {
            return Some(url.to_string_lossy().into_owned());
        }
    }
    if !cmd.args.iter().any(|a| a == "origin") {
        return None;
    }
    origin_url_of(&cmd.dir)
}

/// The `origin` URL of the repository at `repo`, read from its config
/// file without starting git (see [`origin_url`]); `None` when it cannot
/// be read.
pub fn origin_url_of(repo: &Path) -> Option<String> {
    let config = super::files::git_dir_of(repo)?.join("config");
    let meta = std::fs::metadata(&config).ok()?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    origin_url(&std::fs::read_to_string(config).ok()?)
}

/// `remote.origin.url` in a git config file's text, read simply: the
/// `url = …` line of the `[remote "origin"]` section.
fn origin_url(config: &str) -> Option<String> {
    let mut in_origin = false;
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            in_origin = line.replace(' ', "") == "[remote\"origin\"]";
        } else if in_origin {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim().eq_ignore_ascii_case("url") {
                    return Some(value.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    None
}

/// What git would read for its ssh command: the environment, and the
/// settings as `git config` reads them in `dir`.
fn read_settings(dir: &Path) -> SshSettings {
    let env = |name: &str| std::env::var(name).ok();
    let config = |key: &str| {
        let expr = duct::cmd("git", ["config", "--get", key])
            .dir(if dir.is_dir() { dir } else { Path::new(".") })
            .stdin_null()
            .stdout_capture()
            .stderr_null()
            .unchecked();
        let out = crate::process::env::without_repository_env(expr).run().ok()?;
        let value = String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_string();
        (out.status.success() && !value.is_empty()).then_some(value)
    };
    SshSettings {
        ssh_command_env: env("GIT_SSH_COMMAND"),
        ssh_command_config: config("core.sshCommand"),
        ssh_program_env: env("GIT_SSH"),
        variant_env: env("GIT_SSH_VARIANT"),
        variant_config: config("ssh.variant"),
    }
}

/// git's probe for a command not known by name: OpenSSH if `-G` (print the
/// configuration and exit) succeeds. OpenSSH answers at once; a program
/// still running after two seconds is not it (see [`ssh_g`]).
fn probe_openssh(command: &str) -> bool {
    ssh_g(command, "example.invalid").is_some()
}

/// Whether the ssh `command` in effect, by the user's configuration, makes
/// or uses a shared connection to `destination` (`ssh -G`: a
/// `controlpath`, or a `controlmaster` other than `false`). `false` when
/// ssh cannot say.
fn users_own_sharing(command: &str, destination: &str) -> bool {
    // `-G` takes a port only in URL form.
    let target = if destination.contains(':') {
        format!("ssh://{destination}")
    } else {
        destination.to_string()
    };
    ssh_g(command, &target).is_some_and(|config| configured_sharing(&config))
}

/// What `COMMAND -G TARGET` prints (the configuration in effect, without
/// connecting), when it succeeds within two seconds; a program still
/// running then is stopped. It takes signals as git's processes do (see
/// `crate::process::interrupt::child_signals`).
fn ssh_g(command: &str, target: &str) -> Option<String> {
    let line = format!("{command} -G {}", crate::process::shell_quote(target));
    let handle = duct::cmd("sh", ["-c", &line])
        .stdin_null()
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .before_spawn(|child| crate::process::interrupt::child_signals(child, false))
        .start()
        .ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline && !crate::process::interrupt::is_interrupted() {
        match handle.try_wait() {
            Ok(Some(out)) => {
                return out
                    .status
                    .success()
                    .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
    let _ = handle.kill();
    None
}

/// In `ssh -G`'s output: a control path, or a control master other than
/// `false`.
fn configured_sharing(config: &str) -> bool {
    config.lines().any(|line| match line.split_once(' ') {
        Some(("controlpath", value)) => value != "none",
        Some(("controlmaster", value)) => value != "false" && value != "no",
        _ => false,
    })
}

/// Ends every master with a socket in `dir` (`ssh -O exit`), then removes
/// the folder.
fn close_masters(dir: &Path, command: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let socket = crate::process::shell_quote(&entry.path().to_string_lossy());
        let _ = duct::cmd("sh", ["-c", &format!("{command} -S {socket} -O exit _")])
            .stdin_null()
            .stdout_null()
            .stderr_null()
            .unchecked()
            .run();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Shared connection handling for a runner.
pub type Sharing = Arc<SshSharing>;

/// The start of the name of a run's socket folder.
const DIR_PREFIX: &str = "oxw-ssh-";

/// Room for a socket's path: 104 bytes on macOS and the BSDs (108 on
/// Linux), its closing NUL included.
#[cfg(unix)]
const SOCKET_PATH_MAX: usize = 103;

/// The longest path a socket of the run takes below its temporary folder:
/// the run's folder (`/oxw-ssh-PID-XXXXXXXX`, a pid of up to 7 digits), then `/SLOT-HOST-` (slots
/// up to 999), `%C` (40 hex digits) and the 17 bytes ssh adds to the name
/// while it makes the socket.
#[cfg(unix)]
const SOCKET_PATH_BELOW_TEMP: usize = 1 + DIR_PREFIX.len() + 7 + 1 + 8 + 1 + 3 + 1 + 8 + 1 + 40 + 17;

/// Whether a socket of the run fits when its folder is made in `base`.
#[cfg(unix)]
fn sockets_fit_in(base: &Path) -> bool {
    base.as_os_str().len() + SOCKET_PATH_BELOW_TEMP <= SOCKET_PATH_MAX
}

/// A new private (0700) folder for the run's sockets, with a path short
/// enough for them (see [`sockets_fit_in`]): in the temporary folder, else
/// in /tmp. Folders of earlier runs that are gone are removed first.
#[cfg(unix)]
fn private_dir() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let base = [std::env::temp_dir(), PathBuf::from("/tmp")]
        .into_iter()
        .find(|base| sockets_fit_in(base))?;
    remove_stale_dirs(&base);
    for _ in 0..16 {
        let dir = base.join(format!(
            "{DIR_PREFIX}{}-{:08x}",
            std::process::id(),
            random() as u32
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                let meta = std::fs::symlink_metadata(&dir).ok()?;
                if meta.is_dir() && meta.permissions().mode() & 0o077 == 0 {
                    return Some(dir);
                }
                let _ = std::fs::remove_dir_all(&dir);
                return None;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => return None,
        }
    }
    None
}

#[cfg(not(unix))]
fn private_dir() -> Option<PathBuf> {
    None
}

/// Removes the socket folders of runs killed before they could (ours, by
/// their process id, whose process is gone; needs `/proc` to tell). Their
/// masters have ended by then or end within the persist time.
#[cfg(unix)]
fn remove_stale_dirs(base: &Path) {
    use std::os::unix::fs::MetadataExt;
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(DIR_PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let ours = entry.metadata().is_ok_and(|m| m.is_dir() && Some(m.uid()) == uid);
        let is_pid = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
        if ours && is_pid && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn a_run_s_sockets_go_where_their_longest_path_fits() {
        use std::path::Path;
        // /tmp fits with a 3-digit slot, the longest pid and ssh's suffix.
        assert!(super::sockets_fit_in(Path::new("/tmp")));
        assert!(super::sockets_fit_in(Path::new("/t/mp")));
        // A 17-byte folder left 109 bytes: ssh could not make the socket.
        assert!(!super::sockets_fit_in(Path::new("/dev/shm/main-tmp")));
        assert!(!super::sockets_fit_in(Path::new("/var/tmp")));
    }

    use super::*;

    #[test]
    fn sharing_the_users_config_sets_up_is_read_from_ssh_g() {
        assert!(!configured_sharing(
            "user root\ncontrolmaster false\ncontrolpersist no\n"
        ));
        assert!(configured_sharing(
            "controlmaster auto\ncontrolpath /tmp/cm-%r@%h:%p\ncontrolpersist 60\n"
        ));
        assert!(configured_sharing("controlmaster false\ncontrolpath /tmp/cm\n"));
        assert!(!configured_sharing("controlpath none\n"));
    }

    #[test]
    fn origin_url_is_read_from_its_section() {
        let config = "[core]\n\turl = no\n[remote \"upstream\"]\n\turl = ssh://u/x\n[remote \"origin\"]\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\turl = ssh://git@h:22/a.git\n";
        assert_eq!(origin_url(config).as_deref(), Some("ssh://git@h:22/a.git"));
        assert_eq!(origin_url("[core]\n"), None);
    }

    fn masters(dir: &Path) -> Masters {
        Masters {
            dir: dir.to_path_buf(),
            command: "ssh".into(),
            slots: Mutex::default(),
            changed: Condvar::new(),
            own: Mutex::default(),
            _on_interrupt: crate::process::interrupt::on_interrupt(Box::new(|| ())),
        }
    }

    #[test]
    fn slots_fill_eight_at_a_time_and_a_freed_place_is_taken_first() {
        let dir = tempfile::tempdir().unwrap();
        let masters = masters(dir.path());
        let mut leases: Vec<Lease<'_>> = (0..17).map(|_| masters.lease(None)).collect();
        let slots: Vec<usize> = leases.iter().map(|l| l.slot).collect();
        assert_eq!(slots, [[0; 8].as_slice(), &[1; 8], &[2]].concat());
        leases.remove(3);
        let again = masters.lease(None);
        assert_eq!(again.slot, 0);
        assert_eq!(masters.slots().users, [8, 8, 1]);
        drop((again, leases));
        assert_eq!(masters.slots().users, [0, 0, 0]);
    }

    #[test]
    fn the_first_process_to_a_host_goes_alone_until_its_socket_appears() {
        let dir = tempfile::tempdir().unwrap();
        let masters = masters(dir.path());
        let first = masters.lease(Some("h".into()));
        assert!(first.opening.is_some());
        // Another host of the same slot does not wait.
        assert!(masters.lease(Some("g".into())).opening.is_some());
        std::thread::scope(|scope| {
            let second = scope.spawn(|| masters.lease(Some("h".into())).opening.is_none());
            std::thread::sleep(Duration::from_millis(50));
            assert!(!second.is_finished(), "the second did not wait for the master");
            let socket = format!("{}-0123456789abcdef", socket_prefix(0, Some("h")));
            std::fs::write(dir.path().join(socket), "").unwrap();
            assert!(second.join().unwrap());
        });
        drop(first);
        assert!(masters.lease(Some("h".into())).opening.is_none());
    }

    #[test]
    fn sockets_of_one_slot_and_host_share_a_prefix() {
        assert_eq!(socket_prefix(3, None), "3-x");
        assert_eq!(socket_prefix(0, Some("h")), socket_prefix(0, Some("h")));
        assert_ne!(socket_prefix(0, Some("h")), socket_prefix(0, Some("g")));
        assert!(socket_prefix(7, Some("git@github.com")).starts_with("7-"));
    }
}
