//! Cleaning up after a run that did not finish, in three parts like every
//! other job of the tool: [`look`] gathers what that run left (read only:
//! the workspace lock file's record, folders, lock files and their times,
//! processes); `crate::plan::recover` decides, by the rule written there,
//! what is that run's to put right, as [`RecoveryStep`]s, whose `Display`
//! is what `--dry-run` prints; [`run`] carries them out, each said on one
//! line, once the next run holds the workspace lock.
//!
//! The rest is repaired where the run meets it: a dep or submodule whose
//! files were never written (no index) has them written at its commit, a
//! half-made submodule clone is made again (`crate::exec::submodules`), a pin
//! checked out but not recorded is recorded (`commands/sync.rs`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::exec::cut_checkout::Repair;
use crate::exec::inside;
use crate::exec::journal::{CheckoutIntent, PreviousRun, WorkspaceLock};
use crate::exec::run_window::Window;
use crate::git::Git;
use crate::model::registry::Registry;
use crate::model::text::escape_control;
use crate::model::types::{CommitId, RepoName};
use crate::model::workspace::{Workspace, PARTIAL_PREFIX};
use crate::ui::report::Reporter;

/// What a run that did not finish left, as found on disk and in `/proc`:
/// the facts `crate::plan::recover` decides on.
#[derive(Debug, Default)]
pub struct Leftovers {
    /// That run's record, when the lock file held one.
    pub run: Option<PreviousRun>,
    /// A git process that run started that is still running.
    pub live_child: Option<u32>,
    /// Temporary clone folders at the top of the workspace (their names).
    pub partials: Vec<String>,
    /// Each project of the registry with a folder in the workspace.
    pub projects: Vec<ProjectLeft>,
    /// The checkouts on record that no run saw end.
    pub checkouts: Vec<CheckoutLeft>,
}

/// One project's folder, as [`look`] found it.
#[derive(Debug, Default)]
pub struct ProjectLeft {
    pub name: Option<RepoName>,
    /// The folder, or its `.git`, is a symbolic link: `(link, where it
    /// leads)`. Nothing is looked at (or done) through it.
    pub linked: Option<(PathBuf, PathBuf)>,
    /// The files at the top of the folder (for temporary files).
    pub files: Vec<String>,
    /// A git process running in the folder now.
    pub git_running: Option<u32>,
    /// A `git gc` runs in its repository (it holds locks of its own).
    pub gc_running: bool,
    /// The lock files in its git directory (see [`lock_files`]).
    pub locks: Vec<LockFile>,
}

/// A git lock file, when it was last changed, and a process that holds it
/// open now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockFile {
    pub path: PathBuf,
    pub changed: SystemTime,
    pub held_by: Option<u32>,
}

/// A checkout on record that no run saw end, as found.
#[derive(Debug)]
pub struct CheckoutLeft {
    /// Its id in the journal.
    pub id: u64,
    pub intent: CheckoutIntent,
    /// `liba`, or `liba: submodule x`, when its repository is in a project
    /// of the registry.
    pub who: Option<String>,
    /// Its folder, when it is inside the workspace (no link on the way).
    pub dir: Option<PathBuf>,
    /// A git operation under way there (`a rebase`, …).
    pub operation: Option<&'static str>,
    /// Whether HEAD is still where the checkout started (for a repository
    /// git was making, anywhere but at the checkout's commit): otherwise the
    /// checkout finished, or the user moved on, and there is nothing to
    /// put right. `true` when HEAD cannot be read (the repair then says
    /// why).
    pub head_where_it_started: bool,
}

/// Gathers what the run `previous` left (see [`Leftovers`]), with
/// `unfinished` the checkouts on record no run saw end. Changes nothing.
pub fn look(
    workspace: &Workspace,
    registry: &Registry,
    git: &Git,
    previous: Option<&PreviousRun>,
    unfinished: &[(u64, CheckoutIntent)],
) -> Leftovers {
    let projects = match previous {
        Some(_) => registry
            .projects()
            .filter_map(|project| look_at_project(workspace, &project.name))
            .collect(),
        None => Vec::new(),
    };
    Leftovers {
        run: previous.cloned(),
        live_child: previous.and_then(live_child),
        partials: partials(workspace),
        projects,
        checkouts: unfinished
            .iter()
            .map(|(id, intent)| look_at_checkout(workspace, registry, git, *id, intent))
            .collect(),
    }
}

fn look_at_project(workspace: &Workspace, name: &RepoName) -> Option<ProjectLeft> {
    let dir = workspace.project_dir(name);
    std::fs::symlink_metadata(&dir).ok()?;
    let git_dir = dir.join(".git");
    let link = if !inside(workspace.root(), &dir) {
        Some(&dir)
    } else if std::fs::symlink_metadata(&git_dir).is_ok_and(|m| m.file_type().is_symlink()) {
        Some(&git_dir)
    } else {
        None
    };
    let mut left = ProjectLeft {
        name: Some(name.clone()),
        ..ProjectLeft::default()
    };
    if let Some(link) = link {
        left.linked = Some((link.clone(), link.canonicalize().unwrap_or_else(|_| link.clone())));
        return Some(left);
    }
    left.files = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if std::fs::symlink_metadata(&git_dir).is_ok_and(|m| m.is_dir()) {
        left.git_running = crate::exec::run_window::git_running_in(&dir);
        left.gc_running = gc_running(&git_dir);
        left.locks = lock_files(&git_dir);
    }
    Some(left)
}

fn look_at_checkout(
    workspace: &Workspace,
    registry: &Registry,
    git: &Git,
    id: u64,
    intent: &CheckoutIntent,
) -> CheckoutLeft {
    let dir = workspace.root().join(&intent.repo);
    let dir = inside(workspace.root(), &dir).then_some(dir);
    let git_dir = dir.as_deref().and_then(crate::git::git_dir_of);
    let operation = git_dir
        .as_deref()
        .and_then(|d| crate::git::operations_in(d).first().map(|(op, _)| op.name()));
    let head_where_it_started = match (&dir, &git_dir) {
        (Some(dir), Some(_)) => match git.head_commit(dir) {
            Ok(Some(head)) => still_where_it_started(&head, intent),
            Ok(None) => false,
            Err(_) => true,
        },
        _ => false,
    };
    CheckoutLeft {
        id,
        intent: intent.clone(),
        who: repository_name(registry, intent),
        dir,
        operation,
        head_where_it_started,
    }
}

/// Whether HEAD at `head` is where the checkout `intent` started: at its
/// `from`, or, for a repository git was making, anywhere but at `to`.
fn still_where_it_started(head: &CommitId, intent: &CheckoutIntent) -> bool {
    *head != intent.to && intent.from.as_ref().is_none_or(|from| from == head)
}

/// One thing to put right after a run that did not finish.
#[derive(Debug, Clone)]
pub enum RecoveryStep {
    /// Say that the run `0` (described) did not finish.
    Stopped(String),
    /// Say why something is left alone.
    LeftAlone(String),
    /// Remove the temporary clone folder of this name at the top of the
    /// workspace.
    RemovePartial(String),
    /// Remove the temporary file `name` an atomic write of the run `run`
    /// (described) left at the top of `project` (`.sync_deps.py.PID-N.tmp`,
    /// see `crate::model::atomic`).
    RemoveTemporary {
        project: RepoName,
        name: String,
        run: String,
    },
    /// Remove the git lock file `path` of `project` that the run `run`
    /// (described) left.
    RemoveLock {
        project: RepoName,
        path: PathBuf,
        run: String,
    },
    /// Drop the record `id` of a checkout, saying `say` when there is
    /// something to say.
    DropRecord { id: u64, say: Option<String> },
    /// Put right the checkout `intent` (record `id`) of `who` (`liba`, or
    /// `liba: submodule x`) in the working tree `dir`, which that run may
    /// have cut short in its `window` (see `crate::exec::cut_checkout`).
    Settle {
        id: u64,
        who: String,
        dir: PathBuf,
        intent: CheckoutIntent,
        window: Window,
    },
}

impl fmt::Display for RecoveryStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryStep::Stopped(run) => write!(
                f,
                "the previous run ({run}) did not finish; first, what it left is put right:"
            ),
            RecoveryStep::LeftAlone(text) => write!(f, "  {text}"),
            RecoveryStep::RemovePartial(name) => write!(
                f,
                "  remove {name}  (an unfinished clone an interrupted run left behind)"
            ),
            RecoveryStep::RemoveTemporary { project, name, run } => write!(
                f,
                "  {project}: remove {}  (a temporary file {run} left half written)",
                escape_control(name, false)
            ),
            RecoveryStep::RemoveLock { project, path, run } => write!(
                f,
                "  {project}: remove {}  (a git lock file left by {run}, unless a process holds it open by then)",
                path.display()
            ),
            RecoveryStep::DropRecord { say, .. } => match say {
                Some(say) => write!(f, "  {say}"),
                None => Ok(()),
            },
            RecoveryStep::Settle { who, dir, intent, .. } => {
                let to = &intent.to;
                // HEAD is where the record says it was, or, for a
                // repository git was making, wherever git left it.
                let head = match &intent.from {
                    Some(from) => Git::finish_head_move_cmd(dir, from, to).to_string(),
                    None => {
                        let line = Git::finish_head_move_cmd(dir, to, to).to_string();
                        format!("{} <HEAD>", line.strip_suffix(&format!(" {}", to.as_str())).unwrap_or(&line))
                    }
                };
                write!(
                    f,
                    "  {who}: put right the checkout of {} the interrupted run may have cut short, if HEAD is still \
                     where it started:\n  {who}: if the index holds {}'s tree, written by that run: {head}",
                    to.short(),
                    to.short(),
                )?;
                if intent.from.is_some() {
                    write!(
                        f,
                        "\n  {who}: if files that checkout wrote hold nothing of anyone's: {}  (each such file, \
                         named on its input)",
                        Git::restore_from_index_cmd(dir),
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// The projects in which a dry run's recovery may finish a cut checkout
/// (see [`note_repairs_pending`]).
static REPAIRS_PENDING: std::sync::OnceLock<Vec<RepoName>> = std::sync::OnceLock::new();

/// For a dry run: notes the projects whose checkout `steps` may put right.
/// A dry run plans on the state before recovery, so what it prints for
/// them holds unless that repair finished the checkout (see
/// [`repair_pending`]).
pub fn note_repairs_pending(steps: &[RecoveryStep]) {
    let projects = steps
        .iter()
        .filter_map(|step| match step {
            RecoveryStep::Settle { intent, .. } => intent.repo.components().next(),
            _ => None,
        })
        .filter_map(|c| RepoName::new(c.as_os_str().to_str()?).ok())
        .collect();
    let _ = REPAIRS_PENDING.set(projects);
}

/// Whether a dry run's recovery may finish a cut checkout in `project`.
pub fn repair_pending(project: &RepoName) -> bool {
    REPAIRS_PENDING.get().is_some_and(|p| p.contains(project))
}

/// The lines a dry run prints for `steps` (none when there is nothing to
/// put right).
pub fn lines(steps: &[RecoveryStep]) -> Vec<String> {
    let mut lines: Vec<String> = steps
        .iter()
        .map(ToString::to_string)
        .filter(|line| !line.is_empty())
        .flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    // Without the record of the run (a folder left by a run that released
    // the lock, say), the steps still get their heading.
    if !lines.is_empty() && !matches!(steps.first(), Some(RecoveryStep::Stopped(_))) {
        lines.insert(0, "first, what an interrupted run left is put right:".to_string());
    }
    lines
}

/// Carries out `steps`, saying each on one line; the records of the
/// checkouts dealt with are settled in `lock`'s journal.
pub fn run(
    steps: &[RecoveryStep],
    git: &Git,
    lock: &WorkspaceLock,
    workspace: &Workspace,
    reporter: &Reporter,
) {
    for step in steps {
        match step {
            RecoveryStep::Stopped(run) => reporter.note(&format!(
                "the previous run ({run}) did not finish; this run picks up where it stopped"
            )),
            RecoveryStep::LeftAlone(text) => reporter.warn(text),
            RecoveryStep::RemovePartial(name) => {
                let path = workspace.root().join(name);
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
                    && std::fs::remove_dir_all(&path).is_ok()
                {
                    reporter.note(&format!(
                        "removed {name}, an unfinished clone an interrupted run left behind"
                    ));
                }
            }
            RecoveryStep::RemoveTemporary { project, name, run } => {
                let path = workspace.project_dir(project).join(name);
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                    && std::fs::remove_file(&path).is_ok()
                {
                    reporter.note(&format!(
                        "{project}: removed {}, a temporary file {run} left half written",
                        escape_control(name, false),
                    ));
                }
            }
            RecoveryStep::RemoveLock { project, path, run } => {
                remove_lock(workspace, project, path, run, reporter)
            }
            RecoveryStep::DropRecord { id, say } => {
                if let Some(say) = say {
                    reporter.warn(say);
                }
                lock.checkout_settled(*id);
            }
            RecoveryStep::Settle {
                id,
                who,
                dir,
                intent,
                window,
            } => {
                settle(git, who, dir, intent, window, reporter);
                lock.checkout_settled(*id);
            }
        }
    }
}

/// Removes the lock file `path` of `project` unless a process holds it
/// open now (checked again: time has passed since [`look`]).
fn remove_lock(workspace: &Workspace, project: &RepoName, path: &Path, run: &str, reporter: &Reporter) {
    let dir = workspace.project_dir(project);
    let full = dir.join(path);
    if let Some(pid) = crate::exec::run_window::held_open(&full) {
        reporter.warn(&format!(
            "{project}: {} is held open by process {pid}; left alone",
            full.display()
        ));
        return;
    }
    if std::fs::remove_file(&full).is_ok() {
        reporter.warn(&format!(
            "{project}: removed {}, a git lock file left by {run}, which did not finish",
            path.display(),
        ));
    }
}

/// Puts right the checkout `intent` (see `crate::exec::cut_checkout`),
/// saying what was done; one that cannot be looked at is said and left.
fn settle(git: &Git, who: &str, dir: &Path, intent: &CheckoutIntent, window: &Window, reporter: &Reporter) {
    match crate::exec::cut_checkout::repair(git, dir, intent, window) {
        Ok(repair) => {
            for (warning, text) in repair_lines(who, intent, &repair) {
                if warning {
                    reporter.warn(&text);
                } else {
                    reporter.note(&text);
                }
            }
        }
        // Not looked at again: the next run would not know this record's
        // run (see `crate::plan::recover`).
        Err(e) => reporter.warn(&format!(
            "{who}: could not look at the checkout of {} an interrupted run may have cut short, so it is left as \
             it is; check it with `git status`: {e}",
            intent.to.short()
        )),
    }
}

/// What is said of `repair`: each line, and whether it is a warning.
fn repair_lines(who: &str, intent: &CheckoutIntent, repair: &Repair) -> Vec<(bool, String)> {
    let to = intent.to.short();
    let from = intent.from.as_ref().map_or("", |c| c.short());
    let mut lines = Vec::new();
    match repair {
        Repair::Nothing => {}
        Repair::HeadMoved { from } => lines.push((
            false,
            format!(
                "{who}: finished the checkout of {to} an interrupted run cut short after it had written the files: \
                 HEAD moved there from {}",
                from.short()
            ),
        )),
        Repair::PutBack { put_back, kept } => {
            if *put_back > 0 {
                lines.push((
                    false,
                    format!(
                        "{who}: undid the checkout of {to} an interrupted run cut short half way: {put_back} file{} \
                         put back at {from}, where HEAD and the index are",
                        if *put_back == 1 { "" } else { "s" }
                    ),
                ));
            }
            if !kept.is_empty() {
                lines.push((
                    true,
                    format!(
                        "{who}: kept {} file{} that the checkout of {to} an interrupted run cut short would change, \
                         and that differ{} from both {from} and {to} (changed since, or being written when the run \
                         was stopped): {}",
                        kept.len(),
                        if kept.len() == 1 { "" } else { "s" },
                        if kept.len() == 1 { "s" } else { "" },
                        first_paths(kept)
                    ),
                ));
            }
        }
    }
    lines
}

/// The first ten of `paths`, escaped, then how many more.
fn first_paths(paths: &[Vec<u8>]) -> String {
    const SHOWN: usize = 10;
    let mut list: Vec<String> = paths
        .iter()
        .take(SHOWN)
        .map(|p| escape_control(&String::from_utf8_lossy(p), false).into_owned())
        .collect();
    if paths.len() > SHOWN {
        list.push(format!("and {} more", paths.len() - SHOWN));
    }
    list.join(", ")
}

/// `liba`, or `liba: submodule third_party/x`, for the repository of
/// `intent`, when its first component is a project of `registry`.
fn repository_name(registry: &Registry, intent: &CheckoutIntent) -> Option<String> {
    let mut parts = intent.repo.components();
    let project = RepoName::new(parts.next()?.as_os_str().to_str()?).ok()?;
    registry.get(&project)?;
    let rest = parts.as_path();
    Some(if rest.as_os_str().is_empty() {
        project.to_string()
    } else {
        format!(
            "{project}: submodule {}",
            escape_control(&rest.to_string_lossy(), false)
        )
    })
}

/// The first recorded git process of `run` that still exists. A run from
/// another machine is not looked at here: its processes cannot be seen,
/// and its locks are not removed.
fn live_child(run: &PreviousRun) -> Option<u32> {
    if !run.ran_here() {
        return None;
    }
    run.children.iter().copied().find(|&pid| process_exists(pid))
}

/// Whether process `pid` exists and has not ended: an ended process that
/// its parent (for an orphan, init, which may take its time) has not yet
/// reaped is gone for our purpose; Linux tells so in `/proc`.
fn process_exists(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        let state = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next());
        return !matches!(state, Some("Z" | "X"));
    }
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else {
            return false;
        };
        // Signal 0 only checks whether the process exists; EPERM: it does,
        // as someone else's.
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e == rustix::io::Errno::PERM,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The temporary clone folders at the top of the workspace.
fn partials(workspace: &Workspace) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(workspace.root())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(PARTIAL_PREFIX))
        .collect();
    found.sort();
    found
}

/// The lock files under the git directory `git_dir` and the submodule
/// repositories in its `modules/` that a git process may leave: any file
/// ending in `.lock`, outside `objects/` (but `objects/info/`), with when
/// each was last changed and who holds it open. Paths are relative to the
/// project's folder (`.git/index.lock`).
fn lock_files(git_dir: &Path) -> Vec<LockFile> {
    let mut found = Vec::new();
    walk(git_dir, git_dir, &mut found);
    let top = git_dir.parent().unwrap_or(git_dir);
    found
        .into_iter()
        .map(|(path, changed)| LockFile {
            held_by: crate::exec::run_window::held_open(&path),
            path: path.strip_prefix(top).map(Path::to_path_buf).unwrap_or(path),
            changed,
        })
        .collect()
}

fn walk(git_dir: &Path, dir: &Path, found: &mut Vec<(PathBuf, SystemTime)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if dir == git_dir && name == "objects" {
                walk(git_dir, &path.join("info"), found);
            } else if dir == git_dir && name == "modules" {
                for module in crate::exec::submodules::module_repos(&path) {
                    if !gc_running(&module) {
                        walk(&module, &module, found);
                    }
                }
            } else {
                walk(git_dir, &path, found);
            }
        } else if kind.is_file() && name.ends_with(".lock") {
            if let Ok(changed) = entry.metadata().and_then(|m| m.modified()) {
                found.push((path, changed));
            }
        }
    }
}

/// Whether `git_dir/gc.pid` names a process of this machine that is
/// running: a `git gc` (perhaps started in the background by a fetch) that
/// holds locks of its own.
fn gc_running(git_dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(git_dir.join("gc.pid")) else {
        return false;
    };
    // Unreadable: assume it runs.
    let pid = text.split_whitespace().next().and_then(|p| p.parse().ok());
    pid.is_none_or(process_exists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn touch(path: &Path, when: SystemTime) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(path).unwrap();
        file.set_modified(when).unwrap();
    }

    #[test]
    fn lock_files_are_found_outside_objects_and_in_submodule_repositories_with_their_times() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        let during = UNIX_EPOCH + Duration::from_secs(1_700_000_005);
        for path in [
            "index.lock",
            "refs/heads/feature.lock",
            "objects/info/commit-graphs/commit-graph-chain.lock",
            "modules/third_party/x/index.lock",
        ] {
            touch(&git.join(path), during);
        }
        std::fs::write(git.join("modules/third_party/x/HEAD"), "x").unwrap();
        touch(&git.join("objects/pack/tmp.lock"), during); // not looked at
        touch(&git.join("index"), during); // not a lock
        let mut found: Vec<(String, SystemTime, Option<u32>)> = lock_files(&git)
            .into_iter()
            .map(|l| (l.path.display().to_string(), l.changed, l.held_by))
            .collect();
        found.sort();
        let at = |p: &str| (p.to_string(), during, None);
        assert_eq!(
            found,
            [
                at(".git/index.lock"),
                at(".git/modules/third_party/x/index.lock"),
                at(".git/objects/info/commit-graphs/commit-graph-chain.lock"),
                at(".git/refs/heads/feature.lock"),
            ]
        );
    }

    #[test]
    fn only_a_head_still_where_the_checkout_started_has_anything_to_put_right() {
        let id = |c: char| CommitId::new(&c.to_string().repeat(40)).unwrap();
        let intent = |from: Option<char>| CheckoutIntent {
            repo: PathBuf::from("liba"),
            from: from.map(id),
            to: id('b'),
            at: None,
        };
        assert!(still_where_it_started(&id('a'), &intent(Some('a'))));
        assert!(
            !still_where_it_started(&id('b'), &intent(Some('a'))),
            "it finished"
        );
        assert!(
            !still_where_it_started(&id('c'), &intent(Some('a'))),
            "the user moved on"
        );
        assert!(
            still_where_it_started(&id('c'), &intent(None)),
            "a repository git was making"
        );
        assert!(!still_where_it_started(&id('b'), &intent(None)));
    }

    #[test]
    fn a_repair_says_what_it_put_back_and_warns_of_what_it_kept() {
        let id = |c: char| CommitId::new(&c.to_string().repeat(40)).unwrap();
        let intent = CheckoutIntent {
            repo: PathBuf::from("liba"),
            from: Some(id('a')),
            to: id('b'),
            at: None,
        };
        let said = |put_back, kept: &[&str]| -> Vec<(bool, String)> {
            let kept = kept.iter().map(|k| k.as_bytes().to_vec()).collect();
            repair_lines("liba", &intent, &Repair::PutBack { put_back, kept })
        };
        assert_eq!(
            said(2, &[]),
            [(
                false,
                "liba: undid the checkout of bbbbbbb an interrupted run cut short half way: 2 files put back at \
                 aaaaaaa, where HEAD and the index are"
                    .to_string()
            )]
        );
        let kept_only = said(0, &["x.txt"]);
        assert_eq!(kept_only.len(), 1, "nothing put back is not said: {kept_only:?}");
        assert!(
            kept_only[0].0 && kept_only[0].1.starts_with("liba: kept 1 file that"),
            "{kept_only:?}"
        );
        assert!(kept_only[0].1.ends_with("was stopped): x.txt"), "{kept_only:?}");
        assert_eq!(repair_lines("liba", &intent, &Repair::Nothing), []);
    }

    #[test]
    fn kept_paths_are_listed_ten_at_most_then_counted() {
        let paths = |n: usize| -> Vec<Vec<u8>> { (0..n).map(|i| format!("f{i}").into_bytes()).collect() };
        assert_eq!(first_paths(&paths(2)), "f0, f1");
        assert_eq!(first_paths(&paths(10)), "f0, f1, f2, f3, f4, f5, f6, f7, f8, f9");
        assert_eq!(
            first_paths(&paths(12)),
            "f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, and 2 more"
        );
        assert_eq!(first_paths(&[b"a\nb".to_vec()]), "a\\x0ab");
    }

    #[test]
    fn a_submodule_repository_with_a_running_gc_keeps_its_locks() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        let module = git.join("modules/x");
        touch(&module.join("packed-refs.lock"), SystemTime::now());
        std::fs::write(module.join("HEAD"), "x").unwrap();
        std::fs::write(module.join("gc.pid"), format!("{} somehost", std::process::id())).unwrap();
        assert_eq!(lock_files(&git), []);
        assert!(gc_running(&module));
    }
}
