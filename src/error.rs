//! escache's errors: Elasticsearch's exceptions as data (and their JSON form), and the one crate error.
//!
//! Every failure a request can meet is an [`EsError`]: the Elasticsearch exception type (`type`), its
//! message (`reason`), the HTTP status, metadata fields, headers and a cause. Rendering follows
//! `server/src/main/java/org/elasticsearch/ElasticsearchException.java` (`generateFailureXContent`,
//! `innerToXContent`, `guessRootCauses`): `type`, `reason`, metadata, `caused_by`, `header`, in that order;
//! a header with one value is written as a string; `root_cause` entries carry no `caused_by`.
//!
//! [`Error`] is the crate's one error type: an Elasticsearch exception, or the error of one of the parts
//! (time values, hashing, cache building, the `service_tokens` file and tool, REST request parsing,
//! workloads, nodes). Each part's error converts into it with `?`; the Python binding maps it to a Python
//! exception in one place (`src/python/errors.rs`). Both are one pointer wide (boxed payloads), so a
//! `Result` stays small.

use crate::cache::CacheBuildError;
use crate::rest::request::RequestError;
use crate::security::hashing::HashError;
use crate::security::service_account::file::FileParseError;
use crate::security::service_account::tool::ToolError;
use crate::sim::workload::WorkloadError;
use crate::time::TimeError;
use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// The Elasticsearch exception types escache produces. [`ExceptionType::as_str`] is the `type` of the
/// error body: `ElasticsearchException.getExceptionName`, the Java class's simple name without the
/// `Elasticsearch` prefix, in snake case (`ElasticsearchSecurityException` → `security_exception`,
/// `XContentEOFException` → `x_content_e_o_f_exception`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionType {
    /// `ElasticsearchException` itself.
    Exception,
    /// `ActionRequestValidationException` (a `ValidationException`, so an `IllegalArgumentException`).
    ActionRequestValidation,
    /// `RestRequest.BadParameterException` (a `RuntimeException`).
    BadParameter,
    /// `EsRejectedExecutionException` (a `java.util.concurrent.RejectedExecutionException`).
    EsRejectedExecution,
    /// `FailedNodeException`.
    FailedNode,
    /// `FeatureNotEnabledException`.
    FeatureNotEnabled,
    /// `java.lang.IllegalArgumentException`.
    IllegalArgument,
    /// `java.lang.IllegalStateException`.
    IllegalState,
    /// `IndexClosedException`.
    IndexClosed,
    /// `IndexNotFoundException`.
    IndexNotFound,
    /// Jackson's `JsonEOFException`.
    JsonEof,
    /// Jackson's `JsonParseException`.
    JsonParse,
    /// `java.nio.charset.MalformedInputException`.
    MalformedInput,
    /// `NodeDisconnectedException`.
    NodeDisconnected,
    /// `NodeNotConnectedException`.
    NodeNotConnected,
    /// `java.lang.NullPointerException`.
    NullPointer,
    /// `ElasticsearchParseException`.
    Parse,
    /// `ReceiveTimeoutTransportException`.
    ReceiveTimeoutTransport,
    /// `ResourceNotFoundException`.
    ResourceNotFound,
    /// `ElasticsearchSecurityException`.
    Security,
    /// Jackson's `StreamConstraintsException`.
    StreamConstraints,
    /// `java.io.UncheckedIOException`.
    UncheckedIo,
    /// `UnavailableShardsException`.
    UnavailableShards,
    /// `org.elasticsearch.common.ValidationException` (an `IllegalArgumentException`).
    Validation,
    /// `VersionConflictEngineException`.
    VersionConflictEngine,
    /// `XContentEOFException` (an `XContentParseException`).
    XContentEof,
    /// `XContentParseException` (an `IllegalArgumentException`).
    XContentParse,
}

impl ExceptionType {
    /// Every type, for tests and tables.
    pub const ALL: [ExceptionType; 27] = [
        ExceptionType::Exception,
        ExceptionType::ActionRequestValidation,
        ExceptionType::BadParameter,
        ExceptionType::EsRejectedExecution,
        ExceptionType::FailedNode,
        ExceptionType::FeatureNotEnabled,
        ExceptionType::IllegalArgument,
        ExceptionType::IllegalState,
        ExceptionType::IndexClosed,
        ExceptionType::IndexNotFound,
        ExceptionType::JsonEof,
        ExceptionType::JsonParse,
        ExceptionType::MalformedInput,
        ExceptionType::NodeDisconnected,
        ExceptionType::NodeNotConnected,
        ExceptionType::NullPointer,
        ExceptionType::Parse,
        ExceptionType::ReceiveTimeoutTransport,
        ExceptionType::ResourceNotFound,
        ExceptionType::Security,
        ExceptionType::StreamConstraints,
        ExceptionType::UncheckedIo,
        ExceptionType::UnavailableShards,
        ExceptionType::Validation,
        ExceptionType::VersionConflictEngine,
        ExceptionType::XContentEof,
        ExceptionType::XContentParse,
    ];

    /// The `type` of the error body.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExceptionType::Exception => "exception",
            ExceptionType::ActionRequestValidation => "action_request_validation_exception",
            ExceptionType::BadParameter => "bad_parameter_exception",
            ExceptionType::EsRejectedExecution => "es_rejected_execution_exception",
            ExceptionType::FailedNode => "failed_node_exception",
            ExceptionType::FeatureNotEnabled => "feature_not_enabled_exception",
            ExceptionType::IllegalArgument => "illegal_argument_exception",
            ExceptionType::IllegalState => "illegal_state_exception",
            ExceptionType::IndexClosed => "index_closed_exception",
            ExceptionType::IndexNotFound => "index_not_found_exception",
            ExceptionType::JsonEof => "json_e_o_f_exception",
            ExceptionType::JsonParse => "json_parse_exception",
            ExceptionType::MalformedInput => "malformed_input_exception",
            ExceptionType::NodeDisconnected => "node_disconnected_exception",
            ExceptionType::NodeNotConnected => "node_not_connected_exception",
            ExceptionType::NullPointer => "null_pointer_exception",
            ExceptionType::Parse => "parse_exception",
            ExceptionType::ReceiveTimeoutTransport => "receive_timeout_transport_exception",
            ExceptionType::ResourceNotFound => "resource_not_found_exception",
            ExceptionType::Security => "security_exception",
            ExceptionType::StreamConstraints => "stream_constraints_exception",
            ExceptionType::UncheckedIo => "unchecked_i_o_exception",
            ExceptionType::UnavailableShards => "unavailable_shards_exception",
            ExceptionType::Validation => "validation_exception",
            ExceptionType::VersionConflictEngine => "version_conflict_engine_exception",
            ExceptionType::XContentEof => "x_content_e_o_f_exception",
            ExceptionType::XContentParse => "x_content_parse_exception",
        }
    }

    /// Whether the Java class is an `ElasticsearchException`: only those are unwrapped when guessing the
    /// root cause (`ElasticsearchException.guessRootCauses`); any other cause stops the descent.
    pub(crate) const fn is_elasticsearch_exception(self) -> bool {
        !matches!(
            self,
            ExceptionType::ActionRequestValidation
                | ExceptionType::BadParameter
                | ExceptionType::EsRejectedExecution
                | ExceptionType::IllegalArgument
                | ExceptionType::IllegalState
                | ExceptionType::JsonEof
                | ExceptionType::JsonParse
                | ExceptionType::MalformedInput
                | ExceptionType::NullPointer
                | ExceptionType::StreamConstraints
                | ExceptionType::UncheckedIo
                | ExceptionType::Validation
                | ExceptionType::XContentEof
                | ExceptionType::XContentParse
        )
    }
}

impl fmt::Display for ExceptionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A type equals its `type` name, so tests read `assert_eq!(e.kind, "security_exception")`.
impl PartialEq<str> for ExceptionType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ExceptionType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An Elasticsearch exception. Boxed, so that a `Result<T, EsError>` is one pointer wide; its fields
/// are read (and written) through `Deref` as if it were the [`Exception`] itself.
#[derive(Debug, Clone, PartialEq)]
pub struct EsError(Box<Exception>);

/// The fields of an [`EsError`].
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// The type, e.g. [`ExceptionType::Security`] (`security_exception`).
    pub kind: ExceptionType,
    pub reason: String,
    /// The HTTP status this exception maps to (`ExceptionsHelper.status`).
    pub status: u16,
    /// Rendered after `reason`, in order (e.g. `resource.type`, `node_id`).
    pub metadata: IndexMap<String, Value>,
    /// Rendered under `header`, and sent as HTTP headers.
    pub headers: IndexMap<String, Vec<String>>,
    pub caused_by: Option<EsError>,
}

impl Deref for EsError {
    type Target = Exception;
    fn deref(&self) -> &Exception {
        &self.0
    }
}

impl DerefMut for EsError {
    fn deref_mut(&mut self) -> &mut Exception {
        &mut self.0
    }
}

impl EsError {
    pub fn new(kind: ExceptionType, reason: impl Into<String>, status: u16) -> Self {
        EsError(Box::new(Exception {
            kind,
            reason: reason.into(),
            status,
            metadata: IndexMap::new(),
            headers: IndexMap::new(),
            caused_by: None,
        }))
    }

    /// `IllegalArgumentException`: 400.
    pub(crate) fn illegal_argument(reason: impl Into<String>) -> Self {
        Self::new(ExceptionType::IllegalArgument, reason, 400)
    }

    /// `IllegalStateException`: 500.
    pub(crate) fn illegal_state(reason: impl Into<String>) -> Self {
        Self::new(ExceptionType::IllegalState, reason, 500)
    }

    /// `ElasticsearchSecurityException` with a status.
    pub(crate) fn security(reason: impl Into<String>, status: u16) -> Self {
        Self::new(ExceptionType::Security, reason, status)
    }

    /// `ActionRequestValidationException`: `Validation Failed: 1: a;2: b;`.
    pub(crate) fn validation<S: AsRef<str>>(errors: &[S]) -> Self {
        let mut reason = String::from("Validation Failed: ");
        for (i, e) in errors.iter().enumerate() {
            reason.push_str(&format!("{}: {};", i + 1, e.as_ref()));
        }
        Self::new(ExceptionType::ActionRequestValidation, reason, 400)
    }

    /// `ResourceNotFoundException`: 404.
    pub(crate) fn resource_not_found(reason: impl Into<String>) -> Self {
        Self::new(ExceptionType::ResourceNotFound, reason, 404)
    }

    /// `ElasticsearchParseException`: 400.
    pub(crate) fn parse(reason: impl Into<String>) -> Self {
        Self::new(ExceptionType::Parse, reason, 400)
    }

    /// A plain `ElasticsearchException` (500).
    pub fn exception(reason: impl Into<String>) -> Self {
        Self::new(ExceptionType::Exception, reason, 500)
    }

    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    #[must_use]
    pub(crate) fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    #[must_use]
    pub(crate) fn with_header(mut self, name: impl Into<String>, values: Vec<String>) -> Self {
        self.headers.insert(name.into(), values);
        self
    }

    #[must_use]
    pub(crate) fn with_cause(mut self, cause: EsError) -> Self {
        self.caused_by = Some(cause);
        self
    }

    /// The message, taken out of the exception.
    pub fn into_reason(self) -> String {
        self.0.reason
    }

    /// Whether the Java class is an `ElasticsearchException` (see
    /// [`ExceptionType::is_elasticsearch_exception`]).
    pub(crate) fn is_elasticsearch_exception(&self) -> bool {
        self.kind.is_elasticsearch_exception()
    }

    /// `guessRootCauses`: descend through causes while both are Elasticsearch exceptions.
    pub fn root_cause(&self) -> &EsError {
        let mut at = self;
        while at.is_elasticsearch_exception() {
            match &at.caused_by {
                Some(c) if c.is_elasticsearch_exception() => at = c,
                _ => break,
            }
        }
        at
    }

    /// The exception object (`innerToXContent`). `with_cause` is false inside `root_cause`.
    pub(crate) fn to_xcontent(&self, with_cause: bool) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(self.kind.as_str().to_owned()));
        m.insert("reason".into(), Value::String(self.reason.clone()));
        for (k, v) in &self.metadata {
            m.insert(k.clone(), v.clone());
        }
        if with_cause {
            if let Some(c) = &self.caused_by {
                m.insert("caused_by".into(), c.to_xcontent(true));
            }
        }
        if !self.headers.is_empty() {
            let mut h = Map::new();
            for (k, vs) in &self.headers {
                let v = match vs.as_slice() {
                    [one] => Value::String(one.clone()),
                    _ => json!(vs),
                };
                h.insert(k.clone(), v);
            }
            m.insert("header".into(), Value::Object(h));
        }
        Value::Object(m)
    }

    /// The full error body: `{"error": {"root_cause": [...], ...}, "status": N}`.
    pub fn to_body(&self) -> Value {
        let mut error = Map::new();
        error.insert(
            "root_cause".into(),
            json!([self.root_cause().to_xcontent(false)]),
        );
        if let Value::Object(inner) = self.to_xcontent(true) {
            error.extend(inner);
        }
        json!({"error": Value::Object(error), "status": self.status})
    }
}

impl fmt::Display for EsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.kind, self.reason)
    }
}

impl std::error::Error for EsError {}

/// A node asked for by name or index that cannot serve (the Python API's node errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// No node of this name in the cluster.
    #[error("unknown node [{0}]")]
    Unknown(String),
    /// The node is stopped: nothing listens there.
    #[error("node [{0}] is stopped")]
    Unavailable(String),
    /// A request without a node, and every node is stopped.
    #[error("every node is stopped: start() one first")]
    NoRunningNode,
}

/// The crate's one error type: an Elasticsearch exception, or the error of one of the parts. Every
/// variant is at most one pointer wide, so a `Result<T, Error>` stays small.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An Elasticsearch exception: what a REST request answers with, and what the cluster, the
    /// settings and the simulator refuse with.
    #[error(transparent)]
    Es(EsError),
    /// A time value or duration (`TimeValue.parseTimeValue`, virtual time).
    #[error(transparent)]
    Time(Box<TimeError>),
    /// A hash or hasher name (`Hasher.resolve`, `Hasher.resolveFromHash`).
    #[error(transparent)]
    Hash(Box<HashError>),
    /// A cache's bounds (`CacheBuilder.build`).
    #[error(transparent)]
    CacheBuild(CacheBuildError),
    /// A `service_tokens` file that does not parse (F3).
    #[error(transparent)]
    ServiceTokensFile(Box<FileParseError>),
    /// The `elasticsearch-service-tokens` CLI (`UserException`).
    #[error(transparent)]
    ServiceTokensTool(Box<ToolError>),
    /// A REST request line or query string that does not parse.
    #[error(transparent)]
    Request(Box<RequestError>),
    /// A synthetic workload's parameters.
    #[error(transparent)]
    Workload(Box<WorkloadError>),
    /// A node that is not there or not running.
    #[error(transparent)]
    Node(Box<NodeError>),
}

impl Error {
    /// The Elasticsearch exception this error is, where Elasticsearch has one: the exception itself,
    /// and the exceptions Elasticsearch throws for a bad time value, hash, cache bound or
    /// `service_tokens` file, or an undecodable query string. `None` for escache's own errors (the CLI,
    /// workloads, nodes, an unknown HTTP method).
    pub fn to_es_error(&self) -> Option<EsError> {
        match self {
            Error::Es(e) => Some(e.clone()),
            // `TimeValue.parseTimeValue`, `Hasher` and `CacheBuilder.build` throw
            // `IllegalArgumentException`s with these messages.
            Error::Time(e) => Some(EsError::illegal_argument(e.to_string())),
            Error::Hash(e) => Some(EsError::illegal_argument(e.to_string())),
            Error::CacheBuild(e) => Some(EsError::illegal_argument(e.to_string())),
            Error::ServiceTokensFile(e) => Some(EsError::from((**e).clone())),
            Error::Request(e) => match &**e {
                RequestError::BadParameter(e) => Some(e.clone()),
                RequestError::UnknownMethod { .. } => None,
            },
            Error::ServiceTokensTool(_) | Error::Workload(_) | Error::Node(_) => None,
        }
    }
}

/// `From` impls: `EsError` as is, the others boxed where they are larger than a pointer.
macro_rules! from_part {
    ($($part:ty => $variant:ident($wrap:expr)),* $(,)?) => {
        $(impl From<$part> for Error {
            fn from(e: $part) -> Self {
                Error::$variant($wrap(e))
            }
        })*
    };
}

from_part! {
    EsError => Es(std::convert::identity),
    TimeError => Time(Box::new),
    HashError => Hash(Box::new),
    CacheBuildError => CacheBuild(std::convert::identity),
    FileParseError => ServiceTokensFile(Box::new),
    ToolError => ServiceTokensTool(Box::new),
    RequestError => Request(Box::new),
    WorkloadError => Workload(Box::new),
    NodeError => Node(Box::new),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_root_cause_type_reason_status_in_order() {
        let e = EsError::security(
            "missing authentication credentials for REST request [/]",
            401,
        )
        .with_header("WWW-Authenticate", vec!["ApiKey".into()]);
        let body = e.to_body();
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(
            text,
            r#"{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/]","header":{"WWW-Authenticate":"ApiKey"}}],"type":"security_exception","reason":"missing authentication credentials for REST request [/]","header":{"WWW-Authenticate":"ApiKey"}},"status":401}"#
        );
    }

    #[test]
    fn root_cause_descends_only_through_elasticsearch_exceptions() {
        let iae = EsError::illegal_argument("No cache named [api_key] is found");
        let failed = EsError::new(ExceptionType::FailedNode, "Failed node [n1]", 500)
            .with_metadata("node_id", "n1")
            .with_cause(iae.clone());
        assert_eq!(failed.root_cause().kind, "failed_node_exception");
        let wrapped = EsError::exception("outer").with_cause(failed.clone());
        assert_eq!(wrapped.root_cause().kind, "failed_node_exception");
        let x = failed.to_xcontent(true);
        let keys: Vec<&String> = x.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["type", "reason", "node_id", "caused_by"]);
        // A non-Elasticsearch exception is its own root cause, whatever its cause.
        let xcp = EsError::new(ExceptionType::XContentParse, "[1:2] x", 400)
            .with_cause(EsError::exception("inner"));
        assert_eq!(xcp.root_cause().kind, ExceptionType::XContentParse);
        // An Elasticsearch exception caused by a Java one stops at itself.
        let sec = EsError::security("error attempting to authenticate request", 401).with_cause(
            EsError::new(ExceptionType::UnavailableShards, "shards", 503)
                .with_cause(EsError::illegal_state("deep")),
        );
        assert_eq!(sec.root_cause().kind, ExceptionType::UnavailableShards);
    }

    #[test]
    fn validation_reason_numbers_every_error() {
        let e = EsError::validation(&["a", "b"]);
        assert_eq!(e.reason, "Validation Failed: 1: a;2: b;");
        assert_eq!(e.status, 400);
        assert_eq!(e.kind, ExceptionType::ActionRequestValidation);
    }

    #[test]
    fn type_names_are_the_java_class_names_in_snake_case() {
        // `ElasticsearchException.getExceptionName`: the simple class name, `Elasticsearch` prefix
        // dropped, each capital preceded by `_` and lower-cased.
        let java = [
            (ExceptionType::Exception, "ElasticsearchException"),
            (
                ExceptionType::ActionRequestValidation,
                "ActionRequestValidationException",
            ),
            (ExceptionType::BadParameter, "BadParameterException"),
            (
                ExceptionType::EsRejectedExecution,
                "EsRejectedExecutionException",
            ),
            (ExceptionType::FailedNode, "FailedNodeException"),
            (
                ExceptionType::FeatureNotEnabled,
                "FeatureNotEnabledException",
            ),
            (ExceptionType::IllegalArgument, "IllegalArgumentException"),
            (ExceptionType::IllegalState, "IllegalStateException"),
            (ExceptionType::IndexClosed, "IndexClosedException"),
            (ExceptionType::IndexNotFound, "IndexNotFoundException"),
            (ExceptionType::JsonEof, "JsonEOFException"),
            (ExceptionType::JsonParse, "JsonParseException"),
            (ExceptionType::MalformedInput, "MalformedInputException"),
            (ExceptionType::NodeDisconnected, "NodeDisconnectedException"),
            (ExceptionType::NodeNotConnected, "NodeNotConnectedException"),
            (ExceptionType::NullPointer, "NullPointerException"),
            (ExceptionType::Parse, "ElasticsearchParseException"),
            (
                ExceptionType::ReceiveTimeoutTransport,
                "ReceiveTimeoutTransportException",
            ),
            (ExceptionType::ResourceNotFound, "ResourceNotFoundException"),
            (ExceptionType::Security, "ElasticsearchSecurityException"),
            (
                ExceptionType::StreamConstraints,
                "StreamConstraintsException",
            ),
            (ExceptionType::UncheckedIo, "UncheckedIOException"),
            (
                ExceptionType::UnavailableShards,
                "UnavailableShardsException",
            ),
            (ExceptionType::Validation, "ValidationException"),
            (
                ExceptionType::VersionConflictEngine,
                "VersionConflictEngineException",
            ),
            (ExceptionType::XContentEof, "XContentEOFException"),
            (ExceptionType::XContentParse, "XContentParseException"),
        ];
        assert_eq!(java.len(), ExceptionType::ALL.len());
        for ((kind, class), listed) in java.iter().zip(ExceptionType::ALL) {
            assert_eq!(*kind, listed);
            let simple = class.strip_prefix("Elasticsearch").unwrap_or(class);
            let mut snake = String::new();
            for (i, ch) in simple.chars().enumerate() {
                if ch.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(ch.to_ascii_lowercase());
            }
            assert_eq!(kind.as_str(), snake, "{class}");
            assert_eq!(*kind, snake.as_str());
            assert_eq!(kind.to_string(), snake);
        }
    }

    #[test]
    fn only_elasticsearch_exception_classes_are_unwrapped() {
        let java: Vec<&str> = ExceptionType::ALL
            .iter()
            .filter(|k| !k.is_elasticsearch_exception())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            java,
            [
                "action_request_validation_exception",
                "bad_parameter_exception",
                "es_rejected_execution_exception",
                "illegal_argument_exception",
                "illegal_state_exception",
                "json_e_o_f_exception",
                "json_parse_exception",
                "malformed_input_exception",
                "null_pointer_exception",
                "stream_constraints_exception",
                "unchecked_i_o_exception",
                "validation_exception",
                "x_content_e_o_f_exception",
                "x_content_parse_exception",
            ]
        );
    }

    #[test]
    fn constructor_helpers_keep_their_types_and_statuses() {
        let cases = [
            (
                EsError::illegal_argument("a"),
                "illegal_argument_exception",
                400,
            ),
            (EsError::illegal_state("a"), "illegal_state_exception", 500),
            (EsError::security("a", 401), "security_exception", 401),
            (EsError::security("a", 403), "security_exception", 403),
            (
                EsError::validation(&["a"]),
                "action_request_validation_exception",
                400,
            ),
            (
                EsError::resource_not_found("a"),
                "resource_not_found_exception",
                404,
            ),
            (EsError::parse("a"), "parse_exception", 400),
            (EsError::exception("a"), "exception", 500),
            (EsError::exception("a").with_status(503), "exception", 503),
        ];
        for (e, kind, status) in cases {
            assert_eq!((e.kind.as_str(), e.status), (kind, status));
            assert_eq!(e.to_body()["status"], status);
            assert_eq!(e.to_body()["error"]["type"], kind);
        }
    }

    #[test]
    fn errors_are_one_pointer_wide_or_two() {
        assert_eq!(std::mem::size_of::<EsError>(), std::mem::size_of::<usize>());
        assert!(std::mem::size_of::<Error>() <= 2 * std::mem::size_of::<usize>());
        assert!(std::mem::size_of::<Result<(), Error>>() <= 2 * std::mem::size_of::<usize>());
    }

    #[test]
    fn parts_convert_with_question_mark() {
        fn time() -> Result<(), Error> {
            crate::time::TimeValue::parse("5 minutes", "ttl")?;
            Ok(())
        }
        fn node() -> Result<(), Error> {
            Err(NodeError::Unknown("node-9".into()))?
        }
        let e = time().unwrap_err();
        assert!(matches!(e, Error::Time(_)));
        let es = e.to_es_error().unwrap();
        assert_eq!(es.kind, ExceptionType::IllegalArgument);
        assert_eq!(es.reason, e.to_string());
        let e = node().unwrap_err();
        assert_eq!(e.to_string(), "unknown node [node-9]");
        assert_eq!(e.to_es_error(), None);
        let e = Error::from(EsError::security("denied", 403));
        assert_eq!(e.to_string(), "[security_exception] denied");
        assert_eq!(e.to_es_error().unwrap().status, 403);
    }
}
