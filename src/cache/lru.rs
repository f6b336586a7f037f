//! The entries and their LRU order: Elasticsearch's `Cache.Entry` with its `before`/`after` links and
//! the `head`/`tail` of one list over the whole cache (`server/src/main/java/org/elasticsearch/common/cache/Cache.java`,
//! `promote`, `unlink`, `linkAtHead`). The list is threaded through a slab of nodes by `u32` index (its
//! links in their own dense array beside the slab, so that relinking touches 8 bytes per neighbour),
//! and one hash table (of slab indexes) stands for ES's 256 segments.

use super::{Cache, Equivalent, RemovalListener, RemovalReason, Weigher};
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

    /// A new entry (its key not in the table) linked at the head, then the tail pruned: `put`'s and
    /// `computeIfAbsent`'s `linkAtHead` + `evict` (`Cache.java`, R6.5-R6.7).
    ///
    /// When the pruning loop's first step would evict the current tail, the new entry takes the tail's
    /// slot instead of a fresh one: the tail leaves the table, its node is swapped for the new one in
    /// place, and the slot moves from the tail to the head. What anyone can observe is as in
    /// Elasticsearch's order (insert, link, then `evictEntry(tail)`): the same `pause_pruning` question
    /// before the eviction, one eviction counted, the `EVICTED` notification with the count and weight
    /// after the unlink, then the rest of the pruning loop. Only slot numbers (never observable: keys
    /// are listed by the LRU links) differ.
    pub(super) fn insert_new(&mut self, hash: u64, node: Node<K, V>, now: Nanos) {
        let tail = self.tail;
        if tail == NIL {
            // The new entry is the whole list: the loop looks at it (it may be heavier than the maximum).
            self.link_new(hash, node);
            self.evict(now);
            return;
        }
        if !self.tail_pruned_after_insert(tail, node.weight, now) {
            // The loop's first check (the old tail, the weight with the new entry) would stop it.
            self.link_new(hash, node);
            return;
        }
        if self.listener.pause_pruning() {
            // The loop would stop before its first eviction.
            self.link_new(hash, node);
            return;
        }
        self.evict_tail_into(tail, hash, node, now);
        self.evict(now);
    }

    /// `evictEntry(tail)` right after the new entry was linked, with the new entry put in the tail's
    /// slot: out of the table (counting an eviction), the new node in its place, the slot moved to the
    /// head, then `EVICTED` for the old node.
    fn evict_tail_into(&mut self, tail: u32, hash: u64, node: Node<K, V>, now: Nanos) {
        self.remove_from_table(tail);
        self.stats.evictions += 1;
        let w = node.weight;
        // ok: the tail is an occupied slot (slab invariant).
        let old = self.nodes[tail as usize]
            .replace(node)
            .expect("occupied slot");
        self.weight = self.weight - u128::from(old.weight) + u128::from(w);
        self.insert_into_table(hash, tail);
        self.move_to_head(tail);
        self.notify(old, RemovalReason::Evicted, now);
    }

    /// Whether `evict`'s first check would prune `tail` once a new entry of weight `w` is linked at
    /// the head: over the maximum weight with it, or `tail` expired (`Cache.java`'s `shouldPrune`).
    #[inline]
    fn tail_pruned_after_insert(&self, tail: u32, w: u64, now: Nanos) -> bool {
        self.maximum_weight
            .is_some_and(|m| self.weight + u128::from(w) > u128::from(m))
            || ((self.expire_after_access.is_some() || self.expire_after_write.is_some())
                && self.is_expired(self.node(tail), now))
    }

    /// A new entry into a free slot, the table and the head of the list (no pruning).
    fn link_new(&mut self, hash: u64, node: Node<K, V>) {
        let idx = self.alloc(node);
        self.insert_into_table(hash, idx);
        self.link_at_head(idx);
    }

    /// Slot `idx`, whose key hashes to `hash` and is not in the table yet, into the table.
    #[inline]
    fn insert_into_table(&mut self, hash: u64, idx: u32) {
        let nodes = &self.nodes;
        let rehash = |&i: &u32| {
            // ok: table entries always point at occupied slots.
            KeyHasher.hash_one(&nodes[i as usize].as_ref().expect("occupied slot").key)
        };
        self.table.insert_unique(hash, idx, rehash);
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

#[cfg(test)]
mod tests {
    use super::super::{
        CacheBuilder, CollectingListener, RemovalContext, RemovalListener, RemovalNotification,
        RemovalReason,
    };

    type Notes = Vec<(u64, RemovalReason, usize, u128)>;

    fn notes(l: &mut CollectingListener<u64, u64>) -> Notes {
        l.notifications
            .drain(..)
            .map(|(n, c)| (n.key, n.reason, c.count, c.weight))
            .collect()
    }

    /// R6.7: a new entry that pushes the tail out takes its slot, yet every eviction is counted and
    /// reported in Elasticsearch's order (insert, link at head, then `evictEntry` tail by tail), each
    /// with the count and weight after its unlink.
    #[test]
    fn r6_7_an_insert_reuses_the_evicted_tails_slot_in_elasticsearchs_order() {
        let mut c = CacheBuilder::new()
            .maximum_weight(3)
            .weigher(|_: &u64, v: &u64| *v)
            .removal_listener(CollectingListener::default())
            .build::<u64, u64>()
            .unwrap();
        for k in 1..=3 {
            c.put(k, 1, k);
        }
        c.put(4, 1, 4);
        assert_eq!(notes(c.listener_mut()), [(1, RemovalReason::Evicted, 3, 3)]);
        assert_eq!(c.keys().copied().collect::<Vec<_>>(), [4, 3, 2]);
        assert_eq!(
            c.nodes.len(),
            3,
            "the new entry took the evicted tail's slot"
        );
        // Weight 3 pushes out three entries, the first into whose slot it goes, then the loop goes on.
        c.put(5, 3, 5);
        assert_eq!(
            notes(c.listener_mut()),
            [
                (2, RemovalReason::Evicted, 3, 5),
                (3, RemovalReason::Evicted, 2, 4),
                (4, RemovalReason::Evicted, 1, 3)
            ]
        );
        // A lone tail is also the head; an entry heavier than the maximum is evicted after it.
        c.put(6, 4, 6);
        assert_eq!(
            notes(c.listener_mut()),
            [
                (5, RemovalReason::Evicted, 1, 4),
                (6, RemovalReason::Evicted, 0, 0)
            ]
        );
        assert_eq!((c.count(), c.weight(), c.stats().evictions), (0, 0, 6));
        assert_eq!(c.head, super::NIL);
        assert_eq!(c.tail, super::NIL);
        c.put(7, 1, 7);
        assert_eq!(c.keys().copied().collect::<Vec<_>>(), [7]);
    }

    /// R6.3/R6.7: an expired tail is pruned by the insert the same way, and the loop goes on to the
    /// next expired tail.
    #[test]
    fn r6_7_an_insert_over_expired_tails_evicts_each_in_order() {
        let mut c = CacheBuilder::new()
            .expire_after_access_nanos(10)
            .removal_listener(CollectingListener::default())
            .build::<u64, u64>()
            .unwrap();
        c.put(1, 0, 0);
        c.put(2, 0, 5);
        c.put(3, 0, 14); // the tail (1) is 14 old: expired
        assert_eq!(notes(c.listener_mut()), [(1, RemovalReason::Evicted, 2, 2)]);
        c.put(4, 0, 30); // 2 and 3 have expired, in that order
        assert_eq!(
            notes(c.listener_mut()),
            [
                (2, RemovalReason::Evicted, 2, 2),
                (3, RemovalReason::Evicted, 1, 1)
            ]
        );
        assert_eq!(c.keys().copied().collect::<Vec<_>>(), [4]);
        assert_eq!(c.stats().evictions, 3);
    }

    /// Asked once before each eviction, as the pruning loop asks; pauses while `pause` is set.
    #[derive(Default)]
    struct Pausing {
        pause: bool,
        asked: usize,
        removed: Vec<u64>,
    }

    impl RemovalListener<u64, u64> for Pausing {
        fn on_removal(&mut self, n: RemovalNotification<u64, u64>, _: RemovalContext) {
            self.removed.push(n.key);
        }

        fn pause_pruning(&mut self) -> bool {
            self.asked += 1;
            self.pause
        }
    }

    /// A listener that pauses pruning is asked once, before the first eviction, and a pause leaves
    /// the new entry linked over the maximum, for `refresh` to prune.
    #[test]
    fn a_paused_insert_links_the_entry_and_leaves_the_tail_for_refresh() {
        let mut c = CacheBuilder::new()
            .maximum_weight(2)
            .removal_listener(Pausing::default())
            .build::<u64, u64>()
            .unwrap();
        c.put(1, 0, 0);
        c.put(2, 0, 0);
        assert_eq!(c.listener().asked, 0, "nothing to prune: not asked");
        c.listener_mut().pause = true;
        c.put(3, 0, 0);
        assert_eq!((c.listener().asked, c.count()), (1, 3));
        assert!(c.listener().removed.is_empty());
        assert_eq!(c.keys().copied().collect::<Vec<_>>(), [3, 2, 1]);
        c.listener_mut().pause = false;
        c.refresh(0);
        assert_eq!(
            (c.listener().asked, c.count(), c.stats().evictions),
            (2, 2, 1)
        );
        assert_eq!(c.listener().removed, [1]);
    }
}
