//! What a person sees on a terminal: the live display and the results do
//! not cross, and colours follow `--color` and `NO_COLOR`. Each test runs
//! the binary on a pseudo-terminal (`terminal_support`).

mod common;
mod terminal_support;

use common::{stderr, text, Fixture};
use terminal_support::on_terminal;

fn short(id: &str) -> &str {
    &id[..7]
}

/// `line` with elapsed times as `X.Xs`.
fn timeless(line: &str) -> String {
    regex::Regex::new(r" in \d+\.\ds$")
        .unwrap()
        .replace(line, " in X.Xs")
        .into_owned()
}

#[test]
fn sync_on_a_terminal_leaves_no_progress_bar_among_its_results() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
    fx.git(&fx.ws.join("libb"), &["checkout", "--quiet", fx.id("LIBB_1")]);
    fx.git(&fx.ws.join("liba"), &["checkout", "--quiet", fx.id("LIBA_1")]);
    let screen = on_terminal(&fx, &fx.ws.join("app"), &["sync"], &[("NO_COLOR", None)]);
    assert_eq!(screen.status, 0, "{:#?}", screen.lines());
    let shown: Vec<String> = screen.lines().iter().map(|l| timeless(l)).collect();
    assert_eq!(
        shown,
        [
            format!(
                "warning: base: using {} (pinned by liba); libb pins {}",
                short(fx.id("BASE_2")),
                short(fx.id("BASE_3"))
            ),
            format!(
                "liba: {} (pinned by app), was {}",
                short(fx.id("LIBA_2")),
                short(fx.id("LIBA_1"))
            ),
            format!(
                "libb: {} (pinned by app), was {}",
                short(fx.id("LIBB_2")),
                short(fx.id("LIBB_1"))
            ),
            format!("base: {} (pinned by liba), already there", short(fx.id("BASE_2"))),
            "sync app: 2 moved, 1 already at pin in X.Xs".to_string(),
        ]
    );
    // The bar was there while the sync ran.
    assert!(String::from_utf8_lossy(&screen.bytes).contains("sync app ["));
}

#[test]
fn error_and_warning_prefixes_are_coloured_as_asked() {
    let fx = Fixture::new();
    fx.ok(&["checkout", "--sync", "app"]);
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
    let screen = on_terminal(&fx, &fx.ws.join("junk"), &["sync"], &[("NO_COLOR", None)]);
    assert_eq!(screen.status, 1);
    assert!(
        screen.bytes.starts_with(red.as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&screen.bytes)
    );
    let screen = on_terminal(&fx, &app, &["-q", "sync"], &[("NO_COLOR", None)]);
    assert!(
        screen.bytes.starts_with(yellow.as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&screen.bytes)
    );
    for (args, env) in [
        (&["sync"][..], Some("1")),
        (&["--color", "never", "sync"][..], None),
    ] {
        let screen = on_terminal(&fx, &fx.ws.join("junk"), args, &[("NO_COLOR", env)]);
        assert!(
            !screen.bytes.contains(&0x1b),
            "{:?}",
            String::from_utf8_lossy(&screen.bytes)
        );
        assert!(screen.bytes.starts_with(b"error: "));
    }
}
