//! `cache list|refresh|prune`: look after the shared object cache (see
//! [`crate::exec::cache_admin`]).

use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Result};

use super::Context;
use crate::cli::{CacheAction, CacheArgs};
use crate::exec::cache::Cache;
use crate::exec::cache_admin::{self, Mirror};
use crate::model::types::{RemoteUrl, RepoName};
use crate::model::undo::format_utc;
use crate::ui::report::Failure;
use crate::ui::stdout::outln;

/// Runs `cache`; returns the exit status.
pub fn run(ctx: &Context, args: &CacheArgs) -> Result<i32> {
    // No workspace is needed: a CI machine looks after its cache wherever
    // the job runs. A workspace's settings, when there is one, must be
    // valid (they may name the cache).
    ctx.check_settings()?;
    let Some(cache) = ctx.cache.as_deref() else {
        bail!(
            "no cache is in effect: name one with --cache-dir DIR, $OPENXLA_WORKSPACE_CACHE or `openxla-workspace \
             config cache-dir DIR`"
        );
    };
    match &args.action {
        CacheAction::List { .. } => list(ctx, cache),
        CacheAction::Refresh { .. } => refresh(ctx, cache),
        CacheAction::Prune { unused_for, .. } => prune(ctx, cache, *unused_for),
    }
}

/// `cache list`.
fn list(ctx: &Context, cache: &Cache) -> Result<i32> {
    let mirrors = cache_admin::mirrors(cache, &ctx.git);
    if ctx.json {
        crate::ui::json::print_document(
            "cache",
            true,
            serde_json::json!({"action": "list", "cache": cache.dir(), "mirrors": mirrors}),
        );
        return Ok(0);
    }
    if mirrors.is_empty() {
        outln!("{}: no mirrors yet", cache.dir().display());
    }
    for m in &mirrors {
        outln!("{}", describe(m));
    }
    Ok(0)
}

/// Refreshes the mirror `m`; a failure with a cause the summary tells is
/// grouped with the others of its cause and host.
fn refresh_one(ctx: &Context, cache: &Cache, m: &Mirror) -> Result<()> {
    let url = m
        .url
        .as_deref()
        .ok_or_else(|| anyhow!("{} has no origin URL", m.path.display()))
        .and_then(|u| RemoteUrl::new(u).map_err(|e| anyhow!(e)))?;
    cache.update(&ctx.git, &url).map(|_| ()).map_err(|e| {
        crate::exec::fetch_failure::classified(
            e,
            mirror_name(m).as_str(),
            url.as_str(),
            crate::exec::fetch_failure::UrlSource::Mirror,
        )
    })
}

/// One mirror on one line: URL, size, last fetched, borrowers.
fn describe(m: &Mirror) -> String {
    let url = m.url.as_deref().unwrap_or("(URL unknown)");
    let when = m.last_fetched.map_or_else(|| "never".to_string(), format_utc);
    let line = format!(
        "{url}  {}  fetched {when}  borrowed by {} workspace{}",
        cache_admin::human_size(m.size),
        m.borrowers.len(),
        if m.borrowers.len() == 1 { "" } else { "s" }
    );
    crate::model::text::escape_control(&line, false).into_owned()
}

/// `cache refresh`: every mirror fetched, in parallel up to `--jobs`.
fn refresh(ctx: &Context, cache: &Cache) -> Result<i32> {
    let started = Instant::now();
    let mirrors = cache_admin::mirrors(cache, &ctx.git);
    if ctx.dry_run {
        let lines: Vec<String> = mirrors
            .iter()
            .filter_map(|m| m.url.as_deref().and_then(|u| RemoteUrl::new(u).ok()))
            .flat_map(|url| cache.update_plan(&url))
            .collect();
        if ctx.json {
            crate::ui::json::print_document(
                "cache",
                true,
                serde_json::json!({"action": "refresh", "commands": lines}),
            );
        } else {
            lines.iter().for_each(|l| outln!("{l}"));
        }
        return Ok(0);
    }
    let executor = ctx.executor()?;
    ctx.reporter.begin("cache refresh", mirrors.len());
    let results = executor.map(
        &mirrors,
        |m| {
            m.url
                .as_deref()
                .and_then(|u| RemoteUrl::new(u).ok()?.host().map(str::to_string))
        },
        |m| refresh_one(ctx, cache, m),
    );
    ctx.reporter.clear();
    let mut failures = Vec::new();
    let mut done = Vec::new();
    for (m, result) in mirrors.iter().zip(results) {
        let url = m.url.clone().unwrap_or_else(|| m.path.display().to_string());
        match result {
            Ok(()) => {
                if ctx.prints_results() {
                    outln!("{}: refreshed", crate::model::text::escape_control(&url, false));
                }
                done.push(serde_json::json!({"url": url, "path": m.path, "ok": true}));
            }
            Err(error) => {
                done.push(serde_json::json!({"url": url, "path": m.path, "ok": false, "error": format!("{error:#}")}));
                failures.push(Failure {
                    project: mirror_name(m),
                    error,
                });
            }
        }
    }
    ctx.reporter.summary(
        "cache refresh",
        &[("refreshed", mirrors.len() - failures.len())],
        &failures,
        started.elapsed(),
    );
    if ctx.json {
        crate::ui::json::print_document(
            "cache",
            failures.is_empty(),
            serde_json::json!({"action": "refresh", "mirrors": done}),
        );
    }
    Ok(if failures.is_empty() { 0 } else { 1 })
}

/// `cache prune`: mirrors unused for `days` that no known workspace
/// borrows from are removed (listed with `--dry-run`).
fn prune(ctx: &Context, cache: &Cache, days: u32) -> Result<i32> {
    let mirrors = cache_admin::mirrors(cache, &ctx.git);
    let unused = Duration::from_secs(u64::from(days) * 86_400);
    let old = cache_admin::prunable(&mirrors, unused, SystemTime::now());
    let mut removed = Vec::new();
    for m in &old {
        if ctx.dry_run || cache_admin::remove(cache, &ctx.git, m)? {
            removed.push(*m);
        }
    }
    let kept = mirrors.len() - removed.len();
    if ctx.json {
        crate::ui::json::print_document(
            "cache",
            true,
            serde_json::json!({"action": "prune", "dry_run": ctx.dry_run, "unused_for_days": days,
                               "removed": removed, "kept": kept}),
        );
        return Ok(0);
    }
    let verb = if ctx.dry_run { "would remove" } else { "removed" };
    for m in &removed {
        outln!("{verb} {}", describe(m));
    }
    ctx.reporter.note(&format!(
        "cache prune: {} {verb}, {kept} kept (in use by a known workspace, or fetched in the last {days} days)",
        removed.len()
    ));
    Ok(0)
}

/// A name for a mirror in failure summaries: its folder's readable part.
fn mirror_name(m: &Mirror) -> RepoName {
    let stem = m.path.file_stem().and_then(|s| s.to_str()).unwrap_or("mirror");
    let readable = stem.rsplit_once('-').map_or(stem, |(name, _)| name);
    RepoName::new(readable).unwrap_or_else(|_| RepoName::new("mirror").expect("a valid name"))
}
