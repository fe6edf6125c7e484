//! The fuzz targets' promises (see `fuzz/invariants.rs`), checked in the
//! main suite: the pin-file reader and the registry loader never panic and
//! never accept a value the validated types (`src/model/types.rs`) refuse. Replays every input kept in
//! `testdata/fuzz/` (crashes the fuzzer found, kept after their fix), the
//! hostile and ordinary test data, and a fixed number of deterministic
//! mutations of them, so a regression shows up in `cargo test` without
//! cargo-fuzz.

#[path = "../../fuzz/invariants.rs"]
mod invariants;

use std::path::{Path, PathBuf};

fn files_in(dirs: &[&str]) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue; // git keeps no empty folders
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

/// Runs `check` on `input`, naming the input if it panics.
fn replay(name: &str, input: &[u8], check: fn(&[u8])) {
    if std::panic::catch_unwind(|| check(input)).is_err() {
        panic!("broken promise on {name}: {:?}", String::from_utf8_lossy(input));
    }
}

/// A tiny deterministic generator, so a failure reproduces.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutates `seed` the way a fuzzer would: flip, insert, delete, duplicate
/// or splice in a token.
fn mutate(rng: &mut XorShift, seed: &[u8], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next() as u8),
            2 if at < out.len() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = (at + 1 + rng.below(32)).min(out.len());
                let copy = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, copy);
            }
            _ => {
                let token = tokens[rng.below(tokens.len())];
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

const PIN_TOKENS: &[&[u8]] = &[
    b"PINNED_VERSIONS = {",
    b"ORIGINS = {",
    b"SUBMODULES = {",
    b"}",
    b"\"",
    b"'",
    b"\\u",
    b"\\U0001F600",
    b"\n",
    b"\r\n",
    b",",
    b": ",
    b"#",
    b"../x",
    b"-x",
    b"ext::sh",
    b"ssh://-o",
    b"git@-o:x",
    b"0000000000000000000000000000000000000000",
    b"A75B47C06CEE4AD20A2F73DDD3AF80D4A7E3B73B",
    b"True",
    b"\xff",
    b"\0",
];

const REGISTRY_TOKENS: &[&[u8]] = &[
    b"[repos.",
    b"]\n",
    b"[[repos.a.schedules.n]]\n",
    b"ro_url = \"",
    b"rw_url = \"",
    b"deps = [\"",
    b"\"]\n",
    b"tracking_branch = \"",
    b"git_head = \"",
    b"py_package = \"",
    b"update_requirements = [\"../",
    b"include_default = false\n",
    b"\"",
    b"..",
    b"-",
    b"ext::",
    b".lock",
    b"@{",
    b"\\n",
    b"\n",
];

#[test]
fn the_pin_file_reader_keeps_its_promises_on_every_kept_input() {
    let files = files_in(&[
        "testdata/fuzz/pinfile",
        "testdata/hostile/pinfiles",
        "testdata/pinfiles",
        "testdata/pinfiles/bad",
        "testdata/pinfiles/golden",
    ]);
    assert!(files.len() > 40, "test data missing: {}", files.len());
    for (path, bytes) in &files {
        replay(&path.display().to_string(), bytes, invariants::check_pinfile);
    }
}

#[test]
fn the_registry_loader_keeps_its_promises_on_every_kept_input() {
    let mut files = files_in(&[
        "testdata/fuzz/registry",
        "testdata/hostile/registries",
        "fuzz/seeds/registry",
    ]);
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model/default_registry.toml");
    files.push((default.clone(), std::fs::read(&default).unwrap()));
    assert!(files.len() > 20, "test data missing: {}", files.len());
    for (path, bytes) in &files {
        replay(&path.display().to_string(), bytes, invariants::check_registry);
    }
}

#[test]
fn the_pin_file_reader_keeps_its_promises_on_mutated_inputs() {
    let seeds = files_in(&["testdata/pinfiles", "testdata/hostile/pinfiles"]);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000 {
        let (_, seed) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed, PIN_TOKENS);
        replay(&format!("mutation {i}"), &input, invariants::check_pinfile);
    }
}

#[test]
fn the_registry_loader_keeps_its_promises_on_mutated_inputs() {
    let seeds = files_in(&["fuzz/seeds/registry", "testdata/hostile/registries"]);
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for i in 0..5_000 {
        let (_, seed) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed, REGISTRY_TOKENS);
        replay(&format!("mutation {i}"), &input, invariants::check_registry);
    }
}
