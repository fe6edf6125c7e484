//! The generated `sync_deps.py` run by Python against the fixture
//! organisation, as CI runs it: shallow by default, never losing work (a
//! detached commit of the user's, files in the way, a branch in a
//! submodule), refusing unsafe URLs and escaping what repositories say.
//!
//! The file is assembled from the tool's header and runnable part exactly as
//! `pin` writes it. `SYNC_DEPS_PYTHON=/path/to/python3.8` runs these tests
//! under another interpreter than `python3` (the file promises 3.8+).

use crate::common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{hermetic, short, stderr, stdout, text, Fixture};

const HEADER: &str = include_str!("../../src/model/pinfile/header.py");
const RUNNABLE_PART: &str = include_str!("../../src/sync_deps_template.py");

fn python() -> OsString {
    std::env::var_os("SYNC_DEPS_PYTHON").unwrap_or_else(|| "python3".into())
}

/// A dict literal in the layout `pin` writes.
fn dict(entries: &[(String, String)]) -> String {
    if entries.is_empty() {
        return "{}".to_string();
    }
    let body: Vec<String> = entries.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
    format!("{{\n{}\n}}", body.join(",\n"))
}

/// A whole pin file as `pin` renders it, with `origins` written as given.
fn pin_file_with_origins(pins: &[(&str, &str)], origins: &[(&str, &str)], submodules: &[&str]) -> String {
    let quoted = |v: &str| format!("\"{v}\"");
    format!(
        "{HEADER}PINNED_VERSIONS = {}\n\nORIGINS = {}\n\nSUBMODULES = {}\n\n\n{RUNNABLE_PART}",
        dict(
            &pins
                .iter()
                .map(|(k, v)| (k.to_string(), quoted(v)))
                .collect::<Vec<_>>()
        ),
        dict(
            &origins
                .iter()
                .map(|(k, v)| (k.to_string(), quoted(v)))
                .collect::<Vec<_>>()
        ),
        dict(
            &submodules
                .iter()
                .map(|k| (k.to_string(), "1".to_string()))
                .collect::<Vec<_>>()
        ),
    )
}

/// A CI-like folder `ROOT/NAME` holding only `app/`, where the pin file goes;
/// the deps are synced beside it.
struct Ci<'a> {
    fx: &'a Fixture,
    root: PathBuf,
}

impl<'a> Ci<'a> {
    fn new(fx: &'a Fixture, name: &str) -> Ci<'a> {
        let root = fx.ws.parent().unwrap().join(name);
        std::fs::create_dir_all(root.join("app")).unwrap();
        Ci { fx, root }
    }

    fn app(&self) -> PathBuf {
        self.root.join("app")
    }

    fn dep(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes app's pin file: each dep at the fixture commit named by its key
    /// (`("liba", "LIBA_2")`), cloned from the organisation; liba with its
    /// submodules.
    fn pin(&self, pins: &[(&str, &str)]) {
        let ids: Vec<(&str, &str)> = pins.iter().map(|(n, k)| (*n, self.fx.id(k))).collect();
        self.pin_ids(&ids);
    }

    /// Like [`Ci::pin`] with commit ids.
    fn pin_ids(&self, pins: &[(&str, &str)]) {
        let urls: Vec<(String, String)> = pins
            .iter()
            .map(|(n, _)| {
                (
                    n.to_string(),
                    format!("file://{}/ro/{n}.git", self.fx.org.display()),
                )
            })
            .collect();
        let origins: Vec<(&str, &str)> = urls.iter().map(|(n, u)| (n.as_str(), u.as_str())).collect();
        let submodules: Vec<&str> = pins.iter().map(|(n, _)| *n).filter(|n| *n == "liba").collect();
        let file = pin_file_with_origins(pins, &origins, &submodules);
        std::fs::write(self.app().join("sync_deps.py"), file).unwrap();
    }

    /// `python3 sync_deps.py ARGS` in app, hermetic.
    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &Path)]) -> Output {
        let mut cmd = hermetic(Command::new(python()), &self.fx.home);
        cmd.current_dir(self.app())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg("sync_deps.py")
            .args(args);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("python3 runs the generated sync_deps.py")
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(out.status.success(), "sync_deps.py {args:?}:\n{}", text(&out));
        out
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.fx.git(dir, args)
    }

    fn head(&self, dir: &Path) -> String {
        self.git(dir, &["rev-parse", "HEAD"])
    }

    /// The commits at the edge of `dir`'s shallow history, sorted.
    fn shallow(&self, dir: &Path) -> Vec<String> {
        let path = self.git(dir, &["rev-parse", "--git-path", "shallow"]);
        let text = std::fs::read_to_string(dir.join(path)).unwrap_or_default();
        let mut ids: Vec<String> = text.lines().map(str::to_string).collect();
        ids.sort();
        ids
    }

    /// How many commits HEAD's history holds.
    fn depth(&self, dir: &Path) -> usize {
        self.git(dir, &["rev-list", "--count", "HEAD"]).parse().unwrap()
    }
}

/// Writes a repository's `info/exclude` (clones made without a template
/// have no `info/` folder).
fn write_exclude(path: &Path, patterns: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, patterns).unwrap();
}

/// stdout's lines, sorted: deps are synced in parallel.
fn sorted_lines(s: &str) -> Vec<String> {
    let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Pushes a commit on liba's main in the organisation made by `edit` in a
/// clone of it; returns its id.
fn push_liba(fx: &Fixture, message: &str, edit: impl FnOnce(&Path)) -> String {
    let work = fx
        .ws
        .parent()
        .unwrap()
        .join(format!("upstream-{}", message.replace(' ', "-")));
    fx.git(
        fx.ws.parent().unwrap(),
        &[
            "clone",
            "-q",
            fx.remote("liba").to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    edit(&work);
    fx.git(&work, &["commit", "-q", "-am", message]);
    fx.git(&work, &["push", "-q", "origin", "HEAD:main"]);
    let id = fx.git(&work, &["rev-parse", "HEAD"]);
    std::fs::remove_dir_all(&work).unwrap();
    id
}

/// Records `commit` for submodule `path` in the clone at `work`.
fn set_gitlink(fx: &Fixture, work: &Path, path: &str, commit: &str) {
    fx.git(
        work,
        &["update-index", "--cacheinfo", &format!("160000,{commit},{path}")],
    );
}

// ---- Depth -----------------------------------------------------------------

#[test]
fn by_default_deps_and_submodules_are_fetched_one_commit_deep() {
    let fx = Fixture::new();
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
    let out = ci.ok(&[]);
    assert_eq!(
        sorted_lines(&stdout(&out)),
        [
            format!("liba: at {}", short(fx.id("LIBA_2"))),
            format!("libb: at {}", short(fx.id("LIBB_2"))),
        ],
        "{}",
        text(&out)
    );
    assert_eq!(stderr(&out), "");
    for (name, key) in [("liba", "LIBA_2"), ("libb", "LIBB_2")] {
        let dir = ci.dep(name);
        assert_eq!(ci.head(&dir), fx.id(key));
        assert_eq!(ci.shallow(&dir), [fx.id(key)], "{name}");
        assert_eq!(ci.depth(&dir), 1, "{name}");
    }
    for (path, key) in [("third_party/subx", "SUBX_2"), ("third_party/suby", "SUBY_3")] {
        let dir = ci.dep("liba").join(path);
        assert_eq!(ci.head(&dir), fx.id(key));
        assert!(ci.shallow(&dir).contains(&fx.id(key).to_string()), "{path}");
        assert_eq!(ci.depth(&dir), 1, "{path}");
    }
}

#[test]
fn depth_zero_is_full_history_and_completes_what_was_fetched_shallow() {
    let fx = Fixture::new();
    let full = |ci: &Ci| {
        // LIBA_2 and LIBB_2 have one parent each; subx is at its 2nd commit,
        // suby at its 3rd.
        for (dir, depth) in [
            (ci.dep("liba"), 2),
            (ci.dep("libb"), 2),
            (ci.dep("liba").join("third_party/subx"), 2),
            (ci.dep("liba").join("third_party/suby"), 3),
        ] {
            assert_eq!(ci.depth(&dir), depth, "{}", dir.display());
            assert!(ci.shallow(&dir).is_empty(), "{}", dir.display());
        }
    };
    let fresh = Ci::new(&fx, "fresh");
    fresh.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
    fresh.ok(&["--depth", "0", "--submodules-depth", "0"]);
    full(&fresh);

    let deepened = Ci::new(&fx, "deepened");
    deepened.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
    deepened.ok(&[]);
    assert_eq!(deepened.depth(&deepened.dep("liba")), 1);
    deepened.ok(&["--depth", "0", "--submodules-depth", "0"]);
    full(&deepened);

    // A dep with full history keeps it when a later run uses the default.
    deepened.pin(&[("liba", "LIBA_3"), ("libb", "LIBB_2")]);
    deepened.ok(&[]);
    assert_eq!(deepened.depth(&deepened.dep("liba")), 3);
    assert!(deepened.shallow(&deepened.dep("liba")).is_empty());
}

// ---- Never losing work -------------------------------------------------------

#[test]
fn a_second_run_after_the_pins_move_needs_no_force() {
    let fx = Fixture::new();
    // app is not a git checkout here: no earlier version of the pin file
    // vouches for the commits this file checked out; the file itself does.
    let full = ["--depth", "0", "--submodules-depth", "0"];
    for (name, args, depth) in [("default", &[][..], 1), ("full", &full[..], 2)] {
        let ci = Ci::new(&fx, name);
        ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
        ci.ok(args);
        ci.pin(&[("liba", "LIBA_3"), ("libb", "LIBB_3")]);
        let out = ci.ok(args);
        assert_eq!(
            sorted_lines(&stdout(&out)),
            [
                format!("liba: at {}", short(fx.id("LIBA_3"))),
                format!("libb: at {}", short(fx.id("LIBB_3"))),
            ],
            "{name}: {}",
            text(&out)
        );
        assert_eq!(ci.head(&ci.dep("liba")), fx.id("LIBA_3"), "{name}");
        assert_eq!(ci.head(&ci.dep("libb")), fx.id("LIBB_3"), "{name}");
        // And back, to where the first run fetched its history from.
        ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
        ci.ok(args);
        assert_eq!(ci.head(&ci.dep("liba")), fx.id("LIBA_2"), "{name}");
        assert_eq!(ci.head(&ci.dep("libb")), fx.id("LIBB_2"), "{name}");
        assert_eq!(ci.depth(&ci.dep("libb")), depth, "{name}");
        let status = ci.git(&ci.dep("liba"), &["status", "--porcelain"]);
        assert_eq!(status, "", "{name}");
    }
}

#[test]
fn a_checkout_left_by_another_tool_moves_when_fetched_shallow_or_pinned_before() {
    // As openxla-workspace or an older sync_deps.py leaves a dep: detached
    // at a commit fetched alone by id, no ref holding it.
    let fx = Fixture::new();
    let left_by_another_tool = |ci: &Ci, args: &[&str]| {
        ci.pin(&[("libb", "LIBB_1")]);
        ci.ok(args);
        let libb = ci.dep("libb");
        ci.git(&libb, &["update-ref", "-d", "refs/openxla-workspace/pinned"]);
        ci.pin(&[("libb", "LIBB_2")]);
        libb
    };
    // Fetched shallow: git got it from a server.
    let shallow = Ci::new(&fx, "shallow");
    let libb = left_by_another_tool(&shallow, &[]);
    shallow.ok(&[]);
    assert_eq!(shallow.head(&libb), fx.id("LIBB_2"));

    // Full depth, and nothing vouches for LIBB_1: it stays.
    let ci = Ci::new(&fx, "ci");
    let libb = left_by_another_tool(&ci, &["--depth", "0"]);
    let out = ci.run(&["--depth", "0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(ci.head(&libb), fx.id("LIBB_1"));

    // app's history pinned LIBB_1 (in a commit since replaced): it moves.
    let app = ci.app();
    ci.pin(&[("libb", "LIBB_1")]);
    ci.git(&app, &["init", "-q"]);
    ci.git(&app, &["add", "sync_deps.py"]);
    ci.git(&app, &["commit", "-q", "-m", "pin libb at 1"]);
    ci.pin(&[("libb", "LIBB_2")]);
    ci.git(&app, &["commit", "-q", "-am", "pin libb at 2"]);
    ci.ok(&["--depth", "0"]);
    assert_eq!(ci.head(&libb), fx.id("LIBB_2"));
}

#[test]
fn a_detached_local_commit_is_kept_and_the_other_deps_still_sync() {
    let fx = Fixture::new();
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
    ci.ok(&[]);
    let liba = ci.dep("liba");
    std::fs::write(liba.join("liba.txt"), "my change\n").unwrap();
    ci.git(&liba, &["commit", "-q", "-am", "my work"]);
    let mine = ci.head(&liba);

    ci.pin(&[("liba", "LIBA_3"), ("libb", "LIBB_3")]);
    let out = ci.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stdout(&out), format!("libb: at {}\n", short(fx.id("LIBB_3"))));
    let shown = liba.display();
    assert_eq!(
        stderr(&out),
        format!(
            "liba: failed: HEAD is at {s}, a detached commit that no ref contains and that this project \
             never pinned; checking out {pin} could lose it, so {shown} was left as it is. Keep the commit \
             with `git -C {shown} branch keep-{s} {mine}` and run again, or run with --force to move it \
             anyway\nsync_deps.py: 1 of 2 dependencies failed: liba\n",
            s = short(&mine),
            pin = short(fx.id("LIBA_3")),
        )
    );
    assert_eq!(ci.head(&liba), mine);
    assert_eq!(ci.head(&ci.dep("libb")), fx.id("LIBB_3"));

    // The suggested branch keeps it; then the dep moves without --force.
    ci.git(&liba, &["branch", &format!("keep-{}", short(&mine)), &mine]);
    ci.ok(&[]);
    assert_eq!(ci.head(&liba), fx.id("LIBA_3"));

    // --force moves an unkept one.
    ci.git(&liba, &["commit", "-q", "--allow-empty", "-m", "more work"]);
    assert_eq!(ci.run(&[]).status.code(), Some(1));
    ci.ok(&["--force"]);
    assert_eq!(ci.head(&liba), fx.id("LIBA_3"));
}

#[test]
fn uncommitted_and_ignored_files_in_the_way_are_reported_and_the_others_go_on() {
    let fx = Fixture::new();
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_1"), ("base", "BASE_1")]);
    ci.ok(&[]);
    // LIBA_3 changes liba.txt; LIBB_2 adds sync_deps.py.
    let (liba, libb) = (ci.dep("liba"), ci.dep("libb"));
    std::fs::write(liba.join("liba.txt"), "uncommitted\n").unwrap();
    std::fs::write(libb.join("sync_deps.py"), "# my ignored notes\n").unwrap();
    write_exclude(&libb.join(".git/info/exclude"), "sync_deps.py\n");

    ci.pin(&[("liba", "LIBA_3"), ("libb", "LIBB_2"), ("base", "BASE_2")]);
    let out = ci.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stdout(&out), format!("base: at {}\n", short(fx.id("BASE_2"))));
    let err = stderr(&out);
    for (name, dir, pin) in [("liba", &liba, "LIBA_3"), ("libb", &libb, "LIBB_2")] {
        let first = format!(
            "{name}: failed: files in {} that are not committed (changes, untracked or ignored files) are \
             in the way of {}; git changed nothing there. Commit, stash or move them away, then run again",
            dir.display(),
            short(fx.id(pin))
        );
        let details: Vec<&str> = err
            .lines()
            .skip_while(|l| *l != first)
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect();
        assert!(
            details
                .first()
                .is_some_and(|l| l.starts_with("  command: git -c advice.detachedHead=false checkout")),
            "{name}: {err}"
        );
        assert!(
            details.iter().any(|l| l.contains("would be overwritten")),
            "{err}"
        );
    }
    assert!(
        err.ends_with("sync_deps.py: 2 of 3 dependencies failed: liba, libb\n"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(liba.join("liba.txt")).unwrap(),
        "uncommitted\n"
    );
    assert_eq!(
        std::fs::read_to_string(libb.join("sync_deps.py")).unwrap(),
        "# my ignored notes\n"
    );
    assert_eq!(ci.head(&liba), fx.id("LIBA_2"));
    assert_eq!(ci.head(&libb), fx.id("LIBB_1"));
    assert_eq!(ci.head(&ci.dep("base")), fx.id("BASE_2"));
}

// ---- Submodules --------------------------------------------------------------

#[test]
fn a_submodule_bump_checks_out_the_recorded_commit_even_when_gitmodules_says_rebase() {
    let fx = Fixture::new();
    let bump = push_liba(&fx, "bump subx and ask for rebase", |work| {
        for name in ["third_party/subx", "third_party/suby"] {
            let key = format!("submodule.{name}.update");
            fx.git(work, &["config", "-f", ".gitmodules", &key, "rebase"]);
        }
        set_gitlink(&fx, work, "third_party/subx", fx.id("SUBX_3"));
    });
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("liba", "LIBA_2")]);
    ci.ok(&[]);
    // Work on a branch in the submodule.
    let subx = ci.dep("liba").join("third_party/subx");
    ci.git(&subx, &["checkout", "-q", "-b", "work"]);
    std::fs::write(subx.join("mine.txt"), "mine\n").unwrap();
    ci.git(&subx, &["add", "mine.txt"]);
    ci.git(&subx, &["commit", "-q", "-m", "my work"]);
    let mine = ci.head(&subx);

    ci.pin_ids(&[("liba", &bump)]);
    let out = ci.ok(&[]);
    assert_eq!(stdout(&out), format!("liba: at {}\n", short(&bump)));
    assert_eq!(ci.head(&subx), fx.id("SUBX_3"));
    assert_eq!(
        ci.git(&subx, &["rev-parse", "-q", "--verify", "refs/heads/work"]),
        mine
    );
    assert_eq!(
        ci.git(&subx, &["rev-parse", "work^"]),
        fx.id("SUBX_2"),
        "work was rebased"
    );
    assert!(!subx.join("mine.txt").exists());
    let status = ci.git(&ci.dep("liba"), &["submodule", "status"]);
    assert!(
        !status.lines().any(|l| l.starts_with(['-', '+', 'U'])),
        "{status}"
    );

    // And back to the pin before the bump, all without --force.
    ci.pin(&[("liba", "LIBA_2")]);
    ci.ok(&[]);
    assert_eq!(ci.head(&subx), fx.id("SUBX_2"));
}

#[test]
fn a_submodule_at_a_commit_no_branch_holds_moves_when_its_superproject_recorded_it() {
    // subx's remote holds a commit outside its branches; liba records it,
    // then moves subx on. A full-depth submodule clone fetches it by id,
    // so no ref of the submodule holds it and it is not a shallow edge.
    let fx = Fixture::new();
    let subx_remote = fx.remote("subx");
    let tree = fx.git(&subx_remote, &["rev-parse", "main^{tree}"]);
    let parent = fx.id("SUBX_3");
    let loose = fx.git(
        &subx_remote,
        &["commit-tree", &tree, "-p", parent, "-m", "not on a branch"],
    );
    fx.git(&subx_remote, &["update-ref", "refs/changes/1", &loose]);
    let first = push_liba(&fx, "record a commit no branch holds", |work| {
        set_gitlink(&fx, work, "third_party/subx", &loose);
    });
    let second = push_liba(&fx, "move subx on", |work| {
        set_gitlink(&fx, work, "third_party/subx", fx.id("SUBX_3"));
    });
    let ci = Ci::new(&fx, "ci");
    ci.pin_ids(&[("liba", &first)]);
    ci.ok(&["--submodules-depth", "0"]);
    let subx = ci.dep("liba").join("third_party/subx");
    assert_eq!(ci.head(&subx), loose);
    ci.pin_ids(&[("liba", &second)]);
    ci.ok(&["--submodules-depth", "0"]);
    assert_eq!(ci.head(&subx), fx.id("SUBX_3"));
}

#[test]
fn a_submodule_keeps_its_ignored_files_and_detached_commits() {
    let fx = Fixture::new();
    let bump = push_liba(&fx, "bump both submodules", |work| {
        set_gitlink(&fx, work, "third_party/subx", fx.id("SUBX_3"));
        set_gitlink(&fx, work, "third_party/suby", fx.id("SUBY_2"));
    });
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
    ci.ok(&[]);
    let liba = ci.dep("liba");
    // SUBX_3 adds src/extra.txt: an ignored file of that name is in the way.
    let subx = liba.join("third_party/subx");
    std::fs::write(subx.join("src/extra.txt"), "ignored, mine\n").unwrap();
    let exclude = ci.git(&subx, &["rev-parse", "--git-path", "info/exclude"]);
    write_exclude(&subx.join(exclude), "src/extra.txt\n");
    // A commit of the user's on suby's detached HEAD.
    let suby = liba.join("third_party/suby");
    ci.git(&suby, &["commit", "-q", "--allow-empty", "-m", "my work"]);
    let mine = ci.head(&suby);

    ci.pin_ids(&[("liba", &bump), ("libb", fx.id("LIBB_3"))]);
    let out = ci.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stdout(&out), format!("libb: at {}\n", short(fx.id("LIBB_3"))));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "liba: failed: checked out {}, but these submodules are not at their recorded commits:",
            short(&bump)
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "  third_party/subx: files in {} that are not committed (changes, untracked or ignored files) \
             are in the way of {}; git changed nothing there. Commit, stash or move them away, then run \
             again",
            subx.display(),
            short(fx.id("SUBX_3"))
        )
    );
    let suby_line = format!(
        "  third_party/suby: HEAD is at {s}, a detached commit that no ref contains and that liba never \
         recorded there; checking out {pin} could lose it, so {shown} was left as it is. Keep the commit \
         with `git -C {shown} branch keep-{s} {mine}` and run again, or run with --force to move it anyway",
        s = short(&mine),
        pin = short(fx.id("SUBY_2")),
        shown = suby.display(),
    );
    assert!(lines.contains(&suby_line.as_str()), "{err}");
    assert_eq!(
        lines.last().unwrap(),
        &"sync_deps.py: 1 of 2 dependencies failed: liba"
    );
    assert_eq!(ci.head(&liba), bump);
    assert_eq!(
        std::fs::read_to_string(subx.join("src/extra.txt")).unwrap(),
        "ignored, mine\n"
    );
    assert_eq!(ci.head(&subx), fx.id("SUBX_2"));
    assert_eq!(ci.head(&suby), mine);
}

// ---- Options -----------------------------------------------------------------

#[test]
fn each_exclude_flag_takes_several_values() {
    let fx = Fixture::new();
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2"), ("base", "BASE_2")]);
    let out = ci.ok(&[
        "--exclude-dep",
        "^libb$",
        "^base$",
        "--exclude-submodule",
        "liba:third_party/subx",
        "^liba:.*suby$",
    ]);
    assert_eq!(
        stdout(&out),
        format!(
            "libb: excluded by --exclude-dep\nbase: excluded by --exclude-dep\nliba: at {}\n\
             liba: submodule third_party/subx excluded by --exclude-submodule\n\
             liba: submodule third_party/suby excluded by --exclude-submodule\n",
            short(fx.id("LIBA_2"))
        ),
        "{}",
        text(&out)
    );
    assert!(!ci.dep("libb").exists() && !ci.dep("base").exists());
    let status = ci.git(&ci.dep("liba"), &["submodule", "status"]);
    assert_eq!(
        status.lines().filter(|l| l.starts_with('-')).count(),
        2,
        "{status}"
    );
}

// ---- Untrusted input -----------------------------------------------------------

#[test]
fn remote_helpers_and_invisible_characters_in_urls_are_refused_before_git_runs() {
    let fx = Fixture::new();
    let ci = Ci::new(&fx, "ci");
    let id = fx.id("LIBB_2");
    let urls = [
        ("helper", "TRANSPORT::https://example.org/x.git"),
        ("helper2", "foo+bar::file:///tmp/x.git"),
        ("bidi", "https://example.org/\u{202e}tig.x"),
        ("isolate", "https://example.org/x\u{2066}.git"),
        ("zwsp", "https://exam\u{200b}ple.org/x.git"),
        ("bom", "https://example.org/x.git\u{feff}"),
    ];
    let pins: Vec<(&str, &str)> = urls.iter().map(|(n, _)| (*n, id)).collect();
    let file = pin_file_with_origins(&pins, &urls, &[]);
    std::fs::write(ci.app().join("sync_deps.py"), file).unwrap();
    let out = ci.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stdout(&out), "");
    let helper = |name: &str, url: &str| {
        format!(
            "sync_deps.py: {name}: origin '{url}' names a remote helper (TRANSPORT::ADDRESS), a program git \
             would run; use an https, ssh or file URL\n"
        )
    };
    let invisible = |name: &str, url: &str| {
        format!(
            "sync_deps.py: {name}: origin '{url}' contains invisible characters (bidi controls, zero-width \
             or other invisible characters) that can make it read as another URL\n"
        )
    };
    let expected = [
        helper("helper", "TRANSPORT::https://example.org/x.git"),
        helper("helper2", "foo+bar::file:///tmp/x.git"),
        invisible("bidi", "https://example.org/\\u202etig.x"),
        invisible("isolate", "https://example.org/x\\u2066.git"),
        invisible("zwsp", "https://exam\\u200bple.org/x.git"),
        invisible("bom", "https://example.org/x.git\\ufeff"),
        "sync_deps.py: nothing was changed; regenerate this file with `openxla-workspace pin`\n".to_string(),
    ]
    .concat();
    assert_eq!(stderr(&out), expected);
    let left: Vec<_> = std::fs::read_dir(&ci.root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["app"]);
}

#[test]
fn control_characters_from_a_repository_are_escaped_in_the_output() {
    let fx = Fixture::new();
    // A submodule URL (from liba's .gitmodules) that git repeats in its
    // error, holding sequences that would set the terminal's title and
    // clear the screen.
    let evil = push_liba(&fx, "evil submodule url", |work| {
        fx.git(
            work,
            &[
                "config",
                "-f",
                ".gitmodules",
                "submodule.third_party/suby.url",
                "../no\x1b]0;pwned\x07such\x1b[2J.git",
            ],
        );
    });
    let ci = Ci::new(&fx, "ci");
    ci.pin_ids(&[("liba", &evil)]);
    let out = ci.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        !err.contains(['\x1b', '\x07']) && !stdout(&out).contains(['\x1b', '\x07']),
        "{err:?}"
    );
    assert!(err.contains("no\\x1b]0;pwned\\x07such\\x1b[2J.git"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "liba: failed: checked out {}, but these submodules are not at their recorded commits:",
            short(&evil)
        )
    );
    // Refused before git runs (subx is cloned all the same).
    assert_eq!(
        lines[1],
        "  submodule third_party/suby: origin '../no\\x1b]0;pwned\\x07such\\x1b[2J.git' contains white space or \
         control characters",
        "{err}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"sync_deps.py: 1 of 1 dependencies failed: liba"
    );
}

#[test]
fn git_variables_inherited_from_a_hook_do_not_point_git_at_the_project() {
    let fx = Fixture::new();
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("libb", "LIBB_2")]);
    let app = ci.app();
    ci.git(&app, &["init", "-q", "-b", "main"]);
    ci.git(&app, &["add", "sync_deps.py"]);
    ci.git(&app, &["commit", "-q", "-m", "pins"]);
    let before = ci.head(&app);
    // What a post-checkout hook of app would pass on.
    let git_dir = app.join(".git");
    let index = git_dir.join("index");
    let out = ci.run_env(
        &[],
        &[
            ("GIT_DIR", &git_dir),
            ("GIT_WORK_TREE", &app),
            ("GIT_INDEX_FILE", &index),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ci.head(&ci.dep("libb")), fx.id("LIBB_2"));
    assert_eq!(ci.head(&app), before);
    assert_eq!(ci.git(&app, &["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(ci.git(&app, &["remote"]), "");
    assert_eq!(ci.git(&app, &["status", "--porcelain"]), "");
}

#[test]
fn a_temporary_folder_left_by_a_killed_run_is_removed_by_the_next_one() {
    let fx = Fixture::new();
    let ci = Ci::new(&fx, "ci");
    ci.pin(&[("liba", "LIBA_2"), ("libb", "LIBB_2")]);
    // A run killed while cloning libb left its folder; a run still going
    // (this test's own pid stands for it) keeps its own.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let left = ci.root.join(format!(".libb.sync-deps-{dead}"));
    let running = ci.root.join(format!(".libb.sync-deps-{}", std::process::id()));
    for dir in [&left, &running] {
        std::fs::create_dir_all(dir.join(".git")).unwrap();
    }
    ci.ok(&[]);
    assert!(!left.exists(), "the dead run's folder is still there");
    assert!(running.exists(), "a running run's folder was removed");
    assert_eq!(ci.head(&ci.dep("libb")), fx.id("LIBB_2"));
}
