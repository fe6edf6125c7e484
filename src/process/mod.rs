//! How every program the tool runs (git, pip, the user's `foreach`
//! command) is shown: its command line as a user could retype it, and its
//! stderr cut down to what is worth showing, the same whoever ran it.

pub(crate) mod cap;
pub(crate) mod children;
pub(crate) mod env;
pub(crate) mod foreach;
pub(crate) mod interrupt;
pub(crate) mod pip;
pub(crate) mod spool;
pub mod stderr;
pub(crate) mod wait;

/// `s` as a POSIX shell would need it typed: as it is when every character
/// is one a shell leaves alone, else in single quotes. Braces are left
/// alone (`HEAD^{commit}`) only where bash and zsh would not expand them:
/// with no comma or `..` beside them (`{a,b}`, `{1..3}` are lists).
pub fn shell_quote(s: &str) -> String {
    let expands = s.contains('{') && (s.contains(',') || s.contains(".."));
    let plain = !s.is_empty()
        && !expands
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,%^{}".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The most lines of a program's stderr an error shows, counting the line
/// that says how many more there were.
pub const MAX_STDERR_LINES: usize = 20;

/// What is worth showing of the `lines` of a program's stderr: without
/// trailing blanks or blank lines, and at most [`MAX_STDERR_LINES`] lines,
/// so that one failure cannot flood a summary.
pub fn capped_stderr<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let lines: Vec<&str> = lines
        .into_iter()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() <= MAX_STDERR_LINES {
        lines.join("\n")
    } else {
        let mut kept = lines[..MAX_STDERR_LINES - 1].join("\n");
        kept.push_str(&format!(
            "\n… ({} more lines)",
            lines.len() - (MAX_STDERR_LINES - 1)
        ));
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_shell_would_split_or_expand_is_quoted() {
        assert_eq!(shell_quote("--format=%H"), "--format=%H");
        assert_eq!(shell_quote("HEAD^{commit}"), "HEAD^{commit}");
        assert_eq!(shell_quote("/ws/{a,b}"), "'/ws/{a,b}'");
        assert_eq!(shell_quote("p{1..3}"), "'p{1..3}'");
        assert_eq!(shell_quote("/ws/a.b/c@d+e,f:g"), "/ws/a.b/c@d+e,f:g");
        assert_eq!(shell_quote("--format=%H %s"), "'--format=%H %s'");
        assert_eq!(shell_quote("*.rs"), "'*.rs'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn stderr_is_trimmed_and_capped() {
        let noisy = "first  \n\n  \nfatal: boom\t\n";
        assert_eq!(capped_stderr(noisy.lines()), "first\nfatal: boom");
        let long: String = (0..50).map(|i| format!("line {i}\n")).collect();
        let capped = capped_stderr(long.lines());
        assert_eq!(capped.lines().count(), MAX_STDERR_LINES);
        assert!(capped.starts_with("line 0\n"), "{capped}");
        assert!(capped.ends_with("\nline 18\n… (31 more lines)"), "{capped}");
        let exact: String = (0..20).map(|i| format!("line {i}\n")).collect();
        assert_eq!(capped_stderr(exact.lines()), exact.trim_end());
    }
}
