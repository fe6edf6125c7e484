//! `foreach`, `diff` and `grep`: the same work in every project folder of
//! the workspace, each project's output shown as one piece, in order of
//! name, whatever order the projects finish in.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{anyhow, Result};
use serde::Serialize;

use super::foreach_json::Outputs;
use super::Context;
use crate::cli::{DiffArgs, ForeachArgs, GrepArgs, Selection};
use crate::git::GrepOptions;
use crate::model::text::escape_control;
use crate::model::types::RepoName;
use crate::model::workspace::Workspace;
use crate::process::foreach::{self, Output, Ran, Target};
use crate::process::spool::Spool;
use crate::ui::report::{Failure, Paint};

/// Runs `foreach`; returns the exit status.
pub fn run(ctx: &Context, args: &ForeachArgs) -> Result<i32> {
    let started = Instant::now();
    let workspace = ctx.workspace()?;
    let targets = targets(ctx, &workspace, &args.select)?;
    let command = &args.command;
    if ctx.dry_run {
        for target in &targets {
            crate::ui::stdout::outln!("{}: {}", target.name, foreach::describe(command, &target.dir));
        }
        return Ok(0);
    }
    // The user's commands may be heavy (builds, tests): one at a time
    // unless asked, unlike git's network-bound work.
    let jobs = ctx.jobs_given.unwrap_or(1);
    let json = args.json.json;
    let output = output_mode(json, jobs);
    let executor = crate::exec::Executor::new(jobs)?;
    let stop = AtomicBool::new(false);
    let printer = Mutex::new(InOrder::default());
    let indexed: Vec<(usize, &Target)> = targets.iter().enumerate().collect();
    let results: Vec<Outcome> = executor.map(
        &indexed,
        |_| None,
        |(i, target)| {
            if stop.load(Ordering::SeqCst) && !args.keep_going {
                printer_lock(&printer).finished(*i, None, &ctx.paint);
                return Outcome::NotRun;
            }
            if output == Output::Through {
                print_header(&target.name, &ctx.paint);
            }
            let outcome = match foreach::run(command, target, output) {
                Ok(ran) => Outcome::Ran(ran),
                Err(e) => Outcome::NotStarted(e.to_string()),
            };
            if !matches!(&outcome, Outcome::Ran(r) if r.succeeded()) {
                stop.store(true, Ordering::SeqCst);
            }
            let block = match (&outcome, output) {
                (Outcome::Ran(ran), Output::Merged) => Some((target.name.as_str(), ran.stdout.as_ref())),
                (Outcome::NotStarted(_), Output::Merged) => Some((target.name.as_str(), None)),
                _ => None,
            };
            printer_lock(&printer).finished(*i, block, &ctx.paint);
            outcome
        },
    );

    let (failures, succeeded, not_run) = tally(&targets, &results, command)?;
    let code = if failures.is_empty() { 0 } else { 1 };
    if json {
        let mut outputs = Outputs::default();
        let projects: Vec<ProjectResult> = targets
            .iter()
            .zip(&results)
            .map(|(target, outcome)| ProjectResult::new(target, outcome, &mut outputs))
            .collect();
        outputs.print_document(
            "foreach",
            code == 0,
            Document {
                argv: command.iter().map(|a| a.to_string_lossy().into_owned()).collect(),
                projects,
            },
        );
    }
    if !failures.is_empty() || !ctx.reporter.is_quiet() {
        ctx.reporter.summary(
            "foreach",
            &[("succeeded", succeeded), ("not run", not_run)],
            &failures,
            started.elapsed(),
        );
    }
    if not_run > 0 {
        ctx.reporter.note(&format!(
            "after the first failure no command was started in the {not_run} remaining project{}; --keep-going runs them all",
            if not_run == 1 { "" } else { "s" }
        ));
    }
    Ok(code)
}

/// Where the commands' output goes: into the document (`--json`), straight
/// through (one at a time), or kept per project to print whole, in order.
fn output_mode(json: bool, jobs: usize) -> Output {
    match (json, jobs) {
        (true, _) => Output::Separate,
        (false, 1) => Output::Through,
        (false, _) => Output::Merged,
    }
}

/// The failures of a foreach run, with how many commands succeeded and how
/// many were not run.
fn tally(
    targets: &[Target],
    results: &[Outcome],
    command: &[std::ffi::OsString],
) -> Result<(Vec<Failure>, usize, usize)> {
    let line = foreach::command_line(command);
    let mut failures = Vec::new();
    let (mut succeeded, mut not_run) = (0, 0);
    for (target, outcome) in targets.iter().zip(results) {
        let error = match outcome {
            Outcome::Ran(ran) if ran.succeeded() => {
                succeeded += 1;
                continue;
            }
            Outcome::NotRun => {
                not_run += 1;
                continue;
            }
            Outcome::Ran(ran) => match (ran.code, ran.signal) {
                (Some(code), _) => anyhow!("`{line}` exited with status {code}"),
                (None, Some(signal)) => anyhow!("`{line}` was killed by signal {signal}"),
                (None, None) => anyhow!("`{line}` failed"),
            },
            Outcome::NotStarted(e) => anyhow!("could not start `{line}` in {}: {e}", target.dir.display()),
        };
        failures.push(failure(target, error)?);
    }
    Ok((failures, succeeded, not_run))
}

/// Runs `diff`: one patch of the whole workspace; returns the exit status.
pub fn diff(ctx: &Context, args: &DiffArgs) -> Result<i32> {
    let workspace = ctx.workspace()?;
    let targets = targets(ctx, &workspace, &args.select)?;
    let executor = ctx.executor()?;
    let patches = executor.map(
        &targets,
        |_| None,
        |t| ctx.git.diff(&t.dir, &format!("{}/", t.name), args.cached),
    );
    let terminal = std::io::stdout().is_terminal();
    let mut failures = Vec::new();
    for (target, patch) in targets.iter().zip(patches) {
        match patch {
            Ok(patch) => {
                if terminal {
                    // On a screen the files' text is shown safely; through
                    // a pipe the patch stays exact (for `git apply`).
                    let text = String::from_utf8_lossy(&patch);
                    let mut block = String::new();
                    for line in escape_control(&text, true).lines() {
                        block.push_str(&paint_diff_line(line, &ctx.paint));
                        block.push('\n');
                    }
                    crate::ui::stdout::write_bytes(block.as_bytes());
                } else {
                    crate::ui::stdout::write_bytes(&patch);
                }
            }
            Err(e) => failures.push(failure(target, e.into())?),
        }
    }
    Ok(i32::from(summarise_failures(ctx, "diff", &failures)))
}

/// Runs `grep`; returns 0 when something matched, 1 when nothing did (or a
/// project could not be searched, which is listed).
pub fn grep(ctx: &Context, args: &GrepArgs) -> Result<i32> {
    let workspace = ctx.workspace()?;
    let targets = targets(ctx, &workspace, &args.select)?;
    let pattern = args
        .regexp
        .as_deref()
        .or(args.pattern.as_deref())
        .unwrap_or_default();
    let options = GrepOptions {
        ignore_case: args.ignore_case,
        word_regexp: args.word_regexp,
        fixed_strings: args.fixed_strings,
        extended_regexp: args.extended_regexp,
        files_with_matches: args.files_with_matches,
        line_number: args.line_number,
    };
    let executor = ctx.executor()?;
    let found = executor.map(
        &targets,
        |_| None,
        |t| ctx.git.grep(&t.dir, pattern, &options, &args.paths),
    );
    let terminal = std::io::stdout().is_terminal();
    let show = |bytes: &[u8]| -> Vec<u8> {
        if terminal {
            escape_control(&String::from_utf8_lossy(bytes), false)
                .into_owned()
                .into_bytes()
        } else {
            bytes.to_vec()
        }
    };
    let mut failures = Vec::new();
    let mut any = false;
    for (target, matches) in targets.iter().zip(found) {
        let matches = match matches {
            Ok(m) => m,
            Err(e) => {
                failures.push(failure(target, e.into())?);
                continue;
            }
        };
        let mut block = Vec::new();
        for m in matches {
            any = true;
            let mut path = format!("{}/", target.name).into_bytes();
            path.extend(show(&m.path));
            let path = String::from_utf8_lossy(&path).into_owned();
            let mut line = ctx.paint.paint("35", &path).into_bytes();
            if let Some(number) = &m.line {
                line.extend(ctx.paint.paint("36", ":").as_bytes());
                line.extend(ctx.paint.paint("32", &String::from_utf8_lossy(number)).as_bytes());
            }
            if let Some(text) = &m.text {
                line.extend(ctx.paint.paint("36", ":").as_bytes());
                line.extend(show(text));
            }
            line.push(b'\n');
            block.extend(line);
        }
        crate::ui::stdout::write_bytes(&block);
    }
    Ok(i32::from(summarise_failures(ctx, "grep", &failures) || !any))
}

/// Lists the projects `command` could not read, if any; whether there were.
fn summarise_failures(ctx: &Context, command: &str, failures: &[Failure]) -> bool {
    if !failures.is_empty() {
        ctx.reporter
            .summary(command, &[], failures, std::time::Duration::ZERO);
    }
    !failures.is_empty()
}

/// The project folders of the workspace that `select` picks, in order of
/// name, each with its HEAD and the pin the project holding the current
/// folder gives it (read-only, as `status` reads them).
fn targets(ctx: &Context, workspace: &Workspace, select: &Selection) -> Result<Vec<Target>> {
    let names: Vec<RepoName> = crate::model::workspace::project_folders(workspace)
        .into_iter()
        .filter(|n| select.repos.is_empty() || select.repos.iter().any(|re| re.is_match(n.as_str())))
        .filter(|n| !select.exclude.iter().any(|re| re.is_match(n.as_str())))
        .collect();
    if names.is_empty() {
        let all = crate::model::workspace::project_folders(workspace);
        return Err(if all.is_empty() {
            anyhow!(
                "the workspace {} has no checkouts yet; run `openxla-workspace checkout NAME` first",
                workspace.root().display()
            )
        } else {
            let all: Vec<String> = all.iter().map(|n| n.to_string()).collect();
            anyhow!(
                "no project matches the --repo and --exclude given; the projects are: {}",
                all.join(", ")
            )
        });
    }
    let mut pins = BTreeMap::new();
    let registry = ctx.registry(Some(workspace))?;
    if let Some(from) = workspace
        .project_containing(&ctx.cwd)
        .and_then(|n| registry.get(&n))
    {
        match super::status::pins_in_force(ctx, workspace, &registry, from) {
            Ok((chosen, _)) => {
                for (dep, commit, by) in chosen {
                    pins.insert(dep, (commit, by));
                }
            }
            Err(e) => ctx
                .reporter
                .warn(&format!("{}: {e:#}; the commands get no pins", from.name)),
        }
    }
    let executor = ctx.executor()?;
    let heads = executor.map(
        &names,
        |_| None,
        |n| ctx.git.head_commit(&workspace.project_dir(n)),
    );
    Ok(names
        .iter()
        .zip(heads)
        .map(|(name, head)| {
            let pin = pins.get(name);
            Target {
                name: name.to_string(),
                dir: workspace.project_dir(name),
                root: workspace.root().to_path_buf(),
                head: head.ok().flatten().map(|c| c.to_string()),
                pin: pin.map(|(c, _)| c.to_string()),
                pinned_by: pin.map(|(_, by)| by.to_string()),
            }
        })
        .collect())
}

fn failure(target: &Target, error: anyhow::Error) -> Result<Failure> {
    Ok(Failure {
        project: RepoName::new(&target.name).map_err(|e| anyhow!(e))?,
        error,
    })
}

/// What became of one project's command.
enum Outcome {
    /// It ran (successfully or not).
    Ran(Ran),
    /// It could not be started.
    NotStarted(String),
    /// It was not started: an earlier one failed (without `--keep-going`).
    NotRun,
}

/// The header of a project's block.
fn print_header(name: &str, paint: &Paint) {
    crate::ui::stdout::outln!("{}", paint.paint("1", &format!("== {name} ==")));
}

/// Prints blocks in project order as they become printable: a block waits
/// until every project before it has finished.
/// A waiting block holds a handle on the project's output file, not the
/// output.
#[derive(Default)]
struct InOrder {
    next: usize,
    waiting: BTreeMap<usize, Option<(String, Option<Spool>)>>,
}

impl InOrder {
    /// Project `i` finished, with its block (name and output) if it has
    /// one to print.
    fn finished(&mut self, i: usize, block: Option<(&str, Option<&Spool>)>, paint: &Paint) {
        let block = block.map(|(n, o)| (n.to_string(), o.and_then(|o| o.try_clone().ok())));
        self.waiting.insert(i, block);
        while let Some(block) = self.waiting.remove(&self.next) {
            if let Some((name, output)) = block {
                print_header(&name, paint);
                if let Some(output) = output {
                    let _ = output.pieces(crate::ui::stdout::write_bytes);
                    if !output.ends_with_newline() {
                        crate::ui::stdout::outln!();
                    }
                }
            }
            self.next += 1;
        }
    }
}

fn printer_lock(m: &Mutex<InOrder>) -> std::sync::MutexGuard<'_, InOrder> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A line of a patch, coloured as git colours it.
fn paint_diff_line(line: &str, paint: &Paint) -> String {
    let code = if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
        "1"
    } else if line.starts_with('+') {
        "32"
    } else if line.starts_with('-') {
        "31"
    } else if line.starts_with("@@") {
        "36"
    } else {
        return line.to_string();
    };
    paint.paint(code, line)
}

/// The `--json` document of `foreach` (after `schema`, `command`, `ok`).
#[derive(Serialize)]
struct Document {
    /// The command and its arguments, as given.
    argv: Vec<String>,
    /// One object per project, in order.
    projects: Vec<ProjectResult>,
}

/// One project of the `foreach` document.
#[derive(Default, Serialize)]
struct ProjectResult {
    name: String,
    path: String,
    head: Option<String>,
    pin: Option<String>,
    pinned_by: Option<String>,
    /// `ok`, `failed` (it ran and exited non-zero, or was killed),
    /// `not_started` (it could not be started) or `not_run`.
    result: &'static str,
    exit_code: Option<i32>,
    signal: Option<i32>,
    error: Option<String>,
    stdout: String,
    stderr: String,
}

impl ProjectResult {
    fn new<'a>(target: &Target, outcome: &'a Outcome, outputs: &mut Outputs<'a>) -> ProjectResult {
        let mut result = ProjectResult {
            name: target.name.clone(),
            path: target.dir.display().to_string(),
            head: target.head.clone(),
            pin: target.pin.clone(),
            pinned_by: target.pinned_by.clone(),
            result: "not_run",
            ..ProjectResult::default()
        };
        match outcome {
            Outcome::Ran(ran) => {
                result.result = if ran.succeeded() { "ok" } else { "failed" };
                result.exit_code = ran.code;
                result.signal = ran.signal;
                // Placeholders: the document streams the outputs in.
                result.stdout = outputs.refer(ran.stdout.as_ref());
                result.stderr = outputs.refer(ran.stderr.as_ref());
            }
            Outcome::NotStarted(e) => {
                result.result = "not_started";
                result.error = Some(e.clone());
            }
            Outcome::NotRun => {}
        }
        result
    }
}
