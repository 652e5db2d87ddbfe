//! What each side sees of a deal, its list and its timeline.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::model::{
    DealAction, DealRow, DealStatus, DeclineReason, EventKind, EventRow, OfferRow, OfferStatus,
    Side,
};
use super::repo::{self, DealFilter, Person};
use super::rules::{allowed, deal_not_found, DealAccess};
use crate::accounts::model::{utc, Caller};
use crate::catalog::model::{Kind, ListingRow};
use crate::catalog::repo as listings;
use crate::db::DbConn;
use crate::http::error::{ApiError, Violations};
use crate::http::page::{page, Page};
use crate::organizations::actor::Actor;
use crate::organizations::model::OrgType;
use crate::organizations::repo as organizations;
use crate::organizations::repo::OrgContact;
use crate::state::AppState;

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
    pub org_type: OrgType,
    /// Verified by the Department of Science and Technology. An organisation that is not
    /// may be anyone using the name: say so before trusting it.
    pub verified: bool,
}

impl From<&OrgContact> for OrgRef {
    fn from(o: &OrgContact) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            org_type: o.org_type,
            verified: o.verified_at.is_some(),
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
    pub kind: Kind,
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
    pub side: Side,
    pub transfer_mode: String,
    pub price_vnd: Option<i64>,
    pub duration_months: Option<i32>,
    pub territory: Option<String>,
    pub conditions: Option<String>,
    /// `open`, `accepted`, `rejected` or `superseded`.
    pub status: OfferStatus,
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

pub(super) fn offer_view(o: &OfferRow, viewer: Side, deal_status: DealStatus) -> OfferView {
    let yours_to_answer = o.status == OfferStatus::Open
        && deal_status == DealStatus::Negotiating
        && o.side.other() == Some(viewer);
    OfferView {
        id: o.id,
        side: o.side,
        transfer_mode: o.transfer_mode.clone(),
        price_vnd: o.price_vnd,
        duration_months: o.duration_months,
        territory: o.territory.clone(),
        conditions: o.conditions.clone(),
        status: o.status,
        created_at: utc(o.created_at),
        decided_at: o.decided_at.map(utc),
        actions: if yours_to_answer {
            vec!["accept".into(), "reject".into()]
        } else {
            Vec::new()
        },
    }
}

pub(super) fn listing_of(conn: &mut DbConn, deal: &DealRow) -> Result<ListingRow, ApiError> {
    listings::find(conn, deal.listing_id)?
        .ok_or_else(|| ApiError::internal(format!("deal {} lost its listing", deal.id)))
}

/// True when the owner side's identity is kept from `viewer`: a confidential need not yet
/// accepted, seen from the other side.
pub(super) fn owner_hidden(deal: &DealRow, listing: &ListingRow, viewer: Side) -> bool {
    listing.data.confidential
        && deal.accepted_at.is_none()
        && matches!(viewer, Side::Requester | Side::Broker)
}

/// What the views of some deals need besides the deals, in four queries however many
/// deals there are: their listings, the people and organisations named, their offers.
pub(super) struct Related {
    listings: HashMap<i64, ListingRow>,
    people: HashMap<i64, Person>,
    orgs: HashMap<i64, OrgContact>,
    offers: HashMap<i64, Vec<OfferRow>>,
}

impl Related {
    pub(super) fn load(conn: &mut DbConn, deals: &[DealRow]) -> Result<Self, ApiError> {
        let ids = |f: &dyn Fn(&DealRow) -> [Option<i64>; 3]| {
            let mut ids: Vec<i64> = deals.iter().flat_map(f).flatten().collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let listing_ids = ids(&|d| [Some(d.listing_id), None, None]);
        let user_ids = ids(&|d| [Some(d.requester_user_id), d.owner_user_id, d.broker_user_id]);
        let org_ids = ids(&|d| [d.requester_org_id, d.owner_org_id, d.broker_org_id]);
        let deal_ids: Vec<i64> = deals.iter().map(|d| d.id).collect();
        Ok(Self {
            listings: listings::find_many(conn, &listing_ids)?,
            people: repo::people(conn, &user_ids)?
                .into_iter()
                .map(|p| (p.id, p))
                .collect(),
            orgs: organizations::contacts(conn, &org_ids)?,
            offers: repo::offers_of(conn, &deal_ids)?,
        })
    }

    pub(super) fn listing(&self, deal: &DealRow) -> Result<&ListingRow, ApiError> {
        self.listings
            .get(&deal.listing_id)
            .ok_or_else(|| ApiError::internal(format!("deal {} lost its listing", deal.id)))
    }
}

/// One deal as `viewer` sees it.
pub fn view(
    conn: &mut DbConn,
    deal: &DealRow,
    listing: &ListingRow,
    viewer: Side,
) -> Result<DealView, ApiError> {
    let related = Related::load(conn, std::slice::from_ref(deal))?;
    Ok(assemble(deal, listing, viewer, &related))
}

/// A deal's view from what was loaded for it.
pub(super) fn assemble(
    deal: &DealRow,
    listing: &ListingRow,
    viewer: Side,
    related: &Related,
) -> DealView {
    let revealed = deal.accepted_at.is_some() || viewer == Side::Moderator;
    let person = |id: Option<i64>| id.and_then(|id| related.people.get(&id));
    let org = |id: Option<i64>| id.and_then(|id| related.orgs.get(&id));
    let requester_org = org(deal.requester_org_id);
    let owner_org = org(deal.owner_org_id);
    let broker_org = org(deal.broker_org_id);
    let requester_person = person(Some(deal.requester_user_id));
    let requester = PartyView {
        name: requester_person.map(|p| p.display_name.clone()),
        organization: requester_org.map(OrgRef::from),
        contact: (revealed || viewer == Side::Requester).then(|| Contact {
            email: requester_person.map(|p| p.email.clone()),
            phone: None,
            website: requester_org.and_then(|o| o.website.clone()),
        }),
    };
    let hidden = owner_hidden(deal, listing, viewer);
    let owner_person = person(deal.owner_user_id);
    let owner = PartyView {
        name: if deal.listing_kind == Kind::Expert {
            Some(listing.data.title.clone())
        } else {
            None
        },
        organization: owner_org.filter(|_| !hidden).map(OrgRef::from),
        contact: (revealed || viewer == Side::Owner).then(|| Contact {
            email: listing
                .data
                .contact_email
                .clone()
                .or_else(|| owner_person.map(|p| p.email.clone()))
                .or_else(|| owner_org.and_then(|o| o.email.clone())),
            phone: listing.data.contact_phone.clone(),
            website: owner_org.and_then(|o| o.website.clone()),
        }),
    };
    let broker =
        (deal.broker_org_id.is_some() || deal.broker_user_id.is_some()).then(|| BrokerView {
            organization: broker_org.map(OrgRef::from),
            name: person(deal.broker_user_id).map(|p| p.display_name.clone()),
        });
    let status = deal.status();
    let offers: &[OfferRow] = related.offers.get(&deal.id).map_or(&[], Vec::as_slice);
    let agreed_terms = deal
        .agreed_offer_id
        .and_then(|id| offers.iter().find(|o| o.id == id))
        .map(|o| offer_view(o, viewer, status));
    DealView {
        id: deal.id,
        status,
        listing: DealListingRef {
            kind: deal.listing_kind,
            id: deal.listing_id,
            title: listing.data.title.clone(),
        },
        your_side: viewer,
        requester,
        owner,
        broker,
        match_id: deal.match_id,
        decline_reason: deal.decline_reason,
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
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// The deal if the caller is a party, its broker or a moderator; 404 otherwise.
pub async fn get(state: &AppState, caller: Caller, id: i64) -> Result<DealView, ApiError> {
    state
        .db
        .run(move |conn| {
            let who = Actor::signed_in(conn, &caller)?;
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
    #[param(value_type = Option<DealStatus>)]
    pub status: Option<String>,
    /// Only deals where you are on this side: `requester`, `owner` or `broker`.
    #[param(schema_with = deal_side)]
    pub side: Option<String>,
    /// Only deals about this listing.
    pub listing_id: Option<i64>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

fn deal_side() -> utoipa::openapi::schema::Schema {
    crate::validate::schema::one_of(["requester", "owner", "broker"])
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
        .optional("status", q.status, |s| DealStatus::parse(&s))
        .flatten();
    let side = v
        .optional("side", q.side, |s| match Side::parse(&s) {
            Ok(side @ (Side::Requester | Side::Owner | Side::Broker)) => Ok(side),
            _ => Err("must be requester, owner or broker".into()),
        })
        .flatten();
    let Page { limit, offset } = page(&mut v, q.limit, q.offset);
    v.finish()?;
    let filter = DealFilter {
        status,
        side,
        listing_id: q.listing_id,
    };
    state
        .db
        .run(move |conn| {
            let who = Actor::signed_in(conn, &caller)?;
            let (total, rows) = repo::list_deals(conn, &who.deal_scope(), &filter, limit, offset)?;
            let related = Related::load(conn, &rows)?;
            let items = rows
                .iter()
                .map(|deal| {
                    let side = who.side(deal).unwrap_or(Side::Moderator);
                    Ok(assemble(deal, related.listing(deal)?, side, &related))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(DealList { total, items })
        })
        .await
}

/// Who did a step, as the viewer may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorView {
    /// `requester`, `owner`, `broker`, `moderator` or `system`.
    pub side: Side,
    /// Null for the system, and for the owner side of a confidential need until accepted.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: i64,
    /// `requested`, `accepted`, `declined`, `withdrawn`, `message`, `offer_made`,
    /// `offer_rejected`, `agreed`, `closed`, `reminder_sent`, `expired`.
    pub kind: EventKind,
    pub actor: ActorView,
    pub at: DateTime<Utc>,
    pub from_status: Option<DealStatus>,
    pub to_status: Option<DealStatus>,
    pub message: Option<String>,
    pub offer_id: Option<i64>,
    /// What else the step carries (reason codes, superseded offers).
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    pub deal_id: i64,
    pub items: Vec<TimelineEntry>,
}

pub(super) fn timeline_entries(
    conn: &mut DbConn,
    deal: &DealRow,
    listing: &ListingRow,
    viewer: Side,
    only_messages: bool,
) -> Result<Vec<TimelineEntry>, ApiError> {
    let events: Vec<EventRow> = repo::events(conn, deal.id)?
        .into_iter()
        .filter(|e| !only_messages || e.kind == EventKind::Message)
        .collect();
    let mut ids: Vec<i64> = events.iter().filter_map(|e| e.actor_user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let people = repo::people(conn, &ids)?;
    let hidden = owner_hidden(deal, listing, viewer);
    events
        .into_iter()
        .map(|e| {
            let name = if hidden && e.actor_side == Side::Owner {
                None
            } else {
                e.actor_user_id.and_then(|id| {
                    people
                        .iter()
                        .find(|p| p.id == id)
                        .map(|p| p.display_name.clone())
                })
            };
            // Written here from a JSON value: text that does not parse is a fault to see.
            let details = e
                .details
                .map(|d| serde_json::from_str(&d))
                .transpose()
                .map_err(|err| {
                    ApiError::internal(format!("deal event {}: details are not JSON: {err}", e.id))
                })?;
            Ok(TimelineEntry {
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
                details,
            })
        })
        .collect()
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
            let who = Actor::signed_in(conn, &caller)?;
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
