//! Deal rules: who sees a deal and what of the other side, who may do what in which state,
//! offers and counter-offers, and the notifications each step sends.
//!
//! Every action locks the deal row first (PostgreSQL `FOR UPDATE`; SQLite's write
//! transaction holds the whole database), then checks the state: of two racing actions,
//! one wins and the other is answered 409 with the state it met.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::model::{
    DealAction, DealRow, DealStatus, DeclineReason, EventRow, NewDeal, NewEvent, NewOffer,
    OfferRow, OfferStatus, Side,
};
use super::notify::{deal_ctx, offer_ctx, tell};
use super::repo::{self, DealChange, DealFilter, DealScope, OrgContact};
use crate::accounts::model::{utc, Caller, Locale};
use crate::app::AppState;
use crate::catalog::model::{Kind, ListingRow, Status};
use crate::catalog::repo as listings;
use crate::catalog::taxonomy;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, Violations};
use crate::notify::{format, Event};
use crate::validate::{optional_text, text};

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

    fn in_org(&self, org: Option<i64>) -> bool {
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

    fn scope(&self) -> DealScope {
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
fn ever_allowed(side: Side, action: DealAction) -> bool {
    DealStatus::ALL
        .iter()
        .any(|s| allowed(*s, side).contains(&action))
}

fn who_may(action: DealAction) -> &'static str {
    match action {
        DealAction::Accept | DealAction::Decline => "only the side that was asked",
        DealAction::Withdraw => "only the side that asked",
        DealAction::Close | DealAction::Offer => "only the two parties",
        DealAction::Message => "only the parties and the broker",
    }
}

/// Refuses `action` unless `side` may take it now: 403 for the wrong side, 409 naming
/// the allowed actions for the wrong state.
fn check(deal: &DealRow, side: Side, action: DealAction) -> Result<(), ApiError> {
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

fn deal_not_found() -> ApiError {
    ApiError::NotFound {
        code: "deal_not_found",
        detail: "no such deal".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Views

/// How to reach a party: shown once the request is accepted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
    pub org_type: String,
}

impl From<&OrgContact> for OrgRef {
    fn from(o: &OrgContact) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            org_type: o.org_type.clone(),
        }
    }
}

/// One side of a deal as the viewer may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartyView {
    /// The person (the requester, or the expert); null where hidden.
    pub name: Option<String>,
    /// The organisation; null for a confidential need's owner until the request is accepted.
    pub organization: Option<OrgRef>,
    /// Null until the request is accepted.
    pub contact: Option<Contact>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealListingRef {
    pub kind: String,
    pub id: i64,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrokerView {
    pub organization: Option<OrgRef>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferView {
    pub id: i64,
    /// `requester` or `owner`.
    pub side: String,
    pub transfer_mode: String,
    pub price_vnd: Option<i64>,
    pub duration_months: Option<i32>,
    pub territory: Option<String>,
    pub conditions: Option<String>,
    /// `open`, `accepted`, `rejected` or `superseded`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// `accept` / `reject` when it is yours to answer.
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealView {
    pub id: i64,
    pub status: DealStatus,
    pub listing: DealListingRef,
    /// Your side of the deal: `requester`, `owner`, `broker` or `moderator` (read-only).
    pub your_side: Side,
    pub requester: PartyView,
    pub owner: PartyView,
    pub broker: Option<BrokerView>,
    pub match_id: Option<i64>,
    pub decline_reason: Option<DeclineReason>,
    pub decline_note: Option<String>,
    pub close_note: Option<String>,
    /// Every offer, oldest first; at most one is `open`.
    pub offers: Vec<OfferView>,
    /// The accepted offer's terms, once agreed.
    pub agreed_terms: Option<OfferView>,
    pub agreed_value_vnd: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// An unanswered request expires then.
    pub expires_at: DateTime<Utc>,
    pub version: i64,
    /// What you may do now.
    pub actions: Vec<DealAction>,
}

fn offer_view(o: &OfferRow, viewer: Side, deal_status: DealStatus) -> OfferView {
    let yours_to_answer = o.status == OfferStatus::Open.as_str()
        && deal_status == DealStatus::Negotiating
        && Side::parse(&o.side).ok().and_then(Side::other) == Some(viewer);
    OfferView {
        id: o.id,
        side: o.side.clone(),
        transfer_mode: o.transfer_mode.clone(),
        price_vnd: o.price_vnd,
        duration_months: o.duration_months,
        territory: o.territory.clone(),
        conditions: o.conditions.clone(),
        status: o.status.clone(),
        created_at: utc(o.created_at),
        decided_at: o.decided_at.map(utc),
        actions: if yours_to_answer {
            vec!["accept".into(), "reject".into()]
        } else {
            Vec::new()
        },
    }
}

fn listing_of(conn: &mut DbConn, deal: &DealRow) -> Result<ListingRow, ApiError> {
    listings::find(conn, deal.listing_id)?
        .ok_or_else(|| ApiError::internal(format!("deal {} lost its listing", deal.id)))
}

/// True when the owner side's identity is kept from `viewer`: a confidential need not yet
/// accepted, seen from the other side.
fn owner_hidden(deal: &DealRow, listing: &ListingRow, viewer: Side) -> bool {
    listing.data.confidential
        && deal.accepted_at.is_none()
        && matches!(viewer, Side::Requester | Side::Broker)
}

pub fn view(
    conn: &mut DbConn,
    deal: &DealRow,
    listing: &ListingRow,
    viewer: Side,
) -> Result<DealView, ApiError> {
    let revealed = deal.accepted_at.is_some() || viewer == Side::Moderator;
    let people = repo::people(
        conn,
        &[
            Some(deal.requester_user_id),
            deal.owner_user_id,
            deal.broker_user_id,
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>(),
    )?;
    let person = |id: Option<i64>| id.and_then(|id| people.iter().find(|p| p.id == id));
    let requester_org = deal
        .requester_org_id
        .map(|id| repo::org_contact(conn, id))
        .transpose()?
        .flatten();
    let owner_org = deal
        .owner_org_id
        .map(|id| repo::org_contact(conn, id))
        .transpose()?
        .flatten();
    let broker_org = deal
        .broker_org_id
        .map(|id| repo::org_contact(conn, id))
        .transpose()?
        .flatten();
    let requester_person = person(Some(deal.requester_user_id));
    let requester = PartyView {
        name: requester_person.map(|p| p.display_name.clone()),
        organization: requester_org.as_ref().map(OrgRef::from),
        contact: (revealed || viewer == Side::Requester).then(|| Contact {
            email: requester_person.map(|p| p.email.clone()),
            phone: None,
            website: requester_org.as_ref().and_then(|o| o.website.clone()),
        }),
    };
    let hidden = owner_hidden(deal, listing, viewer);
    let owner_person = person(deal.owner_user_id);
    let owner = PartyView {
        name: if deal.listing_kind == Kind::Expert.as_str() {
            Some(listing.data.title.clone())
        } else {
            None
        },
        organization: owner_org.as_ref().filter(|_| !hidden).map(OrgRef::from),
        contact: (revealed || viewer == Side::Owner).then(|| Contact {
            email: listing
                .data
                .contact_email
                .clone()
                .or_else(|| owner_person.map(|p| p.email.clone()))
                .or_else(|| owner_org.as_ref().and_then(|o| o.email.clone())),
            phone: listing.data.contact_phone.clone(),
            website: owner_org.as_ref().and_then(|o| o.website.clone()),
        }),
    };
    let broker =
        (deal.broker_org_id.is_some() || deal.broker_user_id.is_some()).then(|| BrokerView {
            organization: broker_org.as_ref().map(OrgRef::from),
            name: person(deal.broker_user_id).map(|p| p.display_name.clone()),
        });
    let status = deal.status();
    let offers = repo::offers(conn, deal.id)?;
    let agreed_terms = deal
        .agreed_offer_id
        .and_then(|id| offers.iter().find(|o| o.id == id))
        .map(|o| offer_view(o, viewer, status));
    Ok(DealView {
        id: deal.id,
        status,
        listing: DealListingRef {
            kind: deal.listing_kind.clone(),
            id: deal.listing_id,
            title: listing.data.title.clone(),
        },
        your_side: viewer,
        requester,
        owner,
        broker,
        match_id: deal.match_id,
        decline_reason: deal
            .decline_reason
            .as_deref()
            .and_then(|r| DeclineReason::parse(r).ok()),
        decline_note: deal.decline_note.clone(),
        close_note: deal.close_note.clone(),
        offers: offers
            .iter()
            .map(|o| offer_view(o, viewer, status))
            .collect(),
        agreed_terms,
        agreed_value_vnd: deal.agreed_value_vnd,
        created_at: utc(deal.created_at),
        updated_at: utc(deal.updated_at),
        responded_at: deal.responded_at.map(utc),
        accepted_at: deal.accepted_at.map(utc),
        closed_at: deal.closed_at.map(utc),
        expires_at: utc(deal.expires_at),
        version: deal.version,
        actions: allowed(status, viewer),
    })
}

// ---------------------------------------------------------------------------------------
// Reading

/// The deal if the caller is a party, its broker or a moderator; 404 otherwise.
pub async fn get(state: &AppState, caller: Caller, id: i64) -> Result<DealView, ApiError> {
    state
        .db
        .run(move |conn| {
            let who = Who::load(conn, &caller)?;
            let deal = repo::find_deal(conn, id)?.ok_or_else(deal_not_found)?;
            let side = who.side(&deal).ok_or_else(deal_not_found)?;
            let listing = listing_of(conn, &deal)?;
            view(conn, &deal, &listing, side)
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DealQuery {
    /// Only deals in this state.
    pub status: Option<String>,
    /// Only deals where you are on this side: `requester`, `owner` or `broker`.
    pub side: Option<String>,
    /// Only deals about this listing.
    pub listing_id: Option<i64>,
    /// 1–100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DealList {
    pub total: i64,
    pub items: Vec<DealView>,
}

/// The caller's deals, most recently active first (every deal, for moderators).
pub async fn list(state: &AppState, caller: Caller, q: DealQuery) -> Result<DealList, ApiError> {
    let mut v = Violations::new();
    let status = v
        .optional("status", q.status, |s| {
            DealStatus::parse(&s).map(|s| s.as_str().to_owned())
        })
        .flatten();
    let side = v
        .optional("side", q.side, |s| match s.as_str() {
            "requester" | "owner" | "broker" => Ok(s),
            _ => Err("must be requester, owner or broker".into()),
        })
        .flatten();
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        v.add("limit", "must be between 1 and 100");
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        v.add("offset", "must not be negative");
    }
    v.finish()?;
    let filter = DealFilter {
        status,
        side,
        listing_id: q.listing_id,
    };
    state
        .db
        .run(move |conn| {
            let who = Who::load(conn, &caller)?;
            let (total, rows) = repo::list_deals(conn, &who.scope(), &filter, limit, offset)?;
            let mut items = Vec::with_capacity(rows.len());
            for deal in &rows {
                let side = who.side(deal).unwrap_or(Side::Moderator);
                let listing = listing_of(conn, deal)?;
                items.push(view(conn, deal, &listing, side)?);
            }
            Ok(DealList { total, items })
        })
        .await
}

/// Who did a step, as the viewer may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorView {
    /// `requester`, `owner`, `broker`, `moderator` or `system`.
    pub side: String,
    /// Null for the system, and for the owner side of a confidential need until accepted.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: i64,
    /// `requested`, `accepted`, `declined`, `withdrawn`, `message`, `offer_made`,
    /// `offer_rejected`, `offer_accepted`, `agreed`, `closed`, `reminder_sent`, `expired`.
    pub kind: String,
    pub actor: ActorView,
    pub at: DateTime<Utc>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub message: Option<String>,
    pub offer_id: Option<i64>,
    /// What else the step carries (reason codes, superseded offers).
    #[schema(value_type = Object)]
    pub details: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    pub deal_id: i64,
    pub items: Vec<TimelineEntry>,
}

fn timeline_entries(
    conn: &mut DbConn,
    deal: &DealRow,
    listing: &ListingRow,
    viewer: Side,
    only_messages: bool,
) -> Result<Vec<TimelineEntry>, ApiError> {
    let events: Vec<EventRow> = repo::events(conn, deal.id)?
        .into_iter()
        .filter(|e| !only_messages || e.kind == "message")
        .collect();
    let mut ids: Vec<i64> = events.iter().filter_map(|e| e.actor_user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let people = repo::people(conn, &ids)?;
    let hidden = owner_hidden(deal, listing, viewer);
    Ok(events
        .into_iter()
        .map(|e| {
            let name = if hidden && e.actor_side == Side::Owner.as_str() {
                None
            } else {
                e.actor_user_id.and_then(|id| {
                    people
                        .iter()
                        .find(|p| p.id == id)
                        .map(|p| p.display_name.clone())
                })
            };
            TimelineEntry {
                id: e.id,
                kind: e.kind,
                actor: ActorView {
                    side: e.actor_side,
                    name,
                },
                at: utc(e.created_at),
                from_status: e.from_status,
                to_status: e.to_status,
                message: e.message,
                offer_id: e.offer_id,
                details: e.details.and_then(|d| serde_json::from_str(&d).ok()),
            }
        })
        .collect())
}

/// Every step of a deal, oldest first.
pub async fn timeline(
    state: &AppState,
    caller: Caller,
    id: i64,
    only_messages: bool,
) -> Result<Timeline, ApiError> {
    state
        .db
        .run(move |conn| {
            let who = Who::load(conn, &caller)?;
            let deal = repo::find_deal(conn, id)?.ok_or_else(deal_not_found)?;
            let side = who.side(&deal).ok_or_else(deal_not_found)?;
            let listing = listing_of(conn, &deal)?;
            Ok(Timeline {
                deal_id: id,
                items: timeline_entries(conn, &deal, &listing, side, only_messages)?,
            })
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Acting

/// One step: who took it, what it did.
pub struct Step<'a> {
    pub actor: Option<i64>,
    pub side: Side,
    pub kind: &'a str,
    pub to: Option<DealStatus>,
    pub message: Option<String>,
    pub offer_id: Option<i64>,
    pub details: Option<Value>,
}

/// Records a step in the timeline; answers its id (the key of its notifications).
pub fn record(
    conn: &mut DbConn,
    deal: &DealRow,
    step: Step<'_>,
    now: chrono::NaiveDateTime,
) -> Result<i64, ApiError> {
    Ok(repo::insert_event(
        conn,
        &NewEvent {
            deal_id: deal.id,
            actor_user_id: step.actor,
            actor_side: step.side.as_str().into(),
            kind: step.kind.into(),
            from_status: step.to.map(|_| deal.status.clone()),
            to_status: step.to.map(|s| s.as_str().to_owned()),
            message: step.message,
            offer_id: step.offer_id,
            details: step.details.map(|d| d.to_string()),
            created_at: now,
        },
    )?)
}

/// Applies `change` to the locked deal (bumping its version).
pub fn apply(
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

/// Runs `work` on the locked deal as the caller's side, then answers the deal as it is
/// afterwards. Outsiders get 404.
async fn act<F>(state: &AppState, caller: Caller, id: i64, work: F) -> Result<DealView, ApiError>
where
    F: FnOnce(&mut DbConn, &AppState, &DealRow, &ListingRow, Side) -> Result<(), ApiError>
        + Send
        + 'static,
{
    let st = state.clone();
    let view = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let who = Who::load(conn, &caller)?;
                let deal = repo::lock_deal(conn, id)?.ok_or_else(deal_not_found)?;
                let side = who.side(&deal).ok_or_else(deal_not_found)?;
                let listing = listing_of(conn, &deal)?;
                work(conn, &st, &deal, &listing, side)?;
                let deal = repo::find_deal(conn, id)?.ok_or_else(deal_not_found)?;
                view(conn, &deal, &listing, side)
            })
        })
        .await?;
    state.wake_outbox();
    Ok(view)
}

/// The name an email shows for the person acting; the owner side of a confidential need
/// stays anonymous until it has accepted.
fn actor_name(
    conn: &mut DbConn,
    deal: &DealRow,
    listing: &ListingRow,
    side: Side,
    user_id: i64,
) -> Result<(String, Option<String>), ApiError> {
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
    let org = org
        .map(|id| repo::org_contact(conn, id))
        .transpose()?
        .flatten()
        .map(|o| o.name);
    Ok((name, org))
}

/// "the listing's owner" where the owner side stays anonymous.
fn anonymous(locale: Locale) -> &'static str {
    match locale {
        Locale::Vi => "Bên đăng nhu cầu",
        Locale::En => "The organisation that posted the need",
    }
}

fn named(name: &str, locale: Locale) -> String {
    if name.is_empty() {
        anonymous(locale).to_owned()
    } else {
        name.to_owned()
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDealRequest {
    /// `technology`, `need` or `expert`.
    pub listing_kind: Option<String>,
    pub listing_id: Option<i64>,
    /// What you want to discuss (up to 5 000 characters).
    pub message: Option<String>,
    /// The organisation you ask for, when you belong to several (none: yourself).
    pub organization_id: Option<i64>,
}

/// Opens a contact request about a published listing.
pub async fn open(
    state: &AppState,
    caller: Caller,
    req: OpenDealRequest,
) -> Result<DealView, ApiError> {
    let mut v = Violations::new();
    let kind = v.required("listing_kind", req.listing_kind, |s| Kind::parse(&s));
    let listing_id = v.required("listing_id", req.listing_id, Ok);
    let message = v.required("message", req.message, |s| text(&s, 1, 5000));
    v.finish()?;
    let (Some(kind), Some(listing_id), Some(message)) = (kind, listing_id, message) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    let organization_id = req.organization_id;
    let st = state.clone();
    let view = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let who = Who::load(conn, &caller)?;
                let listing = match listings::find(conn, listing_id)? {
                    Some(l) if l.kind() == kind && l.status() == Status::Published => l,
                    _ => {
                        return Err(ApiError::invalid(
                            "listing_id",
                            format!("no published {} has this id", kind.noun()),
                        ))
                    }
                };
                let deal = start(conn, &st, &who, &listing, organization_id, &message, None)?;
                view(conn, &deal, &listing, Side::Requester)
            })
        })
        .await?;
    state.wake_outbox();
    Ok(view)
}

/// Who answers for a listing: its organisation, or the expert's account; for a listing
/// neither owns (an imported expert profile), the exchange's moderators.
fn owner_of(listing: &ListingRow) -> (Option<i64>, Option<i64>) {
    (listing.organization_id, listing.owner_user_id)
}

/// The organisation a person acts for: the one named (they must belong to it), their only
/// one, or none.
fn acting_org(who: &Who, requested: Option<i64>) -> Result<Option<i64>, ApiError> {
    match requested {
        Some(id) if who.org_ids.contains(&id) => Ok(Some(id)),
        Some(_) => Err(ApiError::invalid(
            "organization_id",
            "you are not a member of this organisation",
        )),
        None => match who.org_ids.as_slice() {
            [] => Ok(None),
            [only] => Ok(Some(*only)),
            _ => Err(ApiError::invalid(
                "organization_id",
                "you belong to several organisations: say which one you ask for",
            )),
        },
    }
}

/// Creates a request (directly, or from a broker's match) and tells the side asked.
pub fn start(
    conn: &mut DbConn,
    state: &AppState,
    who: &Who,
    listing: &ListingRow,
    organization_id: Option<i64>,
    message: &str,
    broker: Option<(&super::model::MatchRow, String)>,
) -> Result<DealRow, ApiError> {
    let (owner_org, owner_user) = owner_of(listing);
    let requester_org = acting_org(who, organization_id)?;
    if who.moderator && owner_org.is_none() && owner_user.is_none() {
        return Err(ApiError::invalid(
            "listing_id",
            "the exchange's moderators answer for this listing: you cannot ask yourselves",
        ));
    }
    if owner_user == Some(who.user_id) || owner_org.is_some_and(|o| who.org_ids.contains(&o)) {
        return Err(ApiError::invalid(
            "listing_id",
            "this listing is your own side's",
        ));
    }
    if let Some(existing) = repo::open_deal_of(conn, listing.id, who.user_id)? {
        return Err(ApiError::Conflict {
            code: "deal_exists",
            detail: format!(
                "you already have an open deal about this listing: /api/v1/deals/{existing}"
            ),
        });
    }
    let now = db::now();
    let ttl = Duration::seconds(state.settings.deals.request_ttl_seconds);
    let new = NewDeal {
        listing_id: listing.id,
        listing_kind: listing.kind.clone(),
        status: DealStatus::Requested.as_str().into(),
        requester_user_id: who.user_id,
        requester_org_id: requester_org,
        owner_org_id: owner_org,
        owner_user_id: owner_user,
        broker_org_id: broker.as_ref().map(|(m, _)| m.broker_org_id),
        broker_user_id: broker.as_ref().and_then(|(m, _)| m.broker_user_id),
        match_id: broker.as_ref().map(|(m, _)| m.id),
        version: 1,
        created_at: now,
        updated_at: now,
        expires_at: now + ttl,
    };
    let id = repo::insert_deal(conn, &new).map_err(|e| {
        if db::is_unique_violation(&e) {
            ApiError::Conflict {
                code: "deal_exists",
                detail: "you already have an open deal about this listing".into(),
            }
        } else {
            e.into()
        }
    })?;
    let deal = repo::find_deal(conn, id)?.ok_or_else(deal_not_found)?;
    let event = record(
        conn,
        &deal,
        Step {
            actor: Some(who.user_id),
            side: Side::Requester,
            kind: "requested",
            to: None,
            message: Some(message.to_owned()),
            offer_id: None,
            details: broker.as_ref().map(|(m, _)| json!({"match_id": m.id})),
        },
        now,
    )?;
    let (name, org) = actor_name(conn, &deal, listing, Side::Requester, who.user_id)?;
    let ctx = deal_ctx(&deal, listing);
    let broker_name = broker.map(|(_, n)| n);
    let expires = deal.expires_at.date();
    tell(
        conn,
        &state.settings,
        &deal,
        Event::DealRequested,
        &format!("deal-event:{event}"),
        &[Side::Owner],
        Some(who.user_id),
        |locale| {
            json!({"deal": ctx, "actor_name": name, "actor_org": org, "message": message,
                   "respond_by": format::date(expires, locale), "broker_name": broker_name})
        },
    )?;
    tracing::info!(
        deal_id = id,
        listing_id = listing.id,
        user_id = who.user_id,
        "deal requested"
    );
    Ok(deal)
}

pub async fn accept(state: &AppState, caller: Caller, id: i64) -> Result<DealView, ApiError> {
    act(state, caller, id, move |conn, st, deal, listing, side| {
        check(deal, side, DealAction::Accept)?;
        let now = db::now();
        apply(
            conn,
            deal,
            &DealChange {
                status: Some(DealStatus::Accepted.as_str().into()),
                responded_at: Some(Some(now)),
                accepted_at: Some(Some(now)),
                ..Default::default()
            },
            now,
        )?;
        let event = record(
            conn,
            deal,
            Step {
                actor: Some(caller.user_id),
                side,
                kind: "accepted",
                to: Some(DealStatus::Accepted),
                message: None,
                offer_id: None,
                details: None,
            },
            now,
        )?;
        // Accepted: the owner's identity is no longer hidden.
        let mut accepted = deal.clone();
        accepted.accepted_at = Some(now);
        let (name, org) = actor_name(conn, &accepted, listing, side, caller.user_id)?;
        let ctx = deal_ctx(deal, listing);
        tell(
            conn,
            &st.settings,
            deal,
            Event::DealAccepted,
            &format!("deal-event:{event}"),
            &[Side::Requester, Side::Broker],
            Some(caller.user_id),
            |_| json!({"deal": ctx, "actor_name": name, "actor_org": org}),
        )?;
        Ok(())
    })
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// `not_relevant`, `too_early_stage`, `price`, `ip_unclear`, `no_capacity` or `other`.
    pub reason: Option<String>,
    /// Free text; required with `other`.
    pub note: Option<String>,
}

pub async fn decline(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: DeclineRequest,
) -> Result<DealView, ApiError> {
    let mut v = Violations::new();
    let reason = v.required("reason", req.reason, |s| DeclineReason::parse(&s));
    let note = v
        .optional("note", req.note, |s| optional_text(&s, 2000))
        .flatten()
        .flatten();
    if reason == Some(DeclineReason::Other) && note.is_none() {
        v.add("note", "is required when the reason is `other`");
    }
    v.finish()?;
    let Some(reason) = reason else {
        return Err(ApiError::internal("validation passed without values"));
    };
    act(state, caller, id, move |conn, st, deal, listing, side| {
        check(deal, side, DealAction::Decline)?;
        let now = db::now();
        apply(
            conn,
            deal,
            &DealChange {
                status: Some(DealStatus::Declined.as_str().into()),
                decline_reason: Some(Some(reason.as_str().into())),
                decline_note: Some(note.clone()),
                responded_at: Some(Some(now)),
                closed_at: Some(Some(now)),
                ..Default::default()
            },
            now,
        )?;
        let event = record(
            conn,
            deal,
            Step {
                actor: Some(caller.user_id),
                side,
                kind: "declined",
                to: Some(DealStatus::Declined),
                message: note.clone(),
                offer_id: None,
                details: Some(json!({"reason": reason.as_str()})),
            },
            now,
        )?;
        let ctx = deal_ctx(deal, listing);
        tell(
            conn,
            &st.settings,
            deal,
            Event::DealDeclined,
            &format!("deal-event:{event}"),
            &[Side::Requester, Side::Broker],
            Some(caller.user_id),
            |locale| json!({"deal": ctx, "reason_label": reason.label(locale), "reason_note": note}),
        )?;
        Ok(())
    })
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// Why, for the other side (optional).
    pub note: Option<String>,
}

fn parse_note(note: Option<String>) -> Result<Option<String>, ApiError> {
    let mut v = Violations::new();
    let note = v
        .optional("note", note, |s| optional_text(&s, 2000))
        .flatten()
        .flatten();
    v.finish()?;
    Ok(note)
}

pub async fn withdraw(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: NoteRequest,
) -> Result<DealView, ApiError> {
    end(state, caller, id, req, DealAction::Withdraw).await
}

/// Ends a negotiation without agreement (`failed`).
pub async fn close(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: NoteRequest,
) -> Result<DealView, ApiError> {
    end(state, caller, id, req, DealAction::Close).await
}

/// Ends a deal without agreement: `withdraw` (the side that asked) or `close` (either
/// party, once talks have begun). The open offer lapses; the other party and the broker
/// are told.
async fn end(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: NoteRequest,
    action: DealAction,
) -> Result<DealView, ApiError> {
    let (to, kind, event_kind) = match action {
        DealAction::Withdraw => (DealStatus::Withdrawn, "withdrawn", Event::DealWithdrawn),
        _ => (DealStatus::Failed, "closed", Event::DealFailed),
    };
    let note = parse_note(req.note)?;
    act(state, caller, id, move |conn, st, deal, listing, side| {
        check(deal, side, action)?;
        let now = db::now();
        repo::close_open_offers(conn, deal.id, OfferStatus::Superseded, None, now)?;
        apply(
            conn,
            deal,
            &DealChange {
                status: Some(to.as_str().into()),
                close_note: Some(note.clone()),
                closed_at: Some(Some(now)),
                ..Default::default()
            },
            now,
        )?;
        let event = record(
            conn,
            deal,
            Step {
                actor: Some(caller.user_id),
                side,
                kind,
                to: Some(to),
                message: note.clone(),
                offer_id: None,
                details: None,
            },
            now,
        )?;
        let (name, org) = actor_name(conn, deal, listing, side, caller.user_id)?;
        let ctx = deal_ctx(deal, listing);
        let others: Vec<Side> = [side.other(), Some(Side::Broker)]
            .into_iter()
            .flatten()
            .collect();
        tell(
            conn,
            &st.settings,
            deal,
            event_kind,
            &format!("deal-event:{event}"),
            &others,
            Some(caller.user_id),
            |locale| {
                json!({"deal": ctx, "actor_name": named(&name, locale), "actor_org": org,
                       "note": note})
            },
        )?;
        Ok(())
    })
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// Up to 5 000 characters.
    pub body: Option<String>,
}

pub async fn message(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: MessageRequest,
) -> Result<DealView, ApiError> {
    let mut v = Violations::new();
    let body = v.required("body", req.body, |s| text(&s, 1, 5000));
    v.finish()?;
    let Some(body) = body else {
        return Err(ApiError::internal("validation passed without values"));
    };
    act(state, caller, id, move |conn, st, deal, listing, side| {
        check(deal, side, DealAction::Message)?;
        let now = db::now();
        let event = record(
            conn,
            deal,
            Step {
                actor: Some(caller.user_id),
                side,
                kind: "message",
                to: None,
                message: Some(body.clone()),
                offer_id: None,
                details: None,
            },
            now,
        )?;
        let (name, _) = actor_name(conn, deal, listing, side, caller.user_id)?;
        let ctx = deal_ctx(deal, listing);
        tell(
            conn,
            &st.settings,
            deal,
            Event::DealMessage,
            &format!("deal-event:{event}"),
            &[Side::Requester, Side::Owner, Side::Broker],
            Some(caller.user_id),
            |locale| json!({"deal": ctx, "actor_name": named(&name, locale), "message": body}),
        )?;
        Ok(())
    })
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// A transfer mode code (see `/api/v1/vocabularies`).
    pub transfer_mode: Option<String>,
    /// Price in whole đồng.
    pub price_vnd: Option<i64>,
    /// 1–600 months.
    pub duration_months: Option<i32>,
    /// Where the rights apply, e.g. "Việt Nam".
    pub territory: Option<String>,
    /// Other conditions (training, royalties, warranties…).
    pub conditions: Option<String>,
}

/// Proposes terms. It replaces the open offer, if any (a counter-offer), and moves an
/// accepted deal into negotiation.
pub async fn offer(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: OfferRequest,
) -> Result<DealView, ApiError> {
    let mut v = Violations::new();
    let mode = v.required("transfer_mode", req.transfer_mode, |s| {
        taxonomy::transfer_mode(s.trim()).map(str::to_owned)
    });
    let price = v
        .optional("price_vnd", req.price_vnd, |p| {
            if (0..=1_000_000_000_000_000).contains(&p) {
                Ok(p)
            } else {
                Err("must be between 0 and 10^18 đồng".into())
            }
        })
        .flatten();
    let duration = v
        .optional("duration_months", req.duration_months, |m| {
            if (1..=600).contains(&m) {
                Ok(m)
            } else {
                Err("must be between 1 and 600 months".into())
            }
        })
        .flatten();
    let territory = v
        .optional("territory", req.territory, |s| optional_text(&s, 200))
        .flatten()
        .flatten();
    let conditions = v
        .optional("conditions", req.conditions, |s| optional_text(&s, 5000))
        .flatten()
        .flatten();
    v.finish()?;
    let Some(mode) = mode else {
        return Err(ApiError::internal("validation passed without values"));
    };
    act(state, caller, id, move |conn, st, deal, listing, side| {
        check(deal, side, DealAction::Offer)?;
        let now = db::now();
        let superseded: Vec<i64> = repo::offers(conn, deal.id)?
            .into_iter()
            .filter(|o| o.status == OfferStatus::Open.as_str())
            .map(|o| o.id)
            .collect();
        repo::close_open_offers(
            conn,
            deal.id,
            OfferStatus::Superseded,
            Some(caller.user_id),
            now,
        )?;
        let offer_id = repo::insert_offer(
            conn,
            &NewOffer {
                deal_id: deal.id,
                made_by_user_id: Some(caller.user_id),
                side: side.as_str().into(),
                transfer_mode: mode,
                price_vnd: price,
                duration_months: duration,
                territory,
                conditions,
                status: OfferStatus::Open.as_str().into(),
                created_at: now,
            },
        )?;
        let to = (deal.status() == DealStatus::Accepted).then_some(DealStatus::Negotiating);
        apply(
            conn,
            deal,
            &DealChange {
                status: to.map(|s| s.as_str().to_owned()),
                ..Default::default()
            },
            now,
        )?;
        let event = record(
            conn,
            deal,
            Step {
                actor: Some(caller.user_id),
                side,
                kind: "offer_made",
                to,
                message: None,
                offer_id: Some(offer_id),
                details: (!superseded.is_empty()).then(|| json!({"supersedes": superseded})),
            },
            now,
        )?;
        let offer = repo::find_offer(conn, offer_id)?
            .ok_or_else(|| ApiError::internal("offer vanished"))?;
        let (name, org) = actor_name(conn, deal, listing, side, caller.user_id)?;
        let ctx = deal_ctx(deal, listing);
        let counter = !superseded.is_empty();
        let others: Vec<Side> = [side.other(), Some(Side::Broker)]
            .into_iter()
            .flatten()
            .collect();
        tell(
            conn,
            &st.settings,
            deal,
            Event::OfferMade,
            &format!("deal-event:{event}"),
            &others,
            Some(caller.user_id),
            |locale| {
                json!({"deal": ctx, "actor_name": name, "actor_org": org,
                       "offer": offer_ctx(&offer, locale), "counter": counter})
            },
        )?;
        Ok(())
    })
    .await
}

/// The open offer the other side made: only the latest offer can be answered.
fn answerable(
    conn: &mut DbConn,
    deal: &DealRow,
    side: Side,
    offer_id: i64,
) -> Result<OfferRow, ApiError> {
    let offers = repo::offers(conn, deal.id)?;
    let offer = offers
        .iter()
        .find(|o| o.id == offer_id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound {
            code: "offer_not_found",
            detail: "this deal has no such offer".into(),
        })?;
    if side == Side::Moderator {
        return Err(ApiError::forbidden(
            "moderators can read deals but not act in them",
        ));
    }
    if Side::parse(&offer.side).ok().and_then(Side::other) != Some(side) {
        return Err(ApiError::forbidden(
            "only the party the offer was made to may answer it",
        ));
    }
    if offer.status != OfferStatus::Open.as_str() {
        let latest = offers.last().map(|o| o.id).unwrap_or(offer.id);
        return Err(ApiError::Conflict {
            code: if offer.status == OfferStatus::Superseded.as_str() {
                "offer_superseded"
            } else {
                "offer_closed"
            },
            detail: format!(
                "offer {offer_id} is {}; only the latest open offer (now {latest}) can be answered",
                offer.status
            ),
        });
    }
    if deal.status() != DealStatus::Negotiating {
        return Err(ApiError::InvalidTransition {
            detail: format!("a deal that is {} has no offer to answer", deal.status),
            current: deal.status.clone(),
            allowed: allowed(deal.status(), side)
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
        });
    }
    Ok(offer)
}

/// Accepts the latest offer: the deal is agreed on its terms.
pub async fn accept_offer(
    state: &AppState,
    caller: Caller,
    id: i64,
    offer_id: i64,
) -> Result<DealView, ApiError> {
    act(state, caller, id, move |conn, st, deal, listing, side| {
        let offer = answerable(conn, deal, side, offer_id)?;
        let now = db::now();
        repo::decide_offer(conn, offer.id, OfferStatus::Accepted, caller.user_id, now)?;
        apply(
            conn,
            deal,
            &DealChange {
                status: Some(DealStatus::Agreed.as_str().into()),
                agreed_offer_id: Some(Some(offer.id)),
                agreed_value_vnd: Some(offer.price_vnd),
                closed_at: Some(Some(now)),
                ..Default::default()
            },
            now,
        )?;
        let event = record(
            conn,
            deal,
            Step {
                actor: Some(caller.user_id),
                side,
                kind: "agreed",
                to: Some(DealStatus::Agreed),
                message: None,
                offer_id: Some(offer.id),
                details: Some(json!({"agreed_value_vnd": offer.price_vnd})),
            },
            now,
        )?;
        let ctx = deal_ctx(deal, listing);
        tell(
            conn,
            &st.settings,
            deal,
            Event::DealAgreed,
            &format!("deal-event:{event}"),
            &[Side::Requester, Side::Owner, Side::Broker],
            None,
            |locale| {
                json!({"deal": ctx, "offer": offer_ctx(&offer, locale),
                       "value": offer.price_vnd.map(|p| format::vnd(p, locale))})
            },
        )?;
        tracing::info!(deal_id = deal.id, offer_id = offer.id, "deal agreed");
        Ok(())
    })
    .await
}

pub async fn reject_offer(
    state: &AppState,
    caller: Caller,
    id: i64,
    offer_id: i64,
    req: NoteRequest,
) -> Result<DealView, ApiError> {
    let note = parse_note(req.note)?;
    act(state, caller, id, move |conn, st, deal, listing, side| {
        let offer = answerable(conn, deal, side, offer_id)?;
        let now = db::now();
        repo::decide_offer(conn, offer.id, OfferStatus::Rejected, caller.user_id, now)?;
        apply(conn, deal, &DealChange::default(), now)?;
        let event = record(
            conn,
            deal,
            Step {
                actor: Some(caller.user_id),
                side,
                kind: "offer_rejected",
                to: None,
                message: note,
                offer_id: Some(offer.id),
                details: None,
            },
            now,
        )?;
        let (name, _) = actor_name(conn, deal, listing, side, caller.user_id)?;
        let ctx = deal_ctx(deal, listing);
        let maker = Side::parse(&offer.side).unwrap_or(Side::Requester);
        tell(
            conn,
            &st.settings,
            deal,
            Event::OfferRejected,
            &format!("deal-event:{event}"),
            &[maker],
            Some(caller.user_id),
            |locale| json!({"deal": ctx, "actor_name": name, "offer": offer_ctx(&offer, locale)}),
        )?;
        Ok(())
    })
    .await
}
