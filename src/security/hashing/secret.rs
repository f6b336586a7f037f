//! A presented secret that never shows in logs (Elasticsearch keeps secrets as `SecureString`,
//! `server/src/main/java/org/elasticsearch/common/settings/SecureString.java`).

use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;
/// A presented secret (a token or API-key secret) that never shows in logs: `Debug` and
/// `Display` print `Secret(**redacted**)`. Read it with [`Secret::expose`]. Equality is
/// constant-time. On drop of the last clone the bytes are overwritten with zeros (best effort,
/// without `unsafe`). Clones share one instance, so a clone is cheap and a verification memo
/// ([`super::memo`]) can know two clones for the same bytes.
#[derive(Clone, Default)]
pub struct Secret(Arc<Box<str>>);

impl Secret {
    /// What `Debug` and `Display` print.
    pub(crate) const REDACTED: &'static str = "Secret(**redacted**)";

    pub fn new(secret: impl Into<Box<str>>) -> Self {
        Secret(Arc::new(secret.into()))
    }

    /// Whether `other` is a clone of this very instance (then its bytes are the same).
    pub(crate) fn same_instance(&self, other: &Secret) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The instance's address: equal for clones, for as long as one of them lives.
    pub(crate) fn instance(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// The secret in clear. Do not log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes (UTF-8).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in chars, as Elasticsearch counts a `SecureString` (for ASCII secrets, the same
    /// as [`Secret::len`]).
    pub(crate) fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for Secret {}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Only the last clone holds the bytes alone.
        if let Some(owned) = Arc::get_mut(&mut self.0) {
            let mut bytes = std::mem::take(owned).into_boxed_bytes();
            bytes.fill(0);
            std::hint::black_box(&bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::hashing::test_support::*;
    use crate::security::hashing::*;

    #[test]
    fn secret_is_redacted() {
        let s = Secret::new("r5wdbdboQSe9vGOKwaJGAw");
        assert_eq!(format!("{s:?}"), "Secret(**redacted**)");
        assert_eq!(format!("{s}"), "Secret(**redacted**)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(**redacted**))");
        assert_eq!(format!("{s:#?}"), "Secret(**redacted**)");
        assert_eq!(s.expose(), "r5wdbdboQSe9vGOKwaJGAw");
        assert_eq!((s.len(), s.char_count(), s.is_empty()), (22, 22, false));
        assert_eq!(s, Secret::from(String::from("r5wdbdboQSe9vGOKwaJGAw")));
        assert_ne!(s, Secret::from("r5wdbdboQSe9vGOKwaJGAx"));
        assert!(Secret::default().is_empty());
        assert_eq!(Secret::new("é").char_count(), 1);
        let hash = Hasher::Ssha256.hash(s.expose(), &mut rng());
        assert!(Hasher::Ssha256.verify(s.expose(), &hash));
        let clone = s.clone();
        assert!(clone.same_instance(&s) && clone.instance() == s.instance());
        assert!(!Secret::new("r5wdbdboQSe9vGOKwaJGAw").same_instance(&s));
        drop(clone);
        assert_eq!(s.expose(), "r5wdbdboQSe9vGOKwaJGAw");
    }
}
