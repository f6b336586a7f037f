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

use super::request::Request;
use crate::error::{EsError, ExceptionType};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Jackson's `StreamReadConstraints` default nesting limit, which ES keeps for request bodies
/// (`libs/x-content/impl/.../XContentImplUtils.configure` only lifts the string-length limit).
pub const MAX_NESTING_DEPTH: usize = 1000;

/// Jackson's `StreamReadConstraints` default number-length limit (also kept by ES).
pub const MAX_NUMBER_LENGTH: usize = 1000;

/// A location as ES prints it (`XContentLocation`: `line:column`, both 1-based, byte columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    pub line: usize,
    pub column: usize,
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
    pub fn value_location(&self, pointer: &str) -> Option<Location> {
        locate(&self.source, pointer, false)
    }

    /// The location of an object key (its opening quote), by the JSON pointer of its value; ES reports
    /// this location for `unknown field [..]`.
    pub fn key_location(&self, pointer: &str) -> Option<Location> {
        locate(&self.source, pointer, true)
    }
}

/// One JSON pointer to look for while parsing: its unescaped segments (each also as an array index
/// when it is one in canonical form), and whether the key or the value location is wanted.
struct Target {
    segments: Vec<String>,
    indexes: Vec<Option<usize>>,
    want_key: bool,
    found: Option<Location>,
}

impl Target {
    fn new(pointer: &str, want_key: bool) -> Option<Self> {
        let segments: Vec<String> = if pointer.is_empty() {
            Vec::new()
        } else {
            let rest = pointer.strip_prefix('/')?;
            rest.split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect()
        };
        let indexes = segments
            .iter()
            .map(|s| {
                let canonical = s == "0" || (!s.starts_with('0') && !s.starts_with('+'));
                s.parse::<usize>().ok().filter(|_| canonical)
            })
            .collect();
        Some(Target {
            segments,
            indexes,
            want_key,
            found: None,
        })
    }
}

/// Reads `bytes` again and returns the location of `pointer`'s key or value (`None` when absent, or
/// when the bytes no longer parse).
fn locate(bytes: &[u8], pointer: &str, want_key: bool) -> Option<Location> {
    let target = Target::new(pointer, want_key)?;
    if want_key && target.segments.is_empty() {
        return None;
    }
    let mut p = Parser::new(bytes);
    p.target = Some(target);
    p.skip_ws().ok()?;
    // A failure after the location was found does not matter; one before leaves `found` empty.
    let _ = p.parse_value(true, 0);
    p.target.and_then(|t| t.found)
}

/// Appends one key to a JSON pointer (RFC 6901 escaping).
pub fn pointer_child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// `XContentParseException(location, msg)`: type `x_content_parse_exception`, reason `[l:c] msg`
/// (just `msg` without a location), status 400. Use it for the object parsers' errors, e.g.
/// `[api_key_request] unknown field [foo]` at the key's location.
pub fn x_content_parse_error(location: Option<Location>, msg: &str) -> EsError {
    let reason = match location {
        Some(l) => format!("[{l}] {msg}"),
        None => msg.to_owned(),
    };
    EsError::new(ExceptionType::XContentParse, reason, 400)
}

/// `RestRequest.requiredContent()` with no body: `parse_exception` `request body is required` (400).
pub fn body_required_error() -> EsError {
    EsError::parse("request body is required")
}

/// Parses a required JSON object body as `ObjectParser` named `parser_name` would start to.
pub fn parse_json_body(req: &Request, parser_name: &str) -> Result<Value, EsError> {
    parse_json_body_with_locations(req, parser_name).map(|b| b.value)
}

/// [`parse_json_body`], keeping token locations for later field errors.
pub fn parse_json_body_with_locations(
    req: &Request,
    parser_name: &str,
) -> Result<ParsedBody, EsError> {
    match &req.body {
        Some(b) if !b.is_empty() => parse_json_object(b, parser_name),
        _ => Err(body_required_error()),
    }
}

/// For optional bodies (`RestRequest.applyContentParser`): `None` without content.
pub fn parse_optional_json_body(
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
    p.run(parser_name).map_err(|e| e.into_es_error())?;
    Ok(ParsedBody {
        value: p.root.take().unwrap_or(Value::Null),
        source: bytes.to_vec(),
    })
}

/// [`parse_json_object`] without keeping the bytes for locations: for stored documents read back.
pub fn parse_json_object_value(bytes: &[u8], parser_name: &str) -> Result<Value, EsError> {
    let mut p = Parser::new(bytes);
    p.run(parser_name).map_err(|e| e.into_es_error())?;
    Ok(p.root.take().unwrap_or(Value::Null))
}

/// Parses any JSON value (no START_OBJECT requirement), with the same errors and the same nesting
/// limit ([`MAX_NESTING_DEPTH`]). Stored security documents are read back with it, so that whatever a
/// request could store can be read (issue 8 point 1).
pub fn parse_json_value(bytes: &[u8]) -> Result<Value, EsError> {
    let mut p = Parser::new(bytes);
    p.skip_ws().map_err(|e| e.into_es_error())?;
    p.parse_value(false, 0).map_err(|e| e.into_es_error())
}

const SOURCE: &str = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)";
const VALID_VALUES: &str =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

#[derive(Debug, Clone, Copy, PartialEq)]
enum ErrKind {
    Parse,
    Eof,
    Constraints,
}

#[derive(Debug)]
enum PErr {
    /// A Jackson exception: its message (without location) and location.
    Jackson {
        kind: ErrKind,
        msg: String,
        loc: Location,
    },
    /// An `ObjectParser` error (already an x-content exception, no Jackson cause).
    XContent(EsError),
}

impl PErr {
    fn into_es_error(self) -> EsError {
        match self {
            PErr::XContent(e) => e,
            PErr::Jackson { kind, msg, loc } => {
                let full = format!(
                    "{msg}\n at [Source: {SOURCE}; line: {}, column: {}]",
                    loc.line, loc.column
                );
                let (outer_kind, outer_msg, cause_kind) = match kind {
                    ErrKind::Eof => (
                        ExceptionType::XContentEof,
                        "Unexpected end of file".to_owned(),
                        ExceptionType::JsonEof,
                    ),
                    ErrKind::Parse => (
                        ExceptionType::XContentParse,
                        full.clone(),
                        ExceptionType::JsonParse,
                    ),
                    ErrKind::Constraints => (
                        ExceptionType::XContentParse,
                        full.clone(),
                        ExceptionType::StreamConstraints,
                    ),
                };
                let cause = EsError::new(cause_kind, full, 400);
                EsError::new(outer_kind, format!("[{loc}] {outer_msg}"), 400).with_cause(cause)
            }
        }
    }
}

/// Jackson's `_getCharDesc`.
fn char_desc(c: char) -> String {
    let code = c as u32;
    if code < 0x20 || (0x7F..=0x9F).contains(&code) {
        format!("(CTRL-CHAR, code {code})")
    } else if code > 255 {
        format!("'{c}' (code {code} / 0x{code:x})")
    } else {
        format!("'{c}' (code {code})")
    }
}

fn is_ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Fields whose values are credentials (put-user's `password` and `password_hash`, API key and
/// token material): a malformed value there is reported without its text.
const SECRET_FIELDS: &[&str] = &["password", "password_hash", "api_key", "secret", "encoded"];

/// What replaces a credential's text in a parse error.
const REDACTED: &str = "::es_redacted::";

/// An open container: its contents so far (an object also holds the key whose value comes next).
enum Container {
    Object(Map<String, Value>, String),
    Array(Vec<Value>),
}

struct Frame {
    container: Container,
    start: Location,
    on_path: bool,
    first: bool,
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    line: usize,
    row_start: usize,
    /// Whether the value being read belongs to a [`SECRET_FIELDS`] key.
    redact: bool,
    /// Set only by [`locate`]: the one pointer whose location is wanted.
    target: Option<Target>,
    root: Option<Value>,
}

impl<'a> Parser<'a> {
    fn new(b: &'a [u8]) -> Self {
        Parser {
            b,
            pos: 0,
            line: 1,
            row_start: 0,
            redact: false,
            target: None,
            root: None,
        }
    }

    fn loc_at(&self, pos: usize) -> Location {
        Location {
            line: self.line,
            column: pos.saturating_sub(self.row_start) + 1,
        }
    }

    fn cur_loc(&self) -> Location {
        self.loc_at(self.pos)
    }

    fn err_at(&self, pos: usize, msg: String) -> PErr {
        PErr::Jackson {
            kind: ErrKind::Parse,
            msg,
            loc: self.loc_at(pos),
        }
    }

    fn err(&self, msg: String) -> PErr {
        PErr::Jackson {
            kind: ErrKind::Parse,
            msg,
            loc: self.cur_loc(),
        }
    }

    fn eof(&self, msg: String) -> PErr {
        PErr::Jackson {
            kind: ErrKind::Eof,
            msg: format!("Unexpected end-of-input{msg}"),
            loc: self.cur_loc(),
        }
    }

    /// The char at `pos` (decoding UTF-8 leniently), and its byte length.
    fn char_at(&self, pos: usize) -> (char, usize) {
        let rest = &self.b[pos..];
        let len = match rest[0] {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        let len = len.min(rest.len());
        match std::str::from_utf8(&rest[..len]) {
            Ok(s) => (s.chars().next().unwrap_or('\u{FFFD}'), len),
            Err(_) => (char::from(rest[0]), 1),
        }
    }

    /// `_reportUnexpectedChar` for the char at `pos`: consumes it, then reports.
    fn unexpected(&mut self, comment: &str) -> PErr {
        let (c, len) = self.char_at(self.pos);
        self.pos += len;
        self.err(format!(
            "Unexpected character ({}): {comment}",
            char_desc(c)
        ))
    }

    /// Skips whitespace and comments; `Ok(true)` when a byte follows, `Ok(false)` at the end.
    fn skip_ws(&mut self) -> Result<bool, PErr> {
        while self.pos < self.b.len() {
            match self.b[self.pos] {
                b' ' | b'\t' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.row_start = self.pos;
                }
                b'\r' => {
                    self.pos += 1;
                    if self.b.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                    self.row_start = self.pos;
                }
                b'/' => self.skip_comment()?,
                _ => return Ok(true),
            }
        }
        Ok(false)
    }

    fn skip_comment(&mut self) -> Result<(), PErr> {
        self.pos += 1; // the '/'
        match self.b.get(self.pos) {
            None => Err(self.eof(" in a comment".into())),
            Some(b'/') => {
                while self.pos < self.b.len()
                    && self.b[self.pos] != b'\n'
                    && self.b[self.pos] != b'\r'
                {
                    self.pos += 1;
                }
                Ok(())
            }
            Some(b'*') => {
                self.pos += 1;
                loop {
                    match self.b.get(self.pos) {
                        None => return Err(self.eof(" in a comment".into())),
                        Some(b'*') if self.b.get(self.pos + 1) == Some(&b'/') => {
                            self.pos += 2;
                            return Ok(());
                        }
                        Some(b'\n') => {
                            self.pos += 1;
                            self.line += 1;
                            self.row_start = self.pos;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
            }
            Some(_) => Err(self.unexpected("was expecting either '*' or '/' for a comment")),
        }
    }

    fn run(&mut self, parser_name: &str) -> Result<(), PErr> {
        let more = self.skip_ws()?;
        let token_loc = self.cur_loc();
        let token = if !more {
            "null"
        } else {
            match self.b[self.pos] {
                b'{' => {
                    let v = self.parse_value(false, 0)?;
                    self.root = Some(v);
                    return Ok(());
                }
                b'[' => "START_ARRAY",
                b'"' => "VALUE_STRING",
                b'-' | b'0'..=b'9' => {
                    self.parse_number()?;
                    "VALUE_NUMBER"
                }
                b't' | b'f' | b'n' => match self.parse_value(false, 0)? {
                    Value::Null => "VALUE_NULL",
                    _ => "VALUE_BOOLEAN",
                },
                b'}' | b']' => {
                    let (c, _) = self.char_at(self.pos);
                    self.pos += 1;
                    let expected = if c == '}' { ']' } else { '}' };
                    return Err(self.err(format!(
                        "Unexpected close marker '{c}': expected '{expected}' (for root starting at [Source: {SOURCE}; line: 1, column: 0])"
                    )));
                }
                _ => {
                    // Not a valid value: Jackson's own error.
                    self.parse_value(false, 0)?;
                    "null"
                }
            }
        };
        Err(PErr::XContent(x_content_parse_error(
            Some(token_loc),
            &format!("[{parser_name}] Expected START_OBJECT but was: {token}"),
        )))
    }

    /// Parses the value at `pos`; `depth` is the number of containers around it (the length of its
    /// path), and `on_path` tells whether its path is a prefix of the [`Target`]'s.
    ///
    /// Containers are kept on an explicit stack, not the call stack: a body nested to the limit
    /// must not depend on the thread's stack size (an unoptimised build used about 10 KB of stack per
    /// level when this recursed).
    fn parse_value(&mut self, on_path: bool, depth: usize) -> Result<Value, PErr> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut on_path = on_path;
        loop {
            // A value starts here.
            if !self.skip_ws()? {
                return Err(self.eof(String::new()));
            }
            let loc = self.cur_loc();
            let value_depth = depth + stack.len();
            if on_path {
                self.record(value_depth, false, loc);
            }
            // The value of a credential field is never echoed in an error (Jackson would print an
            // unquoted token's text): escache's rule that secrets stay out of every HTTP body.
            self.redact = matches!(
                stack.last(),
                Some(Frame { container: Container::Object(_, key), .. })
                    if SECRET_FIELDS.contains(&key.as_str())
            );
            let mut done = match self.b[self.pos] {
                b'{' | b'[' => {
                    let is_object = self.b[self.pos] == b'{';
                    self.pos += 1;
                    self.check_depth(value_depth + 1)?;
                    stack.push(Frame {
                        container: if is_object {
                            Container::Object(Map::new(), String::new())
                        } else {
                            Container::Array(Vec::new())
                        },
                        start: loc,
                        on_path,
                        first: true,
                    });
                    None
                }
                b'"' => {
                    self.pos += 1;
                    Some(Value::String(self.parse_string(false)?))
                }
                b'-' | b'0'..=b'9' => Some(self.parse_number()?),
                b't' => Some(self.parse_literal("true", Value::Bool(true))?),
                b'f' => Some(self.parse_literal("false", Value::Bool(false))?),
                b'n' => Some(self.parse_literal("null", Value::Null)?),
                _ => return Err(self.unexpected_value()),
            };
            // Add finished values to their containers and close containers until one needs a value.
            loop {
                let child_depth = depth + stack.len();
                let Some(frame) = stack.last_mut() else {
                    // ok: the loop only gets here with a finished root value.
                    return Ok(done.unwrap_or(Value::Null));
                };
                if let Some(v) = done.take() {
                    match &mut frame.container {
                        Container::Object(map, key) => {
                            map.insert(std::mem::take(key), v);
                        }
                        Container::Array(items) => items.push(v),
                    }
                }
                let (start, parent_on_path, first) = (frame.start, frame.on_path, frame.first);
                let is_object = matches!(frame.container, Container::Object(..));
                let (ctx, close, other_close) = if is_object {
                    ("Object", b'}', b']')
                } else {
                    ("Array", b']', b'}')
                };
                if !self.skip_ws()? {
                    return Err(self.close_marker_eof(ctx, start));
                }
                // Close markers are checked before the comma (Jackson's `nextToken`); after a comma, a
                // `}` is read as a (bad) field name instead.
                let c = self.b[self.pos];
                if c == close {
                    self.pos += 1;
                    // ok: `frame` is the last element.
                    if let Some(f) = stack.pop() {
                        done = Some(match f.container {
                            Container::Object(map, _) => Value::Object(map),
                            Container::Array(items) => Value::Array(items),
                        });
                    }
                    continue;
                }
                if c == other_close {
                    let expected = char::from(close);
                    return Err(self.mismatched_close(expected, ctx, start));
                }
                if !first {
                    if c != b',' {
                        return Err(self.unexpected(&format!(
                            "was expecting comma to separate {ctx} entries"
                        )));
                    }
                    self.pos += 1;
                    if !self.skip_ws()? {
                        return Err(self.close_marker_eof(ctx, start));
                    }
                }
                if let Some(f) = stack.last_mut() {
                    f.first = false;
                }
                if is_object {
                    let key = self.parse_field_name()?;
                    if let Some(Frame {
                        container: Container::Object(map, slot),
                        ..
                    }) = stack.last_mut()
                    {
                        if map.contains_key(&key.0) {
                            return Err(self.err(format!("Duplicate field '{}'", key.0)));
                        }
                        on_path =
                            parent_on_path && self.child_on_path(child_depth, Some(&key.0), 0);
                        if on_path {
                            self.record(child_depth, true, key.1);
                        }
                        *slot = key.0;
                    }
                    self.parse_colon()?;
                } else {
                    let index = match stack.last() {
                        Some(Frame {
                            container: Container::Array(items),
                            ..
                        }) => items.len(),
                        _ => 0,
                    };
                    on_path = parent_on_path && self.child_on_path(child_depth, None, index);
                }
                break;
            }
        }
    }

    /// A field name, its colon and the whitespace up to the value: the name and its location.
    fn parse_field_name(&mut self) -> Result<(String, Location), PErr> {
        if self.b[self.pos] != b'"' {
            return Err(self.unexpected("was expecting double-quote to start field name"));
        }
        let key_loc = self.cur_loc();
        self.pos += 1;
        let key = self.parse_string(true)?;
        Ok((key, key_loc))
    }

    /// After a field name: the colon, and the whitespace up to the value.
    fn parse_colon(&mut self) -> Result<(), PErr> {
        if !self.skip_ws()? {
            return Err(self.eof(" within/between Object entries".into()));
        }
        if self.b[self.pos] != b':' {
            return Err(self.unexpected("was expecting a colon to separate field name and value"));
        }
        self.pos += 1;
        if !self.skip_ws()? {
            return Err(self.eof(" within/between Object entries".into()));
        }
        Ok(())
    }

    /// `_handleUnexpectedValue`.
    fn unexpected_value(&mut self) -> PErr {
        let (c, _) = self.char_at(self.pos);
        match c {
            '}' | ',' | ']' => self.unexpected("expected a value"),
            c if c.is_alphabetic() || c == '_' || c == '$' => self.invalid_token(self.pos),
            _ => self.unexpected(&format!("expected a valid value {VALID_VALUES}")),
        }
    }

    /// `_reportInvalidToken`: the identifier run from `start`, then the terminator is consumed.
    fn invalid_token(&mut self, start: usize) -> PErr {
        let mut end = start;
        let mut token = String::new();
        while end < self.b.len() && token.chars().count() < 256 {
            let (c, len) = self.char_at(end);
            end += len;
            if !is_ident_part(c) {
                break;
            }
            token.push(c);
        }
        self.pos = end;
        if self.redact {
            token = REDACTED.to_owned();
        }
        self.err(format!(
            "Unrecognized token '{token}': was expecting {VALID_VALUES}"
        ))
    }

    fn parse_literal(&mut self, word: &str, value: Value) -> Result<Value, PErr> {
        let start = self.pos;
        let end = start + word.len();
        if self.b.get(start..end) == Some(word.as_bytes()) {
            let next_is_ident = end < self.b.len() && is_ident_part(self.char_at(end).0);
            if !next_is_ident {
                self.pos = end;
                return Ok(value);
            }
        }
        Err(self.invalid_token(start))
    }

    fn parse_number(&mut self) -> Result<Value, PErr> {
        let start = self.pos;
        let digit = |p: &Self, at: usize| p.b.get(at).is_some_and(u8::is_ascii_digit);
        if self.b[self.pos] == b'-' {
            self.pos += 1;
            if !digit(self, self.pos) {
                if self.pos >= self.b.len() {
                    return Err(self.eof(" in a Number value".into()));
                }
                return Err(self.unexpected_in_number(
                    "expected digit (0-9) to follow minus sign, for valid numeric value",
                ));
            }
        }
        if self.b[self.pos] == b'0' && digit(self, self.pos + 1) {
            self.pos += 2;
            return Err(self.err("Invalid numeric value: Leading zeroes not allowed".into()));
        }
        while digit(self, self.pos) {
            self.pos += 1;
        }
        let mut is_float = false;
        if self.b.get(self.pos) == Some(&b'.') {
            is_float = true;
            self.pos += 1;
            if !digit(self, self.pos) {
                if self.pos >= self.b.len() {
                    return Err(self.eof(" in a Number value".into()));
                }
                return Err(self.unexpected_in_number("Decimal point not followed by a digit"));
            }
            while digit(self, self.pos) {
                self.pos += 1;
            }
        }
        if matches!(self.b.get(self.pos), Some(b'e' | b'E')) {
            is_float = true;
            self.pos += 1;
            if matches!(self.b.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digit(self, self.pos) {
                if self.pos >= self.b.len() {
                    return Err(self.eof(" in a Number value".into()));
                }
                return Err(self.unexpected_in_number("Exponent indicator not followed by a digit"));
            }
            while digit(self, self.pos) {
                self.pos += 1;
            }
        }
        // Jackson's `StreamReadConstraints` default `maxNumberLength`.
        if self.pos - start > MAX_NUMBER_LENGTH {
            return Err(PErr::Jackson {
                kind: ErrKind::Constraints,
                msg: format!(
                    "Number value length ({}) exceeds the maximum allowed ({MAX_NUMBER_LENGTH}, from `StreamReadConstraints.getMaxNumberLength()`)",
                    self.pos - start
                ),
                loc: self.cur_loc(),
            });
        }
        // ok: the bytes are ASCII digits, signs, '.' and exponents.
        let text = std::str::from_utf8(&self.b[start..self.pos]).unwrap_or("0");
        let number = if is_float {
            None
        } else if let Ok(i) = text.parse::<i64>() {
            Some(Number::from(i))
        } else if let Ok(u) = text.parse::<u64>() {
            Some(Number::from(u))
        } else {
            None
        };
        let number = number.or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64));
        // A number beyond `f64` (Jackson reads it as a `BigDecimal`/infinity) cannot be kept in a
        // `Value`; refuse it rather than turn it into `null`, which would read as "absent" (a key
        // with `"expiration": 1e400` would never expire).
        match number {
            Some(n) => Ok(Value::Number(n)),
            None => Err(self.err_at(
                start,
                format!(
                    "Numeric value ({}) out of range of double",
                    if self.redact { REDACTED } else { text }
                ),
            )),
        }
    }

    fn unexpected_in_number(&mut self, comment: &str) -> PErr {
        let (c, len) = self.char_at(self.pos);
        self.pos += len;
        self.err(format!(
            "Unexpected character ({}) in numeric value: {comment}",
            char_desc(c)
        ))
    }

    /// Reads a string after its opening quote.
    fn parse_string(&mut self, is_name: bool) -> Result<String, PErr> {
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return Err(self.eof(if is_name {
                    " in field name".to_owned()
                } else {
                    ": was expecting closing quote for a string value".to_owned()
                }));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(&e) = self.b.get(self.pos) else {
                        return Err(self.eof(" in character escape sequence".into()));
                    };
                    self.pos += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.b.get(self.pos) == Some(&b'\\')
                                && self.b.get(self.pos + 1) == Some(&b'u')
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    char::from_u32(cp).unwrap_or('\u{FFFD}')
                                } else {
                                    self.pos = save;
                                    '\u{FFFD}'
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{FFFD}')
                            }
                        }
                        _ => {
                            let (c, len) = self.char_at(self.pos - 1);
                            self.pos += len - 1;
                            return Err(
                                self.err(format!("Unrecognized character escape {}", char_desc(c)))
                            );
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0x00..=0x1F => {
                    self.pos += 1;
                    return Err(self.err(format!(
                        "Illegal unquoted character ({}): has to be escaped using backslash to be included in {}",
                        char_desc(char::from(c)),
                        if is_name { "name" } else { "string value" }
                    )));
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        match String::from_utf8(out) {
            Ok(s) => Ok(s),
            Err(e) => {
                let bytes = e.as_bytes();
                let bad = bytes[e.utf8_error().valid_up_to()];
                let which = if (0x80..0xC0).contains(&bad) {
                    "start"
                } else {
                    "middle"
                };
                Err(self.err(format!("Invalid UTF-8 {which} byte 0x{bad:x}")))
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, PErr> {
        let mut v = 0u32;
        for _ in 0..4 {
            let Some(&h) = self.b.get(self.pos) else {
                return Err(self.eof(" in character escape sequence".into()));
            };
            let d = match h {
                b'0'..=b'9' => h - b'0',
                b'a'..=b'f' => h - b'a' + 10,
                b'A'..=b'F' => h - b'A' + 10,
                _ => {
                    return Err(
                        self.unexpected("expected a hex-digit for character escape sequence")
                    )
                }
            };
            self.pos += 1;
            v = v * 16 + u32::from(d);
        }
        Ok(v)
    }

    fn check_depth(&self, depth: usize) -> Result<(), PErr> {
        if depth > MAX_NESTING_DEPTH {
            return Err(PErr::Jackson {
                kind: ErrKind::Constraints,
                msg: format!(
                    "Document nesting depth ({depth}) exceeds the maximum allowed ({MAX_NESTING_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)"
                ),
                loc: self.cur_loc(),
            });
        }
        Ok(())
    }

    fn mismatched_close(&mut self, expected: char, ctx: &str, start: Location) -> PErr {
        let (c, len) = self.char_at(self.pos);
        self.pos += len;
        self.err(format!(
            "Unexpected close marker '{c}': expected '{expected}' (for {ctx} starting at [Source: {SOURCE}; line: {}, column: {}])",
            start.line, start.column
        ))
    }

    fn close_marker_eof(&self, ctx: &str, start: Location) -> PErr {
        self.eof(format!(
            ": expected close marker for {ctx} (start marker at [Source: {SOURCE}; line: {}, column: {}])",
            start.line, start.column
        ))
    }

    /// Records `loc` when the value (or key) at this path length is the target.
    fn record(&mut self, path_len: usize, is_key: bool, loc: Location) {
        if let Some(t) = &mut self.target {
            if t.found.is_none() && t.want_key == is_key && t.segments.len() == path_len {
                t.found = Some(loc);
            }
        }
    }

    /// Whether the child at path length `depth` named `key` (or at `index`) is on the target's path,
    /// its parent being on it.
    fn child_on_path(&self, depth: usize, key: Option<&str>, index: usize) -> bool {
        let Some(t) = &self.target else {
            return false;
        };
        let i = depth - 1; // ok: children are at depth >= 1
        match key {
            Some(k) => t.segments.get(i).is_some_and(|s| s == k),
            None => t.indexes.get(i).is_some_and(|s| *s == Some(index)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::request::{Method, Request};
    use serde_json::json;

    fn perr(body: &str) -> EsError {
        parse_json_object(body.as_bytes(), "api_key_request").unwrap_err()
    }

    fn source(l: usize, c: usize) -> String {
        format!("\n at [Source: {SOURCE}; line: {l}, column: {c}]")
    }

    #[test]
    fn parses_objects_in_order() {
        let b = parse_json_object(
            br#"{"z":1,"a":{"y":[1,2.5,"x",true,null],"b":-3}} trailing"#,
            "p",
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&b.value).unwrap(),
            r#"{"z":1,"a":{"y":[1,2.5,"x",true,null],"b":-3}}"#
        );
        assert_eq!(b.key_location("/a"), Some(Location { line: 1, column: 8 }));
        assert_eq!(
            b.value_location("/a"),
            Some(Location {
                line: 1,
                column: 12
            })
        );
        assert_eq!(
            b.value_location("/a/y/2"),
            Some(Location {
                line: 1,
                column: 24
            })
        );
        assert_eq!(b.value_location(""), Some(Location { line: 1, column: 1 }));
        let b = parse_json_object(b"{\"a\":\"\\u00e9\\ud83d\\ude00\\n\"}", "p").unwrap();
        assert_eq!(b.value, json!({"a": "é😀\n"}));
        let b = parse_json_object(
            b"{\"n\":18446744073709551615,\"m\":-9223372036854775808,\"e\":1e3}",
            "p",
        )
        .unwrap();
        assert_eq!(b.value["n"], json!(18446744073709551615u64));
        assert_eq!(b.value["m"], json!(i64::MIN));
        assert_eq!(b.value["e"], json!(1000.0));
    }

    #[test]
    fn comments_are_allowed() {
        let b = parse_json_object(b"/* c */ {\"a\": 1 // x\n , \"b\": 2}", "p").unwrap();
        assert_eq!(b.value, json!({"a": 1, "b": 2}));
    }

    #[test]
    fn malformed_json_is_x_content_parse_exception_with_json_cause() {
        let e = perr("{ name: 1 }");
        assert_eq!(e.kind, "x_content_parse_exception");
        assert_eq!(e.status, 400);
        let msg =
            "Unexpected character ('n' (code 110)): was expecting double-quote to start field name";
        assert_eq!(e.reason, format!("[1:4] {msg}{}", source(1, 4)));
        let cause = e.caused_by.as_ref().unwrap();
        assert_eq!(cause.kind, "json_parse_exception");
        assert_eq!(cause.reason, format!("{msg}{}", source(1, 4)));
        // The root cause is the x-content exception itself.
        let body = e.to_body();
        assert_eq!(
            body["error"]["root_cause"][0]["type"],
            "x_content_parse_exception"
        );
        assert_eq!(body["error"]["caused_by"]["type"], "json_parse_exception");

        assert!(perr("{\"a\":1,}").reason.starts_with(
            "[1:9] Unexpected character ('}' (code 125)): was expecting double-quote to start field name"
        ));
        assert!(perr("{\"a\":1 \"b\":2}")
            .reason
            .starts_with("[1:9] Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"));
        assert!(perr("{\"a\" 1}").reason.starts_with(
            "[1:7] Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"
        ));
        assert!(perr("{\"a\":[1 2]}")
            .reason
            .starts_with("[1:10] Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"));
        assert!(perr("{\"a\":tru}").reason.starts_with(&format!(
            "[1:10] Unrecognized token 'tru': was expecting {VALID_VALUES}"
        )));
        assert!(perr("{\"a\":}")
            .reason
            .starts_with("[1:7] Unexpected character ('}' (code 125)): expected a value"));
        assert!(perr("{\"a\":[1,]}")
            .reason
            .starts_with("[1:10] Unexpected character (']' (code 93)): expected a value"));
        assert!(perr("{\"a\":01}")
            .reason
            .starts_with("[1:8] Invalid numeric value: Leading zeroes not allowed"));
        assert!(perr("{\"a\":\"x\ny\"}").reason.starts_with(
            "[1:9] Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be included in string value"
        ));
        assert!(perr("{\"a\":\"\\q\"}")
            .reason
            .starts_with("[1:9] Unrecognized character escape 'q' (code 113)"));
        assert!(perr("{\"a\":1]").reason.starts_with(
            "[1:8] Unexpected close marker ']': expected '}' (for Object starting at"
        ));
        // Line counting.
        assert!(perr("{\n  \"a\": 1,\n  b\n}")
            .reason
            .starts_with("[3:4] Unexpected character ('b'"));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let e = perr(r#"{"name":"a","name":"b"}"#);
        assert_eq!(e.kind, "x_content_parse_exception");
        assert!(
            e.reason.starts_with("[1:19] Duplicate field 'name'"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn truncated_json_is_eof() {
        let e = perr(r#"{"name":"a""#);
        assert_eq!(e.kind, "x_content_e_o_f_exception");
        assert_eq!(e.reason, "[1:12] Unexpected end of file");
        let cause = e.caused_by.as_ref().unwrap();
        assert_eq!(cause.kind, "json_e_o_f_exception");
        assert!(cause.reason.starts_with(
            "Unexpected end-of-input: expected close marker for Object (start marker at [Source: "
        ));
        assert_eq!(
            e.to_body()["error"]["root_cause"][0]["type"],
            "x_content_e_o_f_exception"
        );
        assert_eq!(perr(r#"{"name":"a"#).kind, "x_content_e_o_f_exception");
        assert_eq!(perr(r#"{"name""#).kind, "x_content_e_o_f_exception");
    }

    #[test]
    fn root_must_be_an_object() {
        let e = perr(r#"["a"]"#);
        assert_eq!(e.kind, "x_content_parse_exception");
        assert_eq!(
            e.reason,
            "[1:1] [api_key_request] Expected START_OBJECT but was: START_ARRAY"
        );
        assert!(e.caused_by.is_none());
        assert_eq!(
            perr(r#"  "a""#).reason,
            "[1:3] [api_key_request] Expected START_OBJECT but was: VALUE_STRING"
        );
        assert_eq!(
            perr("12").reason,
            "[1:1] [api_key_request] Expected START_OBJECT but was: VALUE_NUMBER"
        );
        assert_eq!(
            perr("true").reason,
            "[1:1] [api_key_request] Expected START_OBJECT but was: VALUE_BOOLEAN"
        );
        assert_eq!(
            perr("null").reason,
            "[1:1] [api_key_request] Expected START_OBJECT but was: VALUE_NULL"
        );
        assert_eq!(
            perr("  ").reason,
            "[1:3] [api_key_request] Expected START_OBJECT but was: null"
        );
        assert!(perr("xyz")
            .reason
            .starts_with("[1:4] Unrecognized token 'xyz'"));
    }

    #[test]
    fn nesting_limit() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(1000), "]".repeat(1000));
        let e = perr(&deep);
        assert_eq!(e.kind, "x_content_parse_exception");
        assert_eq!(
            e.caused_by.as_ref().unwrap().kind,
            "stream_constraints_exception"
        );
        assert!(e
            .reason
            .contains("Document nesting depth (1001) exceeds the maximum allowed (1000"));
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(999), "]".repeat(999));
        assert!(parse_json_object(ok.as_bytes(), "p").is_ok());
    }

    /// `{"a": [[...[0,0,...]...]]}`: `depth` nested arrays around `zeros` zeros.
    fn nested_zeros(depth: usize, zeros: usize) -> String {
        let mut s = String::with_capacity(2 * depth + 2 * zeros + 8);
        s.push_str("{\"a\":");
        s.push_str(&"[".repeat(depth));
        for i in 0..zeros {
            if i > 0 {
                s.push(',');
            }
            s.push('0');
        }
        s.push_str(&"]".repeat(depth));
        s.push('}');
        s
    }

    #[test]
    fn issue8_d08_nested_two_megabyte_body_parses_without_per_value_paths() {
        // The body of the report: a million zeros in 990 nested arrays (2 MB).
        let body = nested_zeros(990, 1_000_000);
        assert!(body.len() > 2_000_000);
        let b = parse_json_object(body.as_bytes(), "p").unwrap();
        let mut v = &b.value["a"];
        for _ in 0..989 {
            let a = v.as_array().unwrap();
            assert_eq!(a.len(), 1);
            v = &a[0];
        }
        let zeros = v.as_array().unwrap();
        assert_eq!(zeros.len(), 1_000_000);
        assert!(zeros.iter().all(|z| *z == json!(0)));
        // Locations are still there when an error needs one, found by reading the body again.
        let deep = format!("/a{}", "/0".repeat(990));
        assert_eq!(
            b.value_location(&deep),
            Some(Location {
                line: 1,
                column: 6 + 990
            })
        );
        let last = format!("/a{}/999999", "/0".repeat(989));
        assert_eq!(
            b.value_location(&last),
            Some(Location {
                line: 1,
                column: 6 + 990 + 2 * 999_999
            })
        );
        assert_eq!(b.value_location("/a/1"), None);
        assert_eq!(b.key_location("/a"), Some(Location { line: 1, column: 2 }));
        // One level past Elasticsearch's limit is its nesting error, whatever the size.
        let e = perr(&nested_zeros(1000, 1_000_000));
        assert_eq!(
            e.caused_by.as_ref().unwrap().kind,
            "stream_constraints_exception"
        );
        assert!(e
            .reason
            .contains("Document nesting depth (1001) exceeds the maximum allowed (1000"));
    }

    #[test]
    fn issue8_d08_large_flat_body_parses() {
        let mut body = String::from("{");
        for i in 0..100_000 {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!("\"k{i}\":{{\"v\":[{i},\"s{i}\"]}}"));
        }
        body.push('}');
        let b = parse_json_object(body.as_bytes(), "p").unwrap();
        let m = b.value.as_object().unwrap();
        assert_eq!(m.len(), 100_000);
        assert_eq!(m["k99999"], json!({"v": [99999, "s99999"]}));
        let key_at = body.find("\"k50000\"").unwrap();
        assert_eq!(
            b.key_location("/k50000"),
            Some(Location {
                line: 1,
                column: key_at + 1
            })
        );
        assert_eq!(
            b.value_location("/k50000/v/1"),
            Some(Location {
                line: 1,
                column: body.find("\"s50000\"").unwrap() + 1
            })
        );
    }

    #[test]
    fn pointers_with_escapes_and_non_index_segments() {
        let b = parse_json_object(br#"{"a/b":{"~":[1,{"0":2}]}}"#, "p").unwrap();
        assert_eq!(
            b.value_location("/a~1b/~0/1/0"),
            Some(Location {
                line: 1,
                column: 21
            })
        );
        assert_eq!(b.value_location("/a~1b/~0/01"), None);
        assert_eq!(b.value_location("no-slash"), None);
        assert_eq!(b.key_location(""), None);
    }

    #[test]
    fn numbers_beyond_double_or_too_long_are_refused() {
        // `null` would read as "absent" (an expiration never set); ES keeps the number's text.
        let e = perr(r#"{"expiration":1e400}"#);
        assert_eq!(e.kind, "x_content_parse_exception");
        assert!(
            e.reason
                .starts_with("[1:15] Numeric value (1e400) out of range of double"),
            "{}",
            e.reason
        );
        let long = format!("{{\"a\":{}}}", "1".repeat(1001));
        let e = perr(&long);
        assert_eq!(
            e.caused_by.as_ref().unwrap().kind,
            "stream_constraints_exception"
        );
        assert!(e.reason.contains("Number value length (1001) exceeds"));
        assert!(
            parse_json_object(format!("{{\"a\":{}}}", "1".repeat(300)).as_bytes(), "p").is_ok()
        );
    }

    #[test]
    fn credential_tokens_are_not_echoed() {
        let e = perr(r#"{"password": hunter2xyz}"#);
        assert!(
            e.reason.contains("Unrecognized token '::es_redacted::'"),
            "{}",
            e.reason
        );
        assert!(!format!("{:?}", e.to_body()).contains("hunter2xyz"));
        let e = perr(r#"{"password_hash": 1e999999}"#);
        assert!(!e.to_body().to_string().contains("1e999999"));
        // Other fields keep Jackson's text.
        assert!(perr(r#"{"name": hunter2xyz}"#)
            .reason
            .contains("Unrecognized token 'hunter2xyz'"));
    }

    #[test]
    fn missing_body_is_parse_exception() {
        let r = Request::build(Method::Post, "/_security/api_key").unwrap();
        let e = parse_json_body(&r, "api_key_request").unwrap_err();
        assert_eq!(e.kind, "parse_exception");
        assert_eq!(e.reason, "request body is required");
        assert_eq!(e.status, 400);
        let r = r.with_body(Vec::new());
        assert_eq!(
            parse_json_body(&r, "api_key_request").unwrap_err().reason,
            "request body is required"
        );
        assert_eq!(parse_optional_json_body(&r, "x").unwrap(), None);
        let r = Request::build(Method::Post, "/_security/api_key")
            .unwrap()
            .with_body(br#"{"name":"k"}"#.to_vec());
        assert_eq!(
            parse_json_body(&r, "api_key_request").unwrap(),
            json!({"name": "k"})
        );
    }

    #[test]
    fn helper_errors() {
        let e = x_content_parse_error(
            Some(Location { line: 1, column: 2 }),
            "[api_key_request] unknown field [nam]",
        );
        assert_eq!(e.reason, "[1:2] [api_key_request] unknown field [nam]");
        assert_eq!(
            e.to_body()["error"]["root_cause"][0]["type"],
            "x_content_parse_exception"
        );
        assert_eq!(pointer_child("/a", "b/c~d"), "/a/b~1c~0d");
    }
}
