//! The pins and fixture files that the reader, writer and runnable-part
//! tests share.

use std::path::{Path, PathBuf};

use super::{read, PinFileError, Pins};
use crate::model::types::{CommitId, RemoteUrl, RepoName};

pub(super) const IREE: &str = "a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b";
pub(super) const XLA: &str = "5cdd98a68988e411a3e784c84cdae7f24b35fdf4";
pub(super) const JAX: &str = "5bb0af57f42d7b5b142c660476eb538557084338";

pub(super) fn name(s: &str) -> RepoName {
    RepoName::new(s).unwrap()
}

pub(super) fn commit(s: &str) -> CommitId {
    CommitId::new(s).unwrap()
}

pub(super) fn url(s: &str) -> RemoteUrl {
    RemoteUrl::new(s).unwrap()
}

/// What every file in `testdata/pinfiles/` (but the reduced ones) holds.
pub(super) fn openxla_pins() -> Pins {
    let mut pins = openxla_pins_only();
    pins.set_origin(name("iree"), url("https://github.com/iree-org/iree.git"));
    pins.set_origin(name("xla"), url("https://github.com/openxla/xla.git"));
    pins.set_origin(name("jax"), url("https://github.com/jax-ml/jax.git"));
    pins.set_submodules(name("iree"), true);
    pins
}

pub(super) fn openxla_pins_only() -> Pins {
    let mut pins = Pins::default();
    pins.set_pin(name("iree"), commit(IREE));
    pins.set_pin(name("xla"), commit(XLA));
    pins.set_pin(name("jax"), commit(JAX));
    pins
}

/// URLs that need every kind of escape the writer produces.
pub(super) fn unusual_pins() -> Pins {
    let mut pins = Pins::default();
    pins.set_pin(name("dep.x_y-1"), commit(&"ab".repeat(32)));
    pins.set_origin(name("dep.x_y-1"), url(r#"https://exämple.org/q"uo\te's.git"#));
    pins.set_origin(name("emoji"), url("https://example.org/\u{1F600}.git"));
    pins
}

pub(super) fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/pinfiles")
        .join(relative)
}

pub(super) fn read_testdata(relative: &str) -> Result<Pins, PinFileError> {
    read(&testdata(relative))
}
