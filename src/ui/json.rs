//! The `--json` documents. Every command that takes `--json` prints exactly
//! one JSON object on stdout, whatever happens (an error that stops the
//! command prints `{"schema": 1, "command": ..., "ok": false, "error": ...}`),
//! and its human lines stay on stderr. Every document starts with the same
//! three fields:
//!
//! - `schema`: the version of the layout, [`SCHEMA`]. Fields are only ever
//!   added within one schema; a change that could mislead an existing
//!   reader (a field removed, renamed or meaning something else) comes
//!   with a new number.
//! - `command`: the command that printed it.
//! - `ok`: whether the command succeeded (exit status 0).
//!
//! The rest is each command's own; README.md documents them all.

use serde::Serialize;
use serde_json::{Map, Value};

/// The version of the documents' layout.
pub const SCHEMA: u32 = 1;

/// What a dry run would first put right after a run that did not finish,
/// one line each as the text output prints them (see
/// `crate::plan::recover`): the document's `recovery`.
static RECOVERY: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Sets the `recovery` lines of this run's document (a dry run's, once);
/// none is added when `lines` is empty.
pub fn note_recovery(lines: Vec<String>) {
    let _ = RECOVERY.set(lines);
}

/// The document of `command`: the common fields, then `recovery` when a
/// dry run found something to put right, then those of `body` (a struct or
/// map serialising to an object).
pub fn document(command: &str, ok: bool, body: impl Serialize) -> Value {
    let mut fields = Map::new();
    fields.insert("schema".into(), SCHEMA.into());
    fields.insert("command".into(), command.into());
    fields.insert("ok".into(), ok.into());
    if let Some(lines) = RECOVERY.get().filter(|l| !l.is_empty()) {
        fields.insert("recovery".into(), lines.clone().into());
    }
    match serde_json::to_value(body) {
        Ok(Value::Object(rest)) => {
            for (key, value) in rest {
                // The common fields are the envelope's alone.
                debug_assert!(!fields.contains_key(&key), "{command} document sets `{key}`");
                fields.entry(key).or_insert(value);
            }
        }
        Ok(Value::Null) => {}
        Ok(other) => {
            fields.insert("result".into(), other);
        }
        Err(e) => {
            fields.insert("ok".into(), false.into());
            fields.insert(
                "error".into(),
                format!("could not write the results as JSON: {e}").into(),
            );
        }
    }
    Value::Object(fields)
}

/// The document of a command that stopped with an error.
pub fn failed(command: &str, message: &str) -> Value {
    document(command, false, serde_json::json!({ "error": message }))
}

/// Prints `document` on stdout, pretty, with every character a terminal
/// would act on written as a JSON escape (the data is unchanged).
pub fn print(document: &Value) {
    let text = serde_json::to_string_pretty(document).unwrap_or_else(|_| "{}".into());
    crate::ui::stdout::outln!("{}", crate::model::text::json_for_terminal(&text));
}

/// Prints the document of `command`; see [`document`].
pub fn print_document(command: &str, ok: bool, body: impl Serialize) {
    print(&document(command, ok, body));
}

/// A failure for a document: the project and the whole error message.
#[derive(Debug, Serialize)]
pub struct Problem {
    pub project: String,
    pub error: String,
    /// Each clone or fetch that failed in it: cause, host and what to do
    /// (see `exec/failure_summary.rs`); left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Value>,
}
