//! `list`: show the registry.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::model::registry::{Layer, Registry, RollAction};
use crate::ui::dep_tree::DepTrees;

/// Prints every project with its URLs, deps as a tree, schedules and the
/// layer that defined it. Works outside a workspace (default and
/// `--registry` layers only).
pub fn run(ctx: &Context, args: &crate::cli::ListArgs) -> Result<i32> {
    let workspace = ctx.search_workspace()?.workspace;
    if workspace.is_some() {
        ctx.check_settings()?;
    }
    let registry = ctx.registry(workspace.as_ref())?;
    if args.format == crate::cli::ListFormat::Dot {
        super::list_dot::print(ctx, &registry, workspace.as_ref())?;
        return Ok(0);
    }
    let roots = ctx.roots();
    if args.json.json {
        let mut doc = serde_json::to_value(document(&registry))?;
        doc["settings"] = ctx.settings.to_json();
        doc["roots"] = roots.iter().map(|r| r.to_string()).collect::<Vec<_>>().into();
        crate::ui::json::print_document("list", true, doc);
        return Ok(0);
    }
    // Streamed: the listing of a large registry is never whole in memory.
    let mut out = Stream::default();
    // Stops early only when stdout was closed (a reader that went away).
    if render(&registry, &mut out).is_ok() {
        let _ = write!(out, "\n{}", ctx.settings.render(&roots));
    }
    out.flush();
    Ok(0)
}

/// Text for stdout, written in pieces of about [`Stream::CHUNK`] bytes.
/// A registry is anyone's text: a requirements path or a bidi character in
/// a branch name must not reach the terminal as such, so every piece has
/// its control characters escaped.
#[derive(Default)]
struct Stream {
    pending: String,
}

impl Stream {
    const CHUNK: usize = 64 * 1024;

    fn flush(&mut self) {
        crate::ui::stdout::out!("{}", crate::model::text::escape_control(&self.pending, true));
        self.pending.clear();
    }
}

impl Write for Stream {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if crate::ui::stdout::is_closed() {
            return Err(fmt::Error);
        }
        self.pending.push_str(s);
        if self.pending.len() >= Self::CHUNK {
            self.flush();
        }
        Ok(())
    }
}

/// Writes the listing into `out`; each project's subtree is drawn once
/// ([`DepTrees`]).
fn render(registry: &Registry, out: &mut impl Write) -> fmt::Result {
    let mut trees = DepTrees::new(registry);
    for project in registry.projects() {
        let _ = writeln!(out, "{}", project.name);
        let _ = writeln!(out, "  ro_url:     {}", project.ro_url);
        let _ = writeln!(out, "  rw_url:     {}", project.rw_url);
        let _ = writeln!(out, "  branch:     {}", project.tracking_branch);
        let submodules = if project.submodules { "yes" } else { "no" };
        let _ = writeln!(out, "  submodules: {submodules}");
        if project.deps.is_empty() {
            let _ = writeln!(out, "  deps:       (none)");
        } else {
            let _ = writeln!(out, "  deps:");
            trees.write(&project.name, "    ", out)?;
        }
        for (schedule, actions) in &project.schedules {
            let _ = writeln!(out, "  schedule {schedule}:");
            for action in actions {
                match action {
                    RollAction::GitHead(dep) => {
                        let _ = writeln!(out, "    git_head {dep}");
                    }
                    RollAction::PyPackage {
                        name,
                        pip_flags,
                        update_requirements,
                    } => {
                        let files: Vec<String> = update_requirements
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect();
                        let _ = write!(out, "    py_package {name}");
                        if !pip_flags.is_empty() {
                            let _ = write!(out, " (pip {pip_flags})");
                        }
                        if !files.is_empty() {
                            let _ = write!(out, " -> {}", files.join(", "));
                        }
                        let _ = writeln!(out);
                    }
                }
            }
        }
        let _ = write!(out, "  defined in: {}", project.layer);
        if !project.replaced.is_empty() {
            let replaced: Vec<String> = project.replaced.iter().map(|l| l.to_string()).collect();
            let _ = write!(out, " (replaces the entry in {})", replaced.join(", "));
        }
        writeln!(out)?;
    }
    out.write_str(&trees.legend())
}

/// The `--json` document of `list` (after `schema`, `command`, `ok`).
#[derive(Serialize)]
struct Document {
    /// Every project, sorted by name.
    projects: Vec<ProjectEntry>,
}

/// One project of the registry in effect.
#[derive(Serialize)]
struct ProjectEntry {
    name: String,
    ro_url: String,
    rw_url: String,
    tracking_branch: String,
    submodules: bool,
    /// Direct deps, in declared order.
    deps: Vec<String>,
    /// Each schedule's actions, in order (see [`action_entry`]).
    schedules: BTreeMap<String, Vec<serde_json::Value>>,
    /// `default`, `workspace` or `registry` (from `--registry` or
    /// `$OPENXLA_WORKSPACE_REGISTRY`).
    layer: &'static str,
    /// The file of that layer (`null` for the default).
    layer_file: Option<String>,
    /// The files of the earlier layers whose entry this one replaced.
    replaces: Vec<String>,
}

/// A roll action as the registry writes it: `{"git_head": "DEP"}` or
/// `{"py_package": ..., "pip_flags": [...], "update_requirements": [...]}`.
fn action_entry(action: &RollAction) -> serde_json::Value {
    match action {
        RollAction::GitHead(dep) => serde_json::json!({"git_head": dep.to_string()}),
        RollAction::PyPackage {
            name,
            pip_flags,
            update_requirements,
        } => serde_json::json!({
            "py_package": name,
            "pip_flags": pip_flags.tokens(),
            "update_requirements": update_requirements.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        }),
    }
}

fn document(registry: &Registry) -> Document {
    let layer = |layer: &Layer| match layer {
        Layer::Default => ("default", None),
        Layer::Workspace(p) => ("workspace", Some(p.display().to_string())),
        Layer::Explicit(p) => ("registry", Some(p.display().to_string())),
    };
    let projects = registry
        .projects()
        .map(|p| {
            let (name, file) = layer(&p.layer);
            ProjectEntry {
                name: p.name.to_string(),
                ro_url: p.ro_url.to_string(),
                rw_url: p.rw_url.to_string(),
                tracking_branch: p.tracking_branch.to_string(),
                submodules: p.submodules,
                deps: p.deps.iter().map(|d| d.to_string()).collect(),
                schedules: p
                    .schedules
                    .iter()
                    .map(|(name, actions)| (name.clone(), actions.iter().map(action_entry).collect()))
                    .collect(),
                layer: name,
                layer_file: file,
                replaces: p
                    .replaced
                    .iter()
                    .map(|l| layer(l).1.unwrap_or_else(|| "default".into()))
                    .collect(),
            }
        })
        .collect();
    Document { projects }
}
