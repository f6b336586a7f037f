//! Instants as replayed logs write them: ISO-8601 date-times (Elasticsearch's audit layout
//! `yyyy-MM-dd'T'HH:mm:ss,SSSZ`, as in `2026-01-01T00:00:00,125+0000`; RFC 3339's `.125Z` and
//! `+01:00`; no zone: UTC) or a number of seconds. Both become nanoseconds since the Unix epoch, so
//! that a log mixing them still orders its events (CA-RP4).

/// Nanoseconds since 1970-01-01T00:00:00Z of an ISO-8601 date-time; `None` when it is not one.
pub(crate) fn parse_iso8601(s: &str) -> Option<i64> {
    let bytes = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = bytes.get(from..from + len)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let sep = |at: usize, c: &[u8]| bytes.get(at).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"T ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut pos = 19;
    let mut nanos = 0i64;
    if sep(pos, b".,") {
        pos += 1;
        let digits = bytes[pos..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(pos, digits)? * 10i64.pow(9 - digits as u32);
        pos += digits;
    }
    let offset_minutes = match &bytes[pos..] {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, mins) = match rest.len() {
                2 => (num(pos + 1, 2)?, 0),
                4 => (num(pos + 1, 2)?, num(pos + 3, 2)?),
                5 if rest[2] == b':' => (num(pos + 1, 2)?, num(pos + 4, 2)?),
                _ => return None,
            };
            if hours > 23 || mins > 59 {
                return None;
            }
            let offset = hours * 60 + mins;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Nanoseconds of a number of seconds (since the epoch or since any origin: only differences count).
pub(crate) fn from_seconds(secs: f64) -> Option<i64> {
    let n = (secs * 1e9).round();
    (secs.is_finite() && n.abs() < 9.2e18).then_some(n as i64)
}

/// An instant written as ISO-8601 or as a number of seconds.
pub(crate) fn parse_instant(s: &str) -> Option<i64> {
    let t = s.trim();
    parse_iso8601(t).or_else(|| t.parse::<f64>().ok().and_then(from_seconds))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elasticsearch_audit_layout_and_rfc3339_agree() {
        // 2026-01-01 is 20,454 days after 1970-01-01 (56 years, 14 of them leap: 1972..=2024).
        let midnight = 20_454 * 86_400 * 1_000_000_000i64;
        assert_eq!(
            parse_iso8601("2026-01-01T00:00:00,125+0000"),
            Some(midnight + 125_000_000)
        );
        assert_eq!(
            parse_iso8601("2026-01-01T00:00:00.125Z"),
            Some(midnight + 125_000_000)
        );
        assert_eq!(parse_iso8601("2026-01-01T01:00:00+01:00"), Some(midnight));
        assert_eq!(parse_iso8601("2025-12-31T23:00:00-0100"), Some(midnight));
        assert_eq!(parse_iso8601("2026-01-01 00:00:00"), Some(midnight));
        assert_eq!(parse_instant("1.5"), Some(1_500_000_000));
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-01-01",
            "yesterday",
            "2026-01-01T00:00:00+1",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
        assert_eq!(
            parse_iso8601("2024-02-29T00:00:00Z").map(|n| n % 86_400_000_000_000),
            Some(0)
        );
    }
}
