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
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "OPENXLA_WORKSPACE_REGISTRY"
    )]
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
        after_help = "Examples:\n  openxla-workspace checkout openxla-pjrt-plugin\n  openxla-workspace checkout --ro --exclude-submodule 'iree:third_party/llvm' iree"
    )]
    Checkout(CheckoutArgs),

    /// Show the registry: projects, URLs, deps, schedules and where each is defined.
    #[command(after_help = "Example:\n  openxla-workspace list")]
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

    /// Skip dependencies whose name matches this regex (repeatable).
    #[arg(long, value_name = "RE", value_parser = parse_regex)]
    pub exclude_dep: Vec<Regex>,

    /// Leave out submodules whose `PROJECT:PATH` matches this regex (repeatable).
    #[arg(long, value_name = "RE", value_parser = parse_regex)]
    pub exclude_submodule: Vec<Regex>,

    /// Projects to check out.
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
}

fn parse_regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("invalid regular expression: {e}"))
}
