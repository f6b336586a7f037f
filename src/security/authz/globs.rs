//! Inclusion between languages of wildcard patterns: what `Operations.subsetOf` decides on the
//! automata of `x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/support/Automatons.java`
//! (`*` any string, `?` any one char, `\` escapes) when has-privileges asks whether a role covers a
//! requested privilege or index pattern.
//!
//! The check walks the product of the patterns' position sets over the chars the patterns name
//! plus one char none of them names (which stands for every other char). A pattern that is a
//! Lucene regular expression (`/.../`) is not modelled: a language holding one is never a subset
//! and never covers anything (deny, never allow).

use std::collections::{BTreeSet, HashSet, VecDeque};

/// Union of `allow` minus union of `except`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Globs<'a> {
    pub(crate) allow: Vec<&'a str>,
    pub(crate) except: Vec<&'a str>,
}

impl<'a> Globs<'a> {
    pub(crate) fn of(allow: &[&'a str]) -> Self {
        Globs {
            allow: allow.to_vec(),
            except: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    One,
    Any,
}

fn compile(p: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' => Tok::Any,
            '?' => Tok::One,
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        });
    }
    out
}

fn is_regex(p: &str) -> bool {
    p.len() >= 2 && p.starts_with('/') && p.ends_with('/')
}

/// Positions reachable from `set` without reading a char (a `*` may match nothing).
fn closure(toks: &[Tok], set: &mut BTreeSet<usize>) {
    let mut stack: Vec<usize> = set.iter().copied().collect();
    while let Some(p) = stack.pop() {
        if toks.get(p) == Some(&Tok::Any) && set.insert(p + 1) {
            stack.push(p + 1);
        }
    }
}

fn step(toks: &[Tok], set: &BTreeSet<usize>, c: char) -> BTreeSet<usize> {
    let mut next = BTreeSet::new();
    for &p in set {
        match toks.get(p) {
            Some(Tok::Any) => {
                next.insert(p);
            }
            Some(Tok::One) => {
                next.insert(p + 1);
            }
            Some(Tok::Lit(l)) if *l == c => {
                next.insert(p + 1);
            }
            _ => {}
        }
    }
    closure(toks, &mut next);
    next
}

/// More product states than this and the answer is "not a subset" (deny).
const MAX_STATES: usize = 20_000;

/// Whether every string of `sub` is in at least one language of `sups`.
pub(crate) fn subset_of(sub: &Globs<'_>, sups: &[Globs<'_>]) -> bool {
    if sub.allow.iter().chain(&sub.except).any(|p| is_regex(p)) {
        return false;
    }
    // Pattern list: sub's allow, sub's except, then each sup's allow and except.
    let mut patterns: Vec<Vec<Tok>> = Vec::new();
    let add = |list: &[&str], patterns: &mut Vec<Vec<Tok>>| -> (usize, usize) {
        let start = patterns.len();
        for p in list {
            // A regex covers nothing: a pattern with no accepting path.
            patterns.push(if is_regex(p) {
                vec![Tok::Lit('\u{0}'), Tok::Lit('\u{0}')]
            } else {
                compile(p)
            });
        }
        (start, patterns.len())
    };
    let sub_allow = add(&sub.allow, &mut patterns);
    let sub_except = add(&sub.except, &mut patterns);
    let sup_ranges: Vec<((usize, usize), (usize, usize))> = sups
        .iter()
        .map(|s| (add(&s.allow, &mut patterns), add(&s.except, &mut patterns)))
        .collect();
    let mut alphabet: BTreeSet<char> = patterns
        .iter()
        .flatten()
        .filter_map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect();
    let fresh = (1u32..=0x10_FFFF)
        .filter_map(char::from_u32)
        .find(|c| !alphabet.contains(c))
        .unwrap_or('\u{10FFFF}');
    alphabet.insert(fresh);
    let start: Vec<BTreeSet<usize>> = patterns
        .iter()
        .map(|t| {
            let mut s = BTreeSet::from([0]);
            closure(t, &mut s);
            s
        })
        .collect();
    let accepts = |state: &[BTreeSet<usize>], (a, b): (usize, usize)| {
        (a..b).any(|i| state[i].contains(&patterns[i].len()))
    };
    let mut seen: HashSet<Vec<BTreeSet<usize>>> = HashSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some(state) = queue.pop_front() {
        if !seen.insert(state.clone()) {
            continue;
        }
        if seen.len() > MAX_STATES {
            return false;
        }
        let in_sub = accepts(&state, sub_allow) && !accepts(&state, sub_except);
        let covered = sup_ranges
            .iter()
            .any(|&(allow, except)| accepts(&state, allow) && !accepts(&state, except));
        if in_sub && !covered {
            return false;
        }
        // Once no sub pattern can still match, nothing further down is in `sub`.
        if (sub_allow.0..sub_allow.1).all(|i| state[i].is_empty()) {
            continue;
        }
        for &c in &alphabet {
            let next: Vec<BTreeSet<usize>> = state
                .iter()
                .zip(&patterns)
                .map(|(s, t)| step(t, s, c))
                .collect();
            if !seen.contains(&next) {
                queue.push_back(next);
            }
        }
    }
    true
}

/// Whether the language is empty.
pub(crate) fn is_empty(globs: &Globs<'_>) -> bool {
    subset_of(globs, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(a: &[&str], b: &[&str]) -> bool {
        subset_of(&Globs::of(a), &[Globs::of(b)])
    }

    #[test]
    fn glob_inclusion() {
        assert!(sub(&["logs-2024"], &["logs-*"]));
        assert!(sub(&["logs-*"], &["logs-*"]));
        assert!(sub(&["logs-a*"], &["logs-*"]));
        assert!(!sub(&["logs-*"], &["logs-a*"]));
        assert!(sub(&["a?c"], &["a*"]));
        assert!(!sub(&["*"], &["a*", "b*"]));
        assert!(sub(&["ab", "ac"], &["a?"]));
        assert!(sub(&["x*y*z"], &["x*"]));
        assert!(!sub(&["x*"], &["x*y*z"]));
        assert!(sub(&["*"], &["*"]));
        assert!(!sub(&["/a.*/"], &["*"]));
        assert!(!sub(&["a"], &["/a/"]));
        // The union of two languages can cover what neither covers alone.
        assert!(subset_of(
            &Globs::of(&["a*"]),
            &[Globs::of(&["ab*"]), Globs::of(&["a", "a?*"])]
        ));
    }

    #[test]
    fn glob_exceptions() {
        let all_but_security = Globs {
            allow: vec!["*"],
            except: vec![".security", ".security-*"],
        };
        assert!(subset_of(
            &Globs::of(&["logs"]),
            std::slice::from_ref(&all_but_security)
        ));
        assert!(!subset_of(
            &Globs::of(&[".security-7"]),
            std::slice::from_ref(&all_but_security)
        ));
        assert!(!subset_of(
            &Globs::of(&["*"]),
            std::slice::from_ref(&all_but_security)
        ));
        let check = Globs {
            allow: vec!["*"],
            except: vec![".security", ".security-*"],
        };
        assert!(subset_of(&check, &[all_but_security]));
        assert!(is_empty(&Globs {
            allow: vec![".security-*"],
            except: vec![".security", ".security-*"],
        }));
        assert!(!is_empty(&Globs::of(&["x"])));
    }
}
