//! Real-repository scale (issue 14): partial clones (`--filter`), the
//! settings a workspace remembers (`init`, `config`, roots, `sync` at the
//! top), a true `--jobs` cap counting submodule clones, and submodules
//! through the object cache.

use crate::common;
use crate::trust_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{hermetic, stderr, stdout, text, Fixture};
use trust_support::{pin_app, push_upstream};

/// Lets the organisation's servers serve partial clones and objects by id,
/// as GitHub does (server settings, not the tool's).
fn serve_filters(fx: &Fixture) {
    for entry in std::fs::read_dir(fx.org.join("git")).unwrap() {
        let repo = entry.unwrap().path();
        for (key, value) in [
            ("uploadpack.allowFilter", "true"),
            ("uploadpack.allowAnySHA1InWant", "true"),
        ] {
            fx.git(&repo, &["config", key, value]);
        }
    }
}

/// git with the hermetic environment and lazy fetches off: what a
/// repository can answer from what it holds.
fn offline_git(fx: &Fixture, dir: &Path, args: &[&str]) -> std::process::Output {
    hermetic(Command::new("git"), &fx.home)
        .current_dir(dir)
        .env("GIT_NO_LAZY_FETCH", "1")
        .args(args)
        .output()
        .unwrap()
}

/// `remote.origin.promisor` and `remote.origin.partialclonefilter` of the
/// repository at `dir`.
fn partial_settings(fx: &Fixture, dir: &Path) -> String {
    fx.git(
        dir,
        &[
            "config",
            "--get-regexp",
            "^remote\\.origin\\.(promisor|partialclonefilter)$",
        ],
    )
}

/// Takes the organisation's repositories away (a server that is gone),
/// returning a guard that puts them back.
struct ServerGone<'a>(&'a Fixture);

impl<'a> ServerGone<'a> {
    fn new(fx: &'a Fixture) -> ServerGone<'a> {
        std::fs::rename(fx.org.join("git"), fx.org.join("git-gone")).unwrap();
        ServerGone(fx)
    }
}

impl Drop for ServerGone<'_> {
    fn drop(&mut self) {
        std::fs::rename(self.0.org.join("git-gone"), self.0.org.join("git")).unwrap();
    }
}

#[test]
fn a_blobless_workspace_is_a_promisor_clone_whose_pins_come_by_id_and_whose_status_is_offline() {
    let fx = Fixture::new();
    serve_filters(&fx);
    fx.ok(&["checkout", "--sync", "--filter", "blob:none", "app"]);
    let expected = "remote.origin.promisor true\nremote.origin.partialclonefilter blob:none";
    for dir in ["app", "liba", "libb", "base", "liba/third_party/subx"] {
        assert_eq!(partial_settings(&fx, &fx.ws.join(dir)), expected, "{dir}");
    }
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
    // The contents of older commits stayed on the server.
    let objects = offline_git(
        &fx,
        &fx.ws.join("base"),
        &["rev-list", "--objects", "--all", "--missing=print"],
    );
    assert!(
        stdout(&objects).lines().any(|l| l.starts_with('?')),
        "{}",
        text(&objects)
    );

    // app now pins liba at a commit of another branch (whose sync_deps.py
    // this clone never fetched) and libb at a commit it does not have.
    let new_libb = push_upstream(&fx, "libb", &[("NEWS", "more\n")]);
    let app = fx.ws.join("app");
    pin_app(&fx, &app, fx.id("LIBA_D2"), &new_libb);

    // With the server gone, status still answers, from what is here,
    // and starts no fetch (the exec-path wrapper sees every git).
    let log = fx.tmp.path().join("gits.log");
    let exec_path = trust_support::counting_exec_path(fx.tmp.path());
    let gone = ServerGone::new(&fx);
    let out = fx
        .cmd(&fx.ws)
        .args(["status", "--repo", "app", "--json"])
        .env("PATH", trust_support::path_with(&exec_path))
        .env("GIT_EXEC_PATH", &exec_path)
        .env("TRUST_COUNT_LOG", &log)
        .output()
        .unwrap();
    drop(gone);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let gits = std::fs::read_to_string(&log).unwrap();
    assert!(!gits.is_empty());
    assert!(
        !gits.contains("fetch") && !gits.contains("upload-pack"),
        "status reached for the network:\n{gits}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        doc["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(row("liba")["state"], serde_json::json!(["behind"]));
    assert_eq!(row("liba")["behind"], 3);
    assert_eq!(row("libb")["state"], serde_json::json!(["pin_not_fetched"]));
    assert_eq!(
        stderr(&out),
        format!(
            "liba: its own pins at {} are not known here: that commit or its sync_deps.py has not been fetched \
             (`sync` fetches it)\nlibb: its own pins at {} are not known here: that commit or its sync_deps.py \
             has not been fetched (`sync` fetches it)\n",
            &fx.id("LIBA_D2")[..7],
            &new_libb[..7]
        )
    );

    // sync fetches the pin by id (into the partial clone, which stays
    // one) and liba's pin file at its pin, which now pins base@4.
    fx.ok(&["sync", "--repo", "app"]);
    assert_eq!(fx.head("libb"), new_libb);
    assert_eq!(fx.head("liba"), fx.id("LIBA_D2"));
    assert_eq!(fx.head("base"), fx.id("BASE_4"));
    assert_eq!(partial_settings(&fx, &fx.ws.join("libb")), expected);

    // The whole history is there to read without the server.
    let _gone = ServerGone::new(&fx);
    let log = offline_git(&fx, &fx.ws.join("libb"), &["log", "--format=%s", "HEAD"]);
    assert_eq!(
        stdout(&log),
        "libb: upstream change\nlibb: commit 3\nlibb: commit 2\nlibb: commit 1\n",
        "{}",
        text(&log)
    );
}

#[test]
fn a_treeless_shallow_checkout_makes_each_dep_from_its_pin_and_fetches_the_pin_file_it_reads() {
    let fx = Fixture::new();
    serve_filters(&fx);
    // --depth with --sync: the deps are new repositories that fetch only
    // their pinned commits; tree:0 leaves even the trees on the server
    // until the pin file and the checkout need them.
    let out = fx.ok(&[
        "-v", "checkout", "--sync", "--depth", "1", "--filter", "tree:0", "app",
    ]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "git fetch --no-tags --depth=1 --filter=tree:0 origin {}",
            fx.id("LIBA_2")
        )),
        "{err}"
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    // base's pin comes from liba's sync_deps.py at its pin.
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
    assert_eq!(
        partial_settings(&fx, &fx.ws.join("base")),
        "remote.origin.promisor true\nremote.origin.partialclonefilter tree:0"
    );
    assert!(fx.ws.join("base/.git/shallow").is_file());
}

#[test]
fn a_filter_git_does_not_get_from_us_is_refused() {
    let fx = Fixture::new();
    let out = fx.run(&fx.ws, &["checkout", "--filter", "blob:limit=1k", "app"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains(
            "invalid value 'blob:limit=1k' for '--filter <SPEC>': unsupported filter 'blob:limit=1k': use \
             blob:none (no file contents until checked out), tree:0 (no trees either) or none (full clones)"
        ),
        "{}",
        text(&out)
    );
    let out = fx.run(&fx.ws, &["config", "filter", "sparse:oid=x"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!fx.ws.join(".openxla_workspace.settings.json").exists());
}

/// The settings file of the workspace `ws`, parsed.
fn settings_file(ws: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(ws.join(".openxla_workspace.settings.json")).unwrap()).unwrap()
}

#[test]
fn init_remembers_its_settings_and_config_shows_and_changes_them_with_flags_and_env_winning() {
    let fx = Fixture::new();
    let ws = fx.tmp.path().join("ws2");
    std::fs::create_dir_all(&ws).unwrap();
    let cache = fx.tmp.path().join("cache");
    let registry = fx.registry();
    let out = fx
        .cmd(&ws)
        .env_remove("OPENXLA_WORKSPACE_REGISTRY")
        .args(["init", "--ro", "--filter", "blob:none", "--depth", "3", "-j", "3"])
        .arg("--registry")
        .arg(&registry)
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        format!(
            "Initialized workspace at: {ws}\n  registry: {r}\n  ro: true\n  filter: blob:none\n  depth: 3\n  jobs: 3\n  \
             cache-dir: {c}\n",
            ws = ws.display(),
            r = registry.display(),
            c = cache.display()
        ),
        "{}",
        text(&out)
    );
    // The marker is what the original tool wrote; the settings are apart.
    assert_eq!(
        std::fs::read_to_string(ws.join(".openxla_workspace.json")).unwrap(),
        "{\"version\": 0}\n"
    );
    assert_eq!(
        settings_file(&ws),
        serde_json::json!({
            "settings": {"registry": registry.display().to_string(), "ro": true, "filter": "blob:none",
                         "depth": 3, "jobs": 3, "cache-dir": cache.display().to_string()},
            "roots": [],
        })
    );

    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = fx.cmd(&ws);
        cmd.env_remove("OPENXLA_WORKSPACE_REGISTRY").args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&["config"], &[]);
    let (r, c) = (registry.display().to_string(), cache.display().to_string());
    let w = r.len().max(c.len());
    let rows = [
        ("registry", r.as_str()),
        ("ro", "true"),
        ("filter", "blob:none"),
        ("depth", "3"),
        ("jobs", "3"),
        ("cache-dir", c.as_str()),
    ];
    let mut expected = String::from("Settings in effect:\n");
    for (key, value) in rows {
        expected.push_str(&format!("  {key:<9}  {value:<w$}  (workspace)\n"));
    }
    expected.push_str("Roots: (none)\n");
    assert_eq!(stdout(&out), expected, "{}", text(&out));
    assert_eq!(stdout(&run(&["config", "jobs"], &[])), "3\n");
    let out = run(&["config", "jobs", "5"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&run(&["config", "jobs"], &[])), "5\n");
    let out = run(&["config", "--unset", "cache-dir"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&["config", "cache-dir"], &[]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(1), String::new()));

    // For one run: a flag wins over the variable, which wins over the
    // workspace's setting.
    let in_effect = |args: &[&str], env: &[(&str, &str)]| {
        let out = run(&[&["config", "--json"], args].concat(), env);
        assert!(out.status.success(), "{}", text(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (doc["settings"]["jobs"].clone(), doc["settings"]["filter"].clone())
    };
    let jobs = |n: u64, source: &str| serde_json::json!({"value": n, "source": source});
    let blobless = serde_json::json!({"value": "blob:none", "source": "workspace"});
    assert_eq!(in_effect(&[], &[]), (jobs(5, "workspace"), blobless.clone()));
    assert_eq!(
        in_effect(
            &[],
            &[
                ("OPENXLA_WORKSPACE_JOBS", "4"),
                ("OPENXLA_WORKSPACE_FILTER", "none")
            ]
        ),
        (
            jobs(4, "env"),
            serde_json::json!({"value": null, "source": "env"})
        )
    );
    assert_eq!(
        in_effect(&["-j", "2"], &[("OPENXLA_WORKSPACE_JOBS", "4")]),
        (jobs(2, "flag"), blobless)
    );

    // The settings apply: the registry is the remembered one (no
    // --registry, no variable), clones come from the read-only URLs,
    // partial and shallow; the variable turns ro off for one run.
    let out = run(&["checkout", "--no-deps", "--no-submodules", "base"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let base = ws.join("base");
    assert_eq!(
        fx.git(&base, &["remote", "get-url", "origin"]),
        format!("file://{}/ro/base.git", fx.org.display())
    );
    assert_eq!(fx.git(&base, &["rev-list", "--count", "HEAD"]), "3");
    let out = run(
        &["checkout", "--no-deps", "--no-submodules", "--depth", "0", "libb"],
        &[("OPENXLA_WORKSPACE_RO", "0")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let libb = ws.join("libb");
    assert_eq!(
        fx.git(&libb, &["remote", "get-url", "origin"]),
        format!("file://{}/rw/libb.git", fx.org.display())
    );
    assert!(!libb.join(".git/shallow").exists());
    assert_eq!(settings_file(&ws)["roots"], serde_json::json!(["base", "libb"]));

    // status shows the settings in effect after its table.
    let out = run(&["status"], &[]);
    let shown = stdout(&out);
    let settings = &shown[shown.find("Settings in effect:").expect(&shown)..];
    assert!(settings.contains("  jobs       5"), "{shown}");
    assert!(settings.ends_with("Roots: base, libb\n"), "{shown}");
}

#[test]
fn a_bad_value_in_the_settings_file_names_the_file_and_key_and_config_can_repair_it() {
    let fx = Fixture::new();
    let file = fx.ws.join(".openxla_workspace.settings.json");
    std::fs::write(&file, "{\"settings\": {\"jobs\": \"many\", \"ro\": true}}\n").unwrap();
    for args in [
        &["status"][..],
        &["sync", "--repo", "app"],
        &["list"],
        &["config"],
    ] {
        let out = fx.run(&fx.ws, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "error: {}: key `jobs`: expected a whole number from 1 to 256, found \"many\"\n  fix it with \
                 `openxla-workspace config KEY VALUE` or `config --unset KEY`, or remove the file\n",
                file.display()
            ),
            "{args:?}"
        );
    }
    let out = fx.run(&fx.ws, &["config", "jobs", "4"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        settings_file(&fx.ws),
        serde_json::json!({"settings": {"ro": true, "jobs": 4}, "roots": []})
    );
    fx.ok(&["status"]);
}

#[test]
fn sync_at_the_top_syncs_every_root_together_and_reports_conflicts_between_them() {
    let fx = Fixture::after(&["checkout", "app"]);
    // libb, a dep of app, is checked out by name too: both are roots.
    let out = fx.ok(&["checkout", "libb"]);
    assert_eq!(
        common::normalise(&stderr(&out), &[]),
        "Skipping checkout of libb (already exists)\nSkipping checkout of base (already exists)\ncheckout: 2 already \
         present in TIME\n"
    );
    assert_eq!(settings_file(&fx.ws)["roots"], serde_json::json!(["app", "libb"]));
    let libb_head = fx.head("libb");

    // One at a time, for the order of the lines.
    let out = fx.ok(&["-j", "1", "sync"]);
    let short = |key: &str| fx.id(key)[..7].to_string();
    assert_eq!(
        common::normalise(&stderr(&out), &[]),
        format!(
            "warning: libb: a root of the workspace, left as it is (app pins {libb})\n\
             warning: base: using {base3} (pinned by libb); liba pins {base2}\n\
             liba: checking out {liba}\n\
             base: checking out {base3}\n\
             liba: left branch main (at {liba3})\n\
             base: left branch main (at {base4})\n\
             sync app, libb: 2 moved in TIME\n",
            libb = short("LIBB_2"),
            base3 = short("BASE_3"),
            base2 = short("BASE_2"),
            liba = short("LIBA_2"),
            liba3 = short("LIBA_3"),
            base4 = short("BASE_4"),
        )
    );
    assert_eq!(
        stdout(&out),
        format!(
            "liba: {} (pinned by app), was {}\nbase: {} (pinned by libb), was {}\n",
            short("LIBA_2"),
            short("LIBA_3"),
            short("BASE_3"),
            short("BASE_4")
        )
    );
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_3"));
    // A root is what the user works on: no other root's pin moves it.
    assert_eq!(fx.head("libb"), libb_head);

    let out = fx.run(&fx.ws, &["sync", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["project"], serde_json::Value::Null);
    assert_eq!(doc["roots"], serde_json::json!(["app", "libb"]));
    assert_eq!(
        doc["conflicts"],
        serde_json::json!([{"dep": "base", "used": fx.id("BASE_3"), "used_by": "libb",
                            "other": fx.id("BASE_2"), "other_by": "liba"}])
    );
}

/// An exec path whose `git` records how many git processes do work at
/// once: every git the tool starts, except `git submodule` itself, whose
/// work is the clones it starts, which count instead. Each counted process
/// holds its place 0.2 s longer, so that processes that may overlap do.
/// Returns the exec path and the file holding the maximum.
fn concurrency_exec_path(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let (real, path) = trust_support::mirrored_exec_path(dir, "counting-exec-path", &["git"]);
    let state = dir.join("concurrency");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("now"), "0\n").unwrap();
    std::fs::write(state.join("max"), "0\n").unwrap();
    let script = format!(
        r#"#!/bin/sh
s='{state}'
count=
if [ -z "$SCALE_NESTED" ]; then
    [ "$1" = submodule ] || count=1
else
    [ "$1" = clone ] && count=1
fi
SCALE_NESTED=1; export SCALE_NESTED
if [ -z "$count" ]; then exec '{real}/git' "$@"; fi
(
    flock 9
    n=$(( $(cat "$s/now") + 1 )); echo $n > "$s/now"
    if [ $n -gt $(cat "$s/max") ]; then echo $n > "$s/max"; fi
) 9>"$s/lock"
sleep 0.2
'{real}/git' "$@"
rc=$?
( flock 9; echo $(( $(cat "$s/now") - 1 )) > "$s/now" ) 9>"$s/lock"
exit $rc
"#,
        state = state.display()
    );
    std::fs::write(path.join("git"), script).unwrap();
    std::fs::set_permissions(path.join("git"), std::fs::Permissions::from_mode(0o755)).unwrap();
    (path, state.join("max"))
}

#[test]
fn jobs_caps_the_git_processes_running_at_once_submodule_clones_included() {
    let fx = Fixture::new();
    // Two projects with two submodules each (the same repository under two
    // names): each could clone its submodules in parallel beside the other.
    let registry = fx.tmp.path().join("two.toml");
    let url = format!("file://{}", fx.remote("liba").display());
    std::fs::write(
        &registry,
        format!(
            "include_default = false\n\n[repos.one]\nro_url = \"{url}\"\nsubmodules = true\n\n\
             [repos.two]\nro_url = \"{url}\"\nsubmodules = true\n"
        ),
    )
    .unwrap();
    let (exec_path, max) = concurrency_exec_path(fx.tmp.path());
    let out = fx
        .cmd(&fx.ws)
        .env("OPENXLA_WORKSPACE_REGISTRY", &registry)
        .env("PATH", trust_support::path_with(&exec_path))
        .env("GIT_EXEC_PATH", &exec_path)
        .args(["-j", "2", "checkout", "one", "two"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    for name in ["one", "two"] {
        for sub in ["subx", "suby"] {
            assert!(fx
                .ws
                .join(name)
                .join("third_party")
                .join(sub)
                .join(".git")
                .exists());
        }
    }
    // At the cap, never above it.
    assert_eq!(std::fs::read_to_string(&max).unwrap(), "2\n");
}

/// Off a terminal nobody can be asked for a password, so no clone waits
/// for a slow one from the same host to end: the others start once the
/// first has had its grace to show the host shut (`git/hosts.rs`), while
/// it still runs. (On a terminal the first clone for each host runs to
/// its end alone, so that at most one prompt is ever on screen.)
#[test]
fn off_a_terminal_a_slow_first_clone_holds_up_no_other_from_its_host_past_the_grace() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let registry = fx.tmp.path().join("ssh.toml");
    let mut text_ = String::from("include_default = false\n");
    for name in ["liba", "libb", "base"] {
        text_.push_str(&format!(
            "[repos.{name}]\nro_url = \"ssh://git@git.example.org{}\"\n",
            fx.remote(name).display()
        ));
    }
    std::fs::write(&registry, text_).unwrap();
    // An ssh that serves from the organisation's folders (the URL's path
    // is theirs), logging when each transfer starts and ends; the first
    // takes 2 s, longer than the grace.
    let log = fx.tmp.path().join("ssh.log");
    let ssh = fx.tmp.path().join("local-ssh");
    std::fs::write(
        &ssh,
        format!(
            "#!/bin/sh\n[ \"$1\" = -G ] && exit 255\nfor last; do :; done\necho start >> '{log}'\n\
             if mkdir '{log}.first' 2>/dev/null; then sleep 2; else sleep 1; fi\n\
             sh -c \"$last\"\nrc=$?\necho end >> '{log}'\nexit $rc\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = fx
        .cmd(&fx.ws)
        .env("OPENXLA_WORKSPACE_REGISTRY", &registry)
        .env("GIT_SSH_COMMAND", &ssh)
        // Not OpenSSH by git's rules: no connection sharing, whose first
        // connection per host the others wait for.
        .env("GIT_SSH_VARIANT", "simple")
        .args(["-j", "4", "checkout", "--ro", "liba", "libb", "base"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    for name in ["liba", "libb", "base"] {
        assert_eq!(fx.head(name), fx.git(&fx.remote(name), &["rev-parse", "main"]));
    }
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log, "start\nstart\nstart\nend\nend\nend\n");
}

/// The submodules of one project are cloned side by side, up to `--jobs`.
#[test]
fn one_projects_submodules_are_cloned_side_by_side_up_to_jobs() {
    let fx = Fixture::new();
    let (exec_path, max) = concurrency_exec_path(fx.tmp.path());
    let out = fx
        .cmd(&fx.ws)
        .env("PATH", trust_support::path_with(&exec_path))
        .env("GIT_EXEC_PATH", &exec_path)
        .args(["-j", "4", "checkout", "--no-deps", "liba"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    assert_eq!(status.lines().count(), 2, "{status}");
    assert!(!status.contains('-'), "{status}");
    // liba has two submodules, and nothing else runs beside them.
    assert_eq!(std::fs::read_to_string(&max).unwrap(), "2\n");
}

#[test]
fn submodules_borrow_from_the_cache_so_a_second_workspace_fetches_no_object() {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    fx.ok(&["--cache-dir", cache_arg, "checkout", "--no-deps", "liba"]);
    let ws2 = fx.tmp.path().join("ws2");
    std::fs::create_dir_all(&ws2).unwrap();
    assert!(fx.run(&ws2, &["init"]).status.success());
    let out = fx.run(&ws2, &["--cache-dir", cache_arg, "checkout", "--no-deps", "liba"]);
    assert!(out.status.success(), "{}", text(&out));
    let mirrors: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".git"))
        .map(|n| n.split('-').next().unwrap().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(mirrors, ["liba", "subx", "suby"]);
    for sub in ["subx", "suby"] {
        let module = ws2.join("liba/.git/modules/third_party").join(sub);
        let alternates = std::fs::read_to_string(module.join("objects/info/alternates")).unwrap();
        assert!(
            alternates
                .trim()
                .starts_with(cache.canonicalize().unwrap().to_str().unwrap()),
            "{alternates}"
        );
        // Nothing of its own: every object is borrowed.
        let counts = fx.git(&module, &["count-objects", "-v"]);
        let lines: Vec<&str> = counts.lines().collect();
        assert!(
            lines.contains(&"count: 0") && lines.contains(&"packs: 0"),
            "{sub}: {counts}"
        );
        let dir = ws2.join("liba/third_party").join(sub);
        assert_eq!(
            fx.git(&dir, &["remote", "get-url", "origin"]),
            format!("file://{}/rw/{sub}.git", fx.org.display())
        );
        assert_eq!(
            fx.git(&dir, &["rev-parse", "HEAD"]),
            fx.git(
                &ws2.join("liba"),
                &["rev-parse", &format!("HEAD:third_party/{sub}")]
            )
        );
    }
}
