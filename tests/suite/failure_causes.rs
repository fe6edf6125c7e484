//! When the network or a server says no: each failure classed by cause,
//! one block per cause and host with the fix, no git process to a host
//! once it failed for a cause of the whole host, and a failed run that
//! still closes its record and keeps what it cloned. On the fixture
//! organisation, without network: the reserved `.invalid` top-level
//! domain fails at name resolution, locally.

use crate::common;
use crate::trust_support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{short, stderr, stdout, text, Fixture};
use trust_support::{counting_exec_path, run_counted, run_env};

/// The host no test can reach: `.invalid` never resolves (RFC 2606).
const DEAD: &str = "git.example.invalid";

/// A registry of the fixture's four projects, each at `url(NAME)`, in the
/// organisation's folder (so that summaries name it `ORG/NAME`).
fn registry(fx: &Fixture, file: &str, url: impl Fn(&str) -> String) -> PathBuf {
    let mut text = String::from("include_default = false\n");
    for (name, deps) in [
        ("app", "[\"liba\", \"libb\"]"),
        ("liba", "[\"base\"]"),
        ("libb", "[\"base\"]"),
        ("base", "[]"),
    ] {
        text.push_str(&format!(
            "[repos.{name}]\nro_url = \"{}\"\nrw_url = \"{}\"\ndeps = {deps}\n",
            url(name),
            url(name)
        ));
    }
    let path = fx.org.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the tool in the workspace with `--registry FILE` and `env`.
fn run(fx: &Fixture, registry: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> std::process::Output {
    let mut all = vec!["--registry", registry.to_str().unwrap()];
    all.extend_from_slice(args);
    run_env(fx, &fx.ws, &all, env)
}

/// The git processes the tool itself started in a run of `args` (see
/// [`trust_support::counting_exec_path`]), one line each: `PID top git
/// ARGS` (git's own, such as `git remote-https`, left out).
fn git_processes(fx: &Fixture, registry: &Path, args: &[&str]) -> Vec<String> {
    // A folder of its own for each count: the exec path is made anew.
    let dir = tempfile::tempdir_in(fx.tmp.path()).unwrap().keep();
    let exec_path = counting_exec_path(&dir);
    let log = dir.join("count.log");
    let mut all = vec!["--registry", registry.to_str().unwrap()];
    all.extend_from_slice(args);
    assert!(!run_counted(fx, &fx.ws, &all, &exec_path, &log, None));
    std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" top "))
        .map(str::to_string)
        .collect()
}

/// The `causes` of each project of a `checkout --json` document.
fn json_causes(fx: &Fixture, out: &std::process::Output) -> serde_json::Value {
    let document: serde_json::Value = serde_json::from_str(&stdout(out)).expect("one JSON document");
    assert_eq!(document["ok"], false);
    let projects = document["projects"].as_array().unwrap();
    let causes: Vec<serde_json::Value> = projects
        .iter()
        .map(|p| serde_json::json!({"name": p["name"], "result": p["result"], "causes": p["causes"]}))
        .collect();
    serde_json::from_str(&fx.normalise(&serde_json::to_string(&causes).unwrap())).unwrap()
}

const OFFLINE_FIX: &str = "check the network connection, DNS and proxy settings (`https_proxy`, \
    `git config --get http.proxy`), then run again";

#[test]
fn offline_projects_are_one_block_and_one_git_process_to_the_dead_host() {
    let fx = Fixture::new();
    let dead = registry(&fx, "dead.toml", |n| format!("https://{DEAD}/{n}.git"));
    let started = Instant::now();
    let out = run(&fx, &dead, &["-j", "1", "checkout", "app"], &[]);
    // No network here: a name under .invalid fails at once.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        fx.normalise(&stderr(&out)),
        format!(
            "app: cloning https://{DEAD}/app.git\n\
             app: failed\n\
             liba: cloning https://{DEAD}/liba.git\n\
             liba: not tried: {DEAD} already failed\n\
             libb: cloning https://{DEAD}/libb.git\n\
             libb: not tried: {DEAD} already failed\n\
             base: cloning https://{DEAD}/base.git\n\
             base: not tried: {DEAD} already failed\n\
             checkout: 4 failed in TIME\n\
             error: {DEAD}: the host name could not be resolved (no network, or a DNS or proxy problem)\n  \
             not cloned: app, liba, libb, base (3 not tried: the host had already failed)\n  \
             git said: fatal: unable to access 'https://{DEAD}/app.git/': Could not resolve host: {DEAD}\n  \
             URLs from the registry file ORG/dead.toml\n  \
             to do: {OFFLINE_FIX}\n"
        )
    );
    // However many projects, in parallel: one git process to the host.
    let processes = git_processes(&fx, &dead, &["checkout", "app"]);
    let to_dead: Vec<&String> = processes.iter().filter(|l| l.contains(DEAD)).collect();
    assert_eq!(to_dead.len(), 1, "{processes:#?}");

    let out = run(&fx, &dead, &["-j", "1", "checkout", "app", "--json"], &[]);
    let cause = |name: &str, not_started: bool| {
        serde_json::json!({"name": name, "result": "failed", "causes": [{
            "subject": name,
            "url": format!("https://{DEAD}/{name}.git"),
            "url_from": "the registry file ORG/dead.toml",
            "cause": "name-resolution",
            "host": DEAD,
            "not_started": not_started,
            "git_said": format!("fatal: unable to access 'https://{DEAD}/app.git/': Could not resolve host: {DEAD}"),
            "hint": OFFLINE_FIX,
        }]})
    };
    assert_eq!(
        json_causes(&fx, &out),
        serde_json::json!([
            cause("app", false),
            cause("liba", true),
            cause("libb", true),
            cause("base", true)
        ])
    );
}

#[test]
fn a_file_url_that_does_not_exist_names_the_registry_file_it_came_from() {
    let fx = Fixture::new();
    let org = fx.org.display().to_string();
    let missing = registry(&fx, "moved.toml", |n| match n {
        "libb" => format!("file://{org}/rw/nothere.git"),
        _ => format!("file://{org}/rw/{n}.git"),
    });
    let out = run(&fx, &missing, &["-j", "1", "checkout", "app"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = fx.normalise(&stderr(&out));
    let summary = &shown[shown.find("checkout:").expect("a summary")..];
    assert_eq!(
        summary,
        "checkout: 3 cloned, 1 failed in TIME\n\
         error: local path: no repository at the URL\n  \
         not cloned: libb\n  \
         git said: fatal: 'ORG/rw/nothere.git' does not appear to be a git repository\n  \
         URL file://ORG/rw/nothere.git from the registry file ORG/moved.toml\n  \
         to do: check the URL: correct the project's entry (ro_url, or rw_url without --ro) in the registry \
         file named above, or put the repository back where it says\n"
    );
    let processes = git_processes(&fx, &missing, &["checkout", "app"]);
    assert_eq!(
        processes.iter().filter(|l| l.contains("nothere.git")).count(),
        1,
        "{processes:#?}"
    );
    std::fs::remove_dir_all(fx.ws.join("libb")).ok();
    let out = run(&fx, &missing, &["checkout", "libb", "--no-deps", "--json"], &[]);
    assert_eq!(
        json_causes(&fx, &out),
        serde_json::json!([{"name": "libb", "result": "failed", "causes": [{
            "subject": "libb",
            "url": "file://ORG/rw/nothere.git",
            "url_from": "the registry file ORG/moved.toml",
            "cause": "not-found",
            "host": null,
            "not_started": false,
            "git_said": "fatal: 'ORG/rw/nothere.git' does not appear to be a git repository",
            "hint": "check the URL: correct the project's entry (ro_url, or rw_url without --ro) in the \
                     registry file named above, or put the repository back where it says",
        }]}])
    );
}

#[test]
fn an_ssh_server_refusing_the_key_keeps_its_hint_in_one_block() {
    let fx = Fixture::new();
    let host = "git.example.org";
    let keys = registry(&fx, "ssh.toml", |n| format!("ssh://git@{host}/{n}.git"));
    // An ssh that answers as a server refusing every key.
    let ssh = fx.tmp.path().join("refusing-ssh");
    let calls = fx.tmp.path().join("ssh-calls");
    std::fs::write(
        &ssh,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\necho 'git@{host}: Permission denied (publickey).' >&2\nexit 255\n",
            calls.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The variant named: git would otherwise first run it with `-G` to
    // find out which ssh it is.
    let env = [
        ("GIT_SSH_COMMAND", ssh.as_os_str()),
        ("GIT_SSH_VARIANT", OsStr::new("ssh")),
    ];
    let out = run(&fx, &keys, &["-j", "1", "checkout", "app"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = fx.normalise(&stderr(&out));
    let summary = &shown[shown.find("checkout:").expect("a summary")..];
    let hint =
        "the ssh server accepted none of your keys, and there is no terminal to ask for a passphrase: \
                load your key into an ssh agent (`ssh-add`) before the run, or use --ro to clone from the \
                read-only https URLs";
    assert_eq!(
        summary,
        format!(
            "checkout: 4 failed in TIME\n\
             error: {host}: the ssh server accepted none of your keys\n  \
             not cloned: app, liba, libb, base\n  \
             git said: git@{host}: Permission denied (publickey).\n  \
             URLs from the registry file ORG/ssh.toml\n  \
             to do: {hint}\n"
        )
    );
    // A refused key is the user's, not the host's: every project asks
    // (the tool's own `ssh -G`, asking for the user's sharing settings,
    // is no connection).
    let connections = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        connections.lines().filter(|l| !l.starts_with("-G ")).count(),
        4,
        "{connections}"
    );
    let out = run(&fx, &keys, &["checkout", "base", "--json"], &env);
    assert_eq!(
        json_causes(&fx, &out),
        serde_json::json!([{"name": "base", "result": "failed", "causes": [{
            "subject": "base",
            "url": format!("ssh://git@{host}/base.git"),
            "url_from": "the registry file ORG/ssh.toml",
            "cause": "ssh-key-refused",
            "host": host,
            "not_started": false,
            "git_said": format!("git@{host}: Permission denied (publickey)."),
            "hint": hint,
        }]}])
    );
}

/// Pushes to liba's main a commit whose `.gitmodules` points three
/// submodules at the dead host; returns it.
fn liba_with_dead_submodules(fx: &Fixture) -> String {
    liba_with_submodules_at(fx, |name| format!("https://{DEAD}/{name}.git"))
}

/// Pushes to liba's main a commit whose `.gitmodules` points three
/// submodules, `one`, `two` and `three`, at `url(name)`; returns it.
fn liba_with_submodules_at(fx: &Fixture, url: impl Fn(&str) -> String) -> String {
    let work = fx.tmp.path().join("liba-work");
    let w = work.to_str().unwrap();
    fx.git(
        fx.tmp.path(),
        &["clone", "-q", fx.remote("liba").to_str().unwrap(), w],
    );
    let subx = fx.git(&fx.remote("subx"), &["rev-parse", "HEAD"]);
    fx.git(
        &work,
        &["rm", "-q", "--cached", "third_party/subx", "third_party/suby"],
    );
    let mut gitmodules = String::new();
    for name in ["one", "two", "three"] {
        let path = format!("third_party/{name}");
        fx.git(
            &work,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{subx},{path}"),
            ],
        );
        gitmodules.push_str(&format!(
            "[submodule \"{path}\"]\n\tpath = {path}\n\turl = {}\n",
            url(name)
        ));
    }
    std::fs::write(work.join(".gitmodules"), gitmodules).unwrap();
    fx.git(&work, &["add", ".gitmodules"]);
    fx.git(&work, &["commit", "-q", "-m", "submodules on a dead host"]);
    fx.git(&work, &["push", "-q", "origin", "HEAD:main"]);
    fx.git(&work, &["rev-parse", "HEAD"])
}

/// Submodule clones that fail side by side for one cause are told in the
/// order of their paths, whichever ended first: the example of what git
/// said is the first path's.
#[test]
fn submodule_failures_of_one_cause_are_told_in_path_order() {
    let fx = Fixture::new();
    let org = fx.org.display().to_string();
    liba_with_submodules_at(&fx, |name| format!("file://{org}/git/gone-{name}.git"));
    let registry = fx.registry();
    let out = run(&fx, &registry, &["-j", "3", "checkout", "liba", "--no-deps"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = fx.normalise(&stderr(&out));
    assert!(
        shown.contains(
            "  not cloned: liba:third_party/one, liba:third_party/three, liba:third_party/two\n  \
             git said: fatal: 'ORG/git/gone-one.git' does not appear to be a git repository\n"
        ),
        "{shown}"
    );
    // With -v, each failure is told whole too, in the same order.
    let out = run(
        &fx,
        &registry,
        &["-v", "-j", "3", "checkout", "liba", "--no-deps"],
        &[],
    );
    let shown = fx.normalise(&stderr(&out));
    let whole: Vec<&str> = shown
        .lines()
        .skip_while(|l| *l != "error: liba: 3 submodules could not be cloned:")
        .filter_map(|l| l.strip_prefix("submodule "))
        .map(|l| {
            l.split_once(": `git submodule update ")
                .map_or(l, |(path, _)| path)
        })
        .collect();
    assert_eq!(
        whole,
        ["third_party/one", "third_party/three", "third_party/two"],
        "{shown}"
    );
}

#[test]
fn submodules_on_a_dead_host_are_one_block_and_the_project_stays_in_place() {
    let fx = Fixture::new();
    let commit = liba_with_dead_submodules(&fx);
    let registry = fx.registry();
    let args = ["-j", "1", "checkout", "liba", "--no-deps"];
    let out = run(&fx, &registry, &args, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let expected = |first: &str| {
        format!(
            "{first}\
             liba: cloning 3 submodules\n\
             liba: failed\n\
             checkout: {counts} in TIME\n\
             error: {DEAD}: the host name could not be resolved (no network, or a DNS or proxy problem)\n  \
             not cloned: liba:third_party/one, liba:third_party/three, liba:third_party/two (2 not tried: the \
             host had already failed)\n  \
             git said: fatal: unable to access 'https://{DEAD}/one.git/': Could not resolve host: {DEAD}\n  \
             URLs from liba's .gitmodules at COMMIT (--ro and the registry do not change them)\n  \
             to do: {OFFLINE_FIX}; or leave them out with --exclude-submodule \
             '^liba:(third_party/one|third_party/three|third_party/two)$'. The projects are in place: the next \
             run clones only the submodules still missing\n",
            counts = if first.starts_with("Skipping") { "1 already present, 1 failed" } else { "1 failed" },
        )
    };
    let normalised =
        |out: &std::process::Output| fx.normalise(&stderr(out)).replace(short(&commit), "COMMIT");
    assert_eq!(
        normalised(&out),
        expected("liba: cloning file://ORG/rw/liba.git\n")
    );
    // The project is in place, and the run closed its record as a
    // finished run does: the next one has nothing to pick up.
    assert!(fx.ws.join("liba/.git").is_dir());
    assert!(!fx.ws.join(".openxla_workspace.lock").exists());
    let again = run(&fx, &registry, &args, &[]);
    assert_eq!(
        normalised(&again),
        expected("Skipping checkout of liba (already exists)\n")
    );

    // In parallel, one submodule clone is started to the dead host.
    let processes = git_processes(&fx, &registry, &["checkout", "liba", "--no-deps"]);
    let updates = processes
        .iter()
        .filter(|l| l.contains(" top git submodule update "));
    assert_eq!(updates.count(), 1, "{processes:#?}");

    let out = run(
        &fx,
        &registry,
        &["-j", "1", "checkout", "liba", "--no-deps", "--json"],
        &[],
    );
    let causes = json_causes(&fx, &out);
    let subjects: Vec<(&str, bool)> = causes[0]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["subject"].as_str().unwrap(),
                c["not_started"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        subjects,
        [
            ("liba:third_party/one", false),
            ("liba:third_party/three", true),
            ("liba:third_party/two", true)
        ]
    );
    assert_eq!(causes[0]["causes"][0]["cause"], "name-resolution");
    assert_eq!(causes[0]["causes"][0]["host"], DEAD);

    // Once the host answers, the next run clones the three submodules and
    // nothing else.
    for name in ["one", "two", "three"] {
        trust_support::copy_dir(&fx.remote("subx"), &fx.org.join(format!("git/{name}.git")));
    }
    std::fs::write(
        fx.home.join(".gitconfig"),
        format!(
            "[url \"file://{}/git/\"]\n\tinsteadOf = https://{DEAD}/\n",
            fx.org.display()
        ),
    )
    .unwrap();
    let processes = git_processes(&fx, &registry, &["checkout", "liba", "--no-deps"]);
    let top = |what: &str| {
        processes
            .iter()
            .filter(|l| l.contains(&format!(" top git {what} ")))
            .count()
    };
    assert_eq!(top("clone"), 0, "{processes:#?}");
    assert_eq!(top("submodule update"), 3, "{processes:#?}");
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    // Each at its recorded commit (git marks others with `-` or `+`).
    let at_recorded = status.lines().filter(|l| !l.starts_with(['-', '+', 'U']));
    assert_eq!(at_recorded.count(), 3, "{status}");
}

/// A sync whose pins must be fetched into checkouts whose origin is on a
/// host that is down: one block naming the checkouts' origin as where the
/// URL came from, and one git process to the host, however many deps.
#[test]
fn fetches_into_checkouts_whose_origin_is_down_are_one_block_and_one_git_process() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let new_liba = trust_support::push_upstream(&fx, "liba", &[("NEWS", "liba news\n")]);
    let new_libb = trust_support::push_upstream(&fx, "libb", &[("NEWS", "libb news\n")]);
    trust_support::pin_app(&fx, &app, &new_liba, &new_libb);
    for name in ["liba", "libb"] {
        let url = format!("https://{DEAD}/{name}.git");
        fx.git(&fx.ws.join(name), &["remote", "set-url", "origin", &url]);
    }
    let heads = common::heads(&fx);
    let out = fx.run(&app, &["-j", "1", "sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = fx.normalise(&stderr(&out));
    let summary = err.split_once("sync app: ").map_or("", |(_, s)| s);
    assert_eq!(
        summary,
        format!(
            "2 failed in TIME\n\
             error: {DEAD}: the host name could not be resolved (no network, or a DNS or proxy problem)\n  \
             not fetched: liba, libb (1 not tried: the host had already failed)\n  \
             git said: fatal: unable to access 'https://{DEAD}/liba.git/': Could not resolve host: {DEAD}\n  \
             URLs from the checkout's origin remote (the registry does not change it; `git remote set-url origin \
             URL` in the checkout does)\n  \
             to do: {OFFLINE_FIX}\n\
             error: stopped before changing any working tree: the commits above could not be had\n"
        ),
        "{err}"
    );
    assert_eq!(common::heads(&fx), heads, "nothing moved");
    // In parallel too: one fetch reached for the host.
    let dir = tempfile::tempdir_in(fx.tmp.path()).unwrap().keep();
    let exec_path = counting_exec_path(&dir);
    let log = dir.join("count.log");
    assert!(!run_counted(&fx, &app, &["sync"], &exec_path, &log, None));
    let fetches = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" top git fetch "))
        .count();
    assert_eq!(
        fetches,
        1,
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// `roll` asks each dep's server for its branch head: with the host down,
/// one block, one `git ls-remote` to the host, and the pin file unchanged.
#[test]
fn a_roll_whose_server_is_down_is_one_block_and_one_question_to_the_host() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let dead = fx.org.join("dead-roll.toml");
    let entries = std::fs::read_to_string(fx.registry()).unwrap().replace(
        &format!("file://{}/ro/", fx.org.display()),
        &format!("https://{DEAD}/"),
    );
    std::fs::write(&dead, entries).unwrap();
    let pins = std::fs::read_to_string(app.join("sync_deps.py")).unwrap();
    let out = run_env(
        &fx,
        &app,
        &["--registry", dead.to_str().unwrap(), "-j", "1", "roll", "nightly"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = fx.normalise(&stderr(&out));
    assert!(
        err.ends_with(&format!(
            "error: {DEAD}: the host name could not be resolved (no network, or a DNS or proxy problem)\n  \
             branch head not read: liba, libb (1 not tried: the host had already failed)\n  \
             git said: fatal: unable to access 'https://{DEAD}/liba.git/': Could not resolve host: {DEAD}\n  \
             URLs from the registry file ORG/dead-roll.toml\n  \
             to do: {OFFLINE_FIX}\n\
             error: no file was changed; fix the problems above, then roll again\n"
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(app.join("sync_deps.py")).unwrap(), pins);
}

/// A checkout through the cache whose server is down: the mirror's clone
/// fails for the host, told in one block like a direct clone's.
#[test]
fn a_checkout_through_the_cache_with_the_server_down_is_one_block() {
    let fx = Fixture::new();
    let dead = registry(&fx, "dead-cache.toml", |n| format!("https://{DEAD}/{n}.git"));
    let cache = fx.tmp.path().join("cache");
    let out = run(
        &fx,
        &dead,
        &[
            "--cache-dir",
            cache.to_str().unwrap(),
            "-j",
            "1",
            "checkout",
            "app",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = fx.normalise(&stderr(&out));
    assert!(
        err.contains(&format!(
            "error: {DEAD}: the host name could not be resolved (no network, or a DNS or proxy problem)\n  \
             not cloned: app, liba, libb, base (3 not tried: the host had already failed)\n"
        )),
        "{err}"
    );
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
}
