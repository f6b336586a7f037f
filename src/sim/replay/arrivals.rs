//! The second arrival source (`traffic.rs::arrival`): a replay workload's requests come from its
//! plan's records, in order, each scheduling the next (CA-RP4); its credentials are created from
//! the plan's distinct real ones (CA-RP2).

use super::{ReplayCredential, ReplayCredentialKind};
use crate::events::NodeIndex;
use crate::security::api_key::{ApiKeyCredentials, ApiKeyType};
use crate::security::hashing::Secret;
use crate::security::service_account::{ServiceAccountId, ServiceAccountToken};
use crate::sim::simulation::{Ev, Simulation};
use crate::sim::traffic::{Credential, Presented, TokenSourceSpec, WorkloadKind};
use crate::time::Nanos;
use std::collections::HashMap;

/// The secret a credential that never authenticated presents: any value does, as its id or token
/// does not exist.
const NO_SECRET: &str = "replay-unknown-credential";

/// How a known real credential is created: the workload kind it is created as, and its name (the
/// API key's name is its real id, so `GET /_security/api_key?name=<real id>` finds it; a token keeps
/// its real name). `None` for a credential that never authenticated.
pub(in crate::sim) fn creation(
    c: &ReplayCredential,
    nodes: usize,
) -> Option<(WorkloadKind, String)> {
    match c.kind {
        ReplayCredentialKind::ApiKey => Some((
            WorkloadKind::ApiKey {
                creator_node: 0,
                expiration: None,
            },
            c.real.clone(),
        )),
        ReplayCredentialKind::ServiceToken { file } => {
            let (account, name) = c.real.rsplit_once('/')?;
            Some((
                WorkloadKind::ServiceToken {
                    account: account.to_string(),
                    source: if file {
                        TokenSourceSpec::File {
                            nodes: (0..nodes as NodeIndex).collect(),
                        }
                    } else {
                        TokenSourceSpec::Index
                    },
                },
                name.to_string(),
            ))
        }
        ReplayCredentialKind::UnknownApiKey | ReplayCredentialKind::UnknownServiceToken => None,
    }
}

/// A credential presented but never created: an API key id or a token the cluster does not hold.
pub(in crate::sim) fn never_created(c: &ReplayCredential) -> Credential {
    let token = (c.kind == ReplayCredentialKind::UnknownServiceToken)
        .then(|| c.real.rsplit_once('/'))
        .flatten()
        .and_then(|(account, name)| {
            Some(ServiceAccountToken {
                account: ServiceAccountId::from_principal(account).ok()?,
                name: name.to_string(),
                secret: Secret::new(NO_SECRET.to_string()),
            })
        });
    let presented = if let Some(t) = token {
        Presented::Token {
            right: t.clone(),
            wrong: t,
        }
    } else {
        {
            let creds = ApiKeyCredentials {
                id: c.real.as_str().into(),
                secret: Secret::new(NO_SECRET.to_string()),
                expected_type: ApiKeyType::Rest,
            };
            Presented::ApiKey {
                right: creds.clone(),
                wrong: creds,
            }
        }
    };
    Credential {
        id: c.real.clone(),
        presented,
        created: false,
        invalid_since: None,
        expires_at: None,
        removed_from_file: HashMap::default(),
    }
}

impl Simulation {
    /// The time of a replay workload's first request after its start (`None`: not a replay, or
    /// an empty one).
    pub(in crate::sim) fn replay_first(&self, w: usize) -> Option<Nanos> {
        match &self.workloads[w].spec.kind {
            WorkloadKind::Replay(plan) => plan.records.first().map(|r| r.at),
            _ => None,
        }
    }

    /// The next replayed request of workload `w` at `now`: schedules the one after it and returns
    /// (credential, node, wrong secret). `None` once the log is exhausted or for another workload.
    pub(in crate::sim) fn replay_arrival(
        &mut self,
        now: Nanos,
        w: usize,
    ) -> Option<(usize, NodeIndex, bool)> {
        let WorkloadKind::Replay(plan) = &self.workloads[w].spec.kind else {
            return None;
        };
        let k = self.workloads[w].replay_next;
        let rec = *plan.records.get(k)?;
        let gap = plan.records.get(k + 1).map(|n| n.at - rec.at);
        self.workloads[w].replay_next = k + 1;
        if let Some(gap) = gap {
            self.push(now + gap, Ev::Arrival { workload: w });
        }
        Some((rec.credential as usize, rec.node, rec.wrong))
    }
}
