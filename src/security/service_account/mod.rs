//! Service account tokens and their two credential caches (docs/rules.md: T1-T4, V1,
//! A1-A3, ST-S1 to ST-S4, C1-C4, I1-I4, F1-F4, M1-M5).
//!
//! * [`token`]: the token, its bearer string and parser, and the token-name rule;
//! * [`accounts`]: the built-in `elastic/*` accounts and their role descriptors (`kibana_system.rs`:
//!   the `elastic/kibana` one);
//! * [`file`]: the `service_tokens` file parser;
//! * [`tool`]: the `elasticsearch-service-tokens` CLI as pure functions over the file;
//! * [`store`]: `CachingServiceAccountTokenStore`, the cache in front of each token store;
//! * [`service`]: one node's `ServiceAccountService` (file store, index store, authentication, file
//!   reload, invalidators) and the index token operations.
//!
//! Elasticsearch sources: `x-pack/plugin/security/.../authc/service/` (`ServiceAccountService`,
//! `CachingServiceAccountTokenStore`, `FileServiceAccountTokenStore`,
//! `IndexServiceAccountTokenStore`, `CompositeServiceAccountTokenStore`, `ElasticServiceAccounts`,
//! `FileTokensTool`) and `x-pack/plugin/core/.../authc/service/ServiceAccountToken`. Behaviour is
//! reimplemented from those rules; no code is copied.

pub mod accounts;
pub mod file;
mod kibana_system;
pub mod service;
pub mod store;
pub mod token;
pub mod tool;

pub use accounts::{
    accounts_in, elastic_service_accounts, get_service_accounts_json, service_account_principals,
    ServiceAccount,
};
pub(crate) use accounts::{find_account_in, get_service_accounts_json_in};
pub use file::ParsedTokens;
pub use file::{parse_service_tokens_file, parse_service_tokens_file_lenient, FileParseError};
pub use service::{
    create_index_token, delete_index_token, index_token_names, token_doc_id,
    ServiceAccountAuthOutcome, ServiceAccountAuthentication, ServiceAccountService,
};
pub use store::CachingTokenStore;
pub use store::{CachedResult, CachedTokenResult};
pub(crate) use token::auto_token_name;
pub use token::{
    is_valid_token_name, validate_token_name, ServiceAccountId, ServiceAccountToken, TokenSource,
};
pub use tool::ToolError;
