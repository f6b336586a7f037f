//! Service account token routes (service-token-cache.md sections 6-7).

use super::{Request, Response, RouteId};
use crate::cluster::{Authentication, Cluster};
use crate::error::EsError;
use crate::events::NodeIndex;
use crate::security::authz::Subject;

pub fn handle(
    _cluster: &mut Cluster,
    _node: NodeIndex,
    route: RouteId,
    _req: &Request,
    _auth: &Authentication,
    _subject: &Subject,
) -> Result<Response, EsError> {
    Err(EsError::illegal_state(format!(
        "[{}] is not available yet",
        route.handler_name()
    )))
}
