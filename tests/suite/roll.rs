//! `roll SCHEDULE` against the fixture organisation. In the fixture, app
//! pins liba@2 and libb@2 while both branches are at 3, and the registry
//! gives app a `nightly` schedule of `git_head = "liba"` and `"libb"`.
//! Python-package actions read versions from a folder of empty files named
//! like wheels (`pip --no-index -f DIR` lists versions from file names), so
//! no test needs the network.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{read, short, stderr, stdout, Fixture};

/// A fixture with app checked out (its deps are not needed to roll).
fn with_app() -> Fixture {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    fx
}

/// Pushes a commit of a new file to `branch` of the organisation's `repo`;
/// returns the commit.
pub(crate) fn push_commit(fx: &Fixture, repo: &str, branch: &str) -> String {
    fx.push(
        repo,
        branch,
        &[("rolled.txt", &format!("new on {branch}\n"))],
        &format!("{repo}: new commit on {branch}"),
    )
}

/// The fixture registry with `extra` TOML appended, written beside the
/// organisation; pass it with `--registry`.
pub(crate) fn registry_with(fx: &Fixture, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(fx.registry()).unwrap();
    let path = fx.tmp.path().join("roll-registry.toml");
    std::fs::write(&path, format!("{base}\n{extra}")).unwrap();
    path
}

/// A folder of empty files named like wheels, for `pip -f`.
pub(crate) fn wheels(fx: &Fixture) -> PathBuf {
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
pub(crate) fn py_action(schedule: &str, package: &str, wheels: &Path, pre: bool, files: &[&str]) -> String {
    let pre = if pre { "\"--pre\", " } else { "" };
    let files: Vec<String> = files.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        "[[repos.app.schedules.{schedule}]]\npy_package = \"{package}\"\npip_flags = [{pre}\"--no-index\", \"-f\", \"file://{}\"]\nupdate_requirements = [{}]\n",
        wheels.display(),
        files.join(", ")
    )
}

/// Runs `roll` in app with a registry file and, optionally, a Python.
pub(crate) fn roll(fx: &Fixture, registry: &Path, python: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = fx.cmd(&fx.ws.join("app"));
    cmd.arg("--registry").arg(registry).arg("roll").args(args);
    if let Some(python) = python {
        cmd.env("OPENXLA_WORKSPACE_PYTHON", python);
    }
    cmd.output().unwrap()
}

/// The exit status, stdout and stderr of a run, with the organisation's
/// folder as ORG, the workspace's as WS, the test's as TMP, the folder pip
/// runs in (the system's temporary folder) as TEMP, and elapsed times as
/// TIME.
pub(crate) fn outcome(fx: &Fixture, out: &Output) -> (Option<i32>, String, String) {
    let tmp = fx.tmp.path().canonicalize().unwrap().display().to_string();
    let temp = format!(" in {}", std::env::temp_dir().display());
    let normalise = |text: String| {
        fx.normalise(&text)
            .replace(&tmp, "TMP")
            .replace(&temp, " in TEMP")
    };
    (out.status.code(), normalise(stdout(out)), normalise(stderr(out)))
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
    let pin_file = app.join("sync_deps.py");
    let before = read(&pin_file);
    let out = fx.run(&app, &["roll", "nightly"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            format!(
                "liba: {} -> {} (head of main on file://ORG/ro/liba.git)\nUpdated pinned revision.\n\
                 libb: {} -> {} (head of main on file://ORG/ro/libb.git)\nUpdated pinned revision.\n",
                short(fx.id("LIBA_2")),
                short(&new_liba),
                short(fx.id("LIBB_2")),
                short(fx.id("LIBB_3")),
            ),
            "wrote WS/app/sync_deps.py\nroll nightly (app): 2 updated in TIME\n".to_string()
        )
    );
    // Only the two pins changed: ORIGINS (which the fixture wrote with the
    // path its organisation was first built at) and the rest are kept.
    let pins = read(&pin_file);
    assert_eq!(
        pins,
        before
            .replace(fx.id("LIBA_2"), &new_liba)
            .replace(fx.id("LIBB_2"), fx.id("LIBB_3"))
    );

    let snapshot = fx.snapshot();
    let out = fx.run(&app, &["roll", "nightly"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            format!(
                "liba: {} (head of main on file://ORG/ro/liba.git)\nNo update required.\n\
                 libb: {} (head of main on file://ORG/ro/libb.git)\nNo update required.\n",
                short(&new_liba),
                short(fx.id("LIBB_3")),
            ),
            "roll nightly (app): 2 up to date in TIME\n".to_string()
        )
    );
    assert_eq!(read(&pin_file), pins);
    assert_eq!(
        fx.snapshot(),
        snapshot,
        "no file is rewritten, not even its mtime"
    );
}

#[test]
fn roll_git_head_follows_the_exact_tracking_branch_not_a_suffix_match() {
    let fx = with_app();
    // `git ls-remote URL main` would also list refs/heads/feature/main.
    let decoy = push_commit(&fx, "liba", "feature/main");
    let pin_file = fx.ws.join("app/sync_deps.py");
    let before = read(&pin_file);
    let out = fx.run(&fx.ws.join("app"), &["roll", "nightly"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            format!(
                "liba: {} -> {} (head of main on file://ORG/ro/liba.git)\nUpdated pinned revision.\n\
                 libb: {} -> {} (head of main on file://ORG/ro/libb.git)\nUpdated pinned revision.\n",
                short(fx.id("LIBA_2")),
                short(fx.id("LIBA_3")),
                short(fx.id("LIBB_2")),
                short(fx.id("LIBB_3")),
            ),
            "wrote WS/app/sync_deps.py\nroll nightly (app): 2 updated in TIME\n".to_string()
        )
    );
    assert_eq!(
        read(&pin_file),
        before
            .replace(fx.id("LIBA_2"), fx.id("LIBA_3"))
            .replace(fx.id("LIBB_2"), fx.id("LIBB_3"))
    );
    assert!(!read(&pin_file).contains(&decoy));
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
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "roll nightly (app): 1 failed in TIME\n\
             error: app: schedule nightly, action 2: git_head libb: libb is not in PINNED_VERSIONS of \
             WS/app/sync_deps.py; run `openxla-workspace pin --repo app` to pin every registry dep, then roll again\n\
             error: no file was changed; fix the problems above, then roll again\n"
                .to_string()
        )
    );
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
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "roll nightly (app): 1 failed in TIME\n\
             error: app: schedule nightly, action 2: git_head libb: could not read the head of libb's branch \
             'release' from file://ORG/ro/libb.git; check that the branch exists there (tracking_branch of \
             [repos.libb], registry file TMP/release-registry.toml) and that the URL is reachable: `git ls-remote \
             --heads --exit-code -- file://ORG/ro/libb.git refs/heads/release` failed in WS/app (exit status 2)\n    \
             file://ORG/ro/libb.git has no branch 'release' (refs/heads/release)\n\
             error: no file was changed; fix the problems above, then roll again\n"
                .to_string()
        )
    );
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
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            "jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\n\
             jaxlib: 0.4.2 appended to dev/requirements-dev.txt\n\
             Updated requirements.\n\
             iree-compiler: >=20240101.0 -> 20240102.2 in requirements.txt\n\
             Updated requirements.\n"
                .to_string(),
            "wrote WS/app/dev/requirements-dev.txt\n\
             wrote WS/app/requirements.txt\n\
             roll pip (app): 2 updated in TIME\n"
                .to_string()
        )
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
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            "jaxlib: already 0.4.2 in requirements.txt\n\
             jaxlib: already 0.4.2 in dev/requirements-dev.txt\n\
             No update required.\n\
             iree-compiler: already 20240102.2 in requirements.txt\n\
             No update required.\n"
                .to_string(),
            "roll pip (app): 2 up to date in TIME\n".to_string()
        )
    );
    assert_eq!(fx.snapshot(), before, "no file is rewritten, not even its mtime");

    // With --pre among the flags, pip lists the development release.
    let out = roll(&fx, &registry, None, &["pre"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            "jaxlib: 0.4.2 -> 0.4.3.dev20240101 in requirements.txt\nUpdated requirements.\n".to_string(),
            "wrote WS/app/requirements.txt\nroll pre (app): 1 updated in TIME\n".to_string()
        )
    );
    assert_eq!(
        read(&requirements),
        "# Runtime requirements; jaxlib==0.3 broke us.\n\
         numpy==1.26.4\n\
         JAXLIB==0.4.3.dev20240101 ; python_version >= \"3.9\"  # the CPU build\n\
         IREE_Compiler==20240102.2\n\
         jaxlibx==1.0\n"
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
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "roll pip (app): 1 failed in TIME\n\
             error: app: schedule pip, action 1: py_package jaxlib: WS/app/missing.txt does not exist; create it \
             (an empty file will do), or remove 'missing.txt' from the action's update_requirements in the \
             registry (registry file TMP/roll-registry.toml)\n\
             error: no file was changed; fix the problems above, then roll again\n"
                .to_string()
        )
    );
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn roll_py_package_says_when_pip_is_too_old_for_index_versions() {
    let fx = with_app();
    let wheels = wheels(&fx);
    let registry = registry_with(
        &fx,
        &py_action("pip", "jaxlib", &wheels, false, &["requirements.txt"]),
    );
    std::fs::write(fx.ws.join("app/requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let old_pip = fake_python(
        &fx,
        "old-python",
        "echo 'ERROR: unknown command \"index\"' >&2\nexit 1",
    );
    let out = roll(&fx, &registry, Some(&old_pip), &["pip"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "roll pip (app): 1 failed in TIME\n\
             error: app: schedule pip, action 1: py_package jaxlib: could not find the newest version of jaxlib: \
             `TMP/old-python -I -m pip index versions --disable-pip-version-check --no-index -f file://TMP/wheels \
             -- jaxlib` failed in TEMP: this pip is too old for `pip index versions` (pip 21.2 or newer has it); \
             upgrade it with `TMP/old-python -m pip install --upgrade pip`, or set OPENXLA_WORKSPACE_PYTHON to a \
             Python with a newer pip\n    ERROR: unknown command \"index\"\n\
             error: no file was changed; fix the problems above, then roll again\n"
                .to_string()
        )
    );
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
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "roll pip (app): 1 failed in TIME\n\
             error: app: schedule pip, action 1: py_package jaxlib: could not find the newest version of jaxlib: \
             `TMP/odd-python -I -m pip index versions --disable-pip-version-check --no-index -f file://TMP/wheels \
             -- jaxlib` in TEMP printed no `Available versions:` line with valid versions; pip printed:\n    \
             stdout:\n    Looking in links: somewhere\n    jaxlib (9.9)\n\
             error: no file was changed; fix the problems above, then roll again\n"
                .to_string()
        )
    );

    // The real pip, for a package the index does not have: its error, not
    // its warning that `pip index` is experimental. (Its wording is pip's
    // and changes with pip's version: only the tool's own lines are
    // compared whole.)
    let out = roll(&fx, &registry, None, &["unknown"]);
    let (code, out_text, err) = outcome(&fx, &out);
    assert_eq!((code, out_text), (Some(1), String::new()), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "roll unknown (app): 1 failed in TIME", "{err}");
    assert!(
        lines[1].starts_with(
            "error: app: schedule unknown, action 1: py_package no-such-package: could not find the newest \
             version of no-such-package: `"
        ),
        "{err}"
    );
    assert_eq!(
        lines.last(),
        Some(&"error: no file was changed; fix the problems above, then roll again"),
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
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            format!(
                "liba: {} -> {} (head of main on file://ORG/ro/liba.git)\nWould update pinned revision.\n\
                 would write WS/app/sync_deps.py\n\
                 jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\nWould update requirements.\n\
                 would write WS/app/requirements.txt\n{}",
                short(fx.id("LIBA_2")),
                short(fx.id("LIBA_3")),
                // The sync after the roll, to the pins it is about to
                // write: placeholders; the deps, not checked out yet, are
                // cloned first.
                "liba: (in WS) git clone --no-checkout -- file://ORG/rw/liba.git WS/.openxla-partial-liba\n\
                 liba: rename WS/.openxla-partial-liba -> WS/liba\n\
                 liba: if it lacks that commit: (in WS/liba) git fetch --no-tags origin <liba's pin in app/sync_deps.py>\n\
                 \x20 or, if origin refuses a fetch by id: (in WS/liba) git fetch --no-tags origin +refs/heads/main:refs/remotes/origin/main\n\
                 libb: (in WS) git clone --no-checkout -- file://ORG/rw/libb.git WS/.openxla-partial-libb\n\
                 libb: rename WS/.openxla-partial-libb -> WS/libb\n\
                 libb: if it lacks that commit: (in WS/libb) git fetch --no-tags origin <libb's pin in app/sync_deps.py>\n\
                 \x20 or, if origin refuses a fetch by id: (in WS/libb) git fetch --no-tags origin +refs/heads/main:refs/remotes/origin/main\n\
                 base: (in WS) git clone --no-checkout -- file://ORG/rw/base.git WS/.openxla-partial-base\n\
                 base: rename WS/.openxla-partial-base -> WS/base\n\
                 base: if it lacks that commit: (in WS/base) git fetch --no-tags origin <base's pin in liba/sync_deps.py>\n\
                 \x20 or, if origin refuses a fetch by id: (in WS/base) git fetch --no-tags origin +refs/heads/main:refs/remotes/origin/main\n\
                 liba: (in WS/liba) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --force --detach <liba's pin in app/sync_deps.py> --\n\
                 \x20 then (in WS/liba) git update-ref -m 'openxla-workspace: checked out' refs/openxla-workspace/pin <liba's pin in app/sync_deps.py>\n\
                 liba: (in WS/liba/<PATH>) git fetch --no-tags --depth=1 origin <COMMIT>  (each initialised submodule of liba that lacks the commit liba records for it)\n\
                 \x20 or, if origin refuses a fetch by id: (in WS/liba/<PATH>) git fetch --no-tags origin  (each initialised submodule of liba, not shallow, whose fetch origin refused)\n\
                 \x20 or, if origin refuses a fetch by id: (in WS/liba/<PATH>) git fetch --no-tags --unshallow origin  (each initialised submodule of liba, shallow, whose fetch origin refused)\n\
                 \x20 then (in WS/liba/<PATH>) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --no-overwrite-ignore --detach <COMMIT> --  (each initialised submodule of liba not at the commit liba records for it)\n\
                 \x20 then (in WS/liba/<PATH>) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --force --detach <COMMIT> --  (each initialised submodule of liba that has no files yet)\n\
                 \x20 then, if a submodule of liba is not initialised: (in WS/liba) git submodule --quiet init -- <PATH>...\n\
                 \x20 then (in WS/liba) git submodule update --quiet --init --checkout --depth=1 --recommend-shallow -- <PATH>  (each submodule of liba not initialised)\n\
                 libb: (in WS/libb) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --force --detach <libb's pin in app/sync_deps.py> --\n\
                 \x20 then (in WS/libb) git update-ref -m 'openxla-workspace: checked out' refs/openxla-workspace/pin <libb's pin in app/sync_deps.py>\n\
                 base: (in WS/base) git -c advice.detachedHead=false checkout --no-recurse-submodules --quiet --force --detach <base's pin in liba/sync_deps.py> --\n\
                 \x20 then (in WS/base) git update-ref -m 'openxla-workspace: checked out' refs/openxla-workspace/pin <base's pin in liba/sync_deps.py>\n"
            ),
            "roll all (app): 2 to update in TIME\n".to_string()
        )
    );
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn roll_sync_moves_the_deps_to_the_new_pins() {
    let fx = Fixture::synced();
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    let new_liba = push_commit(&fx, "liba", "main");
    // One git process at a time: the progress lines come in one order.
    let out = fx.run(&fx.ws.join("app"), &["-j", "1", "roll", "nightly", "--sync"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(0),
            format!(
                "liba: {liba2} -> {new} (head of main on file://ORG/ro/liba.git)\nUpdated pinned revision.\n\
                 libb: {libb2} -> {libb3} (head of main on file://ORG/ro/libb.git)\nUpdated pinned revision.\n\
                 liba: {new} (pinned by app), was {liba2}\n\
                 libb: {libb3} (pinned by app), was {libb2}\n\
                 base: {} (pinned by liba), already there\n",
                short(fx.id("BASE_2")),
                liba2 = short(fx.id("LIBA_2")),
                libb2 = short(fx.id("LIBB_2")),
                libb3 = short(fx.id("LIBB_3")),
                new = short(&new_liba),
            ),
            format!(
                "wrote WS/app/sync_deps.py\n\
                 roll nightly (app): 2 updated in TIME\n\
                 liba: fetching {new}\n\
                 warning: base: using {} (pinned by liba); libb pins {}\n\
                 liba: checking out {new}\n\
                 libb: checking out {}\n\
                 sync app: 2 moved, 1 already at pin in TIME\n",
                short(fx.id("BASE_2")),
                short(fx.id("BASE_3")),
                short(fx.id("LIBB_3")),
                new = short(&new_liba),
            )
        )
    );
    assert_eq!(fx.head("liba"), new_liba, "fetched and checked out");
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
}

#[test]
fn roll_of_an_unknown_schedule_lists_the_available_ones() {
    let fx = with_app();
    let out = fx.run(&fx.ws.join("app"), &["roll", "weekly"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "error: app has no schedule 'weekly'; available: nightly\n".to_string()
        )
    );
}

/// `list --json` shows each schedule's actions as the registry gives them,
/// keys in the registry's order.
#[test]
fn list_json_shows_each_schedules_actions_in_order() {
    let fx = Fixture::new();
    let registry = registry_with(
        &fx,
        "[[repos.app.schedules.weekly]]\ngit_head = \"libb\"\n\n\
         [[repos.app.schedules.weekly]]\npy_package = \"jaxlib\"\npip_flags = [\"--pre\", \"--no-index\"]\n\
         update_requirements = [\"requirements.txt\", \"dev/r.txt\"]\n",
    );
    let out = fx.ok(&["--registry", registry.to_str().unwrap(), "list", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let app = doc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "app")
        .unwrap();
    assert_eq!(
        app["schedules"]["weekly"].to_string(),
        r#"[{"git_head":"libb"},{"py_package":"jaxlib","pip_flags":["--pre","--no-index"],"update_requirements":["requirements.txt","dev/r.txt"]}]"#
    );
}

#[test]
fn roll_in_a_project_without_schedules_says_so() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "libb"]);
    let out = fx.run(&fx.ws.join("libb"), &["roll", "nightly"]);
    assert_eq!(
        outcome(&fx, &out),
        (
            Some(1),
            String::new(),
            "error: libb has no roll schedules in the registry (registry file ORG/registry.toml); define one as \
             [[repos.libb.schedules.NAME]] entries (`openxla-workspace roll --help` shows how)\n"
                .to_string()
        )
    );
}

/// SIGTERM during a roll ends the pip it runs too: pip is a child of the
/// run like its git processes, not left running after it.
#[test]
fn sigterm_during_a_roll_ends_pip() {
    let fx = with_app();
    let registry = registry_with(
        &fx,
        &py_action("nightly_py", "jaxlib", &wheels(&fx), false, &["requirements.txt"]),
    );
    std::fs::write(fx.ws.join("app/requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let pid_file = fx.tmp.path().join("pip.pid");
    let python = fake_python(
        &fx,
        "slow-python",
        &format!(
            "echo $$ > {}.tmp && mv {0}.tmp {0}; exec sleep 60",
            pid_file.display()
        ),
    );
    let mut child = fx
        .cmd(&fx.ws.join("app"))
        .arg("--registry")
        .arg(&registry)
        .args(["roll", "nightly_py"])
        .env("OPENXLA_WORKSPACE_PYTHON", &python)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let pid: u32 = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file) {
            break text.trim().parse().unwrap();
        }
        assert!(started.elapsed().as_secs() < 20, "pip did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // SAFETY: sends SIGTERM to the tool this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{status:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pip ({pid}) was left running"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
