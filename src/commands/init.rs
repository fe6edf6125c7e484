//! `init`: make the current folder a workspace.

use anyhow::Result;

use super::Context;
use crate::workspace::{InitOutcome, Workspace};

/// Creates the marker in the current folder, or reports the enclosing
/// workspace and changes nothing.
pub fn run(ctx: &Context) -> Result<i32> {
    if ctx.dry_run {
        match Workspace::find(&ctx.cwd) {
            Ok(ws) => println!("Running within existing workspace: {}", ws.root().display()),
            Err(_) => println!("would write {}", ctx.cwd.join(crate::workspace::MARKER).display()),
        }
        return Ok(0);
    }
    match Workspace::init(&ctx.cwd)? {
        InitOutcome::Created(dir) => println!("Initialized workspace at: {}", dir.display()),
        InitOutcome::Existing(dir) => {
            println!("Running within existing workspace: {}", dir.display())
        }
    }
    Ok(0)
}
