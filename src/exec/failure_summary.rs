//! The failures at the end of a run, grouped: every clone that failed for
//! the same cause on the same host is one block that says the cause in
//! words, the host, what was not cloned (projects, or `PROJECT:PATH`
//! submodules: names, not command lines), one example of git's own
//! message, where the URLs came from, and what to do. Failures that are
//! not a clone's keep their own line, with git's facts in full. With `-v`
//! every failure is also printed in full first, each command with its
//! whole stderr.
//!
//! The same facts (cause, host, hint) go into `--json` ([`json_causes`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::exec::fetch_failure::{in_chain, FetchFailure, UrlSource};
use crate::git::{Cause, GitErrorKind};
use std::time::Duration;

use crate::model::text::escape_control;
use crate::ui::json::Problem;
use crate::ui::report::{Failure, Paint, RegistryLayers, Reporter};

impl Reporter {
    /// The closing summary: counts, elapsed time, then every failure in
    /// full. Always printed, even with `-q`.
    pub fn summary(&self, command: &str, counts: &[(&str, usize)], failures: &[Failure], elapsed: Duration) {
        if crate::process::interrupt::is_interrupted() {
            return;
        }
        self.clear();
        let parts: Vec<String> = counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .chain((!failures.is_empty()).then(|| format!("{} failed", failures.len())))
            .collect();
        let parts = if parts.is_empty() {
            "nothing to do".to_string()
        } else {
            parts.join(", ")
        };
        let mut out = format!("{command}: {parts} in {:.1}s\n", elapsed.as_secs_f64());
        out.push_str(&render(
            failures,
            &self.registry_layers(),
            self.paint(),
            self.is_verbose(),
        ));
        crate::process::stderr::err!("{out}");
    }
}

impl From<&crate::ui::report::Failure> for Problem {
    fn from(failure: &crate::ui::report::Failure) -> Problem {
        Problem {
            project: failure.project.to_string(),
            error: format!("{:#}", failure.error),
            causes: json_causes(&failure.error, &Default::default()),
        }
    }
}

/// What the failures of one block share: the cause and the host (`None`
/// for local paths).
type GroupKey<'a> = (Cause, Option<&'a str>);

/// The failures part of a summary (see the module documentation).
pub fn render(failures: &[Failure], layers: &RegistryLayers, paint: &Paint, verbose: bool) -> String {
    let mut out = String::new();
    let mut groups: Vec<(GroupKey, Vec<&FetchFailure>)> = Vec::new();
    for failure in failures {
        let fetches = in_chain(&failure.error);
        if verbose || fetches.is_empty() {
            let error = format!("{:#}", failure.error);
            let _ = writeln!(
                out,
                "{} {}: {}",
                paint.error(),
                failure.project,
                escape_control(&error, true)
            );
        }
        for fetch in fetches {
            let key = (fetch.cause(), fetch.host());
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(fetch),
                None => groups.push((key, vec![fetch])),
            }
        }
    }
    for ((cause, host), members) in &groups {
        out.push_str(&block(*cause, *host, members, layers, paint));
    }
    out
}

/// One block: the failures of one cause on one host.
fn block(
    cause: Cause,
    host: Option<&str>,
    members: &[&FetchFailure],
    layers: &RegistryLayers,
    paint: &Paint,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}: {}",
        paint.error(),
        host.map_or_else(
            || "local path".to_string(),
            |h| escape_control(h, false).into_owned()
        ),
        cause.words()
    );
    let names: Vec<&str> = members.iter().map(|m| m.subject.as_str()).collect();
    let skipped = members.iter().filter(|m| m.error.was_skipped()).count();
    let missing = unique(members.iter().map(|m| m.missed()));
    let _ = write!(
        out,
        "  {}: {}",
        missing.join(" or "),
        escape_control(&names.join(", "), false)
    );
    if skipped > 0 {
        let _ = write!(out, " ({skipped} not tried: the host had already failed)");
    }
    out.push('\n');
    let example = members
        .iter()
        .find(|m| !m.error.was_skipped())
        .unwrap_or(&members[0])
        .error
        .telling_line();
    let _ = writeln!(out, "  git said: {}", escape_control(&example, false));
    let _ = writeln!(out, "  {}", sources(members, layers));
    let _ = writeln!(out, "  to do: {}", hint(cause, host, members));
    out
}

/// Where the URLs of `members` came from, in one line.
fn sources(members: &[&FetchFailure], layers: &RegistryLayers) -> String {
    let seen = unique(members.iter().map(|m| source_of(m, layers)));
    let urls = match members {
        [one] => format!("URL {}", escape_control(&one.url, false)),
        _ => "URLs".to_string(),
    };
    format!("{urls} from {}", seen.join("; "))
}

/// `items` without repeats, in their order.
fn unique<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// Where one URL came from: a registry layer, or a `.gitmodules`.
fn source_of(member: &FetchFailure, layers: &RegistryLayers) -> String {
    match &member.source {
        UrlSource::Registry => match layers.get(&member.subject).map(String::as_str) {
            Some("embedded default") => "the embedded default registry".to_string(),
            Some(layer) => format!("the {layer}"),
            None => "the registry".to_string(),
        },
        UrlSource::Mirror => {
            "the cache mirror's origin (`cache prune` removes a mirror no one uses)".to_string()
        }
        UrlSource::Origin => "the checkout's origin remote (the registry does not change it; `git remote \
            set-url origin URL` in the checkout does)"
            .to_string(),
        UrlSource::Gitmodules { project, commit } => format!(
            "{project}'s .gitmodules{} (--ro and the registry do not change them)",
            commit.as_ref().map(|c| format!(" at {c}")).unwrap_or_default()
        ),
    }
}

/// What to do about `cause` on `host` for `members`.
fn hint(cause: Cause, host: Option<&str>, members: &[&FetchFailure]) -> String {
    let host = host.unwrap_or("the host");
    // A credential failure already says what to do in its own words.
    let credentials = members.iter().find_map(|m| match &m.error.kind {
        GitErrorKind::Credentials { problem, .. } => Some(problem.clone()),
        _ => None,
    });
    let fix = match cause {
        Cause::NameResolution => "check the network connection, DNS and proxy settings (`https_proxy`, \
            `git config --get http.proxy`), then run again"
            .to_string(),
        Cause::Connection => format!(
            "check that {host} is up and reachable from here (a firewall, or proxy settings such as \
             `https_proxy`), then run again"
        ),
        Cause::Tls => "check the system's CA certificates (or `http.sslCAInfo`) and any proxy that \
            intercepts TLS, then run again"
            .to_string(),
        Cause::HostKey => format!(
            "connect once with `ssh -T git@{host}` to check and accept the host's key (or correct it in \
             ~/.ssh/known_hosts if it changed), then run again"
        ),
        Cause::KeyRefused => credentials.unwrap_or_else(|| {
            format!(
                "check which key {host} accepts with `ssh -T git@{host}` and load it into your ssh agent \
                 (`ssh-add`), or use --ro to clone from the read-only https URLs"
            )
        }),
        Cause::Credentials => credentials.unwrap_or_else(|| {
            "store a username and token with a credential helper (see `git help credential`), or use \
             --ro to clone from the read-only https URLs"
                .to_string()
        }),
        Cause::NotFound if members.iter().all(|m| m.is_submodule()) => "the URL is in the project's \
            .gitmodules: check it there, and tell the project's maintainers if it is wrong"
            .to_string(),
        Cause::NotFound if members.iter().all(|m| m.is_fetch()) => "check the checkout's origin URL \
            (`git remote get-url origin` there) and set the right one with `git remote set-url origin URL`"
            .to_string(),
        Cause::NotFound => "check the URL: correct the project's entry (ro_url, or rw_url without --ro) \
            in the registry file named above, or put the repository back where it says"
            .to_string(),
        Cause::RefusedWant => "the server does not send commits by id; fetch the branch that holds the \
            commit (`git fetch origin BRANCH`), then run again"
            .to_string(),
        Cause::DiskFull => "free some disk space, then run again".to_string(),
        Cause::Other => "run again with -v to see every failed command with git's whole message".to_string(),
    };
    match exclusion(members) {
        Some(flag) => format!(
            "{fix}; or leave them out with {flag}. The projects are in place: the next run clones only the \
             submodules still missing"
        ),
        None => fix,
    }
}

/// The `--exclude-submodule` values that would leave out the submodules
/// among `members`: one anchored regex per project.
fn exclusion(members: &[&FetchFailure]) -> Option<String> {
    let mut by_project: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for member in members.iter().filter(|m| m.is_submodule()) {
        if let Some((project, path)) = member.subject.split_once(':') {
            by_project.entry(project).or_default().push(path);
        }
    }
    if by_project.is_empty() {
        return None;
    }
    let patterns: Vec<String> = by_project
        .iter()
        .map(|(project, paths)| {
            let paths: Vec<String> = paths.iter().map(|p| regex::escape(p)).collect();
            match paths.as_slice() {
                [one] => format!("'^{}:{one}$'", regex::escape(project)),
                _ => format!("'^{}:({})$'", regex::escape(project), paths.join("|")),
            }
        })
        .collect();
    Some(format!(
        "--exclude-submodule {}",
        escape_control(&patterns.join(" "), false)
    ))
}

/// For `--json`: each clone that failed in `error`, with its cause, host
/// and what to do.
pub fn json_causes(error: &anyhow::Error, layers: &RegistryLayers) -> Vec<serde_json::Value> {
    in_chain(error)
        .into_iter()
        .map(|fetch| {
            serde_json::json!({
                "subject": fetch.subject,
                "url": fetch.url,
                "url_from": source_of(fetch, layers),
                "cause": fetch.cause().id(),
                "host": fetch.host(),
                "not_started": fetch.error.was_skipped(),
                "git_said": fetch.error.telling_line(),
                "hint": hint(fetch.cause(), fetch.host(), &[fetch]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::{GitError, HostDown};
    use std::path::PathBuf;

    const NO_DNS: &str = "fatal: unable to access 'https://h.invalid/one.git/': Could not resolve host: h.invalid\n\
        fatal: clone of 'https://h.invalid/one.git' into submodule path '/ws/.openxla-partial-liba/third_party/one' \
        failed\nFailed to clone 'third_party/one'. Retry scheduled";

    fn submodule(path: &str, skipped: bool) -> FetchFailure {
        let said = "fatal: unable to access 'https://h.invalid/one.git/': Could not resolve host: h.invalid";
        FetchFailure {
            subject: format!("liba:{path}"),
            url: format!("https://h.invalid/{path}.git"),
            source: UrlSource::Gitmodules {
                project: crate::model::types::RepoName::new("liba").unwrap(),
                commit: Some("1a2b3c4".into()),
            },
            error: GitError {
                dir: PathBuf::from("/ws/.openxla-partial-liba"),
                command: format!("git submodule update -- {path}"),
                stderr: if skipped { String::new() } else { NO_DNS.into() },
                kind: if skipped {
                    GitErrorKind::HostDown(Box::new(HostDown {
                        host: "h.invalid".into(),
                        cause: Cause::NameResolution,
                        said: said.into(),
                    }))
                } else {
                    GitErrorKind::Failed { status: Some(1) }
                },
            },
        }
    }

    /// A repository not found is fixed where its URL came from: the
    /// project's .gitmodules, the checkout's origin, or the registry.
    #[test]
    fn a_missing_repository_s_fix_names_where_its_url_came_from() {
        let sub = submodule("third_party/one", false);
        let mut origin = submodule("liba", false);
        origin.source = UrlSource::Origin;
        let mut registry = submodule("liba", false);
        registry.source = UrlSource::Registry;
        let fix = |members: &[&FetchFailure]| hint(Cause::NotFound, None, members);
        assert!(
            fix(&[&sub]).contains("in the project's .gitmodules"),
            "{}",
            fix(&[&sub])
        );
        assert!(
            fix(&[&origin]).contains("git remote set-url origin URL"),
            "{}",
            fix(&[&origin])
        );
        assert!(fix(&[&registry]).contains("in the registry file named above"));
        // Mixed sources: the registry's fix, the one that names no single place.
        assert!(fix(&[&sub, &origin]).contains("in the registry file named above"));
    }

    #[test]
    fn submodules_of_one_dead_host_are_one_block_with_the_fix() {
        let failure = Failure {
            project: crate::model::types::RepoName::new("liba").unwrap(),
            error: crate::exec::fetch_failure::FetchFailures(vec![
                submodule("third_party/one", false),
                submodule("third_party/two", true),
                submodule("third_party/x.y", true),
            ])
            .into(),
        };
        let shown = render(
            &[failure],
            &RegistryLayers::new(),
            &Paint::new(crate::ui::report::ColorChoice::Never),
            false,
        );
        assert_eq!(
            shown,
            "error: h.invalid: the host name could not be resolved (no network, or a DNS or proxy problem)\n  \
             not cloned: liba:third_party/one, liba:third_party/two, liba:third_party/x.y (2 not tried: the \
             host had already failed)\n  \
             git said: fatal: unable to access 'https://h.invalid/one.git/': Could not resolve host: h.invalid\n  \
             URLs from liba's .gitmodules at 1a2b3c4 (--ro and the registry do not change them)\n  \
             to do: check the network connection, DNS and proxy settings (`https_proxy`, `git config --get \
             http.proxy`), then run again; or leave them out with --exclude-submodule \
             '^liba:(third_party/one|third_party/two|third_party/x\\.y)$'. The projects are in place: the next \
             run clones only the submodules still missing\n"
        );
    }

    #[test]
    fn a_failure_that_is_not_a_clone_keeps_its_own_line() {
        let failure = Failure {
            project: crate::model::types::RepoName::new("app").unwrap(),
            error: anyhow::anyhow!("local changes in /ws/app conflict\n    \x1b[31m"),
        };
        let shown = render(
            &[failure],
            &RegistryLayers::new(),
            &Paint::new(crate::ui::report::ColorChoice::Never),
            false,
        );
        assert_eq!(
            shown,
            "error: app: local changes in /ws/app conflict\n    \\x1b[31m\n"
        );
    }
}
