//! What the REST channel does to every answer on its way out, for `perform_request`, the in-process
//! client and the HTTP server alike (one implementation, rules API-H1 to API-H4):
//!
//! - `X-Opaque-Id` echoed (`server/src/main/java/org/elasticsearch/http/DefaultRestChannel.java`); a
//!   request with two different values is refused (`RestController.copyRestHeaders`: `multiple values
//!   for single-valued header [X-Opaque-Id].`);
//! - `?pretty`: Jackson's `DefaultPrettyPrinter` as Elasticsearch configures it (`"key" : value`, two
//!   spaces, arrays one value a line, `{ }` and `[ ]` when empty, a line feed at the end:
//!   `AbstractRestChannel.newBuilder`, `XContentBuilder.lfAtEnd`);
//! - `filter_path`: `libs/x-content/src/main/java/org/elasticsearch/xcontent/support/filtering/FilterPath.java`
//!   and `FilterPathBasedFilter.java` (`*` inside a name, `**` for any depth, `-` to exclude; arrays
//!   are transparent). Error bodies are never filtered (`AbstractRestChannel.newErrorBuilder`).

use super::params;
use super::request::Request;
use super::response::Response;
use crate::error::EsError;
use serde_json::{Map, Value};
use std::io;

const OPAQUE_ID: &str = "X-Opaque-Id";

/// The answer's rendering, read from the request when the channel is made.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rendering {
    pretty: bool,
    filter: Option<FilterPath>,
    opaque_id: Option<String>,
}

impl Rendering {
    /// Reads `pretty`, `filter_path` and `X-Opaque-Id`. A bad `pretty` value (checked first, when
    /// `AbstractHttpServerTransport` makes the channel, which it then makes again without
    /// parameters) or a repeated `X-Opaque-Id` (`RestController.tryAllHandlers`, before routing) is
    /// ES's 400.
    pub(crate) fn of(req: &Request) -> (Rendering, Option<Response>) {
        let opaque_id = req.header(OPAQUE_ID).map(str::to_owned);
        let pretty = match params::param_as_boolean(req.param("pretty"), false) {
            Ok(p) => p,
            Err(e) => {
                let plain = Rendering {
                    opaque_id,
                    ..Rendering::default()
                };
                return (plain, Some(Response::from_error(&e)));
            }
        };
        let mut distinct = req.header_values(OPAQUE_ID);
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > 1 {
            let e = EsError::illegal_argument(format!(
                "multiple values for single-valued header [{OPAQUE_ID}]."
            ));
            let plain = Rendering {
                pretty,
                filter: None,
                opaque_id,
            };
            return (plain, Some(Response::from_error(&e)));
        }
        let filter = req.param("filter_path").and_then(FilterPath::parse);
        (
            Rendering {
                pretty,
                filter,
                opaque_id,
            },
            None,
        )
    }

    /// Only the `X-Opaque-Id` of raw headers (a request that could not be built).
    pub(crate) fn of_headers(headers: &[(String, String)]) -> Rendering {
        Rendering {
            opaque_id: headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(OPAQUE_ID))
                .map(|(_, v)| v.clone()),
            ..Rendering::default()
        }
    }

    /// The answer as the channel sends it.
    pub(crate) fn apply(&self, mut resp: Response) -> Response {
        if let Some(filter) = &self.filter {
            let is_error = resp.status >= 400 && resp.body.get("error").is_some();
            if !is_error && resp.body.is_object() {
                resp.body = filter.apply(&resp.body);
            }
        }
        resp.pretty = self.pretty;
        if let Some(id) = &self.opaque_id {
            resp.set_header(OPAQUE_ID, id);
        }
        resp
    }
}

// ---- pretty -----------------------------------------------------------------------------------

/// Jackson's `DefaultPrettyPrinter` with arrays indented like objects (as `XContentBuilder` sets it).
struct JacksonPretty {
    indent: usize,
    has_value: bool,
}

impl JacksonPretty {
    fn newline<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, c: &[u8]) -> io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(c)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, c: &[u8]) -> io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            self.newline(w)?;
        } else {
            w.write_all(b" ")?;
        }
        w.write_all(c)
    }

    fn item<W: ?Sized + io::Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
}

impl serde_json::ser::Formatter for JacksonPretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b" : ")
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `body` as Elasticsearch writes it with `?pretty`, ending with a line feed.
pub(crate) fn pretty_bytes(body: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        JacksonPretty {
            indent: 0,
            has_value: false,
        },
    );
    if serde::Serialize::serialize(body, &mut ser).is_err() {
        return Vec::new();
    }
    out.push(b'\n');
    out
}

// ---- filter_path ------------------------------------------------------------------------------

/// The parsed `filter_path`: inclusive paths and `-`excluded ones, each a list of name patterns.
#[derive(Debug, Clone, Default, PartialEq)]
struct FilterPath {
    includes: Vec<Vec<String>>,
    excludes: Vec<Vec<String>>,
}

/// One step of a set of paths through a field name: whether one path ends here, and the rests.
fn step(paths: &[Vec<String>], key: &str) -> (bool, Vec<Vec<String>>) {
    let mut full = false;
    let mut next = Vec::new();
    let mut stack: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
    while let Some(p) = stack.pop() {
        let Some((head, rest)) = p.split_first() else {
            continue;
        };
        if head == "**" {
            if rest.is_empty() {
                full = true;
                continue;
            }
            // `**` stays for deeper levels and may also match no level at all.
            next.push(p.to_vec());
            stack.push(rest);
        } else if crate::security::authz::wildcard_match(head, key) {
            if rest.is_empty() {
                full = true;
            } else {
                next.push(rest.to_vec());
            }
        }
    }
    (full, next)
}

impl FilterPath {
    /// `Strings.tokenizeByCommaToSet` then `FilterPath.compile`; `None` when it names nothing.
    fn parse(raw: &str) -> Option<FilterPath> {
        let mut f = FilterPath::default();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (list, path) = match item.strip_prefix('-') {
                Some(p) => (&mut f.excludes, p),
                None => (&mut f.includes, item),
            };
            let segs: Vec<String> = path
                .split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !segs.is_empty() {
                list.push(segs);
            }
        }
        (!f.includes.is_empty() || !f.excludes.is_empty()).then_some(f)
    }

    fn apply(&self, body: &Value) -> Value {
        let mut v = if self.includes.is_empty() {
            body.clone()
        } else {
            include(body, &self.includes).unwrap_or_else(|| Value::Object(Map::new()))
        };
        if !self.excludes.is_empty() {
            exclude(&mut v, &self.excludes);
        }
        v
    }
}

/// What of `v` the partial paths keep; `None` when nothing (an object or array left empty by the
/// filter is not written, as Jackson's filtering generator writes a parent only for a match).
fn include(v: &Value, paths: &[Vec<String>]) -> Option<Value> {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                let (full, next) = step(paths, k);
                if full {
                    out.insert(k.clone(), child.clone());
                } else if !next.is_empty() {
                    if let Some(kept) = include(child, &next) {
                        out.insert(k.clone(), kept);
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let out: Vec<Value> = a.iter().filter_map(|e| include(e, paths)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => None,
    }
}

fn exclude(v: &mut Value, paths: &[Vec<String>]) {
    match v {
        Value::Object(m) => {
            m.retain(|k, child| {
                let (full, next) = step(paths, k);
                if full {
                    return false;
                }
                if !next.is_empty() {
                    exclude(child, &next);
                }
                true
            });
        }
        Value::Array(a) => a.iter_mut().for_each(|e| exclude(e, paths)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filtered(filter: &str, body: &Value) -> Value {
        FilterPath::parse(filter).map_or(body.clone(), |f| f.apply(body))
    }

    #[test]
    fn h2_pretty_is_jacksons_default_printer() {
        let v = json!({"a": 1, "b": [1, {"c": "x"}], "e": {}, "f": []});
        let s = String::from_utf8(pretty_bytes(&v)).unwrap();
        assert_eq!(
            s,
            "{\n  \"a\" : 1,\n  \"b\" : [\n    1,\n    {\n      \"c\" : \"x\"\n    }\n  ],\n  \"e\" : { },\n  \"f\" : [ ]\n}\n"
        );
    }

    #[test]
    fn h3_filter_path_includes_wildcards_and_arrays() {
        let body = json!({
            "_nodes": {"total": 2},
            "cluster_name": "c",
            "nodes": {"id1": {"name": "n1", "http": {"publish_address": "a:1"}},
                      "id2": {"name": "n2", "http": {"publish_address": "a:2"}}},
            "api_keys": [{"id": "k1", "name": "x"}, {"id": "k2"}],
        });
        assert_eq!(
            filtered("nodes.*.http.publish_address", &body),
            json!({"nodes": {"id1": {"http": {"publish_address": "a:1"}}, "id2": {"http": {"publish_address": "a:2"}}}})
        );
        assert_eq!(
            filtered("api_keys.name,cluster_name", &body),
            json!({"cluster_name": "c", "api_keys": [{"name": "x"}]})
        );
        assert_eq!(
            filtered("**.publish_address", &body)["nodes"]["id2"],
            json!({"http": {"publish_address": "a:2"}})
        );
        assert_eq!(filtered("nothing", &body), json!({}));
        assert_eq!(filtered(" , ", &body), body);
    }

    #[test]
    fn h3_filter_path_excludes() {
        let body = json!({"a": {"b": 1, "c": 2}, "d": [{"b": 1, "e": 3}]});
        assert_eq!(
            filtered("-a.b,-d.b", &body),
            json!({"a": {"c": 2}, "d": [{"e": 3}]})
        );
        assert_eq!(filtered("a,-a.c", &body), json!({"a": {"b": 1}}));
    }

    #[test]
    fn h1_opaque_id_echoed_and_repeats_refused() {
        let req = Request::new(
            "GET",
            "/?pretty=maybe",
            vec![("x-opaque-id".into(), "job-7".into())],
            None,
        )
        .unwrap();
        let (r, refused) = Rendering::of(&req);
        let refused = r.apply(refused.unwrap());
        assert_eq!(refused.status, 400);
        assert_eq!(refused.header("X-Opaque-Id"), Some("job-7"));
        assert!(!refused.pretty);
        let req = Request::new(
            "GET",
            "/",
            vec![
                ("X-Opaque-Id".into(), "a".into()),
                ("x-opaque-id".into(), "b".into()),
            ],
            None,
        )
        .unwrap();
        let (_, refused) = Rendering::of(&req);
        assert_eq!(
            refused.unwrap().body["error"]["reason"],
            "multiple values for single-valued header [X-Opaque-Id]."
        );
    }

    #[test]
    fn h3_error_bodies_are_not_filtered() {
        let req = Request::new("GET", "/?filter_path=x", vec![], None).unwrap();
        let (r, _) = Rendering::of(&req);
        let e = Response::from_error(&EsError::illegal_argument("no"));
        assert_eq!(r.apply(e.clone()).body, e.body);
        let ok = r.apply(Response::new(404, json!({"api_keys": [], "x": 1})));
        assert_eq!(ok.body, json!({"x": 1}));
    }
}
