//! `list --format dot`: the dependency graph of the registry in Graphviz's
//! language. Inside a workspace each project is filled by where its
//! checkout stands against the pins in force, seen (as `status` sees them)
//! from the project holding the current folder; each edge from the project
//! whose pin wins carries that pin. Read-only and local, like `status`.

use std::collections::BTreeMap;

use anyhow::Result;

use super::status::{self, Colour, Row};
use super::Context;
use crate::model::registry::{Project, Registry};
use crate::model::types::{CommitId, RepoName};
use crate::model::workspace::Workspace;
use crate::ui::dep_graph::{self, Edge, Fill, Node};

/// Prints the graph on stdout.
pub fn print(ctx: &Context, registry: &Registry, workspace: Option<&Workspace>) -> Result<()> {
    let looked_from = workspace.and_then(|ws| {
        ws.project_containing(&ctx.cwd)
            .and_then(|name| registry.get(&name))
    });
    let mut pins: BTreeMap<RepoName, (CommitId, RepoName)> = BTreeMap::new();
    if let (Some(ws), Some(project)) = (workspace, looked_from) {
        let (chosen, refused) = status::pins_in_force(ctx, ws, registry, project)?;
        for (dep, commit, by) in chosen.into_iter().chain(refused.into_iter().map(|(_, pin)| pin)) {
            pins.insert(dep, (commit, by));
        }
    }
    let projects: Vec<&Project> = registry.projects().collect();
    let nodes: Vec<Node> = match workspace {
        None => projects
            .iter()
            .map(|p| Node {
                name: p.name.to_string(),
                detail: None,
                fill: None,
            })
            .collect(),
        Some(ws) => ctx.executor()?.map(
            &projects,
            |_| None,
            |p| {
                let from = looked_from.map(|f| &f.name);
                node(&status::row(ctx, ws, &p.name, pins.get(&p.name), from))
            },
        ),
    };
    let edges: Vec<Edge> = projects
        .iter()
        .flat_map(|p| {
            let pins = &pins;
            p.deps.iter().map(move |dep| Edge {
                from: p.name.to_string(),
                to: dep.to_string(),
                label: pins
                    .get(dep)
                    .filter(|(_, by)| *by == p.name)
                    .map(|(commit, _)| commit.short().to_string()),
            })
        })
        .collect();
    let title = match (workspace, looked_from) {
        (_, Some(project)) => format!("dependencies, pinned as {} pins them", project.name),
        (Some(_), None) => "dependencies in the workspace".to_string(),
        (None, None) => "dependencies in the registry".to_string(),
    };
    crate::ui::stdout::out!("{}", dep_graph::render(&title, &nodes, &edges));
    Ok(())
}

/// A project's node, from its `status` row.
fn node(row: &Row) -> Node {
    let (fill, detail) = if row.this_project {
        (Fill::Unpinned, "looked from".to_string())
    } else if !row.present && row.pin.is_none() {
        (Fill::Absent, "not checked out".to_string())
    } else {
        let fill = match row.colour() {
            Colour::Green => Fill::AtPin,
            Colour::Yellow => Fill::OffPin,
            Colour::Red => Fill::NeedsUser,
            Colour::Plain => Fill::Unpinned,
        };
        (fill, row.state_text())
    };
    Node {
        name: row.name.clone(),
        detail: Some(detail),
        fill: Some(fill),
    }
}
