//! Which ssh git runs, and whether it is OpenSSH: the pure half of
//! connection sharing (see `ssh_share.rs` for the run's masters).
//!
//! git's ssh command is `GIT_SSH_COMMAND`, else `core.sshCommand` (shell
//! command lines), else `GIT_SSH` (a program), else `ssh`; its variant
//! comes from `GIT_SSH_VARIANT`, else `ssh.variant`, else the program's
//! name, else from running it with `-G` (git's `connect.c`,
//! `determine_ssh_variant`). Only an OpenSSH command gets the multiplexing
//! options, appended: ssh keeps the first value it reads for each option,
//! so the user's own come first and win.

use crate::process::shell_quote;

/// What decides git's ssh command and variant: the environment variables
/// and settings git reads, as found for this run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SshSettings {
    /// `GIT_SSH_COMMAND`.
    pub ssh_command_env: Option<String>,
    /// `core.sshCommand`.
    pub ssh_command_config: Option<String>,
    /// `GIT_SSH`.
    pub ssh_program_env: Option<String>,
    /// `GIT_SSH_VARIANT`.
    pub variant_env: Option<String>,
    /// `ssh.variant`.
    pub variant_config: Option<String>,
}

/// How git treats its ssh command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SshVariant {
    /// OpenSSH: git passes `-o`, `-p`, `-4`; multiplexing options apply.
    OpenSsh,
    /// plink, TortoisePlink or a "simple" ssh: left alone.
    Other,
    /// Not known from the name: git runs the command with `-G` and takes it
    /// for OpenSSH if that succeeds.
    Probe,
}

/// The ssh command git would run, as a shell command line to which
/// options can be appended, and its variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshInEffect {
    /// A shell command line (`GIT_SSH` is quoted to become one).
    pub command: String,
    /// How git treats it.
    pub variant: SshVariant,
}

impl SshSettings {
    /// The command git would run and how it would treat it, by git's rules.
    pub fn in_effect(&self) -> SshInEffect {
        let (command, program) =
            if let Some(line) = self.ssh_command_env.as_ref().or(self.ssh_command_config.as_ref()) {
                (line.clone(), first_word(line))
            } else if let Some(program) = &self.ssh_program_env {
                (shell_quote(program), Some(program.clone()))
            } else {
                ("ssh".to_string(), Some("ssh".to_string()))
            };
        let variant = match self.variant_env.as_ref().or(self.variant_config.as_ref()) {
            Some(name) if name != "auto" => named_variant(name),
            _ => program.map_or(SshVariant::Probe, |p| variant_of_program(&p)),
        };
        SshInEffect { command, variant }
    }
}

/// `GIT_SSH_VARIANT` / `ssh.variant`: git takes any value it does not
/// know for OpenSSH.
fn named_variant(name: &str) -> SshVariant {
    match name {
        "plink" | "putty" | "tortoiseplink" | "simple" => SshVariant::Other,
        _ => SshVariant::OpenSsh,
    }
}

/// The variant by the program's base name, compared without case as git
/// does.
fn variant_of_program(program: &str) -> SshVariant {
    let base = program
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(program)
        .to_ascii_lowercase();
    match base.as_str() {
        "ssh" | "ssh.exe" => SshVariant::OpenSsh,
        "plink" | "plink.exe" | "tortoiseplink" | "tortoiseplink.exe" => SshVariant::Other,
        _ => SshVariant::Probe,
    }
}

/// The first word of a shell command line, with quotes and backslashes
/// taken as git's `split_cmdline` takes them; `None` when there is none.
fn first_word(line: &str) -> Option<String> {
    let mut word = String::new();
    let mut quote = None;
    let mut chars = line.trim_start().chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => break,
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => word.extend(chars.next()),
            (_, c) => word.push(c),
        }
    }
    (!word.is_empty()).then_some(word)
}

/// How long an idle master outlives its last session: short, so that a run
/// killed before it could close its masters leaves nothing for long.
pub const CONTROL_PERSIST_SECONDS: u32 = 30;

/// `command` with OpenSSH's multiplexing options appended: a master per
/// `control_path` (`ControlMaster=auto`: the first ssh becomes it, later
/// ones use it), kept [`CONTROL_PERSIST_SECONDS`] after its last session.
/// `%` in the folder is doubled (ssh expands `%` tokens in the path).
pub fn sharing_command(command: &str, control_path: &str) -> String {
    let path = format!("ControlPath={control_path}");
    format!(
        "{command} -o ControlMaster=auto -o {} -o ControlPersist={CONTROL_PERSIST_SECONDS}",
        shell_quote(&path)
    )
}

/// Why a failed network command may work when run again: ssh's connection
/// was closed or reset during the key exchange (sshd's `MaxStartups` drops
/// unauthenticated connections at random past its first limit), or a
/// master refused or lost a session (`MaxSessions`). `None` for anything
/// else, and always for a refused key or an unknown or changed host key,
/// which the same command would meet again.
pub fn transient_refusal(stderr: &str) -> Option<&'static str> {
    const FINAL: [&str; 5] = [
        "Permission denied",
        "Host key verification failed",
        "REMOTE HOST IDENTIFICATION HAS CHANGED",
        "Could not resolve hostname",
        "No route to host",
    ];
    const TRANSIENT: [(&str, &str); 7] = [
        (
            "kex_exchange_identification",
            "connection closed during key exchange",
        ),
        (
            "ssh_exchange_identification",
            "connection closed during key exchange",
        ),
        ("Connection reset by peer", "connection reset"),
        ("administratively prohibited", "session refused by the server"),
        (
            "session request failed",
            "session refused by the shared connection",
        ),
        ("mux_client_", "shared connection lost"),
        ("Connection closed by", "connection closed by the server"),
    ];
    if FINAL.iter().any(|m| stderr.contains(m)) {
        return None;
    }
    TRANSIENT
        .iter()
        .find(|(m, _)| stderr.contains(m))
        .map(|&(_, why)| why)
}

/// Whether the git command line `args` may reach a remote: the commands
/// whose connections the run shares and whose transient refusals it
/// retries.
pub fn reaches_remote(args: &[std::ffi::OsString]) -> bool {
    // The subcommand is the first argument that is not a `-c NAME=VALUE`.
    let mut words = args.iter().map(|a| a.to_string_lossy());
    while let Some(word) = words.next() {
        match word.as_ref() {
            "-c" => {
                words.next();
            }
            "clone" | "fetch" | "ls-remote" | "submodule" | "pull" | "push" => return true,
            _ => return false,
        }
    }
    false
}

/// The `user@host:port` an ssh URL names (`ssh://`, `git+ssh://`,
/// `ssh+git://` or scp-like `user@host:path`); `None` for any other URL
/// or a local path.
pub fn ssh_destination(url: &str) -> Option<String> {
    for scheme in ["ssh://", "git+ssh://", "ssh+git://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            let authority = rest.split('/').next().unwrap_or("");
            return (!authority.is_empty()).then(|| authority.to_string());
        }
    }
    if url.contains("://") {
        return None;
    }
    // scp-like: a ':' before any '/' (git's own rule for telling it from a
    // path).
    let colon = url.find(':')?;
    let host = &url[..colon];
    (!host.is_empty() && !host.contains('/')).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(f: impl FnOnce(&mut SshSettings)) -> SshInEffect {
        let mut s = SshSettings::default();
        f(&mut s);
        s.in_effect()
    }

    #[test]
    fn plain_ssh_is_openssh() {
        assert_eq!(
            settings(|_| {}),
            SshInEffect {
                command: "ssh".into(),
                variant: SshVariant::OpenSsh
            }
        );
    }

    #[test]
    fn the_command_variable_wins_over_the_setting_and_the_program() {
        let got = settings(|s| {
            s.ssh_command_env = Some("/usr/bin/ssh -F cfg".into());
            s.ssh_command_config = Some("plink".into());
            s.ssh_program_env = Some("plink".into());
        });
        assert_eq!(got.command, "/usr/bin/ssh -F cfg");
        assert_eq!(got.variant, SshVariant::OpenSsh);
        let got = settings(|s| {
            s.ssh_command_config = Some("'C:\\Program Files\\PuTTY\\plink.exe' -batch".into());
            s.ssh_program_env = Some("ssh".into());
        });
        assert_eq!(got.variant, SshVariant::Other);
    }

    #[test]
    fn a_program_from_git_ssh_is_quoted() {
        let got = settings(|s| s.ssh_program_env = Some("/opt/my ssh/ssh".into()));
        assert_eq!(got.command, "'/opt/my ssh/ssh'");
        assert_eq!(got.variant, SshVariant::OpenSsh);
    }

    #[test]
    fn variant_by_name_follows_git() {
        for (program, variant) in [
            ("ssh", SshVariant::OpenSsh),
            ("SSH.EXE", SshVariant::OpenSsh),
            ("/usr/local/bin/ssh", SshVariant::OpenSsh),
            ("plink", SshVariant::Other),
            ("TortoisePlink.exe", SshVariant::Other),
            ("my-wrapper", SshVariant::Probe),
        ] {
            assert_eq!(
                settings(|s| s.ssh_program_env = Some(program.into())).variant,
                variant,
                "{program}"
            );
        }
    }

    #[test]
    fn the_variant_setting_overrides_the_name_except_auto() {
        for (name, variant) in [
            ("simple", SshVariant::Other),
            ("putty", SshVariant::Other),
            ("ssh", SshVariant::OpenSsh),
            ("whatever", SshVariant::OpenSsh),
            ("auto", SshVariant::Probe),
        ] {
            let got = settings(|s| {
                s.ssh_command_env = Some("wrapper -x".into());
                s.variant_config = Some(name.into());
            });
            assert_eq!(got.variant, variant, "{name}");
        }
        let got = settings(|s| {
            s.variant_env = Some("plink".into());
            s.variant_config = Some("ssh".into());
        });
        assert_eq!(got.variant, SshVariant::Other);
    }

    #[test]
    fn first_word_takes_quotes_as_git_does() {
        assert_eq!(first_word("  ssh -v").as_deref(), Some("ssh"));
        assert_eq!(first_word("'my ssh' -v").as_deref(), Some("my ssh"));
        assert_eq!(first_word("\"a\\\"b\" x").as_deref(), Some("a\"b"));
        assert_eq!(first_word(r"my\ ssh x").as_deref(), Some("my ssh"));
        assert_eq!(first_word("   "), None);
    }

    #[test]
    fn sharing_options_come_after_the_users() {
        assert_eq!(
            sharing_command("ssh -o ControlMaster=no", "/tmp/x/0-ab-%C"),
            "ssh -o ControlMaster=no -o ControlMaster=auto -o ControlPath=/tmp/x/0-ab-%C -o ControlPersist=30"
        );
        assert_eq!(
            sharing_command("ssh", "/tmp/a b/%C"),
            "ssh -o ControlMaster=auto -o 'ControlPath=/tmp/a b/%C' -o ControlPersist=30"
        );
    }

    #[test]
    fn transient_refusals_are_told_from_final_ones() {
        let cases = [
            ("kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 127.0.0.1 port 2222\r\nfatal: Could not read from remote repository.", true),
            ("kex_exchange_identification: read: Connection reset by peer", true),
            ("channel 3: open failed: administratively prohibited: open failed", true),
            ("mux_client_request_session: session request failed: Session open refused by peer", true),
            ("git@127.0.0.1: Permission denied (publickey).\r\nfatal: Could not read from remote repository.", false),
            ("Host key verification failed.\r\nfatal: Could not read from remote repository.", false),
            ("fatal: repository 'x' does not exist", false),
            ("ssh: Could not resolve hostname nowhere: Name or service not known", false),
        ];
        for (stderr, transient) in cases {
            assert_eq!(transient_refusal(stderr).is_some(), transient, "{stderr}");
        }
    }

    #[test]
    fn network_commands_are_known_by_their_subcommand() {
        let args = |s: &str| s.split(' ').map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(reaches_remote(&args("clone -- ssh://h/r d")));
        assert!(reaches_remote(&args(
            "-c fetch.negotiationAlgorithm=noop fetch origin"
        )));
        assert!(reaches_remote(&args("submodule update --init -- p")));
        assert!(!reaches_remote(&args(
            "-c advice.detachedHead=false checkout --detach x"
        )));
        assert!(!reaches_remote(&args("cat-file --batch")));
    }

    #[test]
    fn ssh_destinations_come_from_ssh_urls_only() {
        assert_eq!(
            ssh_destination("ssh://git@127.0.0.1:2222/srv/a.git").as_deref(),
            Some("git@127.0.0.1:2222")
        );
        assert_eq!(ssh_destination("git+ssh://h/a").as_deref(), Some("h"));
        assert_eq!(
            ssh_destination("git@github.com:org/a.git").as_deref(),
            Some("git@github.com")
        );
        assert_eq!(ssh_destination("https://github.com/org/a.git"), None);
        assert_eq!(ssh_destination("file:///srv/a.git"), None);
        assert_eq!(ssh_destination("/srv/a.git"), None);
        assert_eq!(ssh_destination("./a:b"), None);
    }
}
