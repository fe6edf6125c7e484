//! `status`, output modes (`-q`, `-v`, plain logs), `--dry-run` of `pin`,
//! and `--help`.

use crate::common;

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
    let fx = Fixture::synced();
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
fn status_json_is_a_versioned_document_with_states_as_names_and_counts_as_numbers() {
    let fx = Fixture::synced();
    // liba one ahead of its pin, libb dirty at its pin.
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_3")]);
    std::fs::write(fx.ws.join("libb/README.md"), "edited\n").unwrap();
    let out = fx.run(&fx.ws, &["status", "--repo", "app", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ws = fx.ws.display().to_string();
    let row = |name: &str,
               head: &str,
               branch: serde_json::Value,
               pin: serde_json::Value,
               by: serde_json::Value,
               counts: (serde_json::Value, serde_json::Value),
               changed: u32,
               this: bool,
               state: serde_json::Value| {
        serde_json::json!({
            "name": name, "path": format!("{ws}/{name}"), "present": true, "head": head, "branch": branch,
            "pin": pin, "pinned_by": by, "ahead": counts.0, "behind": counts.1, "changed": changed,
            "untracked": 0, "this_project": this, "state": state, "error": null, "in_progress": []
        })
    };
    let null = serde_json::Value::Null;
    let expected = serde_json::json!({
        "schema": 1,
        "command": "status",
        "ok": true,
        "workspace": ws,
        "looked_from": "app",
        "at_pins": false,
        "projects": [
            row("app", fx.id("APP_3"), "main".into(), null.clone(), null.clone(), (null.clone(), null.clone()), 0, true,
                serde_json::json!([])),
            row("liba", fx.id("LIBA_3"), null.clone(), fx.id("LIBA_2").into(), "app".into(), (1.into(), 0.into()), 0,
                false, serde_json::json!(["ahead"])),
            row("libb", fx.id("LIBB_2"), null.clone(), fx.id("LIBB_2").into(), "app".into(), (0.into(), 0.into()), 1,
                false, serde_json::json!(["dirty", "at_pin"])),
            row("base", fx.id("BASE_2"), null.clone(), fx.id("BASE_2").into(), "liba".into(), (0.into(), 0.into()), 0,
                false, serde_json::json!(["at_pin"])),
        ],
        "problems": [],
        "settings": {
            "registry": {"value": fx.registry().display().to_string(), "source": "env"},
            "ro": {"value": false, "source": "default"},
            "filter": {"value": null, "source": "default"},
            "depth": {"value": 0, "source": "default"},
            "jobs": {"value": 8, "source": "default"},
            "cache-dir": {"value": null, "source": "default"},
        },
        "roots": ["app"],
    });
    assert_eq!(doc, expected, "{}", stdout(&out));
    // The common fields come first, in this order.
    assert!(stdout(&out).starts_with("{\n  \"schema\": 1,\n  \"command\": \"status\",\n  \"ok\": true,"));
}

#[test]
fn status_exit_code_is_1_exactly_when_a_pinned_dep_is_off_its_pin() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let code = |args: &[&str]| {
        let out = fx.run(&app, args);
        (out.status.code(), stdout(&out), stderr(&out))
    };
    // Everything at its pin; an unpinned checkout and a dirty looked-from
    // project do not count.
    std::fs::write(app.join("README.md"), "edited\n").unwrap();
    fx.git(
        &fx.ws,
        &[
            "clone",
            "--quiet",
            &format!("file://{}/git/subx.git", fx.org.display()),
            "extra",
        ],
    );
    assert_eq!(code(&["status", "--exit-code"]).0, Some(0));
    // Each way off: ahead, behind, dirty, missing.
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_3")]);
    let (status, table, err) = code(&["status", "--exit-code"]);
    assert_eq!(status, Some(1), "{table}{err}");
    assert_eq!(state_of(&table, "liba"), "ahead 1");
    assert_eq!(err, "not as pinned: liba\n");
    // Without --exit-code the same status exits 0.
    assert_eq!(code(&["status"]).0, Some(0));
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_2")]);
    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_1")]);
    assert_eq!(code(&["status", "--exit-code"]).0, Some(1));
    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_2")]);
    std::fs::write(fx.ws.join("base/README.md"), "edited\n").unwrap();
    assert_eq!(code(&["status", "--exit-code"]).0, Some(1));
    fx.git(&fx.ws.join("base"), &["checkout", "--quiet", "."]);
    assert_eq!(code(&["status", "--exit-code"]).0, Some(0));
    std::fs::rename(fx.ws.join("libb"), fx.tmp.path().join("libb-away")).unwrap();
    let (status, _, err) = code(&["status", "--exit-code", "--json"]);
    assert_eq!(status, Some(1));
    assert_eq!(err, "not as pinned: libb\n");
    // -q keeps only the exit status.
    assert_eq!(code(&["-q", "status", "--exit-code"]).2, "");
    // Outside any project there are no pins to compare with.
    let (status, out, err) = code(&["status", "--exit-code", "--repo", "app"]);
    assert_eq!(status, Some(1), "{out}{err}");
    let out = fx.run(&fx.ws, &["status", "--exit-code"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: status --exit-code compares the checkouts with a project's pins, and {} is in none: run it \
             inside a project's folder, or name one with --repo NAME\n",
            fx.ws.display()
        )
    );
}

#[test]
fn status_exit_code_flags_a_pin_file_that_cannot_be_read() {
    let fx = Fixture::synced();
    // liba's pin file at its pinned commit becomes unreadable: a new commit
    // with a broken file, pinned by app.
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["checkout", "--quiet", "-b", "broken"]);
    std::fs::write(
        liba.join("sync_deps.py"),
        "PINNED_VERSIONS = {\n  \"base\": 42,\n}\n",
    )
    .unwrap();
    fx.git(&liba, &["commit", "--quiet", "-am", "broken pins"]);
    let broken = fx.git(&liba, &["rev-parse", "HEAD"]);
    let pins = std::fs::read_to_string(fx.ws.join("app/sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBA_2"), &broken);
    std::fs::write(fx.ws.join("app/sync_deps.py"), pins).unwrap();
    let out = fx.run(&fx.ws.join("app"), &["status", "--exit-code", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["at_pins"], false);
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{doc}");
    assert_eq!(problems[0]["project"], "liba");
    assert!(
        problems[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("liba/sync_deps.py at "),
        "{doc}"
    );
    // Every dep is at its pin: only the unreadable file fails the check.
    let states: Vec<&serde_json::Value> = doc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["state"])
        .collect();
    assert_eq!(states[1], &serde_json::json!(["at_pin"]), "{doc}");
}

#[test]
fn status_is_read_only() {
    let fx = Fixture::synced();
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
    let fx = Fixture::synced();
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
        "foreach",
        "diff",
        "grep",
    ] {
        let out = fx.run(&fx.ws, &[command, "--help"]);
        assert!(out.status.success(), "{command}");
        assert!(stdout(&out).contains("Example"), "{command}: {}", stdout(&out));
    }
}
