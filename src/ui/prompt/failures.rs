//! What git's (and ssh's) error output says about credentials: whether an
//! answer was refused, and what to tell a user whose git failed for want
//! of credentials. Pure functions over stderr, tested on captured output.

/// Whether stderr says that the server refused the credentials given:
/// ssh's `Permission denied (publickey).`, git's `Authentication failed
/// for 'https://…'`, and the wording of the big forges.
pub fn credentials_refused(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("authentication failed")
        || s.contains("permission denied (")
        || s.contains("permission denied, please try again")
        || s.contains("invalid username or password")
        || s.contains("http basic: access denied")
}

/// One line saying what to do when git failed for want of credentials
/// (`None` for other failures). `no_terminal`: the run has no terminal,
/// so nobody could be asked.
pub fn hint(stderr: &str, no_terminal: bool) -> Option<&'static str> {
    let s = stderr.to_ascii_lowercase();
    let ssh_refused = s.contains("permission denied (publickey")
        || s.contains("permission denied, please try again")
        || s.contains("permission denied (password");
    let https_needs_answer =
        s.contains("could not read username for") || s.contains("could not read password for");
    if ssh_refused && no_terminal {
        // Without a terminal ssh cannot ask for a passphrase either, so a
        // key that has one looks missing.
        Some(
            "the ssh server accepted none of your keys, and there is no terminal to ask for a passphrase: \
             load your key into an ssh agent (`ssh-add`) before the run, or use --ro to clone from the \
             read-only https URLs",
        )
    } else if ssh_refused {
        Some(
            "the ssh server accepted none of your keys: add your public key to your account there (or \
             load the key into your ssh agent), or use --ro to clone from the read-only https URLs",
        )
    } else if https_needs_answer && no_terminal {
        Some(
            "git needs a username and password (or token) and there is no terminal to ask for them: \
             store them with a credential helper (see `git help credential`), or use --ro to clone \
             from the read-only https URLs",
        )
    } else if s.contains("authentication failed for") {
        Some(
            "the server refused the username and password (or token) git gave it: update the ones your \
             credential helper keeps, or use --ro to clone from the read-only https URLs",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from git 2.47 and OpenSSH 9.2.
    const SSH_NO_KEY: &str = "Cloning into 'x'...\ngit@github.com: Permission denied (publickey).\n\
        fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\n\
        and the repository exists.\n";
    const HTTPS_NO_TERMINAL: &str =
        "Cloning into 'x'...\nfatal: could not read Username for 'https://github.com': terminal prompts disabled\n";
    const HTTPS_REFUSED: &str = "remote: Invalid username or password.\n\
        fatal: Authentication failed for 'https://github.com/o/r.git/'\n";
    const NOT_FOUND: &str = "fatal: repository 'https://example.org/x.git/' not found\n";

    #[test]
    fn refused_credentials_are_recognised() {
        assert!(credentials_refused(SSH_NO_KEY));
        assert!(credentials_refused(HTTPS_REFUSED));
        assert!(!credentials_refused(HTTPS_NO_TERMINAL));
        assert!(!credentials_refused(NOT_FOUND));
        assert!(!credentials_refused(
            "error: cannot open .git/FETCH_HEAD: Permission denied"
        ));
    }

    #[test]
    fn each_credential_failure_gets_its_hint() {
        assert!(hint(SSH_NO_KEY, true).unwrap().contains("ssh agent"));
        assert!(hint(SSH_NO_KEY, true).unwrap().contains("--ro"));
        assert!(!hint(SSH_NO_KEY, false).unwrap().contains("no terminal"));
        assert!(hint(SSH_NO_KEY, false).unwrap().contains("--ro"));
        assert!(hint(HTTPS_NO_TERMINAL, true)
            .unwrap()
            .contains("credential helper"));
        assert_eq!(hint(HTTPS_NO_TERMINAL, false), None);
        assert!(hint(HTTPS_REFUSED, true).unwrap().contains("refused"));
        assert_eq!(hint(NOT_FOUND, true), None);
    }
}
