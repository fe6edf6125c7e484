//! What the tool says: to a name it does not know, in a folder that is not
//! a project, with `-q`, after a failed checkout, when a dep leaves a
//! branch, in `--help` and `--version`; and the `--json` documents of
//! checkout, sync, pin, roll and list.

use crate::common;

use common::{short, stderr, stdout, text, Fixture};

#[test]
fn a_workspace_folder_that_is_not_a_project_is_named_as_such() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "base"]);
    let junk = fx.ws.join("junk");
    std::fs::create_dir_all(junk.join("sub")).unwrap();
    for command in ["sync", "pin"] {
        let out = fx.run(&junk.join("sub"), &[command]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "error: {} is not a project of the workspace: the registry has no project 'junk'. Run `{command}` \
                 inside a project's folder, or name one with --repo NAME (checked out here: base)\n",
                junk.display()
            )
        );
    }
    // A name typed with --repo is still answered as a name.
    let out = fx.run(&junk, &["sync", "--repo", "bsae"]);
    assert_eq!(
        stderr(&out),
        "error: No repository matching 'bsae' found (did you mean one of: base, app, liba, libb)\n"
    );
}

#[test]
fn an_unknown_name_lists_the_closest_names_first() {
    let fx = Fixture::new();
    // The embedded default registry.
    let out = fx
        .cmd(&fx.ws)
        .env_remove("OPENXLA_WORKSPACE_REGISTRY")
        .args(["checkout", "ire", "jxa"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: No repository matching 'ire' found (did you mean one of: iree, jax, xla, stablehlo, openxla-pjrt-plugin)\n\
         No repository matching 'jxa' found (did you mean one of: jax, xla, iree, stablehlo, openxla-pjrt-plugin)\n"
    );
    assert!(std::fs::read_dir(&fx.ws).unwrap().count() == 1, "nothing cloned");
}

#[test]
fn quiet_pin_and_sync_print_only_their_summaries() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_3")]);
    let out = fx.run(&app, &["-q", "pin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        fx.normalise(&stderr(&out)),
        "pin app: 1 moved, 1 unchanged in TIME\n"
    );
    fx.git(&app, &["checkout", "--quiet", "sync_deps.py"]);
    let out = fx.run(&app, &["-q", "sync"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stdout(&out), "");
    // The conflict is a warning, kept with -q.
    assert_eq!(
        fx.normalise(&stderr(&out)),
        format!(
            "warning: base: using {} (pinned by liba); libb pins {}\nsync app: 1 moved, 2 already at pin in TIME\n",
            short(fx.id("BASE_2")),
            short(fx.id("BASE_3"))
        )
    );
    // Without -q, pin prints one line per dep, then the same summary.
    let out = fx.run(&app, &["pin"]);
    assert_eq!(
        stdout(&out),
        format!(
            "liba: {} 2024-01-01 : liba: commit 2\nlibb: {} 2024-01-01 : libb: commit 2\n",
            short(fx.id("LIBA_2")),
            short(fx.id("LIBB_2"))
        )
    );
    assert_eq!(
        fx.normalise(&stderr(&out)),
        "wrote WS/app/sync_deps.py\npin app: 2 unchanged in TIME\n"
    );
}

#[test]
fn sync_says_when_a_dep_leaves_a_local_branch() {
    let fx = Fixture::synced();
    let libb = fx.ws.join("libb");
    fx.git(&libb, &["checkout", "--quiet", "-b", "feature", fx.id("LIBB_3")]);
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!(
            "\nlibb: left branch feature (at {})\n",
            short(fx.id("LIBB_3"))
        )),
        "{}",
        text(&out)
    );
    // The branch is where it was; HEAD is detached at the pin.
    assert_eq!(fx.git(&libb, &["rev-parse", "feature"]), fx.id("LIBB_3"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    // A dep already at its pin on a branch stays on it, and nothing is said.
    fx.git(&libb, &["checkout", "--quiet", "-B", "feature", fx.id("LIBB_2")]);
    let out = fx.run(&fx.ws.join("app"), &["sync", "--json"]);
    assert!(!stderr(&out).contains("left branch"), "{}", text(&out));
    assert_eq!(fx.git(&libb, &["symbolic-ref", "--short", "HEAD"]), "feature");
    fx.git(&libb, &["checkout", "--quiet", "-B", "feature", fx.id("LIBB_3")]);
    let out = fx.run(&fx.ws.join("app"), &["sync", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let libb_dep = doc["deps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "libb")
        .unwrap()
        .clone();
    assert_eq!(
        libb_dep,
        serde_json::json!({
            "name": "libb", "commit": fx.id("LIBB_2"), "pinned_by": "app", "result": "moved",
            "was": fx.id("LIBB_3"), "left_branch": "feature", "error": null
        })
    );
}

#[test]
fn a_failed_checkout_prints_its_error_once_and_a_true_summary() {
    let fx = Fixture::new();
    // libb cannot be cloned.
    let registry = std::fs::read_to_string(fx.registry())
        .unwrap()
        .replace("/rw/libb.git", "/rw/gone.git");
    let broken = fx.tmp.path().join("broken.toml");
    std::fs::write(&broken, registry).unwrap();
    let out = fx
        .cmd(&fx.ws)
        .env("OPENXLA_WORKSPACE_REGISTRY", &broken)
        .args(["-j", "1", "checkout", "--sync", "app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = fx.normalise(&stderr(&out).replace(broken.to_str().unwrap(), "BROKEN"));
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    let tail: Vec<&str> = err.lines().skip_while(|l| !l.starts_with("checkout: ")).collect();
    // The failed clone as one block of its cause (tests/failure_causes.rs).
    assert_eq!(
        tail,
        [
            "checkout: 3 cloned, 1 failed in TIME",
            "error: local path: no repository at the URL",
            "  not cloned: libb",
            "  git said: fatal: 'ORG/rw/gone.git' does not appear to be a git repository",
            "  URL file://ORG/rw/gone.git from the registry file BROKEN",
            "  to do: check the URL: correct the project's entry (ro_url, or rw_url without --ro) in the registry \
             file named above, or put the repository back where it says",
            "warning: app was not synced: its dep libb could not be cloned (see above); once it can be, run \
             `openxla-workspace sync --repo app`",
            "liba: checking out its branch",
            "liba: cloning 2 submodules",
            "liba: checked out",
            "base: checking out its branch",
            "base: checked out",
            "checkout: 2 left at their branch tip, not synced in TIME",
        ]
    );
}

#[test]
fn help_shows_the_global_options_that_apply_under_their_own_heading() {
    let fx = Fixture::new();
    let help = |args: &[&str]| stdout(&fx.ok(args));
    let completions = help(&["completions", "--help"]);
    assert!(
        !completions.contains("Global options") && !completions.contains("--jobs"),
        "{completions}"
    );
    let status = help(&["status", "--help"]);
    let (own, global) = status.split_once("\nGlobal options:\n").expect(&status);
    assert!(own.contains("--exit-code") && !own.contains("--jobs"), "{status}");
    for option in ["--jobs", "--registry", "--verbose", "--quiet", "--color"] {
        assert!(global.contains(option), "{option} in {status}");
    }
    for option in ["--dry-run", "--cache-dir", "--dissociate"] {
        assert!(!status.contains(option), "{option} in {status}");
    }
    let sync = help(&["sync", "--help"]);
    assert!(
        sync.split_once("\nGlobal options:\n")
            .unwrap()
            .1
            .contains("--cache-dir"),
        "{sync}"
    );
    // Hidden is not refused: a global option given anyway still parses.
    fx.ok(&["completions", "bash", "--jobs", "2"]);
    // What users are pointed at exists for them: no README or spec.
    for args in [&["--help"][..], &["roll", "--help"], &["status", "--help"]] {
        let text = help(args);
        assert!(!text.contains("README") && !text.contains("SPEC"), "{text}");
    }
}

#[test]
fn version_names_the_git_in_use() {
    let fx = Fixture::new();
    let out = fx.ok(&["--version"]);
    let git = std::process::Command::new("git")
        .arg("--version")
        .output()
        .unwrap();
    let git = String::from_utf8_lossy(&git.stdout).trim().to_string();
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(
        lines[0],
        format!("openxla-workspace {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(lines[1].starts_with(&format!("{git} (/")), "{lines:?}");
    assert!(lines[1].ends_with("/git)"), "{lines:?}");
    assert_eq!(lines.len(), 2);
    // Without git on PATH, it says so.
    let out = fx
        .cmd(&fx.ws)
        .env("PATH", "/nonexistent")
        .arg("-V")
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out).lines().nth(1),
        Some("git: git was not found on PATH; install git (2.25 or newer) and try again")
    );
}

#[test]
fn json_documents_of_checkout_sync_pin_roll_and_list() {
    let fx = Fixture::new();
    let json = |dir: &std::path::Path, args: &[&str]| -> (Option<i32>, serde_json::Value) {
        let out = fx.run(dir, args);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        (out.status.code(), doc)
    };
    let ids = |names: &[(&str, &str)]| -> Vec<serde_json::Value> {
        names
            .iter()
            .map(|(n, r)| serde_json::json!({"name": n, "result": r, "error": null}))
            .collect()
    };
    let (code, doc) = json(&fx.ws, &["checkout", "--json", "--sync", "app"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["command"], "checkout");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["dry_run"], false);
    assert_eq!(
        doc["projects"],
        serde_json::json!(ids(&[
            ("app", "cloned"),
            ("liba", "cloned"),
            ("libb", "cloned"),
            ("base", "cloned")
        ]))
    );
    let sync = &doc["syncs"][0];
    assert_eq!(sync["project"], "app");
    let results: Vec<(&str, &str)> = sync["deps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [("liba", "cloned"), ("libb", "cloned"), ("base", "cloned")]
    );
    assert_eq!(
        sync["conflicts"],
        serde_json::json!([{"dep": "base", "used": fx.id("BASE_2"), "used_by": "liba",
                             "other": fx.id("BASE_3"), "other_by": "libb"}])
    );

    let app = fx.ws.join("app");
    let (code, doc) = json(&app, &["sync", "--json"]);
    assert_eq!(code, Some(0));
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "schema",
            "command",
            "ok",
            "project",
            "dry_run",
            "deps",
            "conflicts",
            "unpinned",
            "failures",
            "roots"
        ]
    );
    assert!(
        doc["deps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["result"] == "at_pin"),
        "{doc}"
    );

    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_3")]);
    let (code, doc) = json(&app, &["--dry-run", "pin", "--json"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["written"], false);
    assert_eq!(doc["dry_run"], true);
    assert_eq!(
        doc["pins"][1],
        serde_json::json!({"name": "libb", "commit": fx.id("LIBB_3"), "was": fx.id("LIBB_2"),
                           "date": "2024-01-01", "subject": "libb: commit 3"})
    );

    let (code, doc) = json(&app, &["--dry-run", "roll", "nightly", "--json"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["actions"][0]["action"], "git_head");
    assert_eq!(doc["actions"][0]["dep"], "liba");
    assert_eq!(doc["actions"][0]["to"], fx.id("LIBA_3"));
    assert_eq!(
        doc["written"],
        serde_json::json!([app.join("sync_deps.py").display().to_string()])
    );

    let (code, doc) = json(&fx.ws, &["list", "--json"]);
    assert_eq!(code, Some(0));
    let app_entry = &doc["projects"][0];
    assert_eq!(app_entry["name"], "app");
    assert_eq!(app_entry["deps"], serde_json::json!(["liba", "libb"]));
    assert_eq!(
        app_entry["schedules"]["nightly"],
        serde_json::json!([{"git_head": "liba"}, {"git_head": "libb"}])
    );
    assert_eq!(app_entry["layer"], "registry");

    // A command that stops with an error still prints one document.
    let (code, doc) = json(&fx.ws, &["sync", "--json", "--repo", "nosuch"]);
    assert_eq!(code, Some(1));
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["command"], "sync");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("No repository matching 'nosuch' found"),
        "{doc}"
    );
}

#[test]
fn a_project_without_schedules_is_pointed_at_roll_help() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "libb"]);
    let out = fx.run(&fx.ws, &["roll", "nightly", "--repo", "libb"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        fx.normalise(&stderr(&out)),
        "error: libb has no roll schedules in the registry (registry file ORG/registry.toml); define one as \
         [[repos.libb.schedules.NAME]] entries (`openxla-workspace roll --help` shows how)\n"
    );
    // And it does.
    let help = stdout(&fx.ok(&["roll", "--help"]));
    assert!(
        help.contains("[[repos.NAME.schedules.nightly]]\n  git_head = \"DEP\""),
        "{help}"
    );
}
