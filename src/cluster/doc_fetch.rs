//! API key authentication in two halves, for the simulator's timed index reads (CA-TM2): the
//! doc-cache lookup and the GET at the start, the GET's response at a later virtual instant.

use super::Cluster;
use crate::events::NodeIndex;
use crate::security::api_key::{ApiKeyCredentials, AuthStep, Begin, DocFetch, FetchEnd};

impl Cluster {
    /// The doc-cache lookup of an API key authentication, and on a miss the GET's read of the
    /// index (`ApiKeyService.loadApiKeyAndValidateCredentials`, R3.2).
    pub(crate) fn begin_api_key_authentication(
        &mut self,
        node: NodeIndex,
        credentials: &ApiKeyCredentials,
        request: u64,
    ) -> Begin {
        self.with_api_keys(node, |api_keys, crypto_pool, index, ctx| {
            api_keys.begin_authentication(credentials, request, index, crypto_pool, ctx)
        })
    }

    /// The GET's response arrives: cache the document unless invalidated since (AK-R2.4; `counter
    /// = false` for the counter-less what-if, CA-TM3), then validate.
    pub(crate) fn finish_api_key_fetch(
        &mut self,
        node: NodeIndex,
        credentials: &ApiKeyCredentials,
        fetch: DocFetch,
        counter: bool,
        request: u64,
    ) -> (AuthStep, FetchEnd) {
        self.with_api_keys(node, |api_keys, crypto_pool, _, ctx| {
            api_keys.finish_fetch(credentials, fetch, counter, request, crypto_pool, ctx)
        })
    }
}
