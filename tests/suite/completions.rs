//! `completions SHELL`: each script is loaded into the real shell, which is
//! then asked to complete command lines as a person would press TAB. bash
//! and fish run for real; zsh's script is parsed (`zsh -n`). The shells
//! must be installed (`.ci/run` installs them): a missing shell fails the
//! test rather than skipping it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{hermetic, BIN};

/// A workspace with its own registry (projects `alpha`, `alpine`, `beta`;
/// `alpha` has schedules `nightly` and `weekly`), `alpha` and `beta`
/// checked out, and a folder whose `openxla-workspace` is the binary.
struct Setup {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    ws: PathBuf,
    bin_dir: PathBuf,
}

const REGISTRY: &str = r#"include_default = false

[repos.alpha]
ro_url = "https://example.invalid/alpha.git"
deps = ["beta"]

[[repos.alpha.schedules.nightly]]
git_head = "beta"

[[repos.alpha.schedules.weekly]]
git_head = "beta"

[repos.alpine]
ro_url = "https://example.invalid/alpine.git"

[repos.beta]
ro_url = "https://example.invalid/beta.git"

[[repos.beta.schedules.hourly]]
py_package = "numpy"
"#;

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let (home, ws, bin_dir) = (root.join("home"), root.join("ws"), root.join("bin"));
        for dir in [&home, &ws, &bin_dir] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::os::unix::fs::symlink(BIN, bin_dir.join("openxla-workspace")).unwrap();
        std::fs::write(ws.join(".openxla_workspace.json"), "{\"version\": 0}\n").unwrap();
        std::fs::write(ws.join("openxla-workspace.toml"), REGISTRY).unwrap();
        for name in ["alpha", "beta"] {
            let out = hermetic(Command::new("git"), &home)
                .args(["init", "--quiet"])
                .arg(ws.join(name))
                .output()
                .unwrap();
            assert!(out.status.success());
        }
        // A file that a shell falling back to file names would offer.
        std::fs::write(ws.join("alpha/notes.txt"), "").unwrap();
        Setup {
            _tmp: tmp,
            home,
            ws,
            bin_dir,
        }
    }

    /// `shell ARGS...` in `dir`, with the binary first on PATH and no
    /// configuration of the user's.
    fn shell(&self, shell: &str, dir: &Path) -> Command {
        let mut cmd = hermetic(Command::new(which(shell)), &self.home);
        let path = format!(
            "{}:{}",
            self.bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.current_dir(dir)
            .env("PATH", path)
            .env_remove("OPENXLA_WORKSPACE_COMPLETE");
        cmd
    }

    /// What bash offers for `line` (the cursor at its end), sorted.
    fn bash(&self, dir: &Path, line: &str) -> Vec<String> {
        let script = r#"
source <(openxla-workspace completions bash) || exit 3
spec=$(complete -p openxla-workspace) || exit 4
function=${spec#*-F }; function=${function%% *}
read -ra COMP_WORDS <<<"$LINE"
[[ $LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$LINE; COMP_POINT=${#LINE}; COMP_TYPE=9
"$function" openxla-workspace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
        let out = self
            .shell("bash", dir)
            .args(["--norc", "--noprofile", "-c", script])
            .env("LINE", line)
            .output()
            .unwrap();
        assert!(out.status.success(), "bash: {}", common::text(&out));
        assert!(out.stderr.is_empty(), "bash: {}", common::text(&out));
        sorted(&common::stdout(&out))
    }

    /// What fish offers for `line` (`complete -C`), values only, sorted.
    fn fish(&self, dir: &Path, line: &str) -> Vec<String> {
        let script = "openxla-workspace completions fish | source; or exit 3; complete -C \"$LINE\"";
        let out = self
            .shell("fish", dir)
            .args(["--no-config", "-c", script])
            .env("LINE", line)
            .output()
            .unwrap();
        assert!(out.status.success(), "fish: {}", common::text(&out));
        assert!(out.stderr.is_empty(), "fish: {}", common::text(&out));
        sorted(
            &common::stdout(&out)
                .lines()
                .map(|l| l.split('\t').next().unwrap_or_default().to_string() + "\n")
                .collect::<String>(),
        )
    }
}

/// The shell's path; a shell that is not installed fails the test.
fn which(shell: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(shell))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{shell} is not installed; .ci/run installs it (apt-get install {shell})"))
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn bash_completes_options_after_the_subcommand_and_names_from_the_registry() {
    let s = Setup::new();
    let alpha = s.ws.join("alpha");
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace checkout --no-"),
        strings(&["--no-deps", "--no-submodules"])
    );
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace checkout al"),
        strings(&["alpha", "alpine"])
    );
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace checkout --ro --exclude-dep "),
        strings(&["alpha", "alpine", "beta"])
    );
    // --repo: the projects checked out, not the whole registry.
    assert_eq!(
        s.bash(&alpha, "openxla-workspace sync --repo "),
        strings(&["alpha", "beta"])
    );
    // roll: the schedules of the project the current folder is in, or of
    // the one --repo names.
    assert_eq!(
        s.bash(&alpha, "openxla-workspace roll "),
        strings(&["nightly", "weekly"])
    );
    assert_eq!(
        s.bash(&alpha, "openxla-workspace roll --repo beta "),
        strings(&["hourly"])
    );
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace roll "),
        strings(&["hourly", "nightly", "weekly"])
    );
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace config "),
        strings(&["cache-dir", "depth", "filter", "jobs", "registry", "ro"])
    );
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace config --unset c"),
        strings(&["cache-dir"])
    );
    assert_eq!(s.bash(&s.ws, "openxla-workspace com"), strings(&["completions"]));
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace completions "),
        strings(&["bash", "fish", "zsh"])
    );
}

#[test]
fn a_registry_named_on_the_line_is_the_one_completed_from() {
    let s = Setup::new();
    let other = s.ws.join("other.toml");
    std::fs::write(
        &other,
        "include_default = false\n[repos.gamma]\nro_url = \"https://example.invalid/g.git\"\n",
    )
    .unwrap();
    let line = format!("openxla-workspace --registry {} checkout ", other.display());
    assert_eq!(
        s.bash(&s.ws, &line),
        strings(&["alpha", "alpine", "beta", "gamma"])
    );
    let line = format!("openxla-workspace checkout --registry={} g", other.display());
    assert_eq!(s.fish(&s.ws, &line), strings(&["gamma"]));
    // Outside any workspace, the embedded default registry.
    let outside = s.ws.parent().unwrap().join("home");
    assert_eq!(
        s.fish(&outside, "openxla-workspace checkout "),
        strings(&["iree", "jax", "openxla-pjrt-plugin", "stablehlo", "xla"])
    );
}

#[test]
fn completion_leaves_out_hidden_commands_and_options_that_do_not_apply() {
    let s = Setup::new();
    // `askpass` is how git asks the tool for credentials: never offered.
    assert_eq!(s.bash(&s.ws, "openxla-workspace as"), Vec::<String>::new());
    assert!(!s
        .fish(&s.ws, "openxla-workspace ")
        .iter()
        .any(|c| c.contains("askpass")));
    // `completions` takes none of the global options.
    assert_eq!(
        s.bash(&s.ws, "openxla-workspace completions --"),
        strings(&["--help"])
    );
    assert_eq!(
        s.fish(&s.ws, "openxla-workspace completions --"),
        strings(&["--help"])
    );
    let status = s.bash(&s.ws, "openxla-workspace status --");
    assert!(status.contains(&"--jobs".to_string()) && status.contains(&"--exit-code".to_string()));
    assert!(!status.contains(&"--dry-run".to_string()), "{status:?}");
}

#[test]
fn fish_offers_schedules_and_never_file_names_for_roll() {
    let s = Setup::new();
    let alpha = s.ws.join("alpha");
    assert_eq!(
        s.fish(&alpha, "openxla-workspace roll "),
        strings(&["nightly", "weekly"])
    );
    assert_eq!(s.fish(&alpha, "openxla-workspace roll n"), strings(&["nightly"]));
    // Nothing matches: nothing is offered, least of all notes.txt.
    assert_eq!(s.fish(&alpha, "openxla-workspace roll x"), Vec::<String>::new());
    assert_eq!(
        s.fish(&s.ws, "openxla-workspace checkout al"),
        strings(&["alpha", "alpine"])
    );
    let options = s.fish(&s.ws, "openxla-workspace checkout --");
    for option in ["--no-deps", "--exclude-submodule", "--sync", "--json", "--jobs"] {
        assert!(options.contains(&option.to_string()), "{option} in {options:?}");
    }
    // The registry option still completes file names.
    assert!(s
        .fish(&s.ws, "openxla-workspace --registry open")
        .contains(&"openxla-workspace.toml".to_string()));
}

#[test]
fn the_zsh_script_parses_and_asks_the_binary() {
    let s = Setup::new();
    let script = s.ws.join("_openxla-workspace");
    let out = Command::new(BIN).args(["completions", "zsh"]).output().unwrap();
    assert!(out.status.success());
    std::fs::write(&script, &out.stdout).unwrap();
    let text = common::stdout(&out);
    assert!(text.contains("OPENXLA_WORKSPACE_COMPLETE=\"zsh\""), "{text}");
    assert!(
        text.contains("compdef") && text.contains("openxla-workspace"),
        "{text}"
    );
    let parsed = s.shell("zsh", &s.ws).arg("-n").arg(&script).output().unwrap();
    assert!(parsed.status.success(), "zsh -n: {}", common::text(&parsed));
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = Command::new(BIN).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
