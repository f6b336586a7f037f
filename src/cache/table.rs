//! The cache's hash index: key hash -> slab slot, standing for the 256 segment maps of Elasticsearch's
//! `Cache.java` (one map here: escache runs single-threaded in virtual time, see the module docs).
//!
//! Open addressing with linear probing over one array of 8-byte entries, at most half full. An entry
//! holds the high 32 bits of the key's hash (its *tag*) and the slot index; the tag also gives the
//! entry's home position (`tag & mask`), so the table grows and deletes (backward shift, no
//! tombstones) without reading a key. A lookup reads the node only for an entry whose 32-bit tag
//! matches, so a miss or a collision rarely touches the slab.
//!
//! A replay knows its next keys: [`SlotTable::prefetch`] fetches a key's home entry ahead of time, and
//! [`SlotTable::hint`] reads it (once fetched) to name the slot whose node and links to fetch next.
//! Both are hints only: a stale one costs a wasted fetch, never a wrong answer.

use super::lru::NIL;

/// An empty entry (slot index [`NIL`]).
const EMPTY: u64 = NIL as u64;

#[derive(Debug, Clone, Default)]
pub(super) struct SlotTable {
    /// `tag << 32 | slot`, or [`EMPTY`]; the length is zero or a power of two.
    entries: Vec<u64>,
    len: usize,
}

#[inline]
fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

#[inline]
fn entry(tag: u32, slot: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(slot)
}

#[inline]
fn slot_of(e: u64) -> u32 {
    e as u32
}

impl SlotTable {
    #[inline]
    fn mask(&self) -> usize {
        self.entries.len().wrapping_sub(1)
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        tag as usize & self.mask()
    }

    /// The slot whose entry has `hash`'s tag and for which `is_key` holds.
    #[inline]
    pub(super) fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let tag = tag_of(hash);
        let mask = self.mask();
        let mut pos = self.home(tag);
        loop {
            // ok: `pos` is masked to the length.
            let e = self.entries[pos];
            if e == EMPTY {
                return None;
            }
            if (e >> 32) as u32 == tag && is_key(slot_of(e)) {
                return Some(slot_of(e));
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Adds `slot` under `hash` (the key is not in the table).
    pub(super) fn insert(&mut self, hash: u64, slot: u32) {
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
        }
        self.place(entry(tag_of(hash), slot));
        self.len += 1;
    }

    fn place(&mut self, e: u64) {
        let mask = self.mask();
        let mut pos = self.home((e >> 32) as u32);
        // ok: the table is at most half full, so an empty entry is found.
        while self.entries[pos] != EMPTY {
            pos = (pos + 1) & mask;
        }
        self.entries[pos] = e;
    }

    fn grow(&mut self) {
        let capacity = (self.entries.len() * 2).max(16);
        let old = std::mem::replace(&mut self.entries, vec![EMPTY; capacity]);
        for e in old.into_iter().filter(|&e| e != EMPTY) {
            self.place(e);
        }
    }

    /// Removes the entry of `slot` (stored under `hash`), if present.
    pub(super) fn remove(&mut self, hash: u64, slot: u32) {
        if self.entries.is_empty() {
            return;
        }
        let want = entry(tag_of(hash), slot);
        let mask = self.mask();
        let mut pos = self.home(tag_of(hash));
        loop {
            let e = self.entries[pos];
            if e == EMPTY {
                return;
            }
            if e == want {
                break;
            }
            pos = (pos + 1) & mask;
        }
        // Backward shift: move up every later entry of the run that may live at the hole.
        let mut hole = pos;
        let mut next = (pos + 1) & mask;
        loop {
            let e = self.entries[next];
            if e == EMPTY {
                break;
            }
            let home = self.home((e >> 32) as u32);
            // `e` may fill the hole when its home is not in (hole, next] (cyclically).
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                self.entries[hole] = e;
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.entries[hole] = EMPTY;
        self.len -= 1;
    }

    pub(super) fn clear(&mut self) {
        self.entries.fill(EMPTY);
        self.len = 0;
    }

    /// Starts fetching the home entry of `hash` (a hint; nothing is read).
    #[inline]
    pub(super) fn prefetch(&self, hash: u64) {
        if let Some(e) = self.entries.get(self.home(tag_of(hash))) {
            prefetch(e);
        }
    }

    /// The slot at `hash`'s home entry when its tag matches: likely the key's slot (a hint).
    #[inline]
    pub(super) fn hint(&self, hash: u64) -> Option<u32> {
        let e = *self.entries.get(self.home(tag_of(hash)))?;
        (e != EMPTY && (e >> 32) as u32 == tag_of(hash)).then_some(slot_of(e))
    }
}

/// Asks the CPU to bring `r`'s cache line in (a hint: it never faults and changes nothing).
#[inline(always)]
pub(super) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the memory system; it never faults, reads nothing the program
    // sees, and the address comes from a live reference.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(r).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Against a map: inserts and removals with colliding tags and homes (hashes chosen so that
    /// runs wrap around the end of the array), every key found where the map has it.
    #[test]
    fn finds_what_a_map_holds_through_inserts_and_removals() {
        let mut t = SlotTable::default();
        let mut model: HashMap<u32, u64> = HashMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Few distinct tags, so that runs are long and tags repeat across slots.
            let hash = (x % 64) << 58 | (x % 29) << 32;
            let slot = (x % 500) as u32;
            if let Some(&h) = model.get(&slot) {
                t.remove(h, slot);
                model.remove(&slot);
            } else if step % 3 != 0 {
                t.insert(hash, slot);
                model.insert(slot, hash);
            }
            if step % 97 == 0 {
                for (&s, &h) in &model {
                    assert_eq!(t.find(h, |c| c == s), Some(s));
                }
                assert_eq!(t.len, model.len());
                let absent = (0..500).find(|s| !model.contains_key(s)).unwrap();
                assert_eq!(t.find(hash, |c| c == absent), None);
            }
        }
        t.clear();
        assert!(model.iter().all(|(&s, &h)| t.find(h, |c| c == s).is_none()));
    }
}
