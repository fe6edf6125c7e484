//! What the pin-file reader and the registry loader promise about any input,
//! checked from the outside: they never panic, and whatever they accept holds
//! only values the validated types (`src/model/types.rs`) allow. The fuzz targets call these on
//! every generated input; `tests/suite/trust_fuzz_regressions.rs` replays the kept
//! inputs in `testdata/fuzz/` through the same checks.
//!
//! The oracles below are written independently of `src/model/types.rs` on purpose:
//! a check that reused the validators could not catch a bug in them.

#![allow(dead_code)] // each fuzz target uses half of these

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};

use openxla_workspace::model::pinfile;
use openxla_workspace::model::registry::{self, RollAction};

/// Feeds `bytes` to the pin-file reader and checks what it says.
pub fn check_pinfile(bytes: &[u8]) {
    let label = Path::new("fuzz/sync_deps.py");
    let result = pinfile::parse_bytes(bytes, label);
    let pins = match result {
        Ok(pins) => pins,
        Err(e) => {
            // An error names the file and a line that exists (0: whole file).
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
            assert!(e.line <= lines, "error line {} beyond {lines} lines: {e}", e.line);
            assert!(e.to_string().starts_with("fuzz/sync_deps.py"), "{e}");
            return;
        }
    };
    assert!(
        bytes.len() <= pinfile::MAX_FILE_SIZE,
        "accepted a file over the size limit"
    );
    assert!(!bytes.contains(&0), "accepted a file with a NUL byte");
    assert!(std::str::from_utf8(bytes).is_ok(), "accepted invalid UTF-8");

    let mut seen = BTreeSet::new();
    for (name, commit) in pins.pinned() {
        assert!(is_project_name(name.as_str()), "accepted name {name:?}");
        assert!(is_commit_id(commit.as_str()), "accepted commit {commit:?}");
        assert!(seen.insert(name.clone()), "{name} pinned twice");
    }
    let mut seen = BTreeSet::new();
    for (name, url) in pins.origins() {
        assert!(is_project_name(name.as_str()), "accepted name {name:?}");
        assert!(is_safe_url(url.as_str()), "accepted URL {url:?}");
        assert!(seen.insert(name.clone()), "{name} has two origins");
    }
    let mut seen = BTreeSet::new();
    for name in pins.submodules() {
        assert!(is_project_name(name.as_str()), "accepted name {name:?}");
        assert!(seen.insert(name.clone()), "{name} in SUBMODULES twice");
    }

    // What the writer makes of it reads back the same, and is stable.
    let rendered = pinfile::render(&pins);
    let again = pinfile::parse(&rendered, label).expect("the reader refuses what the writer wrote");
    assert_eq!(again, pins, "render then parse changed the pins");
    assert_eq!(pinfile::render(&again), rendered, "rendering is not stable");
}

/// Feeds `bytes` (as UTF-8 text, the way registry files are read) to the
/// registry loader and checks what it says.
pub fn check_registry(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return; // read_to_string refuses it before the loader sees it
    };
    let Ok(reg) = registry::from_str(text, Path::new("fuzz.toml")) else {
        return;
    };
    let names: BTreeSet<&str> = reg.projects().map(|p| p.name.as_str()).collect();
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for project in reg.projects() {
        let name = project.name.as_str();
        assert!(is_project_name(name), "accepted name {name:?}");
        assert!(
            is_safe_url(project.ro_url.as_str()),
            "accepted {:?}",
            project.ro_url
        );
        assert!(
            is_safe_url(project.rw_url.as_str()),
            "accepted {:?}",
            project.rw_url
        );
        assert!(
            is_branch(project.tracking_branch.as_str()),
            "accepted branch {:?}",
            project.tracking_branch
        );
        let mut deps = BTreeSet::new();
        for dep in &project.deps {
            assert!(names.contains(dep.as_str()), "{name} depends on unknown {dep}");
            assert_ne!(dep.as_str(), name, "{name} depends on itself");
            assert!(deps.insert(dep.as_str()), "{name} lists {dep} twice");
        }
        graph.insert(name, project.deps.iter().map(|d| d.as_str()).collect());
        for (schedule, actions) in &project.schedules {
            assert!(
                !schedule.is_empty()
                    && schedule
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "accepted schedule name {schedule:?}"
            );
            for action in actions {
                match action {
                    RollAction::GitHead(dep) => {
                        assert!(
                            deps.contains(dep.as_str()),
                            "git_head {dep} is not a dep of {name}"
                        )
                    }
                    RollAction::PyPackage {
                        name: package,
                        pip_flags,
                        update_requirements,
                    } => {
                        // Only flags that say where versions come from, each
                        // value a URL or a path that no option could be.
                        let flags = pip_flags.to_string();
                        let mut tokens = flags.split(' ').filter(|t| !t.is_empty());
                        while let Some(flag) = tokens.next() {
                            match flag {
                                "--pre" | "--no-index" => {}
                                "--index-url" | "--extra-index-url" | "--find-links" | "-f" => {
                                    let value = tokens.next().expect("a value after {flag}");
                                    let url = ["https://", "http://", "file://"]
                                        .iter()
                                        .any(|s| value.to_ascii_lowercase().starts_with(s));
                                    let inside = Path::new(value)
                                        .components()
                                        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
                                    assert!(
                                        !value.starts_with('-')
                                            && (url || inside)
                                            && value.bytes().all(|b| b.is_ascii_graphic()),
                                        "accepted pip flag value {value:?}"
                                    );
                                }
                                other => panic!("accepted pip flag {other:?}"),
                            }
                        }
                        assert!(
                            !package.is_empty()
                                && !package.starts_with(['-', '.', '_'])
                                && package
                                    .bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b)),
                            "accepted package {package:?}"
                        );
                        for file in update_requirements {
                            assert!(
                                file.is_relative()
                                    && matches!(file.components().next_back(), Some(Component::Normal(_)))
                                    && file
                                        .components()
                                        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir)),
                                "accepted requirements path {file:?}"
                            );
                        }
                    }
                }
            }
        }
    }
    // No cycles: repeatedly remove projects whose deps are all removed.
    let mut left = graph;
    loop {
        let ready: Vec<&str> = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
            .map(|(n, _)| *n)
            .collect();
        if ready.is_empty() {
            break;
        }
        for n in ready {
            left.remove(n);
        }
    }
    assert!(
        left.is_empty(),
        "accepted a dependency cycle among {:?}",
        left.keys()
    );
}

/// `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 100 bytes, as `RepoName` accepts.
pub fn is_project_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 100
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

/// 40 or 64 lowercase hex digits, not all zero.
pub fn is_commit_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && s.bytes().any(|b| b != b'0')
}

/// Cannot be read as an option, by git or by ssh, and names no transport
/// that runs commands; no white space or control characters.
pub fn is_safe_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    // Where ssh would find a user and host: the authority of a URL, or what
    // comes before the ':' of an scp-like `user@host:path` (a ':' after a
    // '/' makes it a local path).
    let host_part = match s.find("://") {
        Some(i) => s[i + 3..].split('/').next().unwrap_or(""),
        None => match s.find(':') {
            Some(c) if !s[..c].contains('/') => &s[..c],
            _ => "",
        },
    };
    !s.is_empty()
        && !s.starts_with('-')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !lower.starts_with("ext::")
        && !lower.starts_with("fd::")
        && !host_part.split('@').any(|p| p.starts_with('-'))
        && (s.contains("://") || !s.contains("::"))
}

/// Not an option, no white space, no `..`, nothing git refuses in a ref.
pub fn is_branch(s: &str) -> bool {
    !s.is_empty()
        && s != "@"
        && !s.starts_with('-')
        && !s.contains("..")
        && !s.contains("@{")
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
        && !s
            .split('/')
            .any(|part| part.is_empty() || part.starts_with('.') || part.ends_with(".lock"))
        && !s.ends_with('.')
}
