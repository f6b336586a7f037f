//! The fixed-length encodings the hashers read and compare: Java's lenient Base64 decoder, char
//! offsets into `char[]`-indexed hashes, constant-time comparison.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq;

/// Standard-alphabet decoder that accepts what `java.util.Base64.getDecoder()` accepts: padding
/// optional, non-zero trailing bits ignored.
pub(super) const JAVA_DECODER: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Byte offset of char number `n` of `s` (`s.len()` for `n` = the char count), or `None` past
/// the end. Elasticsearch indexes its `char[]` hashes by char.
pub(super) fn char_offset(s: &str, n: usize) -> Option<usize> {
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(n)
}

pub(super) fn ct_eq_str(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
