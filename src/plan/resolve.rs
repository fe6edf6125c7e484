//! Pin resolution: which commit each dep is moved to. Breadth-first over the
//! pin files, the nearest pin wins (at one level, the first pinner in order,
//! then each pinner's registry dep order), and every losing pin is reported
//! as a conflict. A dep's own pins are those of its pinned commit, not of
//! its working tree.
//!
//! Resolution is a pure function of the pins it is given: a [`PinSource`]
//! answers, one level at a time, what each chosen dep pins at its chosen
//! commit. `sync` answers from the checkouts after making each pinned commit
//! present (`commands::presence`), `status` from what is already there, and
//! the tests below from a table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::Result;
use regex::Regex;

use crate::model::pinfile::Pins;
use crate::model::registry::{Project, Registry};
use crate::model::types::{CommitId, RepoName};
use crate::ui::report::Failure;

/// A dep, the commit it will be moved to, and the project whose pin won.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub dep: RepoName,
    pub commit: CommitId,
    pub pinned_by: RepoName,
}

/// A pin that lost against a nearer (or earlier) one: the dep pinned twice,
/// the winning commit and its pinner, the losing pinner and its commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub dep: RepoName,
    pub used: CommitId,
    pub used_by: RepoName,
    pub other_by: RepoName,
    pub other: CommitId,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: using {} (pinned by {}); {} pins {}",
            self.dep,
            self.used.short(),
            self.used_by,
            self.other_by,
            self.other.short()
        )
    }
}

/// A root of the workspace that another project (`pinner`) pins at
/// `commit`: roots are what the user works on, so no pin moves one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootLeft {
    pub root: RepoName,
    pub pinner: RepoName,
    pub commit: CommitId,
}

impl fmt::Display for RootLeft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: a root of the workspace, left as it is ({} pins {})",
            self.root,
            self.pinner,
            self.commit.short()
        )
    }
}

/// The outcome of resolution: what to apply, and what went wrong.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Chosen commits, level by level, in resolution order (deps whose pins
    /// could not be had are in `failures` instead).
    pub chosen: Vec<Chosen>,
    /// Pins that lost.
    pub conflicts: Vec<Conflict>,
    /// Registry deps with no pin in their pinner's file (left as they are),
    /// as `(pinner, dep)`.
    pub unpinned: Vec<(RepoName, RepoName)>,
    /// Chosen deps whose own pins the source could not tell (not cloned or
    /// fetched yet), so the levels below them are unknown.
    pub unresolved_below: Vec<RepoName>,
    /// Deps whose pins the source could not have: the commit could not be
    /// made present, or the pin file is unreadable.
    pub failures: Vec<Failure>,
    /// The choices behind `failures`, in the same order: the pin each
    /// failed dep was chosen at (`status` still shows it).
    pub refused: Vec<Chosen>,
    /// Deps left out by `--exclude-dep`, each with the regex that matched,
    /// in the order met.
    pub excluded: Vec<(RepoName, String)>,
    /// Roots pinned by another project, when several roots are resolved
    /// together (each once per pinner).
    pub roots_left: Vec<RootLeft>,
    /// Deps whose pin is not known because a project whose pins are not
    /// known may pin them, and would win (it comes first, or nearer): each
    /// with that project. Nothing is planned for them.
    pub undecided: Vec<(RepoName, RepoName)>,
}

/// Where resolution gets each chosen dep's own pins.
pub trait PinSource {
    /// What each dep of one level pins at its chosen commit, in the level's
    /// order: its pins (empty for a commit without a pin file), `None` when
    /// they cannot be known here (the levels below it then stay
    /// unresolved), or why they could not be had (the dep is then a failure
    /// rather than chosen). A level's deps are independent of each other, so
    /// a source may work on them in parallel.
    fn pins_of(&mut self, level: &[Chosen]) -> Vec<Result<Option<Pins>>>;
}

/// The deps `root`'s pin file pins that are not among its registry deps:
/// pins are followed only along registry deps, so such a pin is ignored
/// (and a pin file cannot bring in a project, or a URL, of its own).
pub fn foreign_pins(root: &Project, pins: &Pins) -> Vec<RepoName> {
    pins.pinned()
        .iter()
        .filter(|(name, _)| !root.deps.contains(name))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Resolves the pins of `roots`, whose own pins are given (read from their
/// working trees: the files a developer may just have edited). Their pins
/// make level 0, in the order given, so a dep two roots pin differently is
/// a conflict like any other and the first root's pin wins. A root is never
/// moved by another's pin. Deps matching `exclude_dep` are left out at every
/// level.
pub fn resolve(
    registry: &Registry,
    roots: Vec<(&Project, Pins)>,
    exclude_dep: &[Regex],
    source: &mut dyn PinSource,
) -> Resolution {
    let mut resolver = Resolver {
        res: Resolution::default(),
        root_names: roots.iter().map(|(p, _)| p.name.clone()).collect(),
        exclude_dep,
        claimed: BTreeMap::new(),
        roots_pinned: BTreeSet::new(),
    };
    // The frontier: projects whose pins feed the next level, in order;
    // `None` for pins the source could not tell.
    let mut frontier: Vec<(RepoName, Option<Pins>)> = roots
        .into_iter()
        .map(|(p, pins)| (p.name.clone(), Some(pins)))
        .collect();
    while !frontier.is_empty() {
        // This level's candidates in pinner order, then each pinner's
        // registry dep order; the first pin seen wins.
        let mut level = Level::default();
        for (pinner, pins) in &frontier {
            let Some(project) = registry.get(pinner) else {
                continue;
            };
            for dep in &project.deps {
                resolver.meet(pinner, pins.as_ref(), dep, &mut level);
            }
        }
        let answers = if level.chosen.is_empty() {
            Vec::new()
        } else {
            source.pins_of(&level.chosen)
        };
        frontier = resolver.next_frontier(level, answers);
    }
    resolver.res
}

/// One level of resolution as it is met.
#[derive(Default)]
struct Level {
    /// The deps this level decides, in order.
    chosen: Vec<Chosen>,
    /// Every dep this level decides or leaves undecided, in the order met:
    /// the order of the next frontier.
    met: Vec<RepoName>,
}

/// The state of one resolution, level after level.
struct Resolver<'a> {
    res: Resolution,
    root_names: Vec<RepoName>,
    exclude_dep: &'a [Regex],
    /// Who has each dep: a pin, or pins not known here that may name it.
    claimed: BTreeMap<RepoName, Claim>,
    /// (root, pinner) pairs already reported in `roots_left`.
    roots_pinned: BTreeSet<(RepoName, RepoName)>,
}

impl Resolver<'_> {
    /// `pinner`'s pin of `dep` (its pins `None`: not known here), met on
    /// this level.
    fn meet(&mut self, pinner: &RepoName, pins: Option<&Pins>, dep: &RepoName, level: &mut Level) {
        let res = &mut self.res;
        if self.root_names.contains(dep) {
            if let Some(commit) = pins.and_then(|p| p.pin(dep)) {
                if self.root_names.len() > 1 && self.roots_pinned.insert((dep.clone(), pinner.clone())) {
                    res.roots_left.push(RootLeft {
                        root: dep.clone(),
                        pinner: pinner.clone(),
                        commit: commit.clone(),
                    });
                }
            }
            return;
        }
        if let Some(re) = crate::model::exclude::matching(self.exclude_dep, dep.as_str()) {
            if !res.excluded.iter().any(|(d, _)| d == dep) {
                res.excluded.push((dep.clone(), re.as_str().to_string()));
            }
            return;
        }
        let Some(pins) = pins else {
            // Pins not known here may name this dep, and would win over
            // every pin met after them: its pin is not known either, nor
            // what lies below it.
            if !self.claimed.contains_key(dep) {
                self.claimed.insert(dep.clone(), Claim::Unknown);
                res.undecided.push((dep.clone(), pinner.clone()));
                level.met.push(dep.clone());
            }
            return;
        };
        let Some(commit) = pins.pin(dep) else {
            res.unpinned.push((pinner.clone(), dep.clone()));
            return;
        };
        match self.claimed.get(dep) {
            Some(Claim::Pin { commit: used, by }) => {
                if used != commit {
                    res.conflicts.push(Conflict {
                        dep: dep.clone(),
                        used: used.clone(),
                        used_by: by.clone(),
                        other_by: pinner.clone(),
                        other: commit.clone(),
                    });
                }
            }
            Some(Claim::Unknown) => {}
            None => {
                self.claimed.insert(
                    dep.clone(),
                    Claim::Pin {
                        commit: commit.clone(),
                        by: pinner.clone(),
                    },
                );
                level.chosen.push(Chosen {
                    dep: dep.clone(),
                    commit: commit.clone(),
                    pinned_by: pinner.clone(),
                });
                level.met.push(dep.clone());
            }
        }
    }

    /// Takes the source's answers for `level` (one per chosen dep) and
    /// gives the next frontier: a failed dep feeds nothing; an undecided
    /// one, unknown pins.
    fn next_frontier(
        &mut self,
        level: Level,
        answers: Vec<Result<Option<Pins>>>,
    ) -> Vec<(RepoName, Option<Pins>)> {
        debug_assert_eq!(answers.len(), level.chosen.len(), "one answer per dep");
        let mut answered: BTreeMap<RepoName, Option<Pins>> = BTreeMap::new();
        for (chosen, answer) in level.chosen.into_iter().zip(answers) {
            match answer {
                Ok(pins) => {
                    if pins.is_none() {
                        self.res.unresolved_below.push(chosen.dep.clone());
                    }
                    answered.insert(chosen.dep.clone(), pins);
                    self.res.chosen.push(chosen);
                }
                Err(error) => {
                    self.res.failures.push(Failure {
                        project: chosen.dep.clone(),
                        error,
                    });
                    self.res.refused.push(chosen);
                }
            }
        }
        level
            .met
            .into_iter()
            .filter_map(|dep| match self.claimed.get(&dep) {
                Some(Claim::Unknown) => Some((dep, None)),
                _ => answered.remove(&dep).map(|pins| (dep, pins)),
            })
            .collect()
    }
}

/// What resolution knows of a dep it has met.
enum Claim {
    /// Pinned at `commit` by `by`: the winning pin.
    Pin { commit: CommitId, by: RepoName },
    /// Pins that are not known here may name it.
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A registry of `name -> deps` (declared order kept).
    fn registry(projects: &[(&str, &[&str])]) -> Registry {
        let mut text = String::new();
        for (name, deps) in projects {
            let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
            text.push_str(&format!(
                "[repos.{name}]\nro_url = \"https://example.invalid/{name}.git\"\ndeps = [{}]\n",
                deps.join(", ")
            ));
        }
        crate::model::registry::from_str(&text, Path::new("test.toml")).unwrap()
    }

    fn name(s: &str) -> RepoName {
        RepoName::new(s).unwrap()
    }

    /// A commit id made from a short label (`b2` → `b2b2…`), so tables read.
    fn id(label: &str) -> CommitId {
        CommitId::new(&label.repeat(40).chars().take(40).collect::<String>()).unwrap()
    }

    fn pins(entries: &[(&str, &str)]) -> Pins {
        let mut pins = Pins::default();
        for (dep, commit) in entries {
            pins.set_pin(name(dep), id(commit));
        }
        pins
    }

    /// What each project pins at each of its commits; `None` for a commit
    /// whose pins are not known here, and an error for `bad` commits. Every
    /// question asked is kept, level by level.
    #[derive(Default)]
    struct Table {
        pins: BTreeMap<(String, String), Option<Pins>>,
        asked: Vec<Vec<String>>,
    }

    impl Table {
        fn with(mut self, project: &str, commit: &str, entries: &[(&str, &str)]) -> Table {
            self.pins
                .insert((project.into(), id(commit).to_string()), Some(pins(entries)));
            self
        }

        fn unknown(mut self, project: &str, commit: &str) -> Table {
            self.pins.insert((project.into(), id(commit).to_string()), None);
            self
        }
    }

    impl PinSource for Table {
        fn pins_of(&mut self, level: &[Chosen]) -> Vec<Result<Option<Pins>>> {
            self.asked.push(
                level
                    .iter()
                    .map(|c| format!("{}@{}", c.dep, &c.commit.as_str()[..2]))
                    .collect(),
            );
            level
                .iter()
                .map(|c| {
                    if c.commit == id("bad") {
                        return Err(anyhow::anyhow!("{} cannot be had", c.dep));
                    }
                    // A commit nobody listed is a leaf.
                    Ok(self
                        .pins
                        .get(&(c.dep.to_string(), c.commit.to_string()))
                        .cloned()
                        .unwrap_or_else(|| Some(Pins::default())))
                })
                .collect()
        }
    }

    fn chosen(res: &Resolution) -> Vec<String> {
        res.chosen
            .iter()
            .map(|c| format!("{}@{} by {}", c.dep, &c.commit.as_str()[..2], c.pinned_by))
            .collect()
    }

    fn conflicts(res: &Resolution) -> Vec<String> {
        res.conflicts
            .iter()
            .map(|c| {
                format!(
                    "{}: {} by {} over {} by {}",
                    c.dep,
                    &c.used.as_str()[..2],
                    c.used_by,
                    &c.other.as_str()[..2],
                    c.other_by
                )
            })
            .collect()
    }

    /// The fixture's shape: app → liba, libb; liba → base; libb → base.
    fn fixture() -> Registry {
        registry(&[
            ("app", &["liba", "libb"]),
            ("liba", &["base"]),
            ("libb", &["base"]),
            ("base", &[]),
        ])
    }

    fn resolve_app(
        reg: &Registry,
        app_pins: &[(&str, &str)],
        exclude: &[&str],
        table: &mut Table,
    ) -> Resolution {
        let exclude: Vec<Regex> = exclude.iter().map(|r| Regex::new(r).unwrap()).collect();
        let app = reg.lookup("app").unwrap();
        resolve(reg, vec![(app, pins(app_pins))], &exclude, table)
    }

    #[test]
    fn levels_are_asked_in_order_and_the_nearest_pin_wins() {
        let reg = fixture();
        let mut table =
            Table::default()
                .with("liba", "a2", &[("base", "b2")])
                .with("libb", "c2", &[("base", "b3")]);
        let res = resolve_app(&reg, &[("liba", "a2"), ("libb", "c2")], &[], &mut table);
        assert_eq!(
            chosen(&res),
            ["liba@a2 by app", "libb@c2 by app", "base@b2 by liba"]
        );
        // Level 2's tie: liba comes first in app's deps, so its pin wins.
        assert_eq!(conflicts(&res), ["base: b2 by liba over b3 by libb"]);
        assert_eq!(table.asked, [vec!["liba@a2", "libb@c2"], vec!["base@b2"]]);
        assert!(res.failures.is_empty() && res.unpinned.is_empty() && res.unresolved_below.is_empty());
    }

    #[test]
    fn a_nearer_pin_beats_a_deeper_one_and_equal_pins_are_no_conflict() {
        let reg = registry(&[
            ("app", &["liba", "base"]),
            ("liba", &["base", "libb"]),
            ("libb", &[]),
            ("base", &[]),
        ]);
        let mut table = Table::default().with("liba", "a2", &[("base", "b1"), ("libb", "c1")]);
        let app = reg.lookup("app").unwrap();
        let res = resolve(
            &reg,
            vec![(app, pins(&[("liba", "a2"), ("base", "b4")]))],
            &[],
            &mut table,
        );
        assert_eq!(
            chosen(&res),
            ["liba@a2 by app", "base@b4 by app", "libb@c1 by liba"]
        );
        assert_eq!(conflicts(&res), ["base: b4 by app over b1 by liba"]);

        let mut table = Table::default().with("liba", "a2", &[("base", "b4")]);
        let res = resolve(
            &reg,
            vec![(app, pins(&[("liba", "a2"), ("base", "b4")]))],
            &[],
            &mut table,
        );
        assert!(res.conflicts.is_empty(), "{:?}", res.conflicts);
        // base, chosen at level 1, is not asked again at level 2.
        assert_eq!(table.asked, [vec!["liba@a2", "base@b4"]]);
    }

    #[test]
    fn exclusions_apply_at_every_level_and_are_listed_once() {
        let reg = fixture();
        let table = || {
            Table::default()
                .with("liba", "a2", &[("base", "b2")])
                .with("libb", "c2", &[("base", "b3")])
        };
        // At the first level: libb and everything only it brings.
        let res = resolve_app(&reg, &[("liba", "a2"), ("libb", "c2")], &["^libb$"], &mut table());
        assert_eq!(chosen(&res), ["liba@a2 by app", "base@b2 by liba"]);
        assert!(res.conflicts.is_empty());
        assert_eq!(res.excluded, [(name("libb"), "^libb$".to_string())]);
        // At the second: base, met through both liba and libb, listed once.
        let res = resolve_app(&reg, &[("liba", "a2"), ("libb", "c2")], &["ba[s]e"], &mut table());
        assert_eq!(chosen(&res), ["liba@a2 by app", "libb@c2 by app"]);
        assert_eq!(res.excluded, [(name("base"), "ba[s]e".to_string())]);
        assert!(res.conflicts.is_empty());
        // The first regex that matches is the one named.
        let res = resolve_app(
            &reg,
            &[("liba", "a2"), ("libb", "c2")],
            &["^lib", "b$"],
            &mut table(),
        );
        assert_eq!(chosen(&res), Vec::<String>::new());
        assert_eq!(
            res.excluded,
            [
                (name("liba"), "^lib".to_string()),
                (name("libb"), "^lib".to_string())
            ]
        );
    }

    #[test]
    fn a_dep_without_a_pin_is_listed_with_its_pinner_and_left_alone() {
        let reg = fixture();
        let mut table = Table::default().with("liba", "a2", &[]);
        let res = resolve_app(&reg, &[("liba", "a2")], &[], &mut table);
        assert_eq!(chosen(&res), ["liba@a2 by app"]);
        assert_eq!(
            res.unpinned,
            [(name("app"), name("libb")), (name("liba"), name("base"))]
        );
    }

    #[test]
    fn pins_the_source_cannot_tell_stop_the_levels_below_and_failures_are_not_chosen() {
        let reg = fixture();
        let mut table = Table::default().unknown("liba", "a2");
        let res = resolve_app(&reg, &[("liba", "a2"), ("libb", "bad")], &[], &mut table);
        assert_eq!(chosen(&res), ["liba@a2 by app"]);
        assert_eq!(res.unresolved_below, [name("liba")]);
        assert_eq!(res.undecided, [(name("base"), name("liba"))]);
        assert_eq!(res.failures.len(), 1);
        assert_eq!(res.failures[0].project, name("libb"));
        assert_eq!(format!("{}", res.failures[0].error), "libb cannot be had");
        // Nothing is asked below: neither answer gave pins to follow.
        assert_eq!(table.asked, [vec!["liba@a2", "libb@ba"]]);
    }

    #[test]
    fn what_unknown_pins_may_name_first_is_undecided_not_chosen_from_a_later_pin() {
        let reg = fixture();
        // liba's pins are not known; they come before libb's and would win
        // for base, so libb's pin of base decides nothing.
        let mut table = Table::default()
            .unknown("liba", "a2")
            .with("libb", "c2", &[("base", "b3")]);
        let res = resolve_app(&reg, &[("liba", "a2"), ("libb", "c2")], &[], &mut table);
        assert_eq!(chosen(&res), ["liba@a2 by app", "libb@c2 by app"]);
        assert_eq!(res.undecided, [(name("base"), name("liba"))]);
        assert!(res.conflicts.is_empty(), "{:?}", res.conflicts);
        assert_eq!(table.asked, [vec!["liba@a2", "libb@c2"]]);

        // When the known pin comes first, it wins whatever the unknown
        // ones say: base is chosen.
        let mut table = Table::default()
            .with("liba", "a2", &[("base", "b2")])
            .unknown("libb", "c2");
        let res = resolve_app(&reg, &[("liba", "a2"), ("libb", "c2")], &[], &mut table);
        assert_eq!(
            chosen(&res),
            ["liba@a2 by app", "libb@c2 by app", "base@b2 by liba"]
        );
        assert!(res.undecided.is_empty());
    }

    #[test]
    fn an_undecided_dep_leaves_its_own_deps_undecided_but_not_nearer_pins() {
        // app → liba, libb; liba → libc → base, libd; libb → base.
        let reg = registry(&[
            ("app", &["liba", "libb"]),
            ("liba", &["libc"]),
            ("libb", &["base"]),
            ("libc", &["base", "libd"]),
            ("libd", &[]),
            ("base", &[]),
        ]);
        let mut table = Table::default()
            .unknown("liba", "a2")
            .with("libb", "c2", &[("base", "b3")]);
        let res = resolve_app(&reg, &[("liba", "a2"), ("libb", "c2")], &[], &mut table);
        // base: libb's pin (level 2) is nearer than anything libc (level 3)
        // could pin. libd: only libc, undecided, may pin it.
        assert_eq!(
            chosen(&res),
            ["liba@a2 by app", "libb@c2 by app", "base@b3 by libb"]
        );
        assert_eq!(
            res.undecided,
            [(name("libc"), name("liba")), (name("libd"), name("libc"))]
        );
    }

    #[test]
    fn a_failed_dep_still_wins_against_later_pins_of_it() {
        // liba fails at level 1; libb's pin of liba at level 2 loses to it,
        // as it did when the failure was found only while fetching.
        let reg = registry(&[("app", &["liba", "libb"]), ("libb", &["liba"]), ("liba", &[])]);
        let mut table = Table::default().with("libb", "c2", &[("liba", "a1")]);
        let res = resolve_app(&reg, &[("liba", "bad"), ("libb", "c2")], &[], &mut table);
        assert_eq!(chosen(&res), ["libb@c2 by app"]);
        assert_eq!(conflicts(&res), ["liba: ba by app over a1 by libb"]);
    }

    #[test]
    fn roots_resolved_together_are_never_moved_and_the_first_root_wins() {
        let reg = fixture();
        let app = reg.lookup("app").unwrap();
        let libb = reg.lookup("libb").unwrap();
        let mut table = Table::default().with("liba", "a2", &[("base", "b2")]);
        let res = resolve(
            &reg,
            vec![
                (app, pins(&[("liba", "a2"), ("libb", "c2")])),
                (libb, pins(&[("base", "b3")])),
            ],
            &[],
            &mut table,
        );
        // base: libb (a root, level 0) pins it before liba (level 1) does.
        assert_eq!(chosen(&res), ["liba@a2 by app", "base@b3 by libb"]);
        assert_eq!(conflicts(&res), ["base: b3 by libb over b2 by liba"]);
        assert_eq!(
            res.roots_left,
            [RootLeft {
                root: name("libb"),
                pinner: name("app"),
                commit: id("c2")
            }]
        );
        assert_eq!(
            res.roots_left[0].to_string(),
            format!(
                "libb: a root of the workspace, left as it is (app pins {})",
                id("c2").short()
            )
        );
        // One root alone: its own deps are its business, nothing to say.
        let res = resolve(
            &reg,
            vec![(app, pins(&[("liba", "a2"), ("libb", "c2")]))],
            &[],
            &mut Table::default(),
        );
        assert!(res.roots_left.is_empty());
    }

    #[test]
    fn foreign_pins_are_those_of_projects_that_are_not_registry_deps() {
        let reg = fixture();
        let app = reg.lookup("app").unwrap();
        assert_eq!(
            foreign_pins(app, &pins(&[("liba", "a2"), ("base", "b2"), ("evil", "e1")])),
            [name("base"), name("evil")]
        );
        assert!(foreign_pins(app, &pins(&[("libb", "c1")])).is_empty());
    }

    #[test]
    fn a_conflict_reads_as_the_warning_says_it() {
        let conflict = Conflict {
            dep: name("base"),
            used: id("b2"),
            used_by: name("liba"),
            other_by: name("libb"),
            other: id("b3"),
        };
        assert_eq!(
            conflict.to_string(),
            format!(
                "base: using {} (pinned by liba); libb pins {}",
                id("b2").short(),
                id("b3").short()
            )
        );
    }
}
