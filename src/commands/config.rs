//! `config`: show or change the settings the workspace remembers (see
//! [`crate::model::settings`]).

use anyhow::{anyhow, Result};

use super::Context;
use crate::cli::ConfigArgs;
use crate::model::settings::{Key, WorkspaceSettings, FILE};
use crate::model::workspace::Workspace;

/// `config` shows the settings in effect and the roots; `config KEY` the
/// workspace's value of KEY (exit 1 when it has none); `config KEY VALUE`
/// and `config --unset KEY` change it.
pub fn run(ctx: &Context, args: &ConfigArgs) -> Result<i32> {
    let workspace = ctx.search_workspace()?.into_workspace()?;
    if let Some(name) = &args.unset {
        return unset(ctx, &workspace, key(name)?);
    }
    match (&args.key, &args.value) {
        (Some(name), Some(value)) => set(ctx, &workspace, key(name)?, value),
        (Some(name), None) => show_one(ctx, &workspace, key(name)?),
        _ => show_all(ctx, &workspace),
    }
}

fn key(name: &str) -> Result<Key> {
    Key::parse(name).map_err(|e| anyhow!("{e}"))
}

/// `config --unset KEY`.
fn unset(ctx: &Context, workspace: &Workspace, key: Key) -> Result<i32> {
    let root = workspace.root();
    let file = root.join(FILE);
    let lock = workspace.lock("config --unset")?;
    let mut settings = WorkspaceSettings::load_except(root, Some(key))?;
    let was = settings.stored.get(key);
    settings.stored.unset(key);
    if was.is_some() {
        settings.save(root)?;
    }
    // What an interrupted run left for the next one to clean up stays.
    lock.give_back();
    if ctx.json {
        crate::ui::json::print_document(
            "config",
            true,
            serde_json::json!({"workspace": root.display().to_string(), "key": key.name(), "value": null, "was": was}),
        );
    } else if was.is_some() {
        crate::ui::stdout::outln!("Unset {} in {}", key.name(), file.display());
    } else {
        crate::ui::stdout::outln!("{} was not set in {}", key.name(), file.display());
    }
    Ok(0)
}

/// `config KEY VALUE`.
fn set(ctx: &Context, workspace: &Workspace, key: Key, value: &str) -> Result<i32> {
    let root = workspace.root();
    let lock = workspace.lock("config")?;
    let mut settings = WorkspaceSettings::load_except(root, Some(key))?;
    let was = settings.stored.get(key);
    settings
        .stored
        .set(key, value, &ctx.cwd)
        .map_err(|e| anyhow!("{}: {e}", key.name()))?;
    if let (Key::Registry, Some(registry)) = (key, &settings.stored.registry) {
        crate::model::registry::load(&crate::model::registry::Sources {
            workspace_file: None,
            explicit_file: Some(registry.clone()),
        })?;
    }
    settings.save(root)?;
    lock.give_back();
    let now = settings.stored.get(key);
    if ctx.json {
        crate::ui::json::print_document(
            "config",
            true,
            serde_json::json!({"workspace": root.display().to_string(), "key": key.name(), "value": now, "was": was}),
        );
    } else {
        crate::ui::stdout::outln!(
            "Set {} to {} in {}",
            key.name(),
            now.unwrap_or_default(),
            root.join(FILE).display()
        );
    }
    Ok(0)
}

/// `config KEY`: the workspace's value; exit 1 when it has none.
fn show_one(ctx: &Context, workspace: &Workspace, key: Key) -> Result<i32> {
    ctx.check_settings()?;
    let value = ctx.stored.as_ref().ok().and_then(|s| s.stored.get(key));
    if ctx.json {
        let in_effect = &ctx.settings.to_json()[key.name()];
        crate::ui::json::print_document(
            "config",
            value.is_some(),
            serde_json::json!({"workspace": workspace.root().display().to_string(), "key": key.name(), "value": value, "in_effect": in_effect}),
        );
    } else if let Some(value) = &value {
        crate::ui::stdout::outln!("{value}");
    }
    Ok(if value.is_some() { 0 } else { 1 })
}

/// `config`: the settings in effect and the roots.
fn show_all(ctx: &Context, workspace: &Workspace) -> Result<i32> {
    ctx.check_settings()?;
    let roots = ctx.roots();
    if ctx.json {
        crate::ui::json::print_document(
            "config",
            true,
            serde_json::json!({
                "workspace": workspace.root().display().to_string(),
                "settings": ctx.settings.to_json(),
                "roots": roots.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            }),
        );
    } else {
        crate::ui::stdout::out!(
            "{}",
            crate::model::text::escape_control(&ctx.settings.render(&roots), true)
        );
    }
    Ok(0)
}
