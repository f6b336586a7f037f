//! Entry weights: `CacheBuilder.weigher` and its default (`server/src/main/java/org/elasticsearch/common/cache/CacheBuilder.java`,
//! `Cache.java`'s `weigher`, which defaults to `(k, v) -> 1`).

/// Weighs an entry (`CacheBuilder.weigher`). Called once, when the entry is inserted; the weight is kept
/// with the entry so that unlinking subtracts exactly what linking added.
pub trait Weigher<K, V> {
    fn weigh(&self, key: &K, value: &V) -> u64;
}

/// Elasticsearch's default weigher: every entry weighs 1.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitWeigher;

impl<K, V> Weigher<K, V> for UnitWeigher {
    #[inline]
    fn weigh(&self, _: &K, _: &V) -> u64 {
        1
    }
}

impl<K, V, F: Fn(&K, &V) -> u64> Weigher<K, V> for F {
    fn weigh(&self, key: &K, value: &V) -> u64 {
        self(key, value)
    }
}
