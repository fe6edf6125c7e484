//! `roll SCHEDULE`: apply one of a project's schedules of roll actions.
//!
//! The whole roll is worked out before any file changes. Local checks come
//! first (the pin file, each dep's pin, each requirements file); then every
//! query (the head of each dep's tracking branch, the newest version of each
//! package) runs, in parallel; then the actions are applied in schedule order
//! to in-memory copies of the files. Only when every action succeeded are the
//! files that changed written, each once and atomically. A roll that changes
//! nothing writes nothing, so CI can tell from the files alone whether to open
//! a pull request, and a failed roll leaves every file as it was.

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};

use super::roll_commit;
use super::roll_story::{self, MovedPin};
use super::Context;
use crate::cli::RollArgs;
use crate::exec::step::PendingPlan;
use crate::model::atomic;
use crate::model::pinfile::{self, Pins};
use crate::model::registry::{Project, Registry, RollAction};
use crate::model::requirements;
use crate::model::types::{CommitId, RepoName};
use crate::plan::roll::{DepRoll, PackageRoll, RollStory};
use crate::plan::sync::{plan_pending_sync, Pending};
use crate::process::pip::{Pip, PipCommand};
use crate::ui::report::Failure;

/// The largest requirements file a roll edits; real ones are a few kilobytes.
const MAX_REQUIREMENTS_SIZE: u64 = 1024 * 1024;

/// Runs `roll`; returns the exit status.
pub fn run(ctx: &Context, args: &RollArgs) -> Result<i32> {
    let started = Instant::now();
    let workspace = ctx.workspace()?;
    let registry = ctx.registry(Some(&workspace))?;
    let project = super::current_project(ctx, &workspace, &registry, args.target.repo.as_deref(), "roll")?;
    let actions = schedule(ctx, project, &args.schedule)?;
    let branch = roll_commit::branch(args.branch.as_deref())?;
    let _lock = super::lock_unless_dry_run(ctx, &workspace, &registry, "roll")?;
    let dir = workspace.project_dir(&project.name);
    let title = format!("roll {} ({})", args.schedule, project.name);
    let roller = Roller {
        ctx,
        registry: &registry,
        project,
        schedule: &args.schedule,
        dir: &dir,
        lines_to_stderr: args.message,
    };
    let (plan, failures) = roller.plan(actions)?;
    let mut document = Document {
        ctx,
        project,
        schedule: &args.schedule,
        plan: &plan,
        story: None,
        commit: None,
    };
    if !failures.is_empty() {
        ctx.reporter.summary(&title, &[], &failures, started.elapsed());
        ctx.reporter
            .error("no file was changed; fix the problems above, then roll again");
        document.print(false, Vec::new(), &failures);
        return Ok(1);
    }
    let changed_files = plan.changed_files(&dir);
    if args.commit && !changed_files.is_empty() {
        roll_commit::check(ctx, project, &dir, branch.as_ref(), &changed_files)?;
    }
    if args.sync {
        // Before the pin file changes: the sync would refuse afterwards.
        let roots = [project.name.clone()];
        super::in_progress::refuse_if_under_way(
            ctx,
            &workspace,
            &registry,
            &roots,
            (&[], &[]),
            "roll --sync",
        )?;
    }
    if args.message || args.commit || ctx.json {
        document.story = Some(tell(ctx, &workspace, &registry, &args.schedule, &plan)?);
    }
    let written = roller.apply(&plan)?;
    summarise(ctx, &title, &plan, started);
    let story = document.story.as_ref();
    if args.message {
        print_message(ctx, story);
    }
    if args.commit {
        document.commit = commit(ctx, project, &dir, branch, changed_files, story, args.message)?;
    }
    let code = if args.sync {
        sync_after(ctx, &workspace, &registry, project)?
    } else {
        0
    };
    document.print(code == 0, written, &[]);
    Ok(code)
}

/// The closing line: how many actions changed something, how many found
/// everything up to date.
fn summarise(ctx: &Context, title: &str, plan: &RollPlan, started: Instant) {
    let changed = plan.actions.iter().filter(|a| a.changed).count();
    let updated = if ctx.dry_run { "to update" } else { "updated" };
    ctx.reporter.summary(
        title,
        &[(updated, changed), ("up to date", plan.actions.len() - changed)],
        &[],
        started.elapsed(),
    );
}

/// The story of the roll worked out in `plan`: each moved pin's history
/// (see [`roll_story`]) and each changed package.
fn tell(
    ctx: &Context,
    workspace: &crate::model::workspace::Workspace,
    registry: &Registry,
    schedule: &str,
    plan: &RollPlan,
) -> Result<RollStory> {
    let mut moved = Vec::new();
    let mut packages = Vec::new();
    for rolled in plan.actions.iter().filter_map(|a| a.rolled.as_ref()) {
        match rolled {
            Rolled::Pin { dep, from, to } => {
                if let Some(dep) = registry.get(dep) {
                    moved.push(MovedPin {
                        dep,
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
            }
            Rolled::Package(package) => packages.push(package.clone()),
        }
    }
    Ok(RollStory {
        schedule: schedule.to_string(),
        deps: roll_story::tell(ctx, workspace, registry, &moved)?,
        packages,
    })
}

/// Prints the commit message on stdout (with `--json`, the document holds
/// it); a roll that changed nothing has none.
fn print_message(ctx: &Context, story: Option<&RollStory>) {
    match story {
        Some(story) if !story.is_empty() => {
            if !ctx.json {
                crate::ui::stdout::out!("{}", story.message());
            }
        }
        _ => ctx.reporter.note("nothing changed: no commit message"),
    }
}

/// `--commit`: commits the changed files with the story's message, unless
/// nothing changed; says what it committed. Returns `{"id", "branch"}` for
/// the `--json` document.
fn commit(
    ctx: &Context,
    project: &Project,
    dir: &Path,
    branch: Option<crate::model::types::BranchName>,
    files: Vec<PathBuf>,
    story: Option<&RollStory>,
    message_printed: bool,
) -> Result<Option<serde_json::Value>> {
    let Some(story) = story.filter(|s| !s.is_empty() && !files.is_empty()) else {
        ctx.reporter.note("nothing changed: nothing to commit");
        return Ok(None);
    };
    let on = branch.as_ref().map(ToString::to_string);
    let Some(id) = roll_commit::commit(ctx, project, dir, branch, files, story.message())? else {
        return Ok(None);
    };
    let on = match on {
        Some(on) => on,
        None => ctx.git.current_branch(dir)?.unwrap_or_default(),
    };
    let line = format!("committed {} on {on}: {}", id.short(), story.summary());
    if ctx.prints_results() && !message_printed {
        crate::ui::stdout::outln!("{}", crate::model::text::escape_control(&line, false));
    } else {
        ctx.reporter.note(&line);
    }
    Ok(Some(serde_json::json!({"id": id.to_string(), "branch": on})))
}

/// `--sync`: syncs the deps to the new pins (with `--dry-run`, prints the
/// sync's plan); returns the sync's exit status.
fn sync_after(
    ctx: &Context,
    workspace: &crate::model::workspace::Workspace,
    registry: &Registry,
    project: &Project,
) -> Result<i32> {
    let options = ctx.sync_options(None);
    if ctx.dry_run {
        // The pins it will sync to are those the roll would write: the
        // commands show each as a named placeholder.
        let state = |dep: &RepoName| {
            if workspace.project_dir(dep).exists() {
                Pending::Present
            } else {
                Pending::Missing
            }
        };
        let roots = std::slice::from_ref(&project.name);
        let plans = plan_pending_sync(workspace, registry, roots, state, &options);
        super::print_commands(ctx, plans.iter().flat_map(PendingPlan::lines));
        return Ok(0);
    }
    super::sync::sync_roots(ctx, workspace, registry, &[project], &options)
}

/// The `--json` document of `roll`, filled in as the run goes.
struct Document<'a> {
    ctx: &'a Context,
    project: &'a Project,
    schedule: &'a str,
    plan: &'a RollPlan,
    /// What the roll changed, when it was told.
    story: Option<RollStory>,
    /// The commit `--commit` made.
    commit: Option<serde_json::Value>,
}

impl Document<'_> {
    /// Prints it, with `--json`.
    fn print(&self, ok: bool, written: Vec<String>, failures: &[Failure]) {
        if !self.ctx.json {
            return;
        }
        let story = self.story.as_ref();
        let body = serde_json::json!({
            "project": self.project.name.to_string(),
            "schedule": self.schedule,
            "dry_run": self.ctx.dry_run,
            "actions": self.plan.actions.iter().map(|a| a.record.clone()).collect::<Vec<_>>(),
            "written": written,
            "failures": failures.iter().map(crate::ui::json::Problem::from).collect::<Vec<_>>(),
            "syncs": self.ctx.take_syncs(),
            "rolled": story.map(|s| serde_json::json!({
                "deps": s.deps.iter().map(DepRoll::to_json).collect::<Vec<_>>(),
                "packages": s.packages.iter().map(PackageRoll::to_json).collect::<Vec<_>>(),
            })),
            "message": story.filter(|s| !s.is_empty()).map(RollStory::message),
            "commit": self.commit,
        });
        crate::ui::json::print_document("roll", ok, body);
    }
}

/// The actions of schedule `name` (saying so when there are none), or an
/// error listing the schedules there are.
fn schedule<'p>(ctx: &Context, project: &'p Project, name: &str) -> Result<&'p [RollAction]> {
    if project.schedules.is_empty() {
        bail!(
            "{} has no roll schedules in the registry ({}); define one as [[repos.{}.schedules.NAME]] entries (`openxla-workspace roll --help` shows how)",
            project.name,
            project.layer,
            project.name
        );
    }
    let Some(actions) = project.schedules.get(name) else {
        let known: Vec<&str> = project.schedules.keys().map(String::as_str).collect();
        bail!(
            "{} has no schedule '{}'; available: {}",
            project.name,
            name.escape_debug(),
            known.join(", ")
        )
    };
    if actions.is_empty() {
        ctx.reporter.note(&format!(
            "schedule {name} of {} has no actions: nothing to roll",
            project.name
        ));
    }
    Ok(actions)
}

/// The roll worked out in memory.
#[derive(Default)]
struct RollPlan {
    /// One report per action, in schedule order.
    actions: Vec<ActionReport>,
    /// `sync_deps.py`, when the schedule has git_head actions.
    pin_file: Option<PinFileEdit>,
    /// The requirements files, in the order the schedule first names them.
    requirements: Vec<FileEdit>,
}

impl RollPlan {
    /// The files the roll writes, relative to the project folder `dir`.
    fn changed_files(&self, dir: &Path) -> Vec<PathBuf> {
        let relative = |file| match file {
            Due::PinFile(f) => f.path.strip_prefix(dir).unwrap_or(&f.path).to_path_buf(),
            Due::Requirements(f) => f.shown.clone(),
        };
        self.due(None).map(relative).collect()
    }

    /// The changed files to write once action `i` is done (it is the last
    /// to edit them); with `None`, every changed file.
    fn due(&self, i: Option<usize>) -> impl Iterator<Item = Due<'_>> {
        let after = move |last_action: usize| i.is_none_or(|i| i == last_action);
        let pin_file = self
            .pin_file
            .iter()
            .filter(move |f| f.changed && after(f.last_action));
        let requirements = self
            .requirements
            .iter()
            .filter(move |f| f.text != f.original && after(f.last_action));
        pin_file
            .map(Due::PinFile)
            .chain(requirements.map(Due::Requirements))
    }
}

/// What an action changed, for the roll's story.
enum Rolled {
    /// A git_head action moved `dep`'s pin.
    Pin {
        dep: RepoName,
        from: CommitId,
        to: CommitId,
    },
    /// A py_package action changed the package's version in some files.
    Package(PackageRoll),
}

/// What one action found and would change.
#[derive(Default)]
struct ActionReport {
    /// Result lines, printed in order (`liba: 1f541e4 -> afd0eac (...)`).
    lines: Vec<String>,
    /// Warnings to print with them (shown even with `-q`).
    warnings: Vec<String>,
    /// Whether the action changes a file.
    changed: bool,
    /// Whether it is a git_head action (for the closing line).
    git_head: bool,
    /// The action as the `--json` document shows it.
    record: serde_json::Value,
    /// What it changed, `None` when nothing.
    rolled: Option<Rolled>,
}

/// The pin file: read once, changed by every git_head action, written once.
struct PinFileEdit {
    path: PathBuf,
    pins: Pins,
    changed: bool,
    /// Index of the last action that edits it: written after that one.
    last_action: usize,
}

/// One requirements file, as read and as the actions leave it.
struct FileEdit {
    path: PathBuf,
    /// The path as the registry names it, relative to the project.
    shown: PathBuf,
    original: String,
    text: String,
    /// Index of the last action that edits it: written after that one.
    last_action: usize,
}

/// A file a roll writes, once the last action that edits it is done.
enum Due<'p> {
    /// `sync_deps.py`, written from its pins.
    PinFile(&'p PinFileEdit),
    /// A requirements file, written as edited.
    Requirements(&'p FileEdit),
}

impl<'p> Due<'p> {
    fn path(&self) -> &'p Path {
        match self {
            Due::PinFile(file) => &file.path,
            Due::Requirements(file) => &file.path,
        }
    }
}

/// A network question an action asks, with what its answer is for.
enum Query<'a> {
    /// The head of `dep`'s tracking branch on its `ro_url`, to become its
    /// pin.
    Head(&'a Project),
    /// The newest version of package `name` that `cmd` (pip) reports, to
    /// pin in the requirements files `files` (indices into
    /// [`RollPlan::requirements`], in the order the action names them).
    Newest {
        name: &'a str,
        files: Vec<usize>,
        cmd: PipCommand,
    },
}

/// A [`Query`]'s answer, of the same kind.
enum Answer {
    /// The commit at the head of the branch.
    Head(CommitId),
    /// The newest version of the package.
    Newest(String),
}

/// One roll of one schedule of one project.
struct Roller<'a> {
    ctx: &'a Context,
    registry: &'a Registry,
    project: &'a Project,
    schedule: &'a str,
    dir: &'a Path,
    /// `--message`: stdout holds only the message, so the action lines go
    /// to stderr.
    lines_to_stderr: bool,
}

impl<'a> Roller<'a> {
    /// Works out the whole roll: local checks, then every query in
    /// parallel, then the edits in schedule order. Returns the plan and
    /// every action's failure; an error is a problem for the whole roll.
    fn plan(&self, actions: &[RollAction]) -> Result<(RollPlan, Vec<Failure>)> {
        let mut failures = Vec::new();
        let mut plan = RollPlan::default();
        let pip = Pip::from_env();
        let queries = self.check_locally(actions, &mut plan, &mut failures, &pip)?;
        // Queries, in parallel; on a terminal the first per host runs alone.
        let answers = self.ctx.executor()?.map(
            &queries,
            |(_, query)| match query {
                Query::Head(dep) => dep.ro_url.host().map(str::to_string),
                Query::Newest { .. } => None,
            },
            |(i, query)| self.ask(&actions[*i], *i, query, &pip),
        );
        self.edit(actions, &queries, answers, &mut plan, &mut failures)?;
        Ok((plan, failures))
    }

    /// The local checks of every action (the pin file, each dep's pin,
    /// each requirements file), reading the files into `plan`; nothing
    /// here touches the network. Returns the questions the actions that
    /// passed ask, each with its action's index.
    fn check_locally<'r>(
        &self,
        actions: &'r [RollAction],
        plan: &mut RollPlan,
        failures: &mut Vec<Failure>,
        pip: &Pip,
    ) -> Result<Vec<(usize, Query<'r>)>>
    where
        'a: 'r,
    {
        let mut queries = Vec::new();
        for (i, action) in actions.iter().enumerate() {
            match action {
                RollAction::GitHead(dep) => {
                    let pin_file = self.pin_file(&mut plan.pin_file)?;
                    pin_file.last_action = i;
                    let Some(dep_project) = self.registry.get(dep) else {
                        let error = anyhow!("{}: {dep} is not in the registry", self.label(i, action));
                        failures.push(self.failure(error));
                        continue;
                    };
                    if pin_file.pins.pin(dep).is_none() {
                        let error = anyhow!(
                            "{}: {dep} is not in PINNED_VERSIONS of {}; run `openxla-workspace pin --repo {}` to pin every registry dep, then roll again",
                            self.label(i, action),
                            pin_file.path.display(),
                            self.project.name
                        );
                        failures.push(self.failure(error));
                        continue;
                    }
                    queries.push((i, Query::Head(dep_project)));
                }
                RollAction::PyPackage {
                    name,
                    pip_flags,
                    update_requirements,
                } => {
                    let (mut files, failed_before) = (Vec::new(), failures.len());
                    for file in update_requirements {
                        match self.load_requirements(&mut plan.requirements, file, i) {
                            Ok(index) => files.push(index),
                            Err(error) => failures.push(self.failure(error.context(self.label(i, action)))),
                        }
                    }
                    if failures.len() == failed_before {
                        match pip.index_versions_cmd(self.dir, name, pip_flags) {
                            Ok(cmd) => queries.push((i, Query::Newest { name, files, cmd })),
                            Err(e) => failures.push(self.failure(anyhow!("{}: {e}", self.label(i, action)))),
                        }
                    }
                }
            }
        }
        Ok(queries)
    }

    /// Applies the answers to the files in `plan`, in schedule order, and
    /// keeps each action's report there.
    fn edit(
        &self,
        actions: &[RollAction],
        queries: &[(usize, Query)],
        answers: Vec<Result<Answer>>,
        plan: &mut RollPlan,
        failures: &mut Vec<Failure>,
    ) -> Result<()> {
        // The queries are in schedule order, so the reports are too.
        for ((i, query), answer) in queries.iter().zip(answers) {
            let report = match (query, answer) {
                (_, Err(error)) => {
                    failures.push(self.failure(error));
                    continue;
                }
                // The pin file was read by the checks that asked the question.
                (Query::Head(dep), Ok(Answer::Head(head))) => {
                    self.roll_pin(self.pin_file(&mut plan.pin_file)?, dep, head)
                }
                (Query::Newest { name, files, .. }, Ok(Answer::Newest(version))) => {
                    match self.roll_package(&mut plan.requirements, name, files, &version) {
                        Ok(report) => report,
                        Err(error) => {
                            failures.push(self.failure(error.context(self.label(*i, &actions[*i]))));
                            continue;
                        }
                    }
                }
                _ => unreachable!("`ask` answers each query with its own kind"),
            };
            plan.actions.push(report);
        }
        Ok(())
    }

    /// Prints each action's lines in order, writing each changed file right
    /// after the last action that edits it (or, with `--dry-run`, saying it
    /// would).
    fn apply(&self, plan: &RollPlan) -> Result<Vec<String>> {
        let ctx = self.ctx;
        let mut written: Vec<&Path> = Vec::new();
        let mut due_files = Vec::new();
        for (i, action) in plan.actions.iter().enumerate() {
            // The lines quote the registry (requirements paths, branches).
            for line in &action.lines {
                self.result_line(&crate::model::text::escape_control(line, false));
            }
            for warning in &action.warnings {
                ctx.reporter.warn(warning);
            }
            self.result_line(match (action.changed, ctx.dry_run, action.git_head) {
                (false, _, _) => "No update required.",
                (true, false, true) => "Updated pinned revision.",
                (true, true, true) => "Would update pinned revision.",
                (true, false, false) => "Updated requirements.",
                (true, true, false) => "Would update requirements.",
            });
            for file in plan.due(Some(i)) {
                let path = file.path();
                due_files.push(path.display().to_string());
                if ctx.dry_run {
                    if !ctx.json {
                        self.result_line(&format!("would write {}", path.display()));
                    }
                    continue;
                }
                let result = match file {
                    Due::PinFile(pin_file) => pinfile::write(path, &pin_file.pins),
                    Due::Requirements(file) => atomic::write_atomically(path, file.text.as_bytes()),
                };
                result.with_context(|| {
                    let before = if written.is_empty() {
                        String::new()
                    } else {
                        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
                        format!(" (already written: {})", names.join(", "))
                    };
                    format!(
                        "{}: could not write {}; that file is intact{before}",
                        self.project.name,
                        path.display()
                    )
                })?;
                ctx.reporter.note(&format!("wrote {}", path.display()));
                written.push(path);
            }
        }
        Ok(due_files)
    }

    /// Prints a result line: on stdout, or on stderr when stdout holds the
    /// commit message; not at all with `--json` or `-q`.
    fn result_line(&self, line: &str) {
        if !self.ctx.prints_results() {
            return;
        }
        if self.lines_to_stderr {
            self.ctx.reporter.note(line);
        } else {
            crate::ui::stdout::outln!("{line}");
        }
    }

    /// A failure of this roll.
    fn failure(&self, error: anyhow::Error) -> Failure {
        Failure {
            project: self.project.name.clone(),
            error,
        }
    }

    /// `schedule nightly, action 2: py_package jaxlib`.
    fn label(&self, i: usize, action: &RollAction) -> String {
        let what = match action {
            RollAction::GitHead(dep) => format!("git_head {dep}"),
            RollAction::PyPackage { name, .. } => format!("py_package {name}"),
        };
        format!("schedule {}, action {}: {what}", self.schedule, i + 1)
    }

    /// The pin file's edit, `sync_deps.py` read the first time a git_head
    /// action needs it (a schedule without one never reads it).
    fn pin_file<'e>(&self, edit: &'e mut Option<PinFileEdit>) -> Result<&'e mut PinFileEdit> {
        match edit {
            Some(edit) => Ok(edit),
            None => Ok(edit.insert(self.read_pin_file()?)),
        }
    }

    /// Reads `sync_deps.py`.
    fn read_pin_file(&self) -> Result<PinFileEdit> {
        let path = self.dir.join(pinfile::FILE_NAME);
        if !path.exists() {
            bail!(
                "{}: {} not found; schedule {} moves pins, so run `openxla-workspace pin --repo {}` first to create it",
                self.project.name,
                path.display(),
                self.schedule,
                self.project.name
            );
        }
        let pins = pinfile::read(&path).map_err(|e| {
            anyhow!(
                "{}: {e}\n  roll changes only the pins in this file; fix it, then roll again",
                self.project.name
            )
        })?;
        Ok(PinFileEdit {
            path,
            pins,
            changed: false,
            last_action: 0,
        })
    }

    /// Reads a requirements file the first time an action names it; marks
    /// action `i` as the last to edit it. Returns its index in `files`.
    fn load_requirements(&self, files: &mut Vec<FileEdit>, file: &Path, i: usize) -> Result<usize> {
        let shown: PathBuf = file.components().filter(|c| *c != Component::CurDir).collect();
        let path = self.dir.join(&shown);
        if let Some(index) = files.iter().position(|f| f.path == path) {
            files[index].last_action = i;
            return Ok(index);
        }
        // The file comes from the project's repository: it must stay inside
        // the project even through symlinks, or a roll could be made to
        // rewrite any file the user can write.
        if let (Ok(real), Ok(project)) = (path.canonicalize(), self.dir.canonicalize()) {
            if !real.starts_with(&project) {
                bail!(
                    "{} leads to {}, outside the project {}; refusing to read or write it (make it a plain file inside the project)",
                    path.display(),
                    real.display(),
                    project.display()
                );
            }
        }
        let bytes = match atomic::read_regular_file(&path, MAX_REQUIREMENTS_SIZE) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} does not exist; create it (an empty file will do), or remove '{}' from the action's update_requirements in the registry ({})",
                path.display(),
                file.display(),
                self.project.layer
            ),
            Err(e) => return Err(e).with_context(|| format!("could not read {}", path.display())),
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow!(
                "{} is not UTF-8 text; a requirements file must be",
                path.display()
            )
        })?;
        files.push(FileEdit {
            path,
            shown,
            original: text.clone(),
            text,
            last_action: i,
        });
        Ok(files.len() - 1)
    }

    /// Asks the network action `i`'s question.
    fn ask(&self, action: &RollAction, i: usize, query: &Query, pip: &Pip) -> Result<Answer> {
        match query {
            Query::Head(dep) => {
                let head = self
                    .ctx
                    .git
                    .ls_remote_head(self.dir, &dep.ro_url, &dep.tracking_branch);
                // The network or the server said no: told by cause and host
                // in the summary, as a clone's failure is.
                let head = head.map_err(|error| {
                    crate::exec::fetch_failure::classified(
                        anyhow::Error::new(error),
                        dep.name.as_str(),
                        dep.ro_url.as_str(),
                        crate::exec::fetch_failure::UrlSource::Registry,
                    )
                });
                head.map(Answer::Head).with_context(|| {
                    format!(
                        "{}: could not read the head of {}'s branch '{}' from {}; check that the branch exists there (tracking_branch of [repos.{}], {}) and that the URL is reachable",
                        self.label(i, action),
                        dep.name,
                        dep.tracking_branch,
                        dep.ro_url,
                        dep.name,
                        dep.layer
                    )
                })
            }
            Query::Newest { name, cmd, .. } => {
                pip.newest_version(cmd).map(Answer::Newest).with_context(|| {
                    format!(
                        "{}: could not find the newest version of {name}",
                        self.label(i, action)
                    )
                })
            }
        }
    }

    /// A git_head action: `head` becomes `project`'s pin.
    fn roll_pin(&self, pin_file: &mut PinFileEdit, project: &Project, head: CommitId) -> ActionReport {
        let dep = &project.name;
        let whence = format!("head of {} on {}", project.tracking_branch, project.ro_url);
        let old = pin_file.pins.pin(dep).cloned();
        let changed = old.as_ref() != Some(&head);
        let line = match &old {
            Some(old) if changed => format!("{dep}: {} -> {} ({whence})", old.short(), head.short()),
            _ => format!("{dep}: {} ({whence})", head.short()),
        };
        let record = serde_json::json!({
            "action": "git_head",
            "dep": dep.to_string(),
            "from": old.as_ref().map(|c| c.to_string()),
            "to": head.to_string(),
            "branch": project.tracking_branch.to_string(),
            "url": project.ro_url.to_string(),
            "changed": changed,
        });
        let rolled = match old {
            Some(from) if changed => Some(Rolled::Pin {
                dep: dep.clone(),
                from,
                to: head.clone(),
            }),
            _ => None,
        };
        if changed {
            pin_file.pins.set_pin(dep.clone(), head);
            pin_file.changed = true;
        }
        ActionReport {
            lines: vec![line],
            changed,
            git_head: true,
            record,
            rolled,
            ..ActionReport::default()
        }
    }

    /// A py_package action: `version` becomes `name`'s pin in each of the
    /// files at `which` (indices into `files`).
    fn roll_package(
        &self,
        files: &mut [FileEdit],
        name: &str,
        which: &[usize],
        version: &str,
    ) -> Result<ActionReport> {
        let mut report = ActionReport::default();
        let mut changes = Vec::new();
        let mut rolled_files = Vec::new();
        if which.is_empty() {
            report.lines.push(format!(
                "{name}: newest version {version}; the action lists no update_requirements files"
            ));
        }
        for &index in which {
            let edit_of = &mut files[index];
            let shown = edit_of.shown.clone();
            let edit = requirements::update_requirements(&edit_of.text, name, version)
                .map_err(|e| anyhow!("{}:{}: {}", edit_of.path.display(), e.line, e.message))?;
            let many = edit.changes.len() > 1;
            for change in &edit.changes {
                let at = if many {
                    format!(" (line {})", change.line)
                } else {
                    String::new()
                };
                let shown = shown.display();
                changes.push(serde_json::json!({
                    "file": shown.to_string(),
                    "line": change.line,
                    "from": change.before.as_ref().map(|_| change.before_text()),
                    "changed": change.changed,
                    "hashes_removed": change.hashes_removed,
                }));
                report.lines.push(match (&change.before, change.changed) {
                    (None, _) => format!("{name}: {version} appended to {shown}"),
                    (Some(_), false) => format!("{name}: already {version} in {shown}{at}"),
                    (Some(_), true) => {
                        format!("{name}: {} -> {version} in {shown}{at}", change.before_text())
                    }
                });
                if change.hashes_removed > 0 {
                    report.warnings.push(format!(
                        "{shown}:{}: dropped {} --hash option{} of {name} {}, which cannot match {version}; regenerate the hashes (e.g. `pip-compile --generate-hashes`)",
                        change.line,
                        change.hashes_removed,
                        if change.hashes_removed == 1 { "" } else { "s" },
                        change.before_text()
                    ));
                }
                if change.changed {
                    let before = change.before.as_ref().map(|_| change.before_text().to_string());
                    rolled_files.push((shown.to_string(), before));
                }
                report.changed |= change.changed;
            }
            edit_of.text = edit.text;
        }
        report.record = serde_json::json!({
            "action": "py_package",
            "package": name,
            "version": version,
            "changes": changes,
            "changed": report.changed,
        });
        if !rolled_files.is_empty() {
            report.rolled = Some(Rolled::Package(PackageRoll {
                name: name.to_string(),
                to: version.to_string(),
                files: rolled_files,
            }));
        }
        Ok(report)
    }
}
