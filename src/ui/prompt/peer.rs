//! Who may ask the broker: only this run's own processes. The socket sits
//! in a private folder, but any process of the same user can find it (its
//! path is in the environment of every git the run starts, and `/proc`
//! shows that) and replay a prompt to receive the answer already given.
//! So the broker asks the kernel who connected (`SO_PEERCRED`) and answers
//! only a process of this user that descends from this run (git, ssh, or
//! the helper they start); and while it may hold secrets, the run's memory
//! cannot be read through `/proc/PID/mem` or a core dump
//! (`PR_SET_DUMPABLE`).
//!
//! Both are Linux's; elsewhere the private folder is the only guard.

use std::os::unix::net::UnixStream;

/// Whether the process at the other end of `stream` is one of this run's:
/// of the same user, and a descendant of this process.
#[cfg(target_os = "linux")]
pub fn is_ours(stream: &UnixStream) -> bool {
    let Ok(peer) = rustix::net::sockopt::socket_peercred(stream) else {
        return false;
    };
    peer.uid == rustix::process::geteuid()
        && descends_from(peer.pid.as_raw_pid(), rustix::process::getpid().as_raw_pid())
}

/// Elsewhere the kernel does not say which process connected.
#[cfg(not(target_os = "linux"))]
pub fn is_ours(_stream: &UnixStream) -> bool {
    true
}

/// Whether `pid`'s chain of parents reaches `ancestor`. The peer is alive
/// while it waits for the answer, and so are the processes between it and
/// this run (git waits for ssh, ssh for the helper), so their ids are
/// theirs.
#[cfg(target_os = "linux")]
fn descends_from(mut pid: i32, ancestor: i32) -> bool {
    // git, ssh and the helper are a few levels down; 64 ends any loop.
    for _ in 0..64 {
        if pid == ancestor {
            return true;
        }
        match parent_of(pid) {
            Some(parent) if parent > 0 => pid = parent,
            _ => return false,
        }
    }
    false
}

/// The parent of process `pid`, from `/proc/PID/stat` (its fourth field,
/// after the command name in parentheses, which may itself hold spaces and
/// parentheses).
#[cfg(target_os = "linux")]
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_parent(&stat)
}

#[cfg(target_os = "linux")]
fn parse_parent(stat: &str) -> Option<i32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Makes this process's memory unreadable to other processes of the user
/// (no `/proc/PID/mem`, no ptrace, no core dump) while the broker may hold
/// secrets, or readable again.
pub fn guard_memory(guarded: bool) {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{set_dumpable_behavior, DumpableBehavior};
        let _ = set_dumpable_behavior(if guarded {
            DumpableBehavior::NotDumpable
        } else {
            DumpableBehavior::Dumpable
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = guarded;
}

#[cfg(target_os = "linux")]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_after_the_command_name() {
        assert_eq!(parse_parent("42 (a) b) c) S 7 42 42 0"), Some(7));
        assert_eq!(parse_parent("42 (git) R 1 42"), Some(1));
        assert_eq!(parse_parent("garbage"), None);
    }

    #[test]
    fn guarded_memory_is_not_dumpable() {
        use rustix::process::{dumpable_behavior, DumpableBehavior};
        guard_memory(true);
        assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
        guard_memory(false);
        assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::Dumpable);
    }

    #[test]
    fn this_process_descends_from_its_parent_and_not_from_a_child() {
        let me = rustix::process::getpid().as_raw_pid();
        assert!(descends_from(me, me));
        let parent = parent_of(me).unwrap();
        assert!(descends_from(me, parent));
        assert!(!descends_from(parent, me));
    }
}
