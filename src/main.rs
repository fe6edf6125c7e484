use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`openxla-workspace status | head`), as
    // Unix tools do, instead of panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = openxla_workspace::cli::Cli::parse();
    std::process::exit(openxla_workspace::run(cli));
}
