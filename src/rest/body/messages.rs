//! Jackson's error messages and their Elasticsearch wrapping: `JsonXContentParser.handleParserException`
//! (elastic/elasticsearch `libs/x-content/impl/src/main/java/org/elasticsearch/xcontent/provider/json/JsonXContentParser.java`)
//! turns Jackson's `JsonEOFException`, `JsonParseException` and `StreamConstraintsException` into
//! `XContentEOFException`/`XContentParseException` (see the module above for the types and reasons).
//! The message texts follow Jackson's `ParserBase`/`ParserMinimalBase` (`_reportUnexpectedChar`,
//! `_reportInvalidToken`, `_handleUnexpectedValue`, `_getCharDesc`, `_reportMismatchedEndMarker`).

use super::reader::Parser;
use super::{Location, MAX_NESTING_DEPTH};
use crate::error::{EsError, ExceptionType};

pub(super) const SOURCE: &str =
    "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)";
pub(super) const VALID_VALUES: &str =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum ErrKind {
    Parse,
    Eof,
    Constraints,
}

#[derive(Debug)]
pub(super) enum PErr {
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
    pub(super) fn into_es_error(self) -> EsError {
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
pub(super) fn char_desc(c: char) -> String {
    let code = c as u32;
    if code < 0x20 || (0x7F..=0x9F).contains(&code) {
        format!("(CTRL-CHAR, code {code})")
    } else if code > 255 {
        format!("'{c}' (code {code} / 0x{code:x})")
    } else {
        format!("'{c}' (code {code})")
    }
}

pub(super) fn is_ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Fields whose values are credentials (put-user's `password` and `password_hash`, API key and
/// token material): a malformed value there is reported without its text.
pub(super) const SECRET_FIELDS: &[&str] =
    &["password", "password_hash", "api_key", "secret", "encoded"];

/// What replaces a credential's text in a parse error.
pub(super) const REDACTED: &str = "::es_redacted::";

/// The reader's errors, each at the location Jackson reports it.
impl Parser<'_> {
    pub(super) fn err_at(&self, pos: usize, msg: String) -> PErr {
        PErr::Jackson {
            kind: ErrKind::Parse,
            msg,
            loc: self.loc_at(pos),
        }
    }

    pub(super) fn err(&self, msg: String) -> PErr {
        PErr::Jackson {
            kind: ErrKind::Parse,
            msg,
            loc: self.cur_loc(),
        }
    }

    pub(super) fn eof(&self, msg: String) -> PErr {
        PErr::Jackson {
            kind: ErrKind::Eof,
            msg: format!("Unexpected end-of-input{msg}"),
            loc: self.cur_loc(),
        }
    }

    /// `_reportUnexpectedChar` for the char at `pos`: consumes it, then reports.
    pub(super) fn unexpected(&mut self, comment: &str) -> PErr {
        let (c, len) = self.char_at(self.pos);
        self.pos += len;
        self.err(format!(
            "Unexpected character ({}): {comment}",
            char_desc(c)
        ))
    }

    /// `_handleUnexpectedValue`.
    pub(super) fn unexpected_value(&mut self) -> PErr {
        let (c, _) = self.char_at(self.pos);
        match c {
            '}' | ',' | ']' => self.unexpected("expected a value"),
            c if c.is_alphabetic() || c == '_' || c == '$' => self.invalid_token(self.pos),
            _ => self.unexpected(&format!("expected a valid value {VALID_VALUES}")),
        }
    }

    /// `_reportInvalidToken`: the identifier run from `start`, then the terminator is consumed.
    pub(super) fn invalid_token(&mut self, start: usize) -> PErr {
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
            REDACTED.clone_into(&mut token);
        }
        self.err(format!(
            "Unrecognized token '{token}': was expecting {VALID_VALUES}"
        ))
    }

    pub(super) fn unexpected_in_number(&mut self, comment: &str) -> PErr {
        let (c, len) = self.char_at(self.pos);
        self.pos += len;
        self.err(format!(
            "Unexpected character ({}) in numeric value: {comment}",
            char_desc(c)
        ))
    }

    pub(super) fn check_depth(&self, depth: usize) -> Result<(), PErr> {
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

    pub(super) fn mismatched_close(&mut self, expected: char, ctx: &str, start: Location) -> PErr {
        let (c, len) = self.char_at(self.pos);
        self.pos += len;
        self.err(format!(
            "Unexpected close marker '{c}': expected '{expected}' (for {ctx} starting at [Source: {SOURCE}; line: {}, column: {}])",
            start.line, start.column
        ))
    }

    pub(super) fn close_marker_eof(&self, ctx: &str, start: Location) -> PErr {
        self.eof(format!(
            ": expected close marker for {ctx} (start marker at [Source: {SOURCE}; line: {}, column: {}])",
            start.line, start.column
        ))
    }
}
