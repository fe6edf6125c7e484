//! What the next run puts right after a run that did not finish, decided
//! from what `crate::exec::recover::look` found: what that run leaves must
//! never make later runs fail or stop short, and nothing that is not its
//! own is touched. The steps come before every other step of the run, and
//! `--dry-run` prints them.
//!
//! - When a git process that run started is still running (after `kill -9`
//!   of the tool alone, its git processes go on and finish; their locks are
//!   live until they do), nothing is done: the run stops at once, changing
//!   nothing and leaving the lock file's text for the next run.
//! - Temporary clone folders (`.openxla-partial-*`) are removed: only the
//!   tool makes them, and no other run of it is under way.
//! - Temporary files that run's atomic writes left at the top of a project
//!   (`.sync_deps.py.PID-N.tmp`) are removed: only that run's, by its pid,
//!   when it ran on this machine.
//! - git lock files its git processes left behind (`index.lock`,
//!   `HEAD.lock`, `config.lock`, `shallow.lock`, ref locks, …) are removed
//!   when their owner is provably gone. The rule, all of it must hold:
//!   1. this run found the previous holder's information left in the
//!      workspace lock file: that run ended without releasing it (killed,
//!      crashed, the machine went down) or left a checkout unfinished, and
//!      either way no run of the tool is active;
//!   2. that run wrote when it started, and ran on this machine;
//!   3. the file ends in `.lock`, in the git directory of a project of the
//!      registry in this workspace or of one of its submodules
//!      (`.git/modules/…`), outside `objects/` (but `objects/info/`), and
//!      that repository has no `gc.pid` of a running `git gc`;
//!   4. that run's journal says one of its git processes worked (or was
//!      about to) in that project, and the file was last changed between
//!      the second the first of them started and a little after that run's
//!      last sign of life (see `crate::exec::run_window`): a lock from
//!      before is none of its doing (a git the user left, not ours to
//!      judge), one changed after belongs to the user's own git;
//!   5. no process holds it open, and no git process runs in that project
//!      (checked again just before it is removed);
//!   6. the project's folder and its `.git` are not symbolic links: nothing
//!      is cleaned through one (it may lead outside the workspace); that is
//!      said, and the project skipped.
//! - Checkouts that run started and did not see end, which may have been
//!   cut short half way through writing the files, are put right by the
//!   rule of `crate::exec::cut_checkout`, when the record is that run's own
//!   (written while it ran), its repository is a project (or a submodule of
//!   one) inside the workspace, and no git operation of the user's (a
//!   rebase, a merge, …) is under way there.

use std::time::SystemTime;

use anyhow::{bail, Result};

use crate::exec::journal::PreviousRun;
use crate::exec::recover::{CheckoutLeft, Leftovers, ProjectLeft, RecoveryStep};
use crate::exec::run_window::Window;

/// The steps that put right what `left` says the previous run left, this
/// run having started at `now`; an error, with nothing to do, while a git
/// process of that run is still running.
pub fn recovery(left: &Leftovers, now: SystemTime) -> Result<Vec<RecoveryStep>> {
    let mut steps = Vec::new();
    if let Some(run) = &left.run {
        if let Some(pid) = left.live_child {
            bail!(
                "the previous run ({}) was stopped, but git process {pid} it started is still running; run again \
                 once it has finished (nothing was changed)",
                run.describe()
            );
        }
        steps.push(RecoveryStep::Stopped(run.describe()));
    }
    steps.extend(left.partials.iter().cloned().map(RecoveryStep::RemovePartial));
    if let Some(run) = &left.run {
        temporary_files(run, &left.projects, &mut steps);
        stale_locks(run, &left.projects, now, &mut steps);
    }
    let window = left
        .run
        .as_ref()
        .and_then(|run| Some(Window::new(run.started?, run.last_alive?, now)));
    steps.extend(left.checkouts.iter().map(|checkout| settle(checkout, window)));
    Ok(steps)
}

fn temporary_files(run: &PreviousRun, projects: &[ProjectLeft], steps: &mut Vec<RecoveryStep>) {
    let Some(pid) = run.pid.filter(|_| run.ran_here()) else {
        return;
    };
    for project in projects {
        let (Some(name), None) = (&project.name, &project.linked) else {
            continue;
        };
        for file in project.files.iter().filter(|f| is_temporary_of(f, pid)) {
            steps.push(RecoveryStep::RemoveTemporary {
                project: name.clone(),
                name: file.clone(),
                run: run.describe(),
            });
        }
    }
}

fn stale_locks(run: &PreviousRun, projects: &[ProjectLeft], now: SystemTime, steps: &mut Vec<RecoveryStep>) {
    let (Some(since), Some(last_alive)) = (run.started.filter(|_| run.ran_here()), run.last_alive) else {
        steps.push(RecoveryStep::LeftAlone(format!(
            "git lock files that run may have left are left alone: it did not say when it started, or ran on \
             another machine ({})",
            run.describe()
        )));
        return;
    };
    for project in projects {
        let Some(name) = &project.name else {
            continue;
        };
        if let Some((link, target)) = &project.linked {
            steps.push(RecoveryStep::LeftAlone(format!(
                "{name}: {} is a symbolic link (to {}); nothing is cleaned up through it after the interrupted run",
                link.display(),
                target.display()
            )));
            continue;
        }
        // Only where that run's git processes worked, from when the first
        // of them started there.
        let Some(first) = run
            .worked_in
            .iter()
            .filter(|(rel, _)| rel.components().next().map(|c| c.as_os_str()) == Some(name.as_str().as_ref()))
            .map(|(_, at)| *at)
            .min()
        else {
            continue;
        };
        if let Some(pid) = project.git_running {
            steps.push(RecoveryStep::LeftAlone(format!(
                "{name}: git process {pid} is running there; the git lock files there are left alone"
            )));
            continue;
        }
        if project.gc_running {
            continue;
        }
        let window = Window::new(first.max(since), last_alive, now);
        for lock in project.locks.iter().filter(|l| window.holds(l.changed)) {
            steps.push(match lock.held_by {
                Some(pid) => RecoveryStep::LeftAlone(format!(
                    "{name}: {} is held open by process {pid}; left alone",
                    lock.path.display()
                )),
                None => RecoveryStep::RemoveLock {
                    project: name.clone(),
                    path: lock.path.clone(),
                    run: run.describe(),
                },
            });
        }
    }
}

/// What becomes of the record of a checkout no run saw end: put right
/// when it is that run's own (written within `window`), else dropped.
fn settle(checkout: &CheckoutLeft, window: Option<Window>) -> RecoveryStep {
    let CheckoutLeft {
        id,
        intent,
        who,
        dir,
        operation,
        head_where_it_started,
    } = checkout;
    let drop = |say: Option<String>| RecoveryStep::DropRecord { id: *id, say };
    // Not a project of this registry (any more), or outside the workspace:
    // not ours to touch.
    let (Some(who), Some(dir)) = (who, dir) else {
        return drop(None);
    };
    // It finished, or was not the last to move HEAD: nothing to put right.
    if !head_where_it_started {
        return drop(None);
    }
    let Some(window) = window.filter(|w| intent.at.is_some_and(|at| w.holds(at))) else {
        return drop(Some(format!(
            "{who}: dropped a record of a checkout of {} that is not the interrupted run's own (an older run left \
             it, or it was written by hand); nothing was changed for it",
            intent.to.short()
        )));
    };
    if let Some(operation) = operation {
        return drop(Some(format!(
            "{who}: {operation} is under way there since the interrupted run; its checkout of {} is left as it is",
            intent.to.short()
        )));
    }
    RecoveryStep::Settle {
        id: *id,
        who: who.clone(),
        dir: dir.clone(),
        intent: intent.clone(),
        window,
    }
}

/// Whether `name` is `.FILE.PID-N.tmp` for this `pid`.
fn is_temporary_of(name: &str, pid: u32) -> bool {
    let Some((file, id)) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .and_then(|rest| rest.rsplit_once('.'))
    else {
        return false;
    };
    let (p, n) = id.split_once('-').unwrap_or(("", ""));
    !file.is_empty() && p == pid.to_string() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::journal::CheckoutIntent;
    use crate::exec::recover::LockFile;
    use crate::model::types::{CommitId, RepoName};
    use std::path::PathBuf;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn here() -> String {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default()
    }

    /// A run of this machine, started at 0, last alive at 10, whose git
    /// worked in liba from 2.
    fn run() -> PreviousRun {
        PreviousRun {
            pid: Some(123),
            host: Some(here()),
            command: "sync".into(),
            started: Some(at(0)),
            children: vec![],
            worked_in: vec![(PathBuf::from("liba"), at(2))],
            last_alive: Some(at(10)),
            checkouts: vec![],
        }
    }

    fn lock(path: &str, changed: SystemTime, held_by: Option<u32>) -> LockFile {
        LockFile {
            path: PathBuf::from(path),
            changed,
            held_by,
        }
    }

    fn project(name: &str, locks: Vec<LockFile>) -> ProjectLeft {
        ProjectLeft {
            name: Some(RepoName::new(name).unwrap()),
            locks,
            files: vec![".sync_deps.py.123-1.tmp".into(), ".sync_deps.py.124-1.tmp".into()],
            ..ProjectLeft::default()
        }
    }

    fn shown(steps: &[RecoveryStep]) -> Vec<String> {
        crate::exec::recover::lines(steps)
    }

    #[test]
    fn nothing_left_is_nothing_to_do() {
        assert!(recovery(&Leftovers::default(), at(60)).unwrap().is_empty());
    }

    #[test]
    fn a_git_process_of_that_run_still_running_stops_everything() {
        let left = Leftovers {
            run: Some(run()),
            live_child: Some(77),
            partials: vec![".openxla-partial-liba".into()],
            ..Leftovers::default()
        };
        let e = recovery(&left, at(60)).unwrap_err().to_string();
        assert!(e.contains("git process 77 it started is still running"), "{e}");
    }

    #[test]
    fn only_the_locks_of_its_window_where_it_worked_and_nobody_holds_go() {
        let left = Leftovers {
            run: Some(run()),
            partials: vec![".openxla-partial-x".into()],
            projects: vec![
                project(
                    "liba",
                    vec![
                        lock(".git/index.lock", at(5), None),
                        lock(".git/HEAD.lock", at(1), None), // before its git worked there
                        lock(".git/config.lock", at(30), None), // after it stopped
                        lock(".git/shallow.lock", at(6), Some(9)), // held open
                    ],
                ),
                project("libb", vec![lock(".git/index.lock", at(5), None)]), // it never worked there
            ],
            ..Leftovers::default()
        };
        let run = run().describe();
        assert_eq!(
            shown(&recovery(&left, at(60)).unwrap()),
            [
                format!("the previous run ({run}) did not finish; first, what it left is put right:"),
                "  remove .openxla-partial-x  (an unfinished clone an interrupted run left behind)".into(),
                format!("  liba: remove .sync_deps.py.123-1.tmp  (a temporary file {run} left half written)"),
                format!("  libb: remove .sync_deps.py.123-1.tmp  (a temporary file {run} left half written)"),
                format!(
                    "  liba: remove .git/index.lock  (a git lock file left by {run}, unless a process holds it open \
                     by then)"
                ),
                "  liba: .git/shallow.lock is held open by process 9; left alone".into(),
            ]
        );
    }

    #[test]
    fn a_linked_folder_a_running_git_or_gc_or_a_run_elsewhere_keep_their_locks() {
        let mut linked = project("liba", vec![lock(".git/index.lock", at(5), None)]);
        linked.linked = Some((PathBuf::from("/ws/liba"), PathBuf::from("/elsewhere")));
        let mut busy = project("liba", vec![lock(".git/index.lock", at(5), None)]);
        busy.git_running = Some(5);
        let mut gc = project("liba", vec![lock(".git/index.lock", at(5), None)]);
        gc.gc_running = true;
        for (p, say) in [
            (linked, Some("symbolic link (to /elsewhere)")),
            (busy, Some("git process 5 is running there")),
            (gc, None),
        ] {
            let left = Leftovers {
                run: Some(run()),
                projects: vec![p],
                ..Leftovers::default()
            };
            let lines = shown(&recovery(&left, at(60)).unwrap());
            assert!(!lines.iter().any(|l| l.contains("remove .git")), "{lines:?}");
            if let Some(say) = say {
                assert!(lines.iter().any(|l| l.contains(say)), "{lines:?}");
            }
        }
        let mut elsewhere = run();
        elsewhere.host = Some("elsewhere.example".into());
        let left = Leftovers {
            run: Some(elsewhere),
            projects: vec![project("liba", vec![lock(".git/index.lock", at(5), None)])],
            ..Leftovers::default()
        };
        let lines = shown(&recovery(&left, at(60)).unwrap());
        assert!(!lines.iter().any(|l| l.contains("remove")), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("ran on another machine")),
            "{lines:?}"
        );
    }

    #[test]
    fn a_checkout_record_is_put_right_only_when_it_is_that_runs_own_and_nothing_is_under_way() {
        let (a, b) = (
            CommitId::new(&"a".repeat(40)).unwrap(),
            CommitId::new(&"b".repeat(40)).unwrap(),
        );
        let checkout = |id, written: Option<u64>, operation, who: Option<&str>| CheckoutLeft {
            id,
            intent: CheckoutIntent {
                repo: PathBuf::from("liba"),
                from: Some(a.clone()),
                to: b.clone(),
                at: written.map(at),
            },
            who: who.map(str::to_string),
            dir: Some(PathBuf::from("/ws/liba")),
            operation,
            head_where_it_started: id != 5,
        };
        let left = Leftovers {
            run: Some(run()),
            checkouts: vec![
                checkout(0, Some(4), None, Some("liba")),
                checkout(1, Some(40), None, Some("liba")),
                checkout(2, None, None, Some("liba")),
                checkout(3, Some(4), Some("a rebase"), Some("liba")),
                checkout(4, Some(4), None, None),
                checkout(5, Some(4), None, Some("liba")),
            ],
            ..Leftovers::default()
        };
        let steps = recovery(&left, at(60)).unwrap();
        let kinds: Vec<(u64, &str)> = steps
            .iter()
            .filter_map(|s| match s {
                RecoveryStep::Settle { id, .. } => Some((*id, "settle")),
                RecoveryStep::DropRecord { id, say: Some(_) } => Some((*id, "drop, said")),
                RecoveryStep::DropRecord { id, say: None } => Some((*id, "drop")),
                _ => None,
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (0, "settle"),
                (1, "drop, said"),
                (2, "drop, said"),
                (3, "drop, said"),
                (4, "drop"),
                (5, "drop") // HEAD moved on: nothing to say
            ]
        );
        let lines = shown(&steps);
        assert!(
            lines.contains(&format!(
                "  liba: if the index holds bbbbbbb's tree, written by that run: (in /ws/liba) git update-ref \
                 --no-deref -m 'openxla-workspace: finish a checkout an interrupted run cut short' HEAD {} {}",
                b.as_str(),
                a.as_str()
            )),
            "{lines:#?}"
        );
        assert!(
            lines.contains(
                &"  liba: if files that checkout wrote hold nothing of anyone's: (in /ws/liba) git checkout-index \
                  --force -z --stdin  (each such file, named on its input)"
                    .to_string()
            ),
            "{lines:#?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("a rebase is under way there")),
            "{lines:?}"
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
}
