//! Elasticsearch's exceptions as data, and their JSON form.
//!
//! Every failure a request can meet is an [`EsError`]: the Elasticsearch exception type (`type`), its
//! message (`reason`), the HTTP status, metadata fields, headers and a cause. Rendering follows
//! `server/src/main/java/org/elasticsearch/ElasticsearchException.java` (`generateFailureXContent`,
//! `innerToXContent`, `guessRootCauses`): `type`, `reason`, metadata, `caused_by`, `header`, in that order;
//! a header with one value is written as a string; `root_cause` entries carry no `caused_by`.

use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::fmt;

/// An Elasticsearch exception.
#[derive(Debug, Clone, PartialEq)]
pub struct EsError {
    /// The snake-case type, e.g. `security_exception`, `illegal_argument_exception`.
    pub kind: String,
    pub reason: String,
    /// The HTTP status this exception maps to (`ExceptionsHelper.status`).
    pub status: u16,
    /// Rendered after `reason`, in order (e.g. `resource.type`, `node_id`).
    pub metadata: IndexMap<String, Value>,
    /// Rendered under `header`, and sent as HTTP headers.
    pub headers: IndexMap<String, Vec<String>>,
    pub caused_by: Option<Box<EsError>>,
    /// Whether the Java class is an `ElasticsearchException` (only those are unwrapped when guessing
    /// the root cause; an `IllegalArgumentException` cause stops the descent).
    pub is_elasticsearch_exception: bool,
}

impl EsError {
    pub fn new(kind: impl Into<String>, reason: impl Into<String>, status: u16) -> Self {
        let kind = kind.into();
        let is_es = !matches!(
            kind.as_str(),
            "illegal_argument_exception"
                | "illegal_state_exception"
                | "null_pointer_exception"
                | "number_format_exception"
                | "x_content_parse_exception"
                | "json_parse_exception"
                | "unsupported_operation_exception"
        );
        EsError {
            kind,
            reason: reason.into(),
            status,
            metadata: IndexMap::new(),
            headers: IndexMap::new(),
            caused_by: None,
            is_elasticsearch_exception: is_es,
        }
    }

    /// `IllegalArgumentException`: 400.
    pub fn illegal_argument(reason: impl Into<String>) -> Self {
        Self::new("illegal_argument_exception", reason, 400)
    }

    /// `IllegalStateException`: 500.
    pub fn illegal_state(reason: impl Into<String>) -> Self {
        Self::new("illegal_state_exception", reason, 500)
    }

    /// `ElasticsearchSecurityException` with a status.
    pub fn security(reason: impl Into<String>, status: u16) -> Self {
        Self::new("security_exception", reason, status)
    }

    /// `ActionRequestValidationException`: `Validation Failed: 1: a;2: b;`.
    pub fn validation<S: AsRef<str>>(errors: &[S]) -> Self {
        let mut reason = String::from("Validation Failed: ");
        for (i, e) in errors.iter().enumerate() {
            reason.push_str(&format!("{}: {};", i + 1, e.as_ref()));
        }
        Self::new("action_request_validation_exception", reason, 400)
    }

    /// `ResourceNotFoundException`: 404.
    pub fn resource_not_found(reason: impl Into<String>) -> Self {
        Self::new("resource_not_found_exception", reason, 404)
    }

    /// `ElasticsearchParseException`: 400.
    pub fn parse(reason: impl Into<String>) -> Self {
        Self::new("parse_exception", reason, 400)
    }

    /// A plain `ElasticsearchException` (500).
    pub fn exception(reason: impl Into<String>) -> Self {
        Self::new("exception", reason, 500)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    pub fn with_header(mut self, name: impl Into<String>, values: Vec<String>) -> Self {
        self.headers.insert(name.into(), values);
        self
    }

    pub fn with_cause(mut self, cause: EsError) -> Self {
        self.caused_by = Some(Box::new(cause));
        self
    }

    /// `guessRootCauses`: descend through causes while both are Elasticsearch exceptions.
    pub fn root_cause(&self) -> &EsError {
        let mut at = self;
        while at.is_elasticsearch_exception {
            match &at.caused_by {
                Some(c) if c.is_elasticsearch_exception => at = c,
                _ => break,
            }
        }
        at
    }

    /// The exception object (`innerToXContent`). `with_cause` is false inside `root_cause`.
    pub fn to_xcontent(&self, with_cause: bool) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(self.kind.clone()));
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
                let v = if vs.len() == 1 {
                    Value::String(vs[0].clone())
                } else {
                    json!(vs)
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
        let failed = EsError::new("failed_node_exception", "Failed node [n1]", 500)
            .with_metadata("node_id", "n1")
            .with_cause(iae.clone());
        assert_eq!(failed.root_cause().kind, "failed_node_exception");
        let wrapped = EsError::exception("outer").with_cause(failed.clone());
        assert_eq!(wrapped.root_cause().kind, "failed_node_exception");
        let x = failed.to_xcontent(true);
        let keys: Vec<&String> = x.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["type", "reason", "node_id", "caused_by"]);
    }

    #[test]
    fn validation_reason_numbers_every_error() {
        let e = EsError::validation(&["a", "b"]);
        assert_eq!(e.reason, "Validation Failed: 1: a;2: b;");
        assert_eq!(e.status, 400);
    }
}
