//! "Did you mean": names ordered by how close they are to what was typed.

/// `candidates` ordered closest to `typed` first (Levenshtein distance over
/// characters, ignoring case; candidates that contain what was typed come
/// first), ties in their given order.
pub fn closest_first<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let typed_lower = typed.to_lowercase();
    let mut scored: Vec<(bool, usize, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let lower = name.to_lowercase();
            // A name that holds what was typed (`pjrt`) comes before any
            // that does not, however long it is.
            let holds = !typed_lower.is_empty() && lower.contains(&typed_lower);
            (!holds, edit_distance(&typed_lower, &lower), i, name)
        })
        .collect();
    scored.sort();
    scored.into_iter().map(|(_, _, _, name)| name).collect()
}

/// The number of single-character insertions, deletions and substitutions
/// that turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("xla", "xla"), 0);
        assert_eq!(edit_distance("jxa", "jax"), 2);
    }

    #[test]
    fn the_closest_names_come_first() {
        let names = ["iree", "jax", "openxla-pjrt-plugin", "stablehlo", "xla"];
        assert_eq!(
            closest_first("ire", names),
            ["iree", "jax", "xla", "stablehlo", "openxla-pjrt-plugin"]
        );
        assert_eq!(closest_first("jxa", names)[0], "jax");
        assert_eq!(closest_first("XLA", names)[0], "xla");
        assert_eq!(closest_first("pjrt", names)[0], "openxla-pjrt-plugin");
    }
}
