//! User and role name rules
//! (`x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/support/Validation.java`).

use super::is_reserved_role;

const MAX_NAME_LENGTH: usize = 1024;
pub(super) const MAX_DESCRIPTION_LENGTH: usize = 1000;

/// `Validation.isValidUserOrRoleName`: 1..=1024 printable Basic Latin chars, no leading or
/// trailing space.
fn is_valid_user_or_role_name(name: &str) -> bool {
    let len = name.encode_utf16().count();
    (1..=MAX_NAME_LENGTH).contains(&len)
        && name.chars().all(|c| (' '..='~').contains(&c))
        && !name.starts_with(' ')
        && !name.ends_with(' ')
}

fn invalid_name_message(kind: &str) -> String {
    format!(
        "{kind} names must be at least 1 and no more than {MAX_NAME_LENGTH} characters. They can contain \
         alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic \
         Latin (ASCII) block. Leading or trailing whitespace is not allowed."
    )
}

/// `Validation.Roles.validateRoleName(name, allowReserved)`.
pub(crate) fn validate_role_name(name: &str, allow_reserved: bool) -> Option<String> {
    if !is_valid_user_or_role_name(name) {
        return Some(invalid_name_message("Role"));
    }
    if !allow_reserved && is_reserved_role(name) {
        return Some(format!("Role [{name}] is reserved and may not be used."));
    }
    None
}

/// `Validation.Users.validateUsername(name, allowReserved=true, ..)`: the name shape only.
pub(crate) fn validate_username(name: &str) -> Option<String> {
    if !is_valid_user_or_role_name(name) {
        return Some(invalid_name_message("User"));
    }
    None
}
