//! `diff` and `grep` across projects: each project's patch with paths
//! that start at the workspace, and `git grep -z` records read whatever
//! bytes a path holds.

use std::ffi::OsString;
use std::path::Path;

use super::{Git, GitResult, GrepOptions};

impl Git {
    /// The patch of [`Git::diff_cmd`] (empty without changes), as bytes:
    /// file contents need not be text.
    pub fn diff(&self, repo: &Path, prefix: &str, cached: bool) -> GitResult<Vec<u8>> {
        Ok(self.raw(&Self::diff_cmd(repo, prefix, cached))?.stdout)
    }

    /// The matches of [`Git::grep_cmd`] in `repo` (none is not an error).
    pub fn grep(
        &self,
        repo: &Path,
        pattern: &str,
        options: &GrepOptions,
        paths: &[OsString],
    ) -> GitResult<Vec<GrepMatch>> {
        let cmd = Self::grep_cmd(repo, pattern, options, paths);
        let out = self.spawn(&cmd)?;
        match out.status.code() {
            Some(0) => Ok(parse_grep(&out.stdout, options)),
            // git grep: 1 is "nothing matched".
            Some(1) if out.stderr.is_empty() => Ok(Vec::new()),
            _ => Err(self.failure(&cmd, &out)),
        }
    }
}

/// One record of `git grep -z`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrepMatch {
    /// The file, relative to the project's top folder.
    pub path: Vec<u8>,
    /// The line number, with `-n`.
    pub line: Option<Vec<u8>>,
    /// The matching line, unless `-l`.
    pub text: Option<Vec<u8>>,
}

/// Reads the output of [`Git::grep_cmd`]: `PATH NUL [LINE NUL] TEXT LF`
/// per match, or `PATH NUL` per file with `-l`. The path is read up to its
/// NUL, so a name holding a newline or a colon is read whole.
fn parse_grep(out: &[u8], options: &GrepOptions) -> Vec<GrepMatch> {
    let mut matches = Vec::new();
    let mut rest = out;
    let take = |rest: &mut &[u8], end: u8| -> Vec<u8> {
        let n = rest.iter().position(|&b| b == end).unwrap_or(rest.len());
        let field = rest[..n].to_vec();
        *rest = rest.get(n + 1..).unwrap_or_default();
        field
    };
    while !rest.is_empty() {
        let path = take(&mut rest, 0);
        let (line, text) = if options.files_with_matches {
            // Records end at the NUL; some gits add a newline after it.
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
            (None, None)
        } else {
            let line = options.line_number.then(|| take(&mut rest, 0));
            (line, Some(take(&mut rest, b'\n')))
        };
        matches.push(GrepMatch { path, line, text });
    }
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grep_records_are_split_at_their_nuls_whatever_the_path_holds() {
        let options = GrepOptions {
            line_number: true,
            ..GrepOptions::default()
        };
        let out = b"src/a.rs\x0012\x00    let x = 1; // a:b\nodd\nname.txt\x003\x00x\n";
        assert_eq!(
            parse_grep(out, &options),
            [
                GrepMatch {
                    path: b"src/a.rs".to_vec(),
                    line: Some(b"12".to_vec()),
                    text: Some(b"    let x = 1; // a:b".to_vec())
                },
                GrepMatch {
                    path: b"odd\nname.txt".to_vec(),
                    line: Some(b"3".to_vec()),
                    text: Some(b"x".to_vec())
                },
            ]
        );
        let plain = parse_grep(b"a\x00text: here\n", &GrepOptions::default());
        assert_eq!(plain[0].line, None);
        assert_eq!(plain[0].text.as_deref(), Some(&b"text: here"[..]));
        let files = GrepOptions {
            files_with_matches: true,
            ..GrepOptions::default()
        };
        let listed = parse_grep(b"a.txt\x00b c.txt\x00", &files);
        let paths: Vec<&[u8]> = listed.iter().map(|m| m.path.as_slice()).collect();
        assert_eq!(paths, [&b"a.txt"[..], &b"b c.txt"[..]]);
        assert!(parse_grep(b"", &options).is_empty());
    }
}
