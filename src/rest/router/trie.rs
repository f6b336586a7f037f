//! `PathTrie` (`server/src/main/java/org/elasticsearch/common/path/PathTrie.java`): the trie of path
//! segments, its four matching modes and the placeholder decoding, as the module above describes.

use super::params;
use super::routes::RouteId;
use crate::rest::request::Method;
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap};

const WILDCARD: &str = "*";

/// `PathTrie.TrieMatchingMode`, in the order `retrieveAll` tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    ExplicitNodesOnly,
    WildcardRootNodesAllowed,
    WildcardLeafNodesAllowed,
    WildcardNodesAllowed,
}

pub(super) const MODES: [Mode; 4] = [
    Mode::ExplicitNodesOnly,
    Mode::WildcardRootNodesAllowed,
    Mode::WildcardLeafNodesAllowed,
    Mode::WildcardNodesAllowed,
];

/// `None`: one of [`UNIMPLEMENTED_ROUTES`].
pub(super) type MethodHandlers = BTreeMap<Method, Option<RouteId>>;

#[derive(Debug, Default)]
pub(super) struct TrieNode {
    named_wildcard: Option<String>,
    value: Option<MethodHandlers>,
    /// Placeholder children are stored under `*`, as in ES.
    children: HashMap<String, TrieNode>,
}

fn named_wildcard_of(token: &str) -> Option<String> {
    let open = token.find('{')?;
    let close = token.find('}')?;
    Some(token.get(open + 1..close).unwrap_or("").to_owned())
}

fn put(
    params: Option<&mut IndexMap<String, String>>,
    node: &TrieNode,
    token: &str,
) -> Result<(), String> {
    if let (Some(p), Some(name)) = (params, &node.named_wildcard) {
        p.insert(name.clone(), params::decode_component(token)?);
    }
    Ok(())
}

impl TrieNode {
    pub(super) fn insert(
        &mut self,
        path: &[&str],
        index: usize,
        method: Method,
        route: Option<RouteId>,
    ) {
        if index >= path.len() {
            return;
        }
        let token = path[index];
        let wildcard_name = named_wildcard_of(token);
        let key = if wildcard_name.is_some() {
            WILDCARD
        } else {
            token
        };
        let node = self.children.entry(key.to_owned()).or_default();
        if let Some(name) = wildcard_name {
            match &node.named_wildcard {
                Some(existing) if *existing != name => panic!(
                    // ok: the route table is static and conflict-free (tested); this guards edits to it
                    "Trying to use conflicting wildcard names for same path: {existing} and {name}"
                ),
                _ => node.named_wildcard = Some(name),
            }
        }
        if index == path.len() - 1 {
            let handlers = node.value.get_or_insert_with(BTreeMap::new);
            // ok: the route table is static and conflict-free (tested); this guards edits to it
            assert!(
                handlers.insert(method, route).is_none(),
                "Cannot replace existing handler for [{}] for method: {method}",
                path.join("/")
            );
        }
        node.insert(path, index + 1, method, route);
    }

    pub(super) fn retrieve<'a>(
        &'a self,
        path: &[&str],
        index: usize,
        mut params: Option<&mut IndexMap<String, String>>,
        mode: Mode,
    ) -> Result<Option<&'a MethodHandlers>, String> {
        if index >= path.len() {
            return Ok(None);
        }
        let token = path[index];
        let wildcard = self.children.get(WILDCARD);
        let (node, used_wildcard) = match self.children.get(token) {
            None => {
                let allowed = match mode {
                    Mode::WildcardNodesAllowed => true,
                    Mode::WildcardRootNodesAllowed => index == 1,
                    Mode::WildcardLeafNodesAllowed => index + 1 == path.len(),
                    Mode::ExplicitNodesOnly => false,
                };
                match wildcard {
                    Some(w) if allowed => (w, true),
                    _ => return Ok(None),
                }
            }
            Some(n) => {
                let explicit_or_root = matches!(
                    mode,
                    Mode::ExplicitNodesOnly | Mode::WildcardRootNodesAllowed
                );
                match wildcard {
                    Some(w)
                        if index + 1 == path.len() && n.value.is_none() && !explicit_or_root =>
                    {
                        (w, true)
                    }
                    Some(w)
                        if index == 1
                            && n.value.is_none()
                            && mode == Mode::WildcardRootNodesAllowed =>
                    {
                        (w, true)
                    }
                    _ => (n, token == WILDCARD),
                }
            }
        };
        put(params.as_deref_mut(), node, token)?;
        if index == path.len() - 1 {
            return Ok(node.value.as_ref());
        }
        let mut value = node.retrieve(path, index + 1, params.as_deref_mut(), mode)?;
        if value.is_none() && !used_wildcard && mode != Mode::ExplicitNodesOnly {
            if let Some(w) = wildcard {
                put(params.as_deref_mut(), w, token)?;
                value = w.retrieve(path, index + 1, params, mode)?;
            }
        }
        Ok(value)
    }
}

/// Java's `s.split("/")`: trailing empty tokens removed; no separator gives `[s]`.
pub(super) fn java_split_slash(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split('/').collect();
    if parts.len() == 1 {
        return parts;
    }
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}
