//! `sync`, `pin`, `checkout --sync` and the generated `sync_deps.py`,
//! against the fixture organisation. In the fixture, app pins liba@2 and
//! libb@2; liba@2 pins base@2 and libb@2 pins base@3 (the planted conflict).

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{hermetic, short, stderr, stdout, text, Fixture};

#[test]
fn checkout_sync_puts_every_dep_at_its_nearest_pin_and_reports_the_conflict() {
    let fx = Fixture::new();
    let out = fx.ok(&["checkout", "--sync", "app"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert_eq!(
        fx.head("base"),
        fx.id("BASE_2"),
        "liba comes first in app's deps, so its pin wins"
    );
    assert_eq!(fx.head("app"), fx.id("APP_3"), "the root itself is not moved");
    let conflict = format!(
        "base: using {} (pinned by liba); libb pins {}",
        short(fx.id("BASE_2")),
        short(fx.id("BASE_3"))
    );
    assert!(stderr(&out).contains(&conflict), "{}", text(&out));
    assert!(
        stdout(&out).contains(&format!("base: {} (pinned by liba)", short(fx.id("BASE_2")))),
        "{}",
        text(&out)
    );
    // liba's submodules follow its new commit.
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    assert!(
        !status.lines().any(|l| l.starts_with('-') || l.starts_with('+')),
        "{status}"
    );
}

#[test]
fn sync_depth_fetches_just_the_pin_of_each_missing_dep_in_one_connection() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    let app = fx.ws.join("app");
    let out = fx.run(&app, &["-v", "sync", "--depth", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    // No clone of the branch tip: an empty repository, then one fetch,
    // which brought the pinned commit and nothing else.
    assert!(!err.contains(" git clone "), "{err}");
    for (dep, pin) in [("liba", "LIBA_2"), ("libb", "LIBB_2"), ("base", "BASE_2")] {
        let fetches = err
            .lines()
            .filter(|l| l.contains(" git fetch ") && l.contains(&format!("partial-{dep})")))
            .count();
        assert_eq!(fetches, 1, "{dep}:\n{err}");
        assert_eq!(
            fx.git(&fx.ws.join(dep), &["rev-list", "--all"]),
            fx.id(pin),
            "{dep} holds its pin alone"
        );
        assert!(tree_is_written(&fx, dep), "{dep}'s files are not all there");
        assert_eq!(
            fx.git(&fx.ws.join(dep), &["remote", "get-url", "origin"]),
            format!("file://{}", fx.remote(dep).display()).replace("/git/", "/rw/")
        );
    }
    assert!(!fx.ws.join(".openxla-partial-liba").exists());
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
    assert_eq!(
        fx.git(&fx.ws.join("base"), &["rev-parse", "--is-shallow-repository"]),
        "true"
    );

    let again = fx.run(&app, &["-v", "sync", "--depth", "1"]);
    assert!(again.status.success(), "{}", text(&again));
    let err = stderr(&again);
    assert!(
        !err.contains("git fetch") && !err.contains("git clone") && !err.contains("git checkout"),
        "{err}"
    );
    assert!(err.contains("3 already at pin"), "{err}");
}

/// Pushes two commits to `name`'s remote; returns the first (not the tip).
fn push_two_commits(fx: &Fixture, name: &str) -> String {
    let first = fx.push(name, "main", &[("new.txt", "change 1\n")], "upstream change 1");
    fx.push(name, "main", &[("new.txt", "change 2\n")], "upstream change 2");
    first
}

#[test]
fn sync_falls_back_to_the_tracking_branch_when_the_server_refuses_a_fetch_by_id() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--depth", "1", "--sync", "app"]);
    let new_pin = push_two_commits(&fx, "libb");
    let pins = fx.ws.join("app/sync_deps.py");
    let edited = std::fs::read_to_string(&pins)
        .unwrap()
        .replace(fx.id("LIBB_2"), &new_pin);
    std::fs::write(&pins, edited).unwrap();
    // Protocol v0 servers refuse wants for commits that are not ref tips.
    let out = fx
        .cmd(&fx.ws.join("app"))
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_1", "protocol.version")
        .env("GIT_CONFIG_VALUE_1", "0")
        .args(["-v", "sync"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("origin refused a fetch by id; fetching main instead"),
        "{err}"
    );
    // The checkout was shallow (--depth 1), so the branch came whole.
    assert_eq!(fx.head("libb"), new_pin);
    let libb = fx.ws.join("libb");
    assert_eq!(fx.git(&libb, &["rev-parse", "--is-shallow-repository"]), "false");
    assert_eq!(
        fx.git(&libb, &["rev-parse", "origin/main"]),
        fx.git(&fx.remote("libb"), &["rev-parse", "main"])
    );
}

#[test]
fn pin_after_sync_leaves_the_file_byte_identical() {
    // Built in place: the fixture's pin files then name this organisation's
    // URLs, as a real project's name its real ones.
    let fx = Fixture::built_in_place();
    fx.ok(&["checkout", "--sync", "app"]);
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    let committed = std::fs::read_to_string(&file).unwrap();
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    let out = fx.run(&app, &["pin"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), committed);
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        mtime,
        "an unchanged file is not rewritten"
    );
    assert_eq!(fx.git(&app, &["status", "--porcelain"]), "");
    let line = format!("liba: {} 2024-01-01 : ", short(fx.id("LIBA_2")));
    assert!(stdout(&out).contains(&line), "{}", text(&out));
    assert!(
        committed.contains("SUBMODULES = {\n  \"liba\": 1\n}"),
        "{committed}"
    );

    // And again after a sync that had nothing to do.
    fx.ok(&["sync", "--repo", "app"]);
    fx.ok(&["pin", "--repo", "app"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), committed);
}

#[test]
fn pin_after_moving_a_dep_rewrites_only_that_entry() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    fx.ok(&["pin", "--repo", "app"]);
    let before = std::fs::read_to_string(app.join("sync_deps.py")).unwrap();
    fx.git(
        &fx.ws.join("libb"),
        &["checkout", "--quiet", "--detach", fx.id("LIBB_3")],
    );
    fx.ok(&["pin", "--repo", "app"]);
    let after = std::fs::read_to_string(app.join("sync_deps.py")).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].1.contains(fx.id("LIBB_3")), "{changed:?}");
}

#[test]
fn pin_require_upstream_rejects_a_local_only_commit_and_writes_nothing() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let before = std::fs::read(app.join("sync_deps.py")).unwrap();
    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "--quiet", "-b", "work"]);
    std::fs::write(libb.join("local.txt"), "not pushed").unwrap();
    fx.git(&libb, &["add", "local.txt"]);
    fx.git(&libb, &["commit", "--quiet", "-m", "local only"]);
    let local = fx.git(&libb, &["rev-parse", "HEAD"]);

    let out = fx.run(&app, &["pin", "--require-upstream"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("error: libb: {} is not on origin/main", short(&local))),
        "{err}"
    );
    assert!(!err.contains("error: liba"), "liba's commit is upstream: {err}");
    assert_eq!(std::fs::read(app.join("sync_deps.py")).unwrap(), before);

    // Without the check, the local commit is pinned.
    fx.ok(&["pin", "--repo", "app"]);
    assert!(std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .contains(&local));
}

#[test]
fn pin_of_a_dep_that_is_not_checked_out_names_it() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    fx.ok(&["checkout", "--no-deps", "liba"]);
    let out = fx.run(&fx.ws.join("app"), &["pin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("libb is not checked out"), "{}", text(&out));
}

#[test]
fn a_pinned_commit_absent_upstream_stops_sync_before_any_working_tree_changes() {
    let fx = Fixture::after(&["checkout", "app"]);
    let app = fx.ws.join("app");
    let pins = app.join("sync_deps.py");
    let missing = "1234567890abcdef1234567890abcdef12345678";
    let text_ = std::fs::read_to_string(&pins)
        .unwrap()
        .replace(fx.id("LIBB_2"), missing);
    std::fs::write(&pins, text_).unwrap();
    let heads: Vec<String> = ["liba", "libb", "base"].iter().map(|n| fx.head(n)).collect();
    let out = fx.run(&app, &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "error: libb: commit {missing} (pinned by app) is not on libb's origin"
        )),
        "{err}"
    );
    assert!(err.contains("stopped before changing any working tree"), "{err}");
    let after: Vec<String> = ["liba", "libb", "base"].iter().map(|n| fx.head(n)).collect();
    assert_eq!(heads, after);
}

#[test]
fn a_dirty_dep_whose_change_conflicts_is_reported_and_keeps_its_change() {
    let fx = Fixture::after(&["checkout", "app"]);
    let base = fx.ws.join("base");
    std::fs::write(base.join("base.txt"), "my uncommitted work\n").unwrap();
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: base: local changes in") && err.contains("would be overwritten"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(base.join("base.txt")).unwrap(),
        "my uncommitted work\n"
    );
    assert_eq!(fx.head("base"), fx.id("BASE_4"));
    // The others were synced.
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
}

#[test]
fn sync_refuses_to_orphan_a_detached_commit_unless_forced() {
    let fx = Fixture::synced();
    let libb = fx.ws.join("libb");
    std::fs::write(libb.join("experiment.txt"), "try").unwrap();
    fx.git(&libb, &["add", "experiment.txt"]);
    fx.git(&libb, &["commit", "--quiet", "-m", "detached experiment"]);
    let experiment = fx.git(&libb, &["rev-parse", "HEAD"]);

    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("a detached commit that no branch contains"), "{err}");
    assert!(
        err.contains(&format!("branch keep-{}", short(&experiment))),
        "{err}"
    );
    assert_eq!(fx.head("libb"), experiment);

    fx.ok(&["sync", "--repo", "app", "--force"]);
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
}

#[test]
fn sync_exclude_dep_applies_at_every_level() {
    let fx = Fixture::after(&["checkout", "app"]);
    fx.ok(&["sync", "--repo", "app", "--exclude-dep", "^base$"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_4"), "excluded at level 2");
}

#[test]
fn sync_exclude_submodule_leaves_it_uninitialised() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    fx.ok(&["sync", "--repo", "app", "--exclude-submodule", "liba:.*subx"]);
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    let subx = status.lines().find(|l| l.contains("subx")).unwrap();
    let suby = status.lines().find(|l| l.contains("suby")).unwrap();
    assert!(subx.starts_with('-') && suby.starts_with(' '), "{status}");
}

/// `--exclude-dep` and `--exclude-submodule` take several values (today's
/// scripts call the original tool so), and each exclusion is one line.
#[test]
fn sync_exclude_flags_take_several_values_and_each_exclusion_is_reported() {
    let fx = Fixture::after(&["checkout", "app"]);
    let out = fx.run(
        &fx.ws.join("app"),
        &[
            "-j",
            "1",
            "sync",
            "--exclude-dep",
            "libb",
            "base",
            "--exclude-submodule",
            "subx",
            "suby",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"), "excluded");
    assert_eq!(fx.head("base"), fx.id("BASE_4"), "excluded");
    assert_eq!(
        common::normalise(&stderr(&out), &[]),
        format!(
            "libb: excluded (--exclude-dep libb)\n\
             base: excluded (--exclude-dep base)\n\
             liba: checking out {}\n\
             liba: submodule third_party/subx excluded (--exclude-submodule subx)\n\
             liba: submodule third_party/suby excluded (--exclude-submodule suby)\n\
             liba: left branch main (at {})\n\
             sync app: 1 moved in TIME\n",
            short(fx.id("LIBA_2")),
            short(fx.id("LIBA_3"))
        )
    );
    assert_eq!(
        stdout(&out),
        format!(
            "liba: {} (pinned by app), was {}\n",
            short(fx.id("LIBA_2")),
            short(fx.id("LIBA_3"))
        )
    );
}

/// On a terminal too (the live display), and once each although
/// `checkout --sync` meets them in its checkout and again in its sync.
#[test]
fn checkout_sync_reports_each_exclusion_once_on_a_terminal_too() {
    let fx = Fixture::new();
    let (code, screen) = common::run_in_pty(
        &fx,
        &fx.ws,
        &[
            "-j",
            "1",
            "checkout",
            "--sync",
            "app",
            "--exclude-dep",
            "libb",
            "--exclude-submodule",
            "subx",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("\x1b["), "no live display: {screen:?}");
    let org = fx.org.display().to_string();
    assert_eq!(
        common::normalise(&common::screen(&screen), &[(&org, "ORG")]),
        format!(
            "libb: excluded (--exclude-dep libb)\n\
             app: cloned\n\
             liba: cloned\n\
             base: cloned\n\
             checkout: 3 cloned in TIME\n\
             liba: submodule third_party/subx excluded (--exclude-submodule subx)\n\
             liba: {} (pinned by app), cloned\n\
             base: {} (pinned by liba), cloned\n\
             sync app: 2 moved in TIME\n",
            short(fx.id("LIBA_2")),
            short(fx.id("BASE_2"))
        )
    );
    assert!(!fx.ws.join("libb").exists());
}

#[test]
fn sync_dry_run_prints_the_resolution_and_changes_nothing() {
    let fx = Fixture::after(&["checkout", "app"]);
    let before = fx.snapshot();
    let out = fx.ok(&["--dry-run", "sync", "--repo", "app"]);
    let plan = stdout(&out);
    assert!(
        plan.contains(&format!("  base: {} (pinned by liba)", fx.id("BASE_2"))),
        "{plan}"
    );
    assert!(
        plan.contains(&format!(
            "git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --no-overwrite-ignore --detach {} --",
            fx.id("LIBA_2")
        )),
        "{plan}"
    );
    common::assert_unchanged(&before, &fx.snapshot());
}

#[test]
fn sync_at_the_top_of_a_workspace_without_roots_says_how_to_name_a_project() {
    let fx = Fixture::new();
    // Cloned by hand: the workspace remembers no root.
    let url = format!("file://{}", fx.remote("app").display());
    fx.git(&fx.ws, &["clone", "--quiet", &url, "app"]);
    let out = fx.run(&fx.ws, &["sync"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {} is the top of the workspace, which has no roots yet: the projects `checkout NAME` names \
             become its roots, and `sync` here syncs them all. Run `sync` inside a project's folder, or name one \
             with --repo NAME\n",
            fx.ws.display()
        ),
        "{}",
        text(&out)
    );
}

/// Runs python3 in `dir` with the hermetic environment.
fn python(fx: &Fixture, dir: &Path, args: &[&str]) -> std::process::Output {
    hermetic(Command::new("python3"), &fx.home)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn generated_sync_deps_imports_without_side_effects() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    fx.ok(&["pin", "--repo", "app"]);
    let out = python(&fx, &app, &["-c", "import sync_deps"]);
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        text(&out)
    );
    let out = python(
        &fx,
        &app,
        &[
            "-c",
            "import sync_deps as s; print(sorted(s.PINNED_VERSIONS), sorted(s.ORIGINS), s.SUBMODULES)",
        ],
    );
    assert_eq!(
        stdout(&out),
        "['liba', 'libb'] ['liba', 'libb'] {'liba': 1}\n",
        "{}",
        text(&out)
    );
}

#[test]
fn generated_sync_deps_brings_a_fresh_folder_to_the_pins_shallow() {
    let fx = Fixture::synced();
    fx.ok(&["pin", "--repo", "app"]);
    let ci = fx.tmp.path().join("ci");
    std::fs::create_dir_all(ci.join("app")).unwrap();
    std::fs::copy(fx.ws.join("app/sync_deps.py"), ci.join("app/sync_deps.py")).unwrap();
    let out = python(
        &fx,
        &ci.join("app"),
        &["sync_deps.py", "--jobs", "4", "--depth", "1"],
    );
    assert!(out.status.success(), "{}", text(&out));
    for (name, pin) in [("liba", "LIBA_2"), ("libb", "LIBB_2")] {
        let dir = ci.join(name);
        assert_eq!(fx.git(&dir, &["rev-parse", "HEAD"]), fx.id(pin));
        assert_eq!(fx.git(&dir, &["rev-parse", "--is-shallow-repository"]), "true");
    }
    let status = fx.git(&ci.join("liba"), &["submodule", "status"]);
    assert!(
        !status.lines().any(|l| l.starts_with('-') || l.starts_with('+')),
        "{status}"
    );

    let ci2 = fx.tmp.path().join("ci2");
    std::fs::create_dir_all(ci2.join("app")).unwrap();
    std::fs::copy(fx.ws.join("app/sync_deps.py"), ci2.join("app/sync_deps.py")).unwrap();
    let out = python(
        &fx,
        &ci2.join("app"),
        &["sync_deps.py", "--exclude-dep", "^libb$", "--depth", "1"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(ci2.join("liba/.git").exists());
    assert!(!ci2.join("libb").exists());
}

/// Whether `name`'s working tree is written and clean (an index exists and
/// nothing tracked is missing or changed).
fn tree_is_written(fx: &Fixture, name: &str) -> bool {
    let dir = fx.ws.join(name);
    dir.join(".git/index").exists()
        && fx
            .git(&dir, &["status", "--porcelain", "--untracked-files=no"])
            .is_empty()
}

#[test]
fn checkout_sync_writes_each_dep_tree_once_at_its_pin() {
    let fx = Fixture::new();
    let out = fx.ok(&["-v", "checkout", "--sync", "app"]);
    let err = stderr(&out);
    // The named project is cloned with its files (its pins are read from
    // them); its deps without, for the sync to write them at the pins.
    for dep in ["liba", "libb", "base"] {
        let clone = err
            .lines()
            .find(|l| l.contains("git clone") && l.contains(&format!("/{dep}.git")))
            .unwrap_or_else(|| panic!("no clone of {dep}:\n{err}"));
        assert!(clone.contains("--no-checkout"), "{clone}");
        assert!(tree_is_written(&fx, dep), "{dep}'s files are not all there");
    }
    let app_clone = err
        .lines()
        .find(|l| l.contains("git clone") && l.contains("/app.git"))
        .unwrap();
    assert!(!app_clone.contains("--no-checkout"), "{app_clone}");
    // liba's two submodules are cloned once each (one `git submodule
    // update` per submodule, each one of the --jobs git processes), at the
    // pinned commit, and fresh clones need no check for a detached commit
    // to protect.
    assert_eq!(err.matches("submodule update").count(), 2, "{err}");
    assert!(!err.contains("symbolic-ref"), "{err}");
    assert!(
        stdout(&out).contains(&format!(
            "liba: {} (pinned by app), cloned",
            short(fx.id("LIBA_2"))
        )),
        "{}",
        text(&out)
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_liba_submodules_at_recorded(&fx);
}

/// liba's submodules are all initialised and at the commits liba records.
fn assert_liba_submodules_at_recorded(fx: &Fixture) {
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    assert!(
        !status.lines().any(|l| l.starts_with(['-', '+', 'U'])),
        "{status}"
    );
}

/// Every dep is as a plain checkout leaves it: on its branch, files written.
fn assert_deps_on_their_branch_with_their_files(fx: &Fixture) {
    for dep in ["liba", "libb", "base"] {
        assert!(tree_is_written(fx, dep), "{dep}'s files are not all there");
        assert_eq!(
            fx.git(&fx.ws.join(dep), &["symbolic-ref", "HEAD"]),
            "refs/heads/main"
        );
    }
}

/// Rewrites app's pin of libb (in app's remote) to `commit`.
fn push_app_pinning_libb_at(fx: &Fixture, commit: &str) {
    let work = fx.tmp.path().join("push-app");
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "--quiet",
            fx.remote("app").to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    let pins = work.join("sync_deps.py");
    let text_ = std::fs::read_to_string(&pins)
        .unwrap()
        .replace(fx.id("LIBB_2"), commit);
    std::fs::write(&pins, text_).unwrap();
    fx.git(&work, &["commit", "--quiet", "-am", "pin libb elsewhere"]);
    fx.git(&work, &["push", "--quiet", "origin", "HEAD:main"]);
}

#[test]
fn checkout_sync_leaves_deps_no_pin_moves_on_their_branch_with_their_files() {
    let fx = Fixture::new();
    push_app_pinning_libb_at(&fx, "1234567890abcdef1234567890abcdef12345678");
    let out = fx.run(&fx.ws, &["checkout", "--sync", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("stopped before changing any working tree"),
        "{}",
        text(&out)
    );
    // The sync moved nothing, so every dep is as a plain checkout leaves it.
    assert_deps_on_their_branch_with_their_files(&fx);
    assert_liba_submodules_at_recorded(&fx);
}

#[test]
fn sync_writes_the_files_of_a_dep_it_clones_at_its_branch_tip() {
    let fx = Fixture::new();
    push_app_pinning_libb_at(&fx, fx.id("LIBB_3"));
    fx.ok(&["checkout", "--no-deps", "app"]);
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
    assert!(
        tree_is_written(&fx, "libb"),
        "libb was cloned at its pin but its files were never written"
    );
}

#[test]
fn a_clone_left_without_its_files_is_shown_and_finished_by_the_next_run() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    // What an interrupted `checkout --sync` leaves: clones without files.
    for dep in ["libb", "base"] {
        fx.git(
            &fx.ws,
            &[
                "clone",
                "--quiet",
                "--no-checkout",
                fx.remote(dep).to_str().unwrap(),
                dep,
            ],
        );
    }
    let out = fx.ok(&["status", "--repo", "app"]);
    let line = stdout(&out)
        .lines()
        .find(|l| l.starts_with("libb "))
        .unwrap()
        .to_string();
    assert!(
        line.contains("no working tree") && !line.contains("dirty"),
        "{line}"
    );

    // A plain checkout writes their files at their branch ...
    let out = fx.ok(&["checkout", "app"]);
    assert!(
        tree_is_written(&fx, "libb") && tree_is_written(&fx, "base"),
        "{}",
        text(&out)
    );
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));

    // ... and a sync over one still without files writes it at its pin.
    std::fs::remove_dir_all(fx.ws.join("libb")).unwrap();
    fx.git(
        &fx.ws,
        &[
            "clone",
            "--quiet",
            "--no-checkout",
            fx.remote("libb").to_str().unwrap(),
            "libb",
        ],
    );
    fx.ok(&["sync", "--repo", "app"]);
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert!(tree_is_written(&fx, "libb"));
}

fn no_partials_left(fx: &Fixture) -> bool {
    std::fs::read_dir(&fx.ws)
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with(".openxla-partial-"))
}

#[test]
fn checkout_sync_depth_clones_the_named_project_and_fetches_only_each_pin() {
    let fx = Fixture::new();
    let out = fx.ok(&["-v", "checkout", "--sync", "--depth", "1", "app"]);
    let err = stderr(&out);
    let clones: Vec<&str> = err.lines().filter(|l| l.contains(" git clone ")).collect();
    assert_eq!(clones.len(), 1, "only app is cloned:\n{err}");
    assert!(
        clones[0].contains("--depth=1") && clones[0].contains("/app.git"),
        "{err}"
    );
    for (dep, pin) in [("liba", "LIBA_2"), ("libb", "LIBB_2"), ("base", "BASE_2")] {
        let fetches = err
            .lines()
            .filter(|l| l.contains(" git fetch ") && l.contains(&format!("partial-{dep})")))
            .count();
        assert_eq!(fetches, 1, "{dep}:\n{err}");
        assert_eq!(fx.head(dep), fx.id(pin));
        assert!(tree_is_written(&fx, dep), "{dep}'s files are not all there");
        assert_eq!(
            fx.git(&fx.ws.join(dep), &["rev-parse", "--is-shallow-repository"]),
            "true"
        );
    }
    assert_liba_submodules_at_recorded(&fx);
    assert!(no_partials_left(&fx));
}

#[test]
fn checkout_sync_depth_clones_at_their_branch_the_deps_its_sync_did_not_bring() {
    let fx = Fixture::new();
    push_app_pinning_libb_at(&fx, "1234567890abcdef1234567890abcdef12345678");
    let out = fx.run(&fx.ws, &["checkout", "--sync", "--depth", "1", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("stopped before changing any working tree"),
        "{}",
        text(&out)
    );
    // liba and base were fetched at their pins, but the sync stopped: no
    // half-made repository is left, and every dep ends as a plain
    // `checkout --depth 1` leaves it.
    assert_deps_on_their_branch_with_their_files(&fx);
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
    assert!(no_partials_left(&fx));
}
