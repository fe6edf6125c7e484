//! `roll --message`, `roll --commit` and the story in `roll --json`, on the
//! fixture organisation: app's `nightly` schedule rolls liba and libb
//! (pinned at 2, branches at 3 or beyond) and, added here, the Python
//! package jaxlib from a folder of wheel-named files.

use crate::common;
use crate::roll::{outcome, push_commit, py_action, registry_with, roll, wheels};

use std::path::PathBuf;

use common::{short, Fixture};

/// A synced workspace (app on main, liba and libb at their pins) where
/// app's requirements.txt pins jaxlib 0.4.1, committed; one more commit
/// on liba's main; and a registry whose nightly schedule also rolls
/// jaxlib. Returns the registry and liba's new tip.
fn nightly() -> (Fixture, PathBuf, String) {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    std::fs::write(app.join("requirements.txt"), "numpy==1.26.4\njaxlib==0.4.1\n").unwrap();
    fx.git(&app, &["add", "requirements.txt"]);
    fx.git(&app, &["commit", "-q", "-m", "Add requirements"]);
    let new_liba = push_commit(&fx, "liba", "main");
    let wheels = wheels(&fx);
    let registry = registry_with(
        &fx,
        &py_action("nightly", "jaxlib", &wheels, false, &["requirements.txt"]),
    );
    (fx, registry, new_liba)
}

/// The message of the nightly roll of [`nightly`].
fn nightly_message(fx: &Fixture, new_liba: &str) -> String {
    format!(
        "Roll liba, libb, jaxlib (nightly)\n\n\
         liba: {} -> {} (2 commits)\n  {} liba: new commit on main\n  {} liba: commit 3\n\n\
         libb: {} -> {} (1 commit)\n  {} libb: commit 3\n\n\
         jaxlib: 0.4.1 -> 0.4.2 (requirements.txt)\n",
        short(fx.id("LIBA_2")),
        short(new_liba),
        short(new_liba),
        short(fx.id("LIBA_3")),
        short(fx.id("LIBB_2")),
        short(fx.id("LIBB_3")),
        short(fx.id("LIBB_3")),
    )
}

/// What a roll of [`nightly`] prints on stdout without `--message`.
fn action_lines(fx: &Fixture, new_liba: &str) -> String {
    format!(
        "liba: {} -> {} (head of main on file://ORG/ro/liba.git)\nUpdated pinned revision.\n\
         libb: {} -> {} (head of main on file://ORG/ro/libb.git)\nUpdated pinned revision.\n\
         jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\nUpdated requirements.\n",
        short(fx.id("LIBA_2")),
        short(new_liba),
        short(fx.id("LIBB_2")),
        short(fx.id("LIBB_3")),
    )
}

#[test]
fn roll_message_tells_each_dep_its_commits_and_each_package_its_versions() {
    let (fx, registry, new_liba) = nightly();
    let out = roll(&fx, &registry, None, &["nightly", "--message"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            nightly_message(&fx, &new_liba),
            format!(
                "liba: fetching {}\n\
                 liba: {} -> {} (head of main on file://ORG/ro/liba.git)\nUpdated pinned revision.\n\
                 libb: {} -> {} (head of main on file://ORG/ro/libb.git)\nUpdated pinned revision.\n\
                 wrote WS/app/sync_deps.py\n\
                 jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\nUpdated requirements.\n\
                 wrote WS/app/requirements.txt\n\
                 roll nightly (app): 3 updated in TIME\n",
                short(&new_liba),
                short(fx.id("LIBA_2")),
                short(&new_liba),
                short(fx.id("LIBB_2")),
                short(fx.id("LIBB_3")),
            )
        )
    );
    // liba's checkout lacked its new pin: it was fetched, not checked out.
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["cat-file", "-e", &format!("{new_liba}^{{commit}}")]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
}

#[test]
fn roll_commit_commits_the_rolled_files_with_the_message_and_then_has_nothing_to_commit() {
    let (fx, registry, new_liba) = nightly();
    let app = fx.ws.join("app");
    let before = fx.head("app");
    let out = roll(&fx, &registry, None, &["nightly", "--commit"]);
    let (code, stdout, _) = outcome(&fx, &out);
    let head = fx.head("app");
    assert_eq!(
        (code, stdout),
        (
            Some(0),
            format!(
                "{}committed {} on main: Roll liba, libb, jaxlib (nightly)\n",
                action_lines(&fx, &new_liba),
                short(&head)
            )
        )
    );
    assert_eq!(fx.git(&app, &["rev-parse", "HEAD^"]), before);
    assert_eq!(
        fx.git(&app, &["log", "-1", "--format=%B"]),
        nightly_message(&fx, &new_liba).trim_end()
    );
    assert_eq!(
        fx.git(&app, &["show", "--name-only", "--format=", "HEAD"]),
        "requirements.txt\nsync_deps.py"
    );
    assert_eq!(fx.git(&app, &["status", "--porcelain"]), "");

    // Rolled already: nothing changes, nothing is committed.
    let out = roll(&fx, &registry, None, &["nightly", "--commit"]);
    let (code, _, stderr) = outcome(&fx, &out);
    assert_eq!(code, Some(0));
    assert!(
        stderr.ends_with("roll nightly (app): 3 up to date in TIME\nnothing changed: nothing to commit\n"),
        "{stderr}"
    );
    assert_eq!(fx.head("app"), head);
    // Nor is there a message to print.
    let out = roll(&fx, &registry, None, &["nightly", "--message"]);
    let (code, stdout, stderr) = outcome(&fx, &out);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "");
    assert!(
        stderr.ends_with("nothing changed: no commit message\n"),
        "{stderr}"
    );
}

#[test]
fn roll_commit_on_a_new_branch_leaves_the_current_one_and_refuses_bad_or_taken_names() {
    let (fx, registry, new_liba) = nightly();
    let app = fx.ws.join("app");
    let main = fx.head("app");
    let snapshot = fx.snapshot();
    for (name, error) in [
        (
            "main",
            "error: app: branch main already exists; name a new one with --branch, or check it out and roll \
             with --commit alone (nothing was changed)\n",
        ),
        (
            "roll..nightly",
            "error: --branch: 'roll..nightly' is not a valid branch name; name a branch git accepts \
             (`roll/nightly`)\n",
        ),
    ] {
        let out = roll(&fx, &registry, None, &["nightly", "--commit", "--branch", name]);
        let (code, stdout, stderr) = outcome(&fx, &out);
        assert_eq!((code, stdout.as_str()), (Some(1), ""), "{stderr}");
        assert!(stderr.ends_with(error), "{name}: {stderr}");
        assert_eq!(fx.snapshot(), snapshot, "{name}");
    }

    let out = roll(
        &fx,
        &registry,
        None,
        &["nightly", "--commit", "--branch", "roll/nightly"],
    );
    let (code, stdout, _) = outcome(&fx, &out);
    let head = fx.git(&app, &["rev-parse", "roll/nightly"]);
    assert_eq!(
        (code, stdout),
        (
            Some(0),
            format!(
                "{}committed {} on roll/nightly: Roll liba, libb, jaxlib (nightly)\n",
                action_lines(&fx, &new_liba),
                short(&head)
            )
        )
    );
    assert_eq!(fx.git(&app, &["symbolic-ref", "--short", "HEAD"]), "roll/nightly");
    assert_eq!(fx.git(&app, &["rev-parse", "main"]), main);
    assert_eq!(
        fx.git(&app, &["log", "-1", "--format=%B"]),
        nightly_message(&fx, &new_liba).trim_end()
    );
}

#[test]
fn roll_commit_refuses_other_uncommitted_changes_and_changes_nothing() {
    let (fx, registry, _) = nightly();
    let app = fx.ws.join("app");
    std::fs::write(app.join("notes.txt"), "mine\n").unwrap();
    fx.git(&app, &["add", "notes.txt"]);
    std::fs::write(
        app.join("requirements.txt"),
        "numpy==1.26.4\njaxlib==0.4.1\nscipy\n",
    )
    .unwrap();
    // An untracked file of no concern to the roll does not stop it.
    std::fs::write(app.join("scratch.txt"), "").unwrap();
    let head = fx.head("app");
    let snapshot = fx.snapshot();
    let out = roll(&fx, &registry, None, &["nightly", "--commit"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "error: app has uncommitted changes, which would be mixed with the roll's: notes.txt (staged), \
             requirements.txt (modified)\n  commit them, or put them aside (`git -C WS/app stash \
             --include-untracked`), then roll again (nothing was changed)\n"
                .to_string()
        )
    );
    assert_eq!(fx.snapshot(), snapshot);
    assert_eq!(fx.head("app"), head);
}

#[test]
fn roll_commit_dry_run_prints_the_fetch_and_the_commit_and_changes_nothing() {
    let (fx, registry, new_liba) = nightly();
    let snapshot = fx.snapshot();
    let out = roll(&fx, &registry, None, &["--dry-run", "nightly", "--commit"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            format!(
                "liba: (in WS/liba) git fetch --no-tags origin {new_liba}\n  \
                 or, if origin refuses a fetch by id: (in WS/liba) git fetch --no-tags origin \
                 +refs/heads/main:refs/remotes/origin/main\n\
                 liba: {} -> {} (head of main on file://ORG/ro/liba.git)\nWould update pinned revision.\n\
                 libb: {} -> {} (head of main on file://ORG/ro/libb.git)\nWould update pinned revision.\n\
                 would write WS/app/sync_deps.py\n\
                 jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\nWould update requirements.\n\
                 would write WS/app/requirements.txt\n\
                 app: (in WS/app) git add -- sync_deps.py requirements.txt\n  \
                 then (in WS/app) git commit --quiet --file=-  (the message on stdin)\n",
                short(fx.id("LIBA_2")),
                short(&new_liba),
                short(fx.id("LIBB_2")),
                short(fx.id("LIBB_3")),
            ),
            "roll nightly (app): 3 to update in TIME\n".to_string()
        )
    );
    assert_eq!(fx.snapshot(), snapshot);
    // Not even the fetch ran.
    let liba = fx.ws.join("liba");
    assert!(!common::hermetic(std::process::Command::new("git"), &fx.home)
        .current_dir(&liba)
        .args(["cat-file", "-e", &new_liba])
        .status()
        .unwrap()
        .success());
}

#[test]
fn roll_json_carries_each_pin_s_commits_and_the_message() {
    let (fx, registry, new_liba) = nightly();
    let out = roll(&fx, &registry, None, &["nightly", "--json"]);
    let (code, stdout, _) = outcome(&fx, &out);
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let entry = |id: &str, subject: &str| serde_json::json!({"id": id, "subject": subject});
    assert_eq!(
        doc["rolled"],
        serde_json::json!({
            "deps": [
                {
                    "dep": "liba", "from": fx.id("LIBA_2"), "to": new_liba, "direction": "forward",
                    "count": 2, "dropped": 0, "unknown_because": null,
                    "log": [entry(&new_liba, "liba: new commit on main"), entry(fx.id("LIBA_3"), "liba: commit 3")],
                },
                {
                    "dep": "libb", "from": fx.id("LIBB_2"), "to": fx.id("LIBB_3"), "direction": "forward",
                    "count": 1, "dropped": 0, "unknown_because": null,
                    "log": [entry(fx.id("LIBB_3"), "libb: commit 3")],
                },
            ],
            "packages": [
                {"package": "jaxlib", "to": "0.4.2", "files": [{"file": "requirements.txt", "from": "0.4.1"}]},
            ],
        })
    );
    assert_eq!(doc["message"], serde_json::json!(nightly_message(&fx, &new_liba)));
    assert_eq!(doc["commit"], serde_json::Value::Null);
}

#[test]
fn roll_message_says_when_a_pin_goes_backwards_and_when_the_count_is_unknown() {
    let fx = Fixture::synced();
    // liba's main is put back to its first commit; libb has no checkout.
    fx.git(
        &fx.remote("liba"),
        &["update-ref", "refs/heads/main", fx.id("LIBA_1")],
    );
    std::fs::remove_dir_all(fx.ws.join("libb")).unwrap();
    let out = fx.run(&fx.ws.join("app"), &["roll", "nightly", "--message"]);
    let (code, stdout, _) = outcome(&fx, &out);
    assert_eq!(
        (code, stdout),
        (
            Some(0),
            format!(
                "Roll liba, libb (nightly)\n\n\
                 liba: {} -> {} (backwards: the new pin is an ancestor of the old, 1 commit dropped)\n  {} liba: commit 2\n\n\
                 libb: {} -> {} (count unknown: no checkout of libb in the workspace)\n",
                short(fx.id("LIBA_2")),
                short(fx.id("LIBA_1")),
                short(fx.id("LIBA_2")),
                short(fx.id("LIBB_2")),
                short(fx.id("LIBB_3")),
            )
        )
    );
}

#[test]
fn list_format_dot_draws_the_graph_with_each_pin_s_state_as_colour() {
    let fx = Fixture::synced();
    // liba one commit ahead of its pin, libb with a changed file.
    fx.git(
        &fx.ws.join("liba"),
        &["checkout", "-q", "--detach", fx.id("LIBA_3")],
    );
    let libb = fx.ws.join("libb");
    std::fs::write(libb.join("sync_deps.py"), "# changed\n").unwrap();
    let out = fx.run(&fx.ws.join("app"), &["list", "--format", "dot"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            format!(
                "digraph workspace {{\n  \
                 label=\"dependencies, pinned as app pins them\";\n  labelloc=t;\n  fontname=\"Helvetica\";\n  \
                 rankdir=LR;\n  \
                 node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\"];\n  \
                 edge [fontname=\"Helvetica\", fontsize=10];\n  \
                 \"app\" [label=\"app\\nlooked from\", fillcolor=white];\n  \
                 \"base\" [label=\"base\\nat pin\", fillcolor=palegreen];\n  \
                 \"liba\" [label=\"liba\\nahead 1\", fillcolor=khaki];\n  \
                 \"libb\" [label=\"libb\\ndirty, at pin\", fillcolor=salmon];\n  \
                 \"app\" -> \"liba\" [label=\"{}\"];\n  \
                 \"app\" -> \"libb\" [label=\"{}\"];\n  \
                 \"liba\" -> \"base\" [label=\"{}\"];\n  \
                 \"libb\" -> \"base\";\n  \
                 subgraph cluster_legend {{\n    label=\"pin state\";\n    fontname=\"Helvetica\";\n    \
                 \"legend 0\" [label=\"at pin\", fillcolor=palegreen, fontsize=10];\n    \
                 \"legend 1\" [label=\"off pin (ahead, behind, not fetched)\", fillcolor=khaki, fontsize=10];\n    \
                 \"legend 2\" [label=\"needs you (dirty, diverged, missing)\", fillcolor=salmon, fontsize=10];\n    \
                 \"legend 3\" [label=\"not pinned\", fillcolor=white, fontsize=10];\n  \
                 }}\n}}\n",
                short(fx.id("LIBA_2")),
                short(fx.id("LIBB_2")),
                short(fx.id("BASE_2")),
            ),
            String::new()
        )
    );
    // Outside a workspace: the registry's graph, no states.
    let outside = fx.tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let out = fx.run(&outside, &["list", "--format", "dot"]);
    let (code, stdout, _) = outcome(&fx, &out);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("  \"liba\" [label=\"liba\"];\n") && !stdout.contains("fillcolor=palegreen"),
        "{stdout}"
    );
}

#[test]
fn roll_commit_on_a_detached_head_asks_for_a_branch_and_changes_nothing() {
    let (fx, registry, _) = nightly();
    let app = fx.ws.join("app");
    fx.git(&app, &["checkout", "-q", "--detach"]);
    let snapshot = fx.snapshot();
    let out = roll(&fx, &registry, None, &["nightly", "--commit"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "error: app: HEAD is detached in WS/app; name a branch to commit on with --branch NAME \
             (nothing was changed)\n"
                .to_string()
        )
    );
    assert_eq!(fx.snapshot(), snapshot);
}
