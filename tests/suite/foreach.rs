//! `foreach`, `diff` and `grep` across the projects of a workspace.

use crate::common;

use common::{normalise, stderr, stdout, text, Fixture};

/// The fixture's `app` with its deps at their pins.
const SHOW: &str =
    "echo \"$OPENXLA_WORKSPACE_PROJECT $OPENXLA_WORKSPACE_PROJECT_DIR $OPENXLA_WORKSPACE_ROOT \
                    ${OPENXLA_WORKSPACE_HEAD:-no-head} ${OPENXLA_WORKSPACE_PIN:-no-pin} \
                    ${OPENXLA_WORKSPACE_PINNED_BY:-nobody} $(pwd)\"";

#[test]
fn foreach_runs_in_every_project_in_order_with_its_variables() {
    let fx = Fixture::synced();
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_3")]);
    let out = fx.run(&fx.ws.join("app"), &["foreach", "--", "sh", "-c", SHOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ws = fx.ws.display();
    let line = |name: &str, head: &str, pin: &str, by: &str| {
        format!("== {name} ==\n{name} {ws}/{name} {ws} {head} {pin} {by} {ws}/{name}\n")
    };
    let expected = [
        line("app", fx.id("APP_3"), "no-pin", "nobody"),
        line("base", fx.id("BASE_2"), fx.id("BASE_2"), "liba"),
        line("liba", fx.id("LIBA_3"), fx.id("LIBA_2"), "app"),
        line("libb", fx.id("LIBB_2"), fx.id("LIBB_2"), "app"),
    ]
    .concat();
    assert_eq!(stdout(&out), expected);
    assert_eq!(normalise(&stderr(&out), &[]), "foreach: 4 succeeded in TIME\n");
    // From the workspace folder no project is looked from: no pins.
    let out = fx.run(
        &fx.ws,
        &["-q", "foreach", "--repo", "^base$", "--", "sh", "-c", SHOW],
    );
    assert_eq!(stdout(&out), line("base", fx.id("BASE_2"), "no-pin", "nobody"));
    assert_eq!(stderr(&out), "");
}

#[test]
fn foreach_in_parallel_prints_each_project_whole_and_in_order() {
    let fx = Fixture::synced();
    // Each command writes to stdout and stderr in turns, slowly, so that
    // running side by side their lines would interleave.
    let script = "for i in 1 2 3; do echo \"$OPENXLA_WORKSPACE_PROJECT out $i\"; \
                  echo \"$OPENXLA_WORKSPACE_PROJECT err $i\" >&2; sleep 0.1; done";
    let out = fx.run(&fx.ws, &["-j", "4", "foreach", "--", "sh", "-c", script]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut expected = String::new();
    for name in ["app", "base", "liba", "libb"] {
        expected.push_str(&format!("== {name} ==\n"));
        for i in 1..=3 {
            expected.push_str(&format!("{name} out {i}\n{name} err {i}\n"));
        }
    }
    assert_eq!(stdout(&out), expected);
    assert_eq!(normalise(&stderr(&out), &[]), "foreach: 4 succeeded in TIME\n");
}

#[test]
fn foreach_stops_starting_commands_after_a_failure_unless_keep_going() {
    let fx = Fixture::synced();
    let fails_in_base = "echo \"in $OPENXLA_WORKSPACE_PROJECT\"; test \"$OPENXLA_WORKSPACE_PROJECT\" != base";
    let out = fx.run(&fx.ws, &["foreach", "--", "sh", "-c", fails_in_base]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stdout(&out), "== app ==\nin app\n== base ==\nin base\n");
    let line = format!("sh -c '{}'", fails_in_base.replace('\'', "'\\''"));
    assert_eq!(
        normalise(&stderr(&out), &[]),
        format!(
            "foreach: 1 succeeded, 2 not run, 1 failed in TIME\n\
             error: base: `{line}` exited with status 1\n\
             after the first failure no command was started in the 2 remaining projects; --keep-going runs them all\n"
        )
    );
    let out = fx.run(
        &fx.ws,
        &["foreach", "--keep-going", "--", "sh", "-c", fails_in_base],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "== app ==\nin app\n== base ==\nin base\n== liba ==\nin liba\n== libb ==\nin libb\n"
    );
    assert_eq!(
        normalise(&stderr(&out), &[]),
        format!("foreach: 3 succeeded, 1 failed in TIME\nerror: base: `{line}` exited with status 1\n")
    );
    // A command that cannot be started fails every project it is tried in.
    let out = fx.run(
        &fx.ws,
        &["foreach", "-k", "--exclude", "^lib", "--", "./no-such-command"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = normalise(&stderr(&out), &[]);
    assert!(err.starts_with("foreach: 2 failed in TIME\n"), "{err}");
    assert!(
        err.contains(&format!(
            "error: app: could not start `./no-such-command` in {}/app: ",
            fx.ws.display()
        )),
        "{err}"
    );
}

#[test]
fn foreach_commands_work_on_their_own_project_whatever_git_dir_says() {
    let fx = Fixture::synced();
    let out = fx
        .cmd(&fx.ws)
        .env("GIT_DIR", fx.ws.join("app/.git"))
        .env("GIT_WORK_TREE", fx.ws.join("app"))
        .args([
            "-q",
            "foreach",
            "--repo",
            "^lib",
            "--",
            "git",
            "rev-parse",
            "--show-toplevel",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ws = fx.ws.display();
    assert_eq!(
        stdout(&out),
        format!("== liba ==\n{ws}/liba\n== libb ==\n{ws}/libb\n")
    );
}

#[test]
fn foreach_json_reports_each_project_with_its_output_and_status() {
    let fx = Fixture::synced();
    let script =
        "echo \"out $OPENXLA_WORKSPACE_PROJECT\"; echo err >&2; test $OPENXLA_WORKSPACE_PROJECT != libb";
    let out = fx.run(
        &fx.ws.join("app"),
        &[
            "-j", "2", "foreach", "--json", "--repo", "^lib", "--", "sh", "-c", script,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ws = fx.ws.display();
    let project = |name: &str, head: &str, result: &str, code: i32| {
        serde_json::json!({
            "name": name, "path": format!("{ws}/{name}"), "head": head, "pin": head, "pinned_by": "app",
            "result": result, "exit_code": code, "signal": null, "error": null,
            "stdout": format!("out {name}\n"), "stderr": "err\n",
        })
    };
    assert_eq!(
        doc,
        serde_json::json!({
            "schema": 1, "command": "foreach", "ok": false,
            "argv": ["sh", "-c", script],
            "projects": [
                project("liba", fx.id("LIBA_2"), "ok", 0),
                project("libb", fx.id("LIBB_2"), "failed", 1),
            ],
        })
    );
}

#[test]
fn foreach_dry_run_prints_each_command_and_runs_none() {
    let fx = Fixture::synced();
    let out = fx.ok(&[
        "--dry-run",
        "foreach",
        "--exclude",
        "^lib",
        "--",
        "touch",
        "new file",
    ]);
    let ws = fx.ws.display();
    assert_eq!(
        stdout(&out),
        format!("app: (in {ws}/app) touch 'new file'\nbase: (in {ws}/base) touch 'new file'\n")
    );
    assert!(!fx.ws.join("app/new file").exists());
    // Selecting nothing is an error that lists the projects.
    let out = fx.run(&fx.ws, &["foreach", "--repo", "nothing", "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: no project matches the --repo and --exclude given; the projects are: app, base, liba, libb\n"
    );
}

#[test]
fn diff_is_one_patch_of_the_workspace_with_paths_under_each_project() {
    let fx = Fixture::synced();
    std::fs::write(fx.ws.join("liba/README.md"), "liba, edited\n").unwrap();
    std::fs::write(fx.ws.join("base/README.md"), "base, edited\n").unwrap();
    fx.git(&fx.ws.join("base"), &["add", "README.md"]);
    let out = fx.run(&fx.ws.join("app"), &["diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let patch = stdout(&out);
    let blob = |dir: &str, rev: &str| fx.git(&fx.ws.join(dir), &["rev-parse", "--short", rev]);
    let old_liba = fx.git(&fx.ws.join("liba"), &["show", "HEAD:README.md"]);
    let mut expected = format!(
        "diff --git a/liba/README.md b/liba/README.md\nindex {}..{} 100644\n--- a/liba/README.md\n+++ b/liba/README.md\n",
        blob("liba", "HEAD:README.md"),
        &fx.git(&fx.ws.join("liba"), &["hash-object", "README.md"])[..7]
    );
    let lines: Vec<&str> = old_liba.lines().collect();
    expected.push_str(&format!("@@ -1,{} +1 @@\n", lines.len()));
    for line in &lines {
        expected.push_str(&format!("-{line}\n"));
    }
    expected.push_str("+liba, edited\n");
    assert_eq!(patch, expected);
    // --cached: the staged change in base only.
    let out = fx.run(&fx.ws, &["diff", "--cached"]);
    let staged = stdout(&out);
    assert!(
        staged.starts_with("diff --git a/base/README.md b/base/README.md\n"),
        "{staged}"
    );
    assert!(
        staged.ends_with("+base, edited\n") && !staged.contains("liba"),
        "{staged}"
    );
    // The workspace's patch applies in a copy of the workspace, from its top.
    let copy = fx.tmp.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for name in ["liba", "base"] {
        fx.git(
            &fx.ws.join(name),
            &[
                "worktree",
                "add",
                "--quiet",
                "--detach",
                copy.join(name).to_str().unwrap(),
            ],
        );
    }
    let patch_file = fx.tmp.path().join("ws.patch");
    std::fs::write(&patch_file, &out.stdout).unwrap();
    fx.git(&copy, &["apply", patch_file.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(copy.join("base/README.md")).unwrap(),
        "base, edited\n"
    );
}

#[test]
fn grep_prefixes_every_path_with_its_project_and_exits_1_without_a_match() {
    let fx = Fixture::synced();
    std::fs::write(fx.ws.join("liba/notes.txt"), "alpha\nNeedle here\n").unwrap();
    fx.git(&fx.ws.join("liba"), &["add", "notes.txt"]);
    std::fs::write(fx.ws.join("libb/odd: name.txt"), "needle\n").unwrap();
    fx.git(&fx.ws.join("libb"), &["add", "odd: name.txt"]);
    let out = fx.run(&fx.ws, &["grep", "-n", "-i", "needle"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        "liba/notes.txt:2:Needle here\nlibb/odd: name.txt:1:needle\n"
    );
    let out = fx.run(&fx.ws, &["grep", "-l", "needle"]);
    assert_eq!(stdout(&out), "libb/odd: name.txt\n");
    let out = fx.run(&fx.ws, &["grep", "-F", "-i", "NEEDLE", "--", "*.txt", ":!odd*"]);
    assert_eq!(stdout(&out), "liba/notes.txt:Needle here\n");
    std::fs::write(fx.ws.join("base/dash.txt"), "a -x flag\n").unwrap();
    fx.git(&fx.ws.join("base"), &["add", "dash.txt"]);
    for args in [&["grep", "-e", "-x"][..], &["grep", "-x"]] {
        assert_eq!(
            stdout(&fx.run(&fx.ws, args)),
            "base/dash.txt:a -x flag\n",
            "{args:?}"
        );
    }
    let out = fx.run(&fx.ws, &["grep", "no such text anywhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));
}

/// SIGTERM to the tool ends the user's commands it started too: they are
/// children of the run like its git processes, not left running after it.
#[test]
fn sigterm_ends_the_commands_foreach_started() {
    let fx = Fixture::synced();
    let pids = fx.ws.join("pids");
    std::fs::create_dir(&pids).unwrap();
    let script = format!(
        "echo $$ > {}/$OPENXLA_WORKSPACE_PROJECT; exec sleep 60",
        pids.display()
    );
    let mut child = fx
        .cmd(&fx.ws)
        .args(["-j", "4", "foreach", "--", "sh", "-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::fs::read_dir(&pids).unwrap().count() < 4 {
        assert!(started.elapsed().as_secs() < 20, "the commands did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Each pid file is written before `exec`: wait until each holds a pid.
    let read = |entry: std::fs::DirEntry| loop {
        if let Ok(pid) = std::fs::read_to_string(entry.path())
            .unwrap()
            .trim()
            .parse::<u32>()
        {
            break pid;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let started: Vec<u32> = std::fs::read_dir(&pids)
        .unwrap()
        .map(|e| read(e.unwrap()))
        .collect();
    // SAFETY: sends SIGTERM to the tool this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{status:?}");
    for pid in started {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // A zombie is ended; only its parent's wait is missing.
            if state.split_whitespace().nth(2) == Some("Z") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "command {pid} was left running"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
