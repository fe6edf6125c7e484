//! Rewriting one package's pin in the text of a requirements file. The
//! rewriting is a pure function of the file's text, so its many shapes are
//! unit-tested here; writing the file is the caller's (see `crate::model::atomic`).

use std::fmt;

/// A package name compared as pip compares them (PEP 503): lower case, with
/// every run of `-`, `_` and `.` turned into one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

/// A requirements file with one package's pins set to a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementsEdit {
    /// The whole new text (equal to the old when nothing changed).
    pub text: String,
    /// One entry per requirement line of the package, in file order; one
    /// appended entry when the package was absent.
    pub changes: Vec<RequirementChange>,
}

/// What happened to one requirement line of the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementChange {
    /// 1-based line number in the old file (in the new one when appended).
    pub line: usize,
    /// The old specifier as written (`==0.4.1`, `>=0.4`, `@ https://…`,
    /// empty when unpinned); `None` when the line was appended.
    pub before: Option<String>,
    /// Whether the line was rewritten (or appended).
    pub changed: bool,
    /// `--hash` options dropped from the rewritten requirement: they were
    /// the old version's and would make pip refuse the new one.
    pub hashes_removed: usize,
}

impl RequirementChange {
    /// The old pin for messages: the version of `==V`, `unpinned`, or the
    /// specifier as written.
    pub fn before_text(&self) -> &str {
        match self.before.as_deref() {
            None | Some("") => "unpinned",
            Some(spec) => spec
                .strip_prefix("==")
                .filter(|v| !v.starts_with('='))
                .map(str::trim)
                .unwrap_or(spec),
        }
    }
}

/// A requirement line that cannot be rewritten safely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementsError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for RequirementsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RequirementsError {}

/// Pins `package` to `version` in the text of a requirements file.
///
/// Every requirement line whose name equals `package` as pip compares names
/// ([`normalize_name`]) gets `==VERSION` in place of its old specifier; the
/// name as written, extras, environment markers, options and comments stay.
/// When the version changes, the old version's `--hash` options (also on
/// `\`-continued lines, as pip-compile writes them) are dropped, since they
/// could not match the new files. A line already at `==VERSION` is left
/// byte for byte. Every other line is untouched; when no line names the
/// package, `package==version` is appended. Line endings (`\n` or `\r\n`)
/// are kept.
pub fn update_requirements(
    text: &str,
    package: &str,
    version: &str,
) -> Result<RequirementsEdit, RequirementsError> {
    let wanted = normalize_name(package);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len() + package.len() + version.len() + 4);
    let mut changes = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // A logical line: physical lines joined by a trailing backslash, as
        // pip's req_file.join_lines does (a pure comment line never continues).
        let mut end = i + 1;
        while end < lines.len() && continues(lines[end - 1]) {
            end += 1;
        }
        let group = &lines[i..end];
        let first = split_ending(group[0]).0;
        match parse_requirement(first) {
            Some(req) if normalize_name(req.name) == wanted => {
                let change = rewrite(group, &req, version, i + 1, &mut out)?;
                changes.push(change);
            }
            _ => group.iter().for_each(|l| out.push_str(l)),
        }
        i = end;
    }
    if changes.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(line_ending(text));
        }
        out.push_str(&format!("{package}=={version}{}", line_ending(text)));
        changes.push(RequirementChange {
            line: out.lines().count(),
            before: None,
            changed: true,
            hashes_removed: 0,
        });
    }
    Ok(RequirementsEdit { text: out, changes })
}

/// Rewrites one logical line (its physical `group`, the first at 1-based
/// `line`) into `out`.
fn rewrite(
    group: &[&str],
    req: &Requirement<'_>,
    version: &str,
    line: usize,
    out: &mut String,
) -> Result<RequirementChange, RequirementsError> {
    let before = req.spec.to_string();
    let unchanged = before.split_whitespace().collect::<String>() == format!("=={version}");
    if unchanged {
        group.iter().for_each(|l| out.push_str(l));
        return Ok(RequirementChange {
            line,
            before: Some(before),
            changed: false,
            hashes_removed: 0,
        });
    }
    if req.spec.is_empty() && group.len() > 1 {
        // `name \` then `  >=1.0` on the next line: the old specifier is not
        // on this line, and writing one here would leave two.
        let next = split_ending(group[1]).0.trim_start();
        if next.starts_with(['=', '<', '>', '!', '~', '@']) {
            return Err(RequirementsError {
                line,
                message: format!(
                    "the requirement '{}' continues its version on the next line; put `{}{}` on one line so that roll can rewrite it",
                    req.name,
                    req.name,
                    next.trim_end_matches('\\').trim_end()
                ),
            });
        }
    }
    let mut hashes_removed = 0;
    let mut kept: Vec<String> = Vec::with_capacity(group.len());
    for (k, physical) in group.iter().enumerate() {
        let (content, ending) = split_ending(physical);
        let (code, comment) = if k == 0 {
            let (code, comment) = split_comment(req.rest);
            (format!("{}=={version}{code}", req.head), comment)
        } else {
            let (code, comment) = split_comment(content);
            (code.to_string(), comment)
        };
        let (code, removed) = remove_hashes(&code);
        hashes_removed += removed;
        let blank = code.trim().is_empty() || code.trim() == "\\";
        if k > 0 && removed > 0 && blank && comment.is_empty() {
            continue; // a continuation line that held only hashes
        }
        kept.push(format!("{code}{comment}{ending}"));
    }
    // The group ended on a line without a backslash; if that line was
    // dropped, the last kept line must stop continuing.
    let ended_open = continues(group[group.len() - 1]);
    if let Some(last) = kept.last_mut() {
        if !ended_open && continues(last) {
            let (content, ending) = split_ending(last);
            let content = content.trim_end().trim_end_matches('\\').trim_end().to_string();
            *last = format!("{content}{ending}");
        }
    }
    kept.iter().for_each(|l| out.push_str(l));
    Ok(RequirementChange {
        line,
        before: Some(before),
        changed: true,
        hashes_removed,
    })
}

/// A requirement line split where roll edits it:
/// `head` + `spec` + `rest` is the line.
#[derive(Debug, PartialEq, Eq)]
struct Requirement<'a> {
    /// The name as written.
    name: &'a str,
    /// From the line's start to the end of the name or of its extras
    /// (`  jax[cuda]`).
    head: &'a str,
    /// The version specifier or `@ URL`, trimmed; empty when there is none.
    spec: &'a str,
    /// Everything after the specifier: markers, options, comment, `\`.
    rest: &'a str,
}

/// Parses a physical line (without its ending) as the start of a
/// requirement `NAME[EXTRAS] SPEC ; MARKERS OPTIONS # COMMENT`. Options
/// (`-r`, `--hash`), comments, paths and URLs give `None`.
fn parse_requirement(line: &str) -> Option<Requirement<'_>> {
    let bytes = line.as_bytes();
    let start = line.len() - line.trim_start().len();
    let name_end = start
        + line[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .unwrap_or(line.len() - start);
    let name = &line[start..name_end];
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let mut head_end = name_end;
    let mut pos = skip_space(line, name_end);
    if bytes.get(pos) == Some(&b'[') {
        let close = pos + line[pos..].find(']')?;
        head_end = close + 1;
        pos = skip_space(line, head_end);
    }
    let spaced = pos > head_end;
    let spec_start = pos;
    let spec_end = match bytes.get(pos) {
        None => head_end,
        Some(b'=' | b'<' | b'>' | b'!' | b'~') => version_spec_end(line, pos),
        Some(b'@') => {
            // `@ URL`: the URL runs to white space (PEP 508 wants white space
            // before a marker that follows a URL).
            let url = skip_space(line, pos + 1);
            url + line[url..].find(char::is_whitespace).unwrap_or(line.len() - url)
        }
        // PEP 508's parenthesised form, `name (>=1.0)`.
        Some(b'(') => pos + line[pos..].find(')')? + 1,
        Some(b';') => head_end,
        Some(b'\\') if pos + 1 == line.len() => head_end,
        Some(b'#' | b'-') if spaced => head_end,
        // `https://…`, `name/…`, `name+…`: not a requirement we can edit.
        _ => return None,
    };
    let spec = if spec_end > head_end {
        line[spec_start..spec_end].trim_end()
    } else {
        ""
    };
    let rest_start = if spec.is_empty() {
        head_end
    } else {
        spec_start + spec.len()
    };
    Some(Requirement {
        name,
        head: &line[..head_end],
        spec,
        rest: &line[rest_start..],
    })
}

/// Where a version specifier starting at `pos` ends: at `;` (a marker), at
/// white space followed by `#` (a comment) or `-` (an option such as
/// `--hash`), or at a final `\`.
fn version_spec_end(line: &str, pos: usize) -> usize {
    let bytes = line.as_bytes();
    let mut i = pos;
    while i < bytes.len() {
        match bytes[i] {
            b';' => return i,
            b'\\' if i + 1 == bytes.len() => return i,
            c if c.is_ascii_whitespace() => {
                let next = skip_space(line, i);
                match bytes.get(next) {
                    None | Some(b'#' | b'-' | b';') => return i,
                    Some(b'\\') if next + 1 == bytes.len() => return i,
                    _ => i = next,
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

fn skip_space(line: &str, from: usize) -> usize {
    from + line[from..].len() - line[from..].trim_start().len()
}

/// Whether a physical line continues onto the next: it ends with `\` and is
/// not a pure comment line (pip's `join_lines`).
fn continues(physical: &str) -> bool {
    let content = split_ending(physical).0;
    content.ends_with('\\') && !content.trim_start().starts_with('#')
}

/// A physical line split into content and line ending (`\n`, `\r\n` or none).
fn split_ending(physical: &str) -> (&str, &str) {
    let content = physical
        .strip_suffix("\r\n")
        .or_else(|| physical.strip_suffix('\n'))
        .unwrap_or(physical);
    (content, &physical[content.len()..])
}

/// Splits off a comment: from a `#` at the start or after white space.
fn split_comment(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            // Keep the white space before the comment with the comment.
            let code = s[..i].trim_end();
            return (code, &s[code.len()..]);
        }
    }
    (s, "")
}

/// Removes `--hash=ALGO:HEX` (or `--hash ALGO:HEX`) options with the white
/// space before them; returns the rest and how many were removed.
fn remove_hashes(code: &str) -> (String, usize) {
    let mut out = String::with_capacity(code.len());
    let mut removed = 0;
    let mut rest = code;
    while let Some(at) = find_option(rest, "--hash") {
        let before = rest[..at].trim_end();
        let mut after = &rest[at + "--hash".len()..];
        after = match after.strip_prefix('=') {
            Some(value) => value,
            None => after.trim_start(),
        };
        let value_len = after.find(char::is_whitespace).unwrap_or(after.len());
        out.push_str(before);
        rest = &after[value_len..];
        removed += 1;
    }
    out.push_str(rest);
    (out, removed)
}

/// The byte offset of option `name` in `s` when it stands as its own word
/// (at the start or after white space, followed by `=`, white space or end).
fn find_option(s: &str, name: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(found) = s[from..].find(name) {
        let at = from + found;
        let starts_word = at == 0 || bytes[at - 1].is_ascii_whitespace();
        let ends_word = matches!(bytes.get(at + name.len()), None | Some(b'='))
            || bytes[at + name.len()].is_ascii_whitespace();
        if starts_word && ends_word {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

/// The file's line ending: `\r\n` when its first line has one.
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;

    fn update(text: &str, package: &str, version: &str) -> RequirementsEdit {
        update_requirements(text, package, version).unwrap()
    }

    #[test]
    fn names_compare_as_pip_compares_them() {
        assert_eq!(normalize_name("Jax_Lib"), "jax-lib");
        assert_eq!(normalize_name("iree.compiler"), "iree-compiler");
        assert_eq!(normalize_name("IREE__-.Compiler"), "iree-compiler");
        assert_ne!(normalize_name("jaxlib"), normalize_name("jax-lib"));
    }

    #[test]
    fn an_exact_pin_gets_the_new_version() {
        let edit = update("numpy==1.0\njaxlib==0.4.1\nscipy\n", "jaxlib", "0.4.2");
        assert_eq!(edit.text, "numpy==1.0\njaxlib==0.4.2\nscipy\n");
        assert_eq!(
            edit.changes,
            [RequirementChange {
                line: 2,
                before: Some("==0.4.1".into()),
                changed: true,
                hashes_removed: 0
            }]
        );
        assert_eq!(edit.changes[0].before_text(), "0.4.1");
    }

    #[test]
    fn markers_comments_extras_and_the_name_as_written_are_kept() {
        for (old, new) in [
            (
                "jaxlib==0.4.1; python_version >= \"3.9\"",
                "jaxlib==0.4.2; python_version >= \"3.9\"",
            ),
            (
                "jaxlib == 0.4.1 ; sys_platform == 'linux'  # CI",
                "jaxlib==0.4.2 ; sys_platform == 'linux'  # CI",
            ),
            (
                "jaxlib>=0.4,<0.5  # keep in step with jax",
                "jaxlib==0.4.2  # keep in step with jax",
            ),
            ("jaxlib >= 0.4, < 0.5", "jaxlib==0.4.2"),
            ("JAXLIB~=0.4.0", "JAXLIB==0.4.2"),
            ("jax[cuda12]>=0.4", "jax[cuda12]==0.4.2"),
            (
                "jax [cuda12] ; os_name == 'posix'",
                "jax [cuda12]==0.4.2 ; os_name == 'posix'",
            ),
            ("jaxlib", "jaxlib==0.4.2"),
            ("  jaxlib  # indented", "  jaxlib==0.4.2  # indented"),
            (
                "jaxlib @ https://example.org/jaxlib-0.4.1-py3-none-any.whl ; python_version > '3'",
                "jaxlib==0.4.2 ; python_version > '3'",
            ),
            (
                "jaxlib==0.4.1 --global-option=x",
                "jaxlib==0.4.2 --global-option=x",
            ),
            (
                "jaxlib (>=0.4) ; os_name == 'posix'",
                "jaxlib==0.4.2 ; os_name == 'posix'",
            ),
        ] {
            let package = if old.contains("jax[") || old.contains("jax [") {
                "jax"
            } else {
                "jaxlib"
            };
            let edit = update(&format!("{old}\n"), package, "0.4.2");
            assert_eq!(edit.text, format!("{new}\n"), "from {old:?}");
            assert!(edit.changes[0].changed);
        }
    }

    #[test]
    fn names_match_after_pep_503_normalisation() {
        let text = "IREE_Compiler==20240101.1\niree.compiler==1 ; os_name == 'nt'\niree-compiler-extra==1\n";
        let edit = update(text, "iree-compiler", "20240102.2");
        assert_eq!(
            edit.text,
            "IREE_Compiler==20240102.2\niree.compiler==20240102.2 ; os_name == 'nt'\niree-compiler-extra==1\n"
        );
        assert_eq!(edit.changes.len(), 2);
        assert_eq!(edit.changes[1].line, 2);
    }

    #[test]
    fn other_lines_are_left_byte_for_byte() {
        let text = "# Pinned nightly.\r\n--pre\r\n-f https://example.org/links.html\r\n-r base.txt\r\n\r\n-e ./local\r\njaxlib-0.4.1-py3-none-any.whl\r\nhttps://example.org/jaxlib.whl\r\njaxlib==0.4.1\r\n# jaxlib==0.3 is too old\r\njaxlibx==1\r\n";
        let edit = update(text, "jaxlib", "0.4.2");
        assert_eq!(edit.text, text.replace("jaxlib==0.4.1\r\n", "jaxlib==0.4.2\r\n"));
        assert_eq!(edit.changes.len(), 1);
        assert_eq!(edit.changes[0].line, 9);
    }

    #[test]
    fn a_line_already_at_the_version_is_untouched() {
        let text = "jaxlib == 0.4.2 \\\n    --hash=sha256:aaa\n";
        let edit = update(text, "jaxlib", "0.4.2");
        assert_eq!(edit.text, text);
        assert!(!edit.changes[0].changed);
        assert_eq!(edit.changes[0].before_text(), "0.4.2");
    }

    #[test]
    fn an_absent_package_is_appended_in_the_file_s_line_ending() {
        let edit = update("numpy==1.0\n", "jaxlib", "0.4.2");
        assert_eq!(edit.text, "numpy==1.0\njaxlib==0.4.2\n");
        assert_eq!(edit.changes[0].before, None);
        assert_eq!(edit.changes[0].line, 2);
        assert_eq!(
            update("numpy==1.0", "jaxlib", "1").text,
            "numpy==1.0\njaxlib==1\n"
        );
        assert_eq!(
            update("a\r\nb\r\n", "jaxlib", "1").text,
            "a\r\nb\r\njaxlib==1\r\n"
        );
        assert_eq!(update("", "jaxlib", "1").text, "jaxlib==1\n");
        // A mention in a comment or an option is not a requirement.
        assert_eq!(
            update("# jaxlib==0.4.1\n-f jaxlib\n", "jaxlib", "1").text,
            "# jaxlib==0.4.1\n-f jaxlib\njaxlib==1\n"
        );
    }

    #[test]
    fn the_old_version_s_hashes_are_dropped_with_their_continuation_lines() {
        let text = "jaxlib==0.4.1 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\n    # via -r requirements.in\nnumpy==1.0 \\\n    --hash=sha256:ccc\n";
        let edit = update(text, "jaxlib", "0.4.2");
        assert_eq!(
            edit.text,
            "jaxlib==0.4.2\n    # via -r requirements.in\nnumpy==1.0 \\\n    --hash=sha256:ccc\n"
        );
        assert_eq!(edit.changes[0].hashes_removed, 2);

        let edit = update(
            "jaxlib==0.4.1 ; os_name == 'posix' --hash=sha256:aaa --hash sha256:bbb  # x\n",
            "jaxlib",
            "0.4.2",
        );
        assert_eq!(edit.text, "jaxlib==0.4.2 ; os_name == 'posix'  # x\n");
        assert_eq!(edit.changes[0].hashes_removed, 2);

        // Other options on continuation lines stay, and so does the marker.
        let edit = update(
            "jaxlib==0.4.1 \\\n    --hash=sha256:aaa \\\n    ; python_version > '3'\n",
            "jaxlib",
            "0.4.2",
        );
        assert_eq!(edit.text, "jaxlib==0.4.2 \\\n    ; python_version > '3'\n");
    }

    #[test]
    fn a_version_on_a_continuation_line_is_an_error() {
        let err = update_requirements("x==1\njaxlib \\\n  >=0.4\n", "jaxlib", "0.4.2").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("put `jaxlib>=0.4` on one line"), "{err}");
    }

    #[test]
    fn golden_requirements_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/requirements");
        let input = fs::read_to_string(dir.join("pip_compile.in.txt")).unwrap();
        let expected = fs::read_to_string(dir.join("pip_compile.golden.txt")).unwrap();
        let edit = update(&input, "jaxlib", "0.4.31");
        let edit = update(&edit.text, "iree-compiler", "20240828.999");
        assert_eq!(edit.text, expected);
        // Rolling again to the same versions changes nothing.
        assert_eq!(update(&expected, "jaxlib", "0.4.31").text, expected);
        assert_eq!(update(&expected, "iree-compiler", "20240828.999").text, expected);
    }
}
