//! openxla-workspace: manage a workspace of sibling git checkouts that pin
//! each other's commits. `main.rs` only calls [`run`]; `--help` is the
//! user's manual.

// A function over 80 lines (clippy.toml) does two things: split it.
#![warn(clippy::too_many_lines)]

pub mod cli;
pub(crate) mod commands;
pub(crate) mod exec;
pub(crate) mod git;
pub mod model;
pub(crate) mod plan;
pub(crate) mod process;
pub mod ui;

use cli::{Cli, Command};
use commands::Context;
use model::text;
use process::interrupt;
use ui::{json, report};

/// Runs the parsed command line; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    let stderr_paint = report::Paint::for_stderr(cli.color.into());
    let command = match &cli.command {
        Some(command) if !cli.version => command,
        // `--version`, before any command (parsing refuses a run with
        // neither).
        _ => return commands::version::run(),
    };
    interrupt::install();
    let result = Context::new(&cli).and_then(|ctx| {
        // Commands that clone or move working trees refuse an old git before
        // they start. The others use git only to read, and check what it
        // prints: they ask for git's version only once a git command fails
        // or answers oddly, so success costs no extra process.
        if matches!(
            command,
            Command::Checkout(_) | Command::Sync(_) | Command::Roll(_) | Command::Undo(_)
        ) {
            ctx.git.check_installed()?;
        }
        match command {
            Command::Init(args) => commands::init::run(&ctx, args),
            Command::Config(args) => commands::config::run(&ctx, args),
            Command::Checkout(args) => commands::checkout::run(&ctx, args),
            Command::Sync(args) => commands::sync::run(&ctx, args),
            Command::Pin(args) => commands::pin::run(&ctx, args),
            Command::Roll(args) => commands::roll::run(&ctx, args),
            Command::Status(args) => commands::status::run(&ctx, args),
            Command::Foreach(args) => commands::foreach::run(&ctx, args),
            Command::Diff(args) => commands::foreach::diff(&ctx, args),
            Command::Grep(args) => commands::foreach::grep(&ctx, args),
            Command::Completions { shell } => {
                crate::ui::stdout::out!("{}", cli::complete::registration(*shell));
                Ok(0)
            }
            Command::List(args) => commands::list::run(&ctx, args),
            Command::Undo(args) => commands::undo::run(&ctx, args),
            Command::Cache(args) => commands::cache::run(&ctx, args),
        }
    });
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            // Errors quote files and git; nothing in them may reach the
            // terminal as a control sequence. After Ctrl-C the run says
            // nothing more than that it was interrupted.
            let message = format!("{e:#}");
            if !interrupt::is_interrupted() {
                crate::process::stderr::errln!(
                    "{} {}",
                    stderr_paint.error(),
                    text::escape_control(&message, true)
                );
            }
            // A command asked for JSON still prints one document.
            if let Some(name) = command.json_requested() {
                json::print(&json::failed(name, &message));
            }
            1
        }
    };
    interrupt::finish(code)
}
