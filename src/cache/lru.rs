//! The entries and their LRU order: Elasticsearch's `Cache.Entry` with its `before`/`after` links and
//! the `head`/`tail` of one list over the whole cache (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`,
//! `promote`, `unlink`, `linkAtHead`). The list is threaded through a slab of nodes by `u32` index (its
//! links in their own dense array beside the slab, so that relinking touches 8 bytes per neighbour),
//! and one hash table (of slab indexes) stands for ES's 256 segments.

use super::{Cache, Equivalent, RemovalListener, Weigher};
use crate::time::Nanos;
use std::hash::{BuildHasher, Hash};

pub(super) const NIL: u32 = u32::MAX;

/// One cached entry; its place in the LRU list is its [`Link`] at the same index.
#[derive(Debug)]
pub(super) struct Node<K, V> {
    pub(super) key: K,
    pub(super) value: V,
    pub(super) weight: u64,
    pub(super) write_time: Nanos,
    pub(super) access_time: Nanos,
}

/// A slot's place in the LRU list: `prev` points towards the head (more recent), `next` towards the
/// tail (Elasticsearch's `before` / `after`); both [`NIL`] when unlinked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    pub(super) prev: u32,
    pub(super) next: u32,
}

pub(super) const UNLINKED: Link = Link {
    prev: NIL,
    next: NIL,
};

/// The hash used for keys: fixed-seeded, so nothing about the cache depends on process randomness.
/// Iteration order never comes from the hash table (keys are listed in LRU order), so this only
/// affects speed.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher;

impl BuildHasher for KeyHasher {
    type Hasher = foldhash::fast::FoldHasher<'static>;
    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        foldhash::fast::FixedState::with_seed(0x6573_6361_6368_6521).build_hasher()
    }
}

impl<K, V, W, L> Cache<K, V, W, L> {
    #[inline]
    pub(super) fn node(&self, idx: u32) -> &Node<K, V> {
        // ok: every index reachable from the table or the list is an occupied slot (slab invariant).
        self.nodes[idx as usize].as_ref().expect("occupied slot")
    }

    #[inline]
    pub(super) fn node_mut(&mut self, idx: u32) -> &mut Node<K, V> {
        // ok: as in `node`.
        self.nodes[idx as usize].as_mut().expect("occupied slot")
    }

    /// The link of slot `idx` (every slot has one: `links` grows with `nodes`).
    #[inline]
    fn link_mut(&mut self, idx: u32) -> &mut Link {
        // ok: `links` is as long as `nodes`, and `idx` is a slot of `nodes` (slab invariant).
        &mut self.links[idx as usize]
    }

    #[inline]
    pub(super) fn unlink(&mut self, idx: u32) {
        let w = self.node(idx).weight;
        let Link { prev, next } = std::mem::replace(self.link_mut(idx), UNLINKED);
        if prev == NIL {
            self.head = next;
        } else {
            self.link_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.link_mut(next).prev = prev;
        }
        self.count -= 1;
        self.weight -= u128::from(w);
    }

    #[inline]
    pub(super) fn link_at_head(&mut self, idx: u32) {
        let old_head = self.head;
        let w = self.node(idx).weight;
        *self.link_mut(idx) = Link {
            prev: NIL,
            next: old_head,
        };
        if old_head == NIL {
            self.tail = idx;
        } else {
            self.link_mut(old_head).prev = idx;
        }
        self.head = idx;
        self.count += 1;
        self.weight += u128::from(w);
    }

    /// `promote`'s `unlink` + `linkAtHead` of a linked entry, as one move: the count and the weight
    /// would be taken off and put back unchanged, so they are left alone.
    #[inline]
    pub(super) fn move_to_head(&mut self, idx: u32) {
        let Link { prev, next } = self.links[idx as usize]; // ok: as in `link_mut`
        if prev == NIL {
            return; // the head already
        }
        self.link_mut(prev).next = next;
        if next == NIL {
            self.tail = prev;
        } else {
            self.link_mut(next).prev = prev;
        }
        let old_head = self.head;
        *self.link_mut(idx) = Link {
            prev: NIL,
            next: old_head,
        };
        self.link_mut(old_head).prev = idx;
        self.head = idx;
    }

    /// The slot after `idx` towards the tail.
    #[inline]
    pub(super) fn next_of(&self, idx: u32) -> u32 {
        self.links.get(idx as usize).map_or(NIL, |l| l.next)
    }

    pub(super) fn alloc(&mut self, node: Node<K, V>) -> u32 {
        if let Some(idx) = self.free.pop() {
            self.nodes[idx as usize] = Some(node);
            idx
        } else {
            self.nodes.push(Some(node));
            self.links.push(UNLINKED);
            (self.nodes.len() - 1) as u32
        }
    }

    pub(super) fn release(&mut self, idx: u32) -> Node<K, V> {
        // ok: only called on indices taken from the table or the list.
        let node = self.nodes[idx as usize].take().expect("occupied slot");
        self.free.push(idx);
        node
    }
}

impl<K: Hash + Eq, V, W: Weigher<K, V>, L: RemovalListener<K, V>> Cache<K, V, W, L> {
    #[inline]
    pub(super) fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.find_hashed(KeyHasher.hash_one(key), key)
    }

    /// [`Self::find`] for a key whose hash the caller already has (to insert with it on a miss).
    #[inline]
    pub(super) fn find_hashed<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let nodes = &self.nodes;
        self.table
            .find(hash, |&i| {
                // ok: table entries always point at occupied slots.
                key.equivalent(&nodes[i as usize].as_ref().expect("occupied slot").key)
            })
            .copied()
    }

    pub(super) fn remove_from_table(&mut self, idx: u32) {
        let hash = KeyHasher.hash_one(&self.node(idx).key);
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
    }
}

/// Entries from most to least recently used.
pub struct Iter<'a, K, V> {
    pub(super) nodes: &'a [Option<Node<K, V>>],
    pub(super) links: &'a [Link],
    pub(super) at: u32,
    pub(super) left: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == NIL {
            return None;
        }
        let n = self.nodes.get(self.at as usize)?.as_ref()?;
        self.at = self.links.get(self.at as usize)?.next;
        self.left = self.left.saturating_sub(1);
        Some((&n.key, &n.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, K, V, W, L> IntoIterator for &'a Cache<K, V, W, L> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
