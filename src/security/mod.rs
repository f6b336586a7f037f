//! The security model: what Elasticsearch's security plugin keeps in its credential caches and when it
//! clears them (`x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security`).

pub mod api_key;
