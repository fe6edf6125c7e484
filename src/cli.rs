//! Command-line types (clap derive). No behaviour lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use regex::Regex;

/// Manage a workspace of sibling git checkouts that pin each other's commits.
#[derive(Debug, Parser)]
#[command(
    name = "openxla-workspace",
    version,
    about,
    after_help = "Run `openxla-workspace init` in an empty folder, then `openxla-workspace checkout NAME`.\nSee README.md for the full manual."
)]
pub struct Cli {
    /// Run at most N git processes at a time [default: 8].
    #[arg(short = 'j', long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,

    /// A registry file layered over the default and the workspace's own.
    #[arg(long, global = true, value_name = "FILE", env = "OPENXLA_WORKSPACE_REGISTRY")]
    pub registry: Option<PathBuf>,

    /// Echo each git command with its folder.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Print only errors and the final summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print the plan (each git command with its folder) and change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// A folder of bare mirrors, one per remote URL, that clones and
    /// fetches borrow objects from (shared by workspaces and runs).
    #[arg(long, global = true, value_name = "DIR", env = "OPENXLA_WORKSPACE_CACHE")]
    pub cache_dir: Option<PathBuf>,

    /// With --cache-dir: copy the cached objects into each new clone so it
    /// does not depend on the cache.
    #[arg(long, global = true, requires = "cache_dir")]
    pub dissociate: bool,

    /// Colour in output: auto (only on a terminal, and not when NO_COLOR is set), always, never.
    #[arg(long, global = true, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make the current folder a workspace.
    #[command(after_help = "Example:\n  mkdir openxla && cd openxla && openxla-workspace init")]
    Init,

    /// Clone projects and their dependencies into the workspace.
    #[command(
        after_help = "Examples:\n  openxla-workspace checkout openxla-pjrt-plugin\n  openxla-workspace checkout openxla-pjrt-plugin --exclude-dep jax xla\n  openxla-workspace checkout --ro --exclude-submodule 'iree:third_party/llvm' -- iree"
    )]
    Checkout(CheckoutArgs),

    /// Move each dependency to the commit this project pins, recursively.
    #[command(
        after_help = "Examples:\n  cd openxla-pjrt-plugin && openxla-workspace sync\n  openxla-workspace sync --repo openxla-pjrt-plugin --exclude-dep jax --depth 1"
    )]
    Sync(SyncArgs),

    /// Rewrite this project's sync_deps.py from what its deps have checked out.
    #[command(
        after_help = "Examples:\n  cd openxla-pjrt-plugin && openxla-workspace pin\n  openxla-workspace pin --require-upstream --repo openxla-pjrt-plugin"
    )]
    Pin(PinArgs),

    /// Apply a schedule of roll actions: move pins to upstream heads, bump Python packages.
    #[command(
        after_help = "Examples:\n  cd openxla-pjrt-plugin && openxla-workspace roll nightly\n  openxla-workspace --dry-run roll continuous --repo openxla-pjrt-plugin"
    )]
    Roll(RollArgs),

    /// Show where every checkout stands against the pins.
    #[command(
        after_help = "Examples:\n  cd openxla-pjrt-plugin && openxla-workspace status\n  openxla-workspace status --repo openxla-pjrt-plugin --json"
    )]
    Status(StatusArgs),

    /// Print a shell completion script (bash, zsh or fish).
    #[command(
        after_help = "Examples:\n  openxla-workspace completions bash > ~/.local/share/bash-completion/completions/openxla-workspace\n  openxla-workspace completions fish > ~/.config/fish/completions/openxla-workspace.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Show the registry: projects, URLs, deps, schedules and where each is defined.
    #[command(
        after_help = "Examples:\n  openxla-workspace list\n  openxla-workspace --registry my-projects.toml list"
    )]
    List,
}

/// Options of `checkout`.
#[derive(Debug, Args)]
pub struct CheckoutArgs {
    /// Clone only the named projects, not their dependencies.
    #[arg(long)]
    pub no_deps: bool,

    /// Do not initialise submodules.
    #[arg(long)]
    pub no_submodules: bool,

    /// Clone from the read-only URLs (https) instead of the read-write ones.
    #[arg(long)]
    pub ro: bool,

    #[command(flatten)]
    pub exclude: Exclusions,

    /// Then sync each named project to its pins.
    #[arg(long)]
    pub sync: bool,

    /// With --sync: clone and fetch only the last N commits (0 = full
    /// history); pinned commits are then fetched by id.
    #[arg(long, value_name = "N", requires = "sync")]
    pub depth: Option<u32>,

    /// Projects to check out (name them before `--exclude-*`, whose values
    /// run to the next option, or end those values with `--`).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

/// `--repo NAME`, for the commands that act on one project.
#[derive(Debug, Args)]
pub struct TargetArg {
    /// Act on project NAME of the workspace instead of the one holding the
    /// current folder.
    #[arg(long, value_name = "NAME")]
    pub repo: Option<String>,
}

/// What `checkout` and `sync` leave out. Each flag takes one or more
/// values (`--exclude-dep jax xla`), as the original tool's did.
#[derive(Debug, Args)]
pub struct Exclusions {
    /// Leave out deps whose name matches one of these regexes, at every
    /// level (one or more values; repeatable).
    #[arg(long, value_name = "RE", value_parser = parse_regex, num_args = 1..)]
    pub exclude_dep: Vec<Regex>,

    /// Leave out submodules whose `PROJECT:PATH` matches one of these
    /// regexes (one or more values; repeatable).
    #[arg(long, value_name = "RE", value_parser = parse_regex, num_args = 1..)]
    pub exclude_submodule: Vec<Regex>,
}

/// Options of `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub target: TargetArg,

    #[command(flatten)]
    pub exclude: Exclusions,

    /// Fetch (and clone) only the last N commits (0 = full history).
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,

    /// Clone missing deps from their read-only URLs.
    #[arg(long)]
    pub ro: bool,

    /// Move a detached HEAD even when no branch contains its commit.
    #[arg(long)]
    pub force: bool,
}

/// Options of `roll`.
#[derive(Debug, Args)]
pub struct RollArgs {
    /// The schedule to apply (as named in the registry).
    #[arg(value_name = "SCHEDULE")]
    pub schedule: String,

    #[command(flatten)]
    pub target: TargetArg,

    /// Sync the deps to the new pins afterwards.
    #[arg(long)]
    pub sync: bool,

    /// With --sync: clone missing deps from their read-only URLs.
    #[arg(long, requires = "sync")]
    pub ro: bool,
}

/// Options of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Compare with the pins of project NAME instead of the one holding the
    /// current folder.
    #[arg(long, value_name = "NAME")]
    pub repo: Option<String>,

    /// Print a JSON array of objects (see README: status --json).
    #[arg(long)]
    pub json: bool,
}

/// When to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Shells that `completions` supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// Options of `pin`.
#[derive(Debug, Args)]
pub struct PinArgs {
    #[command(flatten)]
    pub target: TargetArg,

    /// First check that each commit is on its dep's upstream tracking branch
    /// (after fetching it); write nothing if any is not.
    #[arg(long)]
    pub require_upstream: bool,
}

fn parse_regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("invalid regular expression: {e}"))
}
