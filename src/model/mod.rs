//! What the tool knows, as data: the registry, pin files, requirements
//! files, remembered settings, the workspace folder and its marker, and the
//! validated types everything past the readers holds. Nothing here starts
//! a process or imports a layer above.

pub(crate) mod atomic;
pub(crate) mod exclude;
pub mod pinfile;
pub(crate) mod pip_flags;
pub mod registry;
pub(crate) mod requirements;
pub(crate) mod settings;
pub(crate) mod suggest;
pub(crate) mod text;
pub(crate) mod types;
pub(crate) mod undo;
pub(crate) mod workspace;
