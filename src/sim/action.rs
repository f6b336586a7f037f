//! The actions a scenario schedules (REST calls, credential changes, faults) and their credential-free
//! descriptions for reports and errors.

use crate::events::NodeIndex;
use crate::security::index::IndexHealth;

/// Which credentials an action targets.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// By index in the workload's population.
    Indices(Vec<usize>),
    /// `n` drawn at random (distinct, deterministic).
    Random(usize),
    /// The first `n` (the most popular under Zipf).
    Top(usize),
    All,
}

/// The `Authorization` header of a REST action. It carries credentials, so it shows (`Debug`,
/// `Display`) as its scheme only: `Basic <redacted>`; a value without a known scheme shows as
/// `<redacted>` (its first word could be the secret itself).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationHeader(String);

impl AuthorizationHeader {
    pub fn new(value: impl Into<String>) -> Self {
        AuthorizationHeader(value.into())
    }

    /// The header value, to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme, when it is one Elasticsearch knows (`Basic`, `Bearer`, `ApiKey`).
    pub(crate) fn scheme(&self) -> Option<&'static str> {
        let first = self.0.split(' ').next().unwrap_or("");
        ["Basic", "Bearer", "ApiKey"]
            .into_iter()
            .find(|s| s.eq_ignore_ascii_case(first))
    }
}

impl std::fmt::Display for AuthorizationHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scheme() {
            Some(s) => write!(f, "{s} <redacted>"),
            None => f.write_str("<redacted>"),
        }
    }
}

impl std::fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A scheduled action or fault.
#[derive(Clone, PartialEq)]
pub enum Action {
    /// Any REST request, with the given `Authorization` header.
    Rest {
        method: String,
        path: String,
        body: Option<String>,
        node: Option<NodeIndex>,
        authorization: Option<AuthorizationHeader>,
    },
    /// `DELETE /_security/api_key` for some of a workload's keys, coordinated by `node`.
    InvalidateApiKeys {
        workload: usize,
        selection: Selection,
        node: NodeIndex,
    },
    /// Delete some of a workload's index tokens.
    DeleteServiceTokens {
        workload: usize,
        selection: Selection,
        node: NodeIndex,
    },
    /// Remove some of a file-token workload's tokens from the files of these nodes.
    RemoveFileTokens {
        workload: usize,
        selection: Selection,
        nodes: Vec<NodeIndex>,
    },
    /// Write a `service_tokens` file on these nodes.
    SetServiceTokensFile {
        nodes: Vec<NodeIndex>,
        content: Vec<u8>,
    },
    /// A clear-cache request (`ClearSecurityCacheRequest`) with a cache name and keys (empty: all).
    ClearCache {
        cache: String,
        keys: Vec<String>,
        node: NodeIndex,
    },
    StopNode(NodeIndex),
    StartNode(NodeIndex),
    Partition(NodeIndex),
    Heal(NodeIndex),
    /// Drop the next clear-cache broadcast to these nodes.
    DropClearCache(Vec<NodeIndex>),
    IndexHealth(IndexHealth),
    IndexDelete,
    IndexClose,
    IndexOpen,
    IndexRecreate,
    IndexUpToDate(bool),
}

impl Action {
    /// The action's name, as scenarios and `Simulation.schedule` spell it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Action::Rest { .. } => "rest",
            Action::InvalidateApiKeys { .. } => "invalidate_api_keys",
            Action::DeleteServiceTokens { .. } => "delete_service_tokens",
            Action::RemoveFileTokens { .. } => "remove_file_tokens",
            Action::SetServiceTokensFile { .. } => "set_service_tokens_file",
            Action::ClearCache { .. } => "clear_cache",
            Action::StopNode(_) => "stop_node",
            Action::StartNode(_) => "start_node",
            Action::Partition(_) => "partition",
            Action::Heal(_) => "heal",
            Action::DropClearCache(_) => "drop_clear_cache",
            Action::IndexHealth(_) => "index_health",
            Action::IndexDelete => "index_delete",
            Action::IndexClose => "index_close",
            Action::IndexOpen => "index_open",
            Action::IndexRecreate => "index_recreate",
            Action::IndexUpToDate(_) => "index_up_to_date",
        }
    }

    /// A readable description for reports and errors: the name and the parameters, nodes and
    /// workloads by name. It never carries a credential: a REST action shows its method, path, node
    /// and the scheme of its `Authorization` header, not the header's credentials nor its body (which
    /// may hold a password); a service tokens file shows its size, not its lines.
    pub fn describe(
        &self,
        node: &dyn Fn(NodeIndex) -> String,
        workload: &dyn Fn(usize) -> String,
    ) -> String {
        let nodes = |ns: &[NodeIndex]| ns.iter().map(|n| node(*n)).collect::<Vec<_>>().join(", ");
        let selection = |s: &Selection| match s {
            Selection::Indices(v) => format!(
                "indices [{}]",
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Selection::Random(n) => format!("random {n}"),
            Selection::Top(n) => format!("top {n}"),
            Selection::All => "all".to_string(),
        };
        let name = self.name();
        match self {
            Action::Rest {
                method,
                path,
                body,
                node: n,
                authorization,
            } => {
                let mut s = format!("{name} {method} {path}");
                if let Some(n) = n {
                    s.push_str(&format!(" on {}", node(*n)));
                }
                if let Some(a) = authorization {
                    s.push_str(&format!(" (Authorization: {a})"));
                }
                if let Some(b) = body {
                    s.push_str(&format!(" with a {}-byte body", b.len()));
                }
                s
            }
            Action::InvalidateApiKeys {
                workload: w,
                selection: sel,
                node: n,
            }
            | Action::DeleteServiceTokens {
                workload: w,
                selection: sel,
                node: n,
            } => format!(
                "{name} of workload [{}] ({}) on {}",
                workload(*w),
                selection(sel),
                node(*n)
            ),
            Action::RemoveFileTokens {
                workload: w,
                selection: sel,
                nodes: ns,
            } => format!(
                "{name} of workload [{}] ({}) on {}",
                workload(*w),
                selection(sel),
                nodes(ns)
            ),
            Action::SetServiceTokensFile { nodes: ns, content } => {
                format!("{name} ({} bytes) on {}", content.len(), nodes(ns))
            }
            Action::ClearCache {
                cache,
                keys,
                node: n,
            } => {
                let keys = if keys.is_empty() {
                    "all keys".to_string()
                } else {
                    format!("keys [{}]", keys.join(", "))
                };
                format!("{name} [{cache}] ({keys}) on {}", node(*n))
            }
            Action::StopNode(n) | Action::StartNode(n) | Action::Partition(n) | Action::Heal(n) => {
                format!("{name} {}", node(*n))
            }
            Action::DropClearCache(ns) => format!("{name} to {}", nodes(ns)),
            Action::IndexHealth(h) => format!("{name} {}", h.as_str()),
            Action::IndexUpToDate(b) => format!("{name} {b}"),
            Action::IndexDelete
            | Action::IndexClose
            | Action::IndexOpen
            | Action::IndexRecreate => name.to_string(),
        }
    }
}

/// Nodes and workloads by index; the same credential-free form as [`Action::describe`].
impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(&|n| format!("node #{n}"), &|w| format!("#{w}")))
    }
}
