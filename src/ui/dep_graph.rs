//! The dependency graph `list --format dot` draws, in Graphviz's language:
//! one node per project, filled by where its checkout stands against the
//! pins (the colours of `status`), one edge per registry dep, labelled with
//! the pin in force when the depending project is the one whose pin wins.
//! Pure: the command gathers the states and hands them in.

use std::fmt::Write;

/// How a node is filled: the colours `status` paints its rows with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// At its pin.
    AtPin,
    /// Elsewhere than its pin, nothing at risk (ahead, behind, not fetched).
    OffPin,
    /// Needs the user: changes, diverged, missing while pinned, unreadable.
    NeedsUser,
    /// Checked out, with no pin to compare (the project looked from, or
    /// one nothing pins).
    Unpinned,
    /// Not checked out, and nothing pins it.
    Absent,
}

impl Fill {
    /// `(fill colour, legend text)`, in Graphviz's X11 colour names.
    fn colour(self) -> (&'static str, &'static str) {
        match self {
            Fill::AtPin => ("palegreen", "at pin"),
            Fill::OffPin => ("khaki", "off pin (ahead, behind, not fetched)"),
            Fill::NeedsUser => ("salmon", "needs you (dirty, diverged, missing)"),
            Fill::Unpinned => ("white", "not pinned"),
            Fill::Absent => ("gray90", "not checked out"),
        }
    }
}

/// One project of the graph.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    /// The line under its name (`at pin 0d8d60c`), if any.
    pub detail: Option<String>,
    /// How it is filled; `None` outside a workspace (no states known).
    pub fill: Option<Fill>,
}

/// One registry dep: `from` depends on `to`, whose pin in force is
/// `label` when `from` set it.
#[derive(Clone, Debug)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: Option<String>,
}

/// The graph as Graphviz's `dot` reads it; with states, a legend of the
/// fills used.
pub fn render(title: &str, nodes: &[Node], edges: &[Edge]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph workspace {{");
    let _ = writeln!(out, "  label={};", quote(title));
    let _ = writeln!(out, "  labelloc=t;");
    let _ = writeln!(out, "  fontname=\"Helvetica\";");
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\"];"
    );
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=10];");
    for node in nodes {
        let label = match &node.detail {
            Some(detail) => format!("{}\n{detail}", node.name),
            None => node.name.clone(),
        };
        let _ = write!(out, "  {} [label={}", quote(&node.name), quote(&label));
        if let Some(fill) = node.fill {
            let _ = write!(out, ", fillcolor={}", fill.colour().0);
            if fill == Fill::Absent {
                let _ = write!(out, ", style=\"rounded,filled,dashed\"");
            }
        }
        let _ = writeln!(out, "];");
    }
    for edge in edges {
        let _ = write!(out, "  {} -> {}", quote(&edge.from), quote(&edge.to));
        if let Some(label) = &edge.label {
            let _ = write!(out, " [label={}]", quote(label));
        }
        let _ = writeln!(out, ";");
    }
    legend(&mut out, nodes);
    out.push_str("}\n");
    out
}

/// A cluster naming each fill the nodes use, in a fixed order.
fn legend(out: &mut String, nodes: &[Node]) {
    let all = [
        Fill::AtPin,
        Fill::OffPin,
        Fill::NeedsUser,
        Fill::Unpinned,
        Fill::Absent,
    ];
    let used: Vec<Fill> = all
        .into_iter()
        .filter(|fill| nodes.iter().any(|n| n.fill == Some(*fill)))
        .collect();
    if used.is_empty() {
        return;
    }
    let _ = writeln!(out, "  subgraph cluster_legend {{");
    let _ = writeln!(out, "    label=\"pin state\";");
    let _ = writeln!(out, "    fontname=\"Helvetica\";");
    for (i, fill) in used.iter().enumerate() {
        let (colour, text) = fill.colour();
        let _ = writeln!(
            out,
            "    \"legend {i}\" [label={}, fillcolor={colour}, fontsize=10];",
            quote(text)
        );
    }
    let _ = writeln!(out, "  }}");
}

/// `text` as a Graphviz string: in double quotes, with quotes and
/// backslashes escaped, a newline as `\n` (a centred line break), and
/// other control characters escaped as the tool escapes them anywhere.
fn quote(text: &str) -> String {
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            let escaped = crate::model::text::escape_control(line, false);
            escaped.replace('\\', "\\\\").replace('"', "\\\"")
        })
        .collect();
    format!("\"{}\"", lines.join("\\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graph_has_its_nodes_filled_its_edges_labelled_and_a_legend_of_the_fills_used() {
        let nodes = [
            Node {
                name: "app".into(),
                detail: Some("looked from".into()),
                fill: Some(Fill::Unpinned),
            },
            Node {
                name: "lib".into(),
                detail: Some("error: \"bad\" \\ \x1b[31m".into()),
                fill: Some(Fill::NeedsUser),
            },
        ];
        let edges = [Edge {
            from: "app".into(),
            to: "lib".into(),
            label: Some("0d8d60c".into()),
        }];
        assert_eq!(
            render("ws", &nodes, &edges),
            "digraph workspace {\n  label=\"ws\";\n  labelloc=t;\n  fontname=\"Helvetica\";\n  rankdir=LR;\n  \
             node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\"];\n  \
             edge [fontname=\"Helvetica\", fontsize=10];\n  \
             \"app\" [label=\"app\\nlooked from\", fillcolor=white];\n  \
             \"lib\" [label=\"lib\\nerror: \\\"bad\\\" \\\\ \\\\x1b[31m\", fillcolor=salmon];\n  \
             \"app\" -> \"lib\" [label=\"0d8d60c\"];\n  \
             subgraph cluster_legend {\n    label=\"pin state\";\n    fontname=\"Helvetica\";\n    \
             \"legend 0\" [label=\"needs you (dirty, diverged, missing)\", fillcolor=salmon, fontsize=10];\n    \
             \"legend 1\" [label=\"not pinned\", fillcolor=white, fontsize=10];\n  }\n}\n"
        );
    }
}
