//! Version profiles: the Elasticsearch releases escache can answer as, and the defaults and
//! behaviours that differ between them (docs/versions.md lists each with its source; rules CA-VP0 to CA-VP6).
//!
//! A profile is chosen when a cluster is built (`Cluster(es_version=...)`, a scenario's
//! `[cluster] es_version`, `escache serve --es-version`); the newest is the default.

use crate::error::EsError;

/// A supported Elasticsearch version. In a scenario file it is its name (`es_version = "8.19"`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub enum EsVersion {
    /// 7.17, the last 7.x line.
    V7_17,
    /// 8.19, the last 8.x line.
    V8_19,
    /// 9.1, the newest line escache follows.
    #[default]
    V9_1,
}

impl EsVersion {
    /// Every supported version, oldest first.
    pub const ALL: [EsVersion; 3] = [EsVersion::V7_17, EsVersion::V8_19, EsVersion::V9_1];

    /// `major.minor`.
    pub fn name(self) -> &'static str {
        match self {
            EsVersion::V7_17 => "7.17",
            EsVersion::V8_19 => "8.19",
            EsVersion::V9_1 => "9.1",
        }
    }

    /// A version by `major.minor` or `major.minor.patch` (`"8.19"`, `"8.19.3"`).
    ///
    /// # Errors
    /// `illegal_argument_exception` `unsupported Elasticsearch version [<v>]: supported versions are
    /// [7.17, 8.19, 9.1]`.
    pub fn parse(s: &str) -> Result<EsVersion, EsError> {
        let mut parts = s.trim().split('.');
        let major_minor = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), patch, None)
                if patch.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())) =>
            {
                format!("{a}.{b}")
            }
            _ => String::new(),
        };
        Self::ALL
            .into_iter()
            .find(|v| v.name() == major_minor)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
                EsError::illegal_argument(format!(
                    "unsupported Elasticsearch version [{s}]: supported versions are [{}]",
                    names.join(", ")
                ))
            })
    }

    /// CA-VP1: `xpack.security.authc.api_key.hashing.algorithm`'s default. PBKDF2 until PR #120997
    /// (9.0) made salted SHA-256 the default (`ApiKeyService.STORED_HASH_ALGO_SETTING`).
    pub(crate) fn api_key_hashing_algorithm_default(self) -> &'static str {
        match self {
            EsVersion::V7_17 | EsVersion::V8_19 => "pbkdf2",
            EsVersion::V9_1 => "ssha256",
        }
    }

    /// CA-VP1: whether `ssha256` is a valid stored API key hash (added by the same PR #120997).
    pub(crate) fn api_key_hashing_allows_ssha256(self) -> bool {
        self >= EsVersion::V9_1
    }

    /// CA-VP2: `xpack.security.authc.api_key.cache.max_keys`'s default: 25000 in every supported
    /// version (it was 10000 before the API key doc cache of 7.10; `ApiKeyService.CACHE_MAX_KEYS_SETTING`).
    pub(crate) fn api_key_cache_max_keys_default(self) -> i32 {
        match self {
            EsVersion::V7_17 | EsVersion::V8_19 | EsVersion::V9_1 => {
                crate::security::settings::API_KEY_CACHE_MAX_KEYS_DEFAULT
            }
        }
    }

    /// CA-VP3: whether `ApiKeyService` registers the `api_key_doc` invalidator (8.x and later; the 7.x
    /// `ApiKeyService` registers only `api_key`, so `api_key_doc` is `No cache named [api_key_doc]`).
    pub(crate) fn registers_api_key_doc_invalidator(self) -> bool {
        self >= EsVersion::V8_19
    }

    /// CA-VP4: the 403 names the user's *effective* roles and the assigned roles that were not found
    /// (PR #89680, 8.5); before, `with roles [<assigned roles>]` (PR #69318, 7.13).
    pub(crate) fn denial_names_effective_roles(self) -> bool {
        self >= EsVersion::V8_19
    }

    /// CA-VP5: the Basic challenge of a 401: `Basic realm="security", charset="UTF-8"` since PR #110906
    /// (8.15, backport PR #111144), without the comma before.
    pub(crate) fn basic_challenge(self) -> &'static str {
        if self >= EsVersion::V8_19 {
            "Basic realm=\"security\", charset=\"UTF-8\""
        } else {
            "Basic realm=\"security\" charset=\"UTF-8\""
        }
    }

    /// CA-VP8: whether the built-in service account `elastic/<service>` exists in this release:
    /// `elastic/fleet-server-remote` appeared in 8.12 (PR #100950) and `elastic/auto-ops` in 8.16
    /// (PR #111316); `elastic/fleet-server` (7.13) and `elastic/kibana` (7.15, PR #76449) are in
    /// every profile.
    pub(crate) fn has_service_account(self, service: &str) -> bool {
        match service {
            "fleet-server-remote" | "auto-ops" => self >= EsVersion::V8_19,
            _ => true,
        }
    }

    /// CA-VP6: what `GET /` reports (`RestMainAction`): the version number, Lucene version and the
    /// minimum wire and index compatibility versions of each line's latest release.
    pub(crate) fn main_info(self) -> MainVersionInfo {
        match self {
            EsVersion::V7_17 => MainVersionInfo {
                number: "7.17.29",
                lucene_version: "8.11.3",
                minimum_wire_compatibility_version: "6.8.0",
                minimum_index_compatibility_version: "6.0.0-beta1",
            },
            EsVersion::V8_19 => MainVersionInfo {
                number: "8.19.0",
                lucene_version: "9.12.2",
                minimum_wire_compatibility_version: "7.17.0",
                minimum_index_compatibility_version: "7.0.0",
            },
            EsVersion::V9_1 => MainVersionInfo {
                number: "9.1.0",
                lucene_version: "10.2.2",
                minimum_wire_compatibility_version: "8.19.0",
                minimum_index_compatibility_version: "8.0.0",
            },
        }
    }
}

impl EsVersion {
    /// CA-VP5: a response as this version sends it: the `Basic` challenge of a 401 (the HTTP header
    /// fields and the error body's `header` objects) in this version's form.
    pub(crate) fn adapt_response(self, mut resp: crate::rest::Response) -> crate::rest::Response {
        let newest = EsVersion::V9_1.basic_challenge();
        let mine = self.basic_challenge();
        if resp.status != 401 || mine == newest {
            return resp;
        }
        for (name, value) in &mut resp.headers {
            if name.eq_ignore_ascii_case("WWW-Authenticate") && value == newest {
                mine.clone_into(value);
            }
        }
        let fix_header = |error: Option<&mut serde_json::Value>| {
            if let Some(list) = error
                .and_then(|e| e.get_mut("header"))
                .and_then(|h| h.get_mut("WWW-Authenticate"))
                .and_then(serde_json::Value::as_array_mut)
            {
                for v in list.iter_mut().filter(|v| v.as_str() == Some(newest)) {
                    *v = serde_json::Value::String(mine.to_string());
                }
            }
        };
        if let Some(error) = resp.body.value_mut().get_mut("error") {
            if let Some(causes) = error
                .get_mut("root_cause")
                .and_then(serde_json::Value::as_array_mut)
            {
                for c in causes {
                    fix_header(Some(c));
                }
            }
            fix_header(Some(error));
        }
        resp
    }
}

/// The version block of `GET /`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MainVersionInfo {
    pub(crate) number: &'static str,
    pub(crate) lucene_version: &'static str,
    pub(crate) minimum_wire_compatibility_version: &'static str,
    pub(crate) minimum_index_compatibility_version: &'static str,
}

impl TryFrom<String> for EsVersion {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        EsVersion::parse(&s).map_err(EsError::into_reason)
    }
}

impl From<EsVersion> for String {
    fn from(v: EsVersion) -> String {
        v.name().to_string()
    }
}

impl std::fmt::Display for EsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_vp0_versions_parse_and_unknown_ones_list_the_supported() {
        assert_eq!(EsVersion::parse("8.19").unwrap(), EsVersion::V8_19);
        assert_eq!(EsVersion::parse("8.19.2").unwrap(), EsVersion::V8_19);
        assert_eq!(EsVersion::parse(" 7.17 ").unwrap(), EsVersion::V7_17);
        assert_eq!(EsVersion::default(), EsVersion::V9_1);
        for bad in ["8.15", "9", "9.1.x", "", "9.1.0.0", "latest"] {
            let e = EsVersion::parse(bad).unwrap_err();
            assert_eq!(
                e.reason,
                format!("unsupported Elasticsearch version [{bad}]: supported versions are [7.17, 8.19, 9.1]")
            );
            assert_eq!(e.status, 400);
        }
    }
}
