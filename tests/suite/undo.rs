//! `undo`: the checkouts as they stood before the last run that moved
//! them. In the fixture, `checkout app` leaves every dep on main at its tip;
//! syncing app then moves liba, libb and base to their pins.

use crate::common;

use common::{assert_unchanged, short, stderr, stdout, text, Fixture};

/// `checkout app`, liba put on a branch `daily` at LIBA_D1 (submodules
/// subx at SUBX_3, suby at SUBY_1), then `sync` in app.
fn synced_from_branches() -> Fixture {
    let fx = Fixture::after(&["checkout", "app"]);
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["checkout", "-q", "-b", "daily", fx.id("LIBA_D1")]);
    fx.git(&liba, &["submodule", "update", "-q"]);
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    fx
}

fn branch(fx: &Fixture, name: &str) -> String {
    fx.git(&fx.ws.join(name), &["symbolic-ref", "--short", "HEAD"])
}

#[test]
fn undo_puts_every_project_and_submodule_back_after_a_sync() {
    let fx = synced_from_branches();
    let out = fx.ok(&["undo"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_D1"), "{}", text(&out));
    assert_eq!(branch(&fx, "liba"), "daily");
    let liba = fx.ws.join("liba");
    assert_eq!(
        fx.git(&liba.join("third_party/subx"), &["rev-parse", "HEAD"]),
        fx.id("SUBX_3")
    );
    assert_eq!(
        fx.git(&liba.join("third_party/suby"), &["rev-parse", "HEAD"]),
        fx.id("SUBY_1")
    );
    for (name, tip) in [("libb", "LIBB_3"), ("base", "BASE_4")] {
        assert_eq!(fx.head(name), fx.id(tip));
        assert_eq!(branch(&fx, name), "main");
    }
    assert_eq!(stdout(&out), "liba: put back\nlibb: put back\nbase: put back\n");
    // Again: everything is in place already.
    let again = fx.ok(&["undo"]);
    assert_eq!(stdout(&again), "");
}

#[test]
fn undo_refuses_over_uncommitted_changes_and_changes_nothing() {
    let fx = synced_from_branches();
    let libb = fx.ws.join("libb");
    let file = fx.git(&libb, &["ls-files"]).lines().next().unwrap().to_string();
    std::fs::write(libb.join(&file), "changed\n").unwrap();
    let before = fx.snapshot();
    let out = fx.run(&fx.ws, &["undo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("libb: 1 uncommitted change; commit or stash them, then undo again"),
        "{}",
        text(&out)
    );
    assert!(stderr(&out).contains("undo changed nothing"), "{}", text(&out));
    assert_unchanged(&before, &fx.snapshot());
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"), "all or nothing");
}

/// A submodule the user has taken out since (`git submodule deinit`) is
/// not a checkout to move, and stops nothing: undo moves the rest and
/// leaves it out.
#[test]
fn undo_leaves_a_submodule_taken_out_since_and_moves_the_rest() {
    let fx = synced_from_branches();
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["submodule", "deinit", "-q", "-f", "third_party/suby"]);
    let out = fx.ok(&["undo"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_D1"), "{}", text(&out));
    assert_eq!(branch(&fx, "liba"), "daily");
    assert_eq!(
        fx.git(&liba.join("third_party/subx"), &["rev-parse", "HEAD"]),
        fx.id("SUBX_3")
    );
    let status = fx.git(&liba, &["submodule", "status", "third_party/suby"]);
    assert!(status.starts_with('-'), "{status}");
}

#[test]
fn undo_refuses_while_a_rebase_is_under_way() {
    let fx = synced_from_branches();
    let git_dir = fx.ws.join("base/.git");
    std::fs::create_dir(git_dir.join("rebase-merge")).unwrap();
    std::fs::write(git_dir.join("rebase-merge/head-name"), "refs/heads/main\n").unwrap();
    let before = fx.snapshot();
    let out = fx.run(&fx.ws, &["undo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("base: a rebase is under way in "),
        "{}",
        text(&out)
    );
    assert_unchanged(&before, &fx.snapshot());
}

#[test]
fn undo_refuses_to_put_back_a_branch_that_moved() {
    let fx = synced_from_branches();
    fx.git(&fx.ws.join("libb"), &["branch", "-f", "main", fx.id("LIBB_1")]);
    let out = fx.run(&fx.ws, &["undo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let expected = format!(
        "libb: it was on branch main at {}, but main is now at {}",
        short(fx.id("LIBB_3")),
        short(fx.id("LIBB_1"))
    );
    assert!(stderr(&out).contains(&expected), "{}", text(&out));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
}

#[test]
fn undo_names_the_projects_the_run_cloned_and_leaves_them() {
    let fx = Fixture::synced();
    let out = fx.ok(&["undo"]);
    assert!(
        stderr(&out).contains("app, liba, libb, base cloned by that run: left in place"),
        "{}",
        text(&out)
    );
    for name in ["app", "liba", "libb", "base"] {
        assert!(fx.ws.join(name).join(".git").exists(), "{name}");
    }
}

/// One run that clones a missing dep and moves the others: undo puts the
/// moved ones back and names the one it cloned.
#[test]
fn undo_after_a_checkout_sync_that_cloned_one_dep_puts_the_others_back() {
    let fx = Fixture::after(&["checkout", "app"]);
    let tips = [("liba", fx.head("liba")), ("base", fx.head("base"))];
    std::fs::remove_dir_all(fx.ws.join("libb")).unwrap();
    fx.ok(&["checkout", "--sync", "app"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
    let out = fx.ok(&["undo"]);
    for (name, tip) in &tips {
        assert_eq!(fx.head(name), *tip, "{name}: {}", text(&out));
        assert_eq!(branch(&fx, name), "main");
    }
    assert_eq!(stdout(&out), "liba: put back\nbase: put back\n");
    assert!(
        stderr(&out).contains("libb cloned by that run: left in place"),
        "{}",
        text(&out)
    );
}

#[test]
fn undo_dry_run_prints_the_git_commands_and_moves_nothing() {
    let fx = synced_from_branches();
    let before = fx.snapshot();
    let out = fx.ok(&["--dry-run", "undo"]);
    assert_unchanged(&before, &fx.snapshot());
    let expected = format!(
        "Would run:\n\
         liba: (in WS/liba) git checkout --no-recurse-submodules --quiet --no-overwrite-ignore daily --\n\
         liba: (in WS/liba/third_party/subx) git -c advice.detachedHead=false checkout --no-recurse-submodules \
         --quiet --no-overwrite-ignore --detach {subx} --\n\
         liba: (in WS/liba/third_party/suby) git -c advice.detachedHead=false checkout --no-recurse-submodules \
         --quiet --no-overwrite-ignore --detach {suby} --\n\
         libb: (in WS/libb) git checkout --no-recurse-submodules --quiet --no-overwrite-ignore main --\n\
         base: (in WS/base) git checkout --no-recurse-submodules --quiet --no-overwrite-ignore main --\n",
        subx = fx.id("SUBX_3"),
        suby = fx.id("SUBY_1"),
    );
    assert_eq!(fx.normalise(&stdout(&out)), expected);
}

#[test]
fn undo_list_shows_every_record_newest_first() {
    let fx = synced_from_branches();
    let out = fx.ok(&["undo", "--list"]);
    let listed = stdout(&out);
    let times: Vec<&str> = listed
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| &l[3..26])
        .collect();
    let mut normalised = listed.clone();
    for t in times {
        normalised = normalised.replace(t, "TIME");
    }
    let s = |k: &str| short(fx.id(k)).to_string();
    let expected = format!(
        "1  TIME  sync\n   \
         liba: {} on daily -> {}, 2 submodules\n   \
         libb: {} on main -> {}\n   \
         base: {} on main -> {}\n\
         2  TIME  checkout\n   \
         cloned: app, liba, libb, base\n",
        s("LIBA_D1"),
        s("LIBA_2"),
        s("LIBB_3"),
        s("LIBB_2"),
        s("BASE_4"),
        s("BASE_2"),
    );
    assert_eq!(normalised, expected);

    let json = fx.ok(&["undo", "--list", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let records = doc["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["command"], "sync");
    assert_eq!(records[0]["projects"][0]["name"], "liba");
    assert_eq!(records[0]["projects"][0]["branch"], "daily");
    assert_eq!(
        records[0]["projects"][0]["submodules"][0]["commit"],
        fx.id("SUBX_3")
    );
    assert_eq!(records[1]["cloned"][0], "app");
}

#[test]
fn undo_of_an_older_record_and_json() {
    let fx = synced_from_branches();
    let out = fx.ok(&["undo", "2", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["record"], 2);
    assert_eq!(doc["recorded_command"], "checkout");
    assert_eq!(doc["cloned_left"].as_array().unwrap().len(), 4);
    let none = fx.run(&fx.ws, &["undo", "3"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("there is no undo record 3"),
        "{}",
        text(&none)
    );
}

#[test]
fn undo_refuses_to_leave_a_detached_commit_unreachable_and_moves_nothing() {
    let fx = synced_from_branches();
    let base = fx.ws.join("base");
    std::fs::write(base.join("mine.txt"), "mine\n").unwrap();
    fx.git(&base, &["add", "mine.txt"]);
    fx.git(&base, &["commit", "-q", "-m", "mine"]);
    let mine = fx.head("base");
    let out = fx.run(&fx.ws, &["undo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let expected = format!(
        "base: HEAD is at {mine}, a detached commit that no branch contains; moving it would leave it unreachable"
    );
    assert!(stderr(&out).contains(&expected), "{}", text(&out));
    assert_eq!(fx.head("base"), mine);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"), "all or nothing");
}

#[test]
fn undo_runs_exactly_the_checkouts_its_dry_run_prints() {
    let fx = synced_from_branches();
    let dry = fx.ok(&["--dry-run", "undo"]);
    let mut planned: Vec<String> = stdout(&dry)
        .lines()
        .skip(1)
        .map(|l| l.split_once(": ").unwrap().1.to_string())
        .collect();
    let run = fx.ok(&["-v", "--jobs", "1", "undo"]);
    let mut ran: Vec<String> = stderr(&run)
        .lines()
        .filter_map(|l| l.strip_prefix("+ "))
        .filter(|l| l.contains(" checkout "))
        .map(str::to_string)
        .collect();
    planned.sort();
    ran.sort();
    assert_eq!(ran, planned, "{}", text(&run));
}

#[test]
fn undo_after_roll_sync_puts_the_deps_back_and_leaves_the_pin_file() {
    let fx = Fixture::synced();
    fx.push("liba", "main", &[("new.txt", "new\n")], "new");
    let app = fx.ws.join("app");
    let out = fx.run(&app, &["roll", "nightly", "--sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let rolled = std::fs::read_to_string(app.join("sync_deps.py")).unwrap();
    let list = fx.ok(&["undo", "--list"]);
    assert!(
        stdout(&list).lines().next().unwrap().ends_with("  roll"),
        "{}",
        text(&list)
    );
    fx.ok(&["undo"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert_eq!(std::fs::read_to_string(app.join("sync_deps.py")).unwrap(), rolled);
}
