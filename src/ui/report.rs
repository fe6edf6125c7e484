//! What the user sees: per-project progress lines on stderr, and the final
//! summary that lists every failure. Every message passes through
//! [`escape_control`] (newlines kept) on its way out, whatever text from
//! repositories it quotes.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::model::text::escape_control;
use crate::model::types::RepoName;

/// When to colour output (`--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (and not empty).
    Auto,
    Always,
    Never,
}

/// How chatty to be (`-q`, default, `-v`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Only errors and the summary.
    Quiet,
    /// Progress lines too.
    Normal,
    /// Also each git command (printed by the git layer).
    Verbose,
}

/// Prints progress and summaries; cheap to clone into worker threads.
///
/// On a terminal (and without `-q`/`-v`) progress is live: one line per
/// running project, updated in place with what it is doing and git's own
/// percentages, above an overall count. Elsewhere (CI logs) each event is
/// one plain line, with no control characters.
#[derive(Clone, Debug)]
pub struct Reporter {
    verbosity: Verbosity,
    live: Option<Arc<Live>>,
    /// Colours for the `error:` and `warning:` prefixes on stderr.
    paint: Paint,
    /// Lines printed by [`Reporter::note_once`].
    noted: Arc<Mutex<std::collections::BTreeSet<String>>>,
    /// The registry layer of each project, for the summary to say where
    /// a URL that failed came from.
    layers: Arc<Mutex<RegistryLayers>>,
}

#[derive(Debug)]
struct Live {
    multi: MultiProgress,
    /// Set once the display must never reach the terminal again (see
    /// [`Reporter::go_dark`]); shared with its [`Stderr`].
    dark: Arc<AtomicBool>,
    bars: Mutex<BTreeMap<RepoName, ProgressBar>>,
    overall: Mutex<Option<ProgressBar>>,
}

impl Live {
    /// Prints a line above the live lines, or, when none is shown, as a
    /// plain line: the display's last line must be one of its own lines
    /// (see [`Stderr`]).
    fn print(&self, line: &str) {
        let showing = !lock(&self.bars).is_empty() || lock(&self.overall).is_some();
        if showing {
            let _ = self.multi.println(line);
        } else {
            crate::process::stderr::errln!("{line}");
        }
    }
}

/// The registry layer that defined each project (`registry file PATH`),
/// by project name, for a summary to say where a URL came from.
pub type RegistryLayers = BTreeMap<String, String>;

/// One project's failure, kept for the summary.
#[derive(Debug)]
pub struct Failure {
    pub project: RepoName,
    /// What went wrong, with git's facts in its chain.
    pub error: anyhow::Error,
}

impl Reporter {
    /// A reporter at the given verbosity, printing plain lines.
    pub fn new(verbosity: Verbosity) -> Reporter {
        Reporter {
            verbosity,
            live: None,
            paint: Paint { enabled: false },
            noted: Default::default(),
            layers: Default::default(),
        }
    }

    /// Live progress when stderr is a terminal and the verbosity normal,
    /// plain lines otherwise; `color` decides on the prefixes' colours.
    pub fn for_stderr(verbosity: Verbosity, color: ColorChoice) -> Reporter {
        let live = (verbosity == Verbosity::Normal && std::io::stderr().is_terminal()).then(|| {
            let dark = Arc::new(AtomicBool::new(false));
            Arc::new(Live {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::term_like_with_hz(
                    Box::new(Stderr { dark: dark.clone() }),
                    20,
                )),
                dark,
                bars: Mutex::new(BTreeMap::new()),
                overall: Mutex::new(None),
            })
        });
        Reporter {
            live,
            paint: Paint::for_stderr(color),
            ..Reporter::new(verbosity)
        }
    }

    /// Remembers which registry layer defined each project, for the summary.
    pub fn know_registry_layers(&self, layers: RegistryLayers) {
        *lock(&self.layers) = layers;
    }

    /// Which registry layer defined each project, as far as told.
    pub fn registry_layers(&self) -> RegistryLayers {
        lock(&self.layers).clone()
    }

    pub fn paint(&self) -> &Paint {
        &self.paint
    }

    /// Whether every command is echoed and every failure shown in full (`-v`).
    pub fn is_verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// Whether only errors and summaries are wanted (`-q`).
    pub fn is_quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    /// Starts the overall count for a command working on `total` projects.
    pub fn begin(&self, what: &str, total: usize) {
        if let Some(live) = &self.live {
            let bar = live.multi.add(ProgressBar::new(total as u64));
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{pos}/{len}] {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            *lock(&live.overall) = Some(bar);
        }
    }

    /// A progress event for one project (`app: cloning URL`).
    pub fn event(&self, project: &RepoName, message: &str) {
        if crate::process::interrupt::is_interrupted() {
            return;
        }
        let message = &*escape_control(message, true);
        if let Some(live) = &self.live {
            self.bar(live, project).set_message(message.to_string());
        } else if self.verbosity != Verbosity::Quiet {
            crate::process::stderr::errln!("{project}: {message}");
        }
    }

    /// git's own progress for one project (`receiving objects 45%`); shown
    /// only live, never in logs.
    pub fn progress(&self, project: &RepoName, message: &str) {
        if crate::process::interrupt::is_interrupted() {
            return;
        }
        if let Some(live) = &self.live {
            let bar = self.bar(live, project);
            let current = bar.message();
            let action = current.split(" (").next().unwrap_or(&current).to_string();
            bar.set_message(format!("{action} ({message})"));
        }
    }

    /// Runs `f` (a credential prompt) with the live display off the screen
    /// and nothing else printed on stderr meanwhile.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        // Other threads' lines wait for the stderr lock; live lines wait
        // for the display, which `MultiProgress::suspend` holds.
        let quiet = || {
            let _stderr = std::io::stderr().lock();
            f()
        };
        match &self.live {
            Some(live) => live.multi.suspend(quiet),
            None => quiet(),
        }
    }

    /// Whether git's progress is wanted (a live display is on).
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// One project finished: its live line goes (replaced by `message`, if
    /// any, as a printed line) and the overall count moves on.
    pub fn done(&self, project: &RepoName, message: Option<&str>) {
        if crate::process::interrupt::is_interrupted() {
            return;
        }
        let message = message.map(|m| escape_control(m, true));
        let message = message.as_deref();
        if let Some(live) = &self.live {
            if let Some(bar) = lock(&live.bars).remove(project) {
                bar.finish_and_clear();
                live.multi.remove(&bar);
            }
            if let Some(message) = message {
                live.print(&format!("{project}: {message}"));
            }
            if let Some(overall) = lock(&live.overall).as_ref() {
                overall.inc(1);
            }
        } else if let Some(message) = message.filter(|_| !self.is_quiet()) {
            crate::process::stderr::errln!("{project}: {message}");
        }
    }

    /// A progress line not tied to one project.
    pub fn note(&self, message: &str) {
        if self.verbosity == Verbosity::Quiet || crate::process::interrupt::is_interrupted() {
            return;
        }
        self.print(&escape_control(message, true));
    }

    /// [`Reporter::note`] once per run (`checkout --sync` meets the same
    /// exclusions in its checkout and in its sync).
    pub fn note_once(&self, message: &str) {
        if lock(&self.noted).insert(message.to_string()) {
            self.note(message);
        }
    }

    /// A warning: shown even with `-q`.
    pub fn warn(&self, message: &str) {
        if crate::process::interrupt::is_interrupted() {
            return;
        }
        self.print(&format!(
            "{} {}",
            self.paint.warning(),
            escape_control(message, true)
        ));
    }

    /// Prints a line above the live display, or as a plain line without one.
    fn print(&self, line: &str) {
        match &self.live {
            Some(live) => live.print(line),
            None => crate::process::stderr::errln!("{line}"),
        }
    }

    /// An error not tied to one project (the live display ends first).
    pub fn error(&self, message: &str) {
        self.clear();
        crate::process::stderr::errln!("{} {}", self.paint.error(), escape_control(message, true));
    }

    fn bar(&self, live: &Live, project: &RepoName) -> ProgressBar {
        lock(&live.bars)
            .entry(project.clone())
            .or_insert_with(|| {
                let bar = live.multi.insert(0, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix}: {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(project.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }

    /// Removes every live line, before results are printed on stdout (the
    /// display redraws itself on stderr, and on one terminal the two would
    /// cross), a summary or an error. Later events start it again.
    pub fn clear(&self) {
        if let Some(live) = &self.live {
            for (_, bar) in std::mem::take(&mut *lock(&live.bars)) {
                bar.finish_and_clear();
            }
            if let Some(overall) = lock(&live.overall).take() {
                overall.finish_and_clear();
            }
            let _ = live.multi.clear();
        }
    }

    /// Keeps the live display off the terminal from now on, without a lock:
    /// for Ctrl-C at a prompt, called while [`Reporter::suspend`] holds the
    /// display (it has cleared it), so that the display is not drawn again
    /// on the way out, nor cleared later over lines it never drew.
    pub fn go_dark(&self) {
        if let Some(live) = &self.live {
            live.dark.store(true, Ordering::SeqCst);
        }
    }

    /// Takes the live display off the terminal for good, on an interrupt:
    /// its lines cleared, the cursor shown, nothing more drawn.
    pub fn abandon(&self) {
        if let Some(live) = &self.live {
            self.clear();
            live.multi.set_draw_target(ProgressDrawTarget::hidden());
            crate::process::stderr::err!("\x1b[?25h");
        }
    }
}

/// The terminal on stderr, as the live display draws on it. Unlike
/// indicatif's own, it does not pad the last line out to the right margin
/// (which indicatif does so that a stray write starts a line of its own):
/// the `^C` a terminal echoes when Ctrl-C is typed would then start a line
/// too, below the display, and clearing the display on the interrupt would
/// leave its top line frozen on the screen. With the cursor after the last
/// line's text, the echo stays on that line and is cleared with it. The
/// last line drawn is then always a live line (lines printed while none is
/// shown go straight to stderr, see [`Live::print`]).
#[derive(Debug)]
struct Stderr {
    dark: Arc<AtomicBool>,
}

impl Stderr {
    fn write(&self, text: &str) -> std::io::Result<()> {
        use std::io::Write;
        if self.dark.load(Ordering::SeqCst) {
            return Ok(());
        }
        std::io::stderr().lock().write_all(text.as_bytes())
    }

    /// Moves the cursor `n` places in `direction` (the CSI final byte).
    fn move_cursor(&self, n: usize, direction: char) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.write(&format!("\x1b[{n}{direction}"))
    }

    /// `(rows, columns)` of the terminal on stderr.
    fn size(&self) -> (u16, u16) {
        #[cfg(unix)]
        {
            if let Ok(size) = rustix::termios::tcgetwinsize(std::io::stderr()) {
                if size.ws_col > 0 && size.ws_row > 0 {
                    return (size.ws_row, size.ws_col);
                }
            }
        }
        (24, 80)
    }
}

impl indicatif::TermLike for Stderr {
    fn width(&self) -> u16 {
        self.size().1
    }

    fn height(&self) -> u16 {
        self.size().0
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.move_cursor(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.move_cursor(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.move_cursor(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.move_cursor(n, 'D')
    }

    fn write_line(&self, line: &str) -> std::io::Result<()> {
        self.write(&format!("{line}\n"))
    }

    fn write_str(&self, text: &str) -> std::io::Result<()> {
        // The only all-blank write is the filler to the right margin.
        if !text.is_empty() && text.bytes().all(|b| b == b' ') {
            return Ok(());
        }
        self.write(text)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.write("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().flush()
    }
}

/// Colours for terminal output, or none (`--color`, `NO_COLOR`, not a terminal).
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    enabled: bool,
}

impl Paint {
    /// Decides once whether to colour stdout.
    pub fn new(choice: ColorChoice) -> Paint {
        Paint::deciding(choice, || std::io::stdout().is_terminal())
    }

    /// Decides once whether to colour stderr (the tool's own `error:` and
    /// `warning:` prefixes).
    pub fn for_stderr(choice: ColorChoice) -> Paint {
        Paint::deciding(choice, || std::io::stderr().is_terminal())
    }

    fn deciding(choice: ColorChoice, is_terminal: impl FnOnce() -> bool) -> Paint {
        let enabled = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && is_terminal(),
        };
        Paint { enabled }
    }

    /// `error:`, bold red when colours are on.
    pub fn error(&self) -> &'static str {
        if self.enabled {
            "\x1b[1;31merror:\x1b[0m"
        } else {
            "error:"
        }
    }

    /// `warning:`, bold yellow when colours are on.
    pub fn warning(&self) -> &'static str {
        if self.enabled {
            "\x1b[1;33mwarning:\x1b[0m"
        } else {
            "warning:"
        }
    }

    /// `text` in the SGR colour `code` (e.g. `"1"` bold, `"32"` green)
    /// when colours are on.
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Locks a mutex, going on with its data if another thread panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
