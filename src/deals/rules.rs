//! Who a deal's caller is, and what each side may do in which state.

use super::model::{DealAction, DealRow, DealStatus, Side};
use super::repo::DealScope;
use crate::http::error::ApiError;
use crate::organizations::actor::{Actor, Owner};

/// Where an [`Actor`] stands in a deal.
pub trait DealAccess {
    /// The side this person is on, if any; moderators who are not a party read only.
    fn side(&self, deal: &DealRow) -> Option<Side>;
    /// The deals this person may see.
    fn deal_scope(&self) -> DealScope;
}

impl DealAccess for Actor {
    fn side(&self, deal: &DealRow) -> Option<Side> {
        if self.owns(Owner::new(
            deal.requester_org_id,
            Some(deal.requester_user_id),
        )) {
            Some(Side::Requester)
        } else if self.owns(owner_of(deal)) {
            Some(Side::Owner)
        } else if self.owns(Owner::new(deal.broker_org_id, deal.broker_user_id)) {
            Some(Side::Broker)
        } else if self.answers_for(owner_of(deal)) {
            // Profiles imported from the Hanoi Initiative Network have no account of their
            // own: the Department's moderators answer for them.
            Some(Side::Owner)
        } else if self.is_moderator() {
            Some(Side::Moderator)
        } else {
            None
        }
    }

    fn deal_scope(&self) -> DealScope {
        DealScope {
            all: self.is_moderator(),
            user_id: self.user_id().unwrap_or_default(),
            org_ids: self.org_ids(),
        }
    }
}

/// Who answers for the listing a deal is about.
pub fn owner_of(deal: &DealRow) -> Owner {
    Owner::new(deal.owner_org_id, deal.owner_user_id)
}

/// True for a deal about a listing no account owns (an imported expert profile): the
/// exchange's moderators answer for it and pass the request on.
pub fn managed_by_exchange(deal: &DealRow) -> bool {
    owner_of(deal).is_nobody()
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
