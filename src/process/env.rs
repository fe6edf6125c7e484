//! Environment hygiene for the programs the tool starts: nothing that
//! would point git at another repository, and the C locale where the tool
//! reads what a program prints.

/// Variables that make git work on another repository than the folder it
/// runs in (with an inherited `GIT_DIR`, every project's status would show
/// one repository). Removed for every git, pip and `foreach` command the
/// tool starts; everything else (config, credentials, ssh) passes through.
pub const REPOSITORY_ENV: [&str; 7] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
];

/// `expr` without the variables of [`REPOSITORY_ENV`].
pub fn without_repository_env(expr: duct::Expression) -> duct::Expression {
    REPOSITORY_ENV.iter().fold(expr, |expr, var| expr.env_remove(var))
}

/// `expr` in the C locale (`LC_ALL=C`): the tool reads git's messages
/// (a refused fetch by id, a checkout refused over local changes) and
/// progress lines, which a translated git words differently. With the
/// locale `C`, gettext also ignores `LANGUAGE`.
pub fn in_c_locale(expr: duct::Expression) -> duct::Expression {
    expr.env("LC_ALL", "C")
}
