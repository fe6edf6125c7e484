//! openxla-workspace: manage a workspace of sibling git checkouts that pin
//! each other's commits. See README.md for the user's view and SPEC/DESIGN
//! for the contract; `main.rs` only calls [`run`].

pub mod pinfile;
pub mod types;
