//! The registry of known projects: TOML layers (embedded default, workspace
//! file, `--registry` file) merged per project name and validated into
//! [`Registry`]. Only this module knows the TOML format.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use serde::Deserialize;

use crate::model::pip_flags::PipFlags;
use crate::model::types::{BranchName, RemoteUrl, RepoName};

/// The OpenXLA projects, compiled in.
pub const DEFAULT_REGISTRY: &str = include_str!("default_registry.toml");

/// Where a project's definition came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Compiled into the binary.
    Default,
    /// `<workspace>/openxla-workspace.toml`.
    Workspace(PathBuf),
    /// `--registry FILE` or `OPENXLA_WORKSPACE_REGISTRY`.
    Explicit(PathBuf),
}

impl Layer {
    fn file_label(&self) -> String {
        match self {
            Layer::Default => "the embedded default registry".to_string(),
            Layer::Workspace(p) | Layer::Explicit(p) => p.display().to_string(),
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Default => f.write_str("embedded default"),
            Layer::Workspace(p) => write!(f, "workspace file {}", p.display()),
            Layer::Explicit(p) => write!(f, "registry file {}", p.display()),
        }
    }
}

/// One roll action of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RollAction {
    /// Pin the dependency to the head of its tracking branch.
    GitHead(RepoName),
    /// Pin a Python package to its newest version in requirements files.
    PyPackage {
        /// The package name as pip knows it.
        name: String,
        /// Where `pip index versions` looks (validated flags).
        pip_flags: PipFlags,
        /// Requirements files, relative to the project folder.
        update_requirements: Vec<PathBuf>,
    },
}

/// A validated project definition.
#[derive(Clone, Debug)]
pub struct Project {
    /// The project's name, also its folder in the workspace.
    pub name: RepoName,
    /// Read-only clone URL.
    pub ro_url: RemoteUrl,
    /// Read-write clone URL (defaults to `ro_url`).
    pub rw_url: RemoteUrl,
    /// Direct dependencies, in declared order (the order breaks pin ties).
    pub deps: Vec<RepoName>,
    /// Whether its git submodules must be initialised.
    pub submodules: bool,
    /// The branch its commits land on upstream.
    pub tracking_branch: BranchName,
    /// Named schedules of roll actions.
    pub schedules: BTreeMap<String, Vec<RollAction>>,
    /// The layer that defined it.
    pub layer: Layer,
    /// Earlier layers whose definition this one replaced.
    pub replaced: Vec<Layer>,
}

impl Project {
    /// The URL clones come from: `ro_url` when `read_only`, else `rw_url`.
    pub fn url(&self, read_only: bool) -> &RemoteUrl {
        if read_only {
            &self.ro_url
        } else {
            &self.rw_url
        }
    }
}

/// The merged, validated set of projects.
#[derive(Clone, Debug)]
pub struct Registry {
    projects: BTreeMap<RepoName, Project>,
}

/// The registry files to layer over the embedded default.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// `<workspace>/openxla-workspace.toml`, when present.
    pub workspace_file: Option<PathBuf>,
    /// `--registry FILE` or `$OPENXLA_WORKSPACE_REGISTRY`.
    pub explicit_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    include_default: Option<bool>,
    #[serde(default)]
    repos: BTreeMap<String, RepoEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoEntry {
    ro_url: String,
    rw_url: Option<String>,
    #[serde(default)]
    deps: Vec<String>,
    #[serde(default)]
    submodules: bool,
    tracking_branch: Option<String>,
    #[serde(default)]
    schedules: BTreeMap<String, Vec<ActionEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionEntry {
    git_head: Option<String>,
    py_package: Option<String>,
    pip_flags: Option<Vec<String>>,
    update_requirements: Option<Vec<String>>,
}

/// Loads the layers named in `sources` over the embedded default.
pub fn load(sources: &Sources) -> Result<Registry> {
    let mut layers: Vec<(Layer, RegistryFile)> = Vec::new();
    let workspace_layer: fn(PathBuf) -> Layer = Layer::Workspace;
    for (path, layer) in [
        (&sources.workspace_file, workspace_layer),
        (&sources.explicit_file, Layer::Explicit),
    ] {
        if let Some(path) = path {
            let layer = layer(path.clone());
            let file = parse_file(&read_registry_file(path, &layer)?, &layer)?;
            layers.push((layer, file));
        }
    }
    let include_default = layers
        .iter()
        .all(|(_, file)| file.include_default.unwrap_or(true));
    if include_default {
        let default = parse_file(DEFAULT_REGISTRY, &Layer::Default)?;
        layers.insert(0, (Layer::Default, default));
    }
    from_layers(layers)
}

/// The largest registry file read; real ones are a few kilobytes.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Reads a registry file: a regular file of at most [`MAX_FILE_SIZE`]
/// bytes of UTF-8. A FIFO or a device is refused without being read.
fn read_registry_file(path: &Path, layer: &Layer) -> Result<String> {
    let whence = match layer {
        Layer::Workspace(_) => "the workspace's own registry",
        _ => "--registry / OPENXLA_WORKSPACE_REGISTRY",
    };
    let bytes = crate::model::atomic::read_regular_file(path, MAX_FILE_SIZE).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => anyhow!(
            "invalid registry {}: is not a regular file (a device, FIFO or folder, perhaps through a symlink); \
             a registry is a TOML file ({whence})",
            path.display()
        ),
        std::io::ErrorKind::InvalidData => anyhow!(
            "invalid registry {}: is larger than 1 MiB, the limit for a registry file ({whence})",
            path.display()
        ),
        _ => anyhow!(e).context(format!(
            "could not read the registry file {}; check the path ({whence})",
            path.display()
        )),
    })?;
    String::from_utf8(bytes).map_err(|_| {
        anyhow!(
            "invalid registry {}: is not UTF-8 text; a registry is a TOML file",
            path.display()
        )
    })
}

/// Parses a single registry text as the only layer (used by tests).
pub fn from_str(text: &str, file: &Path) -> Result<Registry> {
    let layer = Layer::Explicit(file.to_path_buf());
    let parsed = parse_file(text, &layer)?;
    from_layers(vec![(layer, parsed)])
}

fn parse_file(text: &str, layer: &Layer) -> Result<RegistryFile> {
    toml::from_str(text).map_err(|e| {
        anyhow!(
            "invalid registry {}: {}",
            layer.file_label(),
            e.to_string().trim_end()
        )
    })
}

fn from_layers(layers: Vec<(Layer, RegistryFile)>) -> Result<Registry> {
    let mut projects: BTreeMap<RepoName, Project> = BTreeMap::new();
    for (layer, file) in layers {
        for (name, entry) in file.repos {
            let mut project = validate_entry(&name, entry, &layer)?;
            if let Some(old) = projects.remove(&project.name) {
                project.replaced = old.replaced;
                project.replaced.push(old.layer);
            }
            projects.insert(project.name.clone(), project);
        }
    }
    let registry = Registry { projects };
    registry.check_deps()?;
    Ok(registry)
}

fn validate_entry(name: &str, entry: RepoEntry, layer: &Layer) -> Result<Project> {
    let file = layer.file_label();
    let invalid = |field: &str, problem: &dyn fmt::Display| {
        anyhow!("invalid registry {file}: repos.{name}.{field}: {problem}")
    };
    let repo_name =
        RepoName::new(name).map_err(|e| anyhow!("invalid registry {file}: [repos.{name}]: {e}"))?;
    if let Some(own) = crate::model::workspace::own_file_named(&repo_name) {
        bail!(
            "invalid registry {file}: [repos.{name}]: a project named '{name}' would be checked out over the \
             workspace's own file {own}; rename the project"
        );
    }
    let ro_url = RemoteUrl::new(&entry.ro_url).map_err(|e| invalid("ro_url", &e))?;
    let rw_url = match &entry.rw_url {
        Some(u) => RemoteUrl::new(u).map_err(|e| invalid("rw_url", &e))?,
        None => ro_url.clone(),
    };
    let mut deps = Vec::new();
    for dep in &entry.deps {
        let dep_name = RepoName::new(dep).map_err(|e| invalid("deps", &e))?;
        if dep_name == repo_name {
            return Err(invalid("deps", &format!("'{name}' depends on itself")));
        }
        if deps.contains(&dep_name) {
            return Err(invalid("deps", &format!("'{dep}' is listed twice")));
        }
        deps.push(dep_name);
    }
    let tracking_branch = BranchName::new(entry.tracking_branch.as_deref().unwrap_or("main"))
        .map_err(|e| invalid("tracking_branch", &e))?;
    let mut schedules = BTreeMap::new();
    for (schedule, actions) in entry.schedules {
        let key = format!("schedules.{schedule}");
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if schedule.is_empty() || !schedule.chars().all(allowed) {
            let problem = "schedule names use ASCII letters, digits, '-' and '_'";
            return Err(invalid(&key, &problem));
        }
        let mut parsed = Vec::new();
        for (i, action) in actions.into_iter().enumerate() {
            let at =
                |field: &str, problem: &dyn fmt::Display| invalid(&format!("{key}[{i}]{field}"), problem);
            parsed.push(validate_action(action, &deps, &at)?);
        }
        schedules.insert(schedule, parsed);
    }
    Ok(Project {
        name: repo_name,
        ro_url,
        rw_url,
        deps,
        submodules: entry.submodules,
        tracking_branch,
        schedules,
        layer: layer.clone(),
        replaced: Vec::new(),
    })
}

/// Validates one action of a schedule; `invalid(".FIELD", problem)` is the
/// error for a field of the action (`""`: the action itself).
fn validate_action(
    action: ActionEntry,
    deps: &[RepoName],
    invalid: &dyn Fn(&str, &dyn fmt::Display) -> anyhow::Error,
) -> Result<RollAction> {
    match (action.git_head, action.py_package) {
        (Some(dep), None) => {
            if action.pip_flags.is_some() || action.update_requirements.is_some() {
                let problem = "pip_flags and update_requirements go with py_package, not git_head";
                return Err(invalid("", &problem));
            }
            let dep = RepoName::new(&dep).map_err(|e| invalid(".git_head", &e))?;
            if !deps.contains(&dep) {
                let problem = format!("'{dep}' is not one of this project's deps");
                return Err(invalid(".git_head", &problem));
            }
            Ok(RollAction::GitHead(dep))
        }
        (None, Some(package)) => {
            if !is_python_package_name(&package) {
                let problem = format!("'{}' is not a valid Python package name", package.escape_debug());
                return Err(invalid(".py_package", &problem));
            }
            let requirements = action.update_requirements.unwrap_or_default();
            let files = requirements
                .iter()
                .map(|f| requirements_path(f).map_err(|e| invalid(".update_requirements", &e)))
                .collect::<Result<_>>()?;
            let pip_flags = PipFlags::parse(&action.pip_flags.unwrap_or_default())
                .map_err(|e| invalid(".pip_flags", &e))?;
            Ok(RollAction::PyPackage {
                name: package,
                pip_flags,
                update_requirements: files,
            })
        }
        (Some(_), Some(_)) => {
            let problem = "an action has either git_head or py_package, not both";
            Err(invalid("", &problem))
        }
        (None, None) => {
            let problem = "an action needs git_head = \"DEP\" or py_package = \"NAME\"";
            Err(invalid("", &problem))
        }
    }
}

/// An `update_requirements` entry: a relative path to a file inside the
/// project, with no control or invisible characters.
fn requirements_path(f: &str) -> Result<PathBuf, String> {
    if let Some(c) = f.chars().find(|&c| crate::model::text::needs_escape(c)) {
        return Err(format!(
            "'{}' holds the control or invisible character U+{:04X}; paths cannot hold them",
            crate::model::text::escape_control(f, false),
            c as u32
        ));
    }
    let path = PathBuf::from(f);
    // `.` alone (the project folder itself) names no file.
    let inside = matches!(path.components().next_back(), Some(Component::Normal(_)))
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        return Err(format!(
            "'{}' must be a relative path inside the project",
            f.escape_debug()
        ));
    }
    Ok(path)
}

/// A name pip would accept for a distribution (PEP 508).
fn is_python_package_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.len() <= 200
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Registry {
    /// All projects, sorted by name.
    pub fn projects(&self) -> impl Iterator<Item = &Project> {
        self.projects.values()
    }

    /// The project named `name`, if known.
    pub fn get(&self, name: &RepoName) -> Option<&Project> {
        self.projects.get(name)
    }

    /// Looks up a name typed by a user; an unknown one is an error that
    /// lists the known names, the closest to what was typed first.
    pub fn lookup(&self, name: &str) -> Result<&Project> {
        RepoName::new(name)
            .ok()
            .and_then(|n| self.projects.get(&n))
            .ok_or_else(|| {
                let known =
                    crate::model::suggest::closest_first(name, self.projects.keys().map(|n| n.as_str()));
                anyhow!(
                    "No repository matching '{}' found (did you mean one of: {})",
                    name.escape_debug(),
                    known.join(", ")
                )
            })
    }

    /// The named projects and, if `with_deps`, the transitive closure of
    /// their deps, breadth-first in declared order, skipping excluded deps
    /// (and everything reachable only through them). Roots are never excluded.
    pub fn closure(
        &self,
        roots: &[RepoName],
        with_deps: bool,
        excluded: impl Fn(&RepoName) -> bool,
    ) -> Vec<RepoName> {
        // `order` is also the queue: `next` is the first name whose deps are not yet queued.
        let mut order = roots.to_vec();
        let mut seen: BTreeSet<RepoName> = roots.iter().cloned().collect();
        let mut next = 0;
        while with_deps && next < order.len() {
            if let Some(project) = self.projects.get(&order[next]) {
                for dep in &project.deps {
                    if !excluded(dep) && seen.insert(dep.clone()) {
                        order.push(dep.clone());
                    }
                }
            }
            next += 1;
        }
        order
    }

    fn check_deps(&self) -> Result<()> {
        for project in self.projects.values() {
            for dep in &project.deps {
                if !self.projects.contains_key(dep) {
                    bail!(
                        "invalid registry {}: repos.{}.deps: unknown project '{dep}'; define [repos.{dep}] or remove it from deps",
                        project.layer.file_label(),
                        project.name
                    );
                }
            }
        }
        let mut done = BTreeSet::new();
        for name in self.projects.keys() {
            self.find_cycle(name, &mut done, &mut Vec::new())?;
        }
        Ok(())
    }

    /// Depth-first search from `name` (reached through `stack`) for a
    /// dependency cycle; `done` holds the projects known to lead to none.
    fn find_cycle<'a>(
        &'a self,
        name: &'a RepoName,
        done: &mut BTreeSet<&'a RepoName>,
        stack: &mut Vec<&'a RepoName>,
    ) -> Result<()> {
        if done.contains(name) {
            return Ok(());
        }
        if let Some(start) = stack.iter().position(|n| *n == name) {
            return Err(self.cycle_error(&stack[start..]));
        }
        stack.push(name);
        for dep in &self.projects[name].deps {
            self.find_cycle(dep, done, stack)?;
        }
        stack.pop();
        done.insert(name);
        Ok(())
    }

    /// The error for the cycle through `members`, blamed on the member from
    /// the latest layer: a cycle spanning files is closed by the one layered last.
    fn cycle_error(&self, members: &[&RepoName]) -> anyhow::Error {
        let rank = |name: &RepoName| match self.projects[name].layer {
            Layer::Default => 0,
            Layer::Workspace(_) => 1,
            Layer::Explicit(_) => 2,
        };
        let blamed = (0..members.len())
            .max_by_key(|&i| (rank(members[i]), std::cmp::Reverse(i)))
            .unwrap_or(0);
        let mut cycle: Vec<&str> = members[blamed..]
            .iter()
            .chain(&members[..blamed])
            .map(|n| n.as_str())
            .collect();
        cycle.push(members[blamed].as_str());
        let first = &self.projects[members[blamed]];
        let others: BTreeSet<String> = members
            .iter()
            .map(|n| &self.projects[*n].layer)
            .filter(|l| **l != first.layer)
            .map(Layer::file_label)
            .collect();
        let elsewhere = if others.is_empty() {
            String::new()
        } else {
            format!(
                " (the rest of the cycle is defined in {})",
                others.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        anyhow!(
            "invalid registry {}: repos.{}.deps: dependency cycle {}{elsewhere}",
            first.layer.file_label(),
            first.name,
            cycle.join(" -> ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Registry> {
        from_str(text, Path::new("reg.toml"))
    }

    #[test]
    fn embedded_default_describes_the_openxla_projects() {
        let reg = load(&Sources::default()).unwrap();
        let names: Vec<&str> = reg.projects().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["iree", "jax", "openxla-pjrt-plugin", "stablehlo", "xla"]);
        let plugin = reg.lookup("openxla-pjrt-plugin").unwrap();
        assert_eq!(
            plugin.deps.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            ["iree", "jax", "xla"]
        );
        assert_eq!(
            plugin.schedules["continuous"],
            vec![RollAction::GitHead(RepoName::new("iree").unwrap())]
        );
        assert_eq!(plugin.schedules["nightly"].len(), 5);
        assert!(reg.lookup("iree").unwrap().submodules);
        assert_eq!(
            reg.lookup("jax").unwrap().ro_url.as_str(),
            "https://github.com/jax-ml/jax.git"
        );
    }

    #[test]
    fn defaults_fill_rw_url_and_tracking_branch() {
        let reg = parse("[repos.a]\nro_url = \"https://x/a.git\"\n").unwrap();
        let a = reg.lookup("a").unwrap();
        assert_eq!(a.rw_url, a.ro_url);
        assert_eq!(a.tracking_branch.as_str(), "main");
        assert!(!a.submodules && a.deps.is_empty());
    }

    #[test]
    fn unknown_keys_are_errors_naming_file_and_key() {
        let err = parse("[repos.a]\nro_url = \"https://x/a.git\"\nbranch = \"main\"\n").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("reg.toml") && msg.contains("branch"), "{msg}");
        let err = parse("colour = 1\n").unwrap_err();
        assert!(format!("{err:#}").contains("colour"));
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = parse("[repos.a]\nro_url = \"https://x/a.git\"\nsubmodules = \"yes\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("reg.toml"), "{err:#}");
    }

    #[test]
    fn unknown_dep_is_an_error_naming_the_key() {
        let err = parse("[repos.a]\nro_url = \"https://x/a.git\"\ndeps = [\"b\"]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid registry reg.toml: repos.a.deps: unknown project 'b'; define [repos.b] or remove it from deps"
        );
    }

    #[test]
    fn cycles_and_self_deps_are_errors() {
        let err = parse(
            "[repos.a]\nro_url = \"https://x/a\"\ndeps = [\"b\"]\n[repos.b]\nro_url = \"https://x/b\"\ndeps = [\"a\"]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("dependency cycle a -> b -> a"), "{err}");
        let err = parse("[repos.a]\nro_url = \"https://x/a\"\ndeps = [\"a\"]\n").unwrap_err();
        assert!(err.to_string().contains("depends on itself"), "{err}");
    }

    #[test]
    fn a_cycle_across_layers_blames_the_later_file() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws.toml");
        std::fs::write(
            &ws,
            "include_default = false\n[repos.a]\nro_url = \"https://x/a\"\ndeps = [\"b\"]\n\
             [repos.b]\nro_url = \"https://x/b\"\n",
        )
        .unwrap();
        let late = dir.path().join("late.toml");
        std::fs::write(&late, "[repos.b]\nro_url = \"https://x/b\"\ndeps = [\"a\"]\n").unwrap();
        let err = load(&Sources {
            workspace_file: Some(ws.clone()),
            explicit_file: Some(late.clone()),
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid registry {}: repos.b.deps: dependency cycle b -> a -> b \
                 (the rest of the cycle is defined in {})",
                late.display(),
                ws.display()
            )
        );
    }

    #[test]
    fn invalid_names_and_urls_are_errors() {
        let err = parse("[repos.\"../x\"]\nro_url = \"https://x/a\"\n").unwrap_err();
        assert!(err.to_string().contains("[repos.../x]"), "{err}");
        let err = parse("[repos.a]\nro_url = \"--upload-pack=touch PWNED\"\n").unwrap_err();
        assert!(err.to_string().contains("repos.a.ro_url"), "{err}");
        let err = parse("[repos.a]\nro_url = \"ext::sh -c touch\"\n").unwrap_err();
        assert!(err.to_string().contains("repos.a.ro_url"), "{err}");
    }

    #[test]
    fn names_of_the_workspace_files_are_refused() {
        for name in ["openxla-workspace.toml", "OpenXLA-Workspace.TOML"] {
            let err = parse(&format!("[repos.\"{name}\"]\nro_url = \"https://x/a\"\n")).unwrap_err();
            assert!(
                err.to_string().contains(&format!(
                    "[repos.{name}]: a project named '{name}' would be checked out over the workspace's own file \
                     openxla-workspace.toml"
                )),
                "{err}"
            );
        }
        parse("[repos.\"openxla-workspace.toml.d\"]\nro_url = \"https://x/a\"\n").unwrap();
    }

    #[test]
    fn schedules_are_validated() {
        let base =
            "[repos.l]\nro_url = \"https://x/l\"\n[repos.a]\nro_url = \"https://x/a\"\ndeps = [\"l\"]\n";
        let ok = format!("{base}[[repos.a.schedules.nightly]]\ngit_head = \"l\"\n[[repos.a.schedules.nightly]]\npy_package = \"jax_lib\"\nupdate_requirements = [\"req/r.txt\"]\n");
        let reg = parse(&ok).unwrap();
        assert_eq!(reg.lookup("a").unwrap().schedules["nightly"].len(), 2);
        for (bad, expect) in [
            ("git_head = \"zz\"\n", "not one of this project's deps"),
            ("git_head = \"l\"\npy_package = \"p\"\n", "not both"),
            ("pip_flags = []\n", "needs git_head"),
            ("py_package = \"-x\"\n", "not a valid Python package name"),
            (
                "py_package = \"p\"\nupdate_requirements = [\"../r.txt\"]\n",
                "relative path inside",
            ),
            (
                "py_package = \"p\"\nupdate_requirements = [\"/etc/passwd\"]\n",
                "relative path inside",
            ),
            (
                "py_package = \"p\"\nupdate_requirements = [\"./.\"]\n",
                "relative path inside",
            ),
        ] {
            let text = format!("{base}[[repos.a.schedules.nightly]]\n{bad}");
            let err = parse(&text).unwrap_err();
            assert!(err.to_string().contains(expect), "{bad}: {err}");
            assert!(err.to_string().contains("repos.a.schedules.nightly[0]"), "{err}");
        }
    }

    #[test]
    fn later_layers_replace_projects_whole_and_can_drop_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws.toml");
        std::fs::write(&ws, "[repos.xla]\nro_url = \"https://mirror/xla.git\"\n").unwrap();
        let reg = load(&Sources {
            workspace_file: Some(ws.clone()),
            explicit_file: None,
        })
        .unwrap();
        let xla = reg.lookup("xla").unwrap();
        assert_eq!(xla.rw_url.as_str(), "https://mirror/xla.git");
        assert_eq!(xla.layer, Layer::Workspace(ws.clone()));
        assert_eq!(xla.replaced, vec![Layer::Default]);
        assert!(reg.lookup("iree").is_ok());

        let only = dir.path().join("only.toml");
        std::fs::write(
            &only,
            "include_default = false\n[repos.app]\nro_url = \"https://x/app\"\n",
        )
        .unwrap();
        let reg = load(&Sources {
            workspace_file: Some(ws),
            explicit_file: Some(only),
        })
        .unwrap();
        let names: Vec<&str> = reg.projects().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["app", "xla"]);
    }

    #[test]
    fn closure_is_breadth_first_and_honours_exclusions() {
        let reg = parse(
            "[repos.app]\nro_url = \"https://x/app\"\ndeps = [\"a\", \"b\"]\n[repos.a]\nro_url = \"https://x/a\"\ndeps = [\"base\"]\n[repos.b]\nro_url = \"https://x/b\"\ndeps = [\"base\"]\n[repos.base]\nro_url = \"https://x/base\"\n",
        )
        .unwrap();
        let n = |s: &str| RepoName::new(s).unwrap();
        let all = reg.closure(&[n("app")], true, |_| false);
        assert_eq!(all, vec![n("app"), n("a"), n("b"), n("base")]);
        assert_eq!(reg.closure(&[n("app")], false, |_| false), vec![n("app")]);
        let some = reg.closure(&[n("app")], true, |d| d.as_str() == "base");
        assert_eq!(some, vec![n("app"), n("a"), n("b")]);
        let err = reg.lookup("ap").unwrap_err();
        assert_eq!(
            err.to_string(),
            "No repository matching 'ap' found (did you mean one of: app, a, b, base)"
        );
    }
}
