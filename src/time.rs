//! Virtual time and Elasticsearch time values.
//!
//! Nothing in escache reads the wall clock: a [`VirtualClock`] is a nanosecond counter that only moves
//! when told to. [`TimeValue::parse`] reads durations exactly as Elasticsearch's
//! `libs/core/src/main/java/org/elasticsearch/core/TimeValue.java` (`parseTimeValue`) does, with its
//! error texts, so a setting that Elasticsearch rejects is rejected here with the same words.

use std::fmt;

/// Nanoseconds on a virtual clock. Relative, like `System.nanoTime()`: only differences mean anything.
pub type Nanos = u64;

pub(crate) const NANOS_PER_MICRO: u64 = 1_000;
pub const NANOS_PER_MILLI: u64 = 1_000_000;
pub const NANOS_PER_SECOND: u64 = 1_000_000_000;
pub const NANOS_PER_MINUTE: u64 = 60 * NANOS_PER_SECOND;
pub(crate) const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MINUTE;
pub(crate) const NANOS_PER_DAY: u64 = 24 * NANOS_PER_HOUR;

/// Virtual time 0 is this instant (2026-01-01T00:00:00Z) on the wall-clock scale Elasticsearch's documents
/// use (`creation_time`, `expiration` in epoch milliseconds). Fixed, so traces repeat byte for byte.
pub(crate) const EPOCH_OFFSET_MILLIS: i64 = 1_767_225_600_000;

/// Epoch milliseconds of a virtual time.
pub fn epoch_millis(now: Nanos) -> i64 {
    EPOCH_OFFSET_MILLIS + (now / NANOS_PER_MILLI) as i64
}

/// A clock that only moves forward, and only when told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VirtualClock {
    now: Nanos,
}

impl VirtualClock {
    pub fn new() -> Self {
        Self { now: 0 }
    }

    pub fn starting_at(now: Nanos) -> Self {
        Self { now }
    }

    /// The current virtual time in nanoseconds.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Moves the clock forward. Saturates instead of wrapping: a clock that wrapped would make every
    /// entry look freshly written.
    pub fn advance(&mut self, by: Nanos) -> Nanos {
        self.now = self.now.saturating_add(by);
        self.now
    }

    /// Moves the clock to `to`; a time in the past is refused (virtual time never goes backwards).
    pub fn advance_to(&mut self, to: Nanos) -> Result<Nanos, TimeError> {
        if to < self.now {
            return Err(TimeError::Backwards { now: self.now, to });
        }
        self.now = to;
        Ok(self.now)
    }
}

/// The unit a [`TimeValue`] was written in (Elasticsearch keeps it for printing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Nanos,
    Micros,
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    pub fn suffix(self) -> &'static str {
        match self {
            TimeUnit::Nanos => "nanos",
            TimeUnit::Micros => "micros",
            TimeUnit::Millis => "ms",
            TimeUnit::Seconds => "s",
            TimeUnit::Minutes => "m",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
        }
    }

    pub fn nanos_per_unit(self) -> u64 {
        match self {
            TimeUnit::Nanos => 1,
            TimeUnit::Micros => NANOS_PER_MICRO,
            TimeUnit::Millis => NANOS_PER_MILLI,
            TimeUnit::Seconds => NANOS_PER_SECOND,
            TimeUnit::Minutes => NANOS_PER_MINUTE,
            TimeUnit::Hours => NANOS_PER_HOUR,
            TimeUnit::Days => NANOS_PER_DAY,
        }
    }
}

/// An Elasticsearch `TimeValue`: a count of some unit. `-1` is the "unset/disabled" sentinel
/// (`TimeValue.MINUS_ONE`), so durations are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeValue {
    pub duration: i64,
    pub unit: TimeUnit,
}

impl TimeValue {
    pub const MINUS_ONE: TimeValue = TimeValue {
        duration: -1,
        unit: TimeUnit::Millis,
    };
    pub const ZERO: TimeValue = TimeValue {
        duration: 0,
        unit: TimeUnit::Millis,
    };

    pub fn new(duration: i64, unit: TimeUnit) -> Self {
        Self { duration, unit }
    }

    pub fn from_nanos(nanos: u64) -> Self {
        Self {
            duration: i64::try_from(nanos).unwrap_or(i64::MAX),
            unit: TimeUnit::Nanos,
        }
    }

    /// The value in nanoseconds, saturating like Java's `TimeUnit.toNanos`.
    pub fn nanos(&self) -> i64 {
        let per = self.unit.nanos_per_unit() as i64;
        self.duration.saturating_mul(per)
    }

    /// Whether this value is strictly positive (Elasticsearch's test for "cache enabled").
    pub(crate) fn is_positive(&self) -> bool {
        self.nanos() > 0
    }

    /// The value as a positive nanosecond count, or `None` for zero and negative values.
    pub(crate) fn positive_nanos(&self) -> Option<Nanos> {
        let n = self.nanos();
        (n > 0).then_some(n as u64)
    }

    /// `TimeValue.parseTimeValue(value, settingName)`.
    ///
    /// Rules (from `TimeValue.java`): the value is lower-cased and trimmed; the suffixes `nanos`,
    /// `micros`, `ms`, `s`, `m`, `h`, `d` are tried in that order, `m` against the *original* text
    /// (case-sensitive, since `M` means months elsewhere); then `-0*1` is `-1` and `0+` is zero; any
    /// other text has a missing unit. The number before the unit is a Java `long`; below `-1` it is a
    /// negative duration; a decimal number is "fractional".
    pub fn parse(value: &str, setting_name: &str) -> Result<TimeValue, TimeError> {
        let normalized = value.to_lowercase();
        let normalized = java_trim(&normalized);
        let unit = if normalized.ends_with("nanos") {
            Some(TimeUnit::Nanos)
        } else if normalized.ends_with("micros") {
            Some(TimeUnit::Micros)
        } else if normalized.ends_with("ms") {
            Some(TimeUnit::Millis)
        } else if normalized.ends_with('s') {
            Some(TimeUnit::Seconds)
        } else if value.ends_with('m') {
            Some(TimeUnit::Minutes)
        } else if normalized.ends_with('h') {
            Some(TimeUnit::Hours)
        } else if normalized.ends_with('d') {
            Some(TimeUnit::Days)
        } else {
            None
        };
        match unit {
            Some(unit) => {
                // `m` was matched on the original text, which may end in `m` while the trimmed,
                // lower-cased text does not; Java's substring would then cut one char off anyway.
                let cut = normalized.len().saturating_sub(unit.suffix().len());
                let number = java_trim(normalized.get(..cut).unwrap_or(""));
                let duration = parse_java_long(number).ok_or_else(|| {
                    if looks_like_java_double(number) {
                        TimeError::Fractional {
                            value: value.to_string(),
                        }
                    } else {
                        TimeError::Unparsable {
                            value: value.to_string(),
                        }
                    }
                })?;
                if duration < -1 {
                    return Err(TimeError::Negative {
                        setting: setting_name.to_string(),
                        value: value.to_string(),
                    });
                }
                Ok(TimeValue { duration, unit })
            }
            None if is_minus_one(normalized) => Ok(TimeValue::MINUS_ONE),
            None if !normalized.is_empty() && normalized.bytes().all(|b| b == b'0') => {
                Ok(TimeValue::ZERO)
            }
            None => Err(TimeError::MissingUnit {
                setting: setting_name.to_string(),
                value: value.to_string(),
            }),
        }
    }

    /// Elasticsearch's `getStringRep()`: the value as written, e.g. `24h`, `-1`, `0s`.
    pub fn string_rep(&self) -> String {
        // `getStringRep` prints any negative duration (only `-1` parses) as the bare number.
        if self.duration < 0 {
            return self.duration.to_string();
        }
        format!("{}{}", self.duration, self.unit.suffix())
    }
}

impl fmt::Display for TimeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.string_rep())
    }
}

/// Java's `String.trim()`: strips every char up to U+0020 at both ends, and nothing else (Rust's
/// `str::trim` strips Unicode white space, which differs both ways: U+0001 vs U+00A0).
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `-0*1`
fn is_minus_one(s: &str) -> bool {
    s.strip_prefix('-')
        .and_then(|rest| rest.strip_suffix('1'))
        .is_some_and(|zeros| zeros.bytes().all(|b| b == b'0'))
}

/// Java's `Long.parseLong`: an optional sign then ASCII digits, within the `long` range.
fn parse_java_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Close enough to Java's `Double.parseDouble` for telling "fractional" from "garbage": an optional
/// sign, digits with at most one point, an optional exponent, an optional `f`/`d` type suffix.
fn looks_like_java_double(s: &str) -> bool {
    let s = s.strip_suffix(['f', 'd']).unwrap_or(s);
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    // A hexadecimal floating literal (`0x1.8p3`): the binary exponent is required.
    if let Some(hex) = s.strip_prefix("0x") {
        return match hex.split_once('p') {
            Some((mantissa, exponent)) => {
                let mut parts = mantissa.splitn(2, '.');
                let int_part = parts.next().unwrap_or("");
                let frac_part = parts.next().unwrap_or("");
                let hex_ok = |p: &str| p.bytes().all(|b| b.is_ascii_hexdigit());
                let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                (!int_part.is_empty() || !frac_part.is_empty())
                    && hex_ok(int_part)
                    && hex_ok(frac_part)
                    && !exponent.is_empty()
                    && exponent.bytes().all(|b| b.is_ascii_digit())
            }
            None => false,
        };
    }
    let (mantissa, exponent) = match s.find('e') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int_part = parts.next().unwrap_or("");
    let frac_part = parts.next().unwrap_or("");
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = (!int_part.is_empty() || !frac_part.is_empty())
        && digits_ok(int_part)
        && digits_ok(frac_part);
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits_ok(e)
        }
    };
    mantissa_ok && exponent_ok
}

/// Errors of time handling, with Elasticsearch's own texts where Elasticsearch has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("failed to parse setting [{setting}] with value [{value}] as a time value: unit is missing or unrecognized")]
    MissingUnit { setting: String, value: String },
    #[error("failed to parse setting [{setting}] with value [{value}] as a time value: negative durations are not supported")]
    Negative { setting: String, value: String },
    #[error("failed to parse [{value}], fractional time values are not supported")]
    Fractional { value: String },
    #[error("failed to parse [{value}]")]
    Unparsable { value: String },
    #[error("virtual time cannot go backwards: now is [{now}ns], asked for [{to}ns]")]
    Backwards { now: Nanos, to: Nanos },
    #[error("[{what}] must be a finite, non-negative number of seconds, got [{got}]")]
    NotSeconds { what: String, got: String },
    #[error("[{what}] must be a non-negative duration, got [{got}]")]
    NegativeDuration { what: String, got: String },
    #[error(
        "[{what}] must be at most {max} seconds (about 292 years), got [{got}]",
        max = MAX_DURATION_NANOS / NANOS_PER_SECOND
    )]
    TooLong { what: String, got: String },
}

/// The longest duration escache takes: Java's `Long.MAX_VALUE` nanoseconds (about 292 years), the most
/// an Elasticsearch `TimeValue` holds in nanoseconds (`TimeValue.nanos()` saturates there).
pub const MAX_DURATION_NANOS: Nanos = i64::MAX as u64;

/// Seconds given as a number (as users write `advance(2.5)`, or `duration = 90` in a scenario) to
/// nanoseconds, for the argument or field `what`: finite, non-negative, at most
/// [`MAX_DURATION_NANOS`].
pub fn duration_from_seconds(seconds: f64, what: &str) -> Result<Nanos, TimeError> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(TimeError::NotSeconds {
            what: what.to_string(),
            got: format!("{seconds:?}"),
        });
    }
    let nanos = (seconds * NANOS_PER_SECOND as f64).round();
    // The comparison is in f64, where MAX_DURATION_NANOS rounds up to 2^63.
    if nanos >= MAX_DURATION_NANOS as f64 {
        return Err(TimeError::TooLong {
            what: what.to_string(),
            got: format!("{seconds:?}"),
        });
    }
    Ok(nanos as u64)
}

/// A whole number of seconds to nanoseconds, with the rules of [`duration_from_seconds`].
pub fn duration_from_whole_seconds(seconds: i128, what: &str) -> Result<Nanos, TimeError> {
    if seconds < 0 {
        return Err(TimeError::NegativeDuration {
            what: what.to_string(),
            got: seconds.to_string(),
        });
    }
    seconds
        .checked_mul(i128::from(NANOS_PER_SECOND))
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| *n <= MAX_DURATION_NANOS)
        .ok_or_else(|| TimeError::TooLong {
            what: what.to_string(),
            got: seconds.to_string(),
        })
}

/// A number of nanoseconds (a `timedelta`'s) as a duration, with the rules of
/// [`duration_from_seconds`].
pub fn duration_from_nanos(nanos: i128, what: &str) -> Result<Nanos, TimeError> {
    if nanos < 0 {
        return Err(TimeError::NegativeDuration {
            what: what.to_string(),
            got: format!("{nanos}ns"),
        });
    }
    u64::try_from(nanos)
        .ok()
        .filter(|n| *n <= MAX_DURATION_NANOS)
        .ok_or_else(|| TimeError::TooLong {
            what: what.to_string(),
            got: format!("{nanos}ns"),
        })
}

/// A duration for advancing a clock: a non-negative Elasticsearch time value (`-1` is refused here,
/// since "advance by minus one" means nothing).
pub fn parse_duration(value: &str, what: &str) -> Result<Nanos, TimeError> {
    let tv = TimeValue::parse(value, what)?;
    let n = tv.nanos();
    if n < 0 {
        return Err(TimeError::Negative {
            setting: what.to_string(),
            value: value.to_string(),
        });
    }
    Ok(n as u64)
}

/// A duration as a user writes it (an argument from Python, a field of a scenario file), before the
/// one set of rules in [`duration`] turns it into nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DurationInput<'a> {
    /// An Elasticsearch time value (`"5m"`, `"100ms"`); `-1` is refused.
    Text(&'a str),
    /// A number of seconds (`2.5`).
    Seconds(f64),
    /// A whole number of seconds, exact beyond 2^53 (a Python `int`).
    WholeSeconds(i128),
    /// A number of nanoseconds (a `datetime.timedelta`'s).
    Nanos(i128),
}

/// The one duration rule: a non-negative duration of at most [`MAX_DURATION_NANOS`], for the argument
/// or field `what` (named in every error).
pub fn duration(input: DurationInput<'_>, what: &str) -> Result<Nanos, TimeError> {
    match input {
        DurationInput::Text(s) => parse_duration(s, what),
        DurationInput::Seconds(secs) => duration_from_seconds(secs, what),
        DurationInput::WholeSeconds(secs) => duration_from_whole_seconds(secs, what),
        DurationInput::Nanos(nanos) => duration_from_nanos(nanos, what),
    }
}

impl TimeValue {
    /// A setting-style time value (a cache's TTL) from user input: text as Elasticsearch parses it
    /// (zero and `-1` included), whole seconds as a count of seconds kept in that unit (so `-1`
    /// seconds stays a negative, disabling value), anything else through [`duration`].
    pub fn from_input(input: DurationInput<'_>, setting: &str) -> Result<TimeValue, TimeError> {
        match input {
            DurationInput::Text(s) => TimeValue::parse(s, setting),
            DurationInput::WholeSeconds(secs) => match i64::try_from(secs) {
                Ok(secs) => Ok(TimeValue::new(secs, TimeUnit::Seconds)),
                Err(_) => duration(input, setting).map(TimeValue::from_nanos),
            },
            other => duration(other, setting).map(TimeValue::from_nanos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &str) -> Result<TimeValue, TimeError> {
        TimeValue::parse(v, "test.setting")
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(p("10nanos").unwrap().nanos(), 10);
        assert_eq!(p("10micros").unwrap().nanos(), 10_000);
        assert_eq!(p("100ms").unwrap().nanos(), 100 * NANOS_PER_MILLI as i64);
        assert_eq!(p("5s").unwrap().nanos(), 5 * NANOS_PER_SECOND as i64);
        assert_eq!(p("5m").unwrap().nanos(), 5 * NANOS_PER_MINUTE as i64);
        assert_eq!(p("24h").unwrap().nanos(), 24 * NANOS_PER_HOUR as i64);
        assert_eq!(p("2d").unwrap().nanos(), 2 * NANOS_PER_DAY as i64);
    }

    #[test]
    fn case_and_whitespace_follow_elasticsearch() {
        assert_eq!(p(" 5S ").unwrap().nanos(), 5 * NANOS_PER_SECOND as i64);
        assert_eq!(p("1H").unwrap().unit, TimeUnit::Hours);
        assert_eq!(p("1MS").unwrap().unit, TimeUnit::Millis);
        // `M` is months elsewhere: minutes are case-sensitive.
        assert!(matches!(p("1M"), Err(TimeError::MissingUnit { .. })));
        assert_eq!(p("5 m").unwrap().nanos(), 5 * NANOS_PER_MINUTE as i64);
    }

    #[test]
    fn minus_one_and_zero_need_no_unit() {
        assert_eq!(p("-1").unwrap(), TimeValue::MINUS_ONE);
        assert_eq!(p("-001").unwrap(), TimeValue::MINUS_ONE);
        assert_eq!(p("0").unwrap(), TimeValue::ZERO);
        assert_eq!(p("000").unwrap(), TimeValue::ZERO);
        assert_eq!(p("-1s").unwrap().nanos(), -(NANOS_PER_SECOND as i64));
        assert!(!p("0s").unwrap().is_positive());
    }

    #[test]
    fn errors_carry_elasticsearch_text() {
        assert_eq!(
            p("10").unwrap_err().to_string(),
            "failed to parse setting [test.setting] with value [10] as a time value: unit is missing or unrecognized"
        );
        assert_eq!(
            p("-2s").unwrap_err().to_string(),
            "failed to parse setting [test.setting] with value [-2s] as a time value: negative durations are not supported"
        );
        assert_eq!(
            p("1.5h").unwrap_err().to_string(),
            "failed to parse [1.5h], fractional time values are not supported"
        );
        assert_eq!(p("abch").unwrap_err().to_string(), "failed to parse [abch]");
        assert_eq!(p("s").unwrap_err().to_string(), "failed to parse [s]");
        assert!(matches!(p(""), Err(TimeError::MissingUnit { .. })));
    }

    /// Found by the `time_value` fuzz target against a transcription of `TimeValue.java`.
    #[test]
    fn java_trim_hex_fractions_and_negative_string_rep() {
        // `String.trim` strips U+0001 but not U+00A0 or U+0085.
        assert_eq!(p("\u{1}5s").unwrap(), TimeValue::new(5, TimeUnit::Seconds));
        assert!(matches!(p("\u{a0}5s"), Err(TimeError::Unparsable { .. })));
        assert!(matches!(p("5s\u{85}"), Err(TimeError::MissingUnit { .. })));
        // `Double.parseDouble` reads hexadecimal floats, so they are "fractional".
        assert!(matches!(p("0x1p3s"), Err(TimeError::Fractional { .. })));
        assert!(matches!(p("0x1s"), Err(TimeError::Unparsable { .. })));
        // Any negative value prints without its unit.
        assert_eq!(p("-1s").unwrap().string_rep(), "-1");
        assert_eq!(p("-1h").unwrap().string_rep(), "-1");
    }

    #[test]
    fn string_rep_round_trips() {
        for v in ["24h", "5m", "100ms", "0s", "-1", "7d", "3nanos", "9micros"] {
            assert_eq!(p(v).unwrap().string_rep(), v);
        }
    }

    #[test]
    fn clock_moves_only_forward() {
        let mut c = VirtualClock::new();
        assert_eq!(c.advance(5), 5);
        assert_eq!(c.advance_to(10), Ok(10));
        assert!(c.advance_to(9).is_err());
        assert_eq!(c.now(), 10);
        c.advance(u64::MAX);
        assert_eq!(c.now(), u64::MAX);
    }

    #[test]
    fn seconds_conversion_rejects_nonsense() {
        assert_eq!(duration_from_seconds(1.5, "s").unwrap(), 1_500_000_000);
        assert!(duration_from_seconds(-1.0, "s").is_err());
        assert!(duration_from_seconds(f64::NAN, "s").is_err());
        assert!(duration_from_seconds(f64::INFINITY, "s").is_err());
        assert!(parse_duration("-1", "advance").is_err());
        assert_eq!(parse_duration("1m", "advance").unwrap(), NANOS_PER_MINUTE);
    }

    #[test]
    fn one_duration_rule_for_every_input() {
        use DurationInput::{Nanos as N, Seconds, Text, WholeSeconds};
        assert_eq!(duration(Text("1m"), "d"), Ok(NANOS_PER_MINUTE));
        assert_eq!(duration(Seconds(0.5), "d"), Ok(NANOS_PER_SECOND / 2));
        assert_eq!(duration(WholeSeconds(90), "d"), Ok(90 * NANOS_PER_SECOND));
        assert_eq!(duration(N(1_500), "d"), Ok(1_500));
        // `-1` means "disabled" to a setting, nothing to a duration.
        assert!(matches!(
            duration(Text("-1"), "d"),
            Err(TimeError::Negative { .. })
        ));
        assert!(matches!(
            duration(WholeSeconds(-1), "d"),
            Err(TimeError::NegativeDuration { .. })
        ));
        assert!(matches!(
            duration(N(-1), "d"),
            Err(TimeError::NegativeDuration { .. })
        ));
        // Long.MAX_VALUE nanoseconds is the most, whatever the input.
        let max = i128::from(MAX_DURATION_NANOS);
        assert_eq!(duration(N(max), "d"), Ok(MAX_DURATION_NANOS));
        assert!(matches!(
            duration(N(max + 1), "d"),
            Err(TimeError::TooLong { .. })
        ));
        let too_long = duration(WholeSeconds(max), "advance").unwrap_err();
        assert!(too_long
            .to_string()
            .starts_with("[advance] must be at most"));
        assert!(matches!(
            duration(Seconds(f64::NAN), "d"),
            Err(TimeError::NotSeconds { .. })
        ));
    }

    #[test]
    fn setting_time_values_from_input_keep_minus_one_and_units() {
        use DurationInput::{Nanos as N, Seconds, Text, WholeSeconds};
        let tv = |i| TimeValue::from_input(i, "ttl");
        assert_eq!(tv(Text("-1")), Ok(TimeValue::MINUS_ONE));
        assert_eq!(tv(Text("0")), Ok(TimeValue::ZERO));
        assert_eq!(
            tv(WholeSeconds(-1)),
            Ok(TimeValue::new(-1, TimeUnit::Seconds))
        );
        assert_eq!(
            tv(WholeSeconds(30)),
            Ok(TimeValue::new(30, TimeUnit::Seconds))
        );
        assert_eq!(tv(Seconds(1.5)).map(|t| t.nanos()), Ok(1_500_000_000));
        assert_eq!(tv(N(7)), Ok(TimeValue::from_nanos(7)));
        assert!(matches!(
            tv(Seconds(-1.0)),
            Err(TimeError::NotSeconds { .. })
        ));
        assert!(matches!(
            tv(WholeSeconds(i128::MAX)),
            Err(TimeError::TooLong { .. })
        ));
    }
}
