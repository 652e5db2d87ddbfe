//! Who a deal's caller is, and what each side may do in which state.

use super::model::{DealAction, DealRow, DealStatus, Side};
use super::repo::DealScope;
use crate::accounts::model::Caller;
use crate::catalog::repo as listings;
use crate::db::DbConn;
use crate::http::error::ApiError;

/// Who is acting or looking.
#[derive(Debug, Clone)]
pub struct Who {
    pub user_id: i64,
    pub moderator: bool,
    pub org_ids: Vec<i64>,
}

impl Who {
    pub fn load(conn: &mut DbConn, caller: &Caller) -> Result<Self, ApiError> {
        Ok(Self {
            user_id: caller.user_id,
            moderator: caller.role.can_moderate(),
            org_ids: listings::org_ids_of(conn, caller.user_id)?,
        })
    }

    pub(super) fn in_org(&self, org: Option<i64>) -> bool {
        org.is_some_and(|o| self.org_ids.contains(&o))
    }

    /// The side this person is on, if any; moderators who are not a party read only.
    pub fn side(&self, deal: &DealRow) -> Option<Side> {
        if deal.requester_user_id == self.user_id || self.in_org(deal.requester_org_id) {
            Some(Side::Requester)
        } else if deal.owner_user_id == Some(self.user_id) || self.in_org(deal.owner_org_id) {
            Some(Side::Owner)
        } else if deal.broker_user_id == Some(self.user_id) || self.in_org(deal.broker_org_id) {
            Some(Side::Broker)
        } else if self.moderator && managed_by_exchange(deal) {
            // Profiles imported from the Hanoi Initiative Network have no account of their
            // own: the Department's moderators answer for them.
            Some(Side::Owner)
        } else if self.moderator {
            Some(Side::Moderator)
        } else {
            None
        }
    }

    pub(super) fn scope(&self) -> DealScope {
        DealScope {
            all: self.moderator,
            user_id: self.user_id,
            org_ids: self.org_ids.clone(),
        }
    }
}

/// True for a deal about a listing no account owns (an imported expert profile): the
/// exchange's moderators answer for it and pass the request on.
pub fn managed_by_exchange(deal: &DealRow) -> bool {
    deal.owner_org_id.is_none() && deal.owner_user_id.is_none()
}

/// What `side` may do to a deal in `status`.
pub fn allowed(status: DealStatus, side: Side) -> Vec<DealAction> {
    use DealAction::*;
    match (side, status) {
        (Side::Owner, DealStatus::Requested) => vec![Accept, Decline, Message],
        (Side::Requester, DealStatus::Requested) => vec![Withdraw, Message],
        (Side::Owner, DealStatus::Accepted | DealStatus::Negotiating) => {
            vec![Offer, Message, Close]
        }
        (Side::Requester, DealStatus::Accepted | DealStatus::Negotiating) => {
            vec![Offer, Message, Close, Withdraw]
        }
        (Side::Broker, s) if s.is_open() => vec![Message],
        _ => Vec::new(),
    }
}

/// Whether `side` could ever take `action` (in some state).
pub(super) fn ever_allowed(side: Side, action: DealAction) -> bool {
    DealStatus::ALL
        .iter()
        .any(|s| allowed(*s, side).contains(&action))
}

pub(super) fn who_may(action: DealAction) -> &'static str {
    match action {
        DealAction::Accept | DealAction::Decline => "only the side that was asked",
        DealAction::Withdraw => "only the side that asked",
        DealAction::Close | DealAction::Offer => "only the two parties",
        DealAction::Message => "only the parties and the broker",
    }
}

/// Refuses `action` unless `side` may take it now: 403 for the wrong side, 409 naming
/// the allowed actions for the wrong state.
pub(super) fn check(deal: &DealRow, side: Side, action: DealAction) -> Result<(), ApiError> {
    let status = deal.status();
    if side == Side::Moderator {
        return Err(ApiError::forbidden(
            "moderators can read deals but not act in them",
        ));
    }
    if !ever_allowed(side, action) {
        return Err(ApiError::forbidden(format!(
            "{} may {} this deal",
            who_may(action),
            action.as_str()
        )));
    }
    let now = allowed(status, side);
    if now.contains(&action) {
        return Ok(());
    }
    Err(ApiError::InvalidTransition {
        detail: format!(
            "a deal that is {} does not allow `{}`",
            status.as_str(),
            action.as_str()
        ),
        current: status.as_str().into(),
        allowed: now.iter().map(|a| a.as_str().to_owned()).collect(),
    })
}

pub(super) fn deal_not_found() -> ApiError {
    ApiError::NotFound {
        code: "deal_not_found",
        detail: "no such deal".into(),
    }
}
