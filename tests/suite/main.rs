//! The integration tests, as one test binary: each file of this folder is a
//! module, so the shared harness is compiled once and one binary is linked
//! instead of one per file (linking dominated the suite's build time).
//!
//! A new test file goes in this folder, as `tests/suite/NAME.rs`, declared
//! below with `mod NAME;`, and reaches the harness with `use crate::common;`
//! (and `use crate::trust_support;`). Its tests are named `NAME::test_name`:
//! `cargo test --test suite -- NAME::` runs that file alone. A file put
//! directly in `tests/` would be a binary of its own again.

mod common;
mod trust_support;

mod cache;
mod cache_admin;
mod checkout;
mod completions;
mod failure_causes;
mod foreach;
mod interrupts;
mod messages;
mod output;
mod plan_truth;
mod prompts;
mod roll;
mod roll_story;
mod safety_in_progress;
mod safety_input;
mod safety_keep_refs;
mod safety_recovery;
mod safety_submodule_kills;
mod scale;
mod ssh_sshd;
mod status;
mod submodules;
mod sync;
mod sync_deps_py;
mod terminal;
mod trust_faults;
mod trust_fuzz_regressions;
mod trust_input;
mod trust_work;
mod undo;
mod workspace;
