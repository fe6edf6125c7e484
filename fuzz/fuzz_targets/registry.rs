//! Fuzzes the registry loader (`registry::from_str`): it must never panic
//! and never accept a value SPEC section 4 forbids; see `../invariants.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_registry(data);
});
