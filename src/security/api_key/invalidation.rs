//! The API key cache invalidators (R2.6): `api_key` and `api_key_doc`, by keys and everything
//! (the `CacheInvalidator`s `SEC/authc/ApiKeyService.java` registers with
//! `SEC/support/CacheInvalidatorRegistry.java`).

use super::ApiKeyService;
use crate::security::Ctx;

impl ApiKeyService {
    /// The `api_key` invalidator (R2.6): by keys, the doc cache then each id from the auth cache.
    pub(crate) fn invalidate_api_key(&mut self, keys: &[String], ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate(keys, ctx);
        }
        for k in keys {
            self.auth_invalidate(k, ctx);
        }
    }

    /// The `api_key` invalidator, everything: doc, role-descriptor and auth caches.
    pub(crate) fn invalidate_all_api_key(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate_all(ctx);
        }
        if let Some(c) = self.auth_cache.as_mut() {
            c.invalidate_all(ctx.now);
            self.flush_auth(ctx);
        }
    }

    /// The `api_key_doc` invalidator by keys: the doc cache only.
    pub(crate) fn invalidate_api_key_doc(&mut self, keys: &[String], ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate(keys, ctx);
        }
    }

    /// The `api_key_doc` invalidator, everything: doc and role-descriptor caches.
    pub(crate) fn invalidate_all_api_key_doc(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.invalidate_all(ctx);
        }
    }

    /// Drops every pending verification (a stopped node loses its in-flight work).
    pub(crate) fn abandon_pending(&mut self) -> Vec<u64> {
        let mut requests = Vec::new();
        for (_, p) in self.pending.drain(..) {
            requests.push(p.first.request);
            requests.extend(p.joined.iter().map(|w| w.request));
        }
        requests
    }

    /// Test hook mirroring the Java tests' direct use of the doc cache's byte cache (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub fn invalidate_all_role_descriptors(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(dc) = self.doc_cache.as_mut() {
            dc.role_descriptors.invalidate_all(ctx.now);
            dc.flush(ctx);
        }
    }
}
