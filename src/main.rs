use clap::Parser;

fn main() {
    let cli = openxla_workspace::cli::Cli::parse();
    std::process::exit(openxla_workspace::run(cli));
}
