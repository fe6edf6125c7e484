//! The `--json` document of `foreach`, printed as it is read: each
//! project's stdout and stderr come from its [`Spool`] a piece at a time,
//! so a command that prints gigabytes costs the tool no more memory than
//! one that prints a line.

use serde::Serialize;

use crate::model::text::json_for_terminal;
use crate::process::spool::Spool;

/// The outputs a document refers to, each by a placeholder string that
/// stands for it until the document is printed.
#[derive(Default)]
pub struct Outputs<'a> {
    spools: Vec<&'a Spool>,
}

/// What a placeholder looks like once serde has written it: a NUL, which
/// no argument, path or name in the document can hold (the OS refuses
/// NULs in all of them), then the word and the index.
const MARK: &str = "\\u0000spool ";

impl<'a> Outputs<'a> {
    /// A placeholder for `spool` (an empty string for none).
    pub fn refer(&mut self, spool: Option<&'a Spool>) -> String {
        match spool {
            None => String::new(),
            Some(spool) => {
                self.spools.push(spool);
                format!("\u{0}spool {}\u{0}", self.spools.len() - 1)
            }
        }
    }

    /// Prints the document of `command` (see [`crate::ui::json::document`])
    /// with each placeholder replaced by its output as a JSON string's
    /// content, escaped for a terminal as [`crate::ui::json::print`] does.
    pub fn print_document(&self, command: &str, ok: bool, body: impl Serialize) {
        let document = crate::ui::json::document(command, ok, body);
        let text = serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".into());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(MARK) {
            crate::ui::stdout::write_bytes(json_for_terminal(&rest[..at]).as_bytes());
            let after = &rest[at + MARK.len()..];
            let end = after.find("\\u0000").unwrap_or(after.len());
            if let Some(spool) = after[..end]
                .parse::<usize>()
                .ok()
                .and_then(|i| self.spools.get(i))
            {
                let _ = spool.text_pieces(|piece| {
                    let quoted = serde_json::to_string(piece).unwrap_or_default();
                    let inner = &quoted[1..quoted.len().saturating_sub(1).max(1)];
                    crate::ui::stdout::write_bytes(json_for_terminal(inner).as_bytes());
                });
            }
            rest = &after[(end + "\\u0000".len()).min(after.len())..];
        }
        crate::ui::stdout::write_bytes(json_for_terminal(rest).as_bytes());
        crate::ui::stdout::outln!();
    }
}
