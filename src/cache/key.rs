//! A cache key that is either an integer or a string, looked up without allocating.
//!
//! Elasticsearch's security caches key on strings (API key ids, qualified token names); the standalone
//! cache also takes integers, which replays and benchmarks use. [`KeyRef`] borrows a string so that a
//! lookup never copies it; both hash identically.

use super::Equivalent;
use std::fmt;
use std::hash::{Hash, Hasher};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Int(i64),
    Str(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef<'a> {
    Int(i64),
    Str(&'a str),
}

impl Key {
    pub fn as_ref(&self) -> KeyRef<'_> {
        match self {
            Key::Int(i) => KeyRef::Int(*i),
            Key::Str(s) => KeyRef::Str(s),
        }
    }
}

impl KeyRef<'_> {
    pub fn to_owned(self) -> Key {
        match self {
            KeyRef::Int(i) => Key::Int(i),
            KeyRef::Str(s) => Key::Str(s.into()),
        }
    }
}

// One hashing scheme for both, so that a `KeyRef` finds its `Key`.
// An int hashes as one word (no tag: an int and a string may share a hash, never equality).
fn hash_int<H: Hasher>(i: i64, state: &mut H) {
    state.write_u64(i as u64);
}

fn hash_str<H: Hasher>(s: &str, state: &mut H) {
    state.write(s.as_bytes());
    state.write_u8(0xff);
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::Int(i) => hash_int(*i, state),
            Key::Str(s) => hash_str(s, state),
        }
    }
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            KeyRef::Int(i) => hash_int(*i, state),
            KeyRef::Str(s) => hash_str(s, state),
        }
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    #[inline]
    fn equivalent(&self, key: &Key) -> bool {
        match (self, key) {
            (KeyRef::Int(a), Key::Int(b)) => a == b,
            (KeyRef::Str(a), Key::Str(b)) => *a == &**b,
            _ => false,
        }
    }
}

impl From<i64> for Key {
    fn from(i: i64) -> Self {
        Key::Int(i)
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::Str(s.into())
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        Key::Str(s.into_boxed_str())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::KeyHasher;
    use std::hash::BuildHasher;

    #[test]
    fn key_ref_hashes_like_its_key() {
        for k in [Key::Int(-3), Key::Int(0), Key::from("abc"), Key::from("")] {
            assert_eq!(KeyHasher.hash_one(&k), KeyHasher.hash_one(k.as_ref()));
            assert!(k.as_ref().equivalent(&k));
        }
        assert!(!KeyRef::Str("1").equivalent(&Key::Int(1)));
        assert_ne!(
            KeyHasher.hash_one(Key::Int(1)),
            KeyHasher.hash_one(Key::from("1"))
        );
    }
}
