//! The pin-file writer: renders [`Pins`] as a whole `sync_deps.py` (a
//! header comment, the three dicts, then the runnable part) and replaces the
//! file on disk atomically.

use std::io;
use std::path::Path;

use super::Pins;
use crate::model::atomic;

/// The comment that opens every generated file; a file of its own so that
/// scripts can assemble a pin file exactly as [`render`] does.
const HEADER: &str = include_str!("header.py");

/// The code after the dicts that makes the file runnable.
pub(super) const RUNNABLE_PART: &str = include_str!("../../sync_deps_template.py");

// `scripts/fixture-org.sh` assembles fixture pin files the same way --
// `header.py`, the three dicts in this layout with a blank line between them
// and two after, then `sync_deps_template.py` -- so both must change together.

/// The whole pin file for `pins`: header comment, the three dicts in the
/// layout of Python's `json.dumps(d, indent=2)`, then the runnable part.
/// Rendering is deterministic, so `pin` run twice leaves the file unchanged.
pub fn render(pins: &Pins) -> String {
    let mut out = String::from(HEADER);
    out.push_str("PINNED_VERSIONS = ");
    push_dict(
        &mut out,
        pins.pinned
            .iter()
            .map(|(n, c)| (n.as_str(), python_string(c.as_str()))),
    );
    out.push_str("\n\nORIGINS = ");
    push_dict(
        &mut out,
        pins.origins
            .iter()
            .map(|(n, u)| (n.as_str(), python_string(u.as_str()))),
    );
    out.push_str("\n\nSUBMODULES = ");
    push_dict(
        &mut out,
        pins.submodules.iter().map(|n| (n.as_str(), "1".to_string())),
    );
    out.push_str("\n\n\n");
    out.push_str(RUNNABLE_PART);
    out
}

/// Writes [`render`]`(pins)` to `path` atomically (see
/// [`atomic::replace_atomically`]): a reader sees the old file or the new
/// one, never a mix. An existing regular file's permissions are kept, and a
/// symlink at `path` is replaced by a regular file, not written through. On
/// error the old file is untouched and the temporary file removed.
pub fn write(path: &Path, pins: &Pins) -> io::Result<()> {
    atomic::replace_atomically(path, render(pins).as_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

/// Appends a dict in `json.dumps(d, indent=2)` layout; values are rendered.
fn push_dict<'a>(out: &mut String, entries: impl Iterator<Item = (&'a str, String)>) {
    let mut any = false;
    for (key, value) in entries {
        out.push_str(if any { ",\n  " } else { "{\n  " });
        out.push_str(&python_string(key));
        out.push_str(": ");
        out.push_str(&value);
        any = true;
    }
    out.push_str(if any { "\n}" } else { "{}" });
}

/// A double-quoted literal, escaped as `json.dumps` does with `ensure_ascii`
/// (which Python reads back identically), except that characters beyond
/// U+FFFF become Python's `\UXXXXXXXX`: JSON's surrogate pair would be two
/// separate characters in Python.
fn python_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_pins::*;
    use super::super::{parse, read, FILE_NAME};
    use super::*;
    use std::fs;

    // ---- Writing -------------------------------------------------------------

    /// Compares `actual` with a golden file; `UPDATE_GOLDEN=1` rewrites it.
    fn assert_golden(relative: &str, actual: &str) {
        let path = testdata(relative);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            fs::write(&path, actual).unwrap();
        }
        let expected = fs::read_to_string(&path).unwrap();
        assert!(
            expected == actual,
            "{relative} differs from render(); UPDATE_GOLDEN=1 rewrites it"
        );
    }

    #[test]
    fn render_matches_golden_files() {
        assert_golden("golden/basic.py", &render(&openxla_pins()));
        assert_golden("golden/empty.py", &render(&Pins::default()));
        assert_golden("golden/escapes.py", &render(&unusual_pins()));
    }

    #[test]
    fn golden_files_rerender_byte_for_byte() {
        for file in ["golden/basic.py", "golden/empty.py", "golden/escapes.py"] {
            let text = fs::read_to_string(testdata(file)).unwrap();
            assert!(render(&read_testdata(file).unwrap()) == text, "{file}");
        }
    }

    #[test]
    fn dicts_are_in_json_dumps_indent_2_layout() {
        let text = render(&openxla_pins());
        let expected = format!(
            "PINNED_VERSIONS = {{\n  \"iree\": \"{IREE}\",\n  \"xla\": \"{XLA}\",\n  \"jax\": \"{JAX}\"\n}}\n\n\
             ORIGINS = {{\n  \"iree\": \"https://github.com/iree-org/iree.git\",\n  \
             \"xla\": \"https://github.com/openxla/xla.git\",\n  \
             \"jax\": \"https://github.com/jax-ml/jax.git\"\n}}\n\n\
             SUBMODULES = {{\n  \"iree\": 1\n}}\n"
        );
        assert!(text.contains(&expected), "{text}");
        let empty = render(&Pins::default());
        assert!(empty.contains("PINNED_VERSIONS = {}\n\nORIGINS = {}\n\nSUBMODULES = {}\n"));
    }

    #[test]
    fn render_parse_render_is_identical_for_every_fixture() {
        for file in [
            "single_quotes.py",
            "comments_and_blank_lines.py",
            "crlf.py",
            "old_runnable_part.py",
        ] {
            let once = render(&read_testdata(file).unwrap());
            let twice = render(&parse(&once, Path::new(FILE_NAME)).unwrap());
            assert!(once == twice, "{file}");
        }
    }

    #[test]
    fn write_replaces_the_file_and_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, "old").unwrap();
        write(&path, &openxla_pins()).unwrap();
        let first = fs::read(&path).unwrap();
        write(&path, &read(&path).unwrap()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), first);
        assert_eq!(read(&path).unwrap(), openxla_pins());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE_NAME], "temporary files left behind");
    }

    #[cfg(unix)]
    #[test]
    fn write_keeps_the_permissions_of_the_old_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        write(&path, &openxla_pins()).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o755);
    }

    #[test]
    fn failed_write_leaves_the_old_entry_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty folder in the way: the final rename must fail.
        let path = dir.path().join(FILE_NAME);
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), "kept").unwrap();
        let err = write(&path, &openxla_pins()).unwrap_err();
        assert!(err.to_string().contains(FILE_NAME), "{err}");
        assert_eq!(fs::read_to_string(path.join("keep")).unwrap(), "kept");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE_NAME]);
    }
}
