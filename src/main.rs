fn main() {
    // SIGPIPE stays ignored, as Rust leaves it: a closed stdout is a
    // failed write that `openxla_workspace::ui::stdout` takes quietly, and the
    // git processes the tool starts get the default action back at exec.
    // The hidden `askpass` command, which git and ssh run while the tool
    // runs, is not part of the command line users see (--help, completions).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(prompt) = openxla_workspace::ui::prompt::askpass::requested(&args) {
        std::process::exit(openxla_workspace::ui::prompt::askpass::run(prompt));
    }
    // A shell asking for completions (see `completions`) gets them and
    // nothing else.
    openxla_workspace::cli::complete::answer_if_asked();
    let cli = openxla_workspace::cli::parse(args);
    std::process::exit(openxla_workspace::run(cli));
}
