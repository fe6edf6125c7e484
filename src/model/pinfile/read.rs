//! The pin-file reader: finds the top-level `PINNED_VERSIONS`, `ORIGINS`
//! and `SUBMODULES` assignments in a `sync_deps.py`, has `dict_literal.rs`
//! read each literal, and checks every key and value, without running any of
//! the Python around them.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::dict_literal::{self, snippet, Dict, Entry, Value};
use super::{PinFileError, Pins, MAX_FILE_SIZE};
use crate::model::types::{CommitId, RemoteUrl, RepoName};

/// Reads the pin file at `path` (at most [`MAX_FILE_SIZE`] bytes).
pub fn read(path: &Path) -> Result<Pins, PinFileError> {
    match read_raw(path)? {
        Some(bytes) => parse_bytes(&bytes, path),
        None => Err(PinFileError::new(
            path,
            0,
            "cannot read the pin file: it does not exist",
        )),
    }
}

/// Reads the bytes of the pin file at `path` for [`parse_bytes`], or `None`
/// when there is no such file. Bounded: at most one byte over
/// [`MAX_FILE_SIZE`] (enough for `parse_bytes` to refuse the file), and only
/// from a regular file, since a checkout may hold `sync_deps.py` as a
/// symlink to anything and one to `/dev/zero` or a FIFO must neither hang
/// the tool nor fill its memory.
pub fn read_raw(path: &Path) -> Result<Option<Vec<u8>>, PinFileError> {
    match crate::model::atomic::read_regular_file(path, MAX_FILE_SIZE as u64) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) => match e.kind() {
            io::ErrorKind::NotFound => Ok(None),
            io::ErrorKind::InvalidInput => Err(PinFileError::new(
                path,
                0,
                "is not a regular file (a device, FIFO or folder, perhaps through a symlink); \
                 a pin file is a regular file",
            )),
            io::ErrorKind::InvalidData => Err(too_large(path)),
            _ => Err(PinFileError::new(
                path,
                0,
                format!("cannot read the pin file: {e}"),
            )),
        },
    }
}

/// Parses a pin file's raw bytes (as read from disk or `git show`): refuses
/// files over [`MAX_FILE_SIZE`], binary files and invalid UTF-8, then
/// [`parse`]s. `file` is used only in messages.
pub fn parse_bytes(bytes: &[u8], file: &Path) -> Result<Pins, PinFileError> {
    if bytes.len() > MAX_FILE_SIZE {
        return Err(too_large(file));
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(PinFileError::new(
            file,
            line_of_byte(bytes, at),
            "contains a NUL byte; this is a binary file, not a pin file",
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, file),
        Err(e) => {
            let at = e.valid_up_to();
            Err(PinFileError::new(
                file,
                line_of_byte(bytes, at),
                format!(
                    "byte 0x{:02x} is not valid UTF-8; a pin file is UTF-8 text",
                    bytes[at]
                ),
            ))
        }
    }
}

/// Parses the text of a pin file. Finds the top-level assignments of
/// `PINNED_VERSIONS` (required), `ORIGINS` and `SUBMODULES` (empty when
/// missing) anywhere in the file and ignores all other Python. `file` is used
/// only in messages.
pub fn parse(text: &str, file: &Path) -> Result<Pins, PinFileError> {
    if text.len() > MAX_FILE_SIZE {
        return Err(too_large(file));
    }
    // Python accepts a byte order mark at the start of a source file.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let mut dicts: [Option<(usize, Vec<Entry>)>; 3] = Default::default();
    let mut lines = LineCounter {
        text,
        pos: 0,
        line: 1,
    };
    let mut scanned_to = 0;
    for name_match in TOP_LEVEL_NAME.find_iter(text) {
        if name_match.start() < scanned_to {
            continue;
        }
        let line = lines.line_at(name_match.start());
        let dict = Dict::from_name(name_match.as_str());
        let after_name = &text[name_match.end()..];
        let Some(assignment) = DICT_ASSIGNMENT.find(after_name) else {
            if CHANGES_VALUE.is_match(after_name) {
                return Err(PinFileError::new(
                    file,
                    line,
                    format!(
                        "{dict} must be given only as a literal `{dict} = {{...}}`; \
                         found '{}'",
                        snippet(&text[name_match.start()..])
                    ),
                ));
            }
            continue; // A mention in prose, such as a docstring.
        };
        if let Some((first_line, _)) = &dicts[dict as usize] {
            return Err(PinFileError::new(
                file,
                line,
                format!("{dict} is assigned twice (first on line {first_line}); keep one"),
            ));
        }
        let open_brace = name_match.end() + assignment.end() - 1;
        let (entries, end) = dict_literal::read_statement(text, open_brace, line, file, dict)?;
        scanned_to = end;
        dicts[dict as usize] = Some((line, entries));
    }

    let [pinned, origins, submodules] = dicts;
    let Some((_, pinned)) = pinned else {
        return Err(PinFileError::new(
            file,
            0,
            "no `PINNED_VERSIONS = {` at the start of a line; \
             a pin file must assign PINNED_VERSIONS a dict literal",
        ));
    };
    let mut pins = Pins::default();
    for (entry, name) in validate_keys(pinned, Dict::Pinned, file)? {
        let commit = CommitId::new(entry.value.text()).map_err(|e| {
            let msg = format!("in PINNED_VERSIONS, the commit for '{name}': {e}");
            PinFileError::new(file, entry.value_line, msg)
        })?;
        pins.pinned.push((name, commit));
    }
    for (entry, name) in validate_keys(origins.map_or(vec![], |d| d.1), Dict::Origins, file)? {
        let url = RemoteUrl::new(entry.value.text()).map_err(|e| {
            let msg = format!("in ORIGINS, the URL for '{name}': {e}");
            PinFileError::new(file, entry.value_line, msg)
        })?;
        pins.origins.push((name, url));
    }
    for (entry, name) in validate_keys(submodules.map_or(vec![], |d| d.1), Dict::Submodules, file)? {
        if let Value::Flag(true) = entry.value {
            pins.submodules.push(name);
        }
    }
    Ok(pins)
}

/// The error for a pin file over [`MAX_FILE_SIZE`], named `file`.
pub fn too_large(file: &Path) -> PinFileError {
    PinFileError::new(
        file,
        0,
        "is larger than 1 MiB, the limit for a pin file; is this really a sync_deps.py?",
    )
}

fn line_of_byte(bytes: &[u8], at: usize) -> usize {
    bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1
}

/// A line that starts with one of the three names, at the top level.
static TOP_LEVEL_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(?:PINNED_VERSIONS|ORIGINS|SUBMODULES)\b").unwrap());

/// After the name: `= {` (with an optional annotation), up to the brace.
static DICT_ASSIGNMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[ \t]*(?::[^=\n]*)?=[ \t]*\{").unwrap());

/// After the name: anything else that would change the dict at run time
/// (`= dict(...)`, `[k] = v`, `.update(...)`, `|= ...`), which we could only
/// silently ignore.
static CHANGES_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[ \t]*(?:\[|\.[ \t]*[A-Za-z_]|(?:[-+*/%@&|^]|<<|>>|\*\*|//)?=(?:[^=]|$))").unwrap()
});

/// Validates each key as a project name and refuses repeated keys (Python
/// would silently keep the last).
fn validate_keys(
    entries: Vec<Entry>,
    dict: Dict,
    file: &Path,
) -> Result<Vec<(Entry, RepoName)>, PinFileError> {
    let mut first_lines: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = RepoName::new(&entry.key)
            .map_err(|e| PinFileError::new(file, entry.key_line, format!("in {dict}, {e}")))?;
        if let Some(first) = first_lines.insert(entry.key.clone(), entry.key_line) {
            return Err(PinFileError::new(
                file,
                entry.key_line,
                format!("in {dict}, '{name}' appears twice (first on line {first})"),
            ));
        }
        out.push((entry, name));
    }
    Ok(out)
}

/// Maps byte offsets to 1-based lines, for offsets given in increasing order.
struct LineCounter<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl LineCounter<'_> {
    fn line_at(&mut self, pos: usize) -> usize {
        let newlines = self.text.as_bytes()[self.pos..pos]
            .iter()
            .filter(|&&b| b == b'\n');
        self.line += newlines.count();
        self.pos = pos;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_pins::*;
    use super::super::{render, FILE_NAME};
    use super::*;
    use std::fs;
    use std::time::{Duration, Instant};

    // ---- Reading every accepted shape ----------------------------------------

    #[test]
    fn reads_every_accepted_shape_exactly() {
        for file in [
            "double_quotes.py",
            "single_quotes.py",
            "trailing_commas.py",
            "comments_and_blank_lines.py",
            "submodules_true.py",
            "one_line_dicts.py",
            "crlf.py",
            "old_runnable_part.py",
        ] {
            let pins = read_testdata(file).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(pins, openxla_pins(), "{file}");
        }
    }

    #[test]
    fn crlf_fixture_really_has_crlf_line_ends() {
        let bytes = fs::read(testdata("crlf.py")).unwrap();
        assert!(bytes.windows(2).filter(|w| w == b"\r\n").count() > 10);
    }

    #[test]
    fn missing_submodules_and_origins_are_empty() {
        let pins = read_testdata("no_submodules_no_origins.py").unwrap();
        assert_eq!(pins, openxla_pins_only());
    }

    #[test]
    fn dicts_may_come_in_any_order_among_other_code() {
        assert_eq!(read_testdata("dicts_in_any_order.py").unwrap(), openxla_pins());
    }

    #[test]
    fn accepts_empty_dicts_bom_and_annotations() {
        let text = format!(
            "\u{feff}PINNED_VERSIONS: dict = {{\"a\": \"{IREE}\"}}\nORIGINS = {{}}\nSUBMODULES = {{ }}"
        );
        let pins = parse(&text, Path::new(FILE_NAME)).unwrap();
        assert_eq!(pins.pinned().len(), 1);
        assert!(pins.origins().is_empty() && pins.submodules().is_empty());
    }

    #[test]
    fn prose_mentioning_the_names_is_ignored() {
        let text = format!(
            "PINNED_VERSIONS = {{'a': '{IREE}'}}\n\"\"\"\nORIGINS maps names to URLs.\n\
             SUBMODULES.\n\"\"\"\nPINNED_VERSIONS_OLD = {{'x': 1}}\n"
        );
        assert_eq!(parse(&text, Path::new(FILE_NAME)).unwrap().pinned().len(), 1);
    }

    // ---- Errors --------------------------------------------------------------

    #[test]
    fn malformed_files_give_file_line_and_what_was_expected() {
        let cases: &[(&str, usize, &[&str])] = &[
            (
                "python_code_in_dict.py",
                5,
                &["in PINNED_VERSIONS, expected a quoted commit id, found '__import__(\"os\").system(\"touch...'"],
            ),
            ("repeated_key.py", 4, &["in PINNED_VERSIONS, 'iree' appears twice (first on line 2)"]),
            ("non_string_value.py", 6, &["in ORIGINS, expected a quoted URL, found '12345,'"]),
            ("unterminated_dict.py", 5, &["SUBMODULES is never closed", "before the end of the file"]),
            ("unterminated_string.py", 2, &["in PINNED_VERSIONS, the string '\"a75b47c", "is not closed on its line"]),
            ("bad_commit.py", 3, &["the commit for 'xla': '5cdd98a' is not a full commit id"]),
            ("bad_name.py", 4, &["in PINNED_VERSIONS, project name '../x' must start with an ASCII letter or digit"]),
            ("ext_url.py", 6, &["in ORIGINS, the URL for 'iree'", "uses a transport that runs commands"]),
            ("no_pinned_versions.py", 0, &["no `PINNED_VERSIONS = {`"]),
            ("assigned_twice.py", 7, &["PINNED_VERSIONS is assigned twice (first on line 1)"]),
            ("bad_escape.py", 5, &["unsupported escape '\\x'"]),
            ("submodules_not_a_flag.py", 5, &["in SUBMODULES, expected 1, True, 0 or False, found '\"yes\",'"]),
            ("changed_after_literal.py", 5, &["PINNED_VERSIONS must be given only as a literal", "PINNED_VERSIONS[\"xla\"]"]),
            ("not_a_dict_literal.py", 3, &["must be given only as a literal", "json.load("]),
            ("code_after_closing_brace.py", 3, &["after the '}' that closes PINNED_VERSIONS, expected the end of the line, found '| EXTRA_PINS'"]),
            ("binary_garbage.py", 2, &["NUL byte", "binary"]),
            ("invalid_utf8.py", 4, &["byte 0xe9 is not valid UTF-8"]),
        ];
        for (file, line, fragments) in cases {
            let path = testdata(&format!("bad/{file}"));
            let err = read(&path).expect_err(file);
            assert_eq!(err.file, path);
            assert_eq!(err.line, *line, "{file}: {err}");
            for fragment in *fragments {
                assert!(
                    err.message.contains(fragment),
                    "{file}: {err}\n  lacks: {fragment}"
                );
            }
        }
    }

    #[test]
    fn refuses_two_mebibyte_input_quickly() {
        let big = vec![b'#'; 2 << 20];
        let start = Instant::now();
        let err = parse_bytes(&big, Path::new(FILE_NAME)).unwrap_err();
        assert!(err.message.contains("larger than 1 MiB"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, &big).unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.message.contains("larger than 1 MiB"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn io_errors_name_the_file_with_line_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let err = read(&path).unwrap_err();
        assert_eq!((err.file.as_path(), err.line), (path.as_path(), 0));
        assert!(err.to_string().contains("cannot read the pin file"), "{err}");
        assert!(read_raw(&path).unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn read_refuses_devices_and_folders_without_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.message.contains("is not a regular file"), "{err}");
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.message.contains("is not a regular file"), "{err}");
    }

    /// A tiny deterministic generator, so failures reproduce.
    struct XorShift(u64);

    impl XorShift {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn mutated_inputs_never_panic_and_accepted_ones_round_trip() {
        const PIECES: &[&[u8]] = &[
            b"\"",
            b"'",
            b"{",
            b"}",
            b":",
            b",",
            b"#",
            b"\\",
            b"\n",
            b"\r\n",
            b" ",
            b"1",
            b"True",
            b"PINNED_VERSIONS = {",
            b"ORIGINS = {",
            b"SUBMODULES = {",
            b"\\u00e4",
            b"\\U0001f600",
            b"\\ud800",
            "ä".as_bytes(),
            "\u{1F600}".as_bytes(),
            b"\xff",
            b"\0",
            b"a",
            b"0",
        ];
        let mut seeds: Vec<Vec<u8>> = [
            "double_quotes.py",
            "comments_and_blank_lines.py",
            "one_line_dicts.py",
            "crlf.py",
            "submodules_true.py",
        ]
        .iter()
        .map(|f| fs::read(testdata(f)).unwrap())
        .collect();
        let rendered = render(&unusual_pins());
        let dicts_end = rendered.find("\n\n\n").unwrap();
        seeds.push(rendered.as_bytes()[..dicts_end].to_vec());
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        // PINFILE_FUZZ_ROUNDS=1000000 for a longer run.
        let rounds = std::env::var("PINFILE_FUZZ_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(4000);
        for round in 0..rounds {
            let mut input = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(input.len() + 1);
                match rng.below(5) {
                    0 => {
                        let piece = PIECES[rng.below(PIECES.len())];
                        input.splice(at..at, piece.iter().copied());
                    }
                    1 => {
                        let end = (at + 1 + rng.below(8)).min(input.len());
                        input.drain(at..end);
                    }
                    2 if at < input.len() => input[at] = rng.below(256) as u8,
                    3 => {
                        let end = (at + rng.below(40)).min(input.len());
                        let copy = input[at..end].to_vec();
                        let to = rng.below(input.len() + 1);
                        input.splice(to..to, copy);
                    }
                    _ => input.truncate(at),
                }
            }
            if let Ok(pins) = parse_bytes(&input, Path::new(FILE_NAME)) {
                accepted += 1;
                let again = parse(&render(&pins), Path::new(FILE_NAME)).unwrap();
                assert_eq!(again, pins, "round trip of {:?}", String::from_utf8_lossy(&input));
            }
        }
        // The mutations must leave enough files valid to test the round trip.
        assert!(
            accepted > rounds / 20,
            "only {accepted} of {rounds} mutated inputs parsed"
        );
        eprintln!("{accepted} of {rounds} mutated inputs parsed");
    }
}
