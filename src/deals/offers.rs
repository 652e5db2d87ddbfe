//! Offers and counter-offers: made, answered, accepted or rejected.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::model::{DealAction, DealStatus, EventKind, NewOffer, OfferRow, OfferStatus, Side};
use super::notify::offer_ctx;
use super::repo::{self, DealChange};
use crate::accounts::model::Caller;
use crate::db::DbConn;
use crate::http::error::{ApiError, Violations};
use crate::notify::{format, Event};
use crate::state::AppState;
use crate::taxonomy;
use crate::validate::optional_text;

use super::rules::allowed;
use super::service::{parse_note, NoteRequest};
use super::transition::{act, Transition, Turn};
use super::views::DealView;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// A transfer mode code (see `/api/v1/taxonomy/transfer-modes`).
    #[schema(required = true, schema_with = crate::taxonomy::schema::transfer_mode)]
    pub transfer_mode: Option<String>,
    /// Price in whole đồng, 0–10^18.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub price_vnd: Option<i64>,
    /// 1–600 months.
    #[schema(minimum = 1, maximum = 600)]
    pub duration_months: Option<i32>,
    /// Where the rights apply, e.g. "Việt Nam".
    #[schema(schema_with = crate::validate::schema::optional_text::<200>)]
    pub territory: Option<String>,
    /// Other conditions (training, royalties, warranties…).
    #[schema(schema_with = crate::validate::schema::optional_text::<5000>)]
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
    act(
        state,
        caller,
        id,
        Some(DealAction::Offer),
        move |conn, turn| {
            let (deal, now) = (turn.deal, turn.now);
            let superseded: Vec<i64> = repo::offers(conn, deal.id)?
                .into_iter()
                .filter(|o| o.status == OfferStatus::Open)
                .map(|o| o.id)
                .collect();
            repo::close_open_offers(
                conn,
                deal.id,
                OfferStatus::Superseded,
                Some(turn.user_id),
                now,
            )?;
            let offer_id = repo::insert_offer(
                conn,
                &NewOffer {
                    deal_id: deal.id,
                    made_by_user_id: Some(turn.user_id),
                    side: turn.side,
                    transfer_mode: mode,
                    price_vnd: price,
                    duration_months: duration,
                    territory,
                    conditions,
                    status: OfferStatus::Open,
                    created_at: now,
                },
            )?;
            let offer = repo::find_offer(conn, offer_id)?
                .ok_or_else(|| ApiError::internal("offer vanished"))?;
            let counter = !superseded.is_empty();
            turn.take(
                conn,
                Transition {
                    // The first offer opens the negotiation.
                    change: Some(DealChange {
                        status: (deal.status() == DealStatus::Accepted)
                            .then_some(DealStatus::Negotiating),
                        ..Default::default()
                    }),
                    kind: EventKind::OfferMade,
                    message: None,
                    offer_id: Some(offer_id),
                    details: counter.then(|| json!({"supersedes": superseded})),
                    event: Event::OfferMade,
                    tell: turn.others(),
                    tell_actor: false,
                },
                |locale, t| {
                    json!({"deal": t.deal, "actor_name": t.actor_name, "actor_org": t.actor_org,
                       "offer": offer_ctx(&offer, locale), "counter": counter})
                },
            )?;
            Ok(())
        },
    )
    .await
}

/// The open offer the other side made: only the latest offer can be answered.
fn answerable(conn: &mut DbConn, turn: &Turn<'_>, offer_id: i64) -> Result<OfferRow, ApiError> {
    let (deal, side) = (turn.deal, turn.side);
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
    if offer.side.other() != Some(side) {
        return Err(ApiError::forbidden(
            "only the party the offer was made to may answer it",
        ));
    }
    if offer.status != OfferStatus::Open {
        let latest = offers.last().map(|o| o.id).unwrap_or(offer.id);
        return Err(ApiError::Conflict {
            code: if offer.status == OfferStatus::Superseded {
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
            current: deal.status.as_str().into(),
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
    act(state, caller, id, None, move |conn, turn| {
        let offer = answerable(conn, turn, offer_id)?;
        let now = turn.now;
        repo::decide_offer(conn, offer.id, OfferStatus::Accepted, turn.user_id, now)?;
        turn.take(
            conn,
            Transition {
                change: Some(DealChange {
                    status: Some(DealStatus::Agreed),
                    agreed_offer_id: Some(Some(offer.id)),
                    agreed_value_vnd: Some(offer.price_vnd),
                    closed_at: Some(Some(now)),
                    ..Default::default()
                }),
                kind: EventKind::Agreed,
                message: None,
                offer_id: Some(offer.id),
                details: Some(json!({"agreed_value_vnd": offer.price_vnd})),
                event: Event::DealAgreed,
                // Both parties and the broker get the record of the agreement.
                tell: vec![Side::Requester, Side::Owner, Side::Broker],
                tell_actor: true,
            },
            |locale, t| {
                json!({"deal": t.deal, "offer": offer_ctx(&offer, locale),
                       "value": offer.price_vnd.map(|p| format::vnd(p, locale))})
            },
        )?;
        tracing::info!(deal_id = turn.deal.id, offer_id = offer.id, "deal agreed");
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
    act(state, caller, id, None, move |conn, turn| {
        let offer = answerable(conn, turn, offer_id)?;
        let now = turn.now;
        repo::decide_offer(conn, offer.id, OfferStatus::Rejected, turn.user_id, now)?;
        let maker = offer.side;
        turn.take(
            conn,
            Transition {
                // Nothing but the version changes: a racing answer meets 409.
                change: Some(DealChange::default()),
                kind: EventKind::OfferRejected,
                message: note,
                offer_id: Some(offer.id),
                details: None,
                event: Event::OfferRejected,
                tell: vec![maker],
                tell_actor: false,
            },
            |locale, t| {
                json!({"deal": t.deal, "actor_name": t.actor_name,
                       "offer": offer_ctx(&offer, locale)})
            },
        )?;
        Ok(())
    })
    .await
}
