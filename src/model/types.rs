//! Validated values that come from files we do not control (registries, pin
//! files, the command line). Constructors check what git could misread; past them,
//! nothing can be read by git as an option or used to escape the workspace.

use std::fmt;

/// A project name: `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 100 bytes.
///
/// The first character rules out `.`, `..`, `.git`, absolute paths and names
/// that git would read as an option; the character set rules out `/`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RepoName(String);

/// The longest project name we accept; folder names beyond this are unusual
/// enough to be a mistake or an attack on path limits.
pub const MAX_NAME_LEN: usize = 100;

impl RepoName {
    /// Validates `s` as a project name, explaining what is wrong if it is not.
    pub fn new(s: &str) -> Result<RepoName, String> {
        if s.is_empty() {
            return Err("a project name cannot be empty".into());
        }
        if s.len() > MAX_NAME_LEN {
            return Err(format!(
                "project name '{}…' is longer than {MAX_NAME_LEN} characters",
                truncate_for_display(s, 40)
            ));
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "project name '{}' must start with an ASCII letter or digit",
                s.escape_debug()
            ));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "project name '{}' contains '{}'; names use only ASCII letters, digits, '.', '_' and '-'",
                s.escape_debug(),
                bad.escape_debug()
            ));
        }
        Ok(RepoName(s.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A full commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits, not the
/// all-zero null id. Abbreviations, ref names and revision expressions are
/// refused so that a pin always means exactly one commit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommitId(String);

impl CommitId {
    /// Validates `s` as a full commit id.
    pub fn new(s: &str) -> Result<CommitId, String> {
        let hex = s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if (s.len() == 40 || s.len() == 64) && hex {
            if s.bytes().all(|b| b == b'0') {
                return Err(format!("'{s}' is the null commit id, not a commit"));
            }
            return Ok(CommitId(s.to_string()));
        }
        let shown = shown(s, 80);
        if s.len() != s.trim().len() {
            return Err(format!(
                "commit '{shown}' has surrounding white space; expected 40 or 64 lowercase hex digits"
            ));
        }
        if (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "commit '{shown}' has upper-case letters; expected 40 or 64 lowercase hex digits"
            ));
        }
        Err(format!(
            "'{shown}' is not a full commit id; expected 40 or 64 lowercase hex digits"
        ))
    }

    /// The full hex id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first seven digits, as git abbreviates in messages.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A clone URL that git cannot read as an option, that names no remote
/// helper (`ext::`, `fd::` or any other `TRANSPORT::`), and that holds no
/// control, white-space, bidi or zero-width characters (which could make it
/// read as another URL).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RemoteUrl(String);

impl RemoteUrl {
    /// Validates `s` as a remote URL (https, ssh, scp-like, file or a path).
    pub fn new(s: &str) -> Result<RemoteUrl, String> {
        let shown = shown(s, 120);
        if s.is_empty() {
            return Err("a URL cannot be empty".into());
        }
        if s.starts_with('-') {
            return Err(format!(
                "URL '{shown}' starts with '-', which git would read as an option"
            ));
        }
        // Before the white-space check: `ext::sh -c ...` has spaces, and
        // "runs commands" is the reason that matters.
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("ext::") || lower.starts_with("fd::") {
            return Err(format!(
                "URL '{shown}' uses a transport that runs commands; use https, ssh or file URLs"
            ));
        }
        // git hands `TRANSPORT::ADDRESS` to whatever `git-remote-TRANSPORT`
        // is installed, even when ADDRESS is itself a URL
        // (`https::https://...`).
        if let Some(helper) = remote_helper(s) {
            let helper = crate::model::text::escape_control(helper, false);
            return Err(format!(
                "URL '{shown}' names a remote helper ('{helper}::ADDRESS'), which makes git run git-remote-{helper}; use https, ssh or file URLs"
            ));
        }
        if let Some(c) = s.chars().find(|&c| crate::model::text::is_invisible_format(c)) {
            return Err(format!(
                "URL '{shown}' contains the invisible character U+{:04X}, which can make a URL read as another; \
                 URLs cannot hold bidi controls, zero-width or other invisible characters",
                c as u32
            ));
        }
        if let Some(c) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "URL '{shown}' contains the character {:?}; URLs cannot hold white space or control characters",
                c
            ));
        }
        // `ssh://-oProxyCommand=...`, scp-like `-user@host:path`: a host or
        // user that starts with '-' would reach ssh as an option.
        let user_and_host = match s.find("://") {
            Some(pos) => s[pos + 3..].split('/').next().unwrap_or(""),
            None => s
                .find(':')
                .filter(|&c| !s[..c].contains('/'))
                .map_or("", |c| &s[..c]),
        };
        if user_and_host.split('@').any(|p| p.starts_with('-')) {
            return Err(format!(
                "URL '{shown}' names a host or user starting with '-', which ssh would read as an option"
            ));
        }
        Ok(RemoteUrl(s.to_string()))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host part, used to serialise the first connection to each host so
    /// that credential prompts never overlap. Local paths have no host.
    pub fn host(&self) -> Option<&str> {
        url_host(&self.0)
    }
}

/// The host of a clone URL (`https://user@host:port/path`, `ssh://…`,
/// scp-like `user@host:path`), `None` for a local path or `file://` URL.
/// Also for URLs not validated as a [`RemoteUrl`] (a submodule's, from its
/// project's `.gitmodules`).
pub fn url_host(url: &str) -> Option<&str> {
    if let Some(pos) = url.find("://") {
        let authority = url[pos + 3..].split('/').next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or(authority);
        return (!host.is_empty()).then_some(host);
    }
    // scp-like `user@host:path`: a ':' before any '/'.
    let colon = url.find(':')?;
    if url[..colon].contains('/') {
        return None;
    }
    let host = &url[..colon];
    Some(host.rsplit('@').next().unwrap_or(host))
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A branch name safe to pass to git: no leading '-', no `..`, no white
/// space or control characters, none of git's forbidden ref characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BranchName(String);

impl BranchName {
    /// Validates `s` as a branch name (see `git check-ref-format`).
    pub fn new(s: &str) -> Result<BranchName, String> {
        let shown = shown(s, 80);
        let bad_char = s.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || crate::model::text::is_invisible_format(c)
                || "~^:?*[\\".contains(c)
        });
        if s.is_empty()
            || s == "@"
            || s.starts_with('-')
            || s.starts_with('/')
            || s.ends_with('/')
            || s.ends_with('.')
            || s.contains("..")
            || s.contains("//")
            || s.contains("@{")
            || s.split('/')
                .any(|part| part.starts_with('.') || part.ends_with(".lock"))
            || bad_char
        {
            return Err(format!("'{shown}' is not a valid branch name"));
        }
        Ok(BranchName(s.to_string()))
    }

    /// The branch name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BranchName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `TRANSPORT` of a `TRANSPORT::ADDRESS` URL, as git recognises one:
/// a letter, then letters, digits, `+`, `-` or `.`, then `::`. (An IPv6
/// host such as `https://[::1]/x` has `::` elsewhere and is no helper.)
fn remote_helper(s: &str) -> Option<&str> {
    let end = s.find("::")?;
    let name = &s[..end];
    let mut chars = name.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then_some(name)
}

fn truncate_for_display(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// The first `max_chars` characters of `s` for a message: escaped as Rust
/// writes a debug string, and then every invisible character Rust leaves as
/// it (U+3164 and other fillers) too, so what the message shows is what
/// was there.
fn shown(s: &str, max_chars: usize) -> String {
    let debug = truncate_for_display(s, max_chars).escape_debug().to_string();
    crate::model::text::escape_control(&debug, false).into_owned()
}

/// A partial-clone filter (`--filter`): which objects a clone leaves on the
/// server, for git to fetch when something needs them. Only the two that
/// keep every commit are offered: `blob:none` (no file contents but those
/// checked out) and `tree:0` (no trees either). git records the filter in
/// the clone (`remote.origin.promisor`, `remote.origin.partialclonefilter`),
/// so later fetches use it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// `blob:none`.
    BlobNone,
    /// `tree:0`.
    TreeZero,
}

impl Filter {
    /// Reads a filter as given on the command line, in the environment or in
    /// the workspace's settings: `blob:none`, `tree:0`, or `none` (no filter,
    /// `Ok(None)`: a full clone, to override a workspace setting for one
    /// run). Any other spec is refused, saying which ones are accepted.
    pub fn parse(s: &str) -> Result<Option<Filter>, String> {
        match s {
            "blob:none" => Ok(Some(Filter::BlobNone)),
            "tree:0" => Ok(Some(Filter::TreeZero)),
            "none" => Ok(None),
            other => Err(format!(
                "unsupported filter '{}': use blob:none (no file contents until checked out), tree:0 (no trees \
                 either) or none (full clones)",
                truncate_for_display(other, 60).escape_debug()
            )),
        }
    }

    /// The spec as git takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Filter::BlobNone => "blob:none",
            Filter::TreeZero => "tree:0",
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names_accept_plain_names() {
        for ok in ["iree", "openxla-pjrt-plugin", "a", "x.y_z-1", "A9"] {
            assert!(RepoName::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn repo_names_refuse_paths_options_and_lookalikes() {
        let long = "a".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/abs",
            "-x",
            "--upload-pack",
            ".git",
            "ïree",
            "a b",
            "a\nb",
            &long,
        ] {
            assert!(RepoName::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn commit_ids_are_full_lowercase_hex() {
        let sha1 = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(CommitId::new(sha1).unwrap().short(), "0123456");
        assert!(CommitId::new(&"ab".repeat(32)).is_ok());
        for bad in [
            "HEAD",
            "main",
            "--orphan",
            "abc",
            &"0".repeat(40),
            &sha1.to_uppercase(),
            &format!("{sha1}\n"),
            &format!("{sha1} "),
            &format!("{sha1}0"),
        ] {
            assert!(CommitId::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn urls_refuse_option_injection_and_command_transports() {
        for ok in [
            "https://github.com/openxla/xla.git",
            "git@github.com:openxla/xla.git",
            "ssh://git@host:22/x.git",
            "file:///tmp/x.git",
            "/tmp/x.git",
            "relative/dir-x@-y/x.git",
        ] {
            assert!(RemoteUrl::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "--upload-pack=touch PWNED",
            "-oProxyCommand=touch PWNED",
            "ext::sh -c touch% PWNED",
            "EXT::sh",
            "fd::3",
            "ssh://-oProxyCommand=touch/x",
            "ssh://-user@host/x",
            "git@-oProxyCommand=touch:x.git",
            "-user@host:x.git",
            "https://host/x\n.git",
            "",
        ] {
            assert!(RemoteUrl::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn urls_refuse_every_remote_helper() {
        for bad in [
            "https::https://example.org/x.git",
            "TRANSPORT::https://example.org/x.git",
            "persistent-https::https://x/y",
            "a.b+c-d::anything",
            "host::path",
        ] {
            let err = RemoteUrl::new(bad).unwrap_err();
            assert!(err.contains("names a remote helper"), "{bad:?}: {err}");
        }
        assert_eq!(
            RemoteUrl::new("https::https://example.org/x.git").unwrap_err(),
            "URL 'https::https://example.org/x.git' names a remote helper ('https::ADDRESS'), \
             which makes git run git-remote-https; use https, ssh or file URLs"
        );
        // `::` that git does not read as a helper: an IPv6 host, a path.
        for ok in [
            "https://[::1]/x.git",
            "ssh://git@[::1]:22/x.git",
            "file:///a::b/x.git",
        ] {
            assert!(RemoteUrl::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn urls_refuse_bidi_and_zero_width_characters() {
        for c in [
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{feff}',
            '\u{61c}',
            '\u{ad}',
            '\u{34f}',
            '\u{3164}',
            '\u{180e}',
            '\u{2061}',
            '\u{e0000}',
            '\u{e0041}',
            '\u{e007f}',
        ] {
            let url = format!("https://github.com/openxla/x{c}la.git");
            let err = RemoteUrl::new(&url).unwrap_err();
            assert_eq!(
                err,
                format!(
                    "URL 'https://github.com/openxla/x\\u{{{:x}}}la.git' contains the invisible character U+{:04X}, \
                     which can make a URL read as another; URLs cannot hold bidi controls, zero-width or other \
                     invisible characters",
                    c as u32, c as u32
                )
            );
        }
    }

    #[test]
    fn branch_names_refuse_invisible_characters() {
        for c in ['\u{ad}', '\u{61c}', '\u{202e}', '\u{3164}', '\u{e0041}'] {
            let err = BranchName::new(&format!("ma{c}in")).unwrap_err();
            assert_eq!(
                err,
                format!("'ma\\u{{{:x}}}in' is not a valid branch name", c as u32)
            );
        }
    }

    #[test]
    fn url_hosts() {
        let host = |s: &str| RemoteUrl::new(s).unwrap().host().map(str::to_string);
        assert_eq!(host("https://github.com/a/b").as_deref(), Some("github.com"));
        assert_eq!(host("git@github.com:a/b").as_deref(), Some("github.com"));
        assert_eq!(host("ssh://u@h:22/x").as_deref(), Some("h:22"));
        assert_eq!(host("/tmp/x"), None);
        assert_eq!(host("file:///tmp/x"), None);
    }

    #[test]
    fn branch_names() {
        assert!(BranchName::new("main").is_ok());
        assert!(BranchName::new("release/1.2").is_ok());
        for bad in [
            "", "-x", "a..b", "a b", "x.lock", "x.lock/y", ".hidden", "a/.b", "a:b", "HEAD@{1}", "@",
        ] {
            assert!(BranchName::new(bad).is_err(), "{bad:?} accepted");
        }
    }
}
