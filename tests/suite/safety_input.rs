//! Issue 22, third pass on input and bounds: what a user or another
//! repository hands the tool (registries, pin files, settings, a closed
//! stderr, a terminal) and output that stays bounded. Each test names the
//! guarantee it proves; docs/safety.md lists them.

use crate::common;
use crate::trust_support;

use std::path::{Path, PathBuf};

use common::{stderr, stdout, text, Fixture};

/// The fixture registry with `edit` applied to its text, written beside
/// the organisation as `name`; returns its path.
fn edited_registry(fx: &Fixture, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(fx.registry()).unwrap();
    let path = fx.tmp.path().join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

/// The roots the workspace's settings file remembers.
fn remembered_roots(ws: &Path) -> Vec<String> {
    let path = ws.join(".openxla_workspace.settings.json");
    let Ok(bytes) = std::fs::read(&path) else {
        return Vec::new();
    };
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    doc["roots"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

// ---- 18: a root is recorded only once it is checked out --------------------

#[test]
fn failed_checkout_does_not_record_a_root() {
    let fx = Fixture::new();
    // libb's read-write URL leads nowhere, its read-only one works.
    let libb_rw = format!("{}/rw/libb.git", fx.org.display());
    let broken = edited_registry(&fx, "broken-rw.toml", |t| {
        t.replace(&libb_rw, &format!("{}/rw/missing.git", fx.org.display()))
    });
    let broken = broken.to_str().unwrap();
    let out = fx.run(&fx.ws, &["--registry", broken, "checkout", "libb"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!remembered_roots(&fx.ws).contains(&"libb".to_string()));

    // app (and through it libb, read-only) then checks out; the top of the
    // workspace syncs app's deps to app's pins, libb included.
    fx.ok(&["--registry", broken, "checkout", "--ro", "app"]);
    assert_eq!(remembered_roots(&fx.ws), vec!["app".to_string()]);
    let out = fx.run(&fx.ws, &["--registry", broken, "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("a root of the workspace"), "{}", text(&out));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
}

// ---- 13: a refused pin file is a problem, not "not pinned" -----------------

/// A synced fixture where app pins liba at a commit (made in the
/// workspace) whose own pin file the reader refuses.
fn liba_pin_file_refused() -> Fixture {
    let fx = Fixture::synced();
    let liba = fx.ws.join("liba");
    let bad = trust_support::commit_files(
        &fx,
        &liba,
        &[(
            "sync_deps.py",
            "PINNED_VERSIONS = {\n  \"base\": \"not-a-commit\"\n}\nORIGINS = {}\nSUBMODULES = {}\n",
        )],
        "liba: a pin file the reader refuses",
    );
    let app_pins = fx.ws.join("app/sync_deps.py");
    let text = std::fs::read_to_string(&app_pins).unwrap();
    std::fs::write(&app_pins, text.replace(fx.id("LIBA_2"), &bad)).unwrap();
    fx.git(&liba, &["checkout", "-q", "--detach", &bad]);
    fx
}

#[test]
fn status_shows_a_refused_pin_file_and_is_not_ok() {
    let fx = liba_pin_file_refused();
    let app = fx.ws.join("app");
    let bad = fx.head("liba");
    let out = fx.run(&app, &["status", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert_eq!(doc["at_pins"], false, "{doc:#}");
    let liba = doc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "liba")
        .unwrap();
    assert_eq!(liba["pin"], bad.as_str(), "{doc:#}");
    assert_eq!(
        liba["state"],
        serde_json::json!(["at_pin", "pin_file_refused"]),
        "{doc:#}"
    );
    assert!(doc["problems"][0]["error"]
        .as_str()
        .unwrap()
        .contains("'not-a-commit' is not a full commit id"));

    let out = fx.run(&app, &["status"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let table = stdout(&out);
    let liba_line = table.lines().find(|l| l.starts_with("liba ")).unwrap();
    assert!(
        liba_line.ends_with("at pin, sync_deps.py refused (see above)"),
        "{table}"
    );
    assert!(
        stderr(&out).contains("liba: liba/sync_deps.py at"),
        "{}",
        text(&out)
    );
    let out = fx.run(&app, &["status", "--exit-code"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

// ---- 14, 17: config values are validated, escaped, and always repairable ---

#[test]
fn config_refuses_a_path_no_run_could_use_and_unset_repairs_one_stored() {
    let fx = Fixture::new();
    let settings = fx.ws.join(".openxla_workspace.settings.json");
    let out = fx.run(&fx.ws, &["config", "cache-dir", "cache\x1b[31m"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains('\x1b'), "{}", text(&out));
    assert!(
        stderr(&out).contains("cache-dir: the path '")
            && stderr(&out).contains("cache\\x1b[31m' holds the character U+001B"),
        "{}",
        text(&out)
    );
    assert!(!settings.exists(), "nothing was stored");
    assert!(!fx.ws.join("cache\x1b[31m").exists(), "no folder was made");

    // As an older version stored it: every command names the file and the
    // key, and `config --unset` repairs it.
    std::fs::write(
        &settings,
        "{\"settings\": {\"cache-dir\": \"/tmp/c\\u001b]0;x\\u0007\", \"jobs\": 3}}\n",
    )
    .unwrap();
    for args in [&["status"][..], &["config"], &["config", "jobs"]] {
        let out = fx.run(&fx.ws, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "{}: key `cache-dir`: the path '/tmp/c\\x1b]0;x\\x07'",
                settings.display()
            )),
            "{err}"
        );
        assert!(err.contains("config --unset KEY"), "{err}");
        assert!(!err.contains('\x1b'), "{err}");
    }
    let out = fx.run(&fx.ws, &["config", "--unset", "cache-dir"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        format!("Unset cache-dir in {}\n", settings.display())
    );
    let out = fx.run(&fx.ws, &["config", "jobs"]);
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), "3\n".to_string()),
        "{}",
        text(&out)
    );
    fx.ok(&["status"]);
}

#[test]
fn config_escapes_control_characters_in_what_it_echoes() {
    let fx = Fixture::new();
    let ws = fx.tmp.path().join("ws\x1b]0;pwned\x07");
    std::fs::create_dir(&ws).unwrap();
    fx.cmd(&ws).arg("init").output().unwrap();
    let registry = fx.registry();
    for args in [
        vec!["config", "registry", registry.to_str().unwrap()],
        vec!["config", "--unset", "registry"],
        vec!["config", "--unset", "registry"],
    ] {
        let out = fx.run(&ws, &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(
            !text(&out).contains('\x1b') && !text(&out).contains('\x07'),
            "{args:?}: {}",
            text(&out)
        );
        assert!(
            stdout(&out).contains("ws\\x1b]0;pwned\\x07/.openxla_workspace.settings.json"),
            "{}",
            text(&out)
        );
    }
}

// ---- 12: no project may be named like the workspace's own files ------------

#[test]
fn a_project_named_like_a_workspace_file_is_refused_when_the_registry_loads() {
    let fx = Fixture::new();
    let registry = edited_registry(&fx, "reserved.toml", |t| {
        t.replace(
            "deps = [\"liba\", \"libb\"]",
            "deps = [\"liba\", \"libb\", \"openxla-workspace.toml\"]",
        ) + &format!(
            "\n[repos.\"openxla-workspace.toml\"]\nro_url = \"{}\"\n",
            fx.remote("base").display()
        )
    });
    let before = trust_support::snapshot_all(&fx);
    let out = fx.run(
        &fx.ws,
        &["--registry", registry.to_str().unwrap(), "checkout", "app"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: invalid registry {}: [repos.openxla-workspace.toml]: a project named 'openxla-workspace.toml' \
             would be checked out over the workspace's own file openxla-workspace.toml; rename the project\n",
            registry.display()
        )
    );
    common::assert_unchanged(&before, &trust_support::snapshot_all(&fx));
}

// ---- 6: invisible and direction-changing characters ------------------------

/// Characters of Unicode's default-ignorable and bidi-control sets that
/// the tool let through before (a sample across the set).
const INVISIBLE: [char; 9] = [
    '\u{61c}',
    '\u{ad}',
    '\u{34f}',
    '\u{3164}',
    '\u{180e}',
    '\u{2061}',
    '\u{e0001}',
    '\u{e0041}',
    '\u{e007f}',
];

#[test]
fn invisible_characters_in_registry_urls_and_branches_are_refused() {
    let fx = Fixture::new();
    let libb_ro = format!("{}/ro/libb.git", fx.org.display());
    let before = trust_support::snapshot_all(&fx);
    for c in INVISIBLE {
        let registry = edited_registry(&fx, "invisible.toml", |t| {
            t.replace(&libb_ro, &format!("{}/ro/lib{c}b.git", fx.org.display()))
        });
        let out = fx.run(
            &fx.ws,
            &["--registry", registry.to_str().unwrap(), "checkout", "app"],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let err = stderr(&out);
        let expected = format!(
            "error: invalid registry {}: repos.libb.ro_url: URL 'file://{}/ro/lib\\u{{{:x}}}b.git' contains the invisible \
             character U+{:04X}",
            registry.display(),
            fx.org.display(),
            c as u32,
            c as u32
        );
        assert!(err.starts_with(&expected), "{expected}\n{err}");

        let registry = edited_registry(&fx, "invisible.toml", |t| {
            let rw = format!("{}/rw/libb.git\"", fx.org.display());
            t.replace(&rw, &format!("{rw}\ntracking_branch = \"ma{c}in\""))
        });
        let out = fx.run(
            &fx.ws,
            &["--registry", registry.to_str().unwrap(), "checkout", "app"],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            stderr(&out).contains(&format!(
                "repos.libb.tracking_branch: 'ma\\u{{{:x}}}in' is not a valid branch name",
                c as u32
            )),
            "{}",
            text(&out)
        );
    }
    std::fs::remove_file(fx.tmp.path().join("invisible.toml")).unwrap();
    common::assert_unchanged(&before, &trust_support::snapshot_all(&fx));
}

#[test]
fn invisible_characters_in_pin_file_origins_are_refused_by_sync_and_by_sync_deps_py() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    fx.ok(&["pin", "--repo", "app"]);
    let generated = std::fs::read_to_string(app.join("sync_deps.py")).unwrap();
    let liba_url = format!("{}/ro/liba.git", fx.org.display());
    assert!(generated.contains(&liba_url), "{generated}");
    let heads = common::heads(&fx);
    for c in INVISIBLE {
        let hostile = generated.replace(&liba_url, &format!("{}/ro/lib{c}a.git", fx.org.display()));
        std::fs::write(app.join("sync_deps.py"), &hostile).unwrap();
        let out = fx.run(&app, &["sync"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let line = trust_support::line_of(&hostile, "ro/lib");
        assert!(
            stderr(&out).contains(&format!(
                "{}:{line}: in ORIGINS, the URL for 'liba': URL 'file://{}/ro/lib\\u{{{:x}}}a.git' contains the invisible \
                 character U+{:04X}",
                app.join("sync_deps.py").display(),
                fx.org.display(),
                c as u32,
                c as u32
            )),
            "{}",
            text(&out)
        );
        assert_eq!(common::heads(&fx), heads);

        // The same file, run by CI's python3 in a folder of its own.
        let ci = fx.tmp.path().join("ci/app");
        std::fs::create_dir_all(&ci).unwrap();
        std::fs::write(ci.join("sync_deps.py"), &hostile).unwrap();
        let out = common::hermetic(std::process::Command::new("python3"), &fx.home)
            .current_dir(&ci)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg("sync_deps.py")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let err = stderr(&out);
        assert!(
            err.contains("sync_deps.py: liba: origin '") && err.contains("contains invisible characters"),
            "{err}"
        );
        assert!(!err.contains(c), "{err}");
        let left: Vec<_> = std::fs::read_dir(fx.tmp.path().join("ci")).unwrap().collect();
        assert_eq!(left.len(), 1, "nothing was cloned beside app");
    }
}

// ---- 5: list draws each subtree once, streamed -----------------------------

/// A registry of `levels` levels of two projects each (`a00000`,
/// `b00000`, ...), every project depending on both of the next level: the
/// number of paths doubles with each level.
fn diamond_chain(fx: &Fixture, levels: usize) -> PathBuf {
    let mut text = String::from("include_default = false\n");
    for i in 0..levels {
        for side in ["a", "b"] {
            let deps = if i + 1 < levels {
                format!("\"a{:05}\", \"b{:05}\"", i + 1, i + 1)
            } else {
                String::new()
            };
            text.push_str(&format!(
                "[repos.{side}{i:05}]\nro_url = \"https://example.org/{side}{i:05}.git\"\ndeps = [{deps}]\n"
            ));
        }
    }
    let path = fx.tmp.path().join(format!("diamond-{levels}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn list_draws_each_subtree_once_and_marks_it_after() {
    let fx = Fixture::new();
    let registry = diamond_chain(&fx, 3);
    let out = fx.run(fx.tmp.path(), &["--registry", registry.to_str().unwrap(), "list"]);
    assert!(out.status.success(), "{}", text(&out));
    let listing = stdout(&out);
    let deps = |name: &str| {
        let start = listing.find(&format!("\n{name}\n")).unwrap_or(0);
        let section = &listing[start..];
        let from = section.find("  deps:").unwrap();
        let to = section.find("  defined in:").unwrap();
        section[from..to].to_string()
    };
    assert_eq!(
        deps("a00000"),
        "  deps:\n    ├── a00001\n    │   ├── a00002\n    │   └── b00002\n    └── b00001\n        ├── a00002\n        \
         └── b00002\n"
    );
    assert_eq!(deps("a00001"), "  deps:\n    ├── a00002\n    └── b00002\n");
    assert_eq!(
        deps("b00000"),
        "  deps:\n    ├── a00001 (*)\n    └── b00001 (*)\n"
    );
    assert!(
        listing.contains("\n(*) its deps are drawn above\n\nSettings in effect:\n"),
        "{listing}"
    );

    // 24 levels: 48 projects, 2^24 paths. Drawn once, the listing stays
    // about 20 KB (every path was over a gigabyte).
    let registry = diamond_chain(&fx, 24);
    let out = fx.run(fx.tmp.path(), &["--registry", registry.to_str().unwrap(), "list"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stdout.len() < 32 * 1024, "{} bytes", out.stdout.len());
}

#[test]
fn list_of_ten_thousand_projects_streams_in_flat_memory() {
    let fx = Fixture::new();
    // 5,000 levels: also a chain far deeper than a thread's stack would
    // take by recursion.
    let registry = diamond_chain(&fx, 5_000);
    let listing = fx.tmp.path().join("listing.txt");
    let mut child = fx
        .cmd(fx.tmp.path())
        .args(["--registry", registry.to_str().unwrap(), "list"])
        .stdout(std::fs::File::create(&listing).unwrap())
        .spawn()
        .unwrap();
    let (status, max_rss_kb) = wait_with_max_rss(&mut child);
    assert_eq!(status, 0);
    let size = std::fs::metadata(&listing).unwrap().len();
    // About 110,000 lines, none longer than the deepest level drawn.
    assert!(size < 8 * 1024 * 1024, "{size} bytes");
    let text = std::fs::read_to_string(&listing).unwrap();
    assert!(
        text.lines().all(|l| l.chars().count() < 200),
        "a line grew with the depth"
    );
    assert!(
        text.contains("(…) nested deeper than 32 levels"),
        "{}",
        &text[..2000]
    );
    // The registry itself is most of it (debug build: about 45 MB).
    assert!(max_rss_kb < 128 * 1024, "{max_rss_kb} KB");
}

/// Waits for `child` (killing it after a minute: a listing that grows with
/// the number of paths never ends); returns its exit status and its peak
/// resident memory in KB (the kernel's accounting of that one process,
/// sampled every 20 ms while it runs).
fn wait_with_max_rss(child: &mut std::process::Child) -> (i32, i64) {
    let started = std::time::Instant::now();
    let mut status = 0;
    // The kernel's high-water mark of the child's own memory, read while it
    // runs (`VmHWM`). Not wait4's `ru_maxrss`: that carries over the memory
    // of the process it was forked from, here the whole test binary.
    let mut peak: i64 = 0;
    let status_file = format!("/proc/{}/status", child.id());
    loop {
        if let Some(kb) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        }) {
            peak = peak.max(kb);
        }
        // SAFETY: the pid is our own child, not yet reaped; the pointer is
        // to a live local.
        let pid = unsafe { libc::waitpid(child.id() as i32, &mut status, libc::WNOHANG) };
        if pid == child.id() as i32 {
            return (libc::WEXITSTATUS(status), peak);
        }
        assert_eq!(pid, 0, "wait4 failed");
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("list ran for a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

// ---- 11: the workspace lock is never opened through a symbolic link -------

#[test]
fn the_workspace_lock_is_not_opened_through_a_symlink() {
    let fx = Fixture::new();
    let lock = fx.ws.join(".openxla_workspace.lock");
    let elsewhere = fx.tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let kept = elsewhere.join("kept.txt");
    std::fs::write(&kept, "someone's file\n").unwrap();
    // A link to a file of someone's, and a dangling one (the run would
    // create its target).
    for target in [kept.clone(), elsewhere.join("made.txt")] {
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        let out = fx.run(&fx.ws, &["checkout", "app"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "error: {} is a symbolic link; the workspace's lock file is never opened through one (the run \
                 would lock and write the file it points to). Remove the link, then run again\n",
                lock.display()
            )
        );
        assert!(!fx.ws.join("app").exists());
        std::fs::remove_file(&lock).unwrap();
    }
    assert_eq!(common::read(&kept), "someone's file\n");
    assert!(!elsewhere.join("made.txt").exists());
    fx.ok(&["checkout", "app"]);
    assert!(
        std::fs::symlink_metadata(&lock).is_err(),
        "a finished run removes its lock file"
    );
}

/// Something other than a file where the lock file goes, a folder or a
/// FIFO (opening one for reading would wait for a writer), is refused at
/// once, saying what it is, and nothing is cloned.
#[test]
fn a_folder_or_fifo_where_the_lock_file_goes_is_refused_at_once() {
    let fx = Fixture::new();
    let lock = fx.ws.join(".openxla_workspace.lock");
    std::fs::create_dir(&lock).unwrap();
    let out = fx.run(&fx.ws, &["checkout", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).starts_with(&format!(
            "error: could not open the lock file {}: ",
            lock.display()
        )),
        "{}",
        text(&out)
    );
    std::fs::remove_dir(&lock).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&lock).status().unwrap();
    assert!(made.success());
    let out = fx.run(&fx.ws, &["checkout", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {} is not a regular file, so it cannot be the workspace's lock file; remove it, then run \
             again\n",
            lock.display()
        )
    );
    assert!(!fx.ws.join("app").exists());
}

// ---- 15: sync_deps.py skips what climbs out, refuses one URL, not all -------

/// Pushes to liba's branch `branch` a commit whose .gitmodules (liba's at
/// main, edited by `edit`) lists more; returns its id.
fn push_gitmodules(fx: &Fixture, branch: &str, edit: impl Fn(String) -> String) -> String {
    let gitmodules = fx.git(&fx.remote("liba"), &["show", "main:.gitmodules"]) + "\n";
    fx.push(
        "liba",
        branch,
        &[(".gitmodules", &edit(gitmodules))],
        "liba: .gitmodules edited",
    )
}

/// app's pin file as `pin` writes it with liba at `commit`, run by python3
/// in a CI folder of its own (`ci-NAME/app`); returns the run and the folder
/// the deps went to.
fn run_sync_deps_py(fx: &Fixture, name: &str, commit: &str) -> (std::process::Output, PathBuf) {
    let liba = fx.ws.join("liba");
    fx.git(&liba, &["fetch", "-q", "origin", commit]);
    fx.git(&liba, &["checkout", "-q", "--detach", commit]);
    fx.ok(&["pin", "--repo", "app"]);
    let root = fx.tmp.path().join(format!("ci-{name}"));
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::copy(fx.ws.join("app/sync_deps.py"), root.join("app/sync_deps.py")).unwrap();
    let out = common::hermetic(std::process::Command::new("python3"), &fx.home)
        .current_dir(root.join("app"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("sync_deps.py")
        .output()
        .unwrap();
    (out, root)
}

#[test]
fn sync_deps_py_skips_a_submodule_path_outside_its_dep() {
    let fx = Fixture::synced();
    let outside = push_gitmodules(&fx, "outside", |g| {
        g + "[submodule \"evil\"]\n\tpath = ../evil\n\turl = ../subx.git\n"
    });
    let (out, root) = run_sync_deps_py(&fx, "outside", &outside);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stdout(&out).contains("liba: submodule path ../evil in .gitmodules is outside liba; skipped\n"),
        "{}",
        text(&out)
    );
    let liba = root.join("liba");
    assert_eq!(
        fx.git(&liba.join("third_party/subx"), &["rev-parse", "HEAD"]),
        fx.id("SUBX_2")
    );
    assert_eq!(
        fx.git(&liba.join("third_party/suby"), &["rev-parse", "HEAD"]),
        fx.id("SUBY_3")
    );
    assert!(!root.join("evil").exists());

    // The tool, which reads submodules from the index (where no path can
    // climb out), goes on as well.
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn sync_deps_py_refuses_one_submodule_url_and_updates_the_others() {
    let fx = Fixture::synced();
    let dashed = push_gitmodules(&fx, "dashed", |g| g.replace("url = ../suby.git", "url = -ux"));
    let (out, root) = run_sync_deps_py(&fx, "dashed", &dashed);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!(
            "liba: failed: checked out {}, but these submodules are not at their recorded commits:\n  submodule \
             third_party/suby: origin '-ux' starts with '-', which git reads as an option\n",
            &dashed[..7]
        )),
        "{}",
        text(&out)
    );
    let liba = root.join("liba");
    assert_eq!(fx.git(&liba, &["rev-parse", "HEAD"]), dashed);
    assert_eq!(
        fx.git(&liba.join("third_party/subx"), &["rev-parse", "HEAD"]),
        fx.id("SUBX_2")
    );
    assert!(!liba.join("third_party/suby/.git").exists());
    // The other deps were synced all the same.
    assert_eq!(
        fx.git(&root.join("libb"), &["rev-parse", "HEAD"]),
        fx.id("LIBB_2")
    );
}

// ---- 4: git's answers are about the folder asked, or refused ---------------

/// Makes the test's temporary folder (around the organisation and the
/// workspace) a git repository with one commit, as a home folder kept in
/// git is; returns that commit.
fn enclosing_repository(fx: &Fixture) -> String {
    let top = fx.tmp.path();
    fx.git(top, &["init", "-q"]);
    std::fs::write(top.join("notes.txt"), "a home folder kept in git\n").unwrap();
    fx.git(top, &["add", "notes.txt"]);
    fx.git(top, &["commit", "-q", "-m", "home"]);
    fx.git(top, &["rev-parse", "HEAD"])
}

#[test]
fn a_damaged_dep_inside_another_repository_is_refused_not_answered_for() {
    let fx = Fixture::synced();
    let home = enclosing_repository(&fx);
    // libb's .git loses its HEAD: git no longer takes it for a repository,
    // and would go on to the one around the workspace.
    std::fs::remove_file(fx.ws.join("libb/.git/HEAD")).unwrap();
    let app = fx.ws.join("app");
    let pins = common::read(&app.join("sync_deps.py"));

    let out = fx.run(&app, &["status", "--json"]);
    assert!(!text(&out).contains(&home), "{}", text(&out));
    assert!(!text(&out).contains(&home[..7]), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let libb = doc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libb")
        .unwrap();
    assert_eq!(libb["head"], serde_json::Value::Null, "{doc:#}");
    assert!(
        libb["error"].as_str().unwrap().contains("not a git repository"),
        "{doc:#}"
    );

    let out = fx.run(&app, &["pin"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains(&fx.ws.join("libb").display().to_string()), "{err}");
    assert!(err.contains("not a git repository"), "{err}");
    assert!(
        !err.contains(&home[..7]) && !stdout(&out).contains(&home[..7]),
        "{}",
        text(&out)
    );
    assert_eq!(
        common::read(&app.join("sync_deps.py")),
        pins,
        "nothing was written"
    );
}

#[test]
fn a_marker_in_a_repository_git_cannot_read_is_passed_over() {
    let fx = Fixture::new();
    // Someone else's repository holding a marker and a registry layer.
    let theirs = fx.tmp.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    fx.git(&theirs, &["init", "-q"]);
    std::fs::write(theirs.join(".openxla_workspace.json"), "{\"version\": 0}\n").unwrap();
    std::fs::write(
        theirs.join("openxla-workspace.toml"),
        "[repos.planted]\nro_url = \"https://example.org/planted.git\"\n",
    )
    .unwrap();
    fx.git(&theirs, &["add", "-A"]);
    fx.git(&theirs, &["commit", "-q", "-m", "a workspace"]);
    let owned_by_another_user = unsafe { libc::geteuid() } == 0;
    if owned_by_another_user {
        // git refuses a repository another user owns ("dubious ownership").
        let status = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&theirs)
            .status()
            .unwrap();
        assert!(status.success());
    } else {
        // A repository format this git cannot read: git cannot say either.
        fx.git(&theirs, &["config", "core.repositoryformatversion", "99"]);
    }
    let out = fx
        .cmd(&theirs)
        .env_remove("OPENXLA_WORKSPACE_REGISTRY")
        .arg("list")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!stdout(&out).contains("planted"), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains(&theirs.display().to_string()), "{err}");
    assert!(
        err.contains("git cannot tell whether a repository around it tracks it"),
        "{err}"
    );
    assert!(
        err.contains(if owned_by_another_user {
            "dubious ownership"
        } else {
            "repository"
        }),
        "{err}"
    );
    if owned_by_another_user {
        let _ = std::process::Command::new("chown")
            .args(["-R", "0:0"])
            .arg(&theirs)
            .status();
    }
}

// ---- 16: a closed stderr ------------------------------------------------------

/// Runs the binary in `dir` with `args`, its stderr a pipe nobody reads
/// any more (as `openxla-workspace ... 2>&1 | head -1` after head ended).
fn run_with_stderr_closed(fx: &Fixture, dir: &Path, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    fx.cmd(dir).args(args).stderr(writer).output().unwrap()
}

#[test]
fn messages_to_a_closed_stderr_do_not_panic() {
    let fx = Fixture::new();
    // An error, a warning and progress lines, each on a stderr that is gone.
    let outside = fx.tmp.path();
    let out = run_with_stderr_closed(&fx, outside, &["sync"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_with_stderr_closed(&fx, &fx.ws, &["checkout", "nosuchproject"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_with_stderr_closed(&fx, &fx.ws, &["-v", "checkout", "--sync", "app"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
}

// ---- 16: SIGTERM during a prompt gives the terminal its echo back ----------

/// The passphrase prompt of the stand-in ssh of [`checkout_over_ssh`].
const SSH_PROMPT: &str = "Enter passphrase for key '/k':";

/// Runs `checkout p1` on a pseudo-terminal (`prompt_support/terminal.py`
/// with `steps`), p1 being reached over an ssh whose script is `ssh` (a
/// stand-in that runs `$SSH_ASKPASS`, as OpenSSH does with
/// `SSH_ASKPASS_REQUIRE=force`, and never connects anywhere). Returns
/// terminal.py's report and what the terminal showed.
fn checkout_over_ssh(fx: &Fixture, ssh: &str, steps: serde_json::Value) -> (serde_json::Value, String) {
    use std::os::unix::fs::PermissionsExt;
    let script = fx.tmp.path().join("ssh");
    std::fs::write(&script, ssh).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let registry = fx.tmp.path().join("ssh.toml");
    std::fs::write(
        &registry,
        format!(
            "include_default = false\n[repos.p1]\nro_url = \"file://{0}\"\nrw_url = \"ssh://lockedhost{0}\"\n",
            fx.remote("base").display()
        ),
    )
    .unwrap();
    let tmpdir = fx.tmp.path().join("tmp");
    std::fs::create_dir_all(&tmpdir).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/prompt_support/terminal.py");
    let screen = fx.tmp.path().join("screen");
    let out = common::hermetic(std::process::Command::new("python3"), &fx.home)
        .current_dir(&fx.ws)
        .env("OPENXLA_WORKSPACE_REGISTRY", &registry)
        .env("GIT_SSH_COMMAND", &script)
        .env("TMPDIR", &tmpdir)
        .env("TERM", "xterm")
        .env_remove("SSH_ASKPASS")
        .env_remove("SSH_ASKPASS_REQUIRE")
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("DISPLAY")
        .arg(&driver)
        .arg(steps.to_string())
        .arg(&screen)
        .arg("--")
        .arg(common::BIN)
        .args(["checkout", "p1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "terminal.py: {}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shown = String::from_utf8_lossy(&std::fs::read(&screen).unwrap()).into_owned();
    assert!(report["timed_out"].is_null(), "{report}\n{shown:?}");
    (report, shown)
}

#[test]
fn sigterm_during_a_prompt_restores_the_terminals_echo() {
    let fx = Fixture::new();
    let ssh = format!(
        "#!/bin/sh\n\"$SSH_ASKPASS\" \"{SSH_PROMPT}\" >/dev/null\necho 'Permission denied (publickey).' >&2\nexit 255\n"
    );
    let steps = serde_json::json!([{"wait": SSH_PROMPT, "pause": 0.3, "signal": libc::SIGTERM}]);
    let (report, shown) = checkout_over_ssh(&fx, &ssh, steps);
    assert_eq!(report["status"], 128 + libc::SIGTERM, "{report}\n{shown}");
    let modes: Vec<&str> = report["stty"].as_str().unwrap().split_whitespace().collect();
    for mode in ["echo", "icanon", "isig"] {
        assert!(modes.contains(&mode), "{mode} in {report}");
    }
    // The prompt's line ended, and the run said why it stopped.
    assert!(shown.contains(&format!("{SSH_PROMPT}\r\n")), "{shown:?}");
    assert!(
        shown.ends_with(
            "error: interrupted (SIGTERM); the git processes it started were ended. Run the same command again to \
             finish: it picks up where this one stopped\r\n"
        ),
        "{shown:?}"
    );
    assert!(!fx.ws.join("p1").exists());
}

// ---- 7: only the run's own processes get answers from its prompter ---------

#[test]
fn a_process_outside_the_run_cannot_replay_a_prompt_for_its_answer() {
    let fx = Fixture::new();
    let stolen = fx.tmp.path().join("stolen");
    // Once answered, the stand-in ssh starts a process outside the run
    // (orphaned, so init adopts it), which finds the socket in its
    // environment and asks the same prompt through the same helper.
    let ssh = format!(
        "#!/bin/sh\n\
         answer=$(\"$SSH_ASKPASS\" \"{SSH_PROMPT}\")\n\
         printf '%s' \"$answer\" > '{got}'\n\
         ( setsid sh -c '\"$0\" \"$1\" > \"$2\" 2>/dev/null; touch \"$2.done\"' \"$SSH_ASKPASS\" \"{SSH_PROMPT}\" '{stolen}' & )\n\
         i=0; while [ ! -e '{stolen}.done' ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done\n\
         echo 'Permission denied (publickey).' >&2\nexit 255\n",
        got = fx.tmp.path().join("got").display(),
        stolen = stolen.display(),
    );
    let steps = serde_json::json!([{"wait": SSH_PROMPT, "pause": 0.3, "send": "s3cret horse\r"}]);
    let (report, shown) = checkout_over_ssh(&fx, &ssh, steps);
    assert_eq!(report["status"], 1, "{report}\n{shown}");
    // The run's own ssh got the answer; the outsider asked and got nothing.
    assert_eq!(common::read(&fx.tmp.path().join("got")), "s3cret horse");
    assert!(
        fx.tmp.path().join("stolen.done").exists(),
        "the outsider never asked"
    );
    assert_eq!(common::read(&stolen), "");
    assert_eq!(shown.matches(SSH_PROMPT).count(), 1, "{shown:?}");
}

// ---- 16: printed commands survive brace expansion --------------------------

#[test]
fn printed_commands_quote_braces_a_shell_would_expand() {
    let fx = Fixture::new();
    let ws = fx.tmp.path().join("w{a,b}");
    std::fs::create_dir(&ws).unwrap();
    assert!(fx.cmd(&ws).arg("init").output().unwrap().status.success());
    let out = fx.run(&ws, &["--dry-run", "checkout", "--no-deps", "base"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan = stdout(&out);
    let clone = plan
        .lines()
        .find_map(|l| l.split_once(") git clone ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no clone in {plan}"));
    // The line, retyped in bash, gives git the folder the tool meant.
    let words = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("printf '%s\\n' {clone}"))
        .output()
        .unwrap();
    let words = String::from_utf8(words.stdout).unwrap();
    assert!(
        words
            .lines()
            .any(|w| w.starts_with(&format!("{}/", ws.display()))),
        "{clone}\n{words}"
    );
    assert!(
        !words.contains("wa/") && !words.contains("wb/"),
        "{clone}\n{words}"
    );
}

// ---- 8: foreach's output goes through in flat memory -----------------------

/// Runs `foreach ARGS` from the workspace with stdout into a file; returns
/// the exit status, the tool's peak memory in KB, and the output file.
fn foreach_measured(fx: &Fixture, args: &[&str]) -> (i32, i64, PathBuf) {
    let path = fx.tmp.path().join("foreach.out");
    let mut child = fx
        .cmd(&fx.ws)
        .args(args)
        .stdout(std::fs::File::create(&path).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (status, rss) = wait_with_max_rss(&mut child);
    (status, rss, path)
}

#[test]
fn foreach_output_of_any_size_keeps_the_tools_memory_flat() {
    let fx = Fixture::synced();
    // 32 MiB from each of the four projects, two at a time.
    let big = "head -c 33554432 /dev/zero | tr '\\0' x; echo; echo \"$OPENXLA_WORKSPACE_PROJECT done\" >&2";
    let (status, rss, path) = foreach_measured(&fx, &["-j", "2", "foreach", "--", "sh", "-c", big]);
    assert_eq!(status, 0);
    let expected: u64 = ["app", "base", "liba", "libb"]
        .iter()
        .map(|n| format!("== {n} ==\n").len() as u64 + 33554432 + 1 + format!("{n} done\n").len() as u64)
        .sum();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), expected);
    assert!(rss < 40 * 1024, "{rss} KB");

    // --json: 8 MiB each (escaping is slow in a debug build), a document
    // of 32 MiB that was held whole several times over.
    let big = big.replace("33554432", "8388608");
    let (status, rss, path) =
        foreach_measured(&fx, &["-j", "2", "foreach", "--json", "--", "sh", "-c", &big]);
    assert_eq!(status, 0);
    assert!(rss < 40 * 1024, "{rss} KB");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for project in doc["projects"].as_array().unwrap() {
        let out = project["stdout"].as_str().unwrap();
        assert_eq!(out.len(), 8388609);
        assert!(out.bytes().take(8388608).all(|b| b == b'x'));
        assert_eq!(
            project["stderr"],
            format!("{} done\n", project["name"].as_str().unwrap())
        );
    }
}
