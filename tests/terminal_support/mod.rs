//! Runs the binary on a pseudo-terminal (`prompt_support/terminal.py`:
//! stdin, stdout and stderr are one new terminal, 100 columns by 24 rows)
//! and turns what the terminal was sent into the lines a person would see
//! at the end, scrollback included.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use crate::common::{hermetic, text, Fixture, BIN};

/// What the terminal showed.
pub struct Screen {
    /// Every byte the terminal was sent.
    pub bytes: Vec<u8>,
    /// The exit status.
    pub status: i64,
}

impl Screen {
    /// The lines on the screen at the end, scrollback included.
    pub fn lines(&self) -> Vec<String> {
        render(&String::from_utf8_lossy(&self.bytes))
    }
}

/// Runs the binary with `args` in `dir` on a new terminal, with the
/// fixture's hermetic environment changed by `env` (`None` removes).
pub fn on_terminal(fx: &Fixture, dir: &Path, args: &[&str], env: &[(&str, Option<&str>)]) -> Screen {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/prompt_support/terminal.py");
    let screen_file = fx.tmp.path().join(format!("screen-{}", std::process::id()));
    let mut cmd = hermetic(Command::new("python3"), &fx.home);
    cmd.current_dir(dir)
        .env("OPENXLA_WORKSPACE_REGISTRY", fx.registry())
        .env("TERM", "xterm");
    for (name, value) in env {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let out = cmd
        .arg(&driver)
        .arg("[]")
        .arg(&screen_file)
        .arg("--")
        .arg(BIN)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "terminal.py failed: {}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["timed_out"].is_null(), "{report}");
    let bytes = std::fs::read(&screen_file).unwrap();
    let _ = std::fs::remove_file(&screen_file);
    Screen {
        bytes,
        status: report["status"].as_i64().unwrap(),
    }
}

/// The terminal's width (terminal.py's).
const COLUMNS: usize = 100;

/// Applies what a terminal does with the bytes a live display writes (CR,
/// LF, BS, cursor moves `ESC [ n A/B/C/D`, erase `ESC [ n K` and `ESC [ J`,
/// a line that wraps after the last column; colours and other sequences are
/// dropped). The screen has no bottom, so that scrolled lines are kept.
pub fn render(text: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                if row == lines.len() {
                    lines.push(Vec::new());
                }
            }
            '\x08' => col = col.saturating_sub(1),
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut params = String::new();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        last = c;
                        break;
                    }
                    params.push(c);
                }
                let n: usize = params.parse().unwrap_or(0);
                match last {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => row = (row + n.max(1)).min(lines.len() - 1),
                    'C' => col += n.max(1),
                    'D' => col = col.saturating_sub(n.max(1)),
                    'K' if n == 2 => lines[row].clear(),
                    'K' => lines[row].truncate(col),
                    'J' => {
                        lines[row].truncate(col);
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                if col >= COLUMNS {
                    // The last column was written: the next character
                    // starts the next line.
                    row += 1;
                    col = 0;
                    if row == lines.len() {
                        lines.push(Vec::new());
                    }
                }
                let line = &mut lines[row];
                if line.len() <= col {
                    line.resize(col + 1, ' ');
                }
                line[col] = c;
                col += 1;
            }
        }
    }
    let mut shown: Vec<String> = lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect();
    while shown.last().is_some_and(|l| l.is_empty()) {
        shown.pop();
    }
    shown
}
