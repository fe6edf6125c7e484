//! The workspace's remembered settings and roots, kept in
//! [`FILE`] beside the marker (which stays `{"version": 0}`, as the
//! original tool wrote it): `init` and `config` set them, and every run
//! starts from them. For one run, a command-line flag wins over an
//! environment variable, which wins over the workspace's setting, which
//! wins over the default ([`InEffect`]).
//!
//! The file is JSON:
//!
//! ```json
//! {
//!   "settings": {"registry": "/abs/registry.toml", "ro": true, "filter": "blob:none",
//!                "depth": 1, "jobs": 16, "cache-dir": "/abs/cache"},
//!   "roots": ["openxla-pjrt-plugin"]
//! }
//! ```
//!
//! It is read bounded and only as a regular file, validated whole (an
//! unknown key or a value of the wrong kind is an error naming the file
//! and the key), and rewritten atomically.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use serde_json::{json, Value};

use crate::model::types::{Filter, RepoName};

/// Default number of git processes at a time. Cloning and fetching wait on
/// the network far more than on the CPU, so this is well above the core
/// count. `scripts/bench.sh` measures the choice: on 2 cores, 8, 16 and 32
/// are within noise of each other at 150 ms per connection, and 16 or 32
/// gained 5% to 15% at 500 ms. It stays 8: OpenSSH servers by default start
/// dropping unauthenticated connections beyond 10 at once (`MaxStartups
/// 10:30:100`), and a workspace's connections often all go to one host.
pub const DEFAULT_JOBS: usize = 8;

/// The settings file, in the workspace folder.
pub const FILE: &str = ".openxla_workspace.settings.json";

/// The largest settings file read.
const MAX_SIZE: u64 = 64 * 1024;

/// The most parallel git processes `jobs` may ask for (as `--jobs`).
pub const MAX_JOBS: u16 = 256;

/// A setting's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// The registry file layered over the others (`--registry`).
    Registry,
    /// Clone from the read-only URLs (`--ro`).
    Ro,
    /// Partial clones (`--filter`).
    Filter,
    /// Shallow clones and fetches (`--depth`).
    Depth,
    /// Git processes at a time (`--jobs`).
    Jobs,
    /// The shared object cache (`--cache-dir`).
    CacheDir,
}

/// Each key's name, environment variable and flag, in the order of [`Key`]'s variants.
const NAMES: [(&str, &str, &str); 6] = [
    ("registry", "OPENXLA_WORKSPACE_REGISTRY", "--registry"),
    ("ro", "OPENXLA_WORKSPACE_RO", "--ro"),
    ("filter", "OPENXLA_WORKSPACE_FILTER", "--filter"),
    ("depth", "OPENXLA_WORKSPACE_DEPTH", "--depth"),
    ("jobs", "OPENXLA_WORKSPACE_JOBS", "--jobs"),
    ("cache-dir", "OPENXLA_WORKSPACE_CACHE", "--cache-dir"),
];

impl Key {
    /// Every key, in the order they are shown.
    pub const ALL: [Key; 6] = [
        Key::Registry,
        Key::Ro,
        Key::Filter,
        Key::Depth,
        Key::Jobs,
        Key::CacheDir,
    ];

    /// The key as `config` and the file name it.
    pub fn name(self) -> &'static str {
        NAMES[self as usize].0
    }

    /// What the key sets, for `config --help` and completions.
    pub fn about(self) -> &'static str {
        match self {
            Key::Registry => "a registry file layered over the others (FILE)",
            Key::Ro => "clone from the read-only URLs (true or false)",
            Key::Filter => "partial clones: blob:none or tree:0 (none: full clones)",
            Key::Depth => "clone and fetch only the last N commits (0: full history)",
            Key::Jobs => "git processes at a time (1 to 256)",
            Key::CacheDir => "a shared object cache (DIR)",
        }
    }

    /// The environment variable that overrides it for one run.
    pub fn env(self) -> &'static str {
        NAMES[self as usize].1
    }

    /// The command-line option that overrides it for one run.
    pub fn flag(self) -> &'static str {
        NAMES[self as usize].2
    }

    /// The key named `name`, or an error listing the keys.
    pub fn parse(name: &str) -> Result<Key, String> {
        Key::ALL.into_iter().find(|k| k.name() == name).ok_or_else(|| {
            let names = NAMES.map(|(name, _, _)| name).join(", ");
            format!(
                "unknown setting '{}'; the settings are: {names}",
                name.escape_debug()
            )
        })
    }
}

/// The settings a workspace keeps; `None` where it keeps none. Written to
/// the file with each key set, in the order of [`Key`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Stored {
    /// `registry`: an absolute path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<PathBuf>,
    /// `ro`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ro: Option<bool>,
    /// `filter`; `Some(None)` is `none` (full clones, said explicitly).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "filter_as_text")]
    pub filter: Option<Option<Filter>>,
    /// `depth` (0: full history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// `jobs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<u16>,
    /// `cache-dir`: an absolute path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
}

impl Stored {
    /// The value of `key` as `config KEY` prints it, if set.
    pub fn get(&self, key: Key) -> Option<String> {
        match key {
            Key::Registry => self.registry.as_ref().map(|p| p.display().to_string()),
            Key::Ro => self.ro.map(|b| b.to_string()),
            Key::Filter => self.filter.map(filter_text),
            Key::Depth => self.depth.map(|d| d.to_string()),
            Key::Jobs => self.jobs.map(|j| j.to_string()),
            Key::CacheDir => self.cache_dir.as_ref().map(|p| p.display().to_string()),
        }
    }

    /// Sets `key` from `value` as typed on a command line; a relative path
    /// is taken from `cwd`, and kept absolute.
    pub fn set(&mut self, key: Key, value: &str, cwd: &Path) -> Result<(), String> {
        let path = |v: &str| {
            if v.is_empty() {
                return Err("expected a path, found nothing".to_string());
            }
            let path = absolute(cwd, Path::new(v));
            check_path(key, &path)?;
            Ok(path)
        };
        match key {
            Key::Registry => self.registry = Some(path(value)?),
            Key::Ro => self.ro = Some(parse_bool(value)?),
            Key::Filter => self.filter = Some(Filter::parse(value)?),
            Key::Depth => self.depth = Some(parse_depth(value)?),
            Key::Jobs => self.jobs = Some(parse_jobs(value)?),
            Key::CacheDir => self.cache_dir = Some(path(value)?),
        }
        Ok(())
    }

    /// Forgets `key`.
    pub fn unset(&mut self, key: Key) {
        match key {
            Key::Registry => self.registry = None,
            Key::Ro => self.ro = None,
            Key::Filter => self.filter = None,
            Key::Depth => self.depth = None,
            Key::Jobs => self.jobs = None,
            Key::CacheDir => self.cache_dir = None,
        }
    }
}

/// What the settings file of a workspace holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkspaceSettings {
    /// The settings.
    #[serde(rename = "settings")]
    pub stored: Stored,
    /// The projects checked out by name, in the order first named.
    pub roots: Vec<RepoName>,
}

impl WorkspaceSettings {
    /// The settings of the workspace at `root` (none when it has no
    /// settings file). A file that is not a regular one, too large, not
    /// JSON, or with an unknown key or a bad value is an error naming the
    /// file and the key.
    pub fn load(root: &Path) -> Result<WorkspaceSettings> {
        Self::load_except(root, None)
    }

    /// Like [`WorkspaceSettings::load`], but a bad value of `key` is
    /// dropped instead of refused: `config KEY VALUE` and `config --unset
    /// KEY` can then repair it.
    pub fn load_except(root: &Path, key: Option<Key>) -> Result<WorkspaceSettings> {
        let path = root.join(FILE);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(WorkspaceSettings::default());
        }
        let bytes = crate::model::atomic::read_regular_file(&path, MAX_SIZE)
            .with_context(|| format!("could not read the workspace settings {}", path.display()))?;
        parse(&bytes, key).map_err(|problem| {
            anyhow!(
                "{}: {problem}\n  fix it with `openxla-workspace config KEY VALUE` or `config --unset KEY`, or remove the file",
                path.display()
            )
        })
    }

    /// Writes the settings of the workspace at `root`, atomically.
    pub fn save(&self, root: &Path) -> Result<()> {
        let path = root.join(FILE);
        let failed = || format!("could not write the workspace settings {}", path.display());
        // A path that is not UTF-8 (from a working folder that is not) is
        // refused here rather than written changed.
        let mut text = serde_json::to_string_pretty(self).with_context(failed)?;
        text.push('\n');
        crate::model::atomic::write_atomically(&path, text.as_bytes()).with_context(failed)
    }

    /// Adds `names` to the roots (those not there yet, in order); returns
    /// whether any was new.
    pub fn add_roots(&mut self, names: &[RepoName]) -> bool {
        let mut added = false;
        for name in names {
            if !self.roots.contains(name) {
                self.roots.push(name.clone());
                added = true;
            }
        }
        added
    }
}

fn parse(bytes: &[u8], lenient: Option<Key>) -> Result<WorkspaceSettings, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(doc) = value else {
        return Err("expected a JSON object".into());
    };
    let mut out = WorkspaceSettings::default();
    for (field, value) in &doc {
        match field.as_str() {
            "settings" => {
                let Value::Object(settings) = value else {
                    return Err("key `settings`: expected an object".into());
                };
                for (name, value) in settings {
                    let key = Key::parse(name)
                        .map_err(|e| format!("key `settings.{}`: {e}", name.escape_debug()))?;
                    match read_value(&mut out.stored, key, value) {
                        Ok(()) => {}
                        Err(_) if lenient == Some(key) => {}
                        Err(problem) => return Err(format!("key `{}`: {problem}", key.name())),
                    }
                }
            }
            "roots" => {
                let Value::Array(names) = value else {
                    return Err("key `roots`: expected a list of project names".into());
                };
                for name in names {
                    let root = name
                        .as_str()
                        .ok_or_else(|| format!("key `roots`: expected project names, found {name}"))
                        .and_then(|n| RepoName::new(n).map_err(|e| format!("key `roots`: {e}")))?;
                    out.add_roots(&[root]);
                }
            }
            other => {
                return Err(format!(
                    "unknown key `{}` (expected `settings` and `roots`)",
                    other.escape_debug()
                ))
            }
        }
    }
    Ok(out)
}

fn read_value(stored: &mut Stored, key: Key, value: &Value) -> Result<(), String> {
    let expected = |what: &str| {
        let found = value.to_string();
        format!(
            "expected {what}, found {}",
            crate::model::text::escape_control(&found, false)
        )
    };
    let path = || {
        let path = value
            .as_str()
            .filter(|p| Path::new(p).is_absolute())
            .ok_or_else(|| expected("an absolute path"))?;
        check_path(key, Path::new(path))?;
        Ok::<_, String>(Some(PathBuf::from(path)))
    };
    match key {
        Key::Registry => stored.registry = path()?,
        Key::CacheDir => stored.cache_dir = path()?,
        Key::Ro => stored.ro = Some(value.as_bool().ok_or_else(|| expected("true or false"))?),
        Key::Filter => {
            let text = value.as_str().ok_or_else(|| expected("a string"))?;
            stored.filter = Some(Filter::parse(text)?);
        }
        Key::Depth => {
            let depth = value.as_u64().and_then(|d| u32::try_from(d).ok());
            let expected_depth = || expected("a whole number of commits (0: full history)");
            stored.depth = Some(depth.ok_or_else(expected_depth)?);
        }
        Key::Jobs => {
            let jobs = value.as_u64().and_then(|j| u16::try_from(j).ok());
            let jobs = jobs.filter(|j| (1..=MAX_JOBS).contains(j));
            let expected_jobs = || expected(&format!("a whole number from 1 to {MAX_JOBS}"));
            stored.jobs = Some(jobs.ok_or_else(expected_jobs)?);
        }
    }
    Ok(())
}

/// Refuses a path no run could use or show: one with control or invisible
/// characters (every later message would carry them), and for `cache-dir`
/// one with white space too (the cache's mirrors are git URLs).
fn check_path(key: Key, path: &Path) -> Result<(), String> {
    let text = path.to_string_lossy();
    let bad = |c: char| crate::model::text::needs_escape(c) || (key == Key::CacheDir && c.is_whitespace());
    match text.chars().find(|&c| bad(c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "the path '{}' holds the character U+{:04X}; a {} path cannot hold control or invisible characters{}",
            crate::model::text::escape_control(&text, false),
            c as u32,
            key.name(),
            if key == Key::CacheDir { " or white space" } else { "" }
        )),
    }
}

fn filter_text(filter: Option<Filter>) -> String {
    filter.map_or("none", Filter::as_str).to_string()
}

/// `filter` as the file writes it: the spec, or `none`.
fn filter_as_text<S: serde::Serializer>(filter: &Option<Option<Filter>>, to: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&filter.map(filter_text), to)
}

/// `true`/`false` (also `yes`/`no`, `1`/`0`, `on`/`off`).
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" | "" => Ok(false),
        _ => Err(format!("expected true or false, found '{}'", text.escape_debug())),
    }
}

/// A depth: a whole number of commits, 0 for full history.
pub fn parse_depth(text: &str) -> Result<u32, String> {
    text.parse().map_err(|_| {
        format!(
            "expected a whole number of commits (0: full history), found '{}'",
            text.escape_debug()
        )
    })
}

/// A number of jobs, 1 to [`MAX_JOBS`].
pub fn parse_jobs(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|j| (1..=MAX_JOBS).contains(j))
        .ok_or_else(|| {
            format!(
                "expected a whole number from 1 to {MAX_JOBS}, found '{}'",
                text.escape_debug()
            )
        })
}

fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// Where a value in effect comes from (as `--json` names it, in lower case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The command line.
    Flag,
    /// An environment variable.
    Env,
    /// The workspace's settings.
    Workspace,
    /// The tool's default.
    Default,
}

/// One setting in effect and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it comes from.
    pub source: Source,
}

/// The settings in effect for this run: for each, a flag on the command
/// line, else its environment variable, else the workspace's setting, else
/// the default.
#[derive(Clone, Debug)]
pub struct InEffect {
    /// The registry file layered over the others.
    pub registry: Setting<Option<PathBuf>>,
    /// Clone from the read-only URLs.
    pub ro: Setting<bool>,
    /// The partial-clone filter.
    pub filter: Setting<Option<Filter>>,
    /// `--depth`, `None` for full history.
    pub depth: Setting<Option<u32>>,
    /// Git processes at a time.
    pub jobs: Setting<usize>,
    /// The shared object cache.
    pub cache_dir: Setting<Option<PathBuf>>,
}

/// What the command line gave for the settings, and whether each came
/// from its flag or (for the variables clap reads) its environment
/// variable. `None`: not given either way.
#[derive(Clone, Debug, Default)]
pub struct Given {
    /// `--registry FILE` or `$OPENXLA_WORKSPACE_REGISTRY`.
    pub registry: Option<(PathBuf, Source)>,
    /// `--ro` (only `true` can be given as a flag).
    pub ro: bool,
    /// `--filter SPEC`.
    pub filter: Option<Option<Filter>>,
    /// `--depth N`.
    pub depth: Option<u32>,
    /// `--jobs N` or `$OPENXLA_WORKSPACE_JOBS`.
    pub jobs: Option<(u16, Source)>,
    /// `--cache-dir DIR` or `$OPENXLA_WORKSPACE_CACHE`.
    pub cache_dir: Option<(PathBuf, Source)>,
}

impl InEffect {
    /// Combines what was given with `env` (the process environment, as a
    /// lookup) and the workspace's `stored` settings. A bad value in an
    /// environment variable is an error naming it.
    pub fn resolve(given: &Given, env: &dyn Fn(&str) -> Option<String>, stored: &Stored) -> Result<InEffect> {
        /// The flag's or environment variable's value, else the workspace's, else `default`.
        fn pick<T>(
            given: Option<(T, Source)>,
            env: Option<(T, Source)>,
            stored: Option<T>,
            default: T,
        ) -> Setting<T> {
            let (value, source) = given
                .or(env)
                .or(stored.map(|v| (v, Source::Workspace)))
                .unwrap_or((default, Source::Default));
            Setting { value, source }
        }
        fn from_env<T>(
            env: &dyn Fn(&str) -> Option<String>,
            key: Key,
            parse: fn(&str) -> Result<T, String>,
        ) -> Result<Option<(T, Source)>> {
            let Some(text) = env(key.env()).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            let value = parse(&text).map_err(|e| anyhow!("${}: {e}", key.env()))?;
            Ok(Some((value, Source::Env)))
        }
        let ro_env = from_env(env, Key::Ro, parse_bool)?;
        let filter_env = from_env(env, Key::Filter, Filter::parse)?;
        let depth_env = from_env(env, Key::Depth, parse_depth)?;
        let path = |given: &Option<(PathBuf, Source)>, stored: &Option<PathBuf>| {
            pick(
                given.clone().map(|(p, s)| (Some(p), s)),
                None,
                stored.clone().map(Some),
                None,
            )
        };
        let depth = pick(given.depth.map(|d| (d, Source::Flag)), depth_env, stored.depth, 0);
        Ok(InEffect {
            registry: path(&given.registry, &stored.registry),
            ro: pick(given.ro.then_some((true, Source::Flag)), ro_env, stored.ro, false),
            filter: pick(
                given.filter.map(|f| (f, Source::Flag)),
                filter_env,
                stored.filter,
                None,
            ),
            depth: Setting {
                value: Some(depth.value).filter(|&d| d > 0),
                source: depth.source,
            },
            jobs: pick(
                given.jobs.map(|(j, s)| (usize::from(j), s)),
                None,
                stored.jobs.map(usize::from),
                DEFAULT_JOBS,
            ),
            cache_dir: path(&given.cache_dir, &stored.cache_dir),
        })
    }

    /// Each setting as `(key, value text, source)`, in [`Key::ALL`] order.
    pub fn rows(&self) -> Vec<(Key, String, Source)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map_or("none".to_string(), |p| p.display().to_string());
        vec![
            (Key::Registry, path(&self.registry.value), self.registry.source),
            (Key::Ro, self.ro.value.to_string(), self.ro.source),
            (Key::Filter, filter_text(self.filter.value), self.filter.source),
            (
                Key::Depth,
                self.depth.value.unwrap_or(0).to_string(),
                self.depth.source,
            ),
            (Key::Jobs, self.jobs.value.to_string(), self.jobs.source),
            (Key::CacheDir, path(&self.cache_dir.value), self.cache_dir.source),
        ]
    }

    /// The settings as text, one per line, for `status`, `list` and
    /// `config`: `  jobs       16    (workspace)`.
    pub fn render(&self, roots: &[RepoName]) -> String {
        let rows = self.rows();
        let width = rows.iter().map(|(_, v, _)| v.chars().count()).max().unwrap_or(0);
        let mut out = String::from("Settings in effect:\n");
        for (key, value, source) in rows {
            let from = match source {
                Source::Flag => key.flag().to_string(),
                Source::Env => format!("${}", key.env()),
                Source::Workspace => "workspace".to_string(),
                Source::Default => "default".to_string(),
            };
            out.push_str(&format!("  {:<9}  {value:<width$}  ({from})\n", key.name()));
        }
        let roots: Vec<&str> = roots.iter().map(RepoName::as_str).collect();
        let roots = if roots.is_empty() {
            "(none)".to_string()
        } else {
            roots.join(", ")
        };
        out.push_str(&format!("Roots: {roots}\n"));
        out
    }

    /// The settings for a `--json` document: `{KEY: {"value": ..., "source": ...}}`.
    pub fn to_json(&self) -> Value {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let entry = |value: Value, source: Source| json!({"value": value, "source": source});
        json!({
            "registry": entry(json!(path(&self.registry.value)), self.registry.source),
            "ro": entry(json!(self.ro.value), self.ro.source),
            "filter": entry(json!(self.filter.value.map(Filter::as_str)), self.filter.source),
            "depth": entry(json!(self.depth.value.unwrap_or(0)), self.depth.source),
            "jobs": entry(json!(self.jobs.value), self.jobs.source),
            "cache-dir": entry(json!(path(&self.cache_dir.value)), self.cache_dir.source),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_wins_over_the_environment_over_the_workspace_over_the_default() {
        let stored = Stored {
            jobs: Some(3),
            filter: Some(Some(Filter::TreeZero)),
            depth: Some(5),
            ro: Some(true),
            ..Stored::default()
        };
        let env = |k: &str| match k {
            "OPENXLA_WORKSPACE_FILTER" => Some("blob:none".to_string()),
            "OPENXLA_WORKSPACE_RO" => Some("0".to_string()),
            _ => None,
        };
        let given = Given {
            depth: Some(0),
            ..Given::default()
        };
        let effect = InEffect::resolve(&given, &env, &stored).unwrap();
        assert_eq!(
            effect.jobs,
            Setting {
                value: 3,
                source: Source::Workspace
            }
        );
        assert_eq!(
            effect.filter,
            Setting {
                value: Some(Filter::BlobNone),
                source: Source::Env
            }
        );
        assert_eq!(
            effect.ro,
            Setting {
                value: false,
                source: Source::Env
            }
        );
        assert_eq!(
            effect.depth,
            Setting {
                value: None,
                source: Source::Flag
            }
        );
        assert_eq!(
            effect.cache_dir,
            Setting {
                value: None,
                source: Source::Default
            }
        );
        let bad = |k: &str| (k == "OPENXLA_WORKSPACE_DEPTH").then(|| "deep".to_string());
        let err = InEffect::resolve(&Given::default(), &bad, &stored)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "$OPENXLA_WORKSPACE_DEPTH: expected a whole number of commits (0: full history), found 'deep'"
        );
    }

    #[test]
    fn the_file_is_read_back_as_written_and_bad_values_name_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = WorkspaceSettings::default();
        settings.stored.set(Key::Jobs, "16", dir.path()).unwrap();
        settings.stored.set(Key::Registry, "r.toml", dir.path()).unwrap();
        settings.stored.set(Key::Filter, "none", dir.path()).unwrap();
        settings.add_roots(&[RepoName::new("app").unwrap()]);
        settings.save(dir.path()).unwrap();
        assert_eq!(WorkspaceSettings::load(dir.path()).unwrap(), settings);
        assert_eq!(
            settings.stored.get(Key::Registry).unwrap(),
            dir.path().join("r.toml").display().to_string()
        );

        for (text, problem) in [
            (
                r#"{"settings": {"jobs": 0}}"#,
                "key `jobs`: expected a whole number from 1 to 256, found 0",
            ),
            (
                r#"{"settings": {"filter": "sparse:oid=x"}}"#,
                "key `filter`: unsupported filter 'sparse:oid=x'",
            ),
            (
                r#"{"settings": {"colour": 1}}"#,
                "key `settings.colour`: unknown setting 'colour'",
            ),
            (
                r#"{"roots": ["../x"]}"#,
                "key `roots`: project name '../x' must start",
            ),
            (
                r#"{"settings": {"registry": "rel.toml"}}"#,
                "key `registry`: expected an absolute path, found \"rel.toml\"",
            ),
            ("[1]", "expected a JSON object"),
        ] {
            std::fs::write(dir.path().join(FILE), text).unwrap();
            let err = format!("{:#}", WorkspaceSettings::load(dir.path()).unwrap_err());
            let file = dir.path().join(FILE).display().to_string();
            assert!(err.starts_with(&format!("{file}: {problem}")), "{err}");
        }
        // `config jobs N` can repair a bad `jobs`.
        std::fs::write(
            dir.path().join(FILE),
            r#"{"settings": {"jobs": "x", "ro": true}}"#,
        )
        .unwrap();
        let loaded = WorkspaceSettings::load_except(dir.path(), Some(Key::Jobs)).unwrap();
        assert_eq!(loaded.stored.ro, Some(true));
        assert_eq!(loaded.stored.jobs, None);
    }
}
