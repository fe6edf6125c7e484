//! openxla-workspace: manage a workspace of sibling git checkouts that pin
//! each other's commits. See README.md for the user's view; `main.rs` only
//! calls [`run`].

pub mod atomic;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod exec;
pub mod git;
pub mod interrupt;
pub mod pinfile;
pub mod plan;
pub mod recover;
pub mod registry;
pub mod report;
pub mod resolve;
pub mod roll;
pub mod submodules;
pub mod text;
pub mod types;
pub mod workspace;

use cli::{Cli, Command};
use commands::Context;

/// Runs the parsed command line; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    interrupt::install();
    let result = Context::new(&cli).and_then(|ctx| {
        // Commands that clone or move working trees refuse an old git before
        // they start. `pin` and `status` use git only to read, and check
        // what it prints: they ask for git's version only once a git
        // command fails or answers oddly, so success costs no extra process.
        if matches!(
            cli.command,
            Command::Checkout(_) | Command::Sync(_) | Command::Roll(_)
        ) {
            ctx.git.check_installed()?;
        }
        match &cli.command {
            Command::Init => commands::init::run(&ctx),
            Command::Checkout(args) => commands::checkout::run(&ctx, args),
            Command::Sync(args) => commands::sync::run(&ctx, args),
            Command::Pin(args) => commands::pin::run(&ctx, args),
            Command::Roll(args) => commands::roll::run(&ctx, args),
            Command::Status(args) => commands::status::run(&ctx, args),
            Command::Completions { shell } => {
                let shell = match shell {
                    cli::Shell::Bash => clap_complete::Shell::Bash,
                    cli::Shell::Zsh => clap_complete::Shell::Zsh,
                    cli::Shell::Fish => clap_complete::Shell::Fish,
                };
                let mut command = <Cli as clap::CommandFactory>::command();
                clap_complete::generate(shell, &mut command, "openxla-workspace", &mut std::io::stdout());
                Ok(0)
            }
            Command::List => commands::list::run(&ctx),
        }
    });
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            if !interrupt::is_interrupted() {
                eprintln!("error: {e:#}");
            }
            1
        }
    };
    interrupt::finish(code)
}
