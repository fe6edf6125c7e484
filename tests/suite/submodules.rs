//! Daily use with submodules (issue 11): a superproject that bumps its
//! submodules syncs without `--force`, work inside submodules is as safe as
//! at the top, and `.gitmodules` from someone else's repository cannot make
//! the tool rebase or merge anyone's branch.
//!
//! liba's branch `daily` (scripts/fixture-org.sh) moves its submodules
//! forward and back, adds subz and removes suby; app's pins are moved from
//! day to day as a developer pulling app would get them.

use crate::common;
use crate::trust_support;

use std::path::Path;

use common::{short, stderr, text, Fixture};
use trust_support::{commit_files, fails, raw_git, work_state};

/// Commits, in app, a pin file pinning liba and libb at the given commits
/// (what pulling app brings a developer each day).
fn pin_app(fx: &Fixture, liba: &str, libb: &str) {
    trust_support::pin_app(fx, &fx.ws.join("app"), liba, libb);
}

/// The paths liba records submodules at, in its HEAD.
fn recorded_submodules(fx: &Fixture) -> Vec<(String, String)> {
    let out = fx.git(&fx.ws.join("liba"), &["ls-tree", "-r", "HEAD"]);
    out.lines()
        .filter(|l| l.starts_with("160000 "))
        .map(|l| {
            let (meta, path) = l.split_once('\t').unwrap();
            (path.to_string(), meta.split(' ').nth(2).unwrap().to_string())
        })
        .collect()
}

/// Every project at its expected commit and every submodule of liba at the
/// commit liba records, with all their files and nothing else: `git status`
/// is empty everywhere, and no folder of a removed submodule is left.
fn assert_all_at(fx: &Fixture, expected: &[(&str, &str)], day: usize) {
    for (name, commit) in expected {
        assert_eq!(fx.head(name), *commit, "day {day}: {name}");
    }
    let liba = fx.ws.join("liba");
    let recorded = recorded_submodules(fx);
    for (path, commit) in &recorded {
        let dir = liba.join(path);
        assert_eq!(fx.git(&dir, &["rev-parse", "HEAD"]), *commit, "day {day}: {path}");
        assert!(
            raw_git(fx, &dir, &["ls-files", "--deleted"]).is_empty(),
            "day {day}: {path} misses files"
        );
        assert_eq!(
            raw_git(fx, &dir, &["status", "--porcelain"]),
            "",
            "day {day}: {path}"
        );
    }
    for name in ["app", "liba", "libb", "base"] {
        let dir = fx.ws.join(name);
        assert!(
            raw_git(fx, &dir, &["ls-files", "--deleted"]).is_empty(),
            "day {day}: {name} misses files"
        );
        assert_eq!(
            raw_git(fx, &dir, &["status", "--porcelain", "--ignore-submodules=none"]),
            "",
            "day {day}: {name} is not clean"
        );
    }
    // Only the recorded submodules have a folder under third_party.
    let mut present: Vec<String> = std::fs::read_dir(liba.join("third_party"))
        .unwrap()
        .map(|e| format!("third_party/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    present.sort();
    let mut wanted: Vec<String> = recorded.iter().map(|(p, _)| p.clone()).collect();
    wanted.sort();
    assert_eq!(present, wanted, "day {day}");
}

#[test]
fn ten_daily_syncs_through_moving_pins_need_no_force_and_end_at_every_recorded_commit() {
    let fx = Fixture::synced();
    let id = |k: &str| fx.id(k).to_string();
    // (liba, libb, base that wins: liba's pin, nearer in app's dep order)
    let days = [
        (id("LIBA_2"), id("LIBB_2"), id("BASE_2")),
        (id("LIBA_D1"), id("LIBB_2"), id("BASE_2")), // subx forward, suby back
        (id("LIBA_D2"), id("LIBB_3"), id("BASE_4")), // subx back, base moves
        (id("LIBA_D3"), id("LIBB_3"), id("BASE_4")), // subz added
        (id("LIBA_D4"), id("LIBB_1"), id("BASE_4")), // suby removed
        (id("LIBA_D5"), id("LIBB_2"), id("BASE_2")), // subz and subx forward
        (id("LIBA_D2"), id("LIBB_2"), id("BASE_4")), // suby back, subz gone
        (id("LIBA_3"), id("LIBB_3"), id("BASE_2")),
        (id("LIBA_D4"), id("LIBB_2"), id("BASE_4")),
        (id("LIBA_D5"), id("LIBB_3"), id("BASE_2")),
    ];
    for (day, (liba, libb, base)) in days.iter().enumerate() {
        let day = day + 1;
        if day > 1 {
            pin_app(&fx, liba, libb);
            let out = fx.run(&fx.ws.join("app"), &["sync"]);
            assert!(out.status.success(), "day {day}: {}", text(&out));
        }
        assert_all_at(&fx, &[("liba", liba), ("libb", libb), ("base", base)], day);
    }
    // A sync with nothing to do says so and changes nothing.
    let before = fx.snapshot();
    let out = fx.ok(&["sync", "--repo", "app"]);
    assert!(stderr(&out).contains("3 already at pin"), "{}", text(&out));
    common::assert_unchanged(&before, &fx.snapshot());
}

/// A server that refuses a fetch by id (protocol v0, for a commit that is
/// no branch tip): a shallow submodule moved back to such a commit is
/// fetched whole from its origin instead, and the sync ends at every
/// recorded commit.
#[test]
fn a_submodule_whose_origin_refuses_a_fetch_by_id_is_fetched_whole_instead() {
    let fx = Fixture::synced();
    // LIBA_D1 moves suby back to SUBY_1, which no branch has at its tip.
    pin_app(&fx, fx.id("LIBA_D1"), fx.id("LIBB_2"));
    let out = fx
        .cmd(&fx.ws.join("app"))
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_1", "protocol.version")
        .env("GIT_CONFIG_VALUE_1", "0")
        .arg("sync")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let expected = [
        ("liba", fx.id("LIBA_D1")),
        ("libb", fx.id("LIBB_2")),
        ("base", fx.id("BASE_2")),
    ];
    assert_all_at(&fx, &expected, 2);
    let suby = fx.ws.join("liba/third_party/suby");
    assert_eq!(fx.git(&suby, &["rev-parse", "--is-shallow-repository"]), "false");
}

/// A submodule taken out with `git submodule deinit` keeps its repository
/// in `.git/modules`, with the work committed there; the checkout that
/// brings the submodule back uses that repository, and nothing is lost.
#[test]
fn a_submodule_taken_out_and_brought_back_keeps_the_work_in_its_repository() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "liba"]);
    let liba = fx.ws.join("liba");
    let subx = liba.join("third_party/subx");
    let recorded = fx.git(&subx, &["rev-parse", "HEAD"]);
    fx.git(&subx, &["checkout", "-q", "-b", "mine"]);
    let mine = commit_files(&fx, &subx, &[("mine.txt", "mine\n")], "mine");
    fx.git(&liba, &["submodule", "deinit", "-q", "-f", "third_party/subx"]);
    let out = fx.ok(&["checkout", "liba"]);
    assert!(
        stderr(&out).contains("liba: missing submodules cloned"),
        "{}",
        text(&out)
    );
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), recorded);
    assert_eq!(fx.git(&subx, &["rev-parse", "mine"]), mine);
}

/// The folder of a submodule the superproject dropped is removed only
/// when it is that submodule's own (its `.git` points into liba's
/// `.git/modules`): a repository of the user's at the same path, with a
/// commit no remote has, is left alone.
#[test]
fn a_repository_of_the_users_where_a_dropped_submodule_was_is_left_alone() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    let suby = fx.ws.join("liba/third_party/suby");
    // LIBA_D4 drops suby: its folder goes, its repository stays.
    pin_app(&fx, fx.id("LIBA_D4"), fx.id("LIBB_2"));
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!suby.exists(), "{}", text(&out));
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            fx.remote("subx").to_str().unwrap(),
            suby.to_str().unwrap(),
        ],
    );
    let mine = commit_files(&fx, &suby, &[("mine.txt", "mine\n")], "mine");
    // LIBA_D5 has no suby either.
    pin_app(&fx, fx.id("LIBA_D5"), fx.id("LIBB_2"));
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), fx.id("LIBA_D5"));
    assert_eq!(fx.git(&suby, &["rev-parse", "HEAD"]), mine, "{}", text(&out));
}

/// A dep made by `sync --depth 1` from its pinned commit alone (no branch,
/// no remote-tracking ref) and a pin fetched by id off every branch into a
/// full clone are both commits the tool checked out: the next pin moves
/// them without `--force`.
#[test]
fn deps_at_pins_no_ref_contains_move_to_the_next_pins_without_force() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--no-deps", "app"]);
    let app = fx.ws.join("app");
    let out = fx.run(&app, &["sync", "--depth", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        raw_git(
            &fx,
            &fx.ws.join("libb"),
            &["for-each-ref", "refs/heads", "refs/remotes"]
        ),
        ""
    );

    // libb's next pin is on no branch: only under refs/pull/, which a
    // clone does not fetch.
    let work = fx.tmp.path().join("pr");
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            fx.remote("libb").to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    let pr = commit_files(
        &fx,
        &work,
        &[("pr.txt", "a pull request\n")],
        "libb: a pull request",
    );
    fx.git(&work, &["push", "-q", "origin", "HEAD:refs/pull/1/head"]);
    pin_app(&fx, fx.id("LIBA_D1"), &pr);
    let out = fx.run(&app, &["sync", "--depth", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), fx.id("LIBA_D1"));
    assert_eq!(fx.head("libb"), pr);

    // Unshallow libb: its HEAD is now neither at a shallow boundary nor on
    // any ref but the tool's own record of what it checked out.
    fx.git(
        &fx.ws.join("libb"),
        &["fetch", "-q", "--unshallow", "origin", "main"],
    );
    assert_eq!(
        raw_git(
            &fx,
            &fx.ws.join("libb"),
            &["for-each-ref", "--contains", &pr, "refs/heads", "refs/remotes"]
        ),
        ""
    );
    pin_app(&fx, fx.id("LIBA_D2"), fx.id("LIBB_3"));
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
    assert_eq!(fx.head("liba"), fx.id("LIBA_D2"));
}

/// In a submodule with its whole history, whose branches no longer hold
/// the commit it is at (here: none at all), that commit is still not at
/// risk when a commit of the superproject records it: the bump moves it.
#[test]
fn a_submodule_commit_the_superproject_recorded_is_not_at_risk_even_on_no_branch() {
    let fx = Fixture::synced();
    let subx = fx.ws.join("liba/third_party/subx");
    fx.git(&subx, &["fetch", "-q", "--unshallow", "origin"]);
    for name in fx.git(&subx, &["for-each-ref", "--format=%(refname)"]).lines() {
        fx.git(&subx, &["update-ref", "--no-deref", "-d", name]);
    }
    assert_eq!(raw_git(&fx, &subx, &["for-each-ref"]), "");
    assert!(!Path::new(&fx.git(&subx, &["rev-parse", "--absolute-git-dir"]))
        .join("shallow")
        .exists());
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_2"));

    pin_app(&fx, fx.id("LIBA_D1"), fx.id("LIBB_2"));
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_3"));
}

/// What the user made is still refused: a commit on a detached HEAD in a
/// dep, and one in a submodule, whatever the superproject records.
#[test]
fn real_local_work_in_a_dep_and_in_a_submodule_is_still_refused() {
    let fx = Fixture::synced();
    let subx = fx.ws.join("liba/third_party/subx");
    let mine_in_subx = commit_files(&fx, &subx, &[("mine.txt", "my work\n")], "my work in subx");
    let base = fx.ws.join("base");
    let mine_in_base = commit_files(&fx, &base, &[("mine.txt", "my work\n")], "my work in base");
    let subx_before = work_state(&fx, &subx);
    let base_before = work_state(&fx, &base);

    // LIBA_D2 moves subx (to SUBX_1) and suby (to SUBY_1), and pins base@4.
    pin_app(&fx, fx.id("LIBA_D2"), fx.id("LIBB_2"));
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    let err = fails(&out);
    assert!(
        err.contains(&format!(
            "error: base: HEAD is at {mine_in_base}, a detached commit that no branch contains"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "error: liba: submodule third_party/subx is at {mine_in_subx}, a commit that no branch contains and \
             that liba never recorded: moving it to {} would leave it unreachable, so it was left as it is. Keep \
             it with `git -C {} branch keep-{} {mine_in_subx}`",
            short(fx.id("SUBX_1")),
            subx.display(),
            short(&mine_in_subx)
        )),
        "{err}"
    );
    assert_eq!(work_state(&fx, &subx), subx_before);
    assert_eq!(work_state(&fx, &base), base_before);
    // The rest moved.
    assert_eq!(fx.head("liba"), fx.id("LIBA_D2"));
    assert_eq!(
        fx.git(&fx.ws.join("liba/third_party/suby"), &["rev-parse", "HEAD"]),
        fx.id("SUBY_1")
    );

    // Kept on a branch, the work no longer stands in the way.
    fx.git(&subx, &["branch", "keep", &mine_in_subx]);
    fx.git(&base, &["branch", "keep", &mine_in_base]);
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_1"));
    assert_eq!(fx.head("base"), fx.id("BASE_4"));
}

/// Pushes to liba's remote, on branch `name`, a commit on top of LIBA_2
/// that moves subx to SUBX_3 and gives `.gitmodules` the settings `extra`
/// (lines for subx's section); returns its id.
fn push_liba_with_gitmodules(fx: &Fixture, name: &str, extra: &str) -> String {
    let work = fx.tmp.path().join(format!("hostile-{name}"));
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            fx.remote("liba").to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    fx.git(&work, &["checkout", "-q", "--detach", fx.id("LIBA_2")]);
    let gitmodules = std::fs::read_to_string(work.join(".gitmodules")).unwrap();
    let hostile = gitmodules.replace(
        "[submodule \"third_party/subx\"]\n",
        &format!("[submodule \"third_party/subx\"]\n{extra}"),
    );
    assert_ne!(hostile, gitmodules);
    std::fs::write(work.join(".gitmodules"), hostile).unwrap();
    fx.git(&work, &["add", ".gitmodules"]);
    fx.git(
        &work,
        &[
            "update-index",
            "--cacheinfo",
            &format!("160000,{},third_party/subx", fx.id("SUBX_3")),
        ],
    );
    fx.git(&work, &["commit", "-q", "-m", &format!("liba: {name}")]);
    fx.git(
        &work,
        &["push", "-q", "origin", &format!("HEAD:refs/heads/{name}")],
    );
    fx.git(&work, &["rev-parse", "HEAD"])
}

/// Whether a rebase or merge is under way in the submodule's repository.
fn mid_rebase_or_merge(fx: &Fixture, submodule: &Path) -> bool {
    let git_dir = fx.git(submodule, &["rev-parse", "--absolute-git-dir"]);
    let git_dir = Path::new(&git_dir);
    ["rebase-merge", "rebase-apply", "MERGE_HEAD"]
        .iter()
        .any(|f| git_dir.join(f).exists())
}

#[test]
fn a_hostile_gitmodules_update_mode_never_rebases_or_merges_the_users_branch() {
    for (mode, extra) in [("rebase", "\tupdate = rebase\n"), ("merge", "\tupdate = merge\n")] {
        let fx = Fixture::new();
        fx.ok(&["checkout", "--sync", "app"]);
        // The user works in subx on a branch of their own, changing the
        // file that SUBX_3 changes too: a rebase would conflict.
        let subx = fx.ws.join("liba/third_party/subx");
        fx.git(&subx, &["checkout", "-q", "-b", "feature"]);
        let mine = commit_files(&fx, &subx, &[("src/subx.txt", "my version\n")], "my change");
        let before = work_state(&fx, &subx);

        let hostile = push_liba_with_gitmodules(&fx, &format!("hostile-{mode}"), extra);
        pin_app(&fx, &hostile, fx.id("LIBB_2"));
        let out = fx.run(&fx.ws.join("app"), &["sync"]);
        let err = fails(&out);
        assert!(
            err.contains(&format!(
                "error: liba: submodule third_party/subx is on branch feature, 1 commit ahead of {}, the commit \
                 liba records; it was left as it is.",
                short(fx.id("SUBX_3"))
            )),
            "{mode}: {err}"
        );
        assert!(!mid_rebase_or_merge(&fx, &subx), "{mode}: left mid-{mode}");
        assert_eq!(work_state(&fx, &subx), before, "{mode}: the branch was rewritten");
        assert_eq!(fx.git(&subx, &["rev-parse", "refs/heads/feature"]), mine);
        assert_eq!(fx.head("liba"), hostile);

        // A branch that is not ahead is left for the recorded commit, which
        // is checked out detached: the branch keeps its commits.
        fx.git(&subx, &["reset", "-q", "--hard", fx.id("SUBX_2")]);
        let out = fx.run(&fx.ws.join("app"), &["sync"]);
        assert!(out.status.success(), "{mode}: {}", text(&out));
        assert!(
            stderr(&out).contains(&format!(
                "liba: submodule third_party/subx left branch feature (at {})",
                short(fx.id("SUBX_2"))
            )),
            "{}",
            text(&out)
        );
        assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_3"));
        assert_eq!(
            fx.git(&subx, &["rev-parse", "refs/heads/feature"]),
            fx.id("SUBX_2")
        );
        assert!(!mid_rebase_or_merge(&fx, &subx));
    }
}

#[test]
fn a_hostile_gitmodules_update_none_still_brings_the_recorded_commit() {
    let fx = Fixture::synced();
    let hostile = push_liba_with_gitmodules(&fx, "hostile-none", "\tupdate = none\n");
    pin_app(&fx, &hostile, fx.id("LIBB_2"));
    fx.ok(&["sync", "--repo", "app"]);
    let subx = fx.ws.join("liba/third_party/subx");
    assert_eq!(fx.git(&subx, &["rev-parse", "HEAD"]), fx.id("SUBX_3"));
    assert_eq!(raw_git(&fx, &fx.ws.join("liba"), &["status", "--porcelain"]), "");
}

#[test]
fn an_ignored_file_in_a_submodule_is_never_overwritten() {
    let fx = Fixture::synced();
    let subx = fx.ws.join("liba/third_party/subx");
    // SUBX_3 adds src/extra.txt; the user has an ignored file there.
    let git_dir = fx.git(&subx, &["rev-parse", "--absolute-git-dir"]);
    std::fs::create_dir_all(Path::new(&git_dir).join("info")).unwrap();
    std::fs::write(Path::new(&git_dir).join("info/exclude"), "src/extra.txt\n").unwrap();
    std::fs::write(subx.join("src/extra.txt"), "my ignored notes\n").unwrap();
    let before = work_state(&fx, &subx);

    pin_app(&fx, fx.id("LIBA_D1"), fx.id("LIBB_2"));
    // Not even `--force` (which only lets a detached commit be left).
    let out = fx.run(&fx.ws.join("app"), &["sync", "--force"]);
    let err = fails(&out);
    assert!(
        err.contains(&format!(
            "error: liba: files in submodule third_party/subx (untracked or ignored) are in the way of {}, the \
             commit liba records; nothing was changed there. Move them away, then sync again",
            short(fx.id("SUBX_3"))
        )),
        "{err}"
    );
    assert!(err.contains("src/extra.txt"), "{err}");
    assert_eq!(
        std::fs::read_to_string(subx.join("src/extra.txt")).unwrap(),
        "my ignored notes\n"
    );
    assert_eq!(work_state(&fx, &subx), before);
    // suby moved all the same.
    assert_eq!(
        fx.git(&fx.ws.join("liba/third_party/suby"), &["rev-parse", "HEAD"]),
        fx.id("SUBY_1")
    );
}

#[test]
fn a_submodule_with_uncommitted_changes_or_a_branch_ahead_is_reported_and_not_moved() {
    let fx = Fixture::synced();
    // subx: an edit git could carry to the new commit (README.md is the
    // same in SUBX_2 and SUBX_3); suby: a branch with a commit of its own.
    let subx = fx.ws.join("liba/third_party/subx");
    std::fs::write(subx.join("README.md"), "# subx\n\nmy uncommitted edit\n").unwrap();
    let suby = fx.ws.join("liba/third_party/suby");
    fx.git(&suby, &["checkout", "-q", "-b", "mywork"]);
    commit_files(&fx, &suby, &[("mine.txt", "mine\n")], "my work in suby");
    let (subx_before, suby_before) = (work_state(&fx, &subx), work_state(&fx, &suby));

    pin_app(&fx, fx.id("LIBA_D1"), fx.id("LIBB_2"));
    // Not even with `--force` (which only lets a detached commit be left).
    let out = fx.run(&fx.ws.join("app"), &["sync", "--force"]);
    let err = fails(&out);
    assert!(
        err.contains(&format!(
            "error: liba: 2 submodules were left as they are:\nsubmodule third_party/subx has uncommitted changes, \
             so it was left where it is rather than moved to {}, the commit liba records. Commit or stash them \
             (`git -C {} stash`), then sync again\nsubmodule third_party/suby is on branch mywork, 1 commit ahead \
             of {}, the commit liba records; it was left as it is.",
            short(fx.id("SUBX_3")),
            subx.display(),
            short(fx.id("SUBY_1"))
        )),
        "{err}"
    );
    assert_eq!(work_state(&fx, &subx), subx_before);
    assert_eq!(work_state(&fx, &suby), suby_before);
    assert_eq!(fx.head("liba"), fx.id("LIBA_D1"));
}

/// A user who set `submodule.recurse=true` in their own config still gets
/// the tool's checks on submodules: moving a dep never moves its
/// submodules by the side door of `git checkout`.
#[test]
fn a_users_submodule_recurse_setting_does_not_move_submodules_behind_the_checks() {
    let fx = Fixture::synced();
    std::fs::write(fx.home.join(".gitconfig"), "[submodule]\n\trecurse = true\n").unwrap();
    let subx = fx.ws.join("liba/third_party/subx");
    let mine = commit_files(&fx, &subx, &[("mine.txt", "my work\n")], "my work in subx");
    let before = work_state(&fx, &subx);

    pin_app(&fx, fx.id("LIBA_D2"), fx.id("LIBB_2"));
    let out = fx.run(&fx.ws.join("app"), &["sync"]);
    let err = fails(&out);
    assert!(
        err.contains(&format!("error: liba: submodule third_party/subx is at {mine}")),
        "{err}"
    );
    assert_eq!(work_state(&fx, &subx), before);
    assert_eq!(fx.head("liba"), fx.id("LIBA_D2"));
}
