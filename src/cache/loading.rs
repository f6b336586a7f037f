//! Keys whose value a `computeIfAbsent` is loading: Elasticsearch's per-key `CompletableFuture` in the
//! segment map (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`, `computeIfAbsent`).
//!
//! Elasticsearch puts the future in the map under the segment lock, then runs the loader with no lock
//! held, so that a loader may load (or read, or write) *other* keys of the same cache. Any call that
//! reaches a key whose future is not complete waits for it (`future.get()`): from another thread that is
//! a wait, from the loader's own thread a deadlock. [`PendingLoads`] records, per key, who is loading it,
//! so that a caller can tell the two apart (the binding waits for the first, refuses the second).

use super::Equivalent;
use super::KeyHasher;
use std::hash::Hash;

/// What [`PendingLoads::begin`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStart {
    /// No load of the key was pending: the caller now owns it and must [`PendingLoads::finish`] it.
    Started,
    /// The key is being loaded by the same owner: a loader waiting on its own key (Elasticsearch would
    /// deadlock).
    OwnLoad,
    /// The key is being loaded by another owner: wait for it to finish.
    OtherLoad(u64),
}

/// The pending loads of one cache: key to the owner (a caller-chosen token, such as a thread id).
#[derive(Debug)]
pub struct PendingLoads<K> {
    loads: hashbrown::HashMap<K, u64, KeyHasher>,
}

impl<K> Default for PendingLoads<K> {
    fn default() -> Self {
        PendingLoads {
            loads: hashbrown::HashMap::with_hasher(KeyHasher),
        }
    }
}

impl<K: Hash + Eq> PendingLoads<K> {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.loads.is_empty()
    }

    /// Who is loading `key`, if anyone.
    #[inline]
    pub fn owner<Q>(&self, key: &Q) -> Option<u64>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        if self.loads.is_empty() {
            return None;
        }
        self.loads.get(key).copied()
    }

    /// `putIfAbsent` of the future: the load of `key` by `owner` begins unless one is pending.
    pub fn begin(&mut self, key: K, owner: u64) -> LoadStart {
        match self.loads.get(&key) {
            Some(&o) if o == owner => LoadStart::OwnLoad,
            Some(&o) => LoadStart::OtherLoad(o),
            None => {
                self.loads.insert(key, owner);
                LoadStart::Started
            }
        }
    }

    /// The future completed (with a value or an exception): calls on `key` go ahead again.
    pub fn finish<Q>(&mut self, key: &Q)
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.loads.remove(key);
    }
}
