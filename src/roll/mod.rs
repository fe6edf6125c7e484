//! Roll actions that are not git: asking pip for a
//! package's newest version ([`pip`]), and rewriting that package's pin in a
//! requirements file ([`requirements`]); `commands/roll.rs` orchestrates and
//! writes the files with [`crate::atomic::write_atomically`]. (The git half
//! of rolling, `git ls-remote`, lives in the git layer: `git/remote.rs`.)

pub mod pip;
pub mod requirements;

pub use pip::{Pip, PipCommand};
pub use requirements::update_requirements;
