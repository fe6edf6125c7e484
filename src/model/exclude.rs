//! `--exclude-dep` and `--exclude-submodule`: which pattern leaves a dep or
//! a submodule out, and the line that says so.

use regex::Regex;

use crate::model::types::RepoName;

/// The first of `exclude` that matches `key` (a dep's name, or a
/// submodule's `PROJECT:PATH`).
pub fn matching<'r>(exclude: &'r [Regex], key: &str) -> Option<&'r Regex> {
    exclude.iter().find(|re| re.is_match(key))
}

/// The line that reports a dep left out by `--exclude-dep`.
pub fn excluded_dep_line(dep: &RepoName, re: &str) -> String {
    format!("{dep}: excluded (--exclude-dep {re})")
}

/// The line that reports a submodule left out by `--exclude-submodule`.
pub fn excluded_submodule_line(project: &RepoName, path: &str, re: &str) -> String {
    format!(
        "{project}: submodule {} excluded (--exclude-submodule {re})",
        crate::model::text::escape_control(path, false)
    )
}
