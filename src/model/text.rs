//! Text that comes from other people's repositories (commit subjects, branch
//! names, git's stderr, prompts) made safe to show on a terminal.
//!
//! A commit subject may hold escape sequences that repaint the screen, set
//! the terminal's title or clipboard, or reorder what is shown (bidi
//! controls). Everything printed that the tool did not write itself goes
//! through [`escape_control`] first.

use std::borrow::Cow;

/// `s` with every control character escaped as `\x1b` / `\u{202e}`: C0 and
/// C1 controls, DEL, and the invisible characters that change how the rest
/// of a line is shown ([`is_invisible_format`]: bidi controls, zero-width
/// and other default-ignorable characters). With `keep_newlines`, `\n` stays (for
/// multi-line messages such as git's stderr); a tab always stays.
pub fn escape_control(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| needs_escape(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            if (c as u32) < 0x80 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` is a character that [`escape_control`] escapes (a tab never is).
pub fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t') || is_invisible_format(c)
}

/// Unicode's Bidi_Control and Default_Ignorable_Code_Point characters
/// (Unicode 15.1, DerivedCoreProperties.txt and PropList.txt): bidi marks,
/// embeddings, overrides and isolates (U+061C, U+200E/F, U+202A–U+202E,
/// U+2066–U+2069), zero-width and joining characters, the soft hyphen,
/// fillers (U+115F, U+3164, U+FFA0), variation selectors, invisible
/// operators (U+2061–U+2064), the byte-order mark and the tag characters
/// (U+E0000–U+E0FFF). A program shows none of them, yet they change what a
/// reader sees, so two different names or URLs can look alike.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// `json` (as serde_json writes it) with every character that
/// [`escape_control`] would escape written as a JSON `\uXXXX` escape: the
/// same data for a program that parses it, and no control sequence or bidi
/// override for a terminal that shows it. Outside strings JSON holds only
/// white space (the newlines of pretty printing, kept); inside them serde
/// has already escaped newlines. A character beyond the Basic Multilingual
/// Plane (a tag character) is written as its UTF-16 surrogate pair, as JSON
/// requires.
pub fn json_for_terminal(json: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| needs_escape(c) && c != '\n';
    if !json.chars().any(unsafe_char) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_char(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{:04x}", unit));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(escape_control("fix: a\tb", false), Cow::Borrowed(_)));
        assert!(matches!(escape_control("line 1\nline 2", true), Cow::Borrowed(_)));
    }

    #[test]
    fn terminal_sequences_and_invisible_characters_are_escaped() {
        assert_eq!(
            escape_control("\x1b]0;title\x07\x1b[2K\rabc1234", false),
            "\\x1b]0;title\\x07\\x1b[2K\\x0dabc1234"
        );
        assert_eq!(
            escape_control("a\u{202e}b\u{200b}c\u{9b}", false),
            "a\\u{202e}b\\u{200b}c\\u{9b}"
        );
        assert_eq!(escape_control("one\ntwo", false), "one\\x0atwo");
        assert_eq!(escape_control("one\ntwo\x7f", true), "one\ntwo\\x7f");
    }

    #[test]
    fn every_default_ignorable_and_bidi_control_is_invisible() {
        for c in [
            '\u{61c}',
            '\u{ad}',
            '\u{34f}',
            '\u{3164}',
            '\u{180e}',
            '\u{2061}',
            '\u{e0000}',
            '\u{e0041}',
            '\u{e007f}',
            '\u{e01ef}',
            '\u{fe0f}',
            '\u{115f}',
            '\u{ffa0}',
            '\u{1d173}',
            '\u{200e}',
            '\u{2069}',
        ] {
            assert!(is_invisible_format(c), "U+{:04X}", c as u32);
        }
        for c in [
            'a',
            ' ',
            '\u{e9}',
            '\u{4e2d}',
            '\u{1f600}',
            '\u{2070}',
            '\u{e1000}',
        ] {
            assert!(!is_invisible_format(c), "U+{:04X}", c as u32);
        }
        assert_eq!(escape_control("a\u{e0041}b\u{ad}", false), "a\\u{e0041}b\\u{ad}");
    }

    #[test]
    fn json_beyond_the_basic_plane_is_a_surrogate_pair() {
        let value = serde_json::json!({"url": "https://x/\u{e0041}"});
        let safe = json_for_terminal(&serde_json::to_string(&value).unwrap()).into_owned();
        assert_eq!(safe, r#"{"url":"https://x/\udb40\udc41"}"#);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
    }

    #[test]
    fn json_keeps_its_data_and_loses_what_a_terminal_acts_on() {
        let value = serde_json::json!({"branch": "x\u{202e}y\u{9b}2K\u{7f}\u{1b}z\n"});
        let json = serde_json::to_string(&value).unwrap();
        let safe = json_for_terminal(&json);
        assert_eq!(safe, r#"{"branch":"x\u202ey\u009b2K\u007f\u001bz\n"}"#);
        assert!(!safe.chars().any(needs_escape));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let safe = json_for_terminal(&pretty);
        assert_eq!(
            safe,
            "{\n  \"branch\": \"x\\u202ey\\u009b2K\\u007f\\u001bz\\n\"\n}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
    }
}
