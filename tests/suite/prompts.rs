//! Credential prompts: on a terminal, one prompt at a time above the live
//! display, asked once per run; in CI, no prompt and a one-line hint.
//!
//! ssh is a stand-in (`GIT_SSH_COMMAND`): on hosts named `locked*` it asks
//! for the passphrase of key '/k' as OpenSSH does (through `SSH_ASKPASS`
//! when `SSH_ASKPASS_REQUIRE=force`, else on /dev/tty, up to 3 tries), on
//! hosts named `nokey*` it refuses as for a missing key, and then it serves
//! the fixture's bare repository with the local git-upload-pack. Each run
//! of it logs its arguments and environment and those of the git that
//! started it. https is a local smart-HTTP server behind Basic
//! authentication. The terminal is a pseudo-terminal driven by
//! `prompt_support/terminal.py`, which types the answers once the prompt is
//! on the screen; [`render`] turns what it showed into the lines a person
//! would see at the end.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{hermetic, stderr, text, Fixture, BIN};

const PROMPT: &str = "Enter passphrase for key '/k':";
const PASSPHRASE: &str = "Tr0ub4dor &3 horse";

/// The stand-in ssh; `DIR` is replaced by its folder.
const FAKE_SSH: &str = r#"#!/bin/sh
dir='DIR'
# `-G`: the configuration in effect, as OpenSSH prints it without a
# config file; no connection.
case " $* " in *" -G "*) echo 'controlmaster false'; exit 0 ;; esac
host= cmd=
for arg; do host=$cmd; cmd=$arg; done
{
  printf 'ssh'; printf ' [%s]' "$@"; printf '\n'
  env
  printf 'git:'; tr '\0' ' ' </proc/$PPID/cmdline; printf '\n'
  tr '\0' '\n' </proc/$PPID/environ
} >"$dir/log.$$"
case $host in
locked*)
  tries=0
  while :; do
    if [ "$SSH_ASKPASS_REQUIRE" = force ] && [ -n "$SSH_ASKPASS" ]; then
      answer=$("$SSH_ASKPASS" "Enter passphrase for key '/k':") || answer=
    elif (: </dev/tty) 2>/dev/null; then
      printf "Enter passphrase for key '/k':" >/dev/tty
      stty -echo </dev/tty
      read -r answer </dev/tty
      stty echo </dev/tty
      echo >/dev/tty
    else
      answer=
    fi
    if [ -n "$answer" ] && [ "$answer" = "$(cat "$dir/passphrase")" ]; then
      break
    fi
    tries=$((tries + 1))
    if [ -z "$answer" ] || [ "$tries" -ge 3 ]; then
      echo "git@$host: Permission denied (publickey)." >&2
      exit 255
    fi
  done
  ;;
nokey*)
  echo "git@$host: Permission denied (publickey)." >&2
  exit 255
  ;;
esac
exec sh -c "$cmd"
"#;

/// The fixture's repositories that the projects p1, p2, … clone in turn.
const REPOS: [&str; 4] = ["base", "libb", "app", "liba"];

/// A fixture with a stand-in ssh, a registry of projects p1, p2, … reached
/// over the network, and a temporary folder of its own for the run.
struct Remote {
    fx: Fixture,
    /// The stand-in ssh's folder (the script, the passphrase, the logs).
    ssh: PathBuf,
    /// `TMPDIR` of the run.
    tmpdir: PathBuf,
    registry: PathBuf,
}

impl Remote {
    /// Projects `p1`… on the given ssh hosts, one each.
    fn new(hosts: &[&str]) -> Remote {
        let remote = Remote::bare();
        let urls: Vec<String> = (0..hosts.len())
            .map(|i| format!("ssh://{}{}", hosts[i], remote.repo(i).display()))
            .collect();
        remote.register(&urls);
        remote
    }

    /// The fixture and the stand-in ssh, without a registry yet.
    fn bare() -> Remote {
        use std::os::unix::fs::PermissionsExt;
        let fx = Fixture::new();
        let ssh = fx.tmp.path().join("ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let script = ssh.join("ssh");
        std::fs::write(&script, FAKE_SSH.replace("DIR", &ssh.display().to_string())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(ssh.join("passphrase"), format!("{PASSPHRASE}\n")).unwrap();
        let tmpdir = fx.tmp.path().join("tmp");
        std::fs::create_dir_all(&tmpdir).unwrap();
        let registry = fx.tmp.path().join("remote.toml");
        Remote {
            fx,
            ssh,
            tmpdir,
            registry,
        }
    }

    /// The bare repository project `p{i+1}` clones.
    fn repo(&self, i: usize) -> PathBuf {
        self.fx.remote(REPOS[i % REPOS.len()])
    }

    /// The registry: projects `p1`… cloned from `urls` (and read-only from
    /// the fixture's files).
    fn register(&self, urls: &[String]) {
        let mut toml = String::from("include_default = false\n");
        for (i, url) in urls.iter().enumerate() {
            toml.push_str(&format!(
                "\n[repos.p{}]\nro_url = \"file://{}\"\nrw_url = \"{url}\"\n",
                i + 1,
                self.repo(i).display()
            ));
        }
        std::fs::write(&self.registry, toml).unwrap();
    }

    /// `p1` … `pN`.
    fn names(&self, n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("p{i}")).collect()
    }

    /// `cmd` with the environment of a run: hermetic, the stand-in ssh,
    /// the registry, a temporary folder of its own, and none of the
    /// caller's askpass or agent settings.
    fn env(&self, cmd: Command) -> Command {
        let mut cmd = hermetic(cmd, &self.fx.home);
        cmd.current_dir(&self.fx.ws)
            .env("OPENXLA_WORKSPACE_REGISTRY", &self.registry)
            .env("GIT_SSH_COMMAND", self.ssh.join("ssh"))
            .env("TMPDIR", &self.tmpdir)
            .env("TERM", "xterm")
            .env_remove("SSH_ASKPASS")
            .env_remove("SSH_ASKPASS_REQUIRE")
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DISPLAY");
        cmd
    }

    /// Runs the tool with `args` on a pseudo-terminal, typing each step's
    /// answer once its text is on the screen.
    fn on_terminal(&self, args: &[&str], steps: &[Step]) -> Screen {
        let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/prompt_support/terminal.py");
        let screen_file = self.fx.tmp.path().join("screen");
        let steps: Vec<serde_json::Value> = steps
            .iter()
            .map(|s| serde_json::json!({"wait": s.wait, "pause": s.pause, "send": s.send}))
            .collect();
        let out = self
            .env(Command::new("python3"))
            .arg(&driver)
            .arg(serde_json::Value::Array(steps).to_string())
            .arg(&screen_file)
            .arg("--")
            .arg(BIN)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "terminal.py failed: {}", text(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let screen = Screen {
            bytes: std::fs::read(&screen_file).unwrap(),
            status: report["status"].as_i64().unwrap(),
            sent_at: report["sent_at"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect(),
            stty: report["stty"].as_str().unwrap().to_string(),
        };
        assert!(
            report["timed_out"].is_null(),
            "waited in vain for {} on the terminal:\n{}",
            report["timed_out"],
            screen.lines().join("\n")
        );
        screen
    }

    /// Runs the tool with `args` with no terminal at all (a new session,
    /// stdin from /dev/null), as in CI.
    fn without_terminal(&self, args: &[&str]) -> std::process::Output {
        self.env(Command::new("python3"))
            .args([
                "-c",
                "import os, sys; os.setsid(); os.execv(sys.argv[1], sys.argv[1:])",
            ])
            .arg(BIN)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// What the stand-in ssh logged, one text per run of it.
    fn logs(&self) -> Vec<String> {
        std::fs::read_dir(&self.ssh)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("log."))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// `s` with this run's folders as ORG and WS, and elapsed times as X.X.
    fn normalise(&self, s: &str) -> String {
        let s = s
            .replace(&self.registry.display().to_string(), "REGISTRY")
            .replace(&self.fx.org.display().to_string(), "ORG")
            .replace(&self.fx.ws.display().to_string(), "WS");
        regex::Regex::new(r" in \d+\.\ds$")
            .unwrap()
            .replace(&s, " in X.Xs")
            .into_owned()
    }

    /// Asserts that `secret` is nowhere: not on the screen, in no file of
    /// the workspace, and in no argument or environment that ssh or git had.
    fn assert_kept(&self, secret: &str, screen: &[u8]) {
        let secret = secret.as_bytes();
        assert!(!contains(screen, secret), "the secret was shown");
        for file in files(&self.fx.ws) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(!contains(&bytes, secret), "the secret is in {}", file.display());
        }
        for log in self.logs() {
            assert!(
                !contains(log.as_bytes(), secret),
                "the secret is in an environment or a command line:\n{log}"
            );
        }
    }

    /// Asserts that each project (`pN`) is cloned at its branch tip.
    fn assert_cloned(&self, names: &[String]) {
        for name in names {
            let n: usize = name[1..].parse().unwrap();
            let tip = self.fx.git(&self.repo(n - 1), &["rev-parse", "main"]);
            assert_eq!(self.fx.head(name), tip, "{name}");
        }
    }

    /// Asserts that the run left nothing in its temporary folder (the
    /// prompt broker's folder is gone).
    fn assert_tmpdir_empty(&self) {
        let left: Vec<_> = std::fs::read_dir(&self.tmpdir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    }
}

/// One thing typed at the terminal.
struct Step {
    /// Wait for this text…
    wait: String,
    /// …and this many more seconds (the display repaints every 120 ms)…
    pause: f64,
    /// …then type this.
    send: String,
}

/// Types `text` and Enter once the passphrase prompt is shown.
fn answer(text: &str) -> Step {
    answer_to(PROMPT, text)
}

/// Types `text` and Enter once `prompt` is shown.
fn answer_to(prompt: &str, text: &str) -> Step {
    Step {
        wait: prompt.to_string(),
        pause: 0.3,
        send: format!("{text}\r"),
    }
}

/// What the terminal showed.
struct Screen {
    /// Every byte written to the terminal.
    bytes: Vec<u8>,
    /// The exit status, as a shell reports it.
    status: i64,
    /// Where in `bytes` each answer was typed.
    sent_at: Vec<usize>,
    /// `stty -a` after the run.
    stty: String,
}

impl Screen {
    /// Where each occurrence of `needle` in the bytes ends.
    fn ends_of(&self, needle: &str) -> Vec<usize> {
        let needle = needle.as_bytes();
        (0..=self.bytes.len().saturating_sub(needle.len()))
            .filter(|&i| self.bytes[i..].starts_with(needle))
            .map(|i| i + needle.len())
            .collect()
    }

    /// The lines the terminal shows at the end (scrollback included),
    /// after the live display's repaints and erasures: what a person sees.
    fn lines(&self) -> Vec<String> {
        render(&String::from_utf8_lossy(&self.bytes))
    }

    /// The terminal's modes after the run.
    fn modes(&self) -> Vec<&str> {
        self.stty.split_whitespace().collect()
    }
}

/// What a terminal shows after `text`: enough of a VT100 for what the
/// live display writes (CR, LF, BS, cursor moves `ESC [ n A/B/C/D`, erase
/// `ESC [ n K` and `ESC [ J`; other sequences are ignored). The screen has
/// no bottom, so that scrolled lines are kept.
fn render(text: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                if row == lines.len() {
                    lines.push(Vec::new());
                }
            }
            '\x08' => col = col.saturating_sub(1),
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut params = String::new();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        last = c;
                        break;
                    }
                    params.push(c);
                }
                let n: usize = params.parse().unwrap_or(0);
                match last {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => row = (row + n.max(1)).min(lines.len() - 1),
                    'C' => col += n.max(1),
                    'D' => col = col.saturating_sub(n.max(1)),
                    'K' if n == 2 => lines[row].clear(),
                    'K' => lines[row].truncate(col),
                    'J' => {
                        lines[row].truncate(col);
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                let line = &mut lines[row];
                if line.len() <= col {
                    line.resize(col + 1, ' ');
                }
                line[col] = c;
                col += 1;
            }
        }
    }
    let mut shown: Vec<String> = lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect();
    while shown.last().is_some_and(|l| l.is_empty()) {
        shown.pop();
    }
    shown
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            out.extend(files(&entry.path()));
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    out
}

/// `head` followed by the project names.
fn args<'a>(names: &'a [String], head: &[&'a str]) -> Vec<&'a str> {
    let mut all: Vec<&str> = head.to_vec();
    all.extend(names.iter().map(String::as_str));
    all
}

/// `lines` with the lines in `range` sorted: projects that ran at the same
/// time finish in any order.
fn sorted_in(mut lines: Vec<String>, range: std::ops::Range<usize>) -> Vec<String> {
    if range.end <= lines.len() {
        lines[range].sort();
    }
    lines
}

/// `pN: cloned` for each N.
fn cloned(numbers: std::ops::RangeInclusive<usize>) -> Vec<String> {
    numbers.map(|n| format!("p{n}: cloned")).collect()
}

#[test]
fn the_terminal_model_applies_repaints_and_erasures() {
    let text = "bar 1\r\nbar 2\x1b[1A\r\x1b[2K\x1b[1B\r\x1b[2K\x1b[1Aprompt:\r\nnew bar\r\n";
    assert_eq!(render(text), ["prompt:", "new bar"]);
    // A line that a repaint then erases is gone.
    assert_eq!(render("prompt:\r\nbar\x1b[1A\r\x1b[2Kbar\r\n\x1b[K"), ["bar"]);
}

#[test]
fn a_passphrase_is_asked_once_above_the_live_display_and_never_leaks() {
    let remote = Remote::new(&["lockedhost"; 8]);
    let names = remote.names(8);
    let screen = remote.on_terminal(&args(&names, &["-j", "8", "checkout"]), &[answer(PASSPHRASE)]);
    assert_eq!(screen.status, 0, "{:#?}", screen.lines());

    // Asked once for the eight clones, and the prompt stays on the screen.
    let mut expected = vec![PROMPT.to_string()];
    expected.extend(cloned(1..=8));
    expected.push("checkout: 8 cloned in X.Xs".into());
    let shown: Vec<String> = screen.lines().iter().map(|l| remote.normalise(l)).collect();
    assert_eq!(sorted_in(shown, 2..9), expected);
    // The live display was on before the prompt, and nothing at all reached
    // the terminal between the prompt and the typed answer.
    let prompt_end = screen.ends_of(PROMPT)[0];
    assert!(contains(
        &screen.bytes[..prompt_end],
        b"p1: cloning ssh://lockedhost"
    ));
    assert_eq!(
        String::from_utf8_lossy(&screen.bytes[prompt_end..screen.sent_at[0]]),
        ""
    );

    remote.assert_cloned(&names);
    let logs = remote.logs();
    assert_eq!(logs.len(), 8, "every clone went through ssh");
    for log in &logs {
        assert!(log.contains("\nSSH_ASKPASS_REQUIRE=force\n"), "{log}");
    }
    remote.assert_kept(PASSPHRASE, &screen.bytes);
    remote.assert_tmpdir_empty();
    assert!(screen.modes().contains(&"echo"), "{}", screen.stty);
}

#[test]
fn a_wrong_passphrase_is_asked_again_and_the_right_one_serves_every_clone() {
    let remote = Remote::new(&["lockedhost"; 8]);
    let names = remote.names(8);
    let screen = remote.on_terminal(
        &args(&names, &["-j", "8", "checkout"]),
        &[answer("not-the-passphrase"), answer(PASSPHRASE)],
    );
    assert_eq!(screen.status, 0, "{:#?}", screen.lines());
    let mut expected = vec![
        PROMPT.to_string(),
        "that answer was refused (2 tries left)".into(),
        PROMPT.into(),
    ];
    expected.extend(cloned(1..=8));
    expected.push("checkout: 8 cloned in X.Xs".into());
    let shown: Vec<String> = screen.lines().iter().map(|l| remote.normalise(l)).collect();
    assert_eq!(sorted_in(shown, 4..11), expected);
    remote.assert_cloned(&names);
    remote.assert_kept("not-the-passphrase", &screen.bytes);
    remote.assert_kept(PASSPHRASE, &screen.bytes);
    remote.assert_tmpdir_empty();
}

#[test]
fn each_submodule_clone_that_asks_the_passphrase_gets_the_one_answer() {
    // `git submodule update` runs an ssh per submodule, under one git.
    let remote = Remote::bare();
    let liba = remote.fx.remote("liba");
    let toml = format!(
        "include_default = false\n\n[repos.liba]\nro_url = \"file://{0}\"\nrw_url = \"ssh://lockedhost{0}\"\n\
         submodules = true\n",
        liba.display()
    );
    std::fs::write(&remote.registry, toml).unwrap();
    let screen = remote.on_terminal(&["-j", "8", "checkout", "liba"], &[answer(PASSPHRASE)]);
    assert_eq!(screen.status, 0, "{:#?}", screen.lines());
    let shown: Vec<String> = screen.lines().iter().map(|l| remote.normalise(l)).collect();
    assert_eq!(shown, [PROMPT, "liba: cloned", "checkout: 1 cloned in X.Xs"]);
    let submodules = remote
        .fx
        .git(&remote.fx.ws.join("liba"), &["submodule", "status"]);
    // Both at their recorded commits (not `-` uninitialised, `+` elsewhere).
    assert_eq!(submodules.lines().count(), 2, "{submodules}");
    assert!(
        submodules.lines().all(|l| !l.starts_with(['-', '+', 'U'])),
        "{submodules}"
    );
    // The clone and each submodule's fetch went through ssh.
    assert!(remote.logs().len() >= 3, "{}", remote.logs().len());
    remote.assert_kept(PASSPHRASE, &screen.bytes);
    remote.assert_tmpdir_empty();
}

#[test]
fn three_refused_passphrases_fail_only_the_projects_that_need_the_key() {
    let remote = Remote::new(&[
        "lockedhost",
        "lockedhost",
        "lockedhost",
        "openhost",
        "openhost",
        "openhost",
    ]);
    let names = remote.names(6);
    let screen = remote.on_terminal(
        &args(&names, &["-j", "8", "checkout"]),
        &[answer("wrong 1"), answer("wrong 2"), answer("wrong 3")],
    );
    assert_eq!(screen.status, 1, "{:#?}", screen.lines());
    // Three tries for p1, then no prompt for p2 and p3, which need the same
    // key; p4 (first on its host) ran next, then the others together.
    let mut expected: Vec<String> = vec![
        PROMPT.into(),
        "that answer was refused (2 tries left)".into(),
        PROMPT.into(),
        "that answer was refused (1 try left)".into(),
        PROMPT.into(),
        "p1: failed".into(),
        "p4: cloned".into(),
        "p2: failed".into(),
        "p3: failed".into(),
        "p5: cloned".into(),
        "p6: cloned".into(),
        "checkout: 3 cloned, 3 failed in X.Xs".into(),
    ];
    // The three in one block, the refusal kept as its fix.
    expected.extend([
        "error: lockedhost: the ssh server accepted none of your keys".to_string(),
        "  not cloned: p1, p2, p3".into(),
        "  git said: git@lockedhost: Permission denied (publickey).".into(),
        "  URLs from the registry file REGISTRY".into(),
        "  to do: the passphrase for key '/k' was refused 3 times".into(),
    ]);
    let shown: Vec<String> = screen.lines().iter().map(|l| remote.normalise(l)).collect();
    assert_eq!(sorted_in(shown, 7..11), expected);
    remote.assert_cloned(&names[3..]);
    for name in &names[..3] {
        assert!(!remote.fx.ws.join(name).exists(), "{name}");
    }
    remote.assert_tmpdir_empty();
}

#[test]
fn without_a_terminal_nothing_prompts_and_a_credential_failure_says_what_to_do() {
    let remote = Remote::new(&["lockedhost", "nokeyhost", "openhost"]);
    let names = remote.names(3);
    let out = remote.without_terminal(&args(&names, &["-j", "1", "checkout"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let hint =
        "the ssh server accepted none of your keys, and there is no terminal to ask for a passphrase: \
                load your key into an ssh agent (`ssh-add`) before the run, or use --ro to clone from the \
                read-only https URLs";
    let mut expected = String::new();
    for (name, host, repo, done) in [
        ("p1", "lockedhost", "base", "failed"),
        ("p2", "nokeyhost", "libb", "failed"),
        ("p3", "openhost", "app", "cloned"),
    ] {
        expected.push_str(&format!(
            "{name}: cloning ssh://{host}ORG/git/{repo}.git\n{name}: {done}\n"
        ));
    }
    expected.push_str("checkout: 1 cloned, 2 failed in X.Xs\n");
    // One block per host, each with the hint as its fix.
    for (name, host, repo) in [("p1", "lockedhost", "base"), ("p2", "nokeyhost", "libb")] {
        expected.push_str(&format!(
            "error: {host}: the ssh server accepted none of your keys\n  \
             not cloned: {name}\n  \
             git said: git@{host}: Permission denied (publickey).\n  \
             URL ssh://{host}ORG/git/{repo}.git from the registry file REGISTRY\n  \
             to do: {hint}\n"
        ));
    }
    let shown: String = stderr(&out)
        .lines()
        .map(|l| format!("{}\n", remote.normalise(l)))
        .collect();
    assert_eq!(shown, expected);
    assert!(out.stdout.is_empty());
    assert!(remote.fx.ws.join("p3/.git").is_dir());
    // git was told not to prompt, and had no askpass.
    let logs = remote.logs();
    assert_eq!(logs.len(), 3);
    for log in logs {
        assert!(log.contains("\nGIT_TERMINAL_PROMPT=0\n"), "{log}");
        assert!(!log.contains("ASKPASS"), "{log}");
    }
    remote.assert_tmpdir_empty();
}

#[test]
fn ctrl_c_at_a_prompt_restores_the_terminal_releases_the_lock_and_exits_130() {
    let remote = Remote::new(&["lockedhost"; 8]);
    let names = remote.names(8);
    let screen = remote.on_terminal(
        &args(&names, &["-j", "8", "checkout"]),
        &[Step {
            wait: PROMPT.into(),
            pause: 0.3,
            send: "\x03".into(),
        }],
    );
    assert_eq!(screen.status, 130, "{:#?}", screen.lines());
    // The terminal echoes again, with its line editing and signal keys.
    for mode in ["echo", "icanon", "isig"] {
        assert!(screen.modes().contains(&mode), "{mode} in {}", screen.stty);
    }
    // The prompt's line ends, and the live display does not come back:
    // the run winds down as on Ctrl-C anywhere else, and says so (the
    // display it left is not drawn again, nor waited for: the message
    // only comes from the run's own wind-down, which the prompt waited
    // 10 s for while it held the display).
    let interrupted = "error: interrupted (Ctrl-C); the git processes it started were ended. Run the same \
                       command again to finish: it picks up where this one stopped";
    assert_eq!(
        String::from_utf8_lossy(&screen.bytes[screen.sent_at[0]..]),
        format!("^C\r\n\x1b[?25h{interrupted}\r\n")
    );
    assert_eq!(screen.lines(), [format!("{PROMPT}^C"), interrupted.to_string()]);
    assert!(!remote.fx.ws.join(".openxla_workspace.lock").exists());
    for name in &names {
        assert!(!remote.fx.ws.join(name).exists(), "{name}");
    }
    remote.assert_tmpdir_empty();
}

/// A smart-HTTP server for the fixture's repositories, behind Basic
/// authentication (`prompt_support/http_git.py`); stopped when dropped.
struct HttpServer {
    child: std::process::Child,
    port: u16,
}

impl HttpServer {
    fn start(remote: &Remote, credentials: &str) -> HttpServer {
        let dir = remote.fx.tmp.path().join("http");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("credentials"), credentials).unwrap();
        let port_file = dir.join("port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/prompt_support/http_git.py");
        let child = hermetic(Command::new("python3"), &remote.fx.home)
            .arg(script)
            .arg(remote.fx.org.join("git"))
            .arg(dir.join("credentials"))
            .arg(&port_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut server = HttpServer { child, port: 0 };
        for _ in 0..400 {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                server.port = port.trim().parse().unwrap();
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("the HTTP server did not start");
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn https_user_names_are_echoed_passwords_are_not_and_a_refused_password_is_asked_again() {
    let remote = Remote::bare();
    let password = "pa55 w0rd!";
    let server = HttpServer::start(&remote, &format!("alice:{password}"));
    let base = format!("http://127.0.0.1:{}", server.port);
    let urls: Vec<String> = (0..4).map(|i| format!("{base}/{}.git", REPOS[i])).collect();
    remote.register(&urls);
    let names = remote.names(4);
    let user = format!("Username for '{base}': ");
    let pass = format!("Password for 'http://alice@127.0.0.1:{}': ", server.port);
    let screen = remote.on_terminal(
        &args(&names, &["-j", "8", "checkout"]),
        &[
            answer_to(&user, "alice"),
            answer_to(&pass, "not-the-password"),
            answer_to(&user, "alice"),
            answer_to(&pass, password),
        ],
    );
    assert_eq!(screen.status, 0, "{:#?}", screen.lines());
    // git's refusal is not final: the clone ran again, the user was asked
    // again (both answers: either may have been wrong), and the answers
    // then served all four clones. User names show as typed; passwords
    // do not.
    let refused = "that answer was refused (2 tries left)";
    let mut expected = vec![
        format!("{user}alice"),
        pass.clone(),
        refused.into(),
        format!("{user}alice"),
        refused.into(),
        pass.clone(),
    ];
    expected.extend(cloned(1..=4));
    expected.push("checkout: 4 cloned in X.Xs".into());
    let expected: Vec<String> = expected.iter().map(|l| l.trim_end().to_string()).collect();
    let shown: Vec<String> = screen.lines().iter().map(|l| remote.normalise(l)).collect();
    assert_eq!(sorted_in(shown, 7..10), expected);
    remote.assert_kept("not-the-password", &screen.bytes);
    remote.assert_kept(password, &screen.bytes);
    remote.assert_cloned(&names);
    remote.assert_tmpdir_empty();
}

#[test]
fn on_a_terminal_an_ssh_server_that_takes_none_of_the_keys_gets_the_ro_hint() {
    let remote = Remote::new(&["nokeyhost", "openhost"]);
    let names = remote.names(2);
    let screen = remote.on_terminal(&args(&names, &["-j", "1", "checkout"]), &[]);
    assert_eq!(screen.status, 1, "{:#?}", screen.lines());
    let shown: Vec<String> = screen.lines().iter().map(|l| remote.normalise(l)).collect();
    assert_eq!(
        shown,
        [
            "p1: failed",
            "p2: cloned",
            "checkout: 1 cloned, 1 failed in X.Xs",
            // One block for the cause and host, the hint kept as its fix.
            "error: nokeyhost: the ssh server accepted none of your keys",
            "  not cloned: p1",
            "  git said: git@nokeyhost: Permission denied (publickey).",
            "  URL ssh://nokeyhostORG/git/base.git from the registry file REGISTRY",
            "  to do: the ssh server accepted none of your keys: add your public key to your account there (or \
             load the key into your ssh agent), or use --ro to clone from the read-only https URLs",
        ]
    );
    // And --ro, as the hint says, clones it.
    let screen = remote.on_terminal(&args(&names[..1], &["checkout", "--ro"]), &[]);
    assert_eq!(screen.status, 0, "{:#?}", screen.lines());
    remote.assert_tmpdir_empty();
}
