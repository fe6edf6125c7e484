//! The one piece of Python syntax the reader understands: a dict literal
//! of quoted keys and quoted-string or flag values, with white space,
//! newlines and comments between tokens, followed by the end of its line.

use std::fmt;
use std::path::Path;

use super::PinFileError;

/// Reads the dict literal whose `{` is at byte `open_brace` of `text`, on
/// 1-based `line`, and checks that only white space or a comment follows its
/// `}` on that line. Returns the entries and the offset just past them.
pub(super) fn read_statement(
    text: &str,
    open_brace: usize,
    line: usize,
    file: &Path,
    dict: Dict,
) -> Result<(Vec<Entry>, usize), PinFileError> {
    let mut scanner = Scanner {
        text,
        pos: open_brace,
        line,
        open_line: line,
        file,
        dict,
    };
    let entries = scanner.dict_literal()?;
    scanner.end_of_statement()?;
    Ok((entries, scanner.pos))
}

/// One of the three dicts; the discriminant indexes the parse results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dict {
    Pinned = 0,
    Origins = 1,
    Submodules = 2,
}

impl Dict {
    pub(super) fn from_name(name: &str) -> Dict {
        match name {
            "PINNED_VERSIONS" => Dict::Pinned,
            "ORIGINS" => Dict::Origins,
            _ => Dict::Submodules,
        }
    }

    fn expected_value(self) -> &'static str {
        match self {
            Dict::Pinned => "a quoted commit id",
            Dict::Origins => "a quoted URL",
            Dict::Submodules => "1, True, 0 or False",
        }
    }
}

impl fmt::Display for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dict::Pinned => "PINNED_VERSIONS",
            Dict::Origins => "ORIGINS",
            Dict::Submodules => "SUBMODULES",
        })
    }
}

/// One `key: value` of a dict, with the lines for messages.
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) key_line: usize,
    pub(super) value: Value,
    pub(super) value_line: usize,
}

/// A value: a string in PINNED_VERSIONS and ORIGINS, a flag in SUBMODULES.
pub(super) enum Value {
    Text(String),
    Flag(bool),
}

impl Value {
    pub(super) fn text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            Value::Flag(_) => "",
        }
    }
}

/// Reads one dict literal: `{`, `"key": value` entries separated by commas
/// (a trailing one allowed), `}`, with white space, newlines and comments
/// anywhere between tokens. `pos` only ever stops on a character boundary.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    open_line: usize,
    file: &'a Path,
    dict: Dict,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Starts on the `{`; ends after the matching `}`.
    fn dict_literal(&mut self) -> Result<Vec<Entry>, PinFileError> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_trivia();
            match self.peek() {
                Some(b'}') => break,
                Some(b'"' | b'\'') => {}
                _ => return Err(self.expected("a quoted project name or '}'")),
            }
            let key_line = self.line;
            let key = self.string_literal()?;
            self.skip_trivia();
            if self.peek() != Some(b':') {
                let shown = shorten(&key);
                return Err(self.expected(&format!("':' after '{shown}'")));
            }
            self.pos += 1;
            self.skip_trivia();
            let value_line = self.line;
            let value = match (self.dict, self.peek()) {
                (Dict::Submodules, _) => Value::Flag(self.flag()?),
                (_, Some(b'"' | b'\'')) => Value::Text(self.string_literal()?),
                _ => return Err(self.expected(self.dict.expected_value())),
            };
            entries.push(Entry {
                key,
                key_line,
                value,
                value_line,
            });
            self.skip_trivia();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => return Err(self.expected("',' or '}' after an entry")),
            }
        }
        self.pos += 1;
        Ok(entries)
    }

    /// After the `}`: only white space or a comment may follow on the line.
    fn end_of_statement(&mut self) -> Result<(), PinFileError> {
        while let Some(b' ' | b'\t' | b'\r' | b'\x0c') = self.peek() {
            self.pos += 1;
        }
        match self.peek() {
            None | Some(b'\n' | b'#') => Ok(()),
            Some(_) => Err(self.error(format!(
                "after the '}}' that closes {}, expected the end of the line, found '{}'",
                self.dict,
                snippet(&self.text[self.pos..])
            ))),
        }
    }

    fn skip_trivia(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                }
                b'#' => {
                    let rest = &self.text.as_bytes()[self.pos..];
                    self.pos += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                }
                _ => break,
            }
        }
    }

    /// A single- or double-quoted string on one line. Escapes: `\\`, `\"`,
    /// `\'`, and `\uXXXX` / `\UXXXXXXXX`, which the writer emits for
    /// non-ASCII characters.
    fn string_literal(&mut self) -> Result<String, PinFileError> {
        let start = self.pos;
        let quote = char::from(self.text.as_bytes()[start]);
        let mut value = String::new();
        let mut chars = self.text[start + 1..].char_indices();
        let unclosed = |this: &Self| {
            this.error(format!(
                "in {}, the string '{}' is not closed on its line",
                this.dict,
                snippet(&this.text[start..])
            ))
        };
        loop {
            let Some((i, c)) = chars.next() else {
                return Err(unclosed(self));
            };
            match c {
                '\n' | '\r' => return Err(unclosed(self)),
                '\\' => {
                    let escape = chars.next().map(|(_, e)| e);
                    match escape {
                        Some(e @ ('\\' | '"' | '\'')) => value.push(e),
                        Some('u') => value.push(self.hex_escape(&mut chars, 4)?),
                        Some('U') => value.push(self.hex_escape(&mut chars, 8)?),
                        Some('\n' | '\r') | None => return Err(unclosed(self)),
                        Some(e) => {
                            return Err(self.error(format!(
                                "in {}, unsupported escape '\\{}' in a string; \
                                 only \\\\, \\\", \\' and \\uXXXX are understood",
                                self.dict,
                                e.escape_debug()
                            )))
                        }
                    }
                }
                c if c == quote => {
                    self.pos = start + 1 + i + 1;
                    return Ok(value);
                }
                c => value.push(c),
            }
        }
    }

    fn hex_escape(&self, chars: &mut std::str::CharIndices<'_>, digits: usize) -> Result<char, PinFileError> {
        let mut code: u32 = 0;
        for _ in 0..digits {
            match chars.next().and_then(|(_, c)| c.to_digit(16)) {
                Some(d) => code = code * 16 + d,
                None => {
                    return Err(self.error(format!(
                        "in {}, expected {digits} hex digits after \\{}",
                        self.dict,
                        if digits == 4 { 'u' } else { 'U' }
                    )))
                }
            }
        }
        char::from_u32(code).ok_or_else(|| {
            self.error(format!(
                "in {}, escape for U+{code:X} is not a Unicode character",
                self.dict
            ))
        })
    }

    /// A SUBMODULES value: `1`/`True` or `0`/`False`.
    fn flag(&mut self) -> Result<bool, PinFileError> {
        let rest = &self.text.as_bytes()[self.pos..];
        let len = rest
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .unwrap_or(rest.len());
        let on = match &self.text[self.pos..self.pos + len] {
            "1" | "True" => true,
            "0" | "False" => false,
            _ => return Err(self.expected(self.dict.expected_value())),
        };
        self.pos += len;
        Ok(on)
    }

    /// "expected X, found Y" at the current position; at the end of the file
    /// it is the dict that is unclosed, reported where it opens.
    fn expected(&self, what: &str) -> PinFileError {
        if self.pos >= self.text.len() {
            return PinFileError::new(
                self.file,
                self.open_line,
                format!(
                    "{} is never closed: expected {what} before the end of the file",
                    self.dict
                ),
            );
        }
        self.error(format!(
            "in {}, expected {what}, found '{}'",
            self.dict,
            snippet(&self.text[self.pos..])
        ))
    }

    fn error(&self, message: String) -> PinFileError {
        PinFileError::new(self.file, self.line, message)
    }
}

/// The start of `rest`'s first line, short enough to quote in a message.
pub(super) fn snippet(rest: &str) -> String {
    let line = rest.split(['\n', '\r']).next().unwrap_or("");
    shorten(line)
}

fn shorten(s: &str) -> String {
    const MAX: usize = 30;
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_pins::*;
    use super::super::{parse, FILE_NAME};
    use std::path::Path;

    #[test]
    fn zero_and_false_in_submodules_mean_no() {
        let text = format!(
            "PINNED_VERSIONS = {{'a': '{IREE}', 'b': '{XLA}', 'c': '{JAX}'}}\n\
             SUBMODULES = {{'a': 0, 'b': False, 'c': True}}\n"
        );
        let pins = parse(&text, Path::new(FILE_NAME)).unwrap();
        assert_eq!(pins.submodules(), [name("c")]);
    }

    #[test]
    fn string_escapes_quotes_and_backslashes() {
        let text = format!(
            "PINNED_VERSIONS = {{'a': '{IREE}'}}\n\
             ORIGINS = {{'a': 'https://h/it\\'s\\\\\\\"x\\u00e4\\U0001f600'}}\n"
        );
        let pins = parse(&text, Path::new(FILE_NAME)).unwrap();
        assert_eq!(pins.origins()[0].1.as_str(), "https://h/it's\\\"xä\u{1F600}");
    }

    #[test]
    fn unclosed_dict_followed_by_more_code_points_at_the_code() {
        let text = format!("PINNED_VERSIONS = {{\n  'a': '{IREE}',\n\nORIGINS = {{}}\n");
        let err = parse(&text, Path::new(FILE_NAME)).unwrap_err();
        assert_eq!(err.line, 4, "{err}");
        assert!(err
            .message
            .contains("expected a quoted project name or '}', found 'ORIGINS = {}'"));
    }

    #[test]
    fn other_syntax_inside_a_dict_is_refused() {
        for (body, fragment) in [
            ("{'a': '{IREE}' 'b': 1}", "expected ',' or '}'"),
            ("{'a' '{IREE}'}", "expected ':' after 'a'"),
            ("{,}", "expected a quoted project name"),
            ("{'a': '{IREE}',,}", "expected a quoted project name"),
            ("{**OTHER}", "found '**OTHER}'"),
            ("{'a': u'{IREE}'}", "expected a quoted commit id, found 'u'"),
            ("{'a': '{IREE}'\\\n}", "found '\\'"),
            ("{'a': '\\ud800'}", "U+D800 is not a Unicode character"),
            ("{'a': '\\u12'}", "expected 4 hex digits after \\u"),
            ("{'a': \"x\\\n\"}", "is not closed on its line"),
        ] {
            let text = format!("PINNED_VERSIONS = {}\n", body.replace("{IREE}", IREE));
            let err = parse(&text, Path::new(FILE_NAME)).expect_err(body);
            assert!(err.message.contains(fragment), "{body}: {err}");
        }
    }
}
