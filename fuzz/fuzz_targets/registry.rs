//! Fuzzes the registry loader (`registry::from_str`): it must never panic
//! and never accept a value the validated types (`src/model/types.rs`) refuse; see `../invariants.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_registry(data);
});
