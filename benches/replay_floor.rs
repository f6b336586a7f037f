//! The floor under `Cache.replay` (issue 13): `cargo bench --bench replay_floor`.
//!
//! One Zipf(1.0) trace over 1,000,000 keys through a cache of 25,000 entries (the case of
//! `benches/cache_replay.py`), in steady state (the cache filled by a first pass, untimed), one request
//! per iteration:
//!
//! * `floor`: the least an exact LRU can do per request: one hashbrown lookup of a `u64` key over
//!   25,000 entries, and on a hit the move to the head of a list of `u32` links in a `Vec`; on a miss
//!   the tail's key out of the table, the new key into its slot and the table, and the slot moved to
//!   the head. No values, weights, times, stats or listener;
//! * `engine`: the same requests through escache's `Cache` (`get_or_put_with`, the one routine
//!   `Cache.replay` runs per request), with the Python binding's key type (`Key`) and a value as small as
//!   its `Option<Py<PyAny>>`.
//!
//! `ESCACHE_FLOOR_ONCE=floor|engine` replays the trace once instead; under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='replay_floor::timed*'` it gives the
//! instructions per request, which do not move with the machine's load.

use escache::cache::{Cache, CacheBuilder, Key, KeyHasher, NoopListener, UnitWeigher};
use escache::sim::workload::zipf_trace;
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::num::NonZeroU64;

const KEYS: u64 = 1_000_000;
const REQUESTS: usize = 1_000_000;
const CAPACITY: usize = 25_000;
const NIL: u32 = u32::MAX;

fn main() {
    if let Ok(which) = std::env::var("ESCACHE_FLOOR_ONCE") {
        let trace = trace();
        let hits = if which == "floor" {
            let mut f = warm_floor(&trace);
            timed_floor(&mut f, &trace)
        } else {
            let mut e = warm_engine(&trace);
            timed_engine(&mut e, &trace)
        };
        println!("{which}: {hits} hits of {} requests", trace.len());
        return;
    }
    divan::main();
}

fn trace() -> Vec<u64> {
    // ok: fixed, valid arguments.
    zipf_trace(KEYS, REQUESTS, 1.0, 0).expect("trace")
}

/// An exact LRU reduced to its irreducible work: keys and `u32` links in two `Vec`s, one hash table
/// of slot numbers.
struct Floor {
    table: HashTable<u32>,
    keys: Vec<u64>,
    /// `(prev, next)`: towards the head, towards the tail.
    links: Vec<(u32, u32)>,
    head: u32,
    tail: u32,
}

impl Floor {
    fn new() -> Self {
        Floor {
            table: HashTable::with_capacity(CAPACITY),
            keys: Vec::with_capacity(CAPACITY),
            links: Vec::with_capacity(CAPACITY),
            head: NIL,
            tail: NIL,
        }
    }

    #[inline]
    fn hash(k: u64) -> u64 {
        KeyHasher.hash_one(k)
    }

    #[inline]
    fn link_at_head(&mut self, i: u32) {
        self.links[i as usize] = (NIL, self.head);
        if self.head == NIL {
            self.tail = i;
        } else {
            self.links[self.head as usize].0 = i;
        }
        self.head = i;
    }

    #[inline]
    fn move_to_head(&mut self, i: u32) {
        let (prev, next) = self.links[i as usize];
        if prev == NIL {
            return;
        }
        self.links[prev as usize].1 = next;
        if next == NIL {
            self.tail = prev;
        } else {
            self.links[next as usize].0 = prev;
        }
        self.link_at_head(i);
    }

    /// One get-or-put request; whether it hit.
    #[inline]
    fn request(&mut self, k: u64) -> bool {
        let h = Self::hash(k);
        let keys = &self.keys;
        if let Some(&i) = self.table.find(h, |&i| keys[i as usize] == k) {
            self.move_to_head(i);
            return true;
        }
        if self.keys.len() < CAPACITY {
            let i = self.keys.len() as u32;
            self.keys.push(k);
            self.links.push((NIL, NIL));
            let keys = &self.keys;
            self.table
                .insert_unique(h, i, |&j| Self::hash(keys[j as usize]));
            self.link_at_head(i);
            return false;
        }
        let t = self.tail;
        let old = Self::hash(self.keys[t as usize]);
        if let Ok(e) = self.table.find_entry(old, |&j| j == t) {
            e.remove();
        }
        self.keys[t as usize] = k;
        let keys = &self.keys;
        self.table
            .insert_unique(h, t, |&j| Self::hash(keys[j as usize]));
        self.move_to_head(t);
        false
    }
}

type Engine = Cache<Key, Option<NonZeroU64>, UnitWeigher, NoopListener>;

fn warm_floor(trace: &[u64]) -> Floor {
    let mut f = Floor::new();
    for &k in trace {
        f.request(k);
    }
    f
}

fn warm_engine(trace: &[u64]) -> Engine {
    let mut e = CacheBuilder::new()
        .maximum_weight(CAPACITY as i64)
        .build()
        // ok: a fixed, valid configuration.
        .expect("cache");
    engine_pass(&mut e, trace);
    e
}

#[inline]
fn engine_pass(e: &mut Engine, trace: &[u64]) -> u64 {
    let mut hits = 0;
    for (now, &k) in trace.iter().enumerate() {
        hits += u64::from(e.get_or_put_with(Key::Int(k as i64), now as u64, || None));
    }
    hits
}

#[inline(never)]
fn timed_floor(f: &mut Floor, trace: &[u64]) -> u64 {
    trace.iter().map(|&k| u64::from(f.request(k))).sum()
}

#[inline(never)]
fn timed_engine(e: &mut Engine, trace: &[u64]) -> u64 {
    engine_pass(e, trace)
}

/// One request through [`Floor`].
#[divan::bench]
fn floor(bencher: divan::Bencher) {
    let trace = trace();
    let mut f = warm_floor(&trace);
    let mut i = 0;
    bencher.bench_local(|| {
        let k = trace[i];
        i = if i + 1 == trace.len() { 0 } else { i + 1 };
        f.request(divan::black_box(k))
    });
}

/// One request through escache's `Cache` (what `Cache.replay` runs per request, without Python).
#[divan::bench]
fn engine(bencher: divan::Bencher) {
    let trace = trace();
    let mut e = warm_engine(&trace);
    let mut i = 0;
    let mut now = 0u64;
    bencher.bench_local(|| {
        let k = trace[i];
        i = if i + 1 == trace.len() { 0 } else { i + 1 };
        now += 1;
        e.get_or_put_with(Key::Int(divan::black_box(k) as i64), now, || None)
    });
}
