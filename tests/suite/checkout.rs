//! `init`, `checkout` and `list` against the fixture organisation.

use crate::common;

use common::{stderr, stdout, text, Fixture};

#[test]
fn init_twice_from_root_and_from_a_subfolder() {
    let fx = Fixture::new();
    let out = fx.run(&fx.ws, &["init"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!("Running within existing workspace: {}\n", fx.ws.display())
    );
    let sub = fx.ws.join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let out = fx.run(&sub, &["init"]);
    assert_eq!(
        stdout(&out),
        format!("Running within existing workspace: {}\n", fx.ws.display())
    );
    assert!(!sub.join(".openxla_workspace.json").exists());
    assert_eq!(
        std::fs::read_to_string(fx.ws.join(".openxla_workspace.json")).unwrap(),
        "{\"version\": 0}\n"
    );

    let fresh = fx.tmp.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    let out = fx.run(&fresh, &["init"]);
    assert_eq!(
        stdout(&out),
        format!(
            "Initialized workspace at: {}\n",
            fresh.canonicalize().unwrap().display()
        )
    );
}

#[test]
fn checkout_brings_the_whole_closure_at_branch_tips_with_rw_urls() {
    let fx = Fixture::new();
    let out = fx.ok(&["checkout", "app"]);
    for (name, tip) in [
        ("app", "APP_3"),
        ("liba", "LIBA_3"),
        ("libb", "LIBB_3"),
        ("base", "BASE_4"),
    ] {
        assert_eq!(fx.head(name), fx.id(tip), "{name}");
        let url = fx.git(&fx.ws.join(name), &["config", "remote.origin.url"]);
        assert_eq!(url, format!("file://{}/rw/{name}.git", fx.org.display()));
    }
    assert!(stderr(&out).contains("checkout: 4 cloned"), "{}", text(&out));
    // No temporary folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&fx.ws)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".openxla-partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Submodules of liba are initialised and shallow.
    let subx = fx.ws.join("liba/third_party/subx");
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_2"));
    assert_eq!(fx.git(&subx, &["rev-parse", "--is-shallow-repository"]), "true");
}

#[test]
fn checkout_ro_uses_read_only_urls() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--ro", "app"]);
    for name in ["app", "liba", "libb", "base"] {
        let url = fx.git(&fx.ws.join(name), &["config", "remote.origin.url"]);
        assert_eq!(url, format!("file://{}/ro/{name}.git", fx.org.display()));
    }
}

#[test]
fn checkout_no_deps_clones_only_the_named_project() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    assert!(fx.ws.join("app/.git").exists());
    for name in ["liba", "libb", "base"] {
        assert!(!fx.ws.join(name).exists(), "{name}");
    }
}

#[test]
fn checkout_exclude_dep_skips_matching_deps_and_what_only_they_need() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "app", "--exclude-dep", "^lib[ab]$"]);
    assert!(fx.ws.join("app").exists());
    for name in ["liba", "libb", "base"] {
        assert!(!fx.ws.join(name).exists(), "{name}");
    }
    let fx = Fixture::new();
    fx.ok(&["checkout", "--exclude-dep", "b$", "--", "app"]);
    assert!(fx.ws.join("liba").exists() && fx.ws.join("base").exists());
    assert!(!fx.ws.join("libb").exists());
}

#[test]
fn checkout_exclude_submodule_leaves_that_submodule_uninitialised() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "liba", "--exclude-submodule", "liba:third_party/subx"]);
    let liba = fx.ws.join("liba");
    let status = fx.git(&liba, &["submodule", "status"]);
    let subx = status.lines().find(|l| l.contains("third_party/subx")).unwrap();
    let suby = status.lines().find(|l| l.contains("third_party/suby")).unwrap();
    assert!(subx.starts_with('-'), "subx should be uninitialised: {status}");
    assert!(suby.starts_with(' '), "suby should be initialised: {status}");
    assert_eq!(
        fx.git(
            &liba.join("third_party/suby"),
            &["rev-parse", "--is-shallow-repository"]
        ),
        "true"
    );
}

/// `--exclude-dep` and `--exclude-submodule` take several values, as the
/// original tool's did, and each exclusion is reported on a line of its own.
#[test]
fn checkout_exclude_flags_take_several_values_and_each_exclusion_is_reported() {
    let fx = Fixture::new();
    let out = fx.ok(&[
        "-j",
        "1",
        "checkout",
        "app",
        "--exclude-dep",
        "libb",
        "^base$",
        "--exclude-submodule",
        "liba:.*subx",
        "suby",
    ]);
    // Neither value was taken for a project to check out.
    assert!(fx.ws.join("app/.git").exists() && fx.ws.join("liba/.git").exists());
    for name in ["libb", "base"] {
        assert!(!fx.ws.join(name).exists(), "{name} was cloned");
    }
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    assert!(status.lines().all(|l| l.starts_with('-')), "{status}");
    let org = fx.org.display().to_string();
    assert_eq!(
        common::normalise(&stderr(&out), &[(&org, "ORG")]),
        "libb: excluded (--exclude-dep libb)\n\
         base: excluded (--exclude-dep ^base$)\n\
         liba: cloning file://ORG/rw/liba.git\n\
         liba: submodule third_party/subx excluded (--exclude-submodule liba:.*subx)\n\
         liba: submodule third_party/suby excluded (--exclude-submodule suby)\n\
         liba: cloned\n\
         app: cloning file://ORG/rw/app.git\n\
         app: cloned\n\
         checkout: 2 cloned in TIME\n"
    );
}

#[test]
fn checkout_with_its_names_taken_as_exclusions_says_how_to_name_them() {
    let fx = Fixture::new();
    let out = fx.run(&fx.ws, &["checkout", "--exclude-dep", "libb", "app"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        "error: no project to check out was named\n  --exclude-dep and --exclude-submodule take one or more values, \
         up to the next option: name the projects first (`checkout NAME --exclude-dep A B`), or end the values \
         with `--` (`checkout --exclude-dep A B -- NAME`)\n"
    );
    assert_eq!(std::fs::read_dir(&fx.ws).unwrap().count(), 1, "only the marker");
}

#[test]
fn checkout_no_submodules_leaves_them_all_uninitialised() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-submodules", "liba"]);
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    assert!(status.lines().all(|l| l.starts_with('-')), "{status}");
}

/// A checkout made without its submodules gets them from a later
/// `checkout` (not from one with `--no-submodules`), and a checkout that
/// is complete plans nothing at all.
#[test]
fn checkout_completes_the_missing_submodules_of_an_existing_checkout_and_nothing_more() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-submodules", "liba"]);
    let skips = "liba: skip (already exists)\nbase: skip (already exists)\n";
    let dry = fx.ok(&["--dry-run", "checkout", "--no-submodules", "liba"]);
    assert_eq!(stdout(&dry), skips, "{}", text(&dry));
    let dry = fx.ok(&["--dry-run", "checkout", "liba"]);
    assert!(
        stdout(&dry).starts_with(skips) && stdout(&dry).contains(") git submodule update --quiet --init"),
        "{}",
        text(&dry)
    );
    let out = fx.ok(&["checkout", "liba"]);
    assert!(
        stderr(&out).contains("liba: missing submodules cloned"),
        "{}",
        text(&out)
    );
    let status = fx.git(&fx.ws.join("liba"), &["submodule", "status"]);
    assert_eq!(status.lines().count(), 2, "{status}");
    // Each at its recorded commit (`fx.git` trims the first line's space).
    assert!(!status.contains(['-', '+', 'U']), "{status}");
    let dry = fx.ok(&["--dry-run", "checkout", "liba"]);
    assert_eq!(stdout(&dry), skips, "{}", text(&dry));
}

#[test]
fn checkout_skips_an_existing_checkout() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "base"]);
    std::fs::write(fx.ws.join("base/local.txt"), "mine").unwrap();
    let out = fx.ok(&["checkout", "app"]);
    assert!(
        stderr(&out).contains("Skipping checkout of base (already exists)"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(fx.ws.join("base/local.txt")).unwrap(),
        "mine"
    );
    assert!(fx.ws.join("liba/.git").exists());
}

#[test]
fn checkout_refuses_an_existing_folder_that_is_not_a_checkout() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.ws.join("libb")).unwrap();
    std::fs::write(fx.ws.join("libb/notes.txt"), "keep me").unwrap();
    let out = fx.run(&fx.ws, &["checkout", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: libb:") && err.contains("exists but is not a git checkout"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(fx.ws.join("libb/notes.txt")).unwrap(),
        "keep me"
    );
    // The others still complete.
    assert!(fx.ws.join("liba/.git").exists() && fx.ws.join("base/.git").exists());
}

#[test]
fn checkout_of_an_unknown_name_clones_nothing() {
    let fx = Fixture::new();
    let out = fx.run(&fx.ws, &["checkout", "app", "ap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("No repository matching 'ap' found (did you mean one of: app, base, liba, libb)"),
        "{}",
        text(&out)
    );
    assert!(!fx.ws.join("app").exists());
}

#[test]
fn commands_outside_a_workspace_fail_with_the_folder() {
    let fx = Fixture::new();
    let outside = fx.tmp.path().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    let out = fx.run(&outside, &["checkout", "app"]);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "No workspace found in a directory enclosing {}",
        outside.canonicalize().unwrap().display()
    );
    assert!(stderr(&out).contains(&expected), "{}", text(&out));
    // list works anywhere.
    assert!(fx.run(&outside, &["list"]).status.success());
}

#[test]
fn a_missing_remote_fails_only_its_project_and_leaves_no_folder() {
    let fx = Fixture::new();
    std::fs::rename(fx.remote("libb"), fx.org.join("git/libb.moved")).unwrap();
    let out = fx.run(&fx.ws, &["checkout", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    // Named, with its cause, not as a command line (tests/failure_causes.rs
    // has the whole block).
    assert!(
        err.contains("error: local path: no repository at the URL\n  not cloned: libb\n"),
        "{err}"
    );
    assert!(err.contains("1 failed"), "{err}");
    assert!(!fx.ws.join("libb").exists());
    assert!(!fx.ws.join(".openxla-partial-libb").exists());
    for name in ["app", "liba", "base"] {
        assert!(fx.ws.join(name).join(".git").exists(), "{name}");
    }
}

#[test]
fn checkout_dry_run_prints_the_plan_and_changes_nothing() {
    let fx = Fixture::new();
    let before = fx.snapshot();
    let out = fx.ok(&["--dry-run", "checkout", "app"]);
    let plan = stdout(&out);
    assert!(
        plan.contains(&format!("app: (in {}) git clone -- file://", fx.ws.display())),
        "{plan}"
    );
    assert!(
        plan.contains("liba: (in ")
            && plan.contains("git submodule --quiet init -- <PATH>...\n  then (in ")
            && plan.contains(
                "git submodule update --quiet --init --checkout --depth=1 --recommend-shallow -- <PATH>  (each \
                 submodule of liba not initialised)"
            ),
        "{plan}"
    );
    common::assert_unchanged(&before, &fx.snapshot());
}

#[test]
fn checkout_sync_dry_run_says_which_deps_wait_for_the_sync() {
    let fx = Fixture::new();
    let before = fx.snapshot();
    let out = fx.ok(&["--dry-run", "checkout", "--sync", "app"]);
    let plan = stdout(&out);
    assert!(
        plan.contains("liba: (in ") && plan.contains("git clone --no-checkout -- file://"),
        "{plan}"
    );
    assert!(
        ["liba", "libb", "base"].iter().all(|dep| plan.contains(&format!(
            "{dep}: unless a pin moves it: (in {}/{dep}) git checkout --no-recurse-submodules --quiet --force HEAD --",
            fx.ws.display()
        ))),
        "{plan}"
    );
    let out = fx.ok(&["--dry-run", "checkout", "--sync", "--depth", "1", "app"]);
    let plan = stdout(&out);
    assert!(
        plan.contains(&format!(
            "libb: if no pin names it: (in {}) git clone",
            fx.ws.display()
        )),
        "{plan}"
    );
    assert!(
        !plan.contains(&format!("libb: (in {}) git clone", fx.ws.display())),
        "{plan}"
    );
    common::assert_unchanged(&before, &fx.snapshot());
}

#[test]
fn checkout_leaves_an_existing_repository_without_commits_alone() {
    let fx = Fixture::new();
    // No commit and no index, like a clone without files, but nothing to
    // write its files from: it is someone's new repository.
    fx.git(&fx.ws, &["init", "--quiet", "base"]);
    let out = fx.ok(&["checkout", "app"]);
    assert!(
        stderr(&out).contains("Skipping checkout of base (already exists)"),
        "{}",
        text(&out)
    );
    assert!(!fx.ws.join("base/.git/index").exists());
    assert!(fx.ws.join("liba/.git").exists());
}

#[test]
fn a_leftover_partial_clone_is_never_taken_for_a_checkout() {
    let fx = Fixture::new();
    // What a killed run leaves: a temporary folder holding half a clone.
    let partial = fx.ws.join(".openxla-partial-base");
    std::fs::create_dir_all(partial.join(".git")).unwrap();
    fx.ok(&["checkout", "--no-deps", "base"]);
    assert_eq!(fx.head("base"), fx.id("BASE_4"));
    assert!(!partial.exists());
}

#[test]
fn invalid_exclude_regex_is_a_usage_error() {
    let fx = Fixture::new();
    let out = fx.run(&fx.ws, &["checkout", "--exclude-dep", "(", "app"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid regular expression"),
        "{}",
        text(&out)
    );
    assert!(!fx.ws.join("app").exists());
}

#[test]
fn registry_errors_name_the_file_and_key() {
    let fx = Fixture::new();
    let cases = [
        ("unknown_key.toml", "[repos.a]\nro_url = \"https://x/a\"\ncolor = 1\n", "color"),
        ("unknown_dep.toml", "[repos.a]\nro_url = \"https://x/a\"\ndeps = [\"zz\"]\n", "repos.a.deps: unknown project 'zz'"),
        (
            "cycle.toml",
            "[repos.a]\nro_url = \"https://x/a\"\ndeps = [\"b\"]\n[repos.b]\nro_url = \"https://x/b\"\ndeps = [\"a\"]\n",
            "dependency cycle a -> b -> a",
        ),
        ("bad_name.toml", "[repos.\"-a\"]\nro_url = \"https://x/a\"\n", "must start with an ASCII letter or digit"),
        ("bad_url.toml", "[repos.a]\nro_url = \"ext::sh -c id\"\n", "repos.a.ro_url"),
        ("wrong_type.toml", "[repos.a]\nro_url = 3\n", "ro_url"),
    ];
    for (file, body, expected) in cases {
        let path = fx.tmp.path().join(file);
        std::fs::write(&path, format!("include_default = false\n{body}")).unwrap();
        let out = fx
            .cmd(&fx.ws)
            .args(["--registry"])
            .arg(&path)
            .arg("list")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = stderr(&out);
        assert!(
            err.contains(&path.display().to_string()) && err.contains(expected),
            "{file}: {err}"
        );
    }
}

#[test]
fn list_shows_urls_dep_tree_schedules_and_layers() {
    let fx = Fixture::new();
    std::fs::write(
        fx.ws.join("openxla-workspace.toml"),
        "[repos.base]\nro_url = \"file:///elsewhere/base.git\"\n",
    )
    .unwrap();
    let out = fx.ok(&["list"]);
    let listing = stdout(&out);
    assert!(listing.contains("app\n  ro_url:     file://"), "{listing}");
    assert!(
        listing.contains("    ├── liba\n    │   └── base\n    └── libb\n        └── base\n"),
        "{listing}"
    );
    assert!(
        listing.contains("  schedule nightly:\n    git_head liba\n    git_head libb\n"),
        "{listing}"
    );
    // The explicit registry file replaces the workspace's entry for base.
    assert!(
        listing.contains("(replaces the entry in workspace file"),
        "{listing}"
    );

    // Without --registry, the workspace file layers over the embedded default.
    let out = fx
        .cmd(&fx.ws)
        .env_remove("OPENXLA_WORKSPACE_REGISTRY")
        .arg("list")
        .output()
        .unwrap();
    let listing = stdout(&out);
    assert!(
        listing.contains("openxla-pjrt-plugin") && listing.contains("defined in: embedded default"),
        "{listing}"
    );
    assert!(
        listing.contains("ro_url:     file:///elsewhere/base.git"),
        "{listing}"
    );
}
