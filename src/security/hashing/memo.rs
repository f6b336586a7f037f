//! Memoised verification. Whether a secret verifies against a hash is a pure function of the two
//! (`Hasher.verify` in `CORE/authc/support/Hasher.java` has no other input), so a node that sees
//! the same presented secret instance checked against the same stored hash instance again (a
//! simulated client presenting its credential on every request) reuses the answer instead of
//! hashing again. Only real work is saved: the simulator's cost model still charges every
//! verification the crypto pool runs, and the trace records it as before.
//!
//! Identity is by instance (`Arc` pointers). Each slot keeps a clone of both `Arc`s, so an address
//! cannot be reused by other bytes while the slot remembers it; the stored bytes are immutable, so
//! equal instances mean equal bytes and therefore the same answer.

use super::Secret;
use std::sync::Arc;

/// Slots of the direct-mapped table: enough for the hot credentials of a node; a collision only
/// costs a real verification.
const SLOTS: usize = 1 << 12;

struct Slot<T: ?Sized> {
    owner: Arc<T>,
    secret: Secret,
    verified: bool,
}

/// A direct-mapped memo of verification answers by (hash holder, presented secret) instance.
pub(crate) struct VerifyMemo<T: ?Sized> {
    slots: Vec<Option<Slot<T>>>,
}

impl<T: ?Sized> Default for VerifyMemo<T> {
    fn default() -> Self {
        VerifyMemo { slots: Vec::new() }
    }
}

// Secrets never reach a repr: only the number of slots in use is shown.
impl<T: ?Sized> std::fmt::Debug for VerifyMemo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyMemo")
            .field("used", &self.slots.iter().flatten().count())
            .finish()
    }
}

impl<T: ?Sized> VerifyMemo<T> {
    /// The answer of `verify` (the real check of `secret` against the hash `owner` holds), taken
    /// from the memo when these two instances were checked before.
    #[inline]
    pub(crate) fn verify(
        &mut self,
        owner: &Arc<T>,
        secret: &Secret,
        verify: impl FnOnce() -> bool,
    ) -> bool {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, || None);
        }
        let a = Arc::as_ptr(owner).cast::<()>() as usize as u64;
        let b = secret.instance() as u64;
        let mixed = (a ^ b.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let i = (mixed >> (64 - SLOTS.trailing_zeros())) as usize;
        let Some(slot) = self.slots.get_mut(i) else {
            return verify(); // ok: `i` < SLOTS by the shift above.
        };
        if let Some(s) = slot {
            if Arc::ptr_eq(&s.owner, owner) && s.secret.same_instance(secret) {
                return s.verified;
            }
        }
        let verified = verify();
        *slot = Some(Slot {
            owner: Arc::clone(owner),
            secret: secret.clone(),
            verified,
        });
        verified
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::hashing::test_support::rng;
    use crate::security::hashing::Hasher;

    /// The memo answers what the real check answers, runs it once per pair of instances, and an
    /// equal secret in another instance is checked for real again.
    #[test]
    fn answers_as_the_real_check_once_per_instance_pair() {
        let right = Secret::new("right-secret");
        let wrong = Secret::new("wrong-secret");
        let hash: Arc<str> = Hasher::Ssha256.hash(right.expose(), &mut rng()).into();
        let mut memo = VerifyMemo::default();
        let mut runs = 0;
        for _ in 0..3 {
            for (secret, expected) in [(&right, true), (&wrong, false)] {
                let got = memo.verify(&hash, secret, || {
                    runs += 1;
                    Hasher::Ssha256.verify(secret.expose(), &hash)
                });
                assert_eq!(got, expected);
            }
        }
        assert_eq!(runs, 2);
        let again = Secret::new("right-secret");
        assert!(memo.verify(&hash, &again, || {
            runs += 1;
            Hasher::Ssha256.verify(again.expose(), &hash)
        }));
        assert_eq!(runs, 3);
        // A new hash instance of the same text is checked for real too.
        let copy: Arc<str> = Arc::from(&*hash);
        assert!(memo.verify(&copy, &right, || {
            runs += 1;
            true
        }));
        assert_eq!(runs, 4);
        assert!(!format!("{memo:?}").contains("secret"));
    }
}
