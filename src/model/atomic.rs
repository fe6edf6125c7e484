//! Reading and replacing files that come from other people's repositories
//! (and every other file the tool reads).
//! Reads are bounded and take only regular files (a symlink to `/dev/zero`
//! or a FIFO must neither hang the tool nor fill its memory); writes are
//! atomic -- a temporary file in the same folder, flushed, then renamed --
//! so a reader (or a crash) sees the old file or the new one, never a mix.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Reads at most `max` bytes of the regular file at `path` (following
/// symlinks); a larger file (`InvalidData`), or anything but a regular file
/// (`InvalidInput`), is an error. Nothing beyond `max + 1` bytes is read, and
/// nothing at all from a FIFO or a device.
pub fn read_regular_file(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_regular_file(path)?;
    let size = file.metadata()?.len();
    if size > max {
        return Err(too_large(max));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The size may have grown since: still never more than `max + 1`.
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(bytes)
}

fn too_large(max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than {max} bytes; this is not a file the tool reads"),
    )
}

/// Opens `path` for reading if it is a regular file. The check is made on
/// the opened file, so a file swapped for a FIFO in between cannot slip
/// through; and the open itself does not wait (`O_NONBLOCK`), since opening
/// a FIFO would otherwise block until something writes to it.
#[cfg(unix)]
fn open_regular_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    // Reads from a regular file never wait, O_NONBLOCK or not.
    Ok(file)
}

#[cfg(not(unix))]
fn open_regular_file(path: &Path) -> io::Result<fs::File> {
    if !fs::metadata(path)?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    fs::File::open(path)
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// folder is written, flushed and renamed over `path`, so a reader sees the
/// old file or the new one, never a mix. A symlink is written through (its
/// target is replaced, the link kept); an existing file's permissions are
/// kept. On error the old file is untouched and the temporary file removed.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let target = if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        fs::canonicalize(path)?
    } else {
        path.to_path_buf()
    };
    rename_onto(&target, contents, |_| true)
}

/// Like [`write_atomically`], but a symlink at `path` is itself replaced by
/// a regular file rather than written through, for a file whose symlink may
/// point anywhere (a checkout's `sync_deps.py`). Only a regular file's
/// permissions are kept: those of a device such as `/dev/null` (0666) must
/// not carry over to the new file.
pub fn replace_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    rename_onto(path, contents, fs::Metadata::is_file)
}

/// Writes `contents` to a temporary file next to `target`, flushes it and
/// renames it onto `target`. The new file takes the permissions of the file
/// at `target` (following symlinks) when `keep_permissions` accepts it.
fn rename_onto(
    target: &Path,
    contents: &[u8],
    keep_permissions: fn(&fs::Metadata) -> bool,
) -> io::Result<()> {
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?
        .to_string_lossy()
        .into_owned();
    let (temp_path, mut temp) = create_temp_file(&folder, &file_name)?;
    let result = (|| {
        temp.write_all(contents)?;
        if let Ok(old) = fs::metadata(target) {
            if keep_permissions(&old) {
                temp.set_permissions(old.permissions())?;
            }
        }
        temp.sync_all()?;
        drop(temp);
        fs::rename(&temp_path, target)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp_path);
        return Err(e);
    }
    // Make the rename itself durable where the platform can open a folder.
    if let Ok(dir) = fs::File::open(&folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Creates a new, uniquely named hidden file in `folder`.
fn create_temp_file(folder: &Path, file_name: &str) -> io::Result<(PathBuf, fs::File)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    for attempt in 1.. {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = folder.join(format!(".{file_name}.{}-{n}.tmp", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_and_only_from_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "12345").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), b"12345");
        let err = read_regular_file(&path, 4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            err.to_string(),
            "larger than 4 bytes; this is not a file the tool reads"
        );
        for special in [Path::new("/dev/zero"), dir.path()] {
            let err = read_regular_file(special, 4).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{}", special.display());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // With no writer, a blocking open would never return.
        let err = read_regular_file(&fifo, 1024).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn atomic_writes_replace_the_file_and_keep_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requirements.txt");
        fs::write(&path, "old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        write_atomically(&link, b"via link\n").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&path).unwrap(), "via link\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    }
}
