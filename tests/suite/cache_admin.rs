//! `cache list|refresh|prune`: looking after the shared object cache.

use crate::common;

use std::path::{Path, PathBuf};

use common::{stderr, stdout, text, Fixture};

/// A fixture whose workspace checked out app through a cache; returns the
/// cache folder.
fn cached() -> (Fixture, PathBuf) {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    fx.ok(&["--cache-dir", cache.to_str().unwrap(), "checkout", "--ro", "app"]);
    (fx, cache)
}

fn with_cache<'a>(cache: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--cache-dir", cache.to_str().unwrap()];
    all.extend_from_slice(args);
    all
}

/// The lines of `cache list` with the sizes and times left out.
fn listed(fx: &Fixture, out: &str) -> String {
    let re = regex::Regex::new(r"  [0-9.]+ (B|KiB|MiB)  fetched [0-9-]+ [0-9:]+ UTC  ").unwrap();
    fx.normalise(&re.replace_all(out, "  SIZE  fetched TIME  "))
}

#[test]
fn cache_list_shows_each_mirror_and_the_workspaces_that_borrow_from_it() {
    let (fx, cache) = cached();
    let out = fx.ok(&with_cache(&cache, &["cache", "list"]));
    assert_eq!(
        listed(&fx, &stdout(&out)),
        "file://ORG/ro/app.git  SIZE  fetched TIME  borrowed by 1 workspace\n\
         file://ORG/ro/base.git  SIZE  fetched TIME  borrowed by 1 workspace\n\
         file://ORG/ro/liba.git  SIZE  fetched TIME  borrowed by 1 workspace\n\
         file://ORG/ro/libb.git  SIZE  fetched TIME  borrowed by 1 workspace\n\
         file://ORG/ro/subx.git  SIZE  fetched TIME  borrowed by 1 workspace\n\
         file://ORG/ro/suby.git  SIZE  fetched TIME  borrowed by 1 workspace\n"
    );
    let json = fx.ok(&with_cache(&cache, &["cache", "list", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let mirrors = doc["mirrors"].as_array().unwrap();
    assert_eq!(mirrors.len(), 6);
    assert!(mirrors[0]["size"].as_u64().unwrap() > 0);
    assert_eq!(
        mirrors[0]["borrowers"][0].as_str().unwrap(),
        fx.ws.canonicalize().unwrap().to_str().unwrap()
    );
}

/// A CI machine's cache job runs outside any workspace: the cache named by
/// `--cache-dir` (or the environment) is enough.
#[test]
fn cache_commands_need_no_workspace_when_the_cache_is_named() {
    let (fx, cache) = cached();
    let elsewhere = fx.tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = fx.run(&elsewhere, &with_cache(&cache, &["cache", "list"]));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&out).lines().count(), 6, "{}", text(&out));
    let out = fx
        .cmd(&elsewhere)
        .env("OPENXLA_WORKSPACE_CACHE", &cache)
        .args(["cache", "refresh"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = fx.run(&elsewhere, &["cache", "list"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("no cache is in effect"), "{}", text(&out));
}

/// A refresh with the mirrors' server down: one block, one git process to
/// the host, the mirrors left as they were.
#[test]
fn a_refresh_with_the_server_down_is_one_block_and_one_git_process_to_the_host() {
    let (fx, cache) = cached();
    let dead = "git.example.invalid";
    let mirrors: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "git"))
        .collect();
    assert_eq!(mirrors.len(), 6);
    for mirror in &mirrors {
        let url = fx.git(mirror, &["config", "--get", "remote.origin.url"]);
        let name = url.rsplit('/').next().unwrap().to_string();
        fx.git(
            mirror,
            &["config", "remote.origin.url", &format!("https://{dead}/{name}")],
        );
    }
    let out = fx.run(&fx.ws, &with_cache(&cache, &["-j", "1", "cache", "refresh"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = fx.normalise(&stderr(&out));
    let summary = &err[err.find("cache refresh:").expect("a summary")..];
    assert_eq!(
        summary,
        format!(
            "cache refresh: 6 failed in TIME\n\
             error: {dead}: the host name could not be resolved (no network, or a DNS or proxy problem)\n  \
             not refreshed: app, base, liba, libb, subx, suby (5 not tried: the host had already failed)\n  \
             git said: fatal: unable to access 'https://{dead}/app.git/': Could not resolve host: {dead}\n  \
             URLs from the cache mirror's origin (`cache prune` removes a mirror no one uses)\n  \
             to do: check the network connection, DNS and proxy settings (`https_proxy`, `git config --get \
             http.proxy`), then run again\n"
        )
    );
}

#[test]
fn cache_refresh_fetches_every_mirror() {
    let (fx, cache) = cached();
    let new = fx.push("base", "main", &[("new.txt", "new\n")], "new");
    let out = fx.ok(&with_cache(&cache, &["--jobs", "2", "cache", "refresh"]));
    let mut lines: Vec<String> = fx.normalise(&stdout(&out)).lines().map(str::to_string).collect();
    lines.sort();
    assert_eq!(
        lines,
        ["app", "base", "liba", "libb", "subx", "suby"].map(|n| format!("file://ORG/ro/{n}.git: refreshed"))
    );
    let base_mirror = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().unwrap().to_str().unwrap().starts_with("base-")
                && p.extension().is_some_and(|e| e == "git")
        })
        .unwrap();
    fx.git(&base_mirror, &["cat-file", "-e", &format!("{new}^{{commit}}")]);
    let json = fx.ok(&with_cache(&cache, &["cache", "refresh", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["mirrors"].as_array().unwrap().len(), 6);
}

/// A mirror no one borrows any more goes while the others stay borrowed:
/// the check again under the mirror's lock is about that mirror only.
#[test]
fn cache_prune_removes_a_mirror_no_one_borrows_beside_borrowed_ones() {
    let (fx, cache) = cached();
    std::fs::remove_dir_all(fx.ws.join("libb")).unwrap();
    let out = fx.ok(&with_cache(&cache, &["cache", "prune", "--unused-for", "0"]));
    let removed = listed(&fx, &stdout(&out));
    assert!(
        removed.starts_with("removed file://ORG/ro/libb.git  SIZE"),
        "{}",
        text(&out)
    );
    assert!(!removed.contains("app.git"), "{}", text(&out));
    let list = listed(&fx, &stdout(&fx.ok(&with_cache(&cache, &["cache", "list"]))));
    assert!(list.contains("file://ORG/ro/app.git"), "{list}");
    assert!(!list.contains("file://ORG/ro/libb.git"), "{list}");
}

#[test]
fn cache_prune_keeps_what_a_workspace_borrows_and_removes_the_rest() {
    let (fx, cache) = cached();
    // Nothing is old enough.
    let out = fx.ok(&with_cache(&cache, &["cache", "prune", "--unused-for", "0"]));
    assert_eq!(stdout(&out), "", "every mirror is borrowed:\n{}", text(&out));
    assert!(
        stderr(&out).contains("cache prune: 0 removed, 6 kept"),
        "{}",
        text(&out)
    );
    // The workspace goes: its mirrors are no one's now.
    std::fs::remove_dir_all(&fx.ws).unwrap();
    std::fs::create_dir(&fx.ws).unwrap();
    fx.ok(&["init"]);
    let dry = fx.ok(&with_cache(
        &cache,
        &["--dry-run", "cache", "prune", "--unused-for", "0"],
    ));
    assert_eq!(listed(&fx, &stdout(&dry)).lines().count(), 6, "{}", text(&dry));
    assert!(listed(&fx, &stdout(&dry))
        .starts_with("would remove file://ORG/ro/app.git  SIZE  fetched TIME  borrowed by 0 workspaces\n"));
    let kept = fx.ok(&with_cache(&cache, &["cache", "prune", "--unused-for", "30"]));
    assert_eq!(stdout(&kept), "", "fetched today:\n{}", text(&kept));
    let json = fx.ok(&with_cache(
        &cache,
        &["cache", "prune", "--unused-for", "0", "--json"],
    ));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["removed"].as_array().unwrap().len(), 6);
    let list = fx.ok(&with_cache(&cache, &["cache", "list"]));
    assert!(stdout(&list).ends_with("no mirrors yet\n"), "{}", text(&list));
}

#[test]
fn two_refreshes_of_one_cache_at_once_wait_for_each_other_and_corrupt_nothing() {
    let (fx, cache) = cached();
    fx.push("liba", "main", &[("new.txt", "new\n")], "new");
    let args = with_cache(&cache, &["--jobs", "3", "cache", "refresh"]);
    let children: Vec<_> = (0..2)
        .map(|_| {
            fx.cmd(&fx.ws)
                .args(&args)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    for entry in std::fs::read_dir(&cache).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "git") {
            fx.git(&path, &["fsck", "--no-progress", "--strict"]);
        }
    }
    for name in ["app", "liba", "libb", "base"] {
        fx.git(&fx.ws.join(name), &["fsck", "--no-progress"]);
    }

    // While another process holds a mirror's lock, a refresh waits for it.
    let lock_path = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_str().unwrap().ends_with(".git.lock"))
        .unwrap();
    let lock = std::fs::OpenOptions::new().write(true).open(&lock_path).unwrap();
    lock.lock().unwrap();
    let mut waiting = fx
        .cmd(&fx.ws)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "the refresh did not wait for the lock"
    );
    lock.unlock().unwrap();
    assert!(waiting.wait().unwrap().success());
}

#[test]
fn cache_without_a_cache_folder_says_how_to_name_one() {
    let fx = Fixture::new();
    let out = fx.run(&fx.ws, &["cache", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no cache is in effect"), "{}", text(&out));
}
