//! `init`: make the current folder a workspace, remembering the settings
//! given on its command line.

use anyhow::{bail, Result};

use super::Context;
use crate::cli::InitArgs;
use crate::model::settings::{Key, Source, WorkspaceSettings};
use crate::model::workspace::{InitOutcome, Workspace};

/// Creates the marker in the current folder (and the settings file, when
/// settings are given), or reports the enclosing workspace and changes
/// nothing.
pub fn run(ctx: &Context, args: &InitArgs) -> Result<i32> {
    let given = remembered(ctx, args);
    let search = ctx.search_workspace()?;
    let mut settings = WorkspaceSettings::default();
    for (key, value) in &given {
        if let Err(e) = settings.stored.set(*key, value, &ctx.cwd) {
            bail!("{} {value}: {e}", key.flag());
        }
    }
    if let Some(registry) = &settings.stored.registry {
        // Refused now rather than at every later command.
        crate::model::registry::load(&crate::model::registry::Sources {
            workspace_file: None,
            explicit_file: Some(registry.clone()),
        })?;
    }
    match Workspace::init(&search, !ctx.dry_run)? {
        InitOutcome::Created(dir) if ctx.dry_run => {
            crate::ui::stdout::outln!(
                "would write {}",
                dir.join(crate::model::workspace::MARKER).display()
            );
            if !given.is_empty() {
                crate::ui::stdout::outln!("would write {}", dir.join(crate::model::settings::FILE).display());
            }
        }
        InitOutcome::Created(dir) => {
            if !given.is_empty() {
                settings.save(&dir)?;
            }
            crate::ui::stdout::outln!("Initialized workspace at: {}", dir.display());
            for (key, _) in &given {
                if let Some(value) = settings.stored.get(*key) {
                    crate::ui::stdout::outln!("  {}: {value}", key.name());
                }
            }
        }
        InitOutcome::Existing(dir) => {
            crate::ui::stdout::outln!("Running within existing workspace: {}", dir.display());
            if !given.is_empty() {
                let keys: Vec<&str> = given.iter().map(|(k, _)| k.name()).collect();
                ctx.reporter.warn(&format!(
                    "not remembered: {} (this folder is inside an existing workspace; change its settings with \
                     `openxla-workspace config KEY VALUE`)",
                    keys.join(", ")
                ));
                return Ok(1);
            }
        }
    }
    Ok(0)
}

/// The settings given on `init`'s command line (not from the environment:
/// a variable is for one run), as `config` would take them.
fn remembered(ctx: &Context, args: &InitArgs) -> Vec<(Key, String)> {
    let flag = |source: Source| source == Source::Flag;
    let s = &ctx.settings;
    let mut out = Vec::new();
    if let (Some(p), true) = (&s.registry.value, flag(s.registry.source)) {
        out.push((Key::Registry, p.display().to_string()));
    }
    if args.ro {
        out.push((Key::Ro, "true".into()));
    }
    if let Some(filter) = args.filter {
        out.push((Key::Filter, filter.0.map_or("none", |f| f.as_str()).into()));
    }
    if let Some(depth) = args.depth {
        out.push((Key::Depth, depth.to_string()));
    }
    if flag(s.jobs.source) {
        out.push((Key::Jobs, s.jobs.value.to_string()));
    }
    if let (Some(p), true) = (&s.cache_dir.value, flag(s.cache_dir.source)) {
        out.push((Key::CacheDir, p.display().to_string()));
    }
    out
}
