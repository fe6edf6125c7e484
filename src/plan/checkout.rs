//! What `checkout` does: which projects of the closure it clones (and how),
//! which it leaves to the sync of `checkout --sync`, and how it finishes
//! what no pin moved.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use regex::Regex;

use super::{clone_step, SUBMODULE_DEPTH};
use crate::exec::cache::Cache;
use crate::exec::step::{PendingPlan, ProjectPlan, Step};
use crate::model::exclude::{excluded_dep_line, matching};
use crate::model::registry::{Project, Registry};
use crate::model::types::{Filter, RepoName};
use crate::model::workspace::Workspace;

/// The choices `checkout` was given.
#[derive(Clone, Debug, Default)]
pub struct CheckoutOptions {
    /// Also the transitive closure of registry deps.
    pub with_deps: bool,
    /// Clone from `ro_url`.
    pub read_only: bool,
    /// Initialise submodules of projects that have them.
    pub submodules: bool,
    /// Deps to leave out.
    pub exclude_dep: Vec<Regex>,
    /// Submodules (`PROJECT:PATH`) to leave out.
    pub exclude_submodule: Vec<Regex>,
    /// The shared object cache, if any.
    pub cache: Option<Arc<Cache>>,
    /// `--depth N` for the clones.
    pub depth: Option<u32>,
    /// `--filter` for the clones (and their submodules).
    pub filter: Option<Filter>,
    /// `checkout --sync`: clone the deps (not the named projects) without
    /// a working tree or submodules, for the sync to write both once, at the
    /// pins. With `--depth` (and no cache), leave them to the sync's fetches.
    pub defer_dep_trees: bool,
}

/// What a project's folder in the workspace holds, as read before planning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Folder {
    /// Nothing: the project is cloned.
    Missing,
    /// The top of a git checkout.
    Checkout {
        /// A clone whose working tree was never written but that has a
        /// commit to write it from (see [`CheckoutPlan::unwritten`]).
        unwritten: bool,
        /// Submodules not left out are not cloned: their clones failed (see
        /// [`CheckoutPlan::complete`]).
        submodules_missing: bool,
    },
    /// Something that is not the top of a git checkout.
    NotCheckout,
}

/// What `checkout` will do.
#[derive(Debug, Default)]
pub struct CheckoutPlan {
    /// Projects to clone, in closure order.
    pub clones: Vec<ProjectPlan>,
    /// Projects whose folder already holds a checkout.
    pub existing: Vec<RepoName>,
    /// Projects whose folder exists but is not a git checkout.
    pub not_checkouts: Vec<(RepoName, PathBuf)>,
    /// Projects (cloned now or before) whose working tree is not written
    /// yet: the deps `checkout --sync` clones without one, for the sync to
    /// write each tree once, at its pin, and clones an interrupted run left
    /// so. What no pin moves gets its branch at the end ([`plan_finish`]).
    pub unwritten: Vec<RepoName>,
    /// Missing deps that `checkout --sync --depth N` leaves to the sync,
    /// which fetches only each pinned commit (one connection, no branch
    /// tip). Any that no pin brings are cloned afterwards ([`plan_finish`]).
    pub left_to_sync: Vec<RepoName>,
    /// Deps of the projects checked out that `--exclude-dep` leaves out,
    /// each with the regex that matched it.
    pub excluded: Vec<(RepoName, String)>,
    /// Projects already there whose submodules an earlier checkout could
    /// not all clone: the missing ones are cloned, and only they.
    pub complete: Vec<ProjectPlan>,
}

/// The projects a checkout of `roots` covers, in closure order (breadth
/// first, registry dep order), and the deps `--exclude-dep` leaves out of
/// it, each with the first regex that matched.
pub fn checkout_closure(
    registry: &Registry,
    roots: &[RepoName],
    options: &CheckoutOptions,
) -> (Vec<RepoName>, Vec<(RepoName, String)>) {
    let left_out = std::cell::RefCell::new(Vec::new());
    let excluded = |name: &RepoName| match matching(&options.exclude_dep, name.as_str()) {
        Some(re) => {
            let mut left_out = left_out.borrow_mut();
            if !left_out.iter().any(|(n, _)| n == name) {
                left_out.push((name.clone(), re.as_str().to_string()));
            }
            true
        }
        None => false,
    };
    let closure = registry.closure(roots, options.with_deps, excluded);
    (closure, left_out.into_inner())
}

/// Plans a checkout of `roots` (already known to be in the registry), from
/// what each folder of the closure ([`checkout_closure`]) holds.
pub fn plan_checkout(
    workspace: &Workspace,
    registry: &Registry,
    roots: &[RepoName],
    folders: &[(RepoName, Folder)],
    excluded: Vec<(RepoName, String)>,
    options: &CheckoutOptions,
) -> CheckoutPlan {
    let mut plan = CheckoutPlan {
        excluded,
        ..CheckoutPlan::default()
    };
    for (name, folder) in folders {
        let Some(project) = registry.get(name) else {
            continue;
        };
        // A dep of `checkout --sync`: its tree and submodules are the sync's.
        let deferred = options.defer_dep_trees && !roots.contains(name);
        match folder {
            Folder::Checkout {
                unwritten,
                submodules_missing,
            } => {
                if *unwritten {
                    plan.unwritten.push(name.clone());
                }
                plan.existing.push(name.clone());
                if *submodules_missing && !*unwritten && !deferred && project.submodules && options.submodules
                {
                    plan.complete.push(ProjectPlan {
                        project: name.clone(),
                        steps: vec![submodules_step(workspace.project_dir(name), options)],
                    });
                }
            }
            Folder::NotCheckout => plan
                .not_checkouts
                .push((name.clone(), workspace.project_dir(name))),
            Folder::Missing => {
                if deferred && options.depth.is_some() && options.cache.is_none() {
                    plan.left_to_sync.push(name.clone());
                } else {
                    if deferred {
                        plan.unwritten.push(name.clone());
                    }
                    plan.clones
                        .push(clone_plan(workspace, project, options, deferred));
                }
            }
        }
    }
    plan
}

/// The clone of one project into its temporary folder, its submodules, and
/// the rename into place. With `without_tree`, the clone has no working
/// tree and no submodules yet (see [`CheckoutPlan::unwritten`]).
pub fn clone_plan(
    workspace: &Workspace,
    project: &Project,
    options: &CheckoutOptions,
    without_tree: bool,
) -> ProjectPlan {
    let partial = workspace.partial_dir(&project.name);
    let mut steps = vec![clone_step(
        workspace,
        project,
        options.read_only,
        options.depth,
        options.filter,
        without_tree,
        options.cache.clone(),
    )];
    if !without_tree && project.submodules && options.submodules {
        steps.push(submodules_step(partial.clone(), options));
    }
    steps.push(Step::Rename {
        from: partial,
        to: workspace.project_dir(&project.name),
    });
    ProjectPlan {
        project: project.name.clone(),
        steps,
    }
}

/// What the folders of a checkout's deferred projects hold once the clones
/// and the sync have run: the facts [`plan_finish`] works from.
#[derive(Clone, Debug, Default)]
pub struct AfterSync {
    /// The projects whose folder exists, and those of them still without files.
    pub present: BTreeSet<RepoName>,
    pub unwritten: BTreeSet<RepoName>,
}

/// The finishing phase of a checkout: what no pin moved ends as a plain
/// checkout leaves it.
#[derive(Debug, Default)]
pub struct Finish {
    /// Deps left to the sync that no pin brought, cloned at their branch
    /// now (with their submodules).
    pub clones: Vec<ProjectPlan>,
    /// Clones still without files: their branch written, then their
    /// submodules.
    pub populate: Vec<ProjectPlan>,
}

impl Finish {
    /// The clones, then the rest.
    pub fn plans(&self) -> impl Iterator<Item = &ProjectPlan> {
        self.clones.iter().chain(&self.populate)
    }

    pub fn is_empty(&self) -> bool {
        self.clones.is_empty() && self.populate.is_empty()
    }
}

/// Plans the finishing phase of `plan` from what is there after its clones
/// and sync ([`AfterSync`]).
pub fn plan_finish(
    workspace: &Workspace,
    registry: &Registry,
    plan: &CheckoutPlan,
    after: &AfterSync,
    options: &CheckoutOptions,
) -> Finish {
    let clones = plan
        .left_to_sync
        .iter()
        .filter(|name| !after.present.contains(*name))
        .filter_map(|name| registry.get(name))
        .map(|project| clone_plan(workspace, project, options, false))
        .collect();
    let populate = plan
        .unwritten
        .iter()
        .filter(|name| after.present.contains(*name) && after.unwritten.contains(*name))
        .map(|name| {
            let repo = workspace.project_dir(name);
            let mut steps = vec![Step::Populate { repo: repo.clone() }];
            if options.submodules && registry.get(name).is_some_and(|p| p.submodules) {
                steps.push(submodules_step(repo, options));
            }
            ProjectPlan {
                project: name.clone(),
                steps,
            }
        })
        .collect();
    Finish { clones, populate }
}

/// The submodules of a checkout as a plain `checkout` makes them: shallow.
fn submodules_step(repo: PathBuf, options: &CheckoutOptions) -> Step {
    Step::Submodules {
        repo,
        exclude: options.exclude_submodule.clone(),
        depth: Some(SUBMODULE_DEPTH),
        filter: options.filter,
        cache: options.cache.clone(),
        force: false,
    }
}

/// What a dry run prints of the finishing phase, which depends on the
/// sync (`sync`: `checkout --sync`): [`plan_finish`] as if no pin moved or
/// brought anything, each line under that condition.
pub fn finish_preview(
    workspace: &Workspace,
    registry: &Registry,
    plan: &CheckoutPlan,
    options: &CheckoutOptions,
    sync: bool,
) -> Vec<PendingPlan> {
    let unwritten: BTreeSet<RepoName> = plan.unwritten.iter().cloned().collect();
    let after = AfterSync {
        present: unwritten.clone(),
        unwritten,
    };
    let finish = plan_finish(workspace, registry, plan, &after, options);
    let pending = |plan: &ProjectPlan, condition: &str| PendingPlan {
        plan: plan.clone(),
        placeholder: String::new(),
        condition: sync.then(|| condition.to_string()),
    };
    let clones = finish.clones.iter().map(|p| pending(p, "if no pin names it"));
    let populate = finish
        .populate
        .iter()
        .map(|p| pending(p, "unless a pin moves it"));
    clones.chain(populate).collect()
}

impl fmt::Display for CheckoutPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, dir) in &self.not_checkouts {
            writeln!(
                f,
                "{name}: error: {} exists but is not a git checkout",
                dir.display()
            )?;
        }
        for (name, re) in &self.excluded {
            writeln!(f, "{}", excluded_dep_line(name, re))?;
        }
        for name in &self.existing {
            writeln!(f, "{name}: skip (already exists)")?;
        }
        for project in self.complete.iter().chain(&self.clones) {
            for line in project.lines() {
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

#[allow(clippy::too_many_lines)] // table tests read best whole
#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn registry() -> Registry {
        // app → liba, libb; liba → base (submodules); libb → base.
        crate::model::registry::from_str(
            "[repos.app]\nro_url = \"https://example.invalid/app.git\"\ndeps = [\"liba\", \"libb\"]\n\
             [repos.liba]\nro_url = \"https://example.invalid/liba.git\"\ndeps = [\"base\"]\nsubmodules = true\n\
             [repos.libb]\nro_url = \"https://example.invalid/libb.git\"\ndeps = [\"base\"]\n\
             [repos.base]\nro_url = \"https://example.invalid/base.git\"\n",
            Path::new("test.toml"),
        )
        .unwrap()
    }

    fn workspace() -> Workspace {
        Workspace::at(Path::new("/ws"))
    }

    fn name(s: &str) -> RepoName {
        RepoName::new(s).unwrap()
    }

    fn names(list: &[RepoName]) -> Vec<&str> {
        list.iter().map(|n| n.as_str()).collect()
    }

    /// Each plan as `project: step kind, step kind`.
    fn kinds(plans: &[ProjectPlan]) -> Vec<String> {
        plans
            .iter()
            .map(|p| {
                let steps: Vec<String> = p.steps.iter().map(kind).collect();
                format!("{}: {}", p.project, steps.join(", "))
            })
            .collect()
    }

    fn kind(step: &Step) -> String {
        match step {
            Step::Clone { options, cache, .. } => format!(
                "clone{}{}{}{}",
                if options.no_checkout { " no-checkout" } else { "" },
                options.depth.map(|d| format!(" depth {d}")).unwrap_or_default(),
                options.filter.map(|f| format!(" filter {f}")).unwrap_or_default(),
                if cache.is_some() { " cache" } else { "" }
            ),
            Step::Submodules { depth, .. } => format!("submodules depth {}", depth.unwrap_or(0)),
            Step::Rename { .. } => "rename".into(),
            Step::Populate { .. } => "populate".into(),
            other => format!("{other:?}"),
        }
    }

    fn options() -> CheckoutOptions {
        CheckoutOptions {
            with_deps: true,
            submodules: true,
            ..CheckoutOptions::default()
        }
    }

    fn plan(folders: &[(&str, Folder)], options: &CheckoutOptions) -> CheckoutPlan {
        let reg = registry();
        let (closure, excluded) = checkout_closure(&reg, &[name("app")], options);
        let folders: Vec<(RepoName, Folder)> = closure
            .into_iter()
            .map(|n| {
                let folder = folders
                    .iter()
                    .find(|(f, _)| *f == n.as_str())
                    .map_or(Folder::Missing, |(_, f)| f.clone());
                (n, folder)
            })
            .collect();
        plan_checkout(&workspace(), &reg, &[name("app")], &folders, excluded, options)
    }

    #[test]
    fn the_closure_is_breadth_first_and_exclusions_cut_whole_branches() {
        let reg = registry();
        let (closure, excluded) = checkout_closure(&reg, &[name("app")], &options());
        assert_eq!(names(&closure), ["app", "liba", "libb", "base"]);
        assert!(excluded.is_empty());
        let options = CheckoutOptions {
            exclude_dep: vec![Regex::new("^lib").unwrap()],
            ..options()
        };
        let (closure, excluded) = checkout_closure(&reg, &[name("app")], &options);
        assert_eq!(names(&closure), ["app"]);
        assert_eq!(
            excluded,
            [
                (name("liba"), "^lib".to_string()),
                (name("libb"), "^lib".to_string())
            ]
        );
        // base is still reached through libb when only liba is left out.
        let options = CheckoutOptions {
            exclude_dep: vec![Regex::new("liba").unwrap()],
            ..options
        };
        let (closure, _) = checkout_closure(&reg, &[name("app")], &options);
        assert_eq!(names(&closure), ["app", "libb", "base"]);
        let no_deps = CheckoutOptions {
            with_deps: false,
            ..CheckoutOptions::default()
        };
        assert_eq!(
            names(&checkout_closure(&reg, &[name("app")], &no_deps).0),
            ["app"]
        );
    }

    #[test]
    fn each_folder_gets_what_it_needs() {
        let plan = plan(
            &[
                (
                    "app",
                    Folder::Checkout {
                        unwritten: false,
                        submodules_missing: false,
                    },
                ),
                (
                    "libb",
                    Folder::Checkout {
                        unwritten: true,
                        submodules_missing: false,
                    },
                ),
                ("base", Folder::NotCheckout),
            ],
            &options(),
        );
        assert_eq!(names(&plan.existing), ["app", "libb"]);
        assert_eq!(names(&plan.unwritten), ["libb"]);
        assert_eq!(plan.not_checkouts, [(name("base"), PathBuf::from("/ws/base"))]);
        assert_eq!(kinds(&plan.clones), ["liba: clone, submodules depth 1, rename"]);
        assert!(plan.left_to_sync.is_empty());
    }

    /// Depth, filter and cache choices for a cold checkout, with and
    /// without `--sync`.
    #[test]
    fn clone_choices_follow_depth_filter_cache_and_sync() {
        let cache = Arc::new(Cache::open(&std::env::temp_dir(), false).unwrap());
        let filter = Filter::parse("blob:none").unwrap();
        let cases: [(&str, CheckoutOptions, &[&str], &[&str]); 5] = [
            (
                "plain",
                options(),
                &[
                    "app: clone, rename",
                    "liba: clone, submodules depth 1, rename",
                    "libb: clone, rename",
                    "base: clone, rename",
                ],
                &[],
            ),
            (
                "--sync: deps without files, submodules left to the sync",
                CheckoutOptions {
                    defer_dep_trees: true,
                    ..options()
                },
                &[
                    "app: clone, rename",
                    "liba: clone no-checkout, rename",
                    "libb: clone no-checkout, rename",
                    "base: clone no-checkout, rename",
                ],
                &[],
            ),
            (
                "--sync --depth: deps left to the sync's fetches by id",
                CheckoutOptions {
                    defer_dep_trees: true,
                    depth: Some(1),
                    filter,
                    ..options()
                },
                &["app: clone depth 1 filter blob:none, rename"],
                &["liba", "libb", "base"],
            ),
            (
                "--sync --depth with the cache: cloned from the mirrors, unfiltered",
                CheckoutOptions {
                    defer_dep_trees: true,
                    depth: Some(1),
                    filter,
                    cache: Some(cache.clone()),
                    ..options()
                },
                &[
                    "app: clone depth 1 cache, rename",
                    "liba: clone no-checkout depth 1 cache, rename",
                    "libb: clone no-checkout depth 1 cache, rename",
                    "base: clone no-checkout depth 1 cache, rename",
                ],
                &[],
            ),
            (
                "--no-submodules",
                CheckoutOptions {
                    submodules: false,
                    filter,
                    ..options()
                },
                &[
                    "app: clone filter blob:none, rename",
                    "liba: clone filter blob:none, rename",
                    "libb: clone filter blob:none, rename",
                    "base: clone filter blob:none, rename",
                ],
                &[],
            ),
        ];
        for (label, options, clones, left) in cases {
            let plan = plan(&[], &options);
            assert_eq!(kinds(&plan.clones), clones, "{label}");
            assert_eq!(names(&plan.left_to_sync), left, "{label}");
            let deferred: Vec<&str> = if options.defer_dep_trees && left.is_empty() {
                vec!["liba", "libb", "base"]
            } else {
                vec![]
            };
            assert_eq!(names(&plan.unwritten), deferred, "{label}");
        }
    }

    #[test]
    fn the_finish_clones_what_no_pin_brought_and_writes_what_no_pin_moved() {
        let reg = registry();
        let options = CheckoutOptions {
            defer_dep_trees: true,
            depth: Some(1),
            ..options()
        };
        let mut plan = plan(
            &[(
                "libb",
                Folder::Checkout {
                    unwritten: true,
                    submodules_missing: false,
                },
            )],
            &options,
        );
        assert_eq!(names(&plan.left_to_sync), ["liba", "base"]);
        assert_eq!(names(&plan.unwritten), ["libb"]);
        // The sync fetched liba's pin; base and libb were named by no pin.
        let after = AfterSync {
            present: [name("liba"), name("libb")].into(),
            unwritten: [name("libb")].into(),
        };
        let finish = plan_finish(&workspace(), &reg, &plan, &after, &options);
        assert_eq!(kinds(&finish.clones), ["base: clone depth 1, rename"]);
        assert_eq!(kinds(&finish.populate), ["libb: populate"]);
        // A dep with submodules gets them after its branch.
        plan.unwritten.push(name("liba"));
        let after = AfterSync {
            present: [name("liba"), name("libb"), name("base")].into(),
            unwritten: [name("liba")].into(),
        };
        let finish = plan_finish(&workspace(), &reg, &plan, &after, &options);
        assert!(finish.clones.is_empty());
        assert_eq!(kinds(&finish.populate), ["liba: populate, submodules depth 1"]);
        // Nothing left: nothing to finish.
        let after = AfterSync {
            present: [name("liba"), name("libb"), name("base")].into(),
            unwritten: BTreeSet::new(),
        };
        assert!(plan_finish(&workspace(), &reg, &plan, &after, &options).is_empty());
    }
}
