//! What a person sees on a terminal: the live display and the results do
//! not cross, colours follow `--color` and `NO_COLOR`, and the paths a run
//! takes only on a terminal (the live display, the first connection to each
//! host made alone) end in the same results. Each test runs the binary on a
//! pseudo-terminal (`common::run_in_pty`).

use crate::common;

use common::{run_in_pty, screen, short, stderr, text, Fixture};

/// A fixture after `checkout --sync app` whose registry names the
/// organisation's read-only repositories as `file://localhost/...`: git
/// reads such a URL as the local path, and the tool sees a host, so on a
/// terminal the first connection to it runs alone before the rest.
fn synced_with_a_host() -> (Fixture, std::path::PathBuf) {
    let fx = Fixture::synced();
    let org = fx.org.display().to_string();
    let registry = std::fs::read_to_string(fx.registry()).unwrap().replace(
        &format!("file://{org}/ro/"),
        &format!("file://localhost{org}/ro/"),
    );
    assert!(registry.contains("file://localhost"), "{registry}");
    let path = fx.tmp.path().join("localhost.toml");
    std::fs::write(&path, registry).unwrap();
    (fx, path)
}

#[test]
fn sync_on_a_terminal_leaves_no_progress_bar_among_its_results() {
    let fx = Fixture::synced();
    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_1")]);
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_1")]);
    let (code, transcript) = run_in_pty(&fx, &fx.ws.join("app"), &["sync"], &[("NO_COLOR", None)]);
    assert_eq!(code, Some(0), "{transcript:?}");
    assert_eq!(
        fx.normalise(&screen(&transcript)),
        format!(
            "warning: base: using {} (pinned by liba); libb pins {}\n\
             liba: {} (pinned by app), was {}\n\
             libb: {} (pinned by app), was {}\n\
             base: {} (pinned by liba), already there\n\
             sync app: 2 moved, 1 already at pin in TIME\n",
            short(fx.id("BASE_2")),
            short(fx.id("BASE_3")),
            short(fx.id("LIBA_2")),
            short(fx.id("LIBA_1")),
            short(fx.id("LIBB_2")),
            short(fx.id("LIBB_1")),
            short(fx.id("BASE_2")),
        )
    );
    // The bar was there while the sync ran.
    assert!(transcript.contains("sync app ["), "{transcript:?}");
}

#[test]
fn error_and_warning_prefixes_are_coloured_as_asked() {
    let fx = Fixture::synced();
    let app = fx.ws.join("app");
    std::fs::create_dir(fx.ws.join("junk")).unwrap();
    let red = "\x1b[1;31merror:\x1b[0m ";
    let yellow = "\x1b[1;33mwarning:\x1b[0m ";
    // --color always, through a pipe.
    let out = fx.run(&fx.ws.join("junk"), &["--color", "always", "sync"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with(red), "{}", text(&out));
    let out = fx.run(&app, &["--color", "always", "-q", "sync"]);
    assert!(stderr(&out).starts_with(yellow), "{}", text(&out));
    // Not through a pipe by default, nor with --color never.
    for args in [&["sync"][..], &["--color", "never", "sync"]] {
        let out = fx
            .cmd(&fx.ws.join("junk"))
            .env_remove("NO_COLOR")
            .args(args)
            .output()
            .unwrap();
        assert!(stderr(&out).starts_with("error: "), "{}", text(&out));
    }
    // On a terminal: coloured, unless NO_COLOR is set or --color never.
    let (code, transcript) = run_in_pty(&fx, &fx.ws.join("junk"), &["sync"], &[("NO_COLOR", None)]);
    assert_eq!(code, Some(1));
    assert!(transcript.starts_with(red), "{transcript:?}");
    let (_, transcript) = run_in_pty(&fx, &app, &["-q", "sync"], &[("NO_COLOR", None)]);
    assert!(transcript.starts_with(yellow), "{transcript:?}");
    for (args, env) in [
        (&["sync"][..], Some("1")),
        (&["--color", "never", "sync"][..], None),
    ] {
        let (_, transcript) = run_in_pty(&fx, &fx.ws.join("junk"), args, &[("NO_COLOR", env)]);
        assert!(!transcript.contains('\x1b'), "{transcript:?}");
        assert!(transcript.starts_with("error: "), "{transcript:?}");
    }
}

/// Results on stdout (status states, patches) are coloured on a terminal,
/// and not at all when `NO_COLOR` is set to anything but the empty string.
#[test]
fn results_are_coloured_on_a_terminal_unless_no_color_is_set() {
    let fx = Fixture::synced();
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_1")]);
    let readme = fx.ws.join("base/README.md");
    let text = common::read(&readme);
    std::fs::write(&readme, format!("{text}one more line\n")).unwrap();
    let app = fx.ws.join("app");
    let status = |sgr: &dyn Fn(&str, &str) -> String| {
        format!(
            "PROJECT  HEAD              PIN                  STATE\n\
             app      {app} main      (looking from here)  -\n\
             liba     {liba1} detached  {liba2} (app)        {behind}\n\
             libb     {libb2} detached  {libb2} (app)        {at_pin}\n\
             base     {base2} detached  {base2} (liba)       {dirty}\n\
             \n\
             Settings in effect:\n  \
             registry   {registry}  ($OPENXLA_WORKSPACE_REGISTRY)\n  \
             ro         {:<w$}  (default)\n  \
             filter     {:<w$}  (default)\n  \
             depth      {:<w$}  (default)\n  \
             jobs       {:<w$}  (default)\n  \
             cache-dir  {:<w$}  (default)\n\
             Roots: app\n",
            "false",
            "none",
            "0",
            "8",
            "none",
            registry = fx.registry().display(),
            w = fx.registry().display().to_string().len(),
            app = short(&fx.head("app")),
            liba1 = short(fx.id("LIBA_1")),
            liba2 = short(fx.id("LIBA_2")),
            libb2 = short(fx.id("LIBB_2")),
            base2 = short(fx.id("BASE_2")),
            behind = sgr("33", "behind 1"),
            at_pin = sgr("32", "at pin"),
            dirty = sgr("31", "dirty, at pin"),
        )
    };
    // The blob ids git's `index` line names: HEAD's README and the file's.
    let blob = |what: &str| match what.strip_prefix("HEAD:") {
        Some(_) => fx.git(&fx.ws.join("base"), &["rev-parse", "--short=7", what]),
        None => short(&fx.git(&fx.ws.join("base"), &["hash-object", what])).to_string(),
    };
    let diff = |sgr: &dyn Fn(&str, &str) -> String| {
        format!(
            "{}\nindex {}..{} 100644\n{}\n{}\n{}\n{}\n{}\n",
            sgr("1", "diff --git a/base/README.md b/base/README.md"),
            blob("HEAD:README.md"),
            blob("README.md"),
            sgr("1", "--- a/base/README.md"),
            sgr("1", "+++ b/base/README.md"),
            sgr("36", &format!("@@ -{0},3 +{0},4 @@", text.lines().count() - 2)),
            text.lines()
                .skip(text.lines().count() - 3)
                .map(|l| format!(" {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            sgr("32", "+one more line"),
        )
    };
    let coloured = |code: &str, text: &str| format!("\x1b[{code}m{text}\x1b[0m");
    let plain = |_: &str, text: &str| text.to_string();
    // The terminal turns each `\n` into `\r\n`.
    let run = |args: &[&str], no_color: Option<&str>| {
        let (code, transcript) = run_in_pty(&fx, &app, args, &[("NO_COLOR", no_color)]);
        (code, transcript.replace("\r\n", "\n"))
    };
    for no_color in [None, Some("")] {
        assert_eq!(
            run(&["status"], no_color),
            (Some(0), status(&coloured)),
            "NO_COLOR={no_color:?}"
        );
        assert_eq!(
            run(&["diff"], no_color),
            (Some(0), diff(&coloured)),
            "NO_COLOR={no_color:?}"
        );
    }
    for no_color in ["1", "true"] {
        assert_eq!(run(&["status"], Some(no_color)), (Some(0), status(&plain)));
        assert_eq!(run(&["diff"], Some(no_color)), (Some(0), diff(&plain)));
    }
}

/// `roll` and then `sync --repo app` on a terminal, with every dep on one
/// host: each asks that host first alone, then the rest; the live display
/// shows the fetch while it runs; the results are those of a log.
#[test]
fn roll_and_sync_on_a_terminal_take_the_first_connection_per_host_alone() {
    let (fx, registry) = synced_with_a_host();
    let registry = registry.to_str().unwrap();
    let new_liba = fx.push("liba", "main", &[("new.txt", "new\n")], "liba: new commit");
    let (code, transcript) = run_in_pty(
        &fx,
        &fx.ws.join("app"),
        &["--registry", registry, "roll", "nightly"],
        &[("NO_COLOR", None)],
    );
    assert_eq!(code, Some(0), "{transcript:?}");
    assert_eq!(
        fx.normalise(&screen(&transcript)),
        format!(
            "liba: {} -> {} (head of main on file://localhostORG/ro/liba.git)\n\
             Updated pinned revision.\n\
             libb: {} -> {} (head of main on file://localhostORG/ro/libb.git)\n\
             Updated pinned revision.\n\
             wrote WS/app/sync_deps.py\n\
             roll nightly (app): 2 updated in TIME\n",
            short(fx.id("LIBA_2")),
            short(&new_liba),
            short(fx.id("LIBB_2")),
            short(fx.id("LIBB_3")),
        )
    );

    let (code, transcript) = run_in_pty(
        &fx,
        &fx.ws,
        &["--registry", registry, "sync", "--repo", "app"],
        &[("NO_COLOR", None)],
    );
    assert_eq!(code, Some(0), "{transcript:?}");
    // liba's new pin is fetched (its line was live meanwhile), libb's is
    // already there.
    assert!(
        transcript.contains(&format!("liba: fetching {}", short(&new_liba))),
        "{transcript:?}"
    );
    assert_eq!(
        fx.normalise(&screen(&transcript)),
        format!(
            "warning: base: using {} (pinned by liba); libb pins {}\n\
             liba: {} (pinned by app), was {}\n\
             libb: {} (pinned by app), was {}\n\
             base: {} (pinned by liba), already there\n\
             sync app: 2 moved, 1 already at pin in TIME\n",
            short(fx.id("BASE_2")),
            short(fx.id("BASE_3")),
            short(&new_liba),
            short(fx.id("LIBA_2")),
            short(fx.id("LIBB_3")),
            short(fx.id("LIBB_2")),
            short(fx.id("BASE_2")),
        )
    );
    assert_eq!(fx.head("liba"), new_liba);
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
}
