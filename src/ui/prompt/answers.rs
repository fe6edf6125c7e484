//! What the prompt broker remembers during one run: the answer given to
//! each prompt text, which git processes were handed it, and how often an
//! answer to it was refused. Pure bookkeeping; the broker asks the user.
//!
//! The rules:
//! - The same prompt text gets the same answer for every git process of the
//!   run, and the user is asked only when there is no answer yet.
//! - An answer is wrong when the process it was handed asks the same prompt
//!   again: ssh asks again after a bad passphrase or password, up to three
//!   times. The process is the one that ran the helper (ssh, or git's https
//!   helper) within a git the tool started: one `git submodule update` runs
//!   an ssh per submodule, and each may ask the same question once.
//! - An answer is also wrong when the process it was handed then fails
//!   with an authentication error, and either the prompt is git's own
//!   (`Username for '…': `, `Password for '…': `: git over https never
//!   asks twice, it fails, and the command is run once more so that the
//!   user is asked again), or the process had asked it before (ssh ran out
//!   of tries). An ssh prompt answered once before an authentication error
//!   keeps its answer: the key was unlocked, and the server refused it.
//! - A wrong answer is forgotten and counts once, however many processes
//!   had it.
//! - After [`MAX_REFUSALS`] wrong answers to one prompt, or once the user
//!   cancels it, every request for that prompt is refused for the rest of
//!   the run, and the processes that needed it fail.

use std::collections::{BTreeMap, BTreeSet};

/// Wrong answers to one prompt before it is no longer asked.
pub const MAX_REFUSALS: u32 = 3;

/// The longest answer kept, in bytes; buffers are allocated at this size
/// up front so that they never move (a move would leave a copy behind).
pub const MAX_ANSWER: usize = 4096;

/// Bytes that must not outlive their use: overwritten with zeros when
/// dropped, and never printed by `Debug`.
pub struct Secret(Vec<u8>);

impl Secret {
    /// An empty secret with room for [`MAX_ANSWER`] bytes (and one more,
    /// for a newline).
    pub fn new() -> Secret {
        Secret(Vec::with_capacity(MAX_ANSWER + 1))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Adds a byte; false (and nothing added) when full.
    pub fn push(&mut self, byte: u8) -> bool {
        if self.0.len() > MAX_ANSWER || self.0.len() == self.0.capacity() {
            return false;
        }
        self.0.push(byte);
        true
    }

    /// Removes the last UTF-8 character; false when empty.
    pub fn pop_char(&mut self) -> bool {
        let mut removed = false;
        while let Some(byte) = self.0.pop() {
            removed = true;
            // Continuation bytes (10xxxxxx) belong to the character before.
            if byte & 0xC0 != 0x80 {
                break;
            }
        }
        removed
    }

    /// The number of characters (for erasing what was echoed).
    pub fn chars(&self) -> usize {
        self.0.iter().filter(|&&b| b & 0xC0 != 0x80).count()
    }

    /// Whether nothing was typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes the first byte (the reply marker of the wire format),
    /// shifting the rest in place.
    pub fn drop_first(&mut self) {
        if !self.0.is_empty() {
            self.0.remove(0);
        }
    }

    /// Overwrites the whole buffer with zeros (also what edits left past
    /// the end) and empties it.
    pub fn wipe(&mut self) {
        self.0.clear();
        for slot in self.0.spare_capacity_mut() {
            // Volatile, so that the compiler cannot skip writes to memory
            // that is never read again.
            // SAFETY: the pointer comes from a live `&mut MaybeUninit<u8>`.
            unsafe { std::ptr::write_volatile(slot.as_mut_ptr(), 0) };
        }
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

/// Overwrites `buf` with zeros (a read buffer that held part of a secret).
pub fn wipe_bytes(buf: &mut [u8]) {
    for byte in buf.iter_mut() {
        // SAFETY: `byte` is a valid, exclusive reference.
        unsafe { std::ptr::write_volatile(byte, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

impl Default for Secret {
    fn default() -> Secret {
        Secret::new()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// What to do with a request for an answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Hand over the answer already given ([`Answers::answer`]).
    Give,
    /// Ask the user. `refused` is how many answers to this prompt were
    /// refused before (0 the first time).
    Ask { refused: u32 },
    /// Answer with a failure: this prompt is no longer asked.
    Refuse,
}

/// What a finished git process's credentials say about it.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to add: its outcome stands.
    Done,
    /// An answer it was handed proved wrong and may be asked again: run
    /// the command once more.
    AskAgain,
    /// It failed because a prompt it needed is no longer asked; the text
    /// says why ("the passphrase for key '/k' was refused 3 times").
    Refused(String),
}

/// Why a prompt is no longer asked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Closed {
    /// Too many wrong answers.
    Refused,
    /// The user cancelled it, or it could not be shown; the reason.
    NotGiven(String),
}

/// Who asks: the git process the tool started (its ticket) and, within
/// it, the process that ran the helper (its pid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Asker {
    /// [`UNTRACKED`] when not followed.
    pub ticket: u64,
    pub pid: u32,
}

#[derive(Debug, Default)]
struct PromptState {
    answer: Option<Secret>,
    /// The processes handed the current answer.
    holders: BTreeSet<Asker>,
    /// Wrong answers so far.
    refused: u32,
    /// Counts the answers found wrong, so that a process knows whether
    /// the answer it had is still the current one.
    generation: u32,
    closed: Option<Closed>,
}

impl PromptState {
    /// Forgets the current answer as wrong, counting one refusal.
    fn refuse_answer(&mut self) {
        self.answer = None;
        self.holders.clear();
        self.refused += 1;
        self.generation += 1;
        if self.refused >= MAX_REFUSALS {
            self.closed = Some(Closed::Refused);
        }
    }
}

/// What one git process (ticket) asked, was handed or refused.
#[derive(Debug, Default)]
struct TicketRecord {
    /// Prompt text and asking process → how many times it asked.
    asked: BTreeMap<(String, u32), u32>,
    /// Prompt text → generation of the answer handed over.
    given: BTreeMap<String, u32>,
    /// Prompts refused to it.
    refused: BTreeSet<String>,
}

/// Every prompt of the run and its answer.
#[derive(Debug, Default)]
pub struct Answers {
    prompts: BTreeMap<String, PromptState>,
    tickets: BTreeMap<u64, TicketRecord>,
}

/// The ticket of git processes whose outcome is not followed.
pub const UNTRACKED: u64 = 0;

impl Answers {
    /// Decides what to do when `asker` asks `prompt`.
    pub fn request(&mut self, asker: Asker, prompt: &str) -> Step {
        let state = self.prompts.entry(prompt.to_string()).or_default();
        if state.answer.is_some() && state.holders.contains(&asker) {
            // The process it was handed asks again: it was wrong.
            state.refuse_answer();
        }
        let step = if state.closed.is_some() {
            Step::Refuse
        } else if state.answer.is_some() {
            state.holders.insert(asker);
            Step::Give
        } else {
            Step::Ask {
                refused: state.refused,
            }
        };
        if let Some(record) = record_of(&mut self.tickets, asker.ticket) {
            *record.asked.entry((prompt.to_string(), asker.pid)).or_default() += 1;
            match step {
                Step::Give => {
                    record.given.insert(prompt.to_string(), state.generation);
                }
                Step::Refuse => {
                    record.refused.insert(prompt.to_string());
                }
                Step::Ask { .. } => {}
            }
        }
        step
    }

    /// The current answer to `prompt`.
    pub fn answer(&self, prompt: &str) -> Option<&Secret> {
        self.prompts.get(prompt).and_then(|s| s.answer.as_ref())
    }

    /// Keeps what the user answered to `prompt`, asked for `asker`, and
    /// hands it to that process.
    pub fn store(&mut self, asker: Asker, prompt: &str, answer: Secret) {
        let state = self.prompts.entry(prompt.to_string()).or_default();
        state.answer = Some(answer);
        state.holders.clear();
        state.holders.insert(asker);
        if let Some(record) = record_of(&mut self.tickets, asker.ticket) {
            record.given.insert(prompt.to_string(), state.generation);
        }
    }

    /// The user gave no answer to `prompt` (cancelled, or it could not be
    /// shown, for `reason`): it is not asked again this run.
    pub fn close(&mut self, ticket: u64, prompt: &str, reason: &str) {
        let state = self.prompts.entry(prompt.to_string()).or_default();
        state.closed = Some(Closed::NotGiven(reason.to_string()));
        if let Some(record) = record_of(&mut self.tickets, ticket) {
            record.refused.insert(prompt.to_string());
        }
    }

    /// Process `ticket` ended: `failed` says whether it failed, and
    /// `credentials_refused` whether its error says that credentials were
    /// refused. Forgets the ticket.
    pub fn outcome(&mut self, ticket: u64, failed: bool, credentials_refused: bool) -> Verdict {
        let Some(record) = self.tickets.remove(&ticket).filter(|_| failed) else {
            return Verdict::Done;
        };
        if credentials_refused {
            for (prompt, generation) in &record.given {
                let asked_before = record
                    .asked
                    .iter()
                    .any(|((asked, _), &n)| asked == prompt && n > 1);
                if !(asked_before || asked_by_git(prompt)) {
                    continue;
                }
                if let Some(state) = self.prompts.get_mut(prompt) {
                    if state.generation == *generation && state.answer.is_some() {
                        state.refuse_answer();
                    }
                }
            }
        }
        for prompt in record.refused.iter().chain(record.given.keys()) {
            let Some(state) = self.prompts.get(prompt) else {
                continue;
            };
            let why = match &state.closed {
                Some(Closed::Refused) => format!("was refused {} times", state.refused),
                Some(Closed::NotGiven(reason)) => format!("was not given ({reason})"),
                None => continue,
            };
            return Verdict::Refused(format!("{} {why}", describe(prompt)));
        }
        let stale = record.given.iter().any(|(prompt, generation)| {
            self.prompts
                .get(prompt)
                .is_some_and(|s| s.generation != *generation)
        });
        if stale {
            Verdict::AskAgain
        } else {
            Verdict::Done
        }
    }

    /// Overwrites and forgets every answer (the end of the run).
    pub fn forget_all(&mut self) {
        for state in self.prompts.values_mut() {
            if let Some(mut answer) = state.answer.take() {
                answer.wipe();
            }
        }
        self.prompts.clear();
        self.tickets.clear();
    }
}

impl Drop for Answers {
    fn drop(&mut self) {
        self.forget_all();
    }
}

/// The record of process `ticket`, unless its outcome is not followed.
fn record_of(tickets: &mut BTreeMap<u64, TicketRecord>, ticket: u64) -> Option<&mut TicketRecord> {
    (ticket != UNTRACKED).then(|| tickets.entry(ticket).or_default())
}

/// Whether `prompt` is one of git's own (`Username for 'URL': `,
/// `Password for 'URL': `), which git asks once per process.
fn asked_by_git(prompt: &str) -> bool {
    (prompt.starts_with("Username for '") || prompt.starts_with("Password for '"))
        && prompt.trim_end().ends_with("':")
}

/// What a prompt asks for, for messages: `Enter passphrase for key '/k':`
/// → `the passphrase for key '/k'`; a prompt of another shape is quoted.
pub fn describe(prompt: &str) -> String {
    let escaped = crate::model::text::escape_control(prompt.trim(), false);
    let text = escaped.trim_end_matches(':').trim_end();
    let text = text.strip_prefix("Enter ").unwrap_or(text);
    let lower = text.to_ascii_lowercase();
    let known = ["passphrase", "password", "username", "pin"];
    if known.iter().any(|word| lower.starts_with(word)) {
        let mut chars = text.chars();
        let first = chars.next().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
        format!("the {first}{}", chars.as_str())
    } else {
        format!("the answer to '{text}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Enter passphrase for key '/k':";

    fn secret(text: &str) -> Secret {
        let mut s = Secret::new();
        for b in text.bytes() {
            s.push(b);
        }
        s
    }

    /// The ssh of git process `ticket`.
    fn by(ticket: u64) -> Asker {
        Asker {
            ticket,
            pid: 1000 + ticket as u32,
        }
    }

    fn given(answers: &Answers, prompt: &str) -> Vec<u8> {
        answers.answer(prompt).unwrap().bytes().to_vec()
    }

    #[test]
    fn one_answer_serves_every_process_that_asks_the_same_prompt() {
        let mut a = Answers::default();
        assert_eq!(a.request(by(1), KEY), Step::Ask { refused: 0 });
        a.store(by(1), KEY, secret("right"));
        for ticket in 2..=8 {
            assert_eq!(a.request(by(ticket), KEY), Step::Give);
            assert_eq!(given(&a, KEY), b"right");
        }
        for ticket in 1..=8 {
            assert_eq!(a.outcome(ticket, false, false), Verdict::Done);
        }
        // Another prompt is asked on its own.
        assert_eq!(
            a.request(by(9), "Password for 'https://u@h':"),
            Step::Ask { refused: 0 }
        );
    }

    #[test]
    fn the_same_process_asking_again_means_the_answer_was_wrong() {
        let mut a = Answers::default();
        assert_eq!(a.request(by(1), KEY), Step::Ask { refused: 0 });
        a.store(by(1), KEY, secret("wrong"));
        // Process 2 got the wrong answer too before process 1 asked again.
        assert_eq!(a.request(by(2), KEY), Step::Give);
        assert_eq!(a.request(by(1), KEY), Step::Ask { refused: 1 });
        a.store(by(1), KEY, secret("right"));
        // Process 2 asks again: the new answer is not its old one, so it
        // is handed over without counting another refusal.
        assert_eq!(a.request(by(2), KEY), Step::Give);
        assert_eq!(given(&a, KEY), b"right");
        assert_eq!(a.outcome(1, false, false), Verdict::Done);
        assert_eq!(a.outcome(2, false, false), Verdict::Done);
        assert_eq!(a.request(by(3), KEY), Step::Give);
    }

    #[test]
    fn three_wrong_answers_close_the_prompt_and_fail_whoever_needs_it() {
        let mut a = Answers::default();
        for refused in 0..3 {
            assert_eq!(a.request(by(1), KEY), Step::Ask { refused });
            a.store(by(1), KEY, secret("wrong"));
        }
        // ssh gave up after its third try and failed.
        let message = "the passphrase for key '/k' was refused 3 times".to_string();
        assert_eq!(a.outcome(1, true, true), Verdict::Refused(message.clone()));
        assert_eq!(a.request(by(2), KEY), Step::Refuse);
        assert_eq!(a.outcome(2, true, true), Verdict::Refused(message));
        assert!(a.answer(KEY).is_none());
    }

    #[test]
    fn a_process_failing_on_refused_credentials_makes_its_answers_wrong_once() {
        // git over https: a wrong password fails the process, which is run
        // again; with eight processes failing, it counts once.
        let (user, password) = ("Username for 'https://h':", "Password for 'https://u@h':");
        let mut a = Answers::default();
        a.request(by(1), user);
        a.store(by(1), user, secret("u"));
        a.request(by(1), password);
        a.store(by(1), password, secret("wrong"));
        for ticket in 2..=8 {
            assert_eq!(a.request(by(ticket), user), Step::Give);
            assert_eq!(a.request(by(ticket), password), Step::Give);
        }
        for ticket in 1..=8 {
            assert_eq!(a.outcome(ticket, true, true), Verdict::AskAgain);
        }
        assert_eq!(a.request(by(9), password), Step::Ask { refused: 1 });
        assert_eq!(a.request(by(9), user), Step::Ask { refused: 1 });
    }

    #[test]
    fn an_ssh_key_unlocked_at_the_first_try_and_then_refused_keeps_its_passphrase() {
        let mut a = Answers::default();
        a.request(by(1), KEY);
        a.store(by(1), KEY, secret("right"));
        // The server did not take the key: the passphrase was not at fault.
        assert_eq!(a.outcome(1, true, true), Verdict::Done);
        assert_eq!(a.request(by(2), KEY), Step::Give);
        assert_eq!(given(&a, KEY), b"right");
    }

    #[test]
    fn other_failures_and_successes_keep_the_answer() {
        let mut a = Answers::default();
        a.request(by(1), KEY);
        a.store(by(1), KEY, secret("right"));
        assert_eq!(a.outcome(1, true, false), Verdict::Done); // e.g. a network error
        assert_eq!(a.request(by(2), KEY), Step::Give);
        assert_eq!(a.outcome(2, false, true), Verdict::Done); // succeeded
        assert_eq!(a.request(by(3), KEY), Step::Give);
        // A process that asked nothing has nothing to say.
        assert_eq!(a.outcome(42, true, true), Verdict::Done);
    }

    #[test]
    fn a_cancelled_prompt_is_not_asked_again() {
        let mut a = Answers::default();
        a.request(by(1), KEY);
        a.close(1, KEY, "the prompt was cancelled");
        assert_eq!(a.request(by(2), KEY), Step::Refuse);
        let message = "the passphrase for key '/k' was not given (the prompt was cancelled)";
        assert_eq!(a.outcome(1, true, true), Verdict::Refused(message.into()));
        assert_eq!(a.outcome(2, true, true), Verdict::Refused(message.into()));
    }

    #[test]
    fn each_ssh_of_one_git_may_ask_once() {
        // `git submodule update` runs an ssh per submodule.
        let mut a = Answers::default();
        let ssh = |pid| Asker { ticket: 1, pid };
        assert_eq!(a.request(ssh(11), KEY), Step::Ask { refused: 0 });
        a.store(ssh(11), KEY, secret("right"));
        assert_eq!(a.request(ssh(12), KEY), Step::Give);
        assert_eq!(a.request(ssh(13), KEY), Step::Give);
        // The server then refused one submodule's key: not the passphrase.
        assert_eq!(a.outcome(1, true, true), Verdict::Done);
        assert_eq!(a.request(ssh(14), KEY), Step::Give);
        // An ssh asking again is told apart all the same.
        assert_eq!(a.request(ssh(14), KEY), Step::Ask { refused: 1 });
    }

    #[test]
    fn forgetting_wipes_the_answers() {
        let mut s = secret("hunter2");
        s.wipe();
        assert!(s.is_empty());
        let mut a = Answers::default();
        a.request(by(1), KEY);
        a.store(by(1), KEY, secret("right"));
        a.forget_all();
        assert!(a.answer(KEY).is_none());
        assert_eq!(format!("{:?}", secret("x")), "Secret(..)");
    }

    #[test]
    fn secrets_edit_by_character_and_never_grow_past_their_buffer() {
        let mut s = secret("aé");
        assert_eq!(s.chars(), 2);
        assert!(s.pop_char());
        assert_eq!(s.bytes(), b"a");
        let capacity = s.0.capacity();
        let mut long = Secret::new();
        while long.push(b'x') {}
        assert_eq!(long.bytes().len(), MAX_ANSWER + 1);
        assert_eq!(long.0.capacity(), capacity);
    }

    #[test]
    fn prompts_are_described_for_messages() {
        assert_eq!(describe(KEY), "the passphrase for key '/k'");
        assert_eq!(
            describe("Enter passphrase for ED25519 key '/home/u/.ssh/id': "),
            "the passphrase for ED25519 key '/home/u/.ssh/id'"
        );
        assert_eq!(
            describe("Password for 'https://u@example.org': "),
            "the password for 'https://u@example.org'"
        );
        assert_eq!(
            describe("git@host's password: "),
            "the answer to 'git@host's password'"
        );
        assert_eq!(describe("Pass\x1b[2Kword:"), "the answer to 'Pass\\x1b[2Kword'");
    }
}
