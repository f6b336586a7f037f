//! What API key authentication takes and answers: the presented credentials, the
//! authenticated key, `AuthenticationResult` and the steps in between (`SEC/authc/ApiKeyService.java`).

use super::{ApiKeyDoc, ApiKeyType};
use crate::error::EsError;
use crate::security::hashing::Secret;
use std::sync::Arc;

/// A presented `ApiKey` credential (R3.1).
#[derive(Debug, Clone)]
pub(crate) struct ApiKeyCredentials {
    /// Shared, so that a success and a waiting request take it without copying.
    pub(crate) id: Arc<str>,
    pub(crate) secret: Secret,
    pub(crate) expected_type: ApiKeyType,
}

/// Who an API key authenticates as: the key's id and its document (name, type, creator, role
/// descriptors and metadata are read through `Deref`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyAuthentication {
    pub id: Arc<str>,
    pub(crate) doc: ApiKeyDoc,
}

impl std::ops::Deref for ApiKeyAuthentication {
    type Target = ApiKeyDoc;
    fn deref(&self) -> &ApiKeyDoc {
        &self.doc
    }
}

/// `AuthenticationResult` of the API key authenticator.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthOutcome {
    /// Not boxed: building a success allocates nothing (the id and the document are shared).
    Success(ApiKeyAuthentication),
    /// CONTINUE: ends as 401 unless another authenticator succeeds.
    Unsuccessful { message: String },
    /// TERMINATE: 401, or 429 when `too_busy` (a rejection by the crypto pool or the GET).
    Terminate { message: String, too_busy: bool },
    /// An exception (500-class) such as `api key hash is missing`.
    Exception(EsError),
}

impl AuthOutcome {
    pub(super) fn unsuccessful(message: impl Into<String>) -> Self {
        AuthOutcome::Unsuccessful {
            message: message.into(),
        }
    }

    pub(super) fn too_busy() -> Self {
        AuthOutcome::Terminate {
            message: "server is too busy to respond".into(),
            too_busy: true,
        }
    }
}

/// Where an authentication stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthStep {
    Done(AuthOutcome),
    /// Waiting for a verification in the crypto pool; `request` identifies the caller.
    Pending {
        request: u64,
    },
}
