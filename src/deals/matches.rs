//! Brokers' proposals: a member of a broker organisation proposes that a technology or an
//! expert answers a need; both sides are told; the side that takes it up opens a deal with
//! the broker attached.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::model::{MatchRow, MatchStatus, NewMatch};
use super::repo;
use super::service;
use super::views::{self, DealView};
use crate::accounts::model::{utc, Caller};
use crate::catalog::model::{Kind, ListingRow, Status};
use crate::catalog::repo as listings;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, Violations};
use crate::http::page::{page, Page};
use crate::notify::outbox::{self, Notice, Recipient};
use crate::notify::Event;
use crate::organizations::actor::Actor;
use crate::organizations::repo::{self as organizations, OrgContact};
use crate::state::AppState;
use crate::validate::{optional_text, text};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeMatch {
    #[schema(required = true, value_type = i64)]
    pub need_id: Option<i64>,
    /// A technology that answers the need (or give `expert_id`).
    pub technology_id: Option<i64>,
    /// An expert who can help with the need (or give `technology_id`).
    pub expert_id: Option<i64>,
    /// Why the two fit, for both sides (up to 2 000 characters).
    #[schema(schema_with = crate::validate::schema::optional_text::<2000>)]
    pub note: Option<String>,
    /// Your broker organisation, when you belong to several.
    pub organization_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchListingRef {
    pub kind: Kind,
    pub id: i64,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchView {
    pub id: i64,
    /// `proposed`, `taken_up` or `withdrawn`.
    pub status: MatchStatus,
    pub need: MatchListingRef,
    pub target: MatchListingRef,
    pub note: Option<String>,
    pub broker_organization_id: i64,
    pub broker_organization: String,
    /// Whether the Department has verified the broker organisation.
    pub broker_organization_verified: bool,
    /// The deal it became, once taken up (visible to its parties and the broker).
    pub deal_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do, as the path of `POST /api/v1/matches/{id}/{action}` spells it:
    /// `take-up` for either side while proposed; `withdraw` for the broker.
    pub actions: Vec<String>,
}

fn match_not_found() -> ApiError {
    ApiError::NotFound {
        code: "match_not_found",
        detail: "no such match".into(),
    }
}

/// Which side of a match someone is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchSide {
    Broker,
    Need,
    Target,
    Moderator,
}

fn match_side(
    who: &Actor,
    m: &MatchRow,
    need: &ListingRow,
    target: &ListingRow,
) -> Option<MatchSide> {
    if who.is_member(Some(m.broker_org_id)) {
        Some(MatchSide::Broker)
    } else if who.owns(need.owner()) {
        Some(MatchSide::Need)
    } else if who.owns(target.owner()) {
        Some(MatchSide::Target)
    } else if who.answers_for(need.owner()) {
        Some(MatchSide::Need)
    } else if who.answers_for(target.owner()) {
        // An imported expert profile: the moderators answer for it.
        Some(MatchSide::Target)
    } else if who.is_moderator() {
        Some(MatchSide::Moderator)
    } else {
        None
    }
}

fn match_view(
    m: &MatchRow,
    need: &ListingRow,
    target: &ListingRow,
    side: MatchSide,
    broker: Option<&OrgContact>,
) -> MatchView {
    let proposed = m.status == MatchStatus::Proposed;
    let actions = match side {
        MatchSide::Need | MatchSide::Target if proposed => vec!["take-up".to_owned()],
        MatchSide::Broker if proposed => vec!["withdraw".to_owned()],
        _ => Vec::new(),
    };
    MatchView {
        id: m.id,
        status: m.status,
        need: MatchListingRef {
            kind: Kind::Need,
            id: need.id,
            title: need.data.title.clone(),
        },
        target: MatchListingRef {
            kind: m.target_kind,
            id: target.id,
            title: target.data.title.clone(),
        },
        note: m.note.clone(),
        broker_organization_id: m.broker_org_id,
        broker_organization: broker.map(|o| o.name.clone()).unwrap_or_default(),
        broker_organization_verified: broker.is_some_and(|o| o.verified_at.is_some()),
        deal_id: m.deal_id,
        created_at: utc(m.created_at),
        updated_at: utc(m.updated_at),
        actions,
    }
}

fn load_pair(conn: &mut DbConn, m: &MatchRow) -> Result<(ListingRow, ListingRow), ApiError> {
    let need = listings::find(conn, m.need_id)?.ok_or_else(match_not_found)?;
    let target = listings::find(conn, m.target_id)?.ok_or_else(match_not_found)?;
    Ok((need, target))
}

fn published(conn: &mut DbConn, id: i64, kind: Kind, field: &str) -> Result<ListingRow, ApiError> {
    match listings::find(conn, id)? {
        Some(l) if l.kind() == kind && l.status() == Status::Published => Ok(l),
        _ => Err(ApiError::invalid(
            field,
            format!("no published {} has this id", kind.noun()),
        )),
    }
}

/// The people of a listing's side, for a match notification.
fn listing_recipients(conn: &mut DbConn, l: &ListingRow) -> Result<Vec<Recipient>, ApiError> {
    Ok(repo::answering(conn, l.owner_user_id, l.organization_id)?
        .into_iter()
        .map(super::notify::recipient)
        .collect())
}

fn match_ctx(m: &MatchRow, need: &ListingRow, target: &ListingRow) -> serde_json::Value {
    json!({"id": m.id, "need_title": need.data.title, "target_title": target.data.title,
           "target_kind": m.target_kind})
}

/// Proposes a match; both sides are told.
pub async fn propose(
    state: &AppState,
    caller: Caller,
    req: ProposeMatch,
) -> Result<MatchView, ApiError> {
    let mut v = Violations::new();
    let need_id = v.required("need_id", req.need_id, Ok);
    let target = match (req.technology_id, req.expert_id) {
        (Some(t), None) => Some((t, Kind::Technology, "technology_id")),
        (None, Some(e)) => Some((e, Kind::Expert, "expert_id")),
        (Some(_), Some(_)) => {
            v.add("expert_id", "give technology_id or expert_id, not both");
            None
        }
        (None, None) => {
            v.add("technology_id", "is required (or expert_id)");
            None
        }
    };
    let note = v
        .optional("note", req.note, |s| optional_text(&s, 2000))
        .flatten()
        .flatten();
    v.finish()?;
    let (Some(need_id), Some((target_id, target_kind, target_field))) = (need_id, target) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    let st = state.clone();
    let view = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let who = Actor::signed_in(conn, &caller)?;
                let brokers = organizations::brokers_among(conn, &who.org_ids())?;
                let broker_org =
                    match (req.organization_id, brokers.as_slice()) {
                        (Some(id), _) if brokers.contains(&id) => id,
                        (Some(_), _) => {
                            return Err(ApiError::invalid(
                                "organization_id",
                                "is not a broker organisation you belong to",
                            ))
                        }
                        (None, [only]) => *only,
                        (None, []) => {
                            return Err(ApiError::forbidden(
                                "only members of a broker organisation can propose matches",
                            ))
                        }
                        (None, _) => return Err(ApiError::invalid(
                            "organization_id",
                            "you belong to several broker organisations: say which one proposes",
                        )),
                    };
                let need = published(conn, need_id, Kind::Need, "need_id")?;
                let target = published(conn, target_id, target_kind, target_field)?;
                let now = db::now();
                let id = repo::insert_match(
                    conn,
                    &NewMatch {
                        broker_org_id: broker_org,
                        broker_user_id: Some(caller.user_id),
                        need_id,
                        target_id,
                        target_kind,
                        note: note.clone(),
                        status: MatchStatus::Proposed,
                        created_at: now,
                        updated_at: now,
                    },
                )
                .map_err(|e| {
                    if db::is_unique_violation(&e) {
                        ApiError::Conflict {
                            code: "match_exists",
                            detail: "this need and this listing already have an open proposal"
                                .into(),
                        }
                    } else {
                        e.into()
                    }
                })?;
                let m = repo::find_match(conn, id)?.ok_or_else(match_not_found)?;
                let broker = organizations::contact(conn, broker_org)?;
                let broker_org_name = broker.as_ref().map(|o| o.name.clone()).unwrap_or_default();
                let broker_person = repo::display_name(conn, caller.user_id)?;
                let ctx = match_ctx(&m, &need, &target);
                let path = format!("/matches/{id}");
                for (side, listing) in [("need", &need), ("target", &target)] {
                    let recipients = listing_recipients(conn, listing)?;
                    outbox::queue(
                        conn,
                        &st.settings,
                        &Notice {
                            event: Event::MatchProposed,
                            key: &format!("match:{id}:proposed:{side}"),
                            path: &path,
                        },
                        &recipients,
                        |_| {
                            json!({"match": ctx, "broker_name": broker_person,
                                   "broker_org": broker_org_name, "note": note, "side": side})
                        },
                    )?;
                }
                tracing::info!(match_id = id, need_id, target_id, "match proposed");
                Ok(match_view(
                    &m,
                    &need,
                    &target,
                    MatchSide::Broker,
                    broker.as_ref(),
                ))
            })
        })
        .await?;
    state.wake_outbox();
    Ok(view)
}

pub async fn get(state: &AppState, caller: Caller, id: i64) -> Result<MatchView, ApiError> {
    state
        .db
        .run(move |conn| {
            let who = Actor::signed_in(conn, &caller)?;
            let m = repo::find_match(conn, id)?.ok_or_else(match_not_found)?;
            let (need, target) = load_pair(conn, &m)?;
            let side = match_side(&who, &m, &need, &target).ok_or_else(match_not_found)?;
            Ok(match_view(
                &m,
                &need,
                &target,
                side,
                organizations::contact(conn, m.broker_org_id)?.as_ref(),
            ))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProposedMatchesQuery {
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchList {
    pub total: i64,
    pub items: Vec<MatchView>,
}

/// Matches your broker organisations proposed, and those about your listings.
pub async fn list(
    state: &AppState,
    caller: Caller,
    q: ProposedMatchesQuery,
) -> Result<MatchList, ApiError> {
    let mut v = Violations::new();
    let Page { limit, offset } = page(&mut v, q.limit, q.offset);
    v.finish()?;
    state
        .db
        .run(move |conn| {
            let who = Actor::signed_in(conn, &caller)?;
            let brokers = organizations::brokers_among(conn, &who.org_ids())?;
            let owned = repo::owned_listing_ids(conn, who.account()?, &who.org_ids())?;
            let (total, rows) =
                repo::list_matches(conn, who.is_moderator(), &brokers, &owned, limit, offset)?;
            // The page's listings and broker organisations in two queries, whatever its
            // length.
            let mut ids: Vec<i64> = rows.iter().flat_map(|m| [m.need_id, m.target_id]).collect();
            ids.sort_unstable();
            ids.dedup();
            let found = listings::find_many(conn, &ids)?;
            let mut org_ids: Vec<i64> = rows.iter().map(|m| m.broker_org_id).collect();
            org_ids.sort_unstable();
            org_ids.dedup();
            let orgs = organizations::contacts(conn, &org_ids)?;
            let items = rows
                .iter()
                .map(|m| {
                    let (Some(need), Some(target)) =
                        (found.get(&m.need_id), found.get(&m.target_id))
                    else {
                        return Err(ApiError::internal(format!("match {} lost a listing", m.id)));
                    };
                    let side = match_side(&who, m, need, target).unwrap_or(MatchSide::Moderator);
                    Ok(match_view(
                        m,
                        need,
                        target,
                        side,
                        orgs.get(&m.broker_org_id),
                    ))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(MatchList { total, items })
        })
        .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeUpRequest {
    /// Your first message to the other side; a default one naming the match is used if
    /// left out.
    #[schema(schema_with = crate::validate::schema::text_or_null::<1, 5000>)]
    pub message: Option<String>,
    /// The organisation you act for, when you belong to several.
    pub organization_id: Option<i64>,
}

/// Either side takes up a proposal: a deal opens about the other side's listing, with the
/// broker attached; the other side and the broker are told.
pub async fn take_up(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: TakeUpRequest,
) -> Result<DealView, ApiError> {
    let mut v = Violations::new();
    let message = v
        .optional("message", req.message, |s| text(&s, 1, 5000))
        .flatten();
    v.finish()?;
    let st = state.clone();
    let view = state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let who = Actor::signed_in(conn, &caller)?;
                let m = repo::lock_match(conn, id)?.ok_or_else(match_not_found)?;
                let (need, target) = load_pair(conn, &m)?;
                let side = match_side(&who, &m, &need, &target).ok_or_else(match_not_found)?;
                let about = match side {
                    MatchSide::Need => &target,
                    MatchSide::Target => &need,
                    MatchSide::Broker | MatchSide::Moderator => {
                        return Err(ApiError::forbidden(
                            "only the need's side or the other listing's side can take up a match",
                        ))
                    }
                };
                if m.status != MatchStatus::Proposed {
                    return Err(ApiError::InvalidTransition {
                        detail: format!("this match is {}", m.status),
                        current: m.status.as_str().into(),
                        allowed: Vec::new(),
                    });
                }
                if about.status() != Status::Published {
                    return Err(ApiError::Conflict {
                        code: "listing_unavailable",
                        detail: "the other listing is no longer published".into(),
                    });
                }
                let broker_person = m
                    .broker_user_id
                    .map(|u| repo::display_name(conn, u))
                    .transpose()?
                    .filter(|n| !n.is_empty());
                let broker_org_name = organizations::name_of(conn, m.broker_org_id)?;
                let broker_label = match &broker_person {
                    Some(p) => format!("{p} ({broker_org_name})"),
                    None => broker_org_name.clone(),
                };
                let message = message.unwrap_or_else(|| {
                    format!(
                        "Kết nối theo đề xuất của {broker_label}: “{}” ↔ “{}”.",
                        need.data.title, target.data.title
                    )
                });
                // By default the taker acts for the organisation of its own listing.
                let own = if side == MatchSide::Need {
                    &need
                } else {
                    &target
                };
                let acting_for = req
                    .organization_id
                    .or(own.organization_id.filter(|o| who.is_member(Some(*o))));
                let deal = service::start(
                    conn,
                    &st,
                    &who,
                    about,
                    acting_for,
                    &message,
                    Some((&m, broker_label)),
                )?;
                let now = db::now();
                repo::set_match_status(conn, m.id, MatchStatus::TakenUp, Some(deal.id), now)?;
                // The broker hears that the proposal was taken up.
                let taker = repo::display_name(conn, who.account()?)?;
                let taker_org = super::transition::OrgLabel::of(conn, deal.requester_org_id)?;
                let ctx = match_ctx(&m, &need, &target);
                super::notify::tell(
                    conn,
                    &st.settings,
                    &deal,
                    Event::MatchTakenUp,
                    &format!("match:{}:taken_up", m.id),
                    &[super::model::Side::Broker],
                    Some(who.account()?),
                    |_| json!({"match": ctx, "actor_name": taker, "actor_org": taker_org}),
                )?;
                views::view(conn, &deal, about, super::model::Side::Requester)
            })
        })
        .await?;
    state.wake_outbox();
    Ok(view)
}

/// The broker withdraws a proposal nobody has taken up.
pub async fn withdraw(state: &AppState, caller: Caller, id: i64) -> Result<MatchView, ApiError> {
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let who = Actor::signed_in(conn, &caller)?;
                let m = repo::lock_match(conn, id)?.ok_or_else(match_not_found)?;
                let (need, target) = load_pair(conn, &m)?;
                let side = match_side(&who, &m, &need, &target).ok_or_else(match_not_found)?;
                if side != MatchSide::Broker {
                    return Err(ApiError::forbidden("only the broker can withdraw a match"));
                }
                if m.status != MatchStatus::Proposed {
                    return Err(ApiError::InvalidTransition {
                        detail: format!("this match is {}", m.status),
                        current: m.status.as_str().into(),
                        allowed: Vec::new(),
                    });
                }
                let now = db::now();
                repo::set_match_status(conn, m.id, MatchStatus::Withdrawn, None, now)?;
                let m = repo::find_match(conn, id)?.ok_or_else(match_not_found)?;
                Ok(match_view(
                    &m,
                    &need,
                    &target,
                    side,
                    organizations::contact(conn, m.broker_org_id)?.as_ref(),
                ))
            })
        })
        .await
}
