//! `init`: make the current folder a workspace.

use anyhow::Result;

use super::Context;
use crate::workspace::{InitOutcome, Workspace};

/// Creates the marker in the current folder, or reports the enclosing
/// workspace and changes nothing.
pub fn run(ctx: &Context) -> Result<i32> {
    let search = ctx.search_workspace()?;
    match Workspace::init(&search, !ctx.dry_run)? {
        InitOutcome::Created(dir) if ctx.dry_run => {
            println!("would write {}", dir.join(crate::workspace::MARKER).display())
        }
        InitOutcome::Created(dir) => println!("Initialized workspace at: {}", dir.display()),
        InitOutcome::Existing(dir) => {
            println!("Running within existing workspace: {}", dir.display())
        }
    }
    Ok(0)
}
