//! The shared object cache (`--cache-dir`, `--dissociate`).

use crate::common;

use common::{stderr, text, Fixture};

#[test]
fn a_checkout_through_the_cache_is_complete_and_a_second_one_fetches_nothing() {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    fx.ok(&["--cache-dir", cache_arg, "checkout", "--ro", "--sync", "app"]);
    for name in ["app", "liba", "libb", "base"] {
        let repo = fx.ws.join(name);
        fx.git(&repo, &["fsck", "--no-progress"]);
        let url = fx.git(&repo, &["config", "remote.origin.url"]);
        assert_eq!(
            url,
            format!("file://{}/ro/{name}.git", fx.org.display()),
            "origin is the real URL"
        );
        let alternates = std::fs::read_to_string(repo.join(".git/objects/info/alternates")).unwrap();
        assert!(
            alternates.starts_with(cache.canonicalize().unwrap().to_str().unwrap()),
            "{alternates}"
        );
        assert_eq!(
            fx.own_objects(&repo).0,
            0,
            "{name} borrows every object from the cache"
        );
    }
    assert_eq!(fx.head("base"), fx.id("BASE_2"));

    // A second workspace on the same machine.
    let ws2 = fx.tmp.path().join("ws2");
    std::fs::create_dir(&ws2).unwrap();
    assert!(fx.run(&ws2, &["init"]).status.success());
    let out = fx.run(
        &ws2,
        &[
            "-v",
            "--cache-dir",
            cache_arg,
            "checkout",
            "--ro",
            "--sync",
            "app",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains("git -c gc.auto=0 -c maintenance.auto=false fetch --prune origin"),
        "mirrors are refreshed with one fetch each"
    );
    for name in ["app", "liba", "libb", "base"] {
        assert_eq!(fx.own_objects(&ws2.join(name)).0, 0, "{name}");
    }
}

#[test]
fn dissociated_checkouts_survive_deleting_the_cache() {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    fx.ok(&[
        "--cache-dir",
        cache.to_str().unwrap(),
        "--dissociate",
        "checkout",
        "--ro",
        "--sync",
        "app",
    ]);
    std::fs::remove_dir_all(&cache).unwrap();
    for name in ["app", "liba", "libb", "base"] {
        let repo = fx.ws.join(name);
        assert!(!repo.join(".git/objects/info/alternates").exists(), "{name}");
        fx.git(&repo, &["fsck", "--no-progress"]);
        fx.git(&repo, &["log", "--oneline", "-1"]);
    }
    // And sync still works without the cache.
    fx.ok(&["sync", "--repo", "app"]);
}

#[test]
fn concurrent_runs_sharing_a_cache_do_not_corrupt_it() {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    let mut children = Vec::new();
    for i in 0..3 {
        let ws = fx.tmp.path().join(format!("par{i}"));
        std::fs::create_dir(&ws).unwrap();
        assert!(fx.run(&ws, &["init"]).status.success());
        let child = fx
            .cmd(&ws)
            .args([
                "-q",
                "--cache-dir",
                cache.to_str().unwrap(),
                "checkout",
                "--ro",
                "app",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        children.push((ws, child));
    }
    for (ws, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        fx.git(&ws.join("liba"), &["fsck", "--no-progress"]);
    }
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "git") {
            fx.git(&path, &["fsck", "--no-progress"]);
        }
        assert!(
            !path.to_string_lossy().ends_with(".partial"),
            "no half mirror left: {}",
            path.display()
        );
    }
}

#[test]
fn a_cache_dir_that_cannot_be_created_is_a_clear_error() {
    let fx = Fixture::new();
    let file = fx.tmp.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let out = fx.run(
        &fx.ws,
        &["--cache-dir", file.to_str().unwrap(), "checkout", "app"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not create the cache folder"),
        "{}",
        text(&out)
    );
    assert!(!fx.ws.join("app").exists());
}
