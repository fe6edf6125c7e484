//! The cache's keep refs hold only commits nothing else holds: one is
//! added for every branch and tag tip before a fetch may move it, and
//! dropped once a tip reaches its commit again (its branch went on), so
//! they do not grow with every fetch; a commit force-pushed away stays
//! kept.

use crate::common;

use std::path::{Path, PathBuf};

use common::Fixture;

/// The cache's mirror of `name` (`NAME-HASH.git`).
fn mirror(cache: &Path, name: &str) -> PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            file.starts_with(&format!("{name}-")) && file.ends_with(".git") && !file.ends_with(".lock")
        })
        .unwrap_or_else(|| panic!("no mirror of {name} in {}", cache.display()))
}

/// The commits a mirror's keep refs name, sorted.
fn kept(fx: &Fixture, mirror: &Path) -> Vec<String> {
    let listing = fx.git(
        mirror,
        &[
            "for-each-ref",
            "--format=%(objectname)",
            "refs/openxla-workspace/keep",
        ],
    );
    let mut ids: Vec<String> = listing.lines().map(str::to_string).collect();
    ids.sort();
    ids
}

/// `checkout --ro --no-deps liba` through the cache in a new workspace
/// `name`: the mirror of liba is brought up to date first.
fn checkout_through(fx: &Fixture, cache: &Path, name: &str) {
    let ws = fx.tmp.path().join(name);
    std::fs::create_dir(&ws).unwrap();
    let run = |args: &[&str]| {
        let out = fx.run(&ws, args);
        assert!(out.status.success(), "{args:?}: {}", common::text(&out));
    };
    run(&["init"]);
    run(&[
        "--cache-dir",
        cache.to_str().unwrap(),
        "checkout",
        "--ro",
        "--no-deps",
        "liba",
    ]);
}

#[test]
fn keep_refs_of_tips_a_branch_went_on_from_are_dropped_and_those_force_pushed_away_stay() {
    let fx = Fixture::new();
    let cache = fx.tmp.path().join("cache");
    checkout_through(&fx, &cache, "ws1");
    let liba = mirror(&cache, "liba");

    // Upstream goes on from LIBA_3: the keep ref the refresh made for
    // LIBA_3 before fetching is dropped after, main reaches it.
    let next = fx.push("liba", "main", &[("next.txt", "next\n")], "liba: next");
    checkout_through(&fx, &cache, "ws2");
    assert_eq!(kept(&fx, &liba), Vec::<String>::new());
    checkout_through(&fx, &cache, "ws3");
    assert_eq!(
        kept(&fx, &liba),
        Vec::<String>::new(),
        "no growth with each refresh"
    );

    // Upstream rewrites main without LIBA_3 and `next`: `next` stays kept
    // (and with it LIBA_3), as checkouts may borrow them.
    let work = fx.tmp.path().join("rewrite");
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            fx.remote("liba").to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    fx.git(&work, &["reset", "-q", "--hard", fx.id("LIBA_2")]);
    fx.git(&work, &["commit", "-q", "--allow-empty", "-m", "rewritten"]);
    fx.git(&work, &["push", "-q", "-f", "origin", "HEAD:main"]);
    checkout_through(&fx, &cache, "ws4");
    assert_eq!(kept(&fx, &liba), [next]);
    fx.git(
        &liba,
        &["cat-file", "-e", &format!("{}^{{commit}}", fx.id("LIBA_3"))],
    );
}
