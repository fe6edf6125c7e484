//! Cleaning up after a run that did not finish, as soon as the next run
//! holds the workspace lock: what it leaves must never make later runs
//! fail or stop short. Each repair is said on one line.
//!
//! - Temporary clone folders (`.openxla-partial-*`) are removed: only the
//!   tool makes them, and no other run of it is under way.
//! - git lock files a killed run's git processes left behind (`index.lock`,
//!   `HEAD.lock`, `config.lock`, `shallow.lock`, ref locks, …) are removed
//!   when their owner is provably gone. The rule, all of it must hold:
//!   1. this run found the previous holder's information left in the
//!      workspace lock file: that run ended without releasing it (killed,
//!      crashed, the machine went down) or left a checkout unfinished, and
//!      either way no run of the tool is active;
//!   2. that run wrote when it started, and ran on this machine;
//!   3. none of the git processes it recorded starting is still running
//!      (after `kill -9` of the tool alone, its git processes go on and
//!      finish; their locks are live until they do): while one is, the run
//!      stops at once, changing nothing and leaving the lock file's text
//!      for the next run;
//!   4. the file ends in `.lock`, in the git directory of a project of the
//!      registry in this workspace or of one of its submodules
//!      (`.git/modules/…`), outside `objects/` (but `objects/info/`), and
//!      that repository has no `gc.pid` of a running `git gc`;
//!   5. it was last changed at or after the second the previous run
//!      started, and before this run started: a lock from before that run
//!      is none of its doing (a git the user left, not ours to judge), one
//!      made after this run started belongs to a live git.
//!
//! - Checkouts that run started and did not see end, which may have been
//!   cut short half way through writing the files, are put right by the
//!   rule of `crate::exec::cut_checkout`.
//!
//! The rest is repaired where the run meets it: a dep or submodule whose
//! files were never written (no index) has them written at its commit, a
//! half-made submodule clone is made again (`crate::exec::submodules`), a pin
//! checked out but not recorded is recorded (`commands/sync.rs`).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::exec::cut_checkout::Repair;
use crate::exec::journal::{CheckoutIntent, PreviousRun, WorkspaceLock};
use crate::exec::run_window::Window;
use crate::git::Git;
use crate::model::registry::Registry;
use crate::model::text::escape_control;
use crate::model::types::RepoName;
use crate::model::workspace::{Workspace, PARTIAL_PREFIX};
use crate::ui::report::Reporter;

/// Cleans up after the previous run, if it did not finish; see the module
/// documentation for what and when. Fails, having changed nothing, while a
/// git process that run started is still running (the tool alone was
/// killed, and its git processes go on): the caller then gives the lock
/// back with the previous run's information, for the next run.
pub fn after_previous_run(
    workspace: &Workspace,
    registry: &Registry,
    git: &Git,
    lock: &WorkspaceLock,
    reporter: &Reporter,
) -> anyhow::Result<()> {
    let previous = lock.previous_run();
    if let Some(run) = previous {
        if let Some(pid) = live_children(run).first() {
            anyhow::bail!(
                "the previous run ({}) was stopped, but git process {pid} it started is still running; run \
                 again once it has finished (nothing was changed)",
                run.describe()
            );
        }
        reporter.note(&format!(
            "the previous run ({}) did not finish; this run picks up where it stopped",
            run.describe()
        ));
    }
    remove_partials(workspace, reporter);
    if let Some(run) = previous {
        remove_temporary_files(workspace, registry, run, reporter);
        remove_stale_git_locks(workspace, registry, run, lock.started(), reporter);
    }
    settle_cut_checkouts(workspace, registry, git, lock, reporter);
    Ok(())
}

/// Puts right each checkout the previous run left unfinished (see
/// `crate::exec::cut_checkout`), saying so on one line, and records it settled.
/// One that cannot be looked at stays on record for the next run.
fn settle_cut_checkouts(
    workspace: &Workspace,
    registry: &Registry,
    git: &Git,
    lock: &WorkspaceLock,
    reporter: &Reporter,
) {
    // When the interrupted run ran: only its own records are acted on, and
    // only on what it wrote (see `crate::exec::cut_checkout`).
    let window = lock
        .previous_run()
        .and_then(|run| Some(Window::new(run.started?, run.last_alive?, lock.started())));
    for (id, intent) in lock.unfinished_checkouts() {
        let Some(who) = repository_name(registry, intent) else {
            // Not a project of this registry (any more): not ours to touch.
            lock.checkout_settled(*id);
            continue;
        };
        let dir = workspace.root().join(&intent.repo);
        if !within(workspace.root(), &dir) {
            lock.checkout_settled(*id);
            continue;
        }
        let Some(window) = window.filter(|w| intent.at.is_some_and(|at| w.holds(at))) else {
            reporter.warn(&format!(
                "{who}: dropped a record of a checkout of {} that is not the interrupted run's own (an older \
                 run left it, or it was written by hand); nothing was changed for it",
                intent.to.short()
            ));
            lock.checkout_settled(*id);
            continue;
        };
        if let Some((operation, _)) = crate::git::git_dir_of(&dir)
            .map(|d| crate::git::operations_in(&d))
            .and_then(|found| found.first().copied())
        {
            reporter.warn(&format!(
                "{who}: {} is under way there since the interrupted run; its checkout of {} is left as it is",
                operation.name(),
                intent.to.short()
            ));
            lock.checkout_settled(*id);
            continue;
        }
        match crate::exec::cut_checkout::repair(git, &dir, intent, &window) {
            Ok(repair) => {
                report(reporter, &who, intent, &repair);
                lock.checkout_settled(*id);
            }
            Err(e) => {
                // Not looked at again: the next run would not know this
                // record's run (see above).
                reporter.warn(&format!(
                    "{who}: could not look at the checkout of {} an interrupted run may have cut short, so it is \
                     left as it is; check it with `git status`: {e}",
                    intent.to.short()
                ));
                lock.checkout_settled(*id);
            }
        }
    }
}

fn report(reporter: &Reporter, who: &str, intent: &CheckoutIntent, repair: &Repair) {
    let to = intent.to.short();
    let from = intent.from.as_ref().map_or("", |c| c.short());
    match repair {
        Repair::Nothing => {}
        Repair::HeadMoved { from } => reporter.note(&format!(
            "{who}: finished the checkout of {to} an interrupted run cut short after it had written the files: \
             HEAD moved there from {}",
            from.short()
        )),
        Repair::PutBack { put_back, kept } => {
            if *put_back > 0 {
                reporter.note(&format!(
                    "{who}: undid the checkout of {to} an interrupted run cut short half way: {put_back} file{} \
                     put back at {from}, where HEAD and the index are",
                    if *put_back == 1 { "" } else { "s" }
                ));
            }
            if !kept.is_empty() {
                const SHOWN: usize = 10;
                let mut list: Vec<String> = kept
                    .iter()
                    .take(SHOWN)
                    .map(|p| escape_control(&String::from_utf8_lossy(p), false).into_owned())
                    .collect();
                if kept.len() > SHOWN {
                    list.push(format!("and {} more", kept.len() - SHOWN));
                }
                reporter.warn(&format!(
                    "{who}: kept {} file{} that the checkout of {to} an interrupted run cut short would change, \
                     and that differ{} from both {from} and {to} (changed since, or being written when the run \
                     was stopped): {}",
                    kept.len(),
                    if kept.len() == 1 { "" } else { "s" },
                    if kept.len() == 1 { "s" } else { "" },
                    list.join(", ")
                ));
            }
        }
    }
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

/// Whether `path` is `root/...` with no symbolic link on the way.
fn within(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize(), path.strip_prefix(root)) {
        (Ok(root), Ok(real), Ok(rel)) => real == root.join(rel),
        _ => false,
    }
}

/// The recorded git processes of `run` that still exist. A run from
/// another machine is not looked at here: its processes cannot be seen,
/// and its locks are not removed.
fn live_children(run: &PreviousRun) -> Vec<u32> {
    if !run.ran_here() {
        return Vec::new();
    }
    run.children
        .iter()
        .copied()
        .filter(|&pid| process_exists(pid))
        .collect()
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

fn remove_partials(workspace: &Workspace, reporter: &Reporter) {
    let Ok(entries) = std::fs::read_dir(workspace.root()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(PARTIAL_PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir())
            && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            reporter.note(&format!(
                "removed {name}, an unfinished clone an interrupted run left behind"
            ));
        }
    }
}

/// Removes the temporary files that run's atomic writes left at the top
/// of a project (`.sync_deps.py.PID-N.tmp`, see `crate::model::atomic`): it was
/// killed between writing one and renaming it over its file. Only that
/// run's, by its pid, on this machine; never through a symbolic link.
fn remove_temporary_files(
    workspace: &Workspace,
    registry: &Registry,
    run: &PreviousRun,
    reporter: &Reporter,
) {
    let Some(pid) = run.pid.filter(|_| run.ran_here()) else {
        return;
    };
    for project in registry.projects() {
        let dir = workspace.project_dir(&project.name);
        if !within(workspace.root(), &dir) {
            continue;
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_temporary_of(&name, pid)
                && entry.file_type().is_ok_and(|t| t.is_file())
                && std::fs::remove_file(entry.path()).is_ok()
            {
                reporter.note(&format!(
                    "{}: removed {}, a temporary file {} left half written",
                    project.name,
                    escape_control(&name, false),
                    run.describe()
                ));
            }
        }
    }
}

/// Whether `name` is `.FILE.PID-N.tmp` for this `pid`.
fn is_temporary_of(name: &str, pid: u32) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    match rest.rsplit_once('.') {
        Some((file, id)) => {
            let (p, n) = id.split_once('-').unwrap_or(("", ""));
            !file.is_empty() && p == pid.to_string() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn remove_stale_git_locks(
    workspace: &Workspace,
    registry: &Registry,
    run: &PreviousRun,
    now: SystemTime,
    reporter: &Reporter,
) {
    let (Some(since), Some(last_alive)) = (run.started.filter(|_| run.ran_here()), run.last_alive) else {
        reporter.warn(&format!(
            "git lock files that run may have left are left alone: it did not say when it started, or ran on \
             another machine ({})",
            run.describe()
        ));
        return;
    };
    for project in registry.projects() {
        let dir = workspace.project_dir(&project.name);
        let Some(git_dir) = own_git_dir(workspace, &project.name, reporter) else {
            continue;
        };
        // Only where that run's git processes worked, from when the first
        // of them started there until that run stopped (see
        // `crate::exec::run_window`): a lock from before, or taken after by the
        // user's own git, is not its.
        let Some(first) = run
            .worked_in
            .iter()
            .filter(|(rel, _)| {
                rel.components().next().map(|c| c.as_os_str()) == Some(project.name.as_str().as_ref())
            })
            .map(|(_, at)| *at)
            .min()
        else {
            continue;
        };
        if let Some(pid) = crate::exec::run_window::git_running_in(&dir) {
            reporter.warn(&format!(
                "{}: git process {pid} is running there; the git lock files there are left alone",
                project.name
            ));
            continue;
        }
        let window = crate::exec::run_window::Window::new(first.max(since), last_alive, now);
        let mut found = Vec::new();
        stale_locks(&git_dir, window.from, window.until, &mut found);
        for lock in found {
            if let Some(pid) = crate::exec::run_window::held_open(&lock) {
                reporter.warn(&format!(
                    "{}: {} is held open by process {pid}; left alone",
                    project.name,
                    lock.display()
                ));
                continue;
            }
            if std::fs::remove_file(&lock).is_ok() {
                let shown = lock.strip_prefix(&dir).unwrap_or(&lock);
                reporter.warn(&format!(
                    "{}: removed {}, a git lock file left by {}, which did not finish",
                    project.name,
                    shown.display(),
                    run.describe()
                ));
            }
        }
    }
}

/// The git directory of project `name`'s checkout, when it is a folder of
/// the workspace itself: a project folder or `.git` reached through a
/// symbolic link (which may lead outside the workspace) is never acted
/// through; that is said, and it is skipped.
fn own_git_dir(workspace: &Workspace, name: &RepoName, reporter: &Reporter) -> Option<PathBuf> {
    let dir = workspace.project_dir(name);
    std::fs::symlink_metadata(&dir).ok()?;
    let git_dir = dir.join(".git");
    let linked = if !within(workspace.root(), &dir) {
        Some(&dir)
    } else if std::fs::symlink_metadata(&git_dir).is_ok_and(|m| m.file_type().is_symlink()) {
        Some(&git_dir)
    } else {
        None
    };
    if let Some(link) = linked {
        reporter.warn(&format!(
            "{name}: {} is a symbolic link (to {}); nothing is cleaned up through it after the interrupted run",
            link.display(),
            link.canonicalize().unwrap_or_else(|_| link.clone()).display()
        ));
        return None;
    }
    std::fs::symlink_metadata(&git_dir)
        .is_ok_and(|m| m.is_dir())
        .then_some(git_dir)
}

/// Collects under the git directory `git_dir` (and the submodule
/// repositories in its `modules/`) the lock files that rule 4 and 5 of the
/// module documentation allow removing.
fn stale_locks(git_dir: &Path, since: SystemTime, now: SystemTime, found: &mut Vec<PathBuf>) {
    if gc_running(git_dir) {
        return;
    }
    walk(git_dir, git_dir, since, now, found);
}

fn walk(git_dir: &Path, dir: &Path, since: SystemTime, now: SystemTime, found: &mut Vec<PathBuf>) {
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
                walk(git_dir, &path.join("info"), since, now, found);
            } else if dir == git_dir && name == "modules" {
                for module in module_dirs(&path) {
                    stale_locks(&module, since, now, found);
                }
            } else {
                walk(git_dir, &path, since, now, found);
            }
        } else if kind.is_file() && name.ends_with(".lock") {
            let modified = entry.metadata().and_then(|m| m.modified());
            if modified.is_ok_and(|t| t >= since && t <= now) {
                found.push(path);
            }
        }
    }
}

/// The submodule repositories under `modules` (folders holding `HEAD`).
fn module_dirs(modules: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![modules.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let path = entry.path();
                if path.join("HEAD").is_file() {
                    found.push(path);
                } else {
                    pending.push(path);
                }
            }
        }
    }
    found
}

/// Whether `git_dir/gc.pid` names a process of this machine that is
/// running: a `git gc` (perhaps started in the background by a fetch) that
/// holds locks of its own.
fn gc_running(git_dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(git_dir.join("gc.pid")) else {
        return false;
    };
    let mut fields = text.split_whitespace();
    let pid = fields.next().and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) => process_exists(pid),
        None => true, // unreadable: assume it runs
    }
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
    fn only_lock_files_of_the_window_outside_objects_are_stale() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let now = start + Duration::from_secs(60);
        let during = start + Duration::from_secs(5);
        for path in [
            "index.lock",
            "HEAD.lock",
            "config.lock",
            "shallow.lock",
            "refs/heads/feature.lock",
            "objects/info/commit-graphs/commit-graph-chain.lock",
            "modules/third_party/x/index.lock",
            "modules/third_party/x/shallow.lock",
        ] {
            touch(&git.join(path), during);
        }
        std::fs::write(git.join("modules/third_party/x/HEAD"), "x").unwrap();
        touch(&git.join("packed-refs.lock"), start - Duration::from_secs(1)); // before that run
        touch(&git.join("ORIG_HEAD.lock"), now + Duration::from_secs(1)); // a live git's
        touch(&git.join("objects/pack/tmp.lock"), during); // not looked at
        touch(&git.join("index"), during); // not a lock
        let mut found = Vec::new();
        stale_locks(&git, start, now, &mut found);
        let mut found: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(&git).unwrap().display().to_string())
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                "HEAD.lock",
                "config.lock",
                "index.lock",
                "modules/third_party/x/index.lock",
                "modules/third_party/x/shallow.lock",
                "objects/info/commit-graphs/commit-graph-chain.lock",
                "refs/heads/feature.lock",
                "shallow.lock",
            ]
        );
    }

    #[test]
    fn only_that_runs_temporary_files_are_its() {
        assert!(is_temporary_of(".sync_deps.py.123-1.tmp", 123));
        assert!(is_temporary_of(".requirements.txt.123-17.tmp", 123));
        assert!(!is_temporary_of(".sync_deps.py.1234-1.tmp", 123));
        assert!(!is_temporary_of(".sync_deps.py.123-.tmp", 123));
        assert!(!is_temporary_of("sync_deps.py.123-1.tmp", 123));
        assert!(!is_temporary_of(".123-1.tmp", 123));
    }

    #[test]
    fn a_repository_with_a_running_gc_keeps_its_locks() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        touch(&git.join("packed-refs.lock"), start + Duration::from_secs(1));
        std::fs::write(git.join("gc.pid"), format!("{} somehost", std::process::id())).unwrap();
        let mut found = Vec::new();
        stale_locks(&git, start, start + Duration::from_secs(9), &mut found);
        assert!(found.is_empty(), "{found:?}");
    }
}
