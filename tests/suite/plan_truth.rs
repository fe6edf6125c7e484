//! The plan is the single truth: `--dry-run` prints, one line each, the
//! git commands that the run then starts, for every command that changes
//! something. Each test prints a dry run, runs the same command with `-v`
//! (which echoes every git process the tool starts) on the same state, and
//! compares the commands that change something; reads (probes, status
//! queries) are not steps. Nothing printed is skipped: a `<placeholder>`
//! (a value the dry run cannot know, such as a pin inside a project not
//! cloned yet) matches any one word; a line saying `(each ...)` stands for
//! the commands it is repeated as, any number of times; a line printed
//! under a condition (`if ...:`, `unless ...:`, `or, if origin refuses
//! ...:`) may run or not. Every command that ran must be printed, and
//! every printed command under no condition must have run.

use crate::common;
use crate::trust_support;

use std::path::Path;

use common::{normalise, stderr, stdout, text, Fixture};
use regex::Regex;
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
    "merge-base",
    "ls-remote",
    "diff-index",
    "diff-tree",
    "hash-object",
];

/// One git command a dry run printed.
#[derive(Debug)]
struct Planned {
    /// The line as printed, normalised.
    line: String,
    /// The command, placeholders as wildcards.
    pattern: Regex,
    /// It holds a placeholder.
    has_placeholder: bool,
    /// Printed once for a set of commands (`(each ...)`).
    each: bool,
    /// Runs only under the condition printed before it.
    conditional: bool,
}

/// The git commands a dry run printed (`(in DIR) git ...`, after the
/// project name and any condition, before any `  (...)` note), normalised
/// with `replacements`.
fn planned(dry_run: &str, replacements: &[(&str, &str)]) -> Vec<Planned> {
    let placeholder = Regex::new(r"<[^<>]*>(\.\.\.)?").unwrap();
    let mut commands = Vec::new();
    for line in dry_run.lines() {
        let line = normalise(line, replacements);
        let Some(at) = line.find("(in ") else {
            continue;
        };
        let (lead, rest) = line.split_at(at);
        let (command, note) = rest.split_once("  (").unwrap_or((rest, ""));
        let mut pattern = String::from("^");
        let mut last = 0;
        for found in placeholder.find_iter(command) {
            pattern.push_str(&regex::escape(&command[last..found.start()]));
            pattern.push_str(if found.as_str().ends_with("...") {
                ".+"
            } else {
                r"\S+"
            });
            last = found.end();
        }
        pattern.push_str(&regex::escape(&command[last..]));
        pattern.push('$');
        commands.push(Planned {
            line: line.clone(),
            pattern: Regex::new(&pattern).unwrap(),
            has_placeholder: last > 0,
            each: note.starts_with("each "),
            conditional: lead.contains("if ") || lead.contains("unless "),
        });
    }
    commands
}

/// The git command lines a `-v` run echoed that change something, in
/// order, normalised with `replacements`.
fn ran(verbose: &str, replacements: &[(&str, &str)]) -> Vec<String> {
    verbose
        .lines()
        .filter_map(|l| l.strip_prefix("+ "))
        .filter(|cmd| {
            let args = cmd.split_once(") git ").map_or("", |(_, args)| args);
            let mut words = args.split(' ');
            let mut verb = words.next().unwrap_or("");
            loop {
                match verb {
                    "-c" => {
                        words.next();
                    }
                    "--no-optional-locks" => {}
                    _ => break,
                }
                verb = words.next().unwrap_or("");
            }
            // `config --get-regexp` reads; other `config`s set.
            let reads_config = verb == "config" && args.contains(" --get");
            !READS.contains(&verb) && !reads_config
        })
        .map(|c| normalise(c, replacements))
        .collect()
}

/// Matches what ran against what was printed: returns the commands that
/// ran without being printed, or out of the printed order in their folder
/// (one project's steps, and a submodule's, run in order; projects run in
/// parallel), and the printed lines, under no condition and not `each`,
/// that did not run. An exact line is preferred to one with placeholders,
/// and that to an `each` line.
fn compare(planned: &[Planned], ran: &[String]) -> (Vec<String>, Vec<String>) {
    let mut used = vec![false; planned.len()];
    let mut unprinted = Vec::new();
    let mut last_in = std::collections::BTreeMap::new();
    for command in ran {
        let rank = |p: &Planned| if p.each { 2 } else { usize::from(p.has_placeholder) };
        let found = (0..3).find_map(|pass| {
            (0..planned.len()).find(|&i| {
                let p = &planned[i];
                rank(p) == pass && (p.each || !used[i]) && p.pattern.is_match(command)
            })
        });
        match found {
            Some(i) => {
                used[i] = true;
                let dir = command.split_once(") git ").map_or("", |(dir, _)| dir);
                let last = last_in.entry(dir.to_string()).or_insert(0);
                if i < *last {
                    unprinted.push(format!("{command}  (ran after a command printed below it)"));
                }
                *last = i;
            }
            None => unprinted.push(command.clone()),
        }
    }
    let not_run = planned
        .iter()
        .zip(&used)
        .filter(|(p, used)| !**used && !p.each && !p.conditional)
        .map(|(p, _)| p.line.clone())
        .collect();
    (unprinted, not_run)
}

/// Prints the dry run of `args` in `dir`, then runs them with `-v` on the
/// same state; asserts that the dry run changed nothing, that both runs
/// succeed and that the commands agree (see [`compare`]), and returns the
/// commands that ran with `replacements` applied, for the caller to check
/// against what the state calls for.
fn dry_run_then_run(fx: &Fixture, dir: &Path, args: &[&str], replacements: &[(&str, &str)]) -> Vec<String> {
    let before = fx.snapshot();
    let dry = fx.run(dir, &[&["-j", "1", "--dry-run"], args].concat());
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    common::assert_unchanged(&before, &fx.snapshot());
    let real = fx.run(dir, &[&["-j", "1", "-v"], args].concat());
    assert_eq!(real.status.code(), Some(0), "{}", text(&real));
    let ws = fx.ws.display().to_string();
    let org = fx.org.display().to_string();
    let mut all = vec![(ws.as_str(), "WS"), (org.as_str(), "ORG")];
    all.extend_from_slice(replacements);
    let printed = planned(&stdout(&dry), &all);
    let ran = ran(&stderr(&real), &all);
    let (unprinted, not_run) = compare(&printed, &ran);
    assert!(
        unprinted.is_empty() && not_run.is_empty(),
        "the dry run printed other git commands than the run ran\nran, not printed: {unprinted:#?}\nprinted, \
         not run: {not_run:#?}\n--- dry run\n{}\n--- run\n{}",
        stdout(&dry),
        stderr(&real)
    );
    ran
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
    let fx = Fixture::synced();
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
    let fx = Fixture::synced();
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
    let fx = Fixture::synced();
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

/// `checkout --sync` into an empty workspace: the clones, then the sync
/// of pins that only the clones will tell (placeholders naming the pin
/// file they come from), then what no pin moves.
#[test]
fn a_dry_run_of_checkout_sync_into_an_empty_workspace_prints_what_the_checkout_runs() {
    let fx = Fixture::new();
    let ids = [
        (fx.id("LIBA_2"), "LIBA_2"),
        (fx.id("LIBB_2"), "LIBB_2"),
        (fx.id("BASE_2"), "BASE_2"),
    ];
    let commands = dry_run_then_run(&fx, &fx.ws, &["checkout", "--ro", "--sync", "app"], &ids);
    // 4 clones; liba, libb, base checked out at their pins and recorded;
    // liba's two submodules made known, then cloned.
    assert_eq!(commands.len(), 13, "{commands:#?}");
    assert!(commands.contains(&checkout_line_overwriting_with_record("base", "BASE_2")[0]));
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
}

fn checkout_line_overwriting_with_record(dir: &str, commit: &str) -> [String; 2] {
    [overwriting_line(dir, commit), record_line(dir, commit)]
}

/// A sync after liba's pin moves to a commit of its branch `daily` that
/// moves its submodules (subx back, suby elsewhere) and adds one (subz):
/// the submodule commands the dry run prints once, with `each`, are those
/// the sync runs inside each submodule.
#[test]
fn a_dry_run_of_a_sync_after_a_submodule_bump_prints_the_commands_run_in_the_submodules() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let pins = app.join("sync_deps.py");
    let text_ = std::fs::read_to_string(&pins)
        .unwrap()
        .replace(fx.id("LIBA_2"), fx.id("LIBA_D3"));
    std::fs::write(&pins, text_).unwrap();
    let commands = dry_run_then_run(
        &fx,
        &app,
        &["sync"],
        &[(fx.id("LIBA_D3"), "LIBA_D3"), (fx.id("BASE_4"), "BASE_4")],
    );
    let in_submodules = commands
        .iter()
        .filter(|c| c.contains("(in WS/liba/third_party/"))
        .count();
    assert!(in_submodules >= 2, "{commands:#?}");
    assert!(
        commands
            .iter()
            .any(|c| c.contains("submodule update") && c.ends_with("third_party/subz")),
        "{commands:#?}"
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_D3"));
    assert_eq!(fx.head("base"), fx.id("BASE_4"));
}

/// `pin --require-upstream`: the fetches of each dep's tracking branch
/// (the ancestry checks after them only read).
#[test]
fn a_dry_run_of_pin_require_upstream_prints_the_fetches_it_runs() {
    let fx = Fixture::synced();
    let commands = dry_run_then_run(&fx, &fx.ws.join("app"), &["pin", "--require-upstream"], &[]);
    assert_eq!(
        commands,
        [
            "(in WS/liba) git fetch --no-tags origin +refs/heads/main:refs/remotes/origin/main",
            "(in WS/libb) git fetch --no-tags origin +refs/heads/main:refs/remotes/origin/main",
        ]
    );
}

/// Through the object cache: the first checkout makes each mirror (a bare
/// clone, its settings, the rename into place); a later sync that clones
/// a missing dep refreshes that dep's mirror first (the tips kept, a
/// fetch), then clones from it.
#[test]
fn a_dry_run_through_the_cache_prints_the_mirror_refresh_it_runs() {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let cache_dir = cache.canonicalize().unwrap().display().to_string();
    let with_cache = |args: &[&'static str]| -> Vec<String> {
        let mut all = vec!["--cache-dir".to_string(), cache_dir.clone()];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    };
    let args = with_cache(&["checkout", "--sync", "app"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let commands = dry_run_then_run(&fx, &fx.ws, &args, &[(&cache_dir, "CACHE")]);
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("(in CACHE) git clone --bare")),
        "{commands:#?}"
    );
    std::fs::remove_dir_all(fx.ws.join("libb")).unwrap();
    let args = with_cache(&["sync"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let commands = dry_run_then_run(&fx, &fx.ws.join("app"), &args, &[(&cache_dir, "CACHE")]);
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("(in CACHE/") && c.ends_with("fetch --prune origin")),
        "{commands:#?}"
    );
}

/// A partial checkout: the dry run prints the filter on the project's clone
/// and on its submodules' clones, as the run then clones them.
#[test]
fn a_dry_run_of_a_blobless_checkout_prints_the_filter_of_every_clone() {
    let fx = Fixture::new();
    // Servers that serve partial clones, as GitHub does.
    for name in ["liba", "subx", "suby"] {
        fx.git(&fx.remote(name), &["config", "uploadpack.allowFilter", "true"]);
    }
    let args = ["checkout", "--filter", "blob:none", "--no-deps", "liba"];
    let commands = dry_run_then_run(&fx, &fx.ws, &args, &[]);
    let filtered: Vec<&String> = commands
        .iter()
        .filter(|c| c.contains("--filter=blob:none"))
        .collect();
    assert!(
        filtered.iter().any(|c| c.contains(" clone "))
            && filtered.iter().any(|c| c.contains(" submodule update ")),
        "{commands:#?}"
    );
}

/// `cache refresh`: each mirror's refresh (its tips kept, then a fetch) is
/// printed as the git commands the refresh then runs.
#[test]
fn a_dry_run_of_cache_refresh_prints_the_fetches_it_runs() {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let cache_dir = cache.canonicalize().unwrap().display().to_string();
    fx.ok(&["--cache-dir", &cache_dir, "checkout", "--sync", "app"]);
    let commands = dry_run_then_run(
        &fx,
        &fx.ws,
        &["--cache-dir", &cache_dir, "cache", "refresh"],
        &[(&cache_dir, "CACHE")],
    );
    let fetches = commands
        .iter()
        .filter(|c| c.ends_with("fetch --prune origin"))
        .count();
    assert_eq!(fetches, 6, "one fetch per mirror: {commands:#?}");
}

/// `roll --sync`: the roll's queries (`ls-remote`) only read and its file
/// edit is printed as such; the sync after it, to pins the roll is about
/// to write, is printed with those pins as placeholders.
#[test]
fn a_dry_run_of_roll_sync_prints_the_sync_to_the_rolled_pins() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let dry = fx.run(&app, &["--dry-run", "roll", "nightly"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        stdout(&dry).contains(&format!("would write {}", app.join("sync_deps.py").display())),
        "{}",
        text(&dry)
    );
    let commands = dry_run_then_run(
        &fx,
        &app,
        &["roll", "nightly", "--sync"],
        &[(fx.id("LIBA_3"), "LIBA_3"), (fx.id("LIBB_3"), "LIBB_3")],
    );
    assert!(
        commands.contains(&checkout_line("liba", "LIBA_3")),
        "{commands:#?}"
    );
    assert!(
        commands.contains(&checkout_line("libb", "LIBB_3")),
        "{commands:#?}"
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_3"));
}

/// `checkout --sync A B` resolves the pins of both roots together, as
/// `sync` at the top of the workspace does: libb, a root, is not moved to
/// app's pin of it, and base goes to libb's pin (nearer than liba's). A
/// `sync` of the roots afterwards then finds nothing to do.
#[test]
fn checkout_sync_of_two_roots_resolves_them_as_sync_does() {
    let fx = Fixture::new();
    let ids = [
        (fx.id("LIBA_2"), "LIBA_2"),
        (fx.id("LIBB_3"), "LIBB_3"),
        (fx.id("BASE_3"), "BASE_3"),
    ];
    dry_run_then_run(&fx, &fx.ws, &["checkout", "--sync", "app", "libb"], &ids);
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
    assert_eq!(fx.head("base"), fx.id("BASE_3"));
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    let out = fx.ok(&["--dry-run", "sync"]);
    assert!(
        stdout(&out).contains("  nothing: every dep is at its pin"),
        "{}",
        text(&out)
    );
}

/// The comparison itself: a placeholder matches one word, `<X>...` one or
/// more, an `each` line any number of commands, a conditional line may
/// not run; a command run but not printed, an unconditional line not run,
/// and a folder's commands out of the printed order are all caught.
/// After a sync killed (`kill -9`) just after its checkout of liba ran,
/// leaving a git lock file there: the dry run prints what the next run
/// first puts right (the lock it removes; the checkout finished, so there
/// is nothing to put right there), then the sync, which finds liba at its
/// pin; the run does the same.
#[test]
fn a_dry_run_after_an_interrupted_sync_prints_the_recovery_and_the_sync_that_the_run_then_does() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["checkout", "-q", fx.id("LIBA_1")]);
    let left = liba.join(".git/HEAD.lock");
    let blocked = trust_support::start_blocked_with(
        &fx,
        &app,
        "checkout",
        &["-j", "1", "sync"],
        &[("TRUST_GIT_LEAVE_LOCK", left.as_os_str())],
    );
    let killed = blocked.child.id();
    blocked.kill_9();
    assert!(left.exists());
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"), "the checkout ran, unrecorded");

    let dry = fx.run(&app, &["--dry-run", "sync"]);
    let printed = fx.normalise(&stdout(&dry));
    let run = format!("process {killed} on {} running `sync`", common::hostname());
    // The checkout finished (HEAD is at its commit): nothing to put right
    // there but the lock.
    assert!(
        printed.starts_with(&format!(
            "the previous run ({run}) did not finish; first, what it left is put right:\n  liba: remove \
             .git/HEAD.lock  (a git lock file left by {run}, unless a process holds it open by then)\nPins \
             resolved"
        )),
        "{printed}"
    );
    assert!(left.exists(), "a dry run changes nothing");
    let commands = dry_run_then_run(
        &fx,
        &app,
        &["sync"],
        &[(fx.id("LIBA_1"), "LIBA_1"), (fx.id("LIBA_2"), "LIBA_2")],
    );
    assert_eq!(commands, Vec::<String>::new());
    assert!(!left.exists());
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
}

/// A sync stopped between git's writing liba's index and files at the pin
/// and its moving HEAD there (the state is made by hand, with the record
/// the run keeps): the dry run prints the repair, and the sync planned on
/// the state before it under the condition that the repair did not finish
/// the checkout; the run finishes it (moves HEAD) and leaves liba be.
#[test]
fn a_dry_run_after_a_checkout_cut_between_index_and_head_prints_the_repair_the_run_then_does() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["checkout", "-q", "--detach", fx.id("LIBA_1")]);
    let since = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // git's checkout wrote the index and the files, then was killed.
    fx.git(&liba, &["read-tree", "-m", "-u", fx.id("LIBA_2")]);
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    std::fs::write(
        fx.ws.join(".openxla_workspace.lock"),
        format!(
            "pid=999999\nhost={}\ncommand=sync\nsince={}.0\nstarting={} liba\ncheckout=0 {} {} liba at={}\n",
            common::hostname(),
            since.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            at.as_millis(),
            fx.id("LIBA_1"),
            fx.id("LIBA_2"),
            at.as_millis()
        ),
    )
    .unwrap();
    let dry = fx.run(&app, &["-j", "1", "--dry-run", "sync"]);
    let printed = fx.normalise(&stdout(&dry));
    assert!(
        printed.contains("liba: unless the repair above finished the checkout there: (in WS/liba) git"),
        "{printed}"
    );
    let commands = dry_run_then_run(
        &fx,
        &app,
        &["sync"],
        &[(fx.id("LIBA_1"), "LIBA_1"), (fx.id("LIBA_2"), "LIBA_2")],
    );
    assert_eq!(
        commands,
        ["(in WS/liba) git update-ref --no-deref -m 'openxla-workspace: finish a checkout an interrupted run cut \
          short' HEAD LIBA_2 LIBA_1"
            .to_string()]
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.git(&liba, &["status", "--porcelain"]), "");
}

#[test]
fn the_comparison_tells_printed_from_run() {
    let dry = "a: (in WS/a) git fetch origin <a's pin in app/sync_deps.py>\n\
               \x20 or, if origin refuses a fetch by id: (in WS/a) git fetch origin main\n\
               a: (in WS/a) git checkout --detach <a's pin in app/sync_deps.py> --\n\
               \x20 then, if a submodule of a is not initialised: (in WS/a) git submodule init -- <PATH>...\n\
               \x20 then (in WS/a) git submodule update -- <PATH>  (each submodule of a not initialised)\n\
               rename WS/x -> WS/y\n";
    let printed = planned(dry, &[]);
    assert_eq!(printed.len(), 5);
    let ran = |commands: &[&str]| -> (Vec<String>, Vec<String>) {
        let commands: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
        compare(&printed, &commands)
    };
    let nothing = (vec![], vec![]);
    assert_eq!(
        ran(&[
            "(in WS/a) git fetch origin 1234",
            "(in WS/a) git checkout --detach 1234 --",
            "(in WS/a) git submodule init -- s t",
            "(in WS/a) git submodule update -- s",
            "(in WS/a) git submodule update -- t",
        ]),
        nothing
    );
    assert_eq!(
        ran(&[
            "(in WS/a) git fetch origin 1234",
            "(in WS/a) git checkout --detach 1234 --"
        ]),
        nothing
    );
    let (unprinted, not_run) = ran(&["(in WS/a) git fetch origin 1234", "(in WS/b) git gc"]);
    assert_eq!(unprinted, ["(in WS/b) git gc"]);
    assert_eq!(not_run.len(), 1, "{not_run:?}");
    assert!(not_run[0].contains("checkout --detach"));
    let (unprinted, _) = ran(&[
        "(in WS/a) git checkout --detach 1234 --",
        "(in WS/a) git fetch origin 1234",
    ]);
    assert_eq!(unprinted.len(), 1, "{unprinted:?}");
    assert!(unprinted[0].ends_with("(ran after a command printed below it)"));
}
