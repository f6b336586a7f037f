//! Wildcard patterns as `Automatons.pattern` builds them (`*` any string, `?` one char, `\`
//! escapes), from `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/support/Automatons.java`.

/// Whether `text` matches the wildcard `pattern` (`*` any run of chars, `?` one char, `\x` the
/// literal `x`), as an `Automatons.pattern` automaton accepts it.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Star,
        Any,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::Any),
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Lit(n)),
                None => toks.push(Tok::Lit('\\')),
            },
            c => toks.push(Tok::Lit(c)),
        }
    }
    let chars: Vec<char> = text.chars().collect();
    // Iterative glob matching with single-star backtracking.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < chars.len() {
        if p < toks.len() {
            match toks[p] {
                Tok::Star => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                Tok::Any => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Tok::Lit(c) if c == chars[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Tok::Lit(_) => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        assert!(wildcard_match("cluster:*", "cluster:monitor/main"));
        assert!(wildcard_match(
            "cluster:admin/*/get",
            "cluster:admin/x/y/get"
        ));
        assert!(!wildcard_match(
            "cluster:admin/*/get",
            "cluster:admin/x/put"
        ));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("a\\*", "a*"));
        assert!(!wildcard_match("a\\*", "ab"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("abc", "abcd"));
    }
}
