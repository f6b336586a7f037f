//! Reading JSON values the way Elasticsearch's x-content parsers do, with their messages
//! (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/xcontent/XContentUtils.java`,
//! `server/src/main/java/org/elasticsearch/common/ValidationException.java`).

use crate::error::{EsError, ExceptionType};
use serde_json::Value;

/// The x-content token name of a JSON value as it starts (`VALUE_STRING`, `START_ARRAY`, ...).
pub(crate) fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// `XContentUtils.readStringArray(parser, allowNull)`. The field name inside an array is what
/// Jackson reports there: `null`.
pub(super) fn read_string_array(
    field: &str,
    v: &Value,
    allow_null: bool,
) -> Result<Option<Vec<String>>, EsError> {
    match v {
        Value::Null if allow_null => Ok(None),
        Value::Null => Err(EsError::parse(format!(
            "could not parse [{field}] field. expected a string array but found null value instead"
        ))),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(EsError::parse(format!(
                    "could not parse [null] field. expected a string array but one of the value in the array is [{}]",
                    token_name(other)
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(EsError::parse(format!(
            "could not parse [{field}] field. expected a string array but found [{}] value instead",
            token_name(other)
        ))),
    }
}

/// `RoleDescriptor.readStringArray`: the same, re-wrapped as `failed to parse role [<name>]`.
pub(crate) fn role_string_array(
    role: &str,
    field: &str,
    v: &Value,
    allow_null: bool,
) -> Result<Option<Vec<String>>, EsError> {
    read_string_array(field, v, allow_null)
        .map_err(|e| EsError::parse(format!("failed to parse role [{role}]")).with_cause(e))
}

/// `ValidationException` (an `IllegalArgumentException`): type `validation_exception`, 400.
pub(crate) fn validation_exception<S: AsRef<str>>(errors: &[S]) -> EsError {
    let mut reason = String::from("Validation Failed: ");
    for (i, e) in errors.iter().enumerate() {
        reason.push_str(&format!("{}: {};", i + 1, e.as_ref()));
    }
    EsError::new(ExceptionType::Validation, reason, 400)
}
