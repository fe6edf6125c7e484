//! `roll SCHEDULE` against the fixture organisation. In the fixture, app
//! pins liba@2 and libb@2 while both branches are at 3, and the registry
//! gives app a `nightly` schedule of `git_head = "liba"` and `"libb"`.
//! Python-package actions read versions from a folder of empty files named
//! like wheels (`pip --no-index -f DIR` lists versions from file names), so
//! no test needs the network.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{read, short, stderr, stdout, text, Fixture};

/// A fixture with app checked out (its deps are not needed to roll).
fn with_app() -> Fixture {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    fx
}

/// Pushes a commit of a new file to `branch` of the organisation's `repo`;
/// returns the commit.
fn push_commit(fx: &Fixture, repo: &str, branch: &str) -> String {
    fx.push(
        repo,
        branch,
        &[("rolled.txt", &format!("new on {branch}\n"))],
        &format!("{repo}: new commit on {branch}"),
    )
}

/// The fixture registry with `extra` TOML appended, written beside the
/// organisation; pass it with `--registry`.
fn registry_with(fx: &Fixture, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(fx.registry()).unwrap();
    let path = fx.tmp.path().join("roll-registry.toml");
    std::fs::write(&path, format!("{base}\n{extra}")).unwrap();
    path
}

/// A folder of empty files named like wheels, for `pip -f`.
fn wheels(fx: &Fixture) -> PathBuf {
    let dir = fx.tmp.path().join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "jaxlib-0.4.1-py3-none-any.whl",
        "jaxlib-0.4.2-py3-none-any.whl",
        "jaxlib-0.4.3.dev20240101-py3-none-any.whl",
        "iree_compiler-20240101.1-py3-none-any.whl",
        "iree_compiler-20240102.2-py3-none-any.whl",
    ] {
        std::fs::write(dir.join(name), "").unwrap();
    }
    dir
}

/// A `py_package` action reading versions from the wheels folder.
fn py_action(schedule: &str, package: &str, wheels: &Path, pre: bool, files: &[&str]) -> String {
    let pre = if pre { "\"--pre\", " } else { "" };
    let files: Vec<String> = files.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        "[[repos.app.schedules.{schedule}]]\npy_package = \"{package}\"\npip_flags = [{pre}\"--no-index\", \"-f\", \"file://{}\"]\nupdate_requirements = [{}]\n",
        wheels.display(),
        files.join(", ")
    )
}

/// Runs `roll` in app with a registry file and, optionally, a Python.
fn roll(fx: &Fixture, registry: &Path, python: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = fx.cmd(&fx.ws.join("app"));
    cmd.arg("--registry").arg(registry).arg("roll").args(args);
    if let Some(python) = python {
        cmd.env("OPENXLA_WORKSPACE_PYTHON", python);
    }
    cmd.output().unwrap()
}

/// An executable shell script standing in for Python.
fn fake_python(fx: &Fixture, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = fx.tmp.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn roll_git_head_moves_pins_to_the_branch_tips_and_a_second_roll_changes_nothing() {
    let fx = with_app();
    let new_liba = push_commit(&fx, "liba", "main");
    let app = fx.ws.join("app");
    let out = fx.run(&app, &["roll", "nightly"]);
    assert!(out.status.success(), "{}", text(&out));
    let org = fx.org.display();
    assert_eq!(
        stdout(&out),
        format!(
            "liba: {} -> {} (head of main on file://{org}/ro/liba.git)\nUpdated pinned revision.\n\
             libb: {} -> {} (head of main on file://{org}/ro/libb.git)\nUpdated pinned revision.\n",
            short(fx.id("LIBA_2")),
            short(&new_liba),
            short(fx.id("LIBB_2")),
            short(fx.id("LIBB_3")),
        )
    );
    let pins = read(&app.join("sync_deps.py"));
    assert!(pins.contains(&format!("\"liba\": \"{new_liba}\"")), "{pins}");
    assert!(
        pins.contains(&format!("\"libb\": \"{}\"", fx.id("LIBB_3"))),
        "{pins}"
    );
    // ORIGINS are kept as they were (the fixture built them with the path
    // its organisation was first made at).
    let origin = pins
        .lines()
        .find(|l| l.contains("\"liba\": \"file://"))
        .unwrap_or_default();
    assert!(origin.ends_with("/ro/liba.git\","), "ORIGINS are kept: {pins}");

    let before = fx.snapshot();
    let out = fx.run(&app, &["roll", "nightly"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out).matches("No update required.\n").count(),
        2,
        "{}",
        text(&out)
    );
    assert!(!stdout(&out).contains("Updated"), "{}", text(&out));
    assert_eq!(read(&app.join("sync_deps.py")), pins);
    assert_eq!(fx.snapshot(), before, "no file is rewritten, not even its mtime");
}

#[test]
fn roll_git_head_follows_the_exact_tracking_branch_not_a_suffix_match() {
    let fx = with_app();
    // `git ls-remote URL main` would also list refs/heads/feature/main.
    let decoy = push_commit(&fx, "liba", "feature/main");
    let out = fx.run(&fx.ws.join("app"), &["-v", "roll", "nightly"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!(
            "git ls-remote --heads --exit-code -- file://{}/ro/liba.git refs/heads/main",
            fx.org.display()
        )),
        "{}",
        text(&out)
    );
    let pins = read(&fx.ws.join("app/sync_deps.py"));
    assert!(
        pins.contains(&format!("\"liba\": \"{}\"", fx.id("LIBA_3"))),
        "{pins}"
    );
    assert!(!pins.contains(&decoy), "{pins}");
}

#[test]
fn roll_git_head_of_a_dep_missing_from_pinned_versions_is_an_error_and_changes_nothing() {
    let fx = with_app();
    let file = fx.ws.join("app/sync_deps.py");
    std::fs::write(
        &file,
        format!("PINNED_VERSIONS = {{\n  \"liba\": \"{}\"\n}}\n", fx.id("LIBA_2")),
    )
    .unwrap();
    let before = fx.snapshot();
    let out = fx.run(&fx.ws.join("app"), &["roll", "nightly"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "error: app: schedule nightly, action 2: git_head libb: libb is not in PINNED_VERSIONS of {}; run `openxla-workspace pin --repo app`",
            file.display()
        )),
        "{err}"
    );
    assert!(err.contains("no file was changed"), "{err}");
    assert!(stdout(&out).is_empty(), "{}", text(&out));
    assert_eq!(fx.snapshot(), before, "liba's roll is not applied either");
}

#[test]
fn roll_git_head_of_a_missing_branch_is_an_error_naming_the_url() {
    let fx = with_app();
    let registry = std::fs::read_to_string(fx.registry()).unwrap();
    let libb_rw = format!("rw_url = \"file://{}/rw/libb.git\"\n", fx.org.display());
    assert!(registry.contains(&libb_rw));
    let registry = registry.replace(&libb_rw, &format!("{libb_rw}tracking_branch = \"release\"\n"));
    let path = fx.tmp.path().join("release-registry.toml");
    std::fs::write(&path, registry).unwrap();
    let before = fx.snapshot();
    let out = roll(&fx, &path, None, &["nightly"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    let url = format!("file://{}/ro/libb.git", fx.org.display());
    assert!(
        err.contains(&format!(
            "error: app: schedule nightly, action 2: git_head libb: could not read the head of libb's branch 'release' from {url}"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{url} has no branch 'release'")), "{err}");
    assert!(err.contains("git ls-remote --heads --exit-code --"), "{err}");
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn roll_py_package_pins_the_newest_version_in_each_requirements_file() {
    let fx = with_app();
    let wheels = wheels(&fx);
    let registry = registry_with(
        &fx,
        &[
            py_action(
                "pip",
                "jaxlib",
                &wheels,
                false,
                &["requirements.txt", "./dev/requirements-dev.txt"],
            ),
            py_action("pip", "iree-compiler", &wheels, false, &["requirements.txt"]),
            py_action("pre", "jaxlib", &wheels, true, &["requirements.txt"]),
        ]
        .concat(),
    );
    let app = fx.ws.join("app");
    let requirements = app.join("requirements.txt");
    std::fs::write(
        &requirements,
        "# Runtime requirements; jaxlib==0.3 broke us.\n\
         numpy==1.26.4\n\
         JAXLIB==0.4.1 ; python_version >= \"3.9\"  # the CPU build\n\
         IREE_Compiler>=20240101.0\n\
         jaxlibx==1.0\n",
    )
    .unwrap();
    std::fs::create_dir_all(app.join("dev")).unwrap();
    let dev = app.join("dev/requirements-dev.txt");
    std::fs::write(&dev, "pytest==8.0").unwrap();

    let out = roll(&fx, &registry, None, &["pip"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        "jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\n\
         jaxlib: 0.4.2 appended to dev/requirements-dev.txt\n\
         Updated requirements.\n\
         iree-compiler: >=20240101.0 -> 20240102.2 in requirements.txt\n\
         Updated requirements.\n"
    );
    assert_eq!(
        read(&requirements),
        "# Runtime requirements; jaxlib==0.3 broke us.\n\
         numpy==1.26.4\n\
         JAXLIB==0.4.2 ; python_version >= \"3.9\"  # the CPU build\n\
         IREE_Compiler==20240102.2\n\
         jaxlibx==1.0\n"
    );
    assert_eq!(read(&dev), "pytest==8.0\njaxlib==0.4.2\n");

    let before = fx.snapshot();
    let out = roll(&fx, &registry, None, &["pip"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        "jaxlib: already 0.4.2 in requirements.txt\n\
         jaxlib: already 0.4.2 in dev/requirements-dev.txt\n\
         No update required.\n\
         iree-compiler: already 20240102.2 in requirements.txt\n\
         No update required.\n"
    );
    assert_eq!(fx.snapshot(), before, "no file is rewritten, not even its mtime");

    // With --pre among the flags, pip lists the development release.
    let out = roll(&fx, &registry, None, &["pre"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        "jaxlib: 0.4.2 -> 0.4.3.dev20240101 in requirements.txt\nUpdated requirements.\n"
    );
    assert!(
        read(&requirements)
            .contains("JAXLIB==0.4.3.dev20240101 ; python_version >= \"3.9\"  # the CPU build\n"),
        "{}",
        read(&requirements)
    );
}

#[test]
fn roll_py_package_with_a_missing_requirements_file_fails_before_asking_pip() {
    let fx = with_app();
    let wheels = wheels(&fx);
    let registry = registry_with(
        &fx,
        &py_action(
            "pip",
            "jaxlib",
            &wheels,
            false,
            &["requirements.txt", "missing.txt"],
        ),
    );
    std::fs::write(fx.ws.join("app/requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let before = fx.snapshot();
    // A Python that cannot run: the local check must fail first.
    let nowhere = fx.tmp.path().join("no-such-python");
    let out = roll(&fx, &registry, Some(&nowhere), &["pip"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "error: app: schedule pip, action 1: py_package jaxlib: {} does not exist; create it (an empty file will do), or remove 'missing.txt' from the action's update_requirements",
            fx.ws.join("app/missing.txt").display()
        )),
        "{err}"
    );
    assert!(!err.contains("no-such-python"), "pip was not run: {err}");
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn roll_py_package_says_when_pip_is_too_old_for_index_versions() {
    let fx = with_app();
    let registry = registry_with(
        &fx,
        &py_action("pip", "jaxlib", &wheels(&fx), false, &["requirements.txt"]),
    );
    std::fs::write(fx.ws.join("app/requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let old_pip = fake_python(
        &fx,
        "old-python",
        "echo 'ERROR: unknown command \"index\"' >&2\nexit 1",
    );
    let out = roll(&fx, &registry, Some(&old_pip), &["pip"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: app: schedule pip, action 1: py_package jaxlib: could not find the newest version of jaxlib"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "`{} -I -m pip index versions --disable-pip-version-check --no-index -f",
            old_pip.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("this pip is too old for `pip index versions`"),
        "{err}"
    );
    assert!(err.contains("ERROR: unknown command \"index\""), "{err}");
    assert_eq!(read(&fx.ws.join("app/requirements.txt")), "jaxlib==0.4.1\n");
}

#[test]
fn roll_py_package_errors_show_what_pip_printed() {
    let fx = with_app();
    let wheels = wheels(&fx);
    let registry = registry_with(
        &fx,
        &[
            py_action("pip", "jaxlib", &wheels, false, &["requirements.txt"]),
            py_action(
                "unknown",
                "no-such-package",
                &wheels,
                false,
                &["requirements.txt"],
            ),
        ]
        .concat(),
    );
    std::fs::write(fx.ws.join("app/requirements.txt"), "jaxlib==0.4.1\n").unwrap();

    // Success, but no `Available versions:` line.
    let odd = fake_python(
        &fx,
        "odd-python",
        "echo 'Looking in links: somewhere'\necho 'jaxlib (9.9)'",
    );
    let out = roll(&fx, &registry, Some(&odd), &["pip"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("printed no `Available versions:` line"), "{err}");
    assert!(
        err.contains("    stdout:\n    Looking in links: somewhere\n    jaxlib (9.9)"),
        "{err}"
    );

    // The real pip, for a package the index does not have: its error, not
    // its warning that `pip index` is experimental.
    let out = roll(&fx, &registry, None, &["unknown"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("schedule unknown, action 1: py_package no-such-package"),
        "{err}"
    );
    assert!(
        err.contains("No matching distribution found for no-such-package"),
        "{err}"
    );
    assert!(!err.contains("experimental"), "{err}");
    assert_eq!(read(&fx.ws.join("app/requirements.txt")), "jaxlib==0.4.1\n");
}

#[test]
fn roll_dry_run_reports_what_would_change_and_changes_nothing() {
    let fx = with_app();
    let wheels = wheels(&fx);
    let registry = registry_with(
        &fx,
        &format!(
            "[[repos.app.schedules.all]]\ngit_head = \"liba\"\n{}",
            py_action("all", "jaxlib", &wheels, false, &["requirements.txt"])
        ),
    );
    let app = fx.ws.join("app");
    std::fs::write(app.join("requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let before = fx.snapshot();
    let mut cmd = fx.cmd(&app);
    cmd.arg("--dry-run")
        .arg("--registry")
        .arg(&registry)
        .args(["roll", "all", "--sync"]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "liba: {} -> {} (head of main on file://{}/ro/liba.git)\nWould update pinned revision.\n\
             would write {}\n\
             jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\nWould update requirements.\n\
             would write {}\n\
             would then sync the deps of app to its pins (`openxla-workspace sync --repo app`)\n",
            short(fx.id("LIBA_2")),
            short(fx.id("LIBA_3")),
            fx.org.display(),
            app.join("sync_deps.py").display(),
            app.join("requirements.txt").display(),
        )
    );
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn roll_sync_moves_the_deps_to_the_new_pins() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    let new_liba = push_commit(&fx, "liba", "main");
    let out = fx.run(&fx.ws.join("app"), &["roll", "nightly", "--sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), new_liba, "fetched and checked out");
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
    assert!(
        stdout(&out).contains(&format!(
            "liba: {} (pinned by app), was {}",
            short(&new_liba),
            short(fx.id("LIBA_2"))
        )),
        "{}",
        text(&out)
    );
}

#[test]
fn roll_of_an_unknown_schedule_lists_the_available_ones() {
    let fx = with_app();
    let out = fx.run(&fx.ws.join("app"), &["roll", "weekly"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        "error: app has no schedule 'weekly'; available: nightly\n"
    );
}

#[test]
fn roll_in_a_project_without_schedules_says_so() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "libb"]);
    let out = fx.run(&fx.ws.join("libb"), &["roll", "nightly"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("error: libb has no roll schedules in the registry"),
        "{}",
        text(&out)
    );
}
