//! openxla-workspace: manage a workspace of sibling git checkouts that pin
//! each other's commits. See README.md for the user's view; `main.rs` only
//! calls [`run`].

pub mod cli;
pub mod commands;
pub mod exec;
pub mod git;
pub mod pinfile;
pub mod plan;
pub mod registry;
pub mod report;
pub mod resolve;
pub mod types;
pub mod workspace;

use cli::{Cli, Command};
use commands::Context;

/// Runs the parsed command line; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    let result = Context::new(&cli).and_then(|ctx| {
        if !matches!(cli.command, Command::List | Command::Init) {
            ctx.git.check_installed()?;
        }
        match &cli.command {
            Command::Init => commands::init::run(&ctx),
            Command::Checkout(args) => commands::checkout::run(&ctx, args),
            Command::Sync(args) => commands::sync::run(&ctx, args),
            Command::Pin(args) => commands::pin::run(&ctx, args),
            Command::List => commands::list::run(&ctx),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
