//! The dependency trees `list` draws, each subtree drawn once for the
//! whole listing: a project met again whose deps were already drawn is
//! marked `(*)`, as `cargo tree` marks it. Drawing every path instead grows
//! with the number of paths, which doubles with each level of a diamond
//! (24 levels: over a gigabyte); drawn once, the listing grows with the
//! number of projects and deps. The walk keeps its own stack (a chain of
//! ten thousand projects would overflow the thread's) and stops indenting
//! at [`MAX_DEPTH`], so no line grows with the depth of the graph either.

use std::collections::HashSet;
use std::fmt::{self, Write};

use crate::model::registry::Registry;
use crate::model::types::RepoName;

/// The deepest level drawn inside one project's tree; a project with deps
/// met deeper is marked `(…)` and drawn under its own entry.
pub const MAX_DEPTH: usize = 32;

/// The trees of one listing: which projects' deps were drawn already.
pub struct DepTrees<'r> {
    registry: &'r Registry,
    drawn: HashSet<RepoName>,
    /// Whether a `(*)` was written (the listing then explains it).
    pub marked_drawn: bool,
    /// Whether a `(…)` was written.
    pub marked_deep: bool,
}

/// One level of the walk: the deps of one project and the next to draw.
struct Level<'r> {
    deps: &'r [RepoName],
    next: usize,
    /// The length of the prefix its lines start with.
    prefix_len: usize,
}

impl<'r> DepTrees<'r> {
    /// Trees for `registry`, nothing drawn yet.
    pub fn new(registry: &'r Registry) -> DepTrees<'r> {
        DepTrees {
            registry,
            drawn: HashSet::new(),
            marked_drawn: false,
            marked_deep: false,
        }
    }

    /// Draws `project`'s deps as a tree, each line starting with `indent`,
    /// into `out`, and marks `project` as drawn.
    pub fn write(&mut self, project: &RepoName, indent: &str, out: &mut impl Write) -> fmt::Result {
        let Some(root) = self.registry.get(project) else {
            return Ok(());
        };
        self.drawn.insert(project.clone());
        let mut stack = vec![Level {
            deps: &root.deps,
            next: 0,
            prefix_len: indent.len(),
        }];
        let mut prefix = String::from(indent);
        while let Some(level) = stack.last_mut() {
            let Some(dep) = level.deps.get(level.next) else {
                stack.pop();
                continue;
            };
            level.next += 1;
            prefix.truncate(level.prefix_len);
            let last = level.next == level.deps.len();
            let deps = self.registry.get(dep).map_or(&[][..], |p| &p.deps[..]);
            let mark = if deps.is_empty() {
                ""
            } else if self.drawn.contains(dep) {
                self.marked_drawn = true;
                " (*)"
            } else if stack.len() >= MAX_DEPTH {
                self.marked_deep = true;
                " (…)"
            } else {
                ""
            };
            writeln!(out, "{prefix}{}{dep}{mark}", if last { "└── " } else { "├── " })?;
            if deps.is_empty() || !mark.is_empty() {
                continue;
            }
            self.drawn.insert(dep.clone());
            prefix.push_str(if last { "    " } else { "│   " });
            stack.push(Level {
                deps,
                next: 0,
                prefix_len: prefix.len(),
            });
        }
        Ok(())
    }

    /// The lines that explain the marks written, if any.
    pub fn legend(&self) -> String {
        let mut legend = String::new();
        if self.marked_drawn {
            legend.push_str("(*) its deps are drawn above\n");
        }
        if self.marked_deep {
            legend.push_str(&format!(
                "(…) nested deeper than {MAX_DEPTH} levels: its deps are drawn under its own entry\n"
            ));
        }
        legend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(text: &str) -> Registry {
        crate::model::registry::from_str(text, std::path::Path::new("r.toml")).unwrap()
    }

    fn project(name: &str, deps: &[&str]) -> String {
        let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
        format!(
            "[repos.{name}]\nro_url = \"https://x/{name}\"\ndeps = [{}]\n",
            deps.join(", ")
        )
    }

    fn draw(trees: &mut DepTrees, name: &str) -> String {
        let mut out = String::new();
        trees
            .write(&RepoName::new(name).unwrap(), "  ", &mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_subtree_is_drawn_once_and_marked_after() {
        let text = [
            "include_default = false\n".to_string(),
            project("app", &["liba", "libb"]),
            project("liba", &["base"]),
            project("libb", &["liba", "base"]),
            project("base", &[]),
        ]
        .concat();
        let reg = registry(&text);
        let mut trees = DepTrees::new(&reg);
        assert_eq!(
            draw(&mut trees, "app"),
            "  ├── liba\n  │   └── base\n  └── libb\n      ├── liba (*)\n      └── base\n"
        );
        assert_eq!(draw(&mut trees, "libb"), "  ├── liba (*)\n  └── base\n");
        assert_eq!(trees.legend(), "(*) its deps are drawn above\n");
    }

    #[test]
    fn a_long_chain_stops_indenting_at_the_deepest_level() {
        let mut text = "include_default = false\n".to_string();
        for i in 0..100 {
            text.push_str(&project(&format!("p{i:03}"), &[&format!("p{:03}", i + 1)]));
        }
        text.push_str(&project("p100", &[]));
        let reg = registry(&text);
        let mut trees = DepTrees::new(&reg);
        let first = draw(&mut trees, "p000");
        assert_eq!(first.lines().count(), MAX_DEPTH);
        let last = first.lines().last().unwrap();
        assert_eq!(last, format!("  {}└── p032 (…)", "    ".repeat(MAX_DEPTH - 1)));
        assert!(draw(&mut trees, "p032").starts_with("  └── p033\n      └── p034\n"));
        assert_eq!(draw(&mut trees, "p001"), "  └── p002 (*)\n");
    }
}
