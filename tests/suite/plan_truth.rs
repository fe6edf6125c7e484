//! The plan is the single truth: `sync --dry-run` prints exactly the git
//! commands that a sync of the same state then runs, in order — the
//! fetches that make missing pins present as well as the checkouts that
//! move deps. Each test prints a dry run, runs the sync with `-v` (which
//! echoes every git process the tool starts), and compares the commands
//! that change something; reads (probes, status queries) are not steps.
//! A step that were only printed, or only run, makes the two differ.

use crate::common;
use crate::trust_support;

use std::path::Path;

use common::{normalise, stderr, stdout, text, Fixture};
use trust_support::push_upstream;

/// git commands that only read: they are how the tool looks, not steps.
const READS: &[&str] = &[
    "--version",
    "cat-file",
    "rev-parse",
    "ls-files",
    "symbolic-ref",
    "for-each-ref",
    "status",
    "log",
];

/// The git command lines a dry run prints in its plan (`(in DIR) git ...`),
/// in order: each step's commands, without the alternative it runs only if
/// origin refuses a fetch by id, and without the submodule templates
/// (`<PATH>`), whose commands depend on each submodule.
fn planned(dry_run: &str) -> Vec<String> {
    let plan = dry_run
        .split_once("Would run:\n")
        .unwrap_or_else(|| panic!("no plan in:\n{dry_run}"))
        .1;
    let mut commands = Vec::new();
    for line in plan.lines() {
        if line.starts_with("  or, if origin refuses") {
            continue;
        }
        let step = match line.strip_prefix("  then ") {
            Some(rest) => rest,
            None => line.split_once(": ").map_or(line, |(_, step)| step),
        };
        if step.starts_with("(in ") && !step.contains("<PATH>") {
            commands.push(step.to_string());
        }
    }
    commands
}

/// The git command lines a `-v` run echoed that change something, in order.
fn ran(verbose: &str) -> Vec<String> {
    verbose
        .lines()
        .filter_map(|l| l.strip_prefix("+ "))
        .filter(|cmd| {
            let args = cmd.split_once(") git ").map_or("", |(_, args)| args);
            let mut words = args.split(' ');
            let mut verb = words.next().unwrap_or("");
            while verb == "-c" {
                words.next();
                verb = words.next().unwrap_or("");
            }
            !READS.contains(&verb)
        })
        .map(str::to_string)
        .collect()
}

/// Prints the dry run of `args` in `dir`, then runs them with `-v` on the
/// same state; asserts that the commands agree and both runs succeed, and
/// returns the commands with `replacements` applied, for the caller to
/// check against what the state calls for.
fn dry_run_then_run(fx: &Fixture, dir: &Path, args: &[&str], replacements: &[(&str, &str)]) -> Vec<String> {
    let before = fx.snapshot();
    let dry = fx.run(dir, &[&["-j", "1", "--dry-run"], args].concat());
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    common::assert_unchanged(&before, &fx.snapshot());
    let real = fx.run(dir, &[&["-j", "1", "-v"], args].concat());
    assert_eq!(real.status.code(), Some(0), "{}", text(&real));
    let ws = fx.ws.display().to_string();
    let mut all = vec![(ws.as_str(), "WS")];
    all.extend_from_slice(replacements);
    let shown =
        |commands: Vec<String>| -> Vec<String> { commands.iter().map(|c| normalise(c, &all)).collect() };
    let planned = shown(planned(&stdout(&dry)));
    let ran = shown(ran(&stderr(&real)));
    assert_eq!(
        planned,
        ran,
        "the dry run printed other git commands than the run ran\n--- dry run\n{}\n--- run\n{}",
        stdout(&dry),
        stderr(&real)
    );
    planned
}

fn checkout_line(dir: &str, commit: &str) -> String {
    format!(
        "(in WS/{dir}) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet \
         --no-overwrite-ignore --detach {commit} --"
    )
}

fn overwriting_line(dir: &str, commit: &str) -> String {
    format!(
        "(in WS/{dir}) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --force \
         --detach {commit} --"
    )
}

fn record_line(dir: &str, commit: &str) -> String {
    format!("(in WS/{dir}) git update-ref -m 'openxla-workspace: checked out' refs/openxla-workspace/pin {commit}")
}

/// Pins that are not here yet, at two levels: app pins libb at a commit
/// pushed upstream since, and liba at a commit of its own that pins base at
/// one pushed upstream since. The sync fetches both by id, then moves
/// liba, libb and base; the dry run shows the same fetches and moves.
#[test]
fn a_dry_run_prints_the_fetches_and_checkouts_that_the_sync_then_runs() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    let new_libb = push_upstream(&fx, "libb", &[("NEWS", "libb news\n")]);
    let new_base = push_upstream(&fx, "base", &[("NEWS", "base news\n")]);
    // In liba, a commit (kept on a branch) that pins base at new_base;
    // liba's HEAD goes back to where the sync left it.
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["checkout", "-q", "-b", "next"]);
    let pins = liba.join("sync_deps.py");
    let text_ = std::fs::read_to_string(&pins).unwrap();
    std::fs::write(&pins, text_.replace(fx.id("BASE_2"), &new_base)).unwrap();
    fx.git(&liba, &["commit", "-q", "-am", "pin base upstream"]);
    let new_liba = fx.git(&liba, &["rev-parse", "HEAD"]);
    fx.git(&liba, &["checkout", "-q", "--detach", fx.id("LIBA_2")]);
    // app's pin file as a developer edits it (not committed).
    let app = fx.ws.join("app");
    let pins = app.join("sync_deps.py");
    let text_ = std::fs::read_to_string(&pins)
        .unwrap()
        .replace(fx.id("LIBA_2"), &new_liba)
        .replace(fx.id("LIBB_2"), &new_libb);
    std::fs::write(&pins, text_).unwrap();

    let commands = dry_run_then_run(
        &fx,
        &app,
        &["sync"],
        &[
            (&new_liba, "NEW_LIBA"),
            (&new_libb, "NEW_LIBB"),
            (&new_base, "NEW_BASE"),
        ],
    );
    assert_eq!(
        commands,
        [
            // Level 1: libb's pin, missing; level 2: base's, which only
            // liba's pin file at NEW_LIBA names.
            "(in WS/libb) git fetch --no-tags origin NEW_LIBB".to_string(),
            "(in WS/base) git fetch --no-tags origin NEW_BASE".to_string(),
            checkout_line("liba", "NEW_LIBA"),
            record_line("liba", "NEW_LIBA"),
            checkout_line("libb", "NEW_LIBB"),
            record_line("libb", "NEW_LIBB"),
            checkout_line("base", "NEW_BASE"),
            record_line("base", "NEW_BASE"),
        ]
    );
    assert_eq!(fx.head("liba"), new_liba);
    assert_eq!(fx.head("libb"), new_libb);
    assert_eq!(fx.head("base"), new_base);
}

/// A missing dep with `--depth`: a new repository in its temporary folder
/// with just the pin fetched, checked out there and renamed into place.
#[test]
fn a_dry_run_prints_the_repository_made_for_a_missing_pin_as_the_sync_makes_it() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    std::fs::remove_dir_all(fx.ws.join("libb")).unwrap();
    let commands = dry_run_then_run(
        &fx,
        &fx.ws.join("app"),
        &["sync", "--depth", "1"],
        &[
            (fx.id("LIBB_2"), "LIBB_2"),
            (&fx.org.display().to_string(), "ORG"),
        ],
    );
    let partial = "WS/.openxla-partial-libb";
    let init = commands[0].clone();
    assert!(
        init.starts_with("(in WS) git init ") && init.ends_with(partial),
        "{init}"
    );
    assert_eq!(
        commands[1..],
        [
            format!("(in {partial}) git remote add origin file://ORG/rw/libb.git"),
            format!("(in {partial}) git fetch --no-tags --depth=1 origin LIBB_2"),
            overwriting_line(".openxla-partial-libb", "LIBB_2"),
            record_line(".openxla-partial-libb", "LIBB_2"),
        ]
    );
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert!(!fx.ws.join(".openxla-partial-libb").exists());
}

/// A missing dep without `--depth`: cloned without its files, which the
/// apply phase writes once, at the pin.
#[test]
fn a_dry_run_prints_the_clone_of_a_missing_dep_as_the_sync_makes_it() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    std::fs::remove_dir_all(fx.ws.join("base")).unwrap();
    let commands = dry_run_then_run(
        &fx,
        &fx.ws.join("app"),
        &["sync"],
        &[
            (fx.id("BASE_2"), "BASE_2"),
            (&fx.org.display().to_string(), "ORG"),
        ],
    );
    assert_eq!(
        commands,
        [
            "(in WS) git clone --no-checkout -- file://ORG/rw/base.git WS/.openxla-partial-base".to_string(),
            overwriting_line("base", "BASE_2"),
            record_line("base", "BASE_2"),
        ]
    );
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
}

/// A pin the dry run cannot read (liba's, at a commit not fetched into its
/// shallow clone yet) may win over one it can (libb's pin of base): the
/// dry run then plans nothing for base, says why, and the sync, which
/// reads liba's pins, leaves base where it is.
#[test]
fn a_dry_run_plans_nothing_that_pins_it_cannot_read_yet_may_change() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "--depth", "1", "app"]);
    let app = fx.ws.join("app");
    let pins = app.join("sync_deps.py");
    let text_ = std::fs::read_to_string(&pins)
        .unwrap()
        .replace(fx.id("LIBA_2"), fx.id("LIBA_3"));
    std::fs::write(&pins, text_).unwrap();
    let dry = fx.run(&app, &["--dry-run", "sync"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let shown = normalise(
        &stdout(&dry),
        &[
            (&fx.ws.display().to_string(), "WS"),
            (fx.id("LIBA_3"), "LIBA_3"),
            (fx.id("LIBB_2"), "LIBB_2"),
        ],
    );
    let resolved = shown.split_once("Would run:").unwrap().0;
    assert_eq!(
        resolved,
        "Pins resolved for app:\n  liba: LIBA_3 (pinned by app)\n  libb: LIBB_2 (pinned by app)\n  liba: its own \
         pins are not known until it is cloned or fetched\n  base: its pin is not known until liba's pins are\n"
    );
    let commands = dry_run_then_run(&fx, &app, &["sync"], &[(fx.id("LIBA_3"), "LIBA_3")]);
    assert_eq!(
        commands,
        [
            "(in WS/liba) git fetch --no-tags origin LIBA_3".to_string(),
            checkout_line("liba", "LIBA_3"),
            record_line("liba", "LIBA_3"),
        ]
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_3"));
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
}

/// The git processes of a cold `checkout --sync` and of a sync with nothing
/// to do, as `-v` shows them: one `cat-file --batch` probe per dep, and a
/// fetch only when a probe says a pin is missing (none here). A guard for
/// the benchmark, which counts these.
#[test]
fn a_cold_checkout_sync_and_a_sync_with_nothing_to_do_start_only_the_git_they_need() {
    let fx = Fixture::new();
    let verbs = |out: &std::process::Output| -> Vec<String> {
        stderr(out)
            .lines()
            .filter_map(|l| l.strip_prefix("+ "))
            .map(|cmd| {
                let args = cmd.split_once(") git ").map_or("", |(_, args)| args);
                let words: Vec<&str> = args.split(' ').collect();
                let at = if words[0] == "-c" { 2 } else { 0 };
                words[at..].iter().take(2).copied().collect::<Vec<_>>().join(" ")
            })
            .collect()
    };
    let out = fx.ok(&["-j", "1", "-v", "checkout", "--sync", "app"]);
    assert_eq!(
        verbs(&out),
        [
            "--version",
            "clone --",
            "clone --no-checkout",
            "clone --no-checkout",
            "clone --no-checkout",
            // The sync: one probe per dep.
            "cat-file --batch",
            "cat-file --batch",
            "cat-file --batch",
            // liba: its files written at the pin, recorded, submodules.
            "rev-parse --quiet",
            "checkout --no-recurse-submodules",
            "update-ref -m",
            "ls-files --stage",
            "submodule --quiet",
            // Their URLs: the host each talks to, so that none starts
            // to a host the run found shut (and where a failure came from).
            "config -z",
            "config -z",
            "submodule update",
            "submodule update",
            // libb, base.
            "rev-parse --quiet",
            "checkout --no-recurse-submodules",
            "update-ref -m",
            "rev-parse --quiet",
            "checkout --no-recurse-submodules",
            "update-ref -m",
        ],
        "{}",
        text(&out)
    );
    let out = fx.ok(&["-j", "1", "-v", "sync", "--repo", "app"]);
    assert_eq!(
        verbs(&out),
        [
            "--version",
            "cat-file --batch",
            "cat-file --batch",
            "cat-file --batch",
            "ls-files --stage"
        ],
        "{}",
        text(&out)
    );
}
