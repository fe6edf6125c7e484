//! Command-line types (clap derive). No behaviour lives here, except which
//! global options each command shows in its `--help` ([`command`]).

pub(crate) mod candidates;
pub mod complete;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::engine::ArgValueCompleter;
use regex::Regex;

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// Manage a workspace of sibling git checkouts that pin each other's commits.
#[derive(Debug, Parser)]
#[command(
    name = "openxla-workspace",
    about,
    disable_version_flag = true,
    arg_required_else_help = true,
    after_help = "Run `openxla-workspace init` in an empty folder, then `openxla-workspace checkout NAME`.\nEach command has its own --help, with examples: `openxla-workspace help COMMAND`."
)]
pub struct Cli {
    /// Print the version of openxla-workspace and of the git it runs.
    #[arg(short = 'V', long)]
    pub version: bool,

    /// Run at most N git processes at a time, submodule clones included
    /// [default: the workspace's `jobs`, else 8; foreach: 1].
    #[arg(short = 'j', long, global = true, value_name = "N", help_heading = GLOBAL,
          env = "OPENXLA_WORKSPACE_JOBS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,

    /// A registry file layered over the default and the workspace's own.
    #[arg(long, global = true, value_name = "FILE", env = "OPENXLA_WORKSPACE_REGISTRY",
          help_heading = GLOBAL, value_hint = clap::ValueHint::FilePath)]
    pub registry: Option<PathBuf>,

    /// Echo each git command with its folder.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,

    /// Print only errors and the final summary.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,

    /// Print the plan (each git command with its folder) and change nothing.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub dry_run: bool,

    /// A folder of bare mirrors, one per remote URL, that clones and
    /// fetches borrow objects from (shared by workspaces and runs).
    #[arg(long, global = true, value_name = "DIR", env = "OPENXLA_WORKSPACE_CACHE",
          help_heading = GLOBAL, value_hint = clap::ValueHint::DirPath)]
    pub cache_dir: Option<PathBuf>,

    /// With --cache-dir: copy the cached objects into each new clone so it
    /// does not depend on the cache.
    #[arg(long, global = true, requires = "cache_dir", help_heading = GLOBAL)]
    pub dissociate: bool,

    /// Colour in output: auto (only on a terminal, and not when NO_COLOR is set), always, never.
    #[arg(long, global = true, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto,
          help_heading = GLOBAL)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// The global options whose value came from their environment variable
    /// rather than the command line (`jobs`, `registry`, `cache_dir`).
    #[arg(skip)]
    pub from_env: Vec<&'static str>,
}

/// The global options that mean something to `command`; its `--help` and
/// completions leave out the others (which are still accepted, and ignored).
fn globals_of(command: &str) -> &'static [&'static str] {
    const ALL: &[&str] = &[
        "jobs",
        "registry",
        "verbose",
        "quiet",
        "dry_run",
        "cache_dir",
        "dissociate",
        "color",
    ];
    match command {
        "checkout" | "sync" | "roll" => ALL,
        "init" => &["jobs", "registry", "verbose", "dry_run", "cache_dir", "color"],
        "config" => &["jobs", "registry", "cache_dir", "color"],
        "pin" | "foreach" => &["jobs", "registry", "verbose", "quiet", "dry_run", "color"],
        "status" => &["jobs", "registry", "verbose", "quiet", "color"],
        "diff" | "grep" => &["jobs", "registry", "verbose", "color"],
        "list" => &["registry", "color"],
        _ => &[],
    }
}

/// The command line's definition: [`Cli`], with each command's `--help`
/// showing only the global options that apply to it.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let names: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        let wanted = globals_of(&name);
        cmd = cmd.mut_subcommand(&name, |mut sub| {
            // A subcommand's own copy of a global option stops clap from
            // adding the visible one; the copy is hidden, yet parses alike.
            for arg in &globals {
                if !wanted.contains(&arg.get_id().as_str()) {
                    sub = sub.arg(arg.clone().hide(true));
                }
            }
            sub
        });
    }
    cmd
}

/// Parses the command line (exiting with clap's message and status 2 on bad
/// usage, or after printing `--help`).
pub fn parse(args: Vec<OsString>) -> Cli {
    let mut cmd = command();
    let matches = cmd.clone().get_matches_from(args);
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
    // A global option may be given after the command: its source is in the
    // command's matches then.
    let sub = matches.subcommand().map(|(_, m)| m);
    for id in ["jobs", "registry", "cache_dir"] {
        let source = sub
            .and_then(|m| m.value_source(id))
            .or_else(|| matches.value_source(id));
        if source == Some(clap::parser::ValueSource::EnvVariable) {
            cli.from_env.push(id);
        }
    }
    if cli.command.is_none() && !cli.version {
        cmd.error(
            clap::error::ErrorKind::MissingSubcommand,
            "a command is required; `openxla-workspace --help` lists them",
        )
        .exit();
    }
    cli
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make the current folder a workspace, remembering the settings given.
    #[command(
        after_help = "The settings given are remembered by the workspace (see `openxla-workspace config`).\n\nExamples:\n  mkdir openxla && cd openxla && openxla-workspace init\n  openxla-workspace init --ro --filter blob:none --jobs 16 --cache-dir ~/.cache/openxla"
    )]
    Init(InitArgs),

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
    #[command(after_help = ROLL_HELP)]
    Roll(RollArgs),

    /// Show where every checkout stands against the pins.
    #[command(
        after_help = "Examples:\n  cd openxla-pjrt-plugin && openxla-workspace status\n  openxla-workspace status --repo openxla-pjrt-plugin --exit-code --json"
    )]
    Status(StatusArgs),

    /// Run a command in every project folder of the workspace.
    #[command(after_help = FOREACH_HELP)]
    Foreach(ForeachArgs),

    /// Show the uncommitted changes of every project as one patch, paths prefixed by the project folder.
    #[command(
        after_help = "Examples:\n  openxla-workspace diff\n  openxla-workspace diff --cached --repo '^(iree|xla)$' > changes.patch"
    )]
    Diff(DiffArgs),

    /// Search the tracked files of every project (git grep), paths prefixed by the project folder.
    #[command(
        after_help = "Examples:\n  openxla-workspace grep -n 'TODO(jax)'\n  openxla-workspace grep -F -i --exclude '^jax$' stablehlo.custom_call -- '*.cpp'"
    )]
    Grep(GrepArgs),

    /// Print a shell completion script (bash, zsh or fish).
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Show or change the settings the workspace remembers.
    #[command(after_help = CONFIG_HELP)]
    Config(ConfigArgs),

    /// Show the registry: projects, URLs, deps, schedules and where each is defined.
    #[command(
        after_help = "Examples:\n  openxla-workspace list\n  openxla-workspace --registry my-projects.toml list --json\n  openxla-workspace list --format dot | dot -Tsvg > deps.svg"
    )]
    List(ListArgs),

    /// Put the checkouts back where they stood before the last checkout, sync or roll --sync.
    #[command(
        after_help = "Examples:\n  openxla-workspace undo --list\n  openxla-workspace --dry-run undo\n  openxla-workspace undo 2"
    )]
    Undo(UndoArgs),

    /// Look after the shared object cache: list, refresh or prune its mirrors.
    #[command(
        after_help = "The cache is --cache-dir, $OPENXLA_WORKSPACE_CACHE or the workspace's cache-dir setting.\n\nExamples:\n  openxla-workspace cache list\n  openxla-workspace --jobs 4 cache refresh\n  openxla-workspace --dry-run cache prune --unused-for 30"
    )]
    Cache(CacheArgs),
}

/// Options of `cache`.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CacheAction,
}

/// What `cache` does.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Each mirror: URL, size, when last fetched, how many known workspaces borrow from it.
    List {
        #[command(flatten)]
        json: JsonArg,
    },
    /// Fetch into every mirror, in parallel up to --jobs.
    Refresh {
        #[command(flatten)]
        json: JsonArg,
    },
    /// Remove the mirrors unused for DAYS that no known workspace borrows from.
    Prune {
        /// Days since a mirror was last fetched (every use fetches it).
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        unused_for: u32,

        #[command(flatten)]
        json: JsonArg,
    },
}

impl CacheAction {
    /// Its `--json`.
    pub fn json(&self) -> &JsonArg {
        match self {
            CacheAction::List { json } | CacheAction::Refresh { json } | CacheAction::Prune { json, .. } => {
                json
            }
        }
    }
}

/// Options of `undo`.
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// Which record: 1 is the last run's, 2 the one before, and so on.
    #[arg(value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=20))]
    pub number: u16,

    /// List the records instead: when, which command, what it moved.
    #[arg(long)]
    pub list: bool,

    #[command(flatten)]
    pub json: JsonArg,
}

impl Command {
    /// The command's name, when it was asked for JSON.
    pub fn json_requested(&self) -> Option<&'static str> {
        let (name, json) = match self {
            Command::Checkout(a) => ("checkout", &a.json),
            Command::Sync(a) => ("sync", &a.json),
            Command::Pin(a) => ("pin", &a.json),
            Command::Roll(a) => ("roll", &a.json),
            Command::Status(a) => ("status", &a.json),
            Command::List(a) => ("list", &a.json),
            Command::Foreach(a) => ("foreach", &a.json),
            Command::Config(a) => ("config", &a.json),
            Command::Undo(a) => ("undo", &a.json),
            Command::Cache(a) => ("cache", a.action.json()),
            _ => return None,
        };
        json.json.then_some(name)
    }
}

const CONFIG_HELP: &str = "\
Settings (each also a flag, and an environment variable, that win for one run):
  registry   a registry file layered over the others      --registry   $OPENXLA_WORKSPACE_REGISTRY
  ro         clone from the read-only URLs (true/false)   --ro         $OPENXLA_WORKSPACE_RO
  filter     partial clones: blob:none, tree:0 or none    --filter     $OPENXLA_WORKSPACE_FILTER
  depth      only the last N commits (0: full history)    --depth      $OPENXLA_WORKSPACE_DEPTH
  jobs       git processes at a time (1 to 256)           --jobs       $OPENXLA_WORKSPACE_JOBS
  cache-dir  a shared object cache                        --cache-dir  $OPENXLA_WORKSPACE_CACHE
A flag wins over the variable, which wins over the workspace's setting, which
wins over the default. The workspace also remembers the projects checked out by
name (its roots), which `sync` at the top of the workspace syncs.

Examples:
  openxla-workspace config
  openxla-workspace config filter blob:none
  openxla-workspace config jobs
  openxla-workspace config --unset cache-dir";

const ROLL_HELP: &str = "\
A schedule is a list of actions in the registry, applied in order:
  [[repos.NAME.schedules.nightly]]
  git_head = \"DEP\"                     # DEP's pin <- head of its tracking branch
  [[repos.NAME.schedules.nightly]]
  py_package = \"PACKAGE\"               # PACKAGE==NEWEST in each file listed
  pip_flags = [\"--pre\", \"-f\", \"https://example.org/links.html\"]
  update_requirements = [\"requirements.txt\"]

Examples:
  cd openxla-pjrt-plugin && openxla-workspace roll nightly
  openxla-workspace roll nightly --message > roll-message.txt
  openxla-workspace roll nightly --commit --branch roll/nightly
  openxla-workspace --dry-run roll continuous --repo openxla-pjrt-plugin";

const FOREACH_HELP: &str = "\
CMD runs without a shell (use `sh -c '...'` for one) in each project folder, in
order of name, with these variables set (empty when there is none):
  OPENXLA_WORKSPACE_PROJECT      the project's name
  OPENXLA_WORKSPACE_PROJECT_DIR  its folder
  OPENXLA_WORKSPACE_ROOT         the workspace folder
  OPENXLA_WORKSPACE_HEAD         the commit it has checked out
  OPENXLA_WORKSPACE_PIN          the commit pinned for it, seen from the project holding
                                 the current folder (as `status` shows)
  OPENXLA_WORKSPACE_PINNED_BY    the project whose pin that is
Each project's output (stdout and stderr) is printed as one block under its name.
With -j 1 (the default) it shows as it comes; with -j N, N projects run at once
and each block is printed whole, in order. The exit status is 0 when every
command succeeded; otherwise the failures are listed and it is 1.

Examples:
  openxla-workspace foreach -- git status --short
  openxla-workspace foreach -j 4 --keep-going --exclude '^jax$' -- sh -c 'git log -1 --oneline \"$OPENXLA_WORKSPACE_PIN\"'";

const COMPLETIONS_HELP: &str = "\
The script asks openxla-workspace itself for candidates as you type, so it
completes the project names and roll schedules of the registry in effect where
you are. Load it anew in each shell (it follows upgrades of the tool):

Examples:
  echo 'source <(openxla-workspace completions bash)' >> ~/.bashrc
  echo 'source <(openxla-workspace completions zsh)' >> ~/.zshrc
  openxla-workspace completions fish > ~/.config/fish/completions/openxla-workspace.fish";

/// Options of `init`: the settings to remember (besides the global
/// `--registry`, `--jobs` and `--cache-dir`).
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Remember: clone from the read-only URLs.
    #[arg(long)]
    pub ro: bool,

    /// Remember: partial clones, blob:none or tree:0.
    #[arg(long, value_name = "SPEC", value_parser = parse_filter)]
    pub filter: Option<FilterSpec>,

    /// Remember: clone and fetch only the last N commits (0 = full history).
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,
}

/// Options of `config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The setting to show or change (registry, ro, filter, depth, jobs, cache-dir).
    #[arg(value_name = "KEY", add = ArgValueCompleter::new(candidates::config_keys))]
    pub key: Option<String>,

    /// Its new value.
    #[arg(value_name = "VALUE", requires = "key")]
    pub value: Option<String>,

    /// Forget the setting KEY.
    #[arg(long, value_name = "KEY", conflicts_with_all = ["key", "value"],
          add = ArgValueCompleter::new(candidates::config_keys))]
    pub unset: Option<String>,

    #[command(flatten)]
    pub json: JsonArg,
}

/// A `--filter` value: a filter, or `none` for full clones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterSpec(pub Option<crate::model::types::Filter>);

fn parse_filter(s: &str) -> Result<FilterSpec, String> {
    crate::model::types::Filter::parse(s).map(FilterSpec)
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

    /// Clone and fetch only the last N commits (0 = full history); with
    /// --sync, deps are made from their pinned commits alone.
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,

    /// Partial clones: blob:none (file contents fetched when checked out)
    /// or tree:0 (trees too); none for full clones. Submodules too.
    #[arg(long, value_name = "SPEC", value_parser = parse_filter)]
    pub filter: Option<FilterSpec>,

    #[command(flatten)]
    pub json: JsonArg,

    /// Projects to check out (name them before `--exclude-*`, whose values
    /// run to the next option, or end those values with `--`).
    #[arg(value_name = "NAME", add = ArgValueCompleter::new(candidates::registry_projects))]
    pub names: Vec<String>,
}

/// `--repo NAME`, for the commands that act on one project.
#[derive(Debug, Args)]
pub struct TargetArg {
    /// Act on project NAME of the workspace instead of the one holding the
    /// current folder.
    #[arg(long, value_name = "NAME", add = ArgValueCompleter::new(candidates::checked_out_projects))]
    pub repo: Option<String>,
}

/// `--json`, for the commands that report results.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print the results as one JSON document on stdout (schema 1).
    #[arg(long)]
    pub json: bool,
}

/// What `checkout` and `sync` leave out. Each flag takes one or more
/// values (`--exclude-dep jax xla`), as the original tool's did.
#[derive(Debug, Args)]
pub struct Exclusions {
    /// Leave out deps whose name matches one of these regexes, at every
    /// level (one or more values; repeatable).
    #[arg(long, value_name = "RE", value_parser = parse_regex, num_args = 1..,
          add = ArgValueCompleter::new(candidates::registry_projects))]
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

    /// Clone missing deps (and submodules) partially: blob:none or tree:0;
    /// none for full clones.
    #[arg(long, value_name = "SPEC", value_parser = parse_filter)]
    pub filter: Option<FilterSpec>,

    /// Clone missing deps from their read-only URLs.
    #[arg(long)]
    pub ro: bool,

    /// Move a detached HEAD even when no branch contains its commit.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub json: JsonArg,
}

/// Options of `roll`.
#[derive(Debug, Args)]
pub struct RollArgs {
    /// The schedule to apply (as named in the registry).
    #[arg(value_name = "SCHEDULE", add = ArgValueCompleter::new(candidates::schedules))]
    pub schedule: String,

    #[command(flatten)]
    pub target: TargetArg,

    /// Sync the deps to the new pins afterwards.
    #[arg(long)]
    pub sync: bool,

    /// With --sync: clone missing deps from their read-only URLs.
    #[arg(long, requires = "sync")]
    pub ro: bool,

    /// Print a commit message telling what the roll changed (only the
    /// message goes to stdout).
    #[arg(long)]
    pub message: bool,

    /// Commit the changed files in the project with that message; refused
    /// when the project has other uncommitted changes.
    #[arg(long)]
    pub commit: bool,

    /// With --commit: commit on a new branch NAME, made at HEAD.
    #[arg(long, value_name = "NAME", requires = "commit")]
    pub branch: Option<String>,

    #[command(flatten)]
    pub json: JsonArg,
}

/// Options of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Compare with the pins of project NAME instead of the one holding the
    /// current folder.
    #[arg(long, value_name = "NAME", add = ArgValueCompleter::new(candidates::checked_out_projects))]
    pub repo: Option<String>,

    /// Exit with status 1 when a pinned dep is missing, not at its pin,
    /// dirty, or has a pin file that cannot be read.
    #[arg(long)]
    pub exit_code: bool,

    #[command(flatten)]
    pub json: JsonArg,
}

/// Options of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// `text`, or `dot`: the dependency graph in Graphviz's language, each
    /// project filled by where its checkout stands against the pins
    /// (render it with `dot -Tsvg`).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value = "text",
        conflicts_with = "json"
    )]
    pub format: ListFormat,

    #[command(flatten)]
    pub json: JsonArg,
}

/// How `list` shows the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Each project with its URLs, deps as a tree, and schedules.
    Text,
    /// The dependency graph, for Graphviz.
    Dot,
}

/// Which project folders `foreach`, `diff` and `grep` visit.
#[derive(Debug, Args)]
pub struct Selection {
    /// Only the projects whose name matches this regex (repeatable: any of them).
    #[arg(long = "repo", value_name = "RE", value_parser = parse_regex,
          add = ArgValueCompleter::new(candidates::checked_out_projects))]
    pub repos: Vec<Regex>,

    /// Leave out the projects whose name matches this regex (repeatable).
    #[arg(long, value_name = "RE", value_parser = parse_regex,
          add = ArgValueCompleter::new(candidates::checked_out_projects))]
    pub exclude: Vec<Regex>,
}

/// Options of `foreach`.
#[derive(Debug, Args)]
pub struct ForeachArgs {
    #[command(flatten)]
    pub select: Selection,

    /// Go on starting the command in the remaining projects after one
    /// failed (by default none is started after the first failure).
    #[arg(short = 'k', long)]
    pub keep_going: bool,

    #[command(flatten)]
    pub json: JsonArg,

    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD",
          value_hint = clap::ValueHint::CommandWithArguments)]
    pub command: Vec<OsString>,
}

/// Options of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub select: Selection,

    /// The staged changes (the index against HEAD) instead of the unstaged ones.
    #[arg(long, visible_alias = "staged")]
    pub cached: bool,
}

/// Options of `grep`.
#[derive(Debug, Args)]
pub struct GrepArgs {
    #[command(flatten)]
    pub select: Selection,

    /// Ignore case.
    #[arg(short = 'i', long)]
    pub ignore_case: bool,

    /// Match whole words only.
    #[arg(short = 'w', long)]
    pub word_regexp: bool,

    /// PATTERN is a fixed string, not a regex.
    #[arg(short = 'F', long, conflicts_with = "extended_regexp")]
    pub fixed_strings: bool,

    /// PATTERN is an extended regex (default: basic, as git grep).
    #[arg(short = 'E', long)]
    pub extended_regexp: bool,

    /// Print only the names of the files that match.
    #[arg(short = 'l', long)]
    pub files_with_matches: bool,

    /// Print the line number of each match.
    #[arg(short = 'n', long)]
    pub line_number: bool,

    /// What to look for (for a pattern that starts with `-`, `-e PATTERN`).
    #[arg(
        value_name = "PATTERN",
        allow_hyphen_values = true,
        required_unless_present = "regexp"
    )]
    pub pattern: Option<String>,

    /// What to look for, given as an option.
    #[arg(
        short = 'e',
        long = "regexp",
        value_name = "PATTERN",
        conflicts_with = "pattern"
    )]
    pub regexp: Option<String>,

    /// Only in these paths (git pathspecs, relative to each project).
    #[arg(last = true, value_name = "PATH")]
    pub paths: Vec<OsString>,
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

impl From<ColorChoice> for crate::ui::report::ColorChoice {
    fn from(choice: ColorChoice) -> Self {
        match choice {
            ColorChoice::Auto => crate::ui::report::ColorChoice::Auto,
            ColorChoice::Always => crate::ui::report::ColorChoice::Always,
            ColorChoice::Never => crate::ui::report::ColorChoice::Never,
        }
    }
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

    #[command(flatten)]
    pub json: JsonArg,
}

fn parse_regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("invalid regular expression: {e}"))
}
