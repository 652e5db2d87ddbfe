//! Deal rules: who sees a deal and what of the other side, who may do what in which state,
//! offers and counter-offers, and the notifications each step sends.
//!
//! Every action locks the deal row first (PostgreSQL `FOR UPDATE`; SQLite's write
//! transaction holds the whole database), then checks the state: of two racing actions,
//! one wins and the other is answered 409 with the state it met.

use chrono::Duration;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::model::{
    DealAction, DealRow, DealStatus, DeclineReason, EventKind, NewDeal, OfferStatus, Side,
};
use super::notify::{deal_ctx, tell};
use super::repo::{self, DealChange};
use crate::accounts::model::Caller;
use crate::catalog::model::{Kind, ListingRow, Status};
use crate::catalog::repo as listings;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, Violations};
use crate::notify::{format, Event};
use crate::organizations::actor::{Acting, Actor};
use crate::state::AppState;
use crate::validate::schema::{optional_text as optional_text_schema, text as text_schema};
use crate::validate::{optional_text, text};

use super::rules::deal_not_found;
pub use super::rules::{allowed, managed_by_exchange, DealAccess};
use super::transition::{act, actor_name, named, record, Step, Transition};
use super::views::{view, DealView};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDealRequest {
    /// `technology`, `need` or `expert`.
    #[schema(required = true, value_type = Kind)]
    pub listing_kind: Option<String>,
    #[schema(required = true, value_type = i64)]
    pub listing_id: Option<i64>,
    /// What you want to discuss (up to 5 000 characters).
    #[schema(required = true, schema_with = text_schema::<1, 5000>)]
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
                let who = Actor::signed_in(conn, &caller)?;
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

/// Creates a request (directly, or from a broker's match) and tells the side asked.
pub fn start(
    conn: &mut DbConn,
    state: &AppState,
    who: &Actor,
    listing: &ListingRow,
    organization_id: Option<i64>,
    message: &str,
    broker: Option<(&super::model::MatchRow, String)>,
) -> Result<DealRow, ApiError> {
    // The side asked: the listing's organisation or the expert's account; nobody for an
    // imported expert profile, which the exchange's moderators answer for.
    let owner = listing.owner();
    let me = who.account()?;
    let requester_org = who.acting_organisation(organization_id, Acting::Asks)?;
    if who.is_moderator() && owner.is_nobody() {
        return Err(ApiError::invalid(
            "listing_id",
            "the exchange's moderators answer for this listing: you cannot ask yourselves",
        ));
    }
    if who.owns(owner) {
        return Err(ApiError::invalid(
            "listing_id",
            "this listing is your own side's",
        ));
    }
    // A contact request reaches another organisation's people: it comes from an address
    // someone has shown they read.
    let requester =
        crate::accounts::repo::find(conn, me)?.ok_or_else(|| ApiError::not_found("account"))?;
    if requester.email_verified_at.is_none() {
        return Err(ApiError::Refused {
            code: "email_unconfirmed",
            detail: "confirm your email address first (the link we sent; POST /api/v1/me/verify-email sends it again)".into(),
        });
    }
    if let Some(existing) = repo::open_deal_of(conn, listing.id, me)? {
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
        listing_kind: listing.kind,
        status: DealStatus::Requested,
        requester_user_id: me,
        requester_org_id: requester_org,
        owner_org_id: owner.org,
        owner_user_id: owner.user,
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
            actor: Some(me),
            side: Side::Requester,
            kind: EventKind::Requested,
            to: None,
            message: Some(message.to_owned()),
            offer_id: None,
            details: broker.as_ref().map(|(m, _)| json!({"match_id": m.id})),
        },
        now,
    )?;
    let (name, org) = actor_name(conn, &deal, listing, Side::Requester, me)?;
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
        Some(me),
        |locale| {
            json!({"deal": ctx, "actor_name": name, "actor_org": org, "message": message,
                   "respond_by": format::date(expires, locale), "broker_name": broker_name})
        },
    )?;
    tracing::info!(
        deal_id = id,
        listing_id = listing.id,
        user_id = me,
        "deal requested"
    );
    Ok(deal)
}

pub async fn accept(state: &AppState, caller: Caller, id: i64) -> Result<DealView, ApiError> {
    act(state, caller, id, Some(DealAction::Accept), |conn, turn| {
        let now = turn.now;
        turn.take(
            conn,
            Transition {
                change: Some(DealChange {
                    status: Some(DealStatus::Accepted),
                    responded_at: Some(Some(now)),
                    accepted_at: Some(Some(now)),
                    ..Default::default()
                }),
                kind: EventKind::Accepted,
                message: None,
                offer_id: None,
                details: None,
                event: Event::DealAccepted,
                tell: vec![Side::Requester, Side::Broker],
                tell_actor: false,
            },
            |_, t| json!({"deal": t.deal, "actor_name": t.actor_name, "actor_org": t.actor_org}),
        )?;
        Ok(())
    })
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// `not_relevant`, `too_early_stage`, `price`, `ip_unclear`, `no_capacity` or `other`.
    #[schema(required = true, value_type = DeclineReason)]
    pub reason: Option<String>,
    /// Free text; required with `other`.
    #[schema(schema_with = optional_text_schema::<2000>)]
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
    act(
        state,
        caller,
        id,
        Some(DealAction::Decline),
        move |conn, turn| {
            let now = turn.now;
            turn.take(
            conn,
            Transition {
                change: Some(DealChange {
                    status: Some(DealStatus::Declined),
                    decline_reason: Some(Some(reason)),
                    decline_note: Some(note.clone()),
                    responded_at: Some(Some(now)),
                    closed_at: Some(Some(now)),
                    ..Default::default()
                }),
                kind: EventKind::Declined,
                message: note.clone(),
                offer_id: None,
                details: Some(json!({"reason": reason.as_str()})),
                event: Event::DealDeclined,
                tell: vec![Side::Requester, Side::Broker],
                tell_actor: false,
            },
            |locale, t| {
                json!({"deal": t.deal, "reason_label": reason.label(locale), "reason_note": note})
            },
        )?;
            Ok(())
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// Why, for the other side (optional).
    #[schema(schema_with = optional_text_schema::<2000>)]
    pub note: Option<String>,
}

pub(super) fn parse_note(note: Option<String>) -> Result<Option<String>, ApiError> {
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
    let (to, kind, event) = match action {
        DealAction::Withdraw => (
            DealStatus::Withdrawn,
            EventKind::Withdrawn,
            Event::DealWithdrawn,
        ),
        _ => (DealStatus::Failed, EventKind::Closed, Event::DealFailed),
    };
    let note = parse_note(req.note)?;
    act(state, caller, id, Some(action), move |conn, turn| {
        let now = turn.now;
        repo::close_open_offers(conn, turn.deal.id, OfferStatus::Superseded, None, now)?;
        turn.take(
            conn,
            Transition {
                change: Some(DealChange {
                    status: Some(to),
                    close_note: Some(note.clone()),
                    closed_at: Some(Some(now)),
                    ..Default::default()
                }),
                kind,
                message: note.clone(),
                offer_id: None,
                details: None,
                event,
                tell: turn.others(),
                tell_actor: false,
            },
            |locale, t| {
                json!({"deal": t.deal, "actor_name": named(&t.actor_name, locale),
                       "actor_org": t.actor_org, "note": note})
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
    #[schema(required = true, schema_with = text_schema::<1, 5000>)]
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
    act(
        state,
        caller,
        id,
        Some(DealAction::Message),
        move |conn, turn| {
            turn.take(
            conn,
            Transition {
                change: None,
                kind: EventKind::Message,
                message: Some(body.clone()),
                offer_id: None,
                details: None,
                event: Event::DealMessage,
                tell: vec![Side::Requester, Side::Owner, Side::Broker],
                tell_actor: false,
            },
            |locale, t| {
                json!({"deal": t.deal, "actor_name": named(&t.actor_name, locale), "message": body})
            },
        )?;
            Ok(())
        },
    )
    .await
}
