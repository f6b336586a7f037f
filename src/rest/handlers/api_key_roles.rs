//! An API key's stored role descriptors (its own and its owner's, `limited_by`), parsed once per
//! distinct stored blob.
//!
//! Elasticsearch does not parse them per request either: `CompositeRolesStore.buildRoleFromRoleReference`
//! looks the role up in the roles cache by `ApiKeyRoleReference.id()` (the SHA-256 of the descriptor
//! bytes) and parses (`ApiKeyService.parseRoleDescriptorsBytes`) only on a miss
//! (`x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authz/store/CompositeRolesStore.java`).
//! The parse is a pure function of the blob, so remembering it (failures included: a blob that does
//! not parse fails every request that uses it, with the same error) changes no outcome.

use super::parse_role_descriptors_blob;
use crate::error::EsError;
use crate::security::authz::RoleDescriptor;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Distinct blobs remembered per thread before the memo starts over (a bound on its memory).
const MAX_BLOBS: usize = 4096;

/// Shared: a hit hands out the same set (a reference count), not a copy.
type Parsed = Result<Arc<[RoleDescriptor]>, EsError>;

thread_local! {
    static PARSED: RefCell<HashMap<Box<str>, Parsed, foldhash::fast::RandomState>> =
        RefCell::new(HashMap::default());
}

/// The descriptors of a stored blob (`{"name": {descriptor}, ...}`), or the error its parse gives.
pub(super) fn role_descriptors(blob: &str) -> Parsed {
    PARSED.with(|memo| {
        if let Some(parsed) = memo.borrow().get(blob) {
            return parsed.clone();
        }
        let parsed = parse(blob);
        let mut memo = memo.borrow_mut();
        if memo.len() >= MAX_BLOBS {
            memo.clear();
        }
        memo.insert(blob.into(), parsed.clone());
        parsed
    })
}

fn parse(blob: &str) -> Parsed {
    parse_role_descriptors_blob(blob)?
        .iter()
        .map(|(name, v)| RoleDescriptor::parse(name, v))
        .collect::<Result<Vec<_>, _>>()
        .map(Arc::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_blob_gives_what_its_parse_gives_failures_included() {
        let blob = r#"{"r1":{"cluster":["monitor"]}}"#;
        for _ in 0..2 {
            assert_eq!(role_descriptors(blob), parse(blob));
        }
        let bad = r#"{"r1":{"cluster":"monitor","bogus":1}}"#;
        let first = role_descriptors(bad);
        assert!(first.is_err());
        assert_eq!(role_descriptors(bad), first);
        assert_eq!(role_descriptors("{}"), Ok(Arc::from([])));
    }
}
