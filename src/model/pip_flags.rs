//! The `pip_flags` of a registry's `py_package` action, validated: only
//! flags that say where versions come from.

use std::fmt;
use std::path::{Path, PathBuf};

/// The `pip_flags` of a `py_package` action, validated: only flags that
/// choose where versions come from, each value a URL or a path inside the
/// project. A registry can come from anyone, and pip has flags that write
/// files (`--log ~/.bashrc`), run code or read credentials; none of them
/// gets through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipFlags(Vec<PipFlag>);

/// One accepted flag, with its value if it takes one.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PipFlag {
    /// The flag as written in the registry (`-f` or `--find-links`, ...).
    name: &'static str,
    value: Option<PipSource>,
}

/// Where pip looks for versions.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PipSource {
    /// An `https://`, `http://` or `file://` URL.
    Url(String),
    /// A relative path inside the project (a folder of wheels, a links page).
    ProjectPath(PathBuf),
}

/// The accepted flags and whether each takes a value.
const ACCEPTED_FLAGS: [(&str, bool); 6] = [
    ("--index-url", true),
    ("--extra-index-url", true),
    ("--find-links", true),
    ("-f", true),
    ("--pre", false),
    ("--no-index", false),
];

/// The longest value accepted; real URLs and paths are far shorter.
const MAX_VALUE_LEN: usize = 2048;

impl PipFlags {
    /// Validates the `pip_flags` of a registry: `--index-url URL`,
    /// `--extra-index-url URL`, `--find-links URL` (or `-f URL`), each also
    /// as `--flag=URL`, `--pre` and `--no-index`; a value is an `https://`,
    /// `http://` or `file://` URL, or a relative path that stays inside the
    /// project. Anything else is refused, saying why.
    pub fn parse(tokens: &[String]) -> Result<PipFlags, String> {
        const ALLOWED: &str = "pip_flags may only say where versions come from: --index-url URL, \
                               --extra-index-url URL, --find-links URL (or -f URL), --pre, --no-index";
        let mut flags = Vec::new();
        let mut tokens = tokens.iter();
        while let Some(token) = tokens.next() {
            let shown = |s: &str| s.chars().take(120).collect::<String>().escape_debug().to_string();
            let (written, inline) = match token.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
                _ => (token.as_str(), None),
            };
            let Some(&(name, takes_value)) = ACCEPTED_FLAGS.iter().find(|(name, _)| *name == written) else {
                return Err(format!("'{}' is not accepted; {ALLOWED}", shown(token)));
            };
            let value = match (takes_value, inline) {
                (false, None) => None,
                (false, Some(_)) => return Err(format!("'{name}' takes no value, found '{}'", shown(token))),
                (true, Some(value)) => Some(value),
                (true, None) => match tokens.next() {
                    Some(value) => Some(value.as_str()),
                    None => {
                        return Err(format!(
                            "'{name}' needs a value: a URL (https://, http:// or file://) or a relative path inside the project"
                        ))
                    }
                },
            };
            let value = match value {
                None => None,
                Some(value) => Some(PipSource::parse(value).ok_or_else(|| {
                    format!(
                        "'{}' (the value of {name}) is neither a URL (https://, http:// or file://) nor a relative \
                         path inside the project",
                        shown(value)
                    )
                })?),
            };
            flags.push(PipFlag { name, value });
        }
        Ok(PipFlags(flags))
    }

    /// The flags as the registry wrote them, one token each (`--pre`,
    /// `-f`, `URL`), values as given (paths relative to the project).
    pub fn tokens(&self) -> Vec<String> {
        let mut tokens = Vec::new();
        for flag in &self.0 {
            tokens.push(flag.name.to_string());
            tokens.extend(flag.value.as_ref().map(PipSource::as_written));
        }
        tokens
    }

    /// Whether there are no flags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The flags as pip gets them, with each path made absolute in
    /// `project` (pip runs elsewhere). A path that leads out of the project
    /// through a symlink is an error.
    pub fn args(&self, project: &Path) -> Result<Vec<String>, String> {
        let mut args = Vec::new();
        for flag in &self.0 {
            args.push(flag.name.to_string());
            match &flag.value {
                None => {}
                Some(PipSource::Url(url)) => args.push(url.clone()),
                Some(PipSource::ProjectPath(path)) => {
                    let full = project.join(path);
                    if let (Ok(real), Ok(root)) = (full.canonicalize(), project.canonicalize()) {
                        if !real.starts_with(&root) {
                            return Err(format!(
                                "{} (the value of {} in pip_flags) leads to {}, outside the project; refusing to give it to pip",
                                full.display(),
                                flag.name,
                                real.display()
                            ));
                        }
                    }
                    args.push(full.display().to_string());
                }
            }
        }
        Ok(args)
    }
}

impl fmt::Display for PipFlags {
    /// The flags as the registry wrote them (`--pre -f URL`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tokens().join(" "))
    }
}

impl PipSource {
    /// The value as the registry wrote it.
    fn as_written(&self) -> String {
        match self {
            PipSource::Url(url) => url.clone(),
            PipSource::ProjectPath(path) => path.display().to_string(),
        }
    }

    /// A URL with a scheme pip reads versions from and a host (or a
    /// `file://` path), in printable ASCII (no white space, no control or
    /// invisible characters); or a relative path of portable characters
    /// whose components are names or `.`, so it stays inside the project.
    fn parse(value: &str) -> Option<PipSource> {
        if value.is_empty() || value.len() > MAX_VALUE_LEN || value.starts_with('-') {
            return None;
        }
        let lower = value.to_ascii_lowercase();
        let url = ["https://", "http://", "file://"]
            .iter()
            .find(|scheme| lower.starts_with(**scheme));
        if let Some(scheme) = url {
            let rest = &value[scheme.len()..];
            let host = rest.split('/').next().unwrap_or("");
            let well_formed = value.bytes().all(|b| b.is_ascii_graphic())
                && if *scheme == "file://" {
                    // file:///path or file://localhost/path
                    rest.starts_with('/')
                        || (host.eq_ignore_ascii_case("localhost") && rest.len() > host.len())
                } else {
                    !host.is_empty() && !host.starts_with('-')
                };
            return well_formed.then(|| PipSource::Url(value.to_string()));
        }
        if value.contains("://") {
            return None;
        }
        let path = PathBuf::from(value);
        let portable = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+@=,/-".contains(c));
        let inside = path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
        (portable && inside).then_some(PipSource::ProjectPath(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(tokens: &[&str]) -> Result<PipFlags, String> {
        PipFlags::parse(&tokens.iter().map(|t| t.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn pip_flags_accept_only_where_versions_come_from() {
        for ok in [
            &["--pre", "--no-index"][..],
            &["--index-url", "https://pypi.org/simple"],
            &[
                "--index-url=https://pypi.org/simple",
                "--extra-index-url",
                "http://mirror:8080/simple/",
            ],
            &[
                "-f",
                "https://storage.googleapis.com/jax-releases/jaxlib_nightly_releases.html",
            ],
            &[
                "--find-links",
                "file:///srv/wheels",
                "-f",
                "file://localhost/srv/wheels",
            ],
            &[
                "-f",
                "wheels",
                "-f",
                "./third_party/wheels",
                "--find-links=links.html",
                "-f",
                ".",
            ],
        ] {
            let parsed = flags(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
            assert_eq!(parsed.to_string(), ok.join(" ").replace('=', " "), "{ok:?}");
        }
    }

    #[test]
    fn pip_flags_refuse_everything_else_saying_why() {
        let not_accepted =
            "is not accepted; pip_flags may only say where versions come from: --index-url URL, \
                            --extra-index-url URL, --find-links URL (or -f URL), --pre, --no-index";
        let neither =
            "is neither a URL (https://, http:// or file://) nor a relative path inside the project";
        for (bad, expect) in [
            (&["--log", "~/.bashrc"][..], format!("'--log' {not_accepted}")),
            (&["--log=/home/u/.bashrc"], format!("'--log=/home/u/.bashrc' {not_accepted}")),
            (&["-i", "https://x/simple"], format!("'-i' {not_accepted}")),
            (&["--index", "https://x/simple"], format!("'--index' {not_accepted}")),
            (&["-fhttps://x/l.html"], format!("'-fhttps://x/l.html' {not_accepted}")),
            (&["--trusted-host", "x"], format!("'--trusted-host' {not_accepted}")),
            (&["--cert=/etc/evil.pem"], format!("'--cert=/etc/evil.pem' {not_accepted}")),
            (&["--pre=1"], "'--pre' takes no value, found '--pre=1'".to_string()),
            (
                &["-f"],
                "'-f' needs a value: a URL (https://, http:// or file://) or a relative path inside the project"
                    .to_string(),
            ),
            (&["-f", "x';touch${IFS}X;#"], format!("'x\\';touch${{IFS}}X;#' (the value of -f) {neither}")),
            (&["-f", "--log"], format!("'--log' (the value of -f) {neither}")),
            (&["-f", "../wheels"], format!("'../wheels' (the value of -f) {neither}")),
            (&["-f", "/tmp/wheels"], format!("'/tmp/wheels' (the value of -f) {neither}")),
            (&["-f", "~/wheels"], format!("'~/wheels' (the value of -f) {neither}")),
            (&["--index-url", "ftp://x/simple"], format!("'ftp://x/simple' (the value of --index-url) {neither}")),
            (&["--index-url", "https:///simple"], format!("'https:///simple' (the value of --index-url) {neither}")),
            (&["--index-url", "file:relative"], format!("'file:relative' (the value of --index-url) {neither}")),
            (&["-f", "https://x/a b"], format!("'https://x/a b' (the value of -f) {neither}")),
            (
                &["-f", "https://x/\u{202e}lmth.html"],
                format!("'https://x/\\u{{202e}}lmth.html' (the value of -f) {neither}"),
            ),
        ] {
            assert_eq!(flags(bad).unwrap_err(), expect, "{bad:?}");
        }
    }

    #[test]
    fn a_pip_flag_path_may_not_lead_out_of_the_project_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("app");
        std::fs::create_dir_all(project.join("wheels")).unwrap();
        std::os::unix::fs::symlink("/etc", project.join("links")).unwrap();
        let ok = flags(&["-f", "wheels"]).unwrap().args(&project).unwrap();
        assert_eq!(
            ok,
            ["-f".to_string(), project.join("wheels").display().to_string()]
        );
        let err = flags(&["-f", "links"]).unwrap().args(&project).unwrap_err();
        assert_eq!(
            err,
            format!(
                "{} (the value of -f in pip_flags) leads to /etc, outside the project; refusing to give it to pip",
                project.join("links").display()
            )
        );
    }
}
