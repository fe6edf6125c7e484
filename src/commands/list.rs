//! `list`: show the registry.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Result;

use super::Context;
use crate::registry::{Registry, RollAction};
use crate::types::RepoName;

/// Prints every project with its URLs, deps as a tree, schedules and the
/// layer that defined it. Works outside a workspace (default and
/// `--registry` layers only).
pub fn run(ctx: &Context) -> Result<i32> {
    let workspace = ctx.workspace().ok();
    let registry = ctx.registry(workspace.as_ref())?;
    // A registry is anyone's text: a requirements path or a bidi character
    // in a branch name must not reach the terminal as such.
    print!("{}", crate::text::escape_control(&render(&registry), true));
    Ok(0)
}

/// The listing as text.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    for project in registry.projects() {
        let _ = writeln!(out, "{}", project.name);
        let _ = writeln!(out, "  ro_url:     {}", project.ro_url);
        let _ = writeln!(out, "  rw_url:     {}", project.rw_url);
        let _ = writeln!(out, "  branch:     {}", project.tracking_branch);
        let _ = writeln!(
            out,
            "  submodules: {}",
            if project.submodules { "yes" } else { "no" }
        );
        if project.deps.is_empty() {
            let _ = writeln!(out, "  deps:       (none)");
        } else {
            let _ = writeln!(out, "  deps:");
            let mut path = BTreeSet::new();
            path.insert(project.name.clone());
            dep_tree(registry, &project.deps, "    ", &mut path, &mut out);
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
        let _ = writeln!(out);
    }
    out
}

fn dep_tree(
    registry: &Registry,
    deps: &[RepoName],
    indent: &str,
    path: &mut BTreeSet<RepoName>,
    out: &mut String,
) {
    for (i, dep) in deps.iter().enumerate() {
        let last = i + 1 == deps.len();
        let _ = writeln!(out, "{indent}{}{dep}", if last { "└── " } else { "├── " });
        let child_indent = format!("{indent}{}", if last { "    " } else { "│   " });
        // The registry has no cycles; the path set is only a guard.
        if let Some(project) = registry.get(dep) {
            if path.insert(dep.clone()) {
                dep_tree(registry, &project.deps, &child_indent, path, out);
                path.remove(dep);
            }
        }
    }
}
