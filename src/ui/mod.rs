//! What the user sees and answers: the live display and summaries on
//! stderr, results on stdout, `--json` documents, and the credential prompt
//! broker.

pub(crate) mod dep_graph;
pub(crate) mod dep_tree;
pub(crate) mod json;
#[cfg(unix)]
pub mod prompt;
#[cfg(not(unix))]
#[path = "prompt_unsupported.rs"]
pub mod prompt;
pub(crate) mod report;
pub mod stdout;
