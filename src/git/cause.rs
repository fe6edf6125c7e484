//! Why a git command that talks to a server failed, told from git's
//! stderr (which the runner reads in the C locale): the host name did not
//! resolve, the connection was refused, the server refused the key, the
//! repository is not there… Each [`Cause`] has its words and, where the
//! whole host is at fault, says so: a run then stops starting git
//! processes to that host (see `super::hosts`).
//!
//! Pure functions over stderr, unit-tested on output captured from git
//! 2.47 with curl 7.88 and OpenSSH 9.2.

pub use crate::model::types::url_host;

/// Why git could not fetch from (or clone) a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// The host name did not resolve: offline, or a DNS or proxy problem.
    NameResolution,
    /// The host did not take the connection (refused, timed out,
    /// unreachable network).
    Connection,
    /// The TLS handshake or the server's certificate failed.
    Tls,
    /// ssh does not know the host's key, or it changed.
    HostKey,
    /// The ssh server accepted none of the user's keys.
    KeyRefused,
    /// The server wanted credentials it did not get or refused (HTTP 401,
    /// 403, no terminal to ask).
    Credentials,
    /// No repository at that URL (HTTP 404, a path that does not exist).
    NotFound,
    /// The server refused to send a commit by its id.
    RefusedWant,
    /// The local disk is full.
    DiskFull,
    /// Anything else.
    Other,
}

/// The lower-case fragments of git's, curl's and ssh's messages that name
/// each cause, in the order they are tried: a name that did not resolve is
/// followed by ssh's generic "Could not read from remote repository" and
/// its "make sure … the repository exists", which must not read as
/// "not found".
const PATTERNS: &[(Cause, &[&str])] = &[
    (
        Cause::NameResolution,
        &[
            "could not resolve host",
            "could not resolve hostname",
            "could not resolve proxy",
            "name or service not known",
            "temporary failure in name resolution",
            "nodename nor servname provided",
            "no address associated with hostname",
        ],
    ),
    (
        Cause::Connection,
        &[
            "connection refused",
            "couldn't connect to server",
            "failed to connect to",
            "connection timed out",
            "operation timed out",
            "network is unreachable",
            "no route to host",
            "connection reset by peer",
        ],
    ),
    (
        Cause::Tls,
        &[
            "ssl certificate problem",
            "server certificate verification failed",
            "ssl_connect",
            "gnutls_handshake",
            "tls connect error",
            "ssl routines",
            "certificate verify failed",
        ],
    ),
    (
        Cause::HostKey,
        &[
            "host key verification failed",
            "remote host identification has changed",
            "host key is known for",
            "no matching host key type found",
        ],
    ),
    (
        Cause::KeyRefused,
        &[
            "permission denied (publickey",
            "permission denied, please try again",
        ],
    ),
    (
        Cause::Credentials,
        &[
            "authentication failed for",
            "could not read username for",
            "could not read password for",
            "the requested url returned error: 401",
            "the requested url returned error: 403",
            "http basic: access denied",
            "invalid username or password",
        ],
    ),
    (
        Cause::DiskFull,
        &["no space left on device", "disk quota exceeded"],
    ),
    (
        Cause::RefusedWant,
        &[
            "not our ref",
            "server does not allow request for unadvertised object",
            "couldn't find remote ref",
        ],
    ),
    (
        Cause::NotFound,
        &[
            "does not appear to be a git repository",
            "the requested url returned error: 404",
            "repository not found",
            "' not found",
            "does not exist",
        ],
    ),
];

impl Cause {
    /// The cause git's `stderr` names; [`Cause::Other`] when none.
    pub fn classify(stderr: &str) -> Cause {
        let s = stderr.to_ascii_lowercase();
        PATTERNS
            .iter()
            .find(|(_, fragments)| fragments.iter().any(|f| s.contains(f)))
            .map_or(Cause::Other, |(cause, _)| *cause)
    }

    /// Whether every repository on the same host would fail the same way:
    /// a run stops starting git processes to it once one has.
    pub fn is_host_wide(self) -> bool {
        matches!(self, Cause::NameResolution | Cause::Connection | Cause::Tls)
    }

    /// A stable name for `--json`.
    pub fn id(self) -> &'static str {
        match self {
            Cause::NameResolution => "name-resolution",
            Cause::Connection => "connection",
            Cause::Tls => "tls",
            Cause::HostKey => "ssh-host-key",
            Cause::KeyRefused => "ssh-key-refused",
            Cause::Credentials => "credentials",
            Cause::NotFound => "not-found",
            Cause::RefusedWant => "fetch-by-id-refused",
            Cause::DiskFull => "disk-full",
            Cause::Other => "other",
        }
    }

    /// The cause in words, to open a summary's block.
    pub fn words(self) -> &'static str {
        match self {
            Cause::NameResolution => {
                "the host name could not be resolved (no network, or a DNS or proxy problem)"
            }
            Cause::Connection => "the host did not take the connection (refused or timed out)",
            Cause::Tls => "the TLS connection to the host failed (certificate or handshake)",
            Cause::HostKey => "ssh does not know the host's key, or it changed",
            Cause::KeyRefused => "the ssh server accepted none of your keys",
            Cause::Credentials => "the server wants credentials it did not get, or refused them",
            Cause::NotFound => "no repository at the URL",
            Cause::RefusedWant => "the server refused to send a commit by its id",
            Cause::DiskFull => "the disk is full",
            Cause::Other => "git failed",
        }
    }

    /// Whether `text` holds one of the fragments that name this cause,
    /// whatever other cause it names too.
    pub(super) fn is_named_in(self, text: &str) -> bool {
        let text = text.to_ascii_lowercase();
        PATTERNS
            .iter()
            .filter(|(cause, _)| *cause == self)
            .any(|(_, fragments)| fragments.iter().any(|f| text.contains(f)))
    }

    /// The line of `stderr` that shows this cause best: the first that
    /// holds one of its fragments, else the first `fatal:` or `error:`
    /// line, else the first line.
    pub fn telling_line(self, stderr: &str) -> String {
        let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
        lines()
            .find(|l| self.is_named_in(l))
            .or_else(|| lines().find(|l| l.starts_with("fatal:") || l.starts_with("error:")))
            .or_else(|| lines().next())
            .unwrap_or_default()
            .to_string()
    }
}

impl super::GitError {
    /// Why this command failed, as far as its stderr (or the host found
    /// shut before it started) tells.
    pub fn cause(&self) -> Cause {
        match &self.kind {
            super::GitErrorKind::HostDown(down) => down.cause,
            _ => Cause::classify(&self.stderr),
        }
    }

    /// git's line that shows the cause (for a command not started, the
    /// line of the one that found its host shut).
    pub fn telling_line(&self) -> String {
        match &self.kind {
            super::GitErrorKind::HostDown(down) => down.said.clone(),
            _ => self.cause().telling_line(&self.stderr),
        }
    }

    /// Whether the command was not started, its host found shut already.
    pub fn was_skipped(&self) -> bool {
        matches!(self.kind, super::GitErrorKind::HostDown(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // As git 2.47.3 (curl 7.88.1, OpenSSH 9.2p1) prints them, LC_ALL=C.
    const HTTPS_NO_DNS: &str = "Cloning into '/ws/.openxla-partial-app'...\n\
        fatal: unable to access 'https://git.example.invalid/app.git/': Could not resolve host: git.example.invalid";
    const SSH_NO_DNS: &str = "ssh: Could not resolve hostname example.invalid: Name or service not known\n\
        fatal: Could not read from remote repository.\n\n\
        Please make sure you have the correct access rights\nand the repository exists.";
    const SUBMODULE_NO_DNS: &str = "fatal: unable to access 'https://git.example.invalid/one.git/': Could not \
        resolve host: git.example.invalid\n\
        fatal: clone of 'https://git.example.invalid/one.git' into submodule path '/ws/liba/third_party/one' failed\n\
        Failed to clone 'third_party/one'. Retry scheduled";
    const HTTPS_REFUSED: &str = "fatal: unable to access 'https://127.0.0.1:1/x.git/': Failed to connect to \
        127.0.0.1 port 1 after 0 ms: Couldn't connect to server";
    const SSH_REFUSED: &str = "ssh: connect to host 127.0.0.1 port 1: Connection refused\n\
        fatal: Could not read from remote repository.\n\n\
        Please make sure you have the correct access rights\nand the repository exists.";
    const TLS: &str =
        "fatal: unable to access 'https://self-signed.example/x.git/': SSL certificate problem: \
        self-signed certificate";
    const HOST_KEY: &str = "No ED25519 host key is known for git.example.org and you have requested strict \
        checking.\nHost key verification failed.\nfatal: Could not read from remote repository.";
    const KEY_REFUSED: &str = "git@github.com: Permission denied (publickey).\n\
        fatal: Could not read from remote repository.\n\n\
        Please make sure you have the correct access rights\nand the repository exists.";
    const HTTP_401: &str =
        "fatal: could not read Username for 'https://github.com': terminal prompts disabled";
    const HTTP_403: &str = "remote: Permission to o/r.git denied to someone.\n\
        fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 403";
    const FILE_MISSING: &str = "Cloning into '/ws/.openxla-partial-app'...\n\
        fatal: '/org/missing.git' does not appear to be a git repository\n\
        fatal: Could not read from remote repository.\n\n\
        Please make sure you have the correct access rights\nand the repository exists.";
    const HTTPS_404: &str = "remote: Not Found\n\
        fatal: repository 'https://github.com/o/missing.git/' not found";
    const NOT_OUR_REF: &str =
        "fatal: remote error: upload-pack: not our ref 0123456789abcdef0123456789abcdef01234567";
    const DISK_FULL: &str = "error: unable to write file big.bin\n\
        fatal: cannot create directory at 'd': No space left on device";

    #[test]
    fn each_cause_is_told_from_the_others() {
        let table = [
            (HTTPS_NO_DNS, Cause::NameResolution),
            (SSH_NO_DNS, Cause::NameResolution),
            (SUBMODULE_NO_DNS, Cause::NameResolution),
            (HTTPS_REFUSED, Cause::Connection),
            (SSH_REFUSED, Cause::Connection),
            (TLS, Cause::Tls),
            (HOST_KEY, Cause::HostKey),
            (KEY_REFUSED, Cause::KeyRefused),
            (HTTP_401, Cause::Credentials),
            (HTTP_403, Cause::Credentials),
            (FILE_MISSING, Cause::NotFound),
            (HTTPS_404, Cause::NotFound),
            (NOT_OUR_REF, Cause::RefusedWant),
            (DISK_FULL, Cause::DiskFull),
            ("fatal: bad object HEAD", Cause::Other),
        ];
        for (stderr, cause) in table {
            assert_eq!(Cause::classify(stderr), cause, "{stderr}");
        }
    }

    #[test]
    fn only_causes_of_the_whole_host_stop_a_run_knocking() {
        let host_wide: Vec<Cause> = [
            Cause::NameResolution,
            Cause::Connection,
            Cause::Tls,
            Cause::HostKey,
            Cause::KeyRefused,
            Cause::Credentials,
            Cause::NotFound,
            Cause::RefusedWant,
            Cause::DiskFull,
            Cause::Other,
        ]
        .into_iter()
        .filter(|c| c.is_host_wide())
        .collect();
        assert_eq!(host_wide, [Cause::NameResolution, Cause::Connection, Cause::Tls]);
    }

    #[test]
    fn the_telling_line_is_the_one_naming_the_cause() {
        assert_eq!(
            Cause::NameResolution.telling_line(SSH_NO_DNS),
            "ssh: Could not resolve hostname example.invalid: Name or service not known"
        );
        assert_eq!(
            Cause::NotFound.telling_line(FILE_MISSING),
            "fatal: '/org/missing.git' does not appear to be a git repository"
        );
        assert_eq!(
            Cause::Other.telling_line("Cloning into 'x'...\nfatal: bad object HEAD"),
            "fatal: bad object HEAD"
        );
    }

    #[test]
    fn hosts_are_read_from_every_url_form() {
        let table = [
            ("https://git.example.invalid/app.git", Some("git.example.invalid")),
            ("https://user@github.com:443/o/r.git", Some("github.com:443")),
            ("ssh://git@example.org/r.git", Some("example.org")),
            ("git@github.com:o/r.git", Some("github.com")),
            ("file:///org/app.git", None),
            ("/org/app.git", None),
            ("../subx.git", None),
        ];
        for (url, host) in table {
            assert_eq!(url_host(url), host, "{url}");
        }
    }
}
