//! `status`, output modes (`-q`, `-v`, plain logs), `--dry-run` of `pin`,
//! and `completions`.

mod common;

use common::{stderr, stdout, text, Fixture};

/// The state column of `name`'s row in a status table.
fn state_of(table: &str, name: &str) -> String {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{table}"));
    let header = table.lines().next().unwrap();
    let col = header.find("STATE").unwrap();
    line[col..].trim().to_string()
}

#[test]
fn status_shows_every_state() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    // liba: 1 ahead of its pin (its tip is LIBA_3, the pin LIBA_2).
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_3")]);
    // libb: behind its pin, and dirty.
    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_1")]);
    std::fs::write(fx.ws.join("libb/README.md"), "edited\n").unwrap();
    // base stays at its pin. An unrelated checkout is not pinned.
    fx.git(
        &fx.ws,
        &[
            "clone",
            "--quiet",
            &format!("file://{}/git/subx.git", fx.org.display()),
            "extra",
        ],
    );

    let out = fx.run(&fx.ws.join("app"), &["status"]);
    assert!(out.status.success(), "{}", text(&out));
    let table = stdout(&out);
    assert!(table.starts_with("PROJECT"), "{table}");
    assert_eq!(state_of(&table, "liba"), "ahead 1", "{table}");
    assert_eq!(state_of(&table, "libb"), "dirty, behind 1", "{table}");
    assert_eq!(state_of(&table, "base"), "at pin", "{table}");
    assert_eq!(state_of(&table, "extra"), "not pinned", "{table}");
    assert!(
        table.contains(&format!("{} (liba)", &fx.id("BASE_2")[..7])),
        "base is pinned by liba: {table}"
    );
    assert!(
        table.contains(&format!("{} detached", &fx.id("LIBA_3")[..7])),
        "{table}"
    );

    // diverged: a local commit on top of an older one.
    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "--quiet", "."]);
    std::fs::write(libb.join("new.txt"), "x").unwrap();
    fx.git(&libb, &["add", "new.txt"]);
    fx.git(&libb, &["commit", "--quiet", "-m", "side"]);
    // missing: a pinned dep whose folder is gone.
    std::fs::rename(fx.ws.join("base"), fx.tmp.path().join("base-away")).unwrap();
    let table = stdout(&fx.ok(&["status", "--repo", "app"]));
    assert_eq!(
        state_of(&table, "libb"),
        "diverged (1 ahead, 1 behind)",
        "{table}"
    );
    assert_eq!(state_of(&table, "base"), "missing", "{table}");
}

#[test]
fn status_json_is_an_array_of_stable_objects() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    let out = fx.ok(&["status", "--repo", "app", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["app", "liba", "libb", "base"]);
    let base = &rows[3];
    assert_eq!(base["pin"], fx.id("BASE_2"));
    assert_eq!(base["head"], fx.id("BASE_2"));
    assert_eq!(base["pinned_by"], "liba");
    assert_eq!(base["branch"], serde_json::Value::Null);
    assert_eq!(base["state"], serde_json::json!(["at pin"]));
    assert_eq!(base["ahead"], 0);
    assert_eq!(base["behind"], 0);
    assert_eq!(base["present"], true);
    assert_eq!(rows[0]["this_project"], true);
    for key in ["path", "changed", "untracked"] {
        assert!(base.get(key).is_some(), "{key}");
    }
}

#[test]
fn status_is_read_only() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    let before = fx.snapshot();
    fx.ok(&["status", "--repo", "app"]);
    common::assert_unchanged(&before, &fx.snapshot());
}

#[test]
fn plain_output_has_no_escape_sequences() {
    let fx = Fixture::new();
    let out = fx.ok(&["checkout", "--sync", "app"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains('\x1b') && !all.contains('\r'), "{all:?}");
    assert!(
        stderr(&out).contains("app: cloning"),
        "one plain line per event: {all}"
    );
    let out = fx
        .cmd(&fx.ws)
        .env_remove("NO_COLOR")
        .args(["status", "--repo", "app"])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\x1b'));
    let out = fx
        .cmd(&fx.ws)
        .args(["--color", "always", "status", "--repo", "app"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("\x1b[32mat pin\x1b[0m"), "{}", text(&out));
}

#[test]
fn quiet_prints_only_errors_and_the_summary() {
    let fx = Fixture::new();
    let out = fx.ok(&["-q", "checkout", "--sync", "app"]);
    let err = stderr(&out);
    assert!(!err.contains("cloning") && !err.contains("checking out"), "{err}");
    assert!(
        err.contains("checkout: 4 cloned") && err.contains("sync app: 3 moved"),
        "{err}"
    );
}

#[test]
fn verbose_echoes_each_git_command_with_its_folder() {
    let fx = Fixture::new();
    let out = fx.ok(&["-v", "checkout", "--no-deps", "base"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("+ (in {}) git clone -- file://", fx.ws.display())),
        "{err}"
    );
}

#[test]
fn pin_dry_run_says_what_it_would_write_and_changes_nothing() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_3")]);
    let before = fx.snapshot();
    let out = fx.ok(&["--dry-run", "pin", "--repo", "app", "--require-upstream"]);
    let plan = stdout(&out);
    assert!(
        plan.contains(&format!(
            "would write {}",
            fx.ws.join("app/sync_deps.py").display()
        )),
        "{plan}"
    );
    assert!(
        plan.contains("git fetch --no-tags origin +refs/heads/main:refs/remotes/origin/main"),
        "{plan}"
    );
    common::assert_unchanged(&before, &fx.snapshot());
}

#[test]
fn completions_generate_for_each_shell() {
    let fx = Fixture::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef openxla-workspace"),
        ("fish", "complete -c openxla-workspace -n"),
    ] {
        let out = fx.run(&fx.ws, &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}");
        assert!(
            script.contains("checkout") && script.contains("exclude-dep"),
            "{shell}"
        );
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    let fx = Fixture::new();
    for command in [
        "init",
        "checkout",
        "sync",
        "pin",
        "roll",
        "status",
        "list",
        "completions",
    ] {
        let out = fx.run(&fx.ws, &[command, "--help"]);
        assert!(out.status.success(), "{command}");
        assert!(stdout(&out).contains("Example"), "{command}: {}", stdout(&out));
    }
}
