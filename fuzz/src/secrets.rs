//! The forms in which a secret must never appear outside the response that hands it out: the secret
//! itself, `id:secret`, and the Base64 (standard and URL-safe, padded or not) of `id:secret` and of
//! the secret.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

/// A secret and its encodings.
#[derive(Debug, Clone)]
pub struct Secret {
    pub label: String,
    pub forms: Vec<String>,
}

impl Secret {
    /// `principal` is what precedes the secret in `principal:secret` (an API key id, a user name, a
    /// service token's qualified name).
    pub fn new(label: &str, principal: &str, secret: &str) -> Secret {
        let pair = format!("{principal}:{secret}");
        let mut forms = vec![secret.to_owned(), pair.clone()];
        for raw in [pair.as_bytes(), secret.as_bytes()] {
            for e in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                forms.push(e.encode(raw));
            }
        }
        forms.sort();
        forms.dedup();
        Secret {
            label: label.to_owned(),
            forms,
        }
    }

    /// The first form found in `haystack` that is not in `allowed` (what the client itself sent).
    pub fn leaked_in(&self, haystack: &[u8], allowed: &[u8]) -> Option<&str> {
        self.forms
            .iter()
            .map(String::as_str)
            .find(|f| contains(haystack, f.as_bytes()) && !contains(allowed, f.as_bytes()))
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}
