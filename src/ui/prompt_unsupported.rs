//! Credential prompts where the prompt broker cannot run: it needs a Unix
//! socket and the terminal's modes, so this is every platform but Unix.
//! git and ssh then ask on the terminal themselves, as they do when run by
//! hand, and the run says so once when it starts its first git on a
//! terminal. The "first connection to a host alone" rule still keeps
//! parallel processes from asking at the same time for a new host.
//!
//! Same interface as the Unix module, so the git layer does not care.

#[path = "prompt/answers.rs"]
pub mod answers;
#[path = "prompt/failures.rs"]
pub mod failures;

pub use answers::Verdict;

use crate::ui::report::Reporter;

/// Names one git process; see the Unix module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

impl Ticket {
    /// For git processes whose outcome is not followed.
    pub const UNTRACKED: Ticket = Ticket(answers::UNTRACKED);
}

/// No broker: says once that git and ssh ask on the terminal themselves.
#[derive(Debug)]
pub struct Prompts {
    reporter: Reporter,
    told: std::sync::Once,
}

impl Prompts {
    pub fn new(reporter: Reporter) -> Prompts {
        Prompts {
            reporter,
            told: std::sync::Once::new(),
        }
    }

    pub fn ticket(&self) -> Ticket {
        Ticket::UNTRACKED
    }

    pub fn route(&self, expr: duct::Expression, _ticket: Ticket) -> duct::Expression {
        self.told.call_once(|| {
            self.reporter.note(
                "credential prompts are not brokered on this platform (it needs Unix sockets): git and ssh \
                 ask on the terminal themselves, and the live display may draw over them; load your key \
                 into an ssh agent or use a credential helper, or run with --jobs 1",
            )
        });
        expr
    }

    pub fn outcome(&self, _ticket: Ticket, _failed: bool, _stderr: &[u8]) -> Verdict {
        Verdict::Done
    }
}

/// The askpass helper exists only with the broker.
pub mod askpass {
    use std::ffi::OsString;

    /// Never asked for here: the tool never names itself as git's askpass.
    pub fn requested(_args: &[OsString]) -> Option<&[OsString]> {
        None
    }

    pub fn run(_prompt: &[OsString]) -> i32 {
        1
    }
}
