//! The probe: everything sync needs to know about a dep's checkout in one
//! `git cat-file --batch` (see [`Git::probe`]), its answers read by size as
//! git sends them and never held beyond a limit.

use std::path::Path;

use super::command::probe_input;
use super::{Git, GitResult};
use crate::model::types::CommitId;

/// What one `git cat-file --batch` call tells about a checkout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    /// The commit HEAD points at (`None` for an unborn branch).
    pub head: Option<CommitId>,
    /// Whether the asked-for commit is in the object store.
    pub has_commit: bool,
    /// The asked-for file at that commit.
    pub file_at_commit: FileAtCommit,
    /// The commit [`super::CHECKED_OUT_REF`] names, if any.
    pub marked: Option<CommitId>,
}

/// A file as a commit has it, read only when it is small enough.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FileAtCommit {
    /// The commit has no such file (or the commit is absent).
    #[default]
    Absent,
    /// The file's contents.
    Contents(Vec<u8>),
    /// The file is larger than the limit asked for; none of it was read.
    TooLarge {
        /// Its size in bytes, as git reported it.
        size: u64,
    },
    /// A partial clone that lacks what reading the file needs: `object`,
    /// the commit's top tree (git has no tree of the commit) or the file's
    /// contents. [`Git::fetch_objects`] brings it.
    NotFetched {
        /// The object to fetch.
        object: CommitId,
    },
}

/// The most bytes of a commit or tree object [`Git::probe`] keeps to read
/// (a commit's header, a top tree's entries).
pub const MAX_KEPT_OBJECT: u64 = 1 << 20;

/// What the answers of [`Git::probe`] say about `path` at `commit` (which
/// is present): its contents, that it is too large, that the commit has no
/// such file, or which object a partial clone must fetch to read it.
fn file_at_commit(
    commit: &CommitId,
    commit_answer: &BatchAnswer,
    tree: &BatchAnswer,
    file: &BatchAnswer,
    path: &str,
) -> FileAtCommit {
    match file {
        BatchAnswer::Found {
            kind, size, contents, ..
        } if kind == "blob" => {
            return match contents {
                Some(bytes) => FileAtCommit::Contents(bytes.clone()),
                None => FileAtCommit::TooLarge { size: *size },
            }
        }
        BatchAnswer::Found { .. } => return FileAtCommit::Absent, // a folder, or a submodule
        BatchAnswer::Missing => {}
    }
    match tree {
        // The commit's tree is here: the file is missing from it, or its
        // contents are missing from the repository.
        BatchAnswer::Found {
            contents: Some(entries),
            ..
        } => match tree_entry(entries, path, commit.as_str().len() / 2) {
            Some((mode, oid)) if mode.starts_with(b"100") => match CommitId::new(&oid) {
                Ok(object) => FileAtCommit::NotFetched { object },
                Err(_) => FileAtCommit::Absent,
            },
            _ => FileAtCommit::Absent,
        },
        BatchAnswer::Found { contents: None, .. } => FileAtCommit::Absent,
        // No tree: a partial clone without trees (`tree:0`). The commit
        // names its tree on its first line.
        BatchAnswer::Missing => {
            let tree_id = match commit_answer {
                BatchAnswer::Found {
                    contents: Some(bytes),
                    ..
                } => bytes
                    .split(|&b| b == b'\n')
                    .next()
                    .and_then(|line| line.strip_prefix(b"tree "))
                    .and_then(|id| std::str::from_utf8(id).ok())
                    .and_then(|id| CommitId::new(id).ok()),
                _ => None,
            };
            match tree_id {
                Some(object) => FileAtCommit::NotFetched { object },
                None => FileAtCommit::Absent,
            }
        }
    }
}

/// The mode and id (as hex) of the entry `name` in the contents of a tree
/// object, whose ids are `id_len` bytes (20 for SHA-1, 32 for SHA-256):
/// `MODE SP NAME NUL ID` per entry.
fn tree_entry(entries: &[u8], name: &str, id_len: usize) -> Option<(Vec<u8>, String)> {
    let mut rest = entries;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ')?;
        let nul = space + rest[space..].iter().position(|&b| b == 0)?;
        let (mode, entry) = (&rest[..space], &rest[space + 1..nul]);
        let id = rest.get(nul + 1..nul + 1 + id_len)?;
        if entry == name.as_bytes() {
            let hex = id.iter().map(|b| format!("{b:02x}")).collect();
            return Some((mode.to_vec(), hex));
        }
        rest = &rest[nul + 1 + id_len..];
    }
    None
}

impl Git {
    /// Everything sync needs to know about a dep, in one `git cat-file
    /// --batch` that never reaches the network, even in a partial clone (see
    /// `GitCommand::lazy_fetch`): HEAD, the commit [`super::CHECKED_OUT_REF`]
    /// names, whether `commit` is there, and `path` (a file at the top of the
    /// tree) at it. The commit's top tree, read too, tells a file git lacks
    /// ([`FileAtCommit::NotFetched`], as is every file of a commit whose tree
    /// git lacks) from one the commit lacks. Memory stays bounded: the file
    /// is read only if it has at most `max_file_size` bytes (else git is
    /// stopped before sending it), the commit and tree kept only up to
    /// [`MAX_KEPT_OBJECT`] bytes.
    pub fn probe(&self, repo: &Path, commit: &CommitId, path: &str, max_file_size: u64) -> GitResult<Probe> {
        use std::io::Read;
        let cmd = Self::probe_cmd(repo);
        let process = self.start_reading(&cmd, probe_input(commit, path).into_bytes())?;
        let unexpected = |what: String| {
            self.failed(
                &cmd,
                format!("unexpected output from git cat-file --batch: {what}"),
                None,
            )
        };
        let mut stream = std::io::BufReader::new(process.stdout());
        let mut answers = Vec::new();
        for wanted in [
            BatchContents::Skip,
            BatchContents::KeepUpTo(MAX_KEPT_OBJECT),
            BatchContents::Skip,
            BatchContents::KeepUpTo(MAX_KEPT_OBJECT),
            BatchContents::UpTo(max_file_size),
        ] {
            match read_batch_answer(&mut stream, wanted) {
                Ok(answer) => answers.push(answer),
                // git failed before answering all five: its status and
                // stderr (below) say why.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(unexpected(e.to_string())),
            }
        }
        if let [.., file] = answers.as_slice() {
            if answers.len() == 5 && matches!(file, BatchAnswer::Found { contents: None, .. }) {
                // Too large: stop git rather than read what it would send.
                drop(stream);
                process.stop();
                return Ok(probe_from(commit, path, &answers));
            }
        }
        // Read to the end (nothing should be left), which waits for git.
        let mut rest = Vec::new();
        (&mut stream)
            .take(4096)
            .read_to_end(&mut rest)
            .map_err(|e| self.spawn_error(&cmd, e))?;
        let output = match process.exit() {
            Ok(Some(output)) => output.clone(),
            Ok(None) => return Err(unexpected("more than five answers".into())),
            Err(e) => return Err(self.spawn_error(&cmd, e)),
        };
        if !output.status.success() {
            let error = self.failure(&cmd, &output);
            // An older git dies on the first object of a partial clone it
            // may not fetch instead of answering `missing`: the pinned
            // commit (answer 2), the commit's tree (4) or the file (5).
            // What it could not give is missing, and so is what it would
            // have read through it; the run then fetches it as a step.
            if !(error.is_lazy_fetch_refused() && matches!(answers.len(), 1 | 3 | 4)) {
                return Err(error);
            }
            answers.resize_with(5, || BatchAnswer::Missing);
        }
        if answers.len() < 5 || !rest.is_empty() {
            return Err(unexpected(format!(
                "{} answers for five questions",
                answers.len()
            )));
        }
        Ok(probe_from(commit, path, &answers))
    }
}

/// The probe the five answers of [`Git::probe`] make.
fn probe_from(commit: &CommitId, path: &str, answers: &[BatchAnswer]) -> Probe {
    let mut probe = Probe::default();
    let [head, has_commit, marked, tree, file] = answers else {
        return probe;
    };
    if let BatchAnswer::Found { oid, .. } = head {
        probe.head = CommitId::new(oid).ok();
    }
    if let BatchAnswer::Found { oid, .. } = marked {
        probe.marked = CommitId::new(oid).ok();
    }
    probe.has_commit = matches!(has_commit, BatchAnswer::Found { kind, .. } if kind == "commit");
    if probe.has_commit {
        probe.file_at_commit = file_at_commit(commit, has_commit, tree, file, path);
    }
    probe
}

/// One answer of `git cat-file --batch`.
#[derive(Debug, PartialEq, Eq)]
enum BatchAnswer {
    /// `<name> missing` (or `ambiguous`): no such object.
    Missing,
    /// An object: `<oid> <type> <size>`, then its contents.
    Found {
        oid: String,
        kind: String,
        size: u64,
        /// The contents, when asked for and within the limit.
        contents: Option<Vec<u8>>,
    },
}

/// What to do with the contents of the next answer.
#[derive(Clone, Copy, Debug)]
enum BatchContents {
    /// Read past them, keeping nothing.
    Skip,
    /// Keep them if at most this many bytes; otherwise leave them unread
    /// (the stream then stops in the middle of the answer).
    UpTo(u64),
    /// Keep them if at most this many bytes; otherwise read past them.
    KeepUpTo(u64),
}

/// Reads one answer of `git cat-file --batch` from `stream`: a header line
/// `<oid> <type> <size>` followed by exactly `size` bytes and a newline, or
/// `<name> missing`. The contents are split off by their size, not by lines,
/// and never held beyond what `contents` allows. End of stream before a
/// header is `UnexpectedEof`.
fn read_batch_answer(
    stream: &mut impl std::io::BufRead,
    contents: BatchContents,
) -> std::io::Result<BatchAnswer> {
    use std::io::{BufRead, Error, ErrorKind, Read};
    let mut header = Vec::new();
    // Headers are short: an id, a type and a number, or our own question.
    stream.take(1024).read_until(b'\n', &mut header)?;
    if header.is_empty() {
        return Err(Error::from(ErrorKind::UnexpectedEof));
    }
    if header.pop() != Some(b'\n') {
        return Err(Error::new(ErrorKind::InvalidData, "a header line without an end"));
    }
    let header = String::from_utf8(header)
        .map_err(|_| Error::new(ErrorKind::InvalidData, "a header that is not text"))?;
    let fields: Vec<&str> = header.split(' ').collect();
    let (oid, kind, size) = match fields.as_slice() {
        [oid, kind, size] => match size.parse::<u64>() {
            Ok(size) => (oid.to_string(), kind.to_string(), size),
            Err(_) => return Err(Error::new(ErrorKind::InvalidData, format!("header '{header}'"))),
        },
        // `<name> missing`, `<name> ambiguous`.
        [_, _] => return Ok(BatchAnswer::Missing),
        _ => return Err(Error::new(ErrorKind::InvalidData, format!("header '{header}'"))),
    };
    let keep = match contents {
        BatchContents::UpTo(max) if size > max => {
            return Ok(BatchAnswer::Found {
                oid,
                kind,
                size,
                contents: None,
            })
        }
        BatchContents::UpTo(_) => true,
        BatchContents::KeepUpTo(max) => size <= max,
        BatchContents::Skip => false,
    };
    let kept = if keep {
        let mut bytes = Vec::with_capacity(size as usize);
        stream.take(size).read_to_end(&mut bytes)?;
        Some(bytes)
    } else {
        // Fewer bytes than `size` (git ended) fail at the newline below.
        std::io::copy(&mut stream.take(size), &mut std::io::sink())?;
        None
    };
    if kept.as_ref().is_some_and(|b| b.len() as u64 != size) {
        return Err(Error::from(ErrorKind::UnexpectedEof));
    }
    let mut newline = [0u8];
    stream.read_exact(&mut newline)?;
    if newline != [b'\n'] {
        return Err(Error::new(
            ErrorKind::InvalidData,
            "contents longer than their size",
        ));
    }
    Ok(BatchAnswer::Found {
        oid,
        kind,
        size,
        contents: kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_output_is_split_by_sizes_not_lines() {
        let out: &[u8] = b"aaaa commit 3\nx\ny\nHEAD:nope missing\nbbbb blob 0\n\ncccc blob 5\nab\ncd\n";
        let mut stream = std::io::Cursor::new(out);
        let mut next = |contents| read_batch_answer(&mut stream, contents).unwrap();
        let found = |oid: &str, kind: &str, size, contents: Option<&[u8]>| BatchAnswer::Found {
            oid: oid.into(),
            kind: kind.into(),
            size,
            contents: contents.map(<[u8]>::to_vec),
        };
        assert_eq!(
            next(BatchContents::UpTo(10)),
            found("aaaa", "commit", 3, Some(b"x\ny"))
        );
        assert_eq!(next(BatchContents::UpTo(10)), BatchAnswer::Missing);
        assert_eq!(next(BatchContents::UpTo(10)), found("bbbb", "blob", 0, Some(b"")));
        assert_eq!(next(BatchContents::Skip), found("cccc", "blob", 5, None));
        assert_eq!(
            read_batch_answer(&mut stream, BatchContents::Skip)
                .unwrap_err()
                .kind(),
            std::io::ErrorKind::UnexpectedEof
        );
        let mut short = std::io::Cursor::new(&b"aaaa blob 10\nshort\n"[..]);
        assert!(read_batch_answer(&mut short, BatchContents::UpTo(100)).is_err());
    }

    #[test]
    fn batch_contents_over_the_limit_are_left_unread() {
        let mut out = b"aaaa blob 2000000\n".to_vec();
        out.extend(std::iter::repeat_n(b'x', 2_000_000));
        out.push(b'\n');
        let mut stream = std::io::Cursor::new(&out[..]);
        let answer = read_batch_answer(&mut stream, BatchContents::UpTo(1 << 20)).unwrap();
        assert_eq!(
            answer,
            BatchAnswer::Found {
                oid: "aaaa".into(),
                kind: "blob".into(),
                size: 2_000_000,
                contents: None
            }
        );
        assert_eq!(stream.position(), 18, "read only the header");
    }

    #[test]
    fn a_file_a_partial_clone_lacks_is_told_from_one_the_commit_lacks() {
        let commit = CommitId::new(&"c".repeat(40)).unwrap();
        let (blob, tree) = ("b".repeat(40), "d".repeat(40));
        let raw = |hex: &str| -> Vec<u8> {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        };
        let mut entries = b"40000 docs\0".to_vec();
        entries.extend(raw(&tree));
        entries.extend(b"100644 sync_deps.py\0");
        entries.extend(raw(&blob));
        let found = |kind: &str, contents: Option<Vec<u8>>| BatchAnswer::Found {
            oid: "e".repeat(40),
            kind: kind.into(),
            size: 0,
            contents,
        };
        let commit_object = found(
            "commit",
            Some(format!("tree {tree}\nparent x\n\nmsg\n").into_bytes()),
        );
        let with_tree = found("tree", Some(entries.clone()));
        let not_fetched = |id: &str| FileAtCommit::NotFetched {
            object: CommitId::new(id).unwrap(),
        };
        // blob:none: the tree lists the file, its contents are not here.
        assert_eq!(
            file_at_commit(
                &commit,
                &commit_object,
                &with_tree,
                &BatchAnswer::Missing,
                "sync_deps.py"
            ),
            not_fetched(&blob)
        );
        // A file the commit does not have, or that is a folder there.
        for name in ["setup.py", "docs"] {
            assert_eq!(
                file_at_commit(&commit, &commit_object, &with_tree, &BatchAnswer::Missing, name),
                FileAtCommit::Absent
            );
        }
        // tree:0: no tree at all; the commit names it.
        assert_eq!(
            file_at_commit(
                &commit,
                &commit_object,
                &BatchAnswer::Missing,
                &BatchAnswer::Missing,
                "sync_deps.py"
            ),
            not_fetched(&tree)
        );
        assert_eq!(
            file_at_commit(
                &commit,
                &commit_object,
                &with_tree,
                &found("blob", Some(b"x".to_vec())),
                "sync_deps.py"
            ),
            FileAtCommit::Contents(b"x".to_vec())
        );
        // A tree cut short is read as far as it goes.
        assert_eq!(tree_entry(&entries[..20], "sync_deps.py", 20), None);
    }
}
