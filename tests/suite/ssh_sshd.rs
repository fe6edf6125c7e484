//! Connection sharing against a real OpenSSH server (issue 23): sshd on
//! 127.0.0.1 with its default `MaxStartups` and `MaxSessions`, started by
//! `scripts/local-sshd.sh` in the test's temporary folder (generated host
//! and user keys, `ssh -F` pointed at its own config, every new connection
//! logged by a `ProxyCommand`), and stopped at the test's end, panic or not.
//!
//! Skipped, saying why, only when sshd is not installed and `CI` is unset;
//! `.ci/run` installs it and sets `CI`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{hermetic, text, BIN};

/// The tool's eight sessions per master (`SESSIONS_PER_MASTER`).
const SESSIONS_PER_MASTER: usize = 8;

/// A running sshd and the organisation it serves, all under `tmp`.
struct Server {
    tmp: tempfile::TempDir,
    root: PathBuf,
    port: u16,
    pid: i32,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: the sshd this test started (its pid from local-sshd.sh).
        unsafe {
            libc::kill(self.pid, libc::SIGTERM);
        }
        let _ = &self.tmp;
    }
}

impl Server {
    /// sshd serving `projects` tiny bare repositories, or `None` (printed)
    /// when sshd is missing outside CI.
    fn start(projects: usize) -> Option<Server> {
        let sshd_present = Path::new("/usr/sbin/sshd").exists()
            || Command::new("sh")
                .args(["-c", "command -v sshd"])
                .output()
                .is_ok_and(|o| o.status.success());
        if !sshd_present {
            assert!(
                std::env::var_os("CI").is_none(),
                "sshd is not installed, and CI is set: install openssh-server (.ci/run does)"
            );
            eprintln!("skipped: sshd is not installed (openssh-server); CI is unset");
            return None;
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/local-sshd.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(root.join("sshd"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "local-sshd.sh failed:\n{}", text(&out));
        let value = |key: &str| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.strip_prefix(key).map(str::to_string))
                .unwrap_or_else(|| panic!("no {key} from local-sshd.sh:\n{}", text(&out)))
        };
        let server = Server {
            port: value("PORT=").parse().unwrap(),
            pid: value("PID=").parse().unwrap(),
            tmp,
            root,
        };
        server.make_org(projects);
        Some(server)
    }

    /// `projects` bare repositories `pNN.git` (one commit each: copies of
    /// one), a registry whose `p00` depends on all the others,
    /// and an initialised workspace.
    fn make_org(&self, projects: usize) {
        let seed = self.root.join("seed");
        std::fs::create_dir_all(self.root.join("home")).unwrap();
        let git = |dir: &Path, args: &[&str]| {
            let out = hermetic(Command::new("git"), &self.root.join("home"))
                .current_dir(dir)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}:\n{}", text(&out));
        };
        std::fs::create_dir_all(&seed).unwrap();
        git(&seed, &["init", "-q", "-b", "main"]);
        std::fs::write(seed.join("README"), "seed\n").unwrap();
        git(&seed, &["add", "README"]);
        git(&seed, &["commit", "-q", "-m", "seed"]);
        let repos = self.root.join("repos");
        std::fs::create_dir_all(&repos).unwrap();
        git(&repos, &["clone", "-q", "--bare", "../seed", "p00.git"]);
        let mut registry = String::from("include_default = false\n");
        for i in 0..projects {
            let name = format!("p{i:02}");
            if i > 0 {
                let status = Command::new("cp")
                    .args(["-r", "p00.git", &format!("{name}.git")])
                    .current_dir(&repos)
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            let url = format!("ssh://127.0.0.1:{}{}/{name}.git", self.port, repos.display());
            registry.push_str(&format!("\n[repos.{name}]\nro_url = \"{url}\"\n"));
            if i == 0 {
                let deps: Vec<String> = (1..projects).map(|d| format!("\"p{d:02}\"")).collect();
                registry.push_str(&format!("deps = [{}]\n", deps.join(", ")));
            }
        }
        std::fs::write(self.root.join("registry.toml"), registry).unwrap();
        std::fs::create_dir_all(self.root.join("ws")).unwrap();
        let out = self.tool(&["init"]).output().unwrap();
        assert!(out.status.success(), "init:\n{}", text(&out));
    }

    /// The tool in the workspace, with ssh pointed at the server's client
    /// config, and a marker in its environment that every process it
    /// starts inherits (see [`Server::leftovers`]).
    fn tool(&self, args: &[&str]) -> Command {
        let mut cmd = hermetic(Command::new(BIN), &self.root.join("home"));
        cmd.current_dir(self.root.join("ws"))
            .env("OPENXLA_WORKSPACE_REGISTRY", self.root.join("registry.toml"))
            .env(
                "GIT_SSH_COMMAND",
                format!("ssh -F {}", self.root.join("sshd/ssh_config").display()),
            )
            .env("OXW_SSHD_TEST", &self.root)
            .stdin(Stdio::null())
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.tool(args).output().unwrap()
    }

    /// New ssh connections so far (lines the `ProxyCommand` logged).
    fn handshakes(&self) -> usize {
        std::fs::read_to_string(self.root.join("sshd/handshakes.log"))
            .unwrap()
            .lines()
            .count()
    }

    fn set_latency(&self, seconds: &str) {
        std::fs::write(self.root.join("sshd/latency"), seconds).unwrap();
    }

    /// Processes the tool started that are still there, waiting up to
    /// three seconds for them to go: those with this test's marker in their
    /// environment, and `nc` processes to this server's port (an ssh master
    /// rewrites its own command line and environment, its `ProxyCommand`
    /// does not). Read from `/proc`, not a global process search that
    /// other tests could disturb.
    fn leftovers(&self) -> Vec<String> {
        let marker = format!("OXW_SSHD_TEST={}", self.root.display());
        let nc = format!("nc\0127.0.0.1\0{}\0", self.port);
        let started = Instant::now();
        loop {
            let mut found = Vec::new();
            for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.bytes().all(|b| b.is_ascii_digit()) || name == std::process::id().to_string() {
                    continue;
                }
                let read = |f: &str| std::fs::read(entry.path().join(f)).unwrap_or_default();
                let environ = String::from_utf8_lossy(&read("environ")).into_owned();
                let cmdline = String::from_utf8_lossy(&read("cmdline")).into_owned();
                if environ.split('\0').any(|v| v == marker) || cmdline == nc {
                    found.push(format!("{name}: {}", cmdline.replace('\0', " ")));
                }
            }
            if found.is_empty() || started.elapsed() > Duration::from_secs(3) {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// What the design allows: one master per slot of eight sessions, per host.
fn masters_for(jobs: usize, projects: usize) -> usize {
    jobs.min(projects).div_ceil(SESSIONS_PER_MASTER)
}

#[test]
fn sixty_four_projects_at_jobs_64_succeed_against_sshd_defaults_over_eight_connections() {
    let Some(server) = Server::start(64) else { return };
    let started = Instant::now();
    let out = server.run(&["checkout", "--ro", "--jobs", "64", "p00"]);
    assert!(out.status.success(), "checkout failed:\n{}", text(&out));
    for i in 0..64 {
        assert!(
            server.root.join(format!("ws/p{i:02}/README")).is_file(),
            "p{i:02} not checked out"
        );
    }
    let handshakes = server.handshakes();
    eprintln!(
        "64 projects, --jobs 64: {handshakes} handshakes in {:?}",
        started.elapsed()
    );
    assert!(
        (1..=masters_for(64, 64)).contains(&handshakes),
        "{handshakes} handshakes for 64 projects at --jobs 64:\n{}",
        text(&out)
    );
    assert_eq!(
        server.leftovers(),
        Vec::<String>::new(),
        "the masters outlived the run"
    );
}

#[test]
fn a_run_at_eight_jobs_uses_one_connection_and_a_no_op_rerun_none() {
    let Some(server) = Server::start(16) else { return };
    let out = server.run(&["checkout", "--ro", "--jobs", "8", "p00"]);
    assert!(out.status.success(), "checkout failed:\n{}", text(&out));
    assert_eq!(server.handshakes(), 1, "{}", text(&out));
    let out = server.run(&["checkout", "--ro", "--jobs", "8", "p00"]);
    assert!(out.status.success(), "rerun failed:\n{}", text(&out));
    assert_eq!(
        server.handshakes(),
        1,
        "a rerun with everything there connected:\n{}",
        text(&out)
    );
    assert_eq!(server.leftovers(), Vec::<String>::new());
}

#[test]
fn without_sharing_every_process_connects() {
    let Some(server) = Server::start(8) else { return };
    let out = server
        .tool(&["checkout", "--ro", "--jobs", "4", "p00"])
        .env("OPENXLA_WORKSPACE_SSH_SHARING", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "checkout failed:\n{}", text(&out));
    assert_eq!(server.handshakes(), 8, "{}", text(&out));
}

/// Connection sharing the user set up in their ssh configuration for a
/// host is theirs: the tool adds no options for that host (which would
/// override theirs, as ssh takes the command line first), and their
/// master is the one used, left running for its persist time as they
/// asked.
#[test]
fn sharing_set_up_in_the_users_ssh_config_is_theirs_to_keep() {
    let Some(server) = Server::start(8) else { return };
    let config = server.root.join("sshd/ssh_config");
    let socket = server.root.join("user-master");
    let mut settings = std::fs::read_to_string(&config).unwrap();
    settings.push_str(&format!(
        "Host 127.0.0.1\n  ControlMaster auto\n  ControlPath {}\n  ControlPersist 10\n",
        socket.display()
    ));
    std::fs::write(&config, settings).unwrap();
    let out = server.run(&["checkout", "--ro", "--jobs", "4", "p00"]);
    assert!(out.status.success(), "checkout failed:\n{}", text(&out));
    let handshakes = server.handshakes();
    assert!(
        (1..=4).contains(&handshakes),
        "{handshakes} handshakes:\n{}",
        text(&out)
    );
    // Their master, persisting as they asked, is theirs to end; the test's
    // own end is here.
    let end_their_master = || {
        Command::new("ssh")
            .args(["-F", config.to_str().unwrap(), "-p", &server.port.to_string()])
            .args(["-O", "exit", "127.0.0.1"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let used = socket.exists();
    end_their_master();
    assert!(used, "the user's control path was not used:\n{}", text(&out));

    // The generated sync_deps.py leaves it to them too.
    let out = server.run(&["pin", "--repo", "p00"]);
    assert!(out.status.success(), "pin failed:\n{}", text(&out));
    for i in 1..8 {
        std::fs::remove_dir_all(server.root.join(format!("ws/p{i:02}"))).unwrap();
    }
    let out = hermetic(Command::new("python3"), &server.root.join("home"))
        .arg(server.root.join("ws/p00/sync_deps.py"))
        .args(["--jobs", "4"])
        .env("GIT_SSH_COMMAND", format!("ssh -F {}", config.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "sync_deps.py failed:\n{}", text(&out));
    let used = socket.exists();
    end_their_master();
    assert!(
        used,
        "sync_deps.py did not use the user's control path:\n{}",
        text(&out)
    );
}

#[test]
fn an_ssh_that_is_not_openssh_by_gits_rules_is_left_alone() {
    let Some(server) = Server::start(4) else { return };
    // A program named `plink`: git passes it plink's options (`-P PORT`),
    // which this one turns into OpenSSH's; the tool adds nothing.
    let bin = server.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let plink = bin.join("plink");
    std::fs::write(
        &plink,
        format!(
            "#!/bin/sh\nif [ \"$1\" = -P ]; then port=$2; shift 2; fi\nexec ssh -F {} -p \"$port\" \"$@\"\n",
            server.root.join("sshd/ssh_config").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plink, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = server
        .tool(&["checkout", "--ro", "--jobs", "4", "p00"])
        .env("GIT_SSH_COMMAND", &plink)
        .output()
        .unwrap();
    assert!(out.status.success(), "checkout failed:\n{}", text(&out));
    assert_eq!(server.handshakes(), 4, "{}", text(&out));
}

#[test]
fn a_refused_key_is_not_retried() {
    let Some(server) = Server::start(1) else { return };
    let config = server.root.join("sshd/ssh_config");
    let other_key = server.root.join("sshd/other_key");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .unwrap();
    assert!(keygen.success());
    let text_of = std::fs::read_to_string(&config).unwrap();
    let bad = text_of.replace(
        &format!("IdentityFile {}", server.root.join("sshd/user_key").display()),
        &format!("IdentityFile {}", other_key.display()),
    );
    let bad_config = server.root.join("sshd/ssh_config_bad");
    std::fs::write(&bad_config, bad).unwrap();
    let out = server
        .tool(&["checkout", "--ro", "-v", "p00"])
        .env("GIT_SSH_COMMAND", format!("ssh -F {}", bad_config.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        common::stderr(&out).contains("Permission denied"),
        "{}",
        text(&out)
    );
    assert!(!common::stderr(&out).contains("retrying"), "{}", text(&out));
    assert_eq!(server.handshakes(), 1, "{}", text(&out));
}

#[test]
fn a_connection_closed_during_key_exchange_is_retried_and_says_so() {
    let Some(server) = Server::start(1) else { return };
    std::fs::write(server.root.join("sshd/drop"), "1").unwrap();
    let out = server.run(&["checkout", "--ro", "-v", "p00"]);
    assert!(out.status.success(), "checkout failed:\n{}", text(&out));
    assert!(
        common::stderr(&out).contains("connection closed during key exchange"),
        "{}",
        text(&out)
    );
    assert_eq!(server.handshakes(), 2, "{}", text(&out));
}

#[test]
fn ctrl_c_mid_run_leaves_no_ssh_process_behind() {
    let Some(server) = Server::start(16) else { return };
    server.set_latency("0.3");
    let mut child = server
        .tool(&["checkout", "--ro", "--jobs", "16", "p00"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once connections are on their way.
    let started = Instant::now();
    while server.handshakes() < 2 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sends SIGINT to the tool this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        server.leftovers(),
        Vec::<String>::new(),
        "ssh processes outlived the interrupted run"
    );
}

#[test]
fn the_generated_sync_deps_py_shares_one_connection_too() {
    let Some(server) = Server::start(12) else { return };
    let out = server.run(&["checkout", "--ro", "p00"]);
    assert!(out.status.success(), "checkout failed:\n{}", text(&out));
    let out = server.run(&["pin", "--repo", "p00"]);
    assert!(out.status.success(), "pin failed:\n{}", text(&out));
    for i in 1..12 {
        std::fs::remove_dir_all(server.root.join(format!("ws/p{i:02}"))).unwrap();
    }
    let before = server.handshakes();
    // A temporary folder whose path (27 bytes) leaves too little room for a
    // socket below it: the script must put its sockets elsewhere.
    let short_tmp = tempfile::Builder::new()
        .prefix("oxw-socket-room-")
        .tempdir_in("/tmp")
        .unwrap();
    assert_eq!(short_tmp.path().as_os_str().len(), 27);
    let out = hermetic(Command::new("python3"), &server.root.join("home"))
        .arg(server.root.join("ws/p00/sync_deps.py"))
        .args(["--jobs", "8"])
        .env("TMPDIR", short_tmp.path())
        .env(
            "GIT_SSH_COMMAND",
            format!("ssh -F {}", server.root.join("sshd/ssh_config").display()),
        )
        .env("OXW_SSHD_TEST", &server.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "sync_deps.py failed:\n{}", text(&out));
    for i in 1..12 {
        assert!(
            server.root.join(format!("ws/p{i:02}/README")).is_file(),
            "p{i:02} not synced"
        );
    }
    assert_eq!(server.handshakes() - before, 1, "{}", text(&out));
    assert_eq!(
        server.leftovers(),
        Vec::<String>::new(),
        "sync_deps.py left its masters"
    );
}
