//! The naive reference model: a `Vec` of entries, most recently used first, each operation done
//! the most obvious way, step by step as `Cache.java` does it.

use super::*;

// ---------------------------------------------------------------------------------------------
// The naive model
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub(super) key: K,
    pub(super) value: V,
    pub(super) weight: u64,
    pub(super) write_time: u64,
    pub(super) access_time: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) settings: Settings,
    pub(super) now: u64,
    /// Most recently used first; the last element is the LRU tail.
    pub(super) entries: Vec<Entry>,
    pub(super) hits: u64,
    pub(super) misses: u64,
    pub(super) evictions: u64,
    pub(super) next_made_value: V,
    /// What the last operation returned, and the notifications it fired, in order.
    pub(super) last: Outcome,
    pub(super) notes: Vec<Note>,
}

impl Model {
    pub(super) fn new(settings: Settings) -> Self {
        Model {
            now: settings.start,
            settings,
            entries: Vec::new(),
            hits: 0,
            misses: 0,
            evictions: 0,
            next_made_value: FIRST_MADE_VALUE,
            last: Outcome::Nothing,
            notes: Vec::new(),
        }
    }

    pub(super) fn total_weight(&self) -> u128 {
        let mut sum = 0u128;
        for e in &self.entries {
            sum += u128::from(e.weight);
        }
        sum
    }

    pub(super) fn position(&self, key: K) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }

    /// `now - access > afterAccess || now - write > afterWrite`, strictly greater. The model's
    /// clock never goes backwards, so plain subtraction is safe.
    pub(super) fn is_expired(&self, e: &Entry) -> bool {
        let mut expired = false;
        if let Some(ttl) = self.settings.expire_after_access {
            if self.now - e.access_time > ttl {
                expired = true;
            }
        }
        if let Some(ttl) = self.settings.expire_after_write {
            if self.now - e.write_time > ttl {
                expired = true;
            }
        }
        expired
    }

    pub(super) fn is_over_weight(&self) -> bool {
        match self.settings.max_weight {
            Some(max) => self.total_weight() > u128::from(max),
            None => false,
        }
    }

    /// The listener is called after the entry left the list: the context shows the cache without it.
    pub(super) fn notify(&mut self, e: Entry, reason: RemovalReason) {
        let context = RemovalContext {
            count: self.entries.len(),
            weight: self.total_weight(),
            now: self.now,
        };
        self.notes.push((
            RemovalNotification {
                key: e.key,
                value: e.value,
                reason,
            },
            context,
        ));
    }

    /// While the tail is over weight or expired, evict it.
    pub(super) fn prune(&mut self) {
        while let Some(tail) = self.entries.last() {
            if !(self.is_over_weight() || self.is_expired(tail)) {
                break;
            }
            let tail = self.entries.pop().unwrap();
            self.evictions += 1;
            self.notify(tail, RemovalReason::Evicted);
        }
    }

    pub(super) fn move_to_head(&mut self, i: usize) {
        let e = self.entries.remove(i);
        self.entries.insert(0, e);
    }

    pub(super) fn new_entry(&self, key: K, value: V, weight: u64) -> Entry {
        Entry {
            key,
            value,
            weight,
            write_time: self.now,
            access_time: self.now,
        }
    }

    pub(super) fn get(&mut self, key: K) -> Option<V> {
        let Some(i) = self.position(key) else {
            self.misses += 1;
            return None;
        };
        if self.is_expired(&self.entries[i]) {
            // A miss; the entry stays where it is.
            self.misses += 1;
            return None;
        }
        self.hits += 1;
        self.entries[i].access_time = self.now;
        let value = self.entries[i].value;
        self.move_to_head(i);
        self.prune();
        Some(value)
    }

    pub(super) fn put(&mut self, key: K, value: V, weight: u64) {
        let old = self.position(key).map(|i| self.entries.remove(i));
        let fresh = self.new_entry(key, value, weight);
        self.entries.insert(0, fresh);
        self.prune();
        if let Some(old) = old {
            self.notify(old, RemovalReason::Replaced);
        }
    }

    pub(super) fn compute_if_absent(
        &mut self,
        key: K,
        load: Load,
        weight: Option<u64>,
        dependent: Option<(K, V)>,
    ) -> Outcome {
        match self.position(key) {
            Some(i) if self.is_expired(&self.entries[i]) => {
                self.misses += 1;
                let e = self.entries.remove(i);
                self.evictions += 1;
                self.notify(e, RemovalReason::Evicted);
            }
            Some(i) => {
                self.hits += 1;
                self.entries[i].access_time = self.now;
                let value = self.entries[i].value;
                self.move_to_head(i);
                self.prune();
                return Outcome::Loaded {
                    result: Ok(value),
                    loader_calls: 0,
                };
            }
            None => self.misses += 1,
        }
        if let Some((other, inner)) = dependent {
            self.compute_if_absent(other, Load::Value(inner), None, None);
        }
        let result = match load {
            Load::Value(value) => {
                let w = weight.unwrap_or(model_weight(key, value));
                let fresh = self.new_entry(key, value, w);
                self.entries.insert(0, fresh);
                self.prune();
                Ok(value)
            }
            Load::Null => Err(LoadError::NullValue),
            Load::Fail => Err(LoadError::Loader(loader_error(key))),
        };
        Outcome::Loaded {
            result,
            loader_calls: 1,
        }
    }

    pub(super) fn invalidate_where(&mut self, key: K, matches: impl Fn(V) -> bool) -> bool {
        match self.position(key) {
            Some(i) if matches(self.entries[i].value) => {
                let e = self.entries.remove(i);
                self.evictions += 1;
                self.notify(e, RemovalReason::Invalidated);
                true
            }
            _ => false,
        }
    }

    pub(super) fn invalidate_all(&mut self) {
        let all = std::mem::take(&mut self.entries);
        for e in all {
            self.notify(e, RemovalReason::Invalidated);
        }
    }

    pub(super) fn invalidate_matching(&mut self, mask: u8) -> usize {
        let keys: Vec<K> = self.entries.iter().map(|e| e.key).collect();
        let mut removed = 0;
        for key in keys {
            if (mask >> key) & 1 == 1 && self.invalidate_where(key, |_| true) {
                removed += 1;
            }
        }
        removed
    }

    /// `get`, and on a miss `put` of a freshly made value.
    pub(super) fn get_or_put(&mut self, key: K, weight: Option<u64>) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        let value = self.next_made_value;
        self.next_made_value += 1;
        self.put(key, value, weight.unwrap_or(model_weight(key, value)));
        false
    }

    pub(super) fn replay(&mut self, keys: &[K], offset: u64, interval: u64) -> Outcome {
        let start = self.now + offset;
        let (hits, misses, evictions) = (self.hits, self.misses, self.evictions);
        let mut made = 0;
        let mut now = start;
        for &key in keys {
            self.now = now;
            if !self.get_or_put(key, None) {
                made += 1;
            }
            now += interval;
        }
        self.now = clock_after_replay(self.now, start, keys.len(), interval);
        Outcome::Replayed {
            stats: ReplayStats {
                requests: keys.len() as u64,
                hits: self.hits - hits,
                misses: self.misses - misses,
                evictions: self.evictions - evictions,
            },
            made,
        }
    }

    pub(super) fn step(&mut self, op: &Op) -> Outcome {
        match *op {
            Op::Get(key) => Outcome::Value(self.get(key)),
            Op::Put { key, value, weight } => {
                let w = weight.unwrap_or(model_weight(key, value));
                self.put(key, value, w);
                Outcome::Nothing
            }
            Op::ComputeIfAbsent {
                key, load, weight, ..
            } => self.compute_if_absent(key, load, weight, None),
            Op::ComputeDependent {
                key,
                other,
                load,
                inner,
            } => self.compute_if_absent(key, load, None, Some((other, inner))),
            Op::Invalidate(key) => Outcome::Removed(self.invalidate_where(key, |_| true)),
            Op::InvalidateValue(key, value) => {
                Outcome::Removed(self.invalidate_where(key, |v| v == value))
            }
            Op::InvalidateAll => {
                self.invalidate_all();
                Outcome::Nothing
            }
            Op::InvalidateMatching(mask) => Outcome::RemovedCount(self.invalidate_matching(mask)),
            Op::Refresh => {
                self.prune();
                Outcome::Nothing
            }
            Op::GetOrPut { key, weight } => {
                let hit = self.get_or_put(key, weight.flatten());
                Outcome::GetOrPut {
                    hit,
                    made: u32::from(!hit),
                }
            }
            Op::Replay {
                ref keys,
                offset,
                interval,
            } => self.replay(keys, offset, interval),
            Op::Advance(tick) => {
                self.now += tick.nanos(&self.settings);
                Outcome::Nothing
            }
        }
    }
}

/// The model itself, on a hand-checked sequence: if the model were wrong in the same way as the
/// engine, the state-machine test could not tell. This pins a few of its answers independently.
#[test]
fn model_sanity() {
    let mut m = Model::new(Settings {
        max_weight: Some(2),
        expire_after_access: Some(10),
        expire_after_write: None,
        start: 0,
    });
    m.put(1, 10, 1);
    m.put(2, 20, 1);
    assert_eq!(m.get(1), Some(10));
    m.put(3, 30, 1); // over weight: the tail (2) goes
    assert_eq!(
        m.entries.iter().map(|e| e.key).collect::<Vec<_>>(),
        vec![3, 1]
    );
    assert_eq!(m.evictions, 1);
    assert_eq!(m.notes.len(), 1);
    assert_eq!(m.notes[0].0.key, 2);
    assert_eq!(m.notes[0].1.count, 2);
    m.notes.clear();
    m.now = 11; // 11 - 0 > 10: key 1 (accessed at 0) and key 3 (written at 0) are expired
    assert_eq!(m.get(3), None);
    assert_eq!(m.entries.len(), 2, "an expired get does not remove");
    m.put(3, 31, 1);
    // put links 3 at head, unlinks old 3, prunes the expired tail 1, then reports REPLACED.
    let reasons: Vec<_> = m.notes.iter().map(|(n, _)| (n.key, n.reason)).collect();
    assert_eq!(
        reasons,
        vec![(1, RemovalReason::Evicted), (3, RemovalReason::Replaced)]
    );
    assert_eq!(m.evictions, 2);
    assert_eq!((m.hits, m.misses), (1, 1));
}
