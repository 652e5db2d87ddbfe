//! The one way a deal action runs: lock the deal, find the caller's side, check the action
//! against the state, apply the change (bumping the version), record the step in the
//! timeline, and tell the other sides through the outbox — in that order, in one
//! transaction, so a racing action meets 409 and a notification is never lost or sent for
//! a step that did not happen.
//!
//! Every locked action goes through [`act`] and [`Turn::take`]; opening a deal (`start`,
//! there is no deal to lock yet) and the sweep (no caller) use [`record`] and `tell` alike.

use serde_json::Value;

use super::model::{DealAction, DealRow, DealStatus, EventKind, NewEvent, Side};
use super::notify::{deal_ctx, tell};
use super::repo::{self, DealChange};
use super::rules::{check, deal_not_found, DealAccess};
use super::views::{listing_of, view, DealView};
use crate::accounts::model::{Caller, Locale};
use crate::catalog::model::ListingRow;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::notify::Event;
use crate::organizations::actor::Actor;
use crate::organizations::repo as organizations;
use crate::state::AppState;

/// One step: who took it, what it did.
pub struct Step {
    pub actor: Option<i64>,
    pub side: Side,
    pub kind: EventKind,
    pub to: Option<DealStatus>,
    pub message: Option<String>,
    pub offer_id: Option<i64>,
    pub details: Option<Value>,
}

/// Records a step in the timeline; answers its id (the key of its notifications).
pub fn record(
    conn: &mut DbConn,
    deal: &DealRow,
    step: Step,
    now: chrono::NaiveDateTime,
) -> Result<i64, ApiError> {
    Ok(repo::insert_event(
        conn,
        &NewEvent {
            deal_id: deal.id,
            actor_user_id: step.actor,
            actor_side: step.side,
            kind: step.kind,
            from_status: step.to.map(|_| deal.status),
            to_status: step.to,
            message: step.message,
            offer_id: step.offer_id,
            details: step.details.map(|d| d.to_string()),
            created_at: now,
        },
    )?)
}

/// Applies `change` to the locked deal (bumping its version).
pub(super) fn apply(
    conn: &mut DbConn,
    deal: &DealRow,
    change: &DealChange,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    if repo::update_deal(conn, deal.id, deal.version, change, now)? == 0 {
        return Err(ApiError::Conflict {
            code: "deal_changed",
            detail: "the deal changed at the same moment: reload it and try again".into(),
        });
    }
    Ok(())
}

/// The name an email shows for the person acting, and their organisation's; the owner
/// side of a confidential need stays anonymous until it has accepted.
/// An organisation as an email names it: with whether the Department verified it, so a
/// look-alike of a known organisation is never shown as if it were the real one.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct OrgLabel {
    pub name: String,
    pub verified: bool,
}

impl OrgLabel {
    pub(super) fn of(conn: &mut DbConn, id: Option<i64>) -> Result<Option<Self>, ApiError> {
        Ok(id
            .map(|id| organizations::contact(conn, id))
            .transpose()?
            .flatten()
            .map(|o| OrgLabel {
                name: o.name,
                verified: o.verified_at.is_some(),
            }))
    }
}

pub(super) fn actor_name(
    conn: &mut DbConn,
    deal: &DealRow,
    listing: &ListingRow,
    side: Side,
    user_id: i64,
) -> Result<(String, Option<OrgLabel>), ApiError> {
    if side == Side::Owner && listing.data.confidential && deal.accepted_at.is_none() {
        return Ok((String::new(), None));
    }
    let name = repo::display_name(conn, user_id)?;
    let org = match side {
        Side::Requester => deal.requester_org_id,
        Side::Owner => deal.owner_org_id,
        Side::Broker => deal.broker_org_id,
        _ => None,
    };
    Ok((name, OrgLabel::of(conn, org)?))
}

/// "the listing's owner" where the owner side stays anonymous.
pub(super) fn anonymous(locale: Locale) -> &'static str {
    match locale {
        Locale::Vi => "Bên đăng nhu cầu",
        Locale::En => "The organisation that posted the need",
    }
}

/// The actor's name, or the anonymous owner's stand-in.
pub(super) fn named(name: &str, locale: Locale) -> String {
    if name.is_empty() {
        anonymous(locale).to_owned()
    } else {
        name.to_owned()
    }
}

/// An action being taken on a locked deal by one side.
pub(super) struct Turn<'a> {
    pub state: &'a AppState,
    pub deal: &'a DealRow,
    pub listing: &'a ListingRow,
    pub side: Side,
    /// The acting account.
    pub user_id: i64,
    /// The moment of the action: every column and row it writes carries this one time.
    pub now: chrono::NaiveDateTime,
}

/// What an action does, for [`Turn::take`].
pub(super) struct Transition {
    /// The columns that change (`None`: nothing does, and the version stays, as for a
    /// message); a new state goes in `status`.
    pub change: Option<DealChange>,
    /// The timeline step.
    pub kind: EventKind,
    pub message: Option<String>,
    pub offer_id: Option<i64>,
    pub details: Option<Value>,
    /// The notification and the sides it goes to.
    pub event: Event,
    pub tell: Vec<Side>,
    /// Whether the actor is told too (an agreement: everyone gets the record).
    pub tell_actor: bool,
}

/// What a notification says of the step, for each recipient's language.
pub(super) struct Told {
    /// The deal and its listing (`deal_ctx`).
    pub deal: Value,
    /// The actor's name ("" for the anonymous owner of a confidential need: see `named`).
    pub actor_name: String,
    pub actor_org: Option<OrgLabel>,
}

impl Turn<'_> {
    /// Applies the change, records the step and queues the notification; answers the
    /// step's id. The actor is named as the recipients may see them after the change (an
    /// acceptance reveals the owner of a confidential need).
    pub fn take(
        &self,
        conn: &mut DbConn,
        t: Transition,
        says: impl Fn(Locale, &Told) -> Value,
    ) -> Result<i64, ApiError> {
        let now = self.now;
        let mut after = self.deal.clone();
        if let Some(change) = &t.change {
            apply(conn, self.deal, change, now)?;
            if let Some(accepted) = change.accepted_at {
                after.accepted_at = accepted;
            }
        }
        let event = record(
            conn,
            self.deal,
            Step {
                actor: Some(self.user_id),
                side: self.side,
                kind: t.kind,
                to: t.change.as_ref().and_then(|c| c.status),
                message: t.message,
                offer_id: t.offer_id,
                details: t.details,
            },
            now,
        )?;
        let (actor_name, actor_org) =
            actor_name(conn, &after, self.listing, self.side, self.user_id)?;
        let told = Told {
            deal: deal_ctx(self.deal, self.listing),
            actor_name,
            actor_org,
        };
        tell(
            conn,
            &self.state.settings,
            self.deal,
            t.event,
            &format!("deal-event:{event}"),
            &t.tell,
            (!t.tell_actor).then_some(self.user_id),
            |locale| says(locale, &told),
        )?;
        Ok(event)
    }

    /// The other party and the broker.
    pub fn others(&self) -> Vec<Side> {
        [self.side.other(), Some(Side::Broker)]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Runs `work` on the locked deal as the caller's side — once `action` is open to that
/// side in the deal's state, when given — then answers the deal as it is afterwards.
/// Outsiders get 404.
pub(super) async fn act<F>(
    state: &AppState,
    caller: Caller,
    id: i64,
    action: Option<DealAction>,
    work: F,
) -> Result<DealView, ApiError>
where
    F: FnOnce(&mut DbConn, &Turn<'_>) -> Result<(), ApiError> + Send + 'static,
{
    let st = state.clone();
    let view = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let who = Actor::signed_in(conn, &caller)?;
                let deal = repo::lock_deal(conn, id)?.ok_or_else(deal_not_found)?;
                let side = who.side(&deal).ok_or_else(deal_not_found)?;
                if let Some(action) = action {
                    check(&deal, side, action)?;
                }
                let listing = listing_of(conn, &deal)?;
                let turn = Turn {
                    state: &st,
                    deal: &deal,
                    listing: &listing,
                    side,
                    user_id: caller.user_id,
                    now: db::now(),
                };
                work(conn, &turn)?;
                let deal = repo::find_deal(conn, id)?.ok_or_else(deal_not_found)?;
                view(conn, &deal, &listing, side)
            })
        })
        .await?;
    state.wake_outbox();
    Ok(view)
}
