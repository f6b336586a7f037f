//! Elasticsearch's `TimeValue.parseTimeValue(String, String)` and `getStringRep()`, transcribed line by
//! line from `libs/core/src/main/java/org/elasticsearch/core/TimeValue.java`, with Java's `String.trim`
//! (strips every char `<= U+0020`, nothing else), `Long.parseLong` and `Double.parseDouble` grammars.
//! `toLowerCase(Locale.ROOT)` is taken to be Rust's `to_lowercase` (both apply Unicode's
//! full lower-case mapping).

use escache::time::TimeUnit;

/// What `parseTimeValue` does with a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaParse {
    Ok(i64, TimeUnit),
    /// `unit is missing or unrecognized`
    MissingUnit,
    /// `negative durations are not supported`
    Negative,
    /// `fractional time values are not supported`
    Fractional,
    /// `failed to parse [..]`
    Unparsable,
}

/// `String.trim()`.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `TimeValue.parseTimeValue(sValue, settingName)`.
pub fn parse_time_value(s_value: &str) -> JavaParse {
    let lower = s_value.to_lowercase();
    let normalized = java_trim(&lower);
    let unit = if normalized.ends_with("nanos") {
        Some(("nanos", TimeUnit::Nanos))
    } else if normalized.ends_with("micros") {
        Some(("micros", TimeUnit::Micros))
    } else if normalized.ends_with("ms") {
        Some(("ms", TimeUnit::Millis))
    } else if normalized.ends_with('s') {
        Some(("s", TimeUnit::Seconds))
    } else if s_value.ends_with('m') {
        Some(("m", TimeUnit::Minutes))
    } else if normalized.ends_with('h') {
        Some(("h", TimeUnit::Hours))
    } else if normalized.ends_with('d') {
        Some(("d", TimeUnit::Days))
    } else {
        None
    };
    match unit {
        Some((suffix, unit)) => match parse(normalized, suffix) {
            Ok(v) => JavaParse::Ok(v, unit),
            Err(e) => e,
        },
        None if is_minus_one(normalized) => JavaParse::Ok(-1, TimeUnit::Millis),
        None if !normalized.is_empty() && normalized.bytes().all(|b| b == b'0') => {
            JavaParse::Ok(0, TimeUnit::Millis)
        }
        None => JavaParse::MissingUnit,
    }
}

/// `-0*1`
fn is_minus_one(s: &str) -> bool {
    s.strip_prefix('-')
        .and_then(|r| r.strip_suffix('1'))
        .is_some_and(|z| z.bytes().all(|b| b == b'0'))
}

/// `TimeValue.parse(initialInput, normalized, suffix, settingName)`.
fn parse(normalized: &str, suffix: &str) -> Result<i64, JavaParse> {
    // `normalized` ends with `suffix` here, except after the case-sensitive `m` test, where Java's
    // `substring` cuts one char all the same (never a surrogate half: the original ends with `m`).
    let cut = normalized.len() - suffix.len().min(normalized.len());
    let s = java_trim(normalized.get(..cut).unwrap_or(""));
    match java_parse_long(s) {
        Some(v) if v < -1 => Err(JavaParse::Negative),
        Some(v) => Ok(v),
        None if java_parse_double_ok(s) => Err(JavaParse::Fractional),
        None => Err(JavaParse::Unparsable),
    }
}

/// `Long.parseLong(s)` for ASCII digits (the caller sets aside other Unicode decimal digits, which
/// Java's `Character.digit` also takes).
pub fn java_parse_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Whether `Double.parseDouble(s)` returns (the `FloatingDecimal.readJavaFormatString` grammar):
/// Java-trimmed, an optional sign, then `NaN`, `Infinity`, a decimal or a hexadecimal floating
/// literal, with an optional `f`/`F`/`d`/`D` suffix after a number.
pub fn java_parse_double_ok(s: &str) -> bool {
    let s = java_trim(s);
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "NaN" || s == "Infinity" {
        return true;
    }
    let s = s.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(s);
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        let Some(p) = hex.find(['p', 'P']) else {
            return false;
        };
        return mantissa_ok(&hex[..p], |b| b.is_ascii_hexdigit()) && exponent_ok(&hex[p + 1..]);
    }
    match s.find(['e', 'E']) {
        Some(i) => mantissa_ok(&s[..i], |b| b.is_ascii_digit()) && exponent_ok(&s[i + 1..]),
        None => mantissa_ok(s, |b| b.is_ascii_digit()),
    }
}

fn mantissa_ok(m: &str, digit: impl Fn(u8) -> bool) -> bool {
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    (!int.is_empty() || !frac.is_empty()) && int.bytes().all(&digit) && frac.bytes().all(&digit)
}

fn exponent_ok(e: &str) -> bool {
    let e = e.strip_prefix(['+', '-']).unwrap_or(e);
    !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
}

/// `getStringRep()`: a negative duration prints as the bare number, whatever its unit.
pub fn string_rep(duration: i64, unit: TimeUnit) -> String {
    if duration < 0 {
        return duration.to_string();
    }
    format!("{duration}{}", unit.suffix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_java_source() {
        assert_eq!(
            parse_time_value(" 5s "),
            JavaParse::Ok(5, TimeUnit::Seconds)
        );
        assert_eq!(parse_time_value("5M"), JavaParse::MissingUnit);
        assert_eq!(parse_time_value("-01"), JavaParse::Ok(-1, TimeUnit::Millis));
        assert_eq!(parse_time_value("1.5h"), JavaParse::Fractional);
        assert_eq!(parse_time_value("0x1p3s"), JavaParse::Fractional);
        assert_eq!(parse_time_value("-2d"), JavaParse::Negative);
        assert_eq!(
            parse_time_value("\u{1}5s"),
            JavaParse::Ok(5, TimeUnit::Seconds)
        );
        assert_eq!(parse_time_value("\u{a0}5s"), JavaParse::Unparsable);
        assert_eq!(string_rep(-1, TimeUnit::Seconds), "-1");
    }
}
