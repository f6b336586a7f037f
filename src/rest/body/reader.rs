//! The JSON reader, following the `JsonFactory` setup of Elasticsearch's `JsonXContent`
//! (`libs/x-content/impl/src/main/java/org/elasticsearch/xcontent/provider/json/JsonXContentImpl.java`:
//! comments allowed, duplicate keys rejected) and Jackson's `ReaderBasedJsonParser` token rules,
//! with `StreamReadConstraints`' default limits; its messages are in `messages.rs`.

use super::locate::Target;
use super::messages::{char_desc, is_ident_part, ErrKind, PErr, REDACTED, SECRET_FIELDS, SOURCE};
use super::{x_content_parse_error, Location, MAX_NUMBER_LENGTH};
use serde_json::{Map, Number, Value};

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

pub(super) struct Parser<'a> {
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
    pub(super) line: usize,
    pub(super) row_start: usize,
    /// Whether the value being read belongs to a [`SECRET_FIELDS`] key.
    pub(super) redact: bool,
    /// Set only by [`locate`]: the one pointer whose location is wanted.
    pub(super) target: Option<Target>,
    pub(super) root: Option<Value>,
}

impl<'a> Parser<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
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

    pub(super) fn loc_at(&self, pos: usize) -> Location {
        Location {
            line: self.line,
            column: pos.saturating_sub(self.row_start) + 1,
        }
    }

    pub(super) fn cur_loc(&self) -> Location {
        self.loc_at(self.pos)
    }

    /// The char at `pos` (decoding UTF-8 leniently), and its byte length.
    pub(super) fn char_at(&self, pos: usize) -> (char, usize) {
        let rest = &self.b[pos..];
        let len = match rest[0] {
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

    /// Skips whitespace and comments; `Ok(true)` when a byte follows, `Ok(false)` at the end.
    pub(super) fn skip_ws(&mut self) -> Result<bool, PErr> {
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

    pub(super) fn skip_comment(&mut self) -> Result<(), PErr> {
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

    pub(super) fn run(&mut self, parser_name: &str) -> Result<(), PErr> {
        let more = self.skip_ws()?;
        let token_loc = self.cur_loc();
        let token = if more {
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
        } else {
            "null"
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
    pub(super) fn parse_value(&mut self, on_path: bool, depth: usize) -> Result<Value, PErr> {
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
    pub(super) fn parse_field_name(&mut self) -> Result<(String, Location), PErr> {
        if self.b[self.pos] != b'"' {
            return Err(self.unexpected("was expecting double-quote to start field name"));
        }
        let key_loc = self.cur_loc();
        self.pos += 1;
        let key = self.parse_string(true)?;
        Ok((key, key_loc))
    }

    /// After a field name: the colon, and the whitespace up to the value.
    pub(super) fn parse_colon(&mut self) -> Result<(), PErr> {
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

    pub(super) fn parse_literal(&mut self, word: &str, value: Value) -> Result<Value, PErr> {
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

    pub(super) fn parse_number(&mut self) -> Result<Value, PErr> {
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

    /// Reads a string after its opening quote.
    pub(super) fn parse_string(&mut self, is_name: bool) -> Result<String, PErr> {
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

    pub(super) fn hex4(&mut self) -> Result<u32, PErr> {
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

    /// Records `loc` when the value (or key) at this path length is the target.
    pub(super) fn record(&mut self, path_len: usize, is_key: bool, loc: Location) {
        if let Some(t) = &mut self.target {
            if t.found.is_none() && t.want_key == is_key && t.segments.len() == path_len {
                t.found = Some(loc);
            }
        }
    }

    /// Whether the child at path length `depth` named `key` (or at `index`) is on the target's path,
    /// its parent being on it.
    pub(super) fn child_on_path(&self, depth: usize, key: Option<&str>, index: usize) -> bool {
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
