//! Hostile and malformed input (issue 7): pin files and registries come from
//! other people's repositories. For each case the tool must stop with an
//! error naming the file, the line or key and what was expected, and nothing
//! may have happened: no file created by a payload, no clone, no working tree
//! moved. The inputs live in `testdata/hostile/`; each starts with
//! `# expect:` lines (fragments the error must hold) and, for pin files,
//! `# expect-line:` (the line the error must name). Placeholders such as
//! `@LIBA_2@`, `@WS@`, `@ORG@` and `@TMP@` are filled in per test.

use crate::common;
use crate::trust_support;

use std::path::Path;

use common::{heads, run_on_terminal, short, stderr, stdout, text, Fixture};
use trust_support::*;

/// A hostile input with its placeholders filled in.
struct Hostile {
    text: String,
    expects: Vec<String>,
    line: Option<usize>,
}

fn hostile(fx: &Fixture, relative: &str) -> Hostile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/hostile")
        .join(relative);
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = raw
        .replace("@WS@", &fx.ws.display().to_string())
        .replace("@ORG@", &fx.org.display().to_string())
        .replace(
            "@TMP@",
            &fx.tmp.path().canonicalize().unwrap().display().to_string(),
        )
        .replace("@LIBA_2_UPPER@", &fx.id("LIBA_2").to_uppercase());
    for (key, id) in &fx.ids {
        text = text.replace(&format!("@{key}@"), id);
    }
    let expects = raw
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(str::to_string)
        .collect();
    let line = raw
        .lines()
        .find_map(|l| l.strip_prefix("# expect-line: "))
        .and_then(|n| n.parse().ok());
    Hostile { text, expects, line }
}

/// The heads of the four fixture projects that are checked out.
fn assert_error_names(err: &str, file: &Path, case: &Hostile) {
    let location = match case.line {
        Some(line) => format!("{}:{line}: ", file.display()),
        None => format!("{}", file.display()),
    };
    assert!(err.contains(&location), "expected {location:?} in:\n{err}");
    for expect in &case.expects {
        assert!(err.contains(expect.as_str()), "expected {expect:?} in:\n{err}");
    }
}

// ---- Hostile pin files ---------------------------------------------------------

/// Puts the hostile pin file `case` in app (whose deps are checked out at
/// their branch tips, away from the pins), runs `sync`, and checks the error
/// and that nothing anywhere changed.
fn sync_refuses_pin_file(case: &str) {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    let input = hostile(&fx, &format!("pinfiles/{case}.py"));
    std::fs::write(&file, &input.text).unwrap();
    let before = snapshot_all(&fx);
    let heads_before = heads(&fx);

    let err = fails(&fx.run(&app, &["sync"]));
    assert_error_names(&err, &file, &input);
    assert_eq!(heads(&fx), heads_before, "a working tree moved");
    assert_eq!(snapshot_all(&fx), before, "something changed on disk");
    assert_no_payload_ran(&fx);
}

macro_rules! sync_refuses {
    ($($test:ident => $case:literal,)*) => {$(
        #[test]
        fn $test() {
            sync_refuses_pin_file($case);
        }
    )*};
}

sync_refuses! {
    sync_refuses_a_pin_named_dotdot_slash_x => "name_dotdot_slash",
    sync_refuses_a_pin_named_dotdot => "name_dotdot",
    sync_refuses_a_pin_named_dot => "name_dot",
    sync_refuses_a_pin_name_with_a_slash => "name_slash",
    sync_refuses_an_absolute_pin_name => "name_absolute",
    sync_refuses_a_pin_name_starting_with_a_dash => "name_option",
    sync_refuses_an_empty_pin_name => "name_empty",
    sync_refuses_a_very_long_pin_name => "name_long",
    sync_refuses_a_non_ascii_lookalike_pin_name => "name_lookalike",
    sync_refuses_a_pin_named_dot_git => "name_dot_git",
    sync_refuses_an_origin_that_is_an_upload_pack_option => "url_upload_pack",
    sync_refuses_an_origin_that_is_an_ssh_option => "url_proxy_command",
    sync_refuses_an_origin_using_the_ext_transport => "url_ext",
    sync_refuses_an_ssh_origin_whose_host_is_an_option => "url_ssh_option_host",
    sync_refuses_an_scp_like_origin_whose_host_is_an_option => "url_scp_option_host",
    sync_refuses_an_origin_with_a_newline => "url_newline",
    sync_refuses_an_origin_naming_a_remote_helper => "url_remote_helper",
    sync_refuses_an_origin_with_a_bidi_override => "url_bidi",
    sync_refuses_an_origin_with_a_zero_width_character => "url_zero_width",
    sync_refuses_a_pin_to_head => "commit_head",
    sync_refuses_a_pin_to_a_branch_name => "commit_branch",
    sync_refuses_a_pin_that_is_an_option => "commit_option",
    sync_refuses_an_abbreviated_pin => "commit_short",
    sync_refuses_a_pin_to_the_null_commit => "commit_null",
    sync_refuses_an_upper_case_pin => "commit_upper_case",
    sync_refuses_a_pin_with_a_trailing_newline => "commit_trailing_newline",
    sync_refuses_a_pin_with_a_trailing_space => "commit_trailing_space",
    sync_refuses_a_repeated_pin => "repeated_key",
    sync_refuses_a_pin_that_is_not_a_string => "non_string_value",
    sync_refuses_python_code_as_a_pin => "python_code_in_dict",
    sync_refuses_python_code_after_the_pins => "python_code_after_dict",
}

/// A pin file that is not text at all, given as bytes; checks as above.
fn sync_refuses_pin_bytes(bytes: &[u8], expect: &str) {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    std::fs::write(&file, bytes).unwrap();
    let before = snapshot_all(&fx);
    let heads_before = heads(&fx);
    let err = fails(&fx.run(&app, &["sync"]));
    assert!(err.contains(&format!("{}:", file.display())), "{err}");
    assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
    assert_eq!(heads(&fx), heads_before);
    assert_eq!(snapshot_all(&fx), before);
}

#[test]
fn sync_refuses_binary_garbage_as_a_pin_file() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    sync_refuses_pin_bytes(&garbage, "this is a binary file, not a pin file");
}

#[test]
fn sync_refuses_a_pin_file_that_is_not_utf8() {
    let bytes = b"PINNED_VERSIONS = {\n  \"liba\": \"caf\xe9\"\n}\n";
    sync_refuses_pin_bytes(bytes, "byte 0xe9 is not valid UTF-8; a pin file is UTF-8 text");
}

/// A pin file over the limit is refused on its size, before any of it is
/// read. Counted in bytes the tool read (all its reads: the registry, git's
/// answers), which stay far below the 1 MiB the limit would let through.
#[test]
fn sync_refuses_a_50_mb_pin_file_having_read_none_of_it() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    // Sparse, so the test writes almost nothing.
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    drop(f);
    let heads_before = heads(&fx);
    let mut cmd = fx.cmd(&app);
    cmd.arg("sync");
    let (out, read) = common::run_counting_reads(cmd, 60).expect("sync finished");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: is larger than 1 MiB, the limit for a pin file; is this really a sync_deps.py?\n",
            file.display()
        )
    );
    assert!(read < 256 * 1024, "sync read {read} bytes");
    assert_eq!(heads(&fx), heads_before);
}

#[test]
fn sync_accepts_crlf_line_ends() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    let crlf = std::fs::read_to_string(&file).unwrap().replace('\n', "\r\n");
    std::fs::write(&file, crlf).unwrap();
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert_eq!(fx.head("base"), fx.id("BASE_2"));
}

#[test]
fn sync_never_runs_python_from_a_pin_file_and_never_uses_its_origins() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let input = hostile(&fx, "pinfiles/python_statements_are_never_run.py");
    std::fs::write(app.join("sync_deps.py"), &input.text).unwrap();
    let liba_url = fx.git(&fx.ws.join("liba"), &["config", "remote.origin.url"]);
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert_no_payload_ran(&fx);
    // ORIGINS are data for the generated script; the tool clones and
    // fetches from the registry's URLs only.
    assert_eq!(
        fx.git(&fx.ws.join("liba"), &["config", "remote.origin.url"]),
        liba_url
    );
    assert!(!fx.tmp.path().join("elsewhere").exists());
}

#[test]
fn sync_ignores_a_pin_for_a_project_not_in_the_registry_and_says_so() {
    let fx = fixture();
    fx.ok(&["checkout", "--no-deps", "app"]);
    let app = fx.ws.join("app");
    let input = hostile(&fx, "pinfiles/pin_not_in_registry.py");
    std::fs::write(app.join("sync_deps.py"), &input.text).unwrap();
    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: app's sync_deps.py pins evil, which is not one of app's deps in the registry"),
        "{err}"
    );
    assert!(!fx.ws.join("evil").exists(), "the extra pin was cloned");
    assert!(leftovers(&fx, ".openxla-partial").is_empty());
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
}

#[test]
fn checkout_sync_refuses_a_hostile_pin_file_that_came_with_the_clone() {
    let fx = fixture();
    let input = hostile(&fx, "pinfiles/python_code_in_dict.py");
    push_upstream(&fx, "app", &[("sync_deps.py", &input.text)]);
    let out = fx.run(&fx.ws, &["checkout", "--sync", "app"]);
    let err = fails(&out);
    assert_error_names(&err, &fx.ws.join("app/sync_deps.py"), &input);
    // The clones themselves are fine and stay at their branch tips.
    assert_eq!(fx.head("liba"), fx.id("LIBA_3"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_3"));
    assert_eq!(fx.head("base"), fx.id("BASE_4"));
    assert_no_payload_ran(&fx);
}

#[test]
fn sync_refuses_a_hostile_pin_file_in_a_dep_and_moves_nothing() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    // liba's own pins, read from the commit app pins, try to climb out.
    let input = hostile(&fx, "pinfiles/name_dotdot_slash.py");
    let evil = push_upstream(&fx, "liba", &[("sync_deps.py", &input.text)]);
    let pins = std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBA_2"), &evil);
    std::fs::write(app.join("sync_deps.py"), pins).unwrap();
    let heads_before = heads(&fx);

    let err = fails(&fx.run(&app, &["sync"]));
    let label = format!("liba/sync_deps.py at {}:{}: ", &evil[..7], input.line.unwrap());
    assert!(err.contains(&label), "{err}");
    assert!(err.contains(&input.expects[0]), "{err}");
    assert!(err.contains("stopped before changing any working tree"), "{err}");
    assert_eq!(heads(&fx), heads_before);
    assert!(!fx.tmp.path().join("x").exists());
    assert_no_payload_ran(&fx);
}

/// Pins liba to an object that exists but is not a commit.
fn sync_refuses_a_pin_to_a_non_commit(object: &str) {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let id = fx.git(&fx.ws.join("liba"), &["rev-parse", object]);
    let pins = std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBA_2"), &id);
    std::fs::write(app.join("sync_deps.py"), pins).unwrap();
    let heads_before = heads(&fx);
    let err = fails(&fx.run(&app, &["sync"]));
    assert!(
        err.contains(&format!("error: liba: commit {id} (pinned by app)")),
        "{err}"
    );
    assert!(err.contains("stopped before changing any working tree"), "{err}");
    assert_eq!(heads(&fx), heads_before);
}

#[test]
fn sync_refuses_a_pin_to_a_tree() {
    sync_refuses_a_pin_to_a_non_commit("HEAD^{tree}");
}

#[test]
fn sync_refuses_a_pin_to_a_blob() {
    sync_refuses_a_pin_to_a_non_commit("HEAD:liba.txt");
}

#[test]
fn pin_refuses_to_rewrite_a_hostile_pin_file() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    let input = hostile(&fx, "pinfiles/repeated_key.py");
    std::fs::write(&file, &input.text).unwrap();
    let before = snapshot_all(&fx);
    let err = fails(&fx.run(&app, &["pin"]));
    assert_error_names(&err, &file, &input);
    assert_eq!(snapshot_all(&fx), before);
}

#[test]
fn pin_replaces_a_symlinked_pin_file_without_writing_through_it() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    let outside = fx.tmp.path().join("outside.py");
    std::fs::copy(&file, &outside).unwrap();
    let before = std::fs::read(&outside).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&outside, &file).unwrap();
    fx.ok(&["pin", "--repo", "app"]);
    assert_eq!(std::fs::read(&outside).unwrap(), before, "wrote through the link");
    assert!(!std::fs::symlink_metadata(&file).unwrap().is_symlink());
    assert!(std::fs::read_to_string(&file).unwrap().contains(fx.id("LIBA_3")));
}

#[test]
fn sync_refuses_a_pin_file_that_is_not_a_regular_file() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    std::fs::remove_file(&file).unwrap();
    // A link to a device that never ends: reading must not hang or fill memory.
    std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
    let heads_before = heads(&fx);
    let err = fails(&fx.run(&app, &["sync"]));
    assert!(err.contains(&format!("{}: ", file.display())), "{err}");
    assert!(err.contains("is not a regular file"), "{err}");
    assert_eq!(heads(&fx), heads_before);
}

/// Makes `path` a FIFO: opening it for reading blocks until a writer comes.
fn make_fifo(path: &Path) {
    let out = std::process::Command::new("mkfifo").arg(path).output().unwrap();
    assert!(out.status.success(), "mkfifo: {}", text(&out));
}

/// Runs the tool, killing it if it has not finished within `secs`.
fn run_with_timeout(fx: &Fixture, dir: &Path, args: &[&str], secs: u64) -> Option<std::process::Output> {
    let mut child = fx
        .cmd(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed().as_secs() < secs {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

#[test]
fn sync_refuses_a_pin_file_that_is_a_fifo_without_hanging() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    std::fs::remove_file(&file).unwrap();
    make_fifo(&file);
    let out = run_with_timeout(&fx, &app, &["sync"], 20).expect("sync hung on a FIFO");
    let err = fails(&out);
    assert!(err.contains("is not a regular file"), "{err}");
}

#[test]
fn pin_refuses_a_pin_file_that_is_a_fifo_without_hanging() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    std::fs::remove_file(&file).unwrap();
    make_fifo(&file);
    let out = run_with_timeout(&fx, &app, &["pin"], 20).expect("pin hung on a FIFO");
    let err = fails(&out);
    assert!(err.contains("is not a regular file"), "{err}");
}

#[test]
fn roll_never_writes_through_a_symlink_out_of_the_project() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let (registry, python) = pip_schedule(&fx);
    // A repository can hold a symlink to anywhere, say a shell start-up file.
    let outside = fx.tmp.path().join("home-bashrc");
    std::fs::write(&outside, "jaxlib==0.4.1\n").unwrap();
    std::os::unix::fs::symlink(&outside, app.join("requirements.txt")).unwrap();

    let out = fx
        .cmd(&app)
        .env("OPENXLA_WORKSPACE_PYTHON", &python)
        .arg("--registry")
        .arg(&registry)
        .args(["roll", "pip"])
        .output()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "jaxlib==0.4.1\n",
        "wrote outside the workspace:\n{}",
        text(&out)
    );
}

// ---- Hostile registries -------------------------------------------------------

/// Layers the hostile registry `case` over the fixture's (which becomes the
/// workspace's own file) and checks that `list` and `checkout app` both
/// stop with an error naming the file and the key, having done nothing.
fn registry_is_refused(case: &str) {
    let fx = fixture();
    std::fs::copy(fx.registry(), fx.ws.join("openxla-workspace.toml")).unwrap();
    let input = hostile(&fx, &format!("registries/{case}.toml"));
    let file = fx.tmp.path().join("hostile.toml");
    std::fs::write(&file, &input.text).unwrap();
    let before = snapshot_all(&fx);
    let registry = file.to_str().unwrap();
    for args in [
        vec!["--registry", registry, "list"],
        vec!["--registry", registry, "checkout", "app"],
    ] {
        let err = fails(&fx.run(&fx.ws, &args));
        assert!(
            err.contains(&format!("invalid registry {}: ", file.display())),
            "{args:?}:\n{err}"
        );
        for expect in &input.expects {
            assert!(
                err.contains(expect.as_str()),
                "{args:?}: expected {expect:?} in:\n{err}"
            );
        }
    }
    assert_eq!(snapshot_all(&fx), before, "something changed on disk");
    assert_no_payload_ran(&fx);
}

macro_rules! registry_refused {
    ($($test:ident => $case:literal,)*) => {$(
        #[test]
        fn $test() {
            registry_is_refused($case);
        }
    )*};
}

registry_refused! {
    registry_refuses_a_project_named_dotdot_slash_x => "name_dotdot_slash",
    registry_refuses_a_project_named_dotdot => "name_dotdot",
    registry_refuses_a_project_named_dot => "name_dot",
    registry_refuses_a_project_name_with_a_slash => "name_slash",
    registry_refuses_an_absolute_project_name => "name_absolute",
    registry_refuses_a_project_name_starting_with_a_dash => "name_option",
    registry_refuses_an_empty_project_name => "name_empty",
    registry_refuses_a_very_long_project_name => "name_long",
    registry_refuses_a_non_ascii_lookalike_project_name => "name_lookalike",
    registry_refuses_a_project_named_dot_git => "name_dot_git",
    registry_refuses_a_dep_named_dotdot_slash_x => "dep_name_dotdot_slash",
    registry_refuses_a_url_that_is_an_upload_pack_option => "url_upload_pack",
    registry_refuses_a_url_that_is_an_ssh_option => "url_proxy_command",
    registry_refuses_the_ext_transport => "url_ext",
    registry_refuses_an_ssh_url_whose_host_is_an_option => "url_ssh_option_host",
    registry_refuses_an_scp_like_url_whose_host_is_an_option => "url_scp_option_host",
    registry_refuses_a_url_with_a_newline => "url_newline",
    registry_refuses_a_url_naming_a_remote_helper => "url_remote_helper",
    registry_refuses_a_url_with_a_bidi_override => "url_bidi",
    registry_refuses_a_url_with_a_zero_width_character => "url_zero_width",
    registry_refuses_an_unknown_key => "unknown_key",
    registry_refuses_an_unknown_top_level_key => "unknown_top_level_key",
    registry_refuses_a_string_for_a_boolean => "wrong_type",
    registry_refuses_a_string_for_a_list => "wrong_type_deps",
    registry_refuses_a_dep_cycle => "dep_cycle",
    registry_refuses_a_dep_on_itself => "dep_on_itself",
    registry_refuses_a_project_defined_twice_in_one_file => "duplicate_table",
    registry_refuses_a_tracking_branch_that_is_an_option => "tracking_branch_option",
    registry_refuses_a_requirements_file_outside_the_project => "requirements_outside_project",
    registry_refuses_the_project_folder_as_a_requirements_file => "requirements_is_the_project_folder",
    registry_refuses_a_package_name_that_is_a_pip_option => "pip_flag_package",
    registry_refuses_pip_flags_that_write_files => "pip_flags_log",
    registry_refuses_a_pip_flag_value_that_is_no_url_or_path => "pip_flags_value",
    registry_refuses_a_pip_flag_path_outside_the_project => "pip_flags_outside_project",
}

#[test]
fn registry_layers_later_one_wins_and_list_reports_it() {
    let fx = fixture();
    let ws_file = fx.ws.join("openxla-workspace.toml");
    std::fs::copy(fx.registry(), &ws_file).unwrap();
    let explicit = fx.tmp.path().join("override.toml");
    // libb again, without deps and from the read-only URL only.
    std::fs::write(
        &explicit,
        format!(
            "[repos.libb]\nro_url = \"file://{}/ro/libb.git\"\n",
            fx.org.display()
        ),
    )
    .unwrap();
    let out = fx.run(&fx.ws, &["--registry", explicit.to_str().unwrap(), "list"]);
    assert!(out.status.success(), "{}", text(&out));
    let listing = common::stdout(&out);
    let libb = listing.split("\nlibb\n").nth(1).expect("libb listed");
    let libb = libb.split("\n\n").next().unwrap();
    assert!(
        libb.contains(&format!(
            "defined in: registry file {} (replaces the entry in workspace file {})",
            explicit.display(),
            ws_file.display()
        )),
        "{listing}"
    );
    assert!(libb.contains("deps:       (none)"), "{listing}");
    assert!(libb.contains(&format!("rw_url:     file://{}/ro/libb.git", fx.org.display())));
}

#[test]
fn a_url_into_the_workspace_is_only_a_local_clone() {
    let fx = checked_out();
    let reg = fx.tmp.path().join("local.toml");
    let ws = fx.ws.display();
    std::fs::write(
        &reg,
        format!(
            "[repos.mirror]\nro_url = \"file://{ws}/app\"\n\n\
             [repos.root]\nro_url = \"file://{ws}\"\n\n\
             [repos.itself]\nro_url = \"file://{ws}/.openxla-partial-itself\"\n"
        ),
    )
    .unwrap();
    let app_before = work_state(&fx, &fx.ws.join("app"));
    let org_before: Vec<String> = snapshot_all(&fx)
        .into_iter()
        .filter(|e| !e.starts_with("ws/"))
        .collect();
    let reg = reg.to_str().unwrap();

    // A clone of another checkout of the workspace: harmless, like any local clone.
    let cmd = |args: &[&str]| {
        let mut all = vec!["--registry", reg];
        all.extend_from_slice(args);
        fx.cmd(&fx.ws).args(&all).output().unwrap()
    };
    std::fs::copy(fx.registry(), fx.ws.join("openxla-workspace.toml")).unwrap();
    let out = cmd(&["checkout", "mirror"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.head("mirror"), fx.id("APP_3"));
    assert_eq!(work_state(&fx, &fx.ws.join("app")), app_before);

    // The workspace folder itself: git finds no repository there, and
    // nothing is left behind.
    let err = fails(&cmd(&["checkout", "root"]));
    assert!(
        err.contains("no repository at the URL\n  not cloned: root\n"),
        "{err}"
    );
    assert!(!fx.ws.join("root").exists());
    // The clone's own temporary folder: git creates it before reading from
    // it, so this clones an empty repository into the workspace. Odd, and
    // as harmless as any local clone.
    let _ = cmd(&["checkout", "itself"]);
    assert!(leftovers(&fx, ".openxla-partial").is_empty());
    let org_after: Vec<String> = snapshot_all(&fx)
        .into_iter()
        .filter(|e| !e.starts_with("ws/"))
        .collect();
    assert_eq!(org_after, org_before, "wrote outside the workspace");
    assert_eq!(work_state(&fx, &fx.ws.join("app")), app_before);
}

// ---- Names on the command line ------------------------------------------------

#[test]
fn checkout_and_sync_refuse_path_like_names_on_the_command_line() {
    let fx = checked_out();
    let before = snapshot_all(&fx);
    for args in [
        vec!["checkout", "../x"],
        vec!["checkout", "--", "-x"],
        vec!["sync", "--repo", "../app"],
        vec!["pin", "--repo", "/abs"],
    ] {
        let err = fails(&fx.run(&fx.ws, &args));
        assert!(err.contains("No repository matching"), "{args:?}: {err}");
    }
    assert_eq!(snapshot_all(&fx), before);
    assert!(!fx.tmp.path().join("x").exists());
}

// ---- Regexes ------------------------------------------------------------------

/// An invalid regex is a usage error (exit 2) before any git command runs.
fn invalid_regex_is_a_usage_error(dir_is_app: bool, args: &[&str]) {
    let fx = fixture();
    if dir_is_app {
        fx.ok(&["checkout", "--no-deps", "app"]);
    }
    let dir = if dir_is_app {
        fx.ws.join("app")
    } else {
        fx.ws.clone()
    };
    let bin = fake_git_dir(&fx);
    let log = fx.tmp.path().join("git.log");
    let before = snapshot_all(&fx);
    let out = run_env(
        &fx,
        &dir,
        args,
        &[("PATH", &path_with(&bin)), ("TRUST_GIT_LOG", log.as_os_str())],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("invalid regular expression"),
        "{}",
        text(&out)
    );
    assert!(
        !log.exists(),
        "git ran: {}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert_eq!(snapshot_all(&fx), before);
}

#[test]
fn checkout_with_an_invalid_exclude_dep_is_a_usage_error_before_anything_runs() {
    invalid_regex_is_a_usage_error(false, &["checkout", "--exclude-dep", "(", "app"]);
}

#[test]
fn checkout_sync_with_an_invalid_exclude_submodule_is_a_usage_error() {
    invalid_regex_is_a_usage_error(false, &["checkout", "--sync", "--exclude-submodule", "[", "app"]);
}

#[test]
fn sync_with_an_invalid_exclude_dep_is_a_usage_error_before_anything_runs() {
    invalid_regex_is_a_usage_error(true, &["sync", "--exclude-dep", "a{2,1}"]);
}

// ---- Text from repositories on the terminal ---------------------------------------

/// A commit subject that, printed raw, sets the terminal's title, wipes the
/// line and writes a fake one over it.
const REPAINTING_SUBJECT: &str = "fix\x1b]0;owned\x07\x1b[2K\rliba: 0000000 2020-01-01 : all good\u{202e}";

/// The same, as the tool must show it.
const REPAINTING_SUBJECT_SHOWN: &str =
    "fix\\x1b]0;owned\\x07\\x1b[2K\\x0dliba: 0000000 2020-01-01 : all good\\u{202e}";

#[test]
fn pin_shows_commit_subjects_escaped_so_they_cannot_repaint_its_output() {
    let fx = checked_out();
    let liba = fx.ws.join("liba");
    std::fs::write(liba.join("liba.txt"), "hostile\n").unwrap();
    fx.git(&liba, &["add", "-A"]);
    fx.git(
        &liba,
        &["commit", "-q", "--cleanup=verbatim", "-m", REPAINTING_SUBJECT],
    );
    let id = fx.head("liba");
    let libb_head = fx.git(&fx.ws.join("libb"), &["log", "-1", "--format=%cs : %s"]);
    let app = fx.ws.join("app");
    let expected = format!(
        "liba: {} 2025-01-01 : {REPAINTING_SUBJECT_SHOWN}\nlibb: {} {libb_head}\n",
        &id[..7],
        &fx.id("LIBB_3")[..7]
    );

    let out = fx.run(&app, &["--dry-run", "pin"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        format!("{expected}would write {}\n", app.join("sync_deps.py").display())
    );

    let (shown, status) = run_on_terminal(fx.cmd(&app).arg("pin"));
    assert_eq!(status, Some(0), "{shown}");
    assert_terminal_safe(&shown);
    assert!(
        shown.replace("\r\n", "\n").starts_with(&expected),
        "expected\n{expected}\nin\n{shown}"
    );
    let pins = std::fs::read_to_string(app.join("sync_deps.py")).unwrap();
    assert!(pins.contains(&format!("\"liba\": \"{id}\"")), "{pins}");
}

#[test]
fn status_shows_branch_names_escaped_and_its_json_keeps_them_exact() {
    let fx = checked_out();
    let liba = fx.ws.join("liba");
    // git allows bidi overrides and C1 controls (as UTF-8) in ref names.
    let branch = "feat\u{202e}gnp.exe\u{9b}2K";
    fx.git(&liba, &["checkout", "-q", "-b", branch]);
    let app = fx.ws.join("app");

    let (shown, status) = run_on_terminal(fx.cmd(&app).arg("status"));
    assert_eq!(status, Some(0), "{shown}");
    assert_terminal_safe(&shown);
    let row = shown
        .lines()
        .find(|l| l.starts_with("liba "))
        .unwrap_or_else(|| panic!("no liba row in\n{shown}"));
    let row: Vec<&str> = row.split("  ").filter(|c| !c.is_empty()).map(str::trim).collect();
    assert_eq!(
        row,
        [
            "liba",
            &format!("{} feat\\u{{202e}}gnp.exe\\u{{9b}}2K", &fx.head("liba")[..7]),
            &format!("{} (app)", &fx.id("LIBA_2")[..7]),
            "ahead 1",
        ]
    );

    let out = fx.run(&app, &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json = stdout(&out);
    assert_terminal_safe(&json);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}:\n{json}"));
    let liba_row = rows["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "liba")
        .unwrap();
    assert_eq!(liba_row["branch"], branch);
}

#[test]
fn list_shows_registry_text_escaped() {
    // Such text is refused since issue 22 (item 6): the refusal, too, is
    // shown escaped.
    let fx = fixture();
    let registry = fx.tmp.path().join("odd.toml");
    for (text, expected) in [
        (
            "[repos.odd]\nro_url = \"https://example.org/odd.git\"\ntracking_branch = \"main\\u202Egnp\"\n",
            "repos.odd.tracking_branch: 'main\\u{202e}gnp' is not a valid branch name",
        ),
        (
            "[repos.odd]\nro_url = \"https://example.org/odd.git\"\n[[repos.odd.schedules.pip]]\n\
             py_package = \"jaxlib\"\nupdate_requirements = [\"req\\u001B]0;owned\\u0007.txt\"]\n",
            "repos.odd.schedules.pip[0].update_requirements: 'req\\x1b]0;owned\\x07.txt' holds the control or \
             invisible character U+001B",
        ),
    ] {
        std::fs::write(&registry, text).unwrap();
        let (shown, status) = run_on_terminal(fx.cmd(&fx.ws).arg("--registry").arg(&registry).arg("list"));
        assert_eq!(status, Some(1), "{shown}");
        assert_terminal_safe(&shown);
        assert!(shown.contains(expected), "{shown}");
    }
}

#[test]
fn git_stderr_quoting_a_server_is_escaped_in_errors() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    // A pin that is not here yet, so sync fetches it; the fake git's fetch
    // fails the way git relays a hostile server's `remote:` lines.
    let newer = push_upstream(&fx, "libb", &[("libb.txt", "libb version 4\n")]);
    let pins = std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBB_2"), &newer);
    std::fs::write(app.join("sync_deps.py"), pins).unwrap();
    let heads_before = heads(&fx);
    let bin = fake_git_dir(&fx);
    let mut cmd = fx.cmd(&app);
    // -q: no live display, whose own drawing would be all the terminal
    // gets besides the summary.
    cmd.args(["-q", "sync"])
        .env("PATH", path_with(&bin))
        .env("TRUST_GIT_FAIL", "fetch")
        .env(
            "TRUST_GIT_STDERR",
            "remote: \x1b]0;owned\x07\x1b[2K\x1b[1Alibb: 8bc0f76 (pinned by app), already there\u{202e}\n\
             fatal: \x1b[31mrefused\x1b[0m",
        );
    let (shown, status) = run_on_terminal(&cmd);
    assert_eq!(status, Some(1), "{shown}");
    assert_terminal_safe(&shown);
    let shown = shown.replace("\r\n", "\n");
    // The summary's block quotes git's telling line, escaped.
    assert!(
        shown.contains("  git said: fatal: \\x1b[31mrefused\\x1b[0m\n"),
        "{shown}"
    );
    assert!(
        shown.contains("error: stopped before changing any working tree"),
        "{shown}"
    );
    assert_eq!(heads(&fx), heads_before);
}

#[test]
fn pip_output_is_escaped_in_errors() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let (registry, _) = pip_schedule(&fx);
    let python = fx.tmp.path().join("hostile-python");
    std::fs::write(
        &python,
        format!(
            "#!/bin/sh\nprintf 'Looking in links: \\033]52;c;ZWNobyBvd25lZA==\\007\\n'\nprintf '{}\\n' >&2\nexit 1\n",
            "ERROR: \\033[2K\\rjaxlib: 0.4.1 -> 9.9.9 in requirements.txt"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(app.join("requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let mut cmd = fx.cmd(&app);
    cmd.env("OPENXLA_WORKSPACE_PYTHON", &python)
        .arg("--registry")
        .arg(&registry)
        .args(["roll", "pip"]);
    let (shown, status) = run_on_terminal(&cmd);
    assert_eq!(status, Some(1), "{shown}");
    assert_terminal_safe(&shown);
    let shown = shown.replace("\r\n", "\n");
    assert!(
        shown.contains(
            "\n    Looking in links: \\x1b]52;c;ZWNobyBvd25lZA==\\x07\n    \
             ERROR: \\x1b[2K\\x0djaxlib: 0.4.1 -> 9.9.9 in requirements.txt\n"
        ),
        "{shown}"
    );
    assert_eq!(
        std::fs::read_to_string(app.join("requirements.txt")).unwrap(),
        "jaxlib==0.4.1\n"
    );
}

// ---- Bounded reads ------------------------------------------------------------

#[test]
fn sync_and_status_refuse_a_pin_file_at_a_commit_over_1_mib_without_reading_it() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    // liba's pin file at the pinned commit is 3 MiB (it compresses to
    // almost nothing, so fetching it costs nothing).
    let huge = format!("# {}\n", "x".repeat(3 * 1024 * 1024));
    let evil = push_upstream(&fx, "liba", &[("sync_deps.py", &huge)]);
    let pins = std::fs::read_to_string(app.join("sync_deps.py"))
        .unwrap()
        .replace(fx.id("LIBA_2"), &evil);
    std::fs::write(app.join("sync_deps.py"), pins).unwrap();
    let heads_before = heads(&fx);
    let states_before: Vec<String> = ["liba", "libb", "base"]
        .iter()
        .map(|n| work_state(&fx, &fx.ws.join(n)))
        .collect();
    let bin = fake_git_dir(&fx);
    let sent = fx.tmp.path().join("cat-file-output");
    let env = [("PATH", path_with(&bin)), ("TRUST_GIT_TEE", sent.clone().into())];
    let env: Vec<(&str, &std::ffi::OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let too_large = format!(
        "liba/sync_deps.py at {}: is larger than 1 MiB, the limit for a pin file; is this really a sync_deps.py?",
        &evil[..7]
    );

    let err = fails(&run_env(&fx, &app, &["sync"], &env));
    assert!(err.contains(&format!("error: liba: {too_large}\n")), "{err}");
    assert!(err.contains("stopped before changing any working tree"), "{err}");
    let read = std::fs::metadata(&sent).unwrap().len();
    assert!(read < 1024 * 1024, "git was let send {read} bytes");
    assert_eq!(heads(&fx), heads_before);
    let states: Vec<String> = ["liba", "libb", "base"]
        .iter()
        .map(|n| work_state(&fx, &fx.ws.join(n)))
        .collect();
    assert_eq!(states, states_before, "a working tree changed");

    // status reads the same pin file from the commit, now fetched.
    std::fs::remove_file(&sent).unwrap();
    // A refused pin file fails status (issue 22, item 13).
    let out = run_env(&fx, &app, &["status"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stderr(&out), format!("warning: liba: {too_large}\n"));
    let read = std::fs::metadata(&sent).unwrap().len();
    assert!(read < 1024 * 1024, "git was let send {read} bytes");
    assert_no_payload_ran(&fx);
}

/// A file whose size the file system does not tell (procfs says 0 bytes
/// for all its files; a file that grows while it is read is the same) is
/// read to the limit and no further. Here the file is the tool's own
/// environment, which the test makes 1.5 MiB long.
#[test]
fn a_pin_file_that_says_it_is_empty_is_read_no_further_than_the_limit() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", &file).unwrap();
    let heads_before = heads(&fx);
    let mut cmd = fx.cmd(&app);
    cmd.arg("sync");
    let filler = "x".repeat(100 * 1024);
    for i in 0..15 {
        cmd.env(format!("FILLER_{i}"), &filler);
    }
    let (out, read) = common::run_counting_reads(cmd, 60).expect("sync finished");
    assert_eq!(
        (out.status.code(), stderr(&out)),
        (
            Some(1),
            format!(
                "error: {}: is larger than 1 MiB, the limit for a pin file; is this really a sync_deps.py?\n",
                file.display()
            )
        )
    );
    assert!(read < (1024 + 128) * 1024, "sync read {read} bytes");
    assert_eq!(heads(&fx), heads_before);
}

/// The limit is 1 MiB exactly: a pin file of that size is read, one byte
/// more is refused.
#[test]
fn a_pin_file_of_exactly_1_mib_is_read_and_one_byte_more_is_not() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    let file = app.join("sync_deps.py");
    let pins = std::fs::read_to_string(&file).unwrap();
    let padding = 1024 * 1024 - pins.len() - "#\n".len();
    std::fs::write(&file, format!("{pins}#{}\n", "x".repeat(padding))).unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 1024 * 1024);
    let out = fx.run(&app, &["-q", "sync"]);
    assert_eq!(
        (out.status.code(), fx.normalise(&stderr(&out))),
        (
            Some(0),
            format!(
                "warning: base: using {} (pinned by liba); libb pins {}\nsync app: 3 moved in TIME\n",
                short(fx.id("BASE_2")),
                short(fx.id("BASE_3"))
            )
        )
    );
    assert_eq!(
        heads(&fx)[1..],
        [
            format!("liba {}", fx.id("LIBA_2")),
            format!("libb {}", fx.id("LIBB_2")),
            format!("base {}", fx.id("BASE_2")),
        ]
    );

    std::fs::write(&file, format!("{pins}#{}\n", "x".repeat(padding + 1))).unwrap();
    let out = fx.run(&app, &["-q", "sync"]);
    assert_eq!(
        (out.status.code(), stderr(&out)),
        (
            Some(1),
            format!(
                "error: {}: is larger than 1 MiB, the limit for a pin file; is this really a sync_deps.py?\n",
                file.display()
            )
        )
    );
}

/// Runs `args` in the workspace with `--registry FILE`, with at most 512 MiB
/// of address space (so that a tool reading without bound fails instead of
/// filling the machine's memory), killed after `secs` seconds if it hangs.
fn run_with_registry(
    fx: &Fixture,
    registry: &Path,
    args: &[&str],
    secs: u64,
) -> Option<std::process::Output> {
    let mut cmd = common::hermetic(std::process::Command::new("bash"), &fx.home);
    cmd.current_dir(&fx.ws)
        .arg("-c")
        .arg("ulimit -v 524288; exec \"$0\" \"$@\"")
        .arg(common::BIN)
        .arg("--registry")
        .arg(registry)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let started = std::time::Instant::now();
    while started.elapsed().as_secs() < secs {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

#[test]
fn a_registry_that_is_a_fifo_or_a_device_is_refused_without_reading_it() {
    let fx = fixture();
    let before = snapshot_all(&fx);
    let fifo = fx.tmp.path().join("registry.fifo");
    make_fifo(&fifo);
    for (file, args) in [
        (fifo.as_path(), vec!["list"]),
        (fifo.as_path(), vec!["checkout", "app"]),
        (Path::new("/dev/zero"), vec!["list"]),
        (Path::new("/dev/zero"), vec!["checkout", "app"]),
    ] {
        let out = run_with_registry(&fx, file, &args, 20)
            .unwrap_or_else(|| panic!("{args:?} with --registry {} hung", file.display()));
        assert_eq!(
            fails(&out),
            format!(
                "error: invalid registry {}: is not a regular file (a device, FIFO or folder, perhaps \
                 through a symlink); a registry is a TOML file (--registry / OPENXLA_WORKSPACE_REGISTRY)\n",
                file.display()
            ),
            "{args:?}"
        );
    }
    std::fs::remove_file(&fifo).unwrap();
    assert_eq!(snapshot_all(&fx), before, "something changed on disk");
    assert!(!fx.ws.join("app").exists());
}

#[test]
fn a_workspace_registry_that_is_a_fifo_is_refused_not_skipped() {
    let fx = fixture();
    let file = fx.ws.join("openxla-workspace.toml");
    make_fifo(&file);
    let before = snapshot_all(&fx);
    let out = run_with_timeout(&fx, &fx.ws, &["checkout", "app"], 20).expect("checkout hung on a FIFO");
    assert_eq!(
        fails(&out),
        format!(
            "error: invalid registry {}: is not a regular file (a device, FIFO or folder, perhaps \
             through a symlink); a registry is a TOML file (the workspace's own registry)\n",
            file.display()
        )
    );
    assert_eq!(snapshot_all(&fx), before);
    assert!(!fx.ws.join("app").exists());
}

#[test]
fn a_registry_over_1_mib_is_refused_having_read_at_most_the_limit() {
    let fx = fixture();
    let file = fx.tmp.path().join("huge.toml");
    // Valid TOML all the way (a comment), so only its size can be refused;
    // 600 MiB, sparse: reading it whole would break the 512 MiB limit of
    // `run_with_registry`.
    let f = std::fs::File::create(&file).unwrap();
    std::io::Write::write_all(&mut &f, b"# ").unwrap();
    f.set_len(600 * 1024 * 1024).unwrap();
    drop(f);
    let before = snapshot_all(&fx);
    let out = run_with_registry(&fx, &file, &["checkout", "app"], 60).expect("checkout hung");
    assert_eq!(
        fails(&out),
        format!(
            "error: invalid registry {}: is larger than 1 MiB, the limit for a registry file \
             (--registry / OPENXLA_WORKSPACE_REGISTRY)\n",
            file.display()
        )
    );
    assert_eq!(snapshot_all(&fx), before);
}

// ---- pip ------------------------------------------------------------------------

/// A registry whose `pip` schedule for app asks the real pip for jaxlib's
/// versions in a folder of wheels (no network), with `extra_flags` first.
fn real_pip_schedule(fx: &Fixture, extra_flags: &str) -> std::path::PathBuf {
    let wheels = fx.tmp.path().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    for name in ["jaxlib-0.4.1-py3-none-any.whl", "jaxlib-0.4.2-py3-none-any.whl"] {
        std::fs::write(wheels.join(name), "").unwrap();
    }
    let registry = fx.tmp.path().join("pip.toml");
    let base = std::fs::read_to_string(fx.registry()).unwrap();
    std::fs::write(
        &registry,
        format!(
            "{base}\n[[repos.app.schedules.pip]]\npy_package = \"jaxlib\"\n\
             pip_flags = [{extra_flags}\"--no-index\", \"-f\", \"file://{}\"]\n\
             update_requirements = [\"requirements.txt\"]\n",
            wheels.display()
        ),
    )
    .unwrap();
    registry
}

#[test]
fn roll_refuses_pip_flags_that_would_write_to_a_shell_start_up_file_even_in_a_dry_run() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    std::fs::write(app.join("requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let bashrc = fx.home.join(".bashrc");
    std::fs::write(&bashrc, "# my shell start-up file\n").unwrap();
    let registry = real_pip_schedule(&fx, "\"--log\", \"~/.bashrc\", ");
    let before = snapshot_all(&fx);
    for dry_run in [true, false] {
        let mut cmd = fx.cmd(&app);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = cmd
            .arg("--registry")
            .arg(&registry)
            .args(["roll", "pip"])
            .output()
            .unwrap();
        assert_eq!(
            fails(&out),
            format!(
                "error: invalid registry {}: repos.app.schedules.pip[0].pip_flags: '--log' is not accepted; \
                 pip_flags may only say where versions come from: --index-url URL, --extra-index-url URL, \
                 --find-links URL (or -f URL), --pre, --no-index\n",
                registry.display()
            ),
            "dry run: {dry_run}"
        );
        assert_eq!(stdout(&out), "");
    }
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        "# my shell start-up file\n"
    );
    assert_eq!(snapshot_all(&fx), before, "something changed on disk");
    assert_no_payload_ran(&fx);
}

#[test]
fn roll_runs_the_real_pip_not_one_planted_in_the_project() {
    let fx = checked_out();
    let app = fx.ws.join("app");
    std::fs::write(app.join("requirements.txt"), "jaxlib==0.4.1\n").unwrap();
    let registry = real_pip_schedule(&fx, "");
    let roll = |dry_run: bool| {
        let mut cmd = fx.cmd(&app);
        if dry_run {
            cmd.arg("--dry-run");
        }
        cmd.arg("--registry")
            .arg(&registry)
            .args(["roll", "pip"])
            .output()
            .unwrap()
    };
    let payload =
        "import pathlib\npathlib.Path(__file__).resolve().parent.joinpath('PWNED').write_text('ran')\n";
    // A module, then a package (which Python would prefer to the module).
    for planted in ["pip.py", "pip/__main__.py"] {
        if let Some((package, _)) = planted.split_once('/') {
            std::fs::remove_file(app.join("pip.py")).unwrap();
            std::fs::create_dir_all(app.join(package)).unwrap();
            std::fs::write(app.join(package).join("__init__.py"), payload).unwrap();
        }
        std::fs::write(app.join(planted), payload).unwrap();
        commit_files(&fx, &app, &[], &format!("our own {planted}"));
        let out = roll(true);
        assert!(out.status.success(), "{planted}: {}", text(&out));
        assert_eq!(
            stdout(&out),
            format!(
                "jaxlib: 0.4.1 -> 0.4.2 in requirements.txt\nWould update requirements.\nwould write {}\n",
                app.join("requirements.txt").display()
            ),
            "{planted}"
        );
        assert_no_payload_ran(&fx);
    }
    let out = roll(false);
    assert!(out.status.success(), "{}", text(&out));
    assert_no_payload_ran(&fx);
    assert_eq!(
        std::fs::read_to_string(app.join("requirements.txt")).unwrap(),
        "jaxlib==0.4.2\n"
    );
}

// ---- Workspace markers that come with a repository ----------------------------------

/// A registry that a repository might commit beside a marker: loaded as the
/// workspace's, it would send every clone and fetch of liba elsewhere.
fn planted_registry(fx: &Fixture) -> String {
    format!(
        "[repos.liba]\nro_url = \"file://{}/elsewhere/liba.git\"\ndeps = [\"base\"]\n",
        fx.tmp.path().display()
    )
}

const MARKER: &str = ".openxla_workspace.json";

#[test]
fn a_project_that_commits_a_workspace_marker_is_not_the_workspace() {
    let fx = fixture();
    let registry = planted_registry(&fx);
    push_upstream(
        &fx,
        "app",
        &[
            (MARKER, "{\"version\": 0}\n"),
            ("openxla-workspace.toml", &registry),
        ],
    );
    fx.ok(&["checkout", "app"]);
    let app = fx.ws.join("app");
    assert!(app.join(MARKER).is_file() && app.join("openxla-workspace.toml").is_file());
    let warning = format!(
        "warning: ignored the workspace marker {}: it is inside {}, a project of the workspace {}; \
         a marker that comes with a repository does not make a workspace\n",
        app.join(MARKER).display(),
        app.display(),
        fx.ws.display()
    );

    let from_top = fx.run(&fx.ws, &["status", "--repo", "app"]);
    assert!(from_top.status.success(), "{}", text(&from_top));
    let before = snapshot_all(&fx);
    let inside = fx.run(&app, &["status"]);
    assert!(inside.status.success(), "{}", text(&inside));
    assert_eq!(stdout(&inside), stdout(&from_top));
    assert_eq!(stderr(&inside), warning);
    assert_eq!(snapshot_all(&fx), before);

    let out = fx.run(&app, &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.starts_with(&warning), "{err}");
    assert_eq!(err.matches("ignored the workspace marker").count(), 1, "{err}");
    assert_eq!(fx.head("liba"), fx.id("LIBA_2"));
    assert_eq!(fx.head("libb"), fx.id("LIBB_2"));
    assert!(!fx.tmp.path().join("elsewhere").exists());
    assert_no_payload_ran(&fx);
}

#[test]
fn a_clone_that_commits_a_workspace_marker_is_no_workspace_and_cannot_be_made_one() {
    let fx = fixture();
    let registry = planted_registry(&fx);
    push_upstream(
        &fx,
        "app",
        &[
            (MARKER, "{\"version\": 0}\n"),
            ("openxla-workspace.toml", &registry),
        ],
    );
    let clone = fx.tmp.path().join("clone");
    fx.git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            fx.remote("app").to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let before = snapshot_all(&fx);
    let warning = format!(
        "warning: ignored the workspace marker {}: it is tracked by git; \
         a marker that comes with a repository does not make a workspace\n",
        clone.join(MARKER).display()
    );
    for args in [&["status"][..], &["sync"], &["list"]] {
        let out = fx.run(&clone, args);
        if args == ["list"] {
            // list works outside a workspace: with the default and
            // OPENXLA_WORKSPACE_REGISTRY layers, never the clone's file.
            assert!(out.status.success(), "{}", text(&out));
            assert!(!stdout(&out).contains("elsewhere"), "{}", text(&out));
            assert_eq!(stderr(&out), warning);
            continue;
        }
        assert_eq!(
            fails(&out),
            format!(
                "{warning}error: No workspace found in a directory enclosing {}\n  \
                 run `openxla-workspace init` in the folder that should hold your checkouts\n",
                clone.display()
            ),
            "{args:?}"
        );
    }
    assert_eq!(
        fails(&fx.run(&clone, &["init"])),
        format!(
            "{warning}error: {} is here already, but it is tracked by git, so this folder cannot be a \
             workspace; run `openxla-workspace init` in a folder outside that repository\n",
            clone.join(MARKER).display()
        )
    );
    assert_eq!(snapshot_all(&fx), before, "something changed on disk");
}

#[test]
fn a_workspace_inside_the_users_own_repository_is_a_workspace() {
    // A home folder kept in git, with a workspace in it that git does not
    // track (untracked, or ignored).
    let fx = fixture();
    let home_repo = fx.tmp.path().join("dotfiles");
    std::fs::create_dir_all(&home_repo).unwrap();
    fx.git(&home_repo, &["init", "-q"]);
    commit_files(&fx, &home_repo, &[(".gitignore", "ignored-ws/\n")], "dotfiles");
    for name in ["ws", "ignored-ws"] {
        let ws = home_repo.join(name);
        std::fs::create_dir_all(&ws).unwrap();
        let out = fx.run(&ws, &["init"]);
        assert_eq!(
            stdout(&out),
            format!("Initialized workspace at: {}\n", ws.display())
        );
        let out = fx.run(&ws, &["checkout", "--sync", "app"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!stderr(&out).contains("workspace marker"), "{}", text(&out));
        let out = fx.run(&ws.join("liba"), &["status"]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(stderr(&out), "");
        assert!(stdout(&out).contains("at pin"), "{}", text(&out));
    }
}
