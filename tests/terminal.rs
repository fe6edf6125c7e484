//! What a person sees on a terminal: the live display and the results do
//! not cross, and colours follow `--color` and `NO_COLOR`. Each test runs
//! the binary on a pseudo-terminal (`common::run_in_pty`).

mod common;

use common::{run_in_pty, screen, short, stderr, text, Fixture};

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
