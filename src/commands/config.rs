//! `config`: show or change the settings the workspace remembers (see
//! [`crate::model::settings`]).

use anyhow::{anyhow, Result};

use super::Context;
use crate::cli::ConfigArgs;
use crate::model::settings::{Key, WorkspaceSettings, FILE};
use crate::model::text::escape_control;

/// `config` shows the settings in effect and the roots; `config KEY` the
/// workspace's value of KEY (exit 1 when it has none); `config KEY VALUE`
/// and `config --unset KEY` change it.
pub fn run(ctx: &Context, args: &ConfigArgs) -> Result<i32> {
    let workspace = ctx.search_workspace()?.into_workspace()?;
    let root = workspace.root();
    let file = root.join(FILE);
    // Paths and values are shown as every other message shows text it did
    // not write: with control characters escaped.
    let file_shown = escape_control(&file.display().to_string(), false).into_owned();
    let key = |name: &str| Key::parse(name).map_err(|e| anyhow!("{e}"));
    if let Some(name) = &args.unset {
        return unset(ctx, &workspace, key(name)?, &file_shown);
    }
    match (&args.key, &args.value) {
        (Some(name), Some(value)) => {
            let key = key(name)?;
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
                    "Set {} to {} in {file_shown}",
                    key.name(),
                    escape_control(&now.unwrap_or_default(), false),
                );
            }
            Ok(0)
        }
        (Some(name), None) => {
            let key = key(name)?;
            ctx.check_settings()?;
            let value = ctx.stored.as_ref().ok().and_then(|s| s.stored.get(key));
            if ctx.json {
                let in_effect = &ctx.settings.to_json()[key.name()];
                crate::ui::json::print_document(
                    "config",
                    value.is_some(),
                    serde_json::json!({"workspace": root.display().to_string(), "key": key.name(), "value": value, "in_effect": in_effect}),
                );
            } else if let Some(value) = &value {
                crate::ui::stdout::outln!("{}", escape_control(value, false));
            }
            Ok(if value.is_some() { 0 } else { 1 })
        }
        _ => {
            ctx.check_settings()?;
            let roots = ctx.roots();
            if ctx.json {
                crate::ui::json::print_document(
                    "config",
                    true,
                    serde_json::json!({
                        "workspace": root.display().to_string(),
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
    }
}

/// `config --unset KEY`: forgets KEY, even when its stored value is one no
/// run can use (that is what repairs it).
fn unset(
    ctx: &Context,
    workspace: &crate::model::workspace::Workspace,
    key: Key,
    file_shown: &str,
) -> Result<i32> {
    let root = workspace.root();
    let lock = workspace.lock("config --unset")?;
    let mut settings = WorkspaceSettings::load_except(root, Some(key))?;
    // Read leniently for KEY alone, the file fails strictly only over KEY's
    // value: that value is dropped by this rewrite.
    let unusable = WorkspaceSettings::load(root).err();
    let was = settings.stored.get(key);
    settings.stored.unset(key);
    if was.is_some() || unusable.is_some() {
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
    } else if was.is_some() || unusable.is_some() {
        crate::ui::stdout::outln!("Unset {} in {file_shown}", key.name());
    } else {
        crate::ui::stdout::outln!("{} was not set in {file_shown}", key.name());
    }
    Ok(0)
}
