//! The columnar event store behind [`EventLog`]: 14 bytes of columns per event.
//!
//! * **time**: a `u32` offset from the first event of its chunk (4,096 events); an offset that does
//!   not fit (a gap over 4.29 s of virtual time inside one chunk, or a time before the chunk's first)
//!   is written as [`FAR`] and the exact time kept aside in `far_times`, so reads stay O(1).
//! * **shape**: a `u16` code for the (node, kind, cache) triple, from a dictionary of the triples seen
//!   (a few per node); past 65,535 distinct triples, [`FAR`] and the triple kept aside.
//! * **key**, **detail**: `u32` symbols of interned strings (keys are credential ids; most details
//!   are empty or one of a few messages).
//!
//! Columns grow a whole chunk at a time (allocated at their final size), so their capacity is never
//! more than one chunk over their length.

use super::{CacheId, Event, EventKind, NodeIndex, Symbol};
use crate::cache::KeyHasher;
use crate::time::Nanos;
use indexmap::IndexSet;

/// Events per chunk.
const CHUNK: usize = 4096;
/// The escape value of the narrow columns: the full value is kept aside.
const FAR: u32 = u32::MAX;
const FAR_SHAPE: u16 = u16::MAX;
/// Nodes whose shape codes are looked up directly (higher indexes, such as the cluster-wide
/// `NodeIndex::MAX`, go through the dictionary's hash).
const DIRECT_NODES: usize = 1024;
const KINDS: usize = EventKind::ALL.len();
const CACHES: usize = CacheId::ALL.len() + 1;

/// A (node, kind, cache) triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    node: NodeIndex,
    kind: EventKind,
    cache: CacheId,
}

#[derive(Debug, Clone)]
struct Chunk {
    /// Time of the chunk's first event.
    base: Nanos,
    offset: Vec<u32>,
    shape: Vec<u16>,
    key: Vec<Symbol>,
    detail: Vec<Symbol>,
}

impl Chunk {
    fn new(base: Nanos) -> Self {
        Chunk {
            base,
            offset: Vec::with_capacity(CHUNK),
            shape: Vec::with_capacity(CHUNK),
            key: Vec::with_capacity(CHUNK),
            detail: Vec::with_capacity(CHUNK),
        }
    }
}

/// The columnar event store.
#[derive(Debug, Clone)]
pub struct EventLog {
    enabled: bool,
    len: usize,
    chunks: Vec<Chunk>,
    /// Exact times of the events whose offset is [`FAR`], by event index (ascending).
    far_times: Vec<(usize, Nanos)>,
    shapes: IndexSet<Shape, KeyHasher>,
    /// The shape codes of nodes below [`DIRECT_NODES`] by (kind, cache), plus one (0: none yet), so
    /// that an append finds its code with one index instead of a hash.
    direct: Vec<[u16; KINDS * CACHES]>,
    /// Triples of the events whose shape is [`FAR_SHAPE`], by event index (ascending).
    far_shapes: Vec<(usize, Shape)>,
    symbols: IndexSet<Box<str>, KeyHasher>,
    /// The symbol interned last: the events of one request name the same credential one after the
    /// other (cache lookups, the hash verification, the outcome), so this answers most lookups
    /// with one string comparison instead of a hash.
    last: Symbol,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new(true)
    }
}

impl EventLog {
    pub fn new(enabled: bool) -> Self {
        let mut symbols = IndexSet::default();
        symbols.insert("".into());
        EventLog {
            enabled,
            len: 0,
            chunks: Vec::new(),
            far_times: Vec::new(),
            shapes: IndexSet::default(),
            direct: Vec::new(),
            far_shapes: Vec::new(),
            symbols,
            last: 0,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops the events; interned strings and shapes stay (a cleared trace usually fills again with
    /// the same keys).
    pub fn clear(&mut self) {
        self.len = 0;
        self.chunks.clear();
        self.far_times.clear();
        self.far_shapes.clear();
    }

    pub(crate) fn intern(&mut self, s: &str) -> Symbol {
        if s.is_empty() {
            return 0;
        }
        if self.symbol(self.last) == s {
            return self.last;
        }
        let i = match self.symbols.get_index_of(s) {
            Some(i) => i,
            None => self.symbols.insert_full(s.into()).0,
        };
        self.last = i as Symbol;
        self.last
    }

    pub(crate) fn symbol(&self, s: Symbol) -> &str {
        self.symbols.get_index(s as usize).map_or("", |b| &**b)
    }

    /// Records an event (nothing when the trace is off).
    #[inline]
    pub(crate) fn record(
        &mut self,
        time: Nanos,
        node: NodeIndex,
        kind: EventKind,
        cache: CacheId,
        key: &str,
        detail: &str,
    ) {
        if !self.enabled {
            return;
        }
        let key = self.intern(key);
        let detail = self.intern(detail);
        self.push(time, node, kind, cache, key, detail);
    }

    #[inline]
    pub(crate) fn push(
        &mut self,
        time: Nanos,
        node: NodeIndex,
        kind: EventKind,
        cache: CacheId,
        key: Symbol,
        detail: Symbol,
    ) {
        if !self.enabled {
            return;
        }
        let index = self.len;
        if self.chunks.last().is_none_or(|c| c.offset.len() == CHUNK) {
            self.chunks.push(Chunk::new(time));
        }
        let code = self.shape_code(index, Shape { node, kind, cache });
        let Some(chunk) = self.chunks.last_mut() else {
            return; // ok: pushed above when missing.
        };
        let offset = match time.checked_sub(chunk.base) {
            Some(d) if d < u64::from(FAR) => d as u32,
            _ => {
                self.far_times.push((index, time));
                FAR
            }
        };
        chunk.offset.push(offset);
        chunk.shape.push(code);
        chunk.key.push(key);
        chunk.detail.push(detail);
        self.len += 1;
    }

    /// The code of `shape` (event `index`'s), added to the dictionary when new.
    #[inline]
    fn shape_code(&mut self, index: usize, shape: Shape) -> u16 {
        let node = usize::from(shape.node);
        let slot = shape.kind as usize * CACHES + shape.cache as usize;
        if node < DIRECT_NODES {
            if let Some(&code) = self.direct.get(node).and_then(|d| d.get(slot)) {
                if code != 0 {
                    return code - 1;
                }
            }
        }
        let code = match self.shapes.get_index_of(&shape) {
            Some(i) => i as u16,
            None if self.shapes.len() < usize::from(FAR_SHAPE) => {
                self.shapes.insert_full(shape).0 as u16
            }
            None => {
                self.far_shapes.push((index, shape));
                return FAR_SHAPE;
            }
        };
        if node < DIRECT_NODES {
            if self.direct.len() <= node {
                self.direct.resize(node + 1, [0; KINDS * CACHES]);
            }
            if let Some(d) = self.direct.get_mut(node).and_then(|d| d.get_mut(slot)) {
                *d = code + 1;
            }
        }
        code
    }

    pub(crate) fn get(&self, i: usize) -> Option<Event<'_>> {
        let chunk = self.chunks.get(i / CHUNK)?;
        let j = i % CHUNK;
        let offset = *chunk.offset.get(j)?;
        let time = if offset == FAR {
            far(&self.far_times, i)?
        } else {
            chunk.base + u64::from(offset)
        };
        let code = *chunk.shape.get(j)?;
        let shape = if code == FAR_SHAPE {
            far(&self.far_shapes, i)?
        } else {
            *self.shapes.get_index(usize::from(code))?
        };
        Some(Event {
            time,
            node: shape.node,
            kind: shape.kind,
            cache: shape.cache,
            key: self.symbol(*chunk.key.get(j)?),
            detail: self.symbol(*chunk.detail.get(j)?),
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = Event<'_>> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    /// Bytes held by the columns (at capacity), the escapes, the dictionaries and the symbol table.
    pub fn memory_bytes(&self) -> usize {
        let per_event = std::mem::size_of::<u32>()
            + std::mem::size_of::<u16>()
            + 2 * std::mem::size_of::<Symbol>();
        let columns: usize = self
            .chunks
            .iter()
            .map(|c| c.offset.capacity() * per_event + std::mem::size_of::<Chunk>())
            .sum();
        let escapes = self.far_times.capacity() * std::mem::size_of::<(usize, Nanos)>()
            + self.far_shapes.capacity() * std::mem::size_of::<(usize, Shape)>();
        let shapes = self.shapes.capacity() * (std::mem::size_of::<Shape>() + 16);
        let symbols: usize = self.symbols.iter().map(|s| s.len() + 16 + 8).sum();
        columns + escapes + shapes + symbols
    }

    /// Counts events of a kind (for reports).
    pub fn count(&self, kind: EventKind) -> usize {
        let of_kind: Vec<bool> = self.shapes.iter().map(|s| s.kind == kind).collect();
        let dictionary: usize = self
            .chunks
            .iter()
            .flat_map(|c| &c.shape)
            .filter(|&&code| of_kind.get(usize::from(code)).copied().unwrap_or(false))
            .count();
        let aside = self
            .far_shapes
            .iter()
            .filter(|(_, s)| s.kind == kind)
            .count();
        dictionary + aside
    }
}

/// The value kept aside for event `i`.
fn far<T: Copy>(aside: &[(usize, T)], i: usize) -> Option<T> {
    aside
        .binary_search_by_key(&i, |&(j, _)| j)
        .ok()
        .and_then(|k| aside.get(k))
        .map(|&(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times far apart, going backwards, and more shapes than a `u16` code holds all read back exactly.
    #[test]
    fn escapes_read_back_exactly() {
        let mut log = EventLog::new(true);
        let times = [5, u64::from(u32::MAX) + 10, 3, u64::MAX, 7];
        for (i, t) in times.iter().enumerate() {
            log.record(
                *t,
                i as NodeIndex,
                EventKind::CacheHit,
                CacheId::ApiKeyAuth,
                "k",
                "",
            );
        }
        let got: Vec<Nanos> = log.iter().map(|e| e.time).collect();
        assert_eq!(got, times);
        assert_eq!(log.far_times.len(), 3);

        let mut log = EventLog::new(true);
        let n = usize::from(FAR_SHAPE) + 3;
        for i in 0..n {
            let node = (i / 2) as NodeIndex;
            let kind = if i % 2 == 0 {
                EventKind::CacheHit
            } else {
                EventKind::CacheMiss
            };
            log.record(i as Nanos, node, kind, CacheId::ApiKeyDoc, "", "");
        }
        assert_eq!(log.len(), n);
        assert_eq!(log.far_shapes.len(), 3);
        for i in [0, n - 4, n - 3, n - 1] {
            let e = log.get(i).unwrap();
            let kind = if i % 2 == 0 {
                EventKind::CacheHit
            } else {
                EventKind::CacheMiss
            };
            assert_eq!(
                (e.node, e.kind, e.time),
                ((i / 2) as NodeIndex, kind, i as Nanos)
            );
        }
        assert_eq!(log.count(EventKind::CacheMiss), n / 2);
    }

    /// Chunk boundaries: every event of several chunks reads back; clearing empties the counts.
    #[test]
    fn chunks_read_back_and_clear() {
        let mut log = EventLog::new(true);
        for i in 0..(3 * CHUNK + 5) {
            let key = format!("k{}", i % 7);
            log.record(
                1_000 * i as Nanos,
                (i % 3) as NodeIndex,
                EventKind::AuthSuccess,
                CacheId::None,
                &key,
                "",
            );
        }
        for (i, e) in log.iter().enumerate() {
            assert_eq!(e.time, 1_000 * i as Nanos);
            assert_eq!(e.node, (i % 3) as NodeIndex);
            assert_eq!(e.key, format!("k{}", i % 7));
        }
        assert!(log.get(3 * CHUNK + 5).is_none());
        assert_eq!(log.count(EventKind::AuthSuccess), 3 * CHUNK + 5);
        // At most one chunk of spare capacity: 14 bytes per event plus the dictionaries.
        assert!(
            log.memory_bytes() < (4 * CHUNK) * 14 + 4096,
            "{}",
            log.memory_bytes()
        );
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.count(EventKind::AuthSuccess), 0);
        assert!(log.iter().next().is_none());
    }
}
