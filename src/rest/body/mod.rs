//! Request bodies: JSON parsing with Elasticsearch's (Jackson's) errors and token locations.
//!
//! ES reads bodies with Jackson through `JsonXContentParser`, whose `handleParserException`
//! (elastic/elasticsearch `libs/x-content/impl/.../json/JsonXContentParser.java`, read) turns
//! - a `JsonEOFException` into `XContentEOFException(location, "Unexpected end of file", e)`: type
//!   `x_content_e_o_f_exception` (ES's `toUnderscoreCase` of the class name), reason
//!   `[<line>:<col>] Unexpected end of file`, `caused_by` `json_e_o_f_exception`;
//! - any other `JsonParseException` into `XContentParseException(location, e.getMessage(), e)`: type
//!   `x_content_parse_exception`, reason `[<line>:<col>] <Jackson message>`, `caused_by`
//!   `json_parse_exception` with the Jackson message;
//! - a `StreamConstraintsException` (nesting deeper than 1000) the same way, cause
//!   `stream_constraints_exception`.
//!
//! The status is 400. The root cause is the x-content exception itself (its cause is not an ES exception).
//!
//! Body-level rules, from `RestRequest` (read): no body (or an empty one) where one is required is
//! `parse_exception` `request body is required`. `ObjectParser.parse` (read) requires the first token
//! to be `START_OBJECT`, else `[<l>:<c>] [<parser name>] Expected START_OBJECT but was: <TOKEN>` at the
//! token's location, and stops reading at the root object's end (trailing bytes are ignored).
//!
//! The parser follows the `JsonFactory` setup of ES's `JsonXContent`: comments (`/* */`, `//`) are
//! allowed and duplicate keys are rejected (`Duplicate field 'x'`). Object key order is preserved.
//!
//! **Approximations** (Jackson was not run): the Jackson messages are reproduced from its source as
//! remembered (`Unexpected character ('x' (code 120)): was expecting double-quote to start field name`,
//! `... was expecting comma to separate Object entries`, `... was expecting a colon to separate field
//! name and value`, `Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token
//! 'null', 'true' or 'false')`, `Unexpected end-of-input: expected close marker for Object (start marker
//! at ...)`, ...), each followed, like Jackson 2.16+ with source inclusion disabled, by
//! ``\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: L, column: C]``.
//! Locations follow Jackson's byte-based counting: a token's location is the 1-based column of its first
//! byte; an error's location is where the reader stands after consuming the offending byte (so one past
//! it). ES parses and interprets a body in one pass, so a semantic error (an unknown field, say) that
//! precedes a syntax error is reported first by ES, while here the syntax error is (the whole body is
//! read first). Numbers beyond `i64`/`u64` become `f64`.

mod locate;
mod messages;
mod reader;
#[cfg(test)]
mod tests;

use super::request::Request;
use crate::error::{EsError, ExceptionType};
use locate::locate;
use messages::PErr;
use reader::Parser;
use serde_json::Value;
use std::fmt;

/// Jackson's `StreamReadConstraints` default nesting limit, which ES keeps for request bodies
/// (`libs/x-content/impl/.../XContentImplUtils.configure` only lifts the string-length limit).
pub(crate) const MAX_NESTING_DEPTH: usize = 1000;

/// Jackson's `StreamReadConstraints` default number-length limit (also kept by ES).
pub(crate) const MAX_NUMBER_LENGTH: usize = 1000;

/// A location as ES prints it (`XContentLocation`: `line:column`, both 1-based, byte columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Location {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A parsed body that can tell the token locations ES would report for it.
///
/// Locations are found on demand, only when an error needs one, by reading the body again and
/// following one JSON pointer: parsing stays linear in the body's size with no per-value cost
/// (issue 8 point 8: a map of every value's pointer grew quadratically with nesting).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedBody {
    pub value: Value,
    /// The body's bytes, read again by [`ParsedBody::value_location`] and [`ParsedBody::key_location`].
    source: Vec<u8>,
}

impl ParsedBody {
    /// The location of a value's first token, by JSON pointer (`""` is the root, `/name`,
    /// `/role_descriptors/r1`, `/a/0`); ES reports this location for `failed to parse field [..]` and
    /// `doesn't support values of type` errors.
    pub(crate) fn value_location(&self, pointer: &str) -> Option<Location> {
        locate(&self.source, pointer, false)
    }

    /// The location of an object key (its opening quote), by the JSON pointer of its value; ES reports
    /// this location for `unknown field [..]`.
    pub(crate) fn key_location(&self, pointer: &str) -> Option<Location> {
        locate(&self.source, pointer, true)
    }
}

/// Appends one key to a JSON pointer (RFC 6901 escaping).
pub fn pointer_child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// `XContentParseException(location, msg)`: type `x_content_parse_exception`, reason `[l:c] msg`
/// (just `msg` without a location), status 400. Use it for the object parsers' errors, e.g.
/// `[api_key_request] unknown field [foo]` at the key's location.
pub(crate) fn x_content_parse_error(location: Option<Location>, msg: &str) -> EsError {
    let reason = match location {
        Some(l) => format!("[{l}] {msg}"),
        None => msg.to_owned(),
    };
    EsError::new(ExceptionType::XContentParse, reason, 400)
}

/// `RestRequest.requiredContent()` with no body: `parse_exception` `request body is required` (400).
pub(crate) fn body_required_error() -> EsError {
    EsError::parse("request body is required")
}

/// Parses a required JSON object body as `ObjectParser` named `parser_name` would start to.
#[cfg(test)]
pub(crate) fn parse_json_body(req: &Request, parser_name: &str) -> Result<Value, EsError> {
    parse_json_body_with_locations(req, parser_name).map(|b| b.value)
}

/// [`parse_json_body`], keeping token locations for later field errors.
pub(crate) fn parse_json_body_with_locations(
    req: &Request,
    parser_name: &str,
) -> Result<ParsedBody, EsError> {
    match &req.body {
        Some(b) if !b.is_empty() => parse_json_object(b, parser_name),
        _ => Err(body_required_error()),
    }
}

/// For optional bodies (`RestRequest.applyContentParser`): `None` without content.
pub(crate) fn parse_optional_json_body(
    req: &Request,
    parser_name: &str,
) -> Result<Option<ParsedBody>, EsError> {
    match &req.body {
        Some(b) if !b.is_empty() => parse_json_object(b, parser_name).map(Some),
        _ => Ok(None),
    }
}

/// Parses bytes that must hold a JSON object (trailing bytes after it are ignored, as ES does).
pub fn parse_json_object(bytes: &[u8], parser_name: &str) -> Result<ParsedBody, EsError> {
    let mut p = Parser::new(bytes);
    p.run(parser_name).map_err(PErr::into_es_error)?;
    Ok(ParsedBody {
        value: p.root.take().unwrap_or(Value::Null),
        source: bytes.to_vec(),
    })
}

/// [`parse_json_object`] without keeping the bytes for locations: for stored documents read back.
pub(crate) fn parse_json_object_value(bytes: &[u8], parser_name: &str) -> Result<Value, EsError> {
    let mut p = Parser::new(bytes);
    p.run(parser_name).map_err(PErr::into_es_error)?;
    Ok(p.root.take().unwrap_or(Value::Null))
}
