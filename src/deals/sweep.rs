//! Time-driven steps: a reminder to the side asked before an unanswered request expires,
//! and the expiry itself. Run by the worker; safe to run in several processes at once
//! (each deal is locked and its state re-checked, and notifications carry dedup keys).

use chrono::Duration;
use serde_json::json;

use super::model::{DealStatus, EventKind, Side};
use super::notify::{deal_ctx, tell};
use super::repo::{self, DealChange};
use super::transition::{apply, record, Step};
use crate::catalog::repo as listings;
use crate::db;
use crate::http::error::ApiError;
use crate::notify::{format, Event};
use crate::state::AppState;

const BATCH: i64 = 100;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub reminded: usize,
    pub expired: usize,
}

pub async fn sweep(state: &AppState) -> Result<Swept, ApiError> {
    let st = state.clone();
    let swept = state
        .db
        .run(move |conn| {
            let cfg = &st.settings.deals;
            let now = db::now();
            let mut swept = Swept::default();
            let remind_from = now + Duration::seconds(cfg.reminder_before_seconds);
            for id in repo::due_for_reminder(conn, remind_from, now, BATCH)? {
                let done = db::write_tx(conn, |conn| {
                    let Some(deal) = repo::lock_deal(conn, id)? else {
                        return Ok::<_, ApiError>(false);
                    };
                    if deal.status() != DealStatus::Requested || deal.reminded_at.is_some() {
                        return Ok(false);
                    }
                    let Some(listing) = listings::find(conn, deal.listing_id)? else {
                        return Ok(false);
                    };
                    apply(
                        conn,
                        &deal,
                        &DealChange {
                            reminded_at: Some(Some(now)),
                            ..Default::default()
                        },
                        now,
                    )?;
                    record(
                        conn,
                        &deal,
                        Step {
                            actor: None,
                            side: Side::System,
                            kind: EventKind::ReminderSent,
                            to: None,
                            message: None,
                            offer_id: None,
                            details: None,
                        },
                        now,
                    )?;
                    let requester = repo::display_name(conn, deal.requester_user_id)?;
                    let ctx = deal_ctx(&deal, &listing);
                    let expires = deal.expires_at.date();
                    let days_left = (deal.expires_at - now).num_days().max(0);
                    tell(
                        conn,
                        &st.settings,
                        &deal,
                        Event::DealReminder,
                        &format!("deal:{}:reminder", deal.id),
                        &[Side::Owner],
                        None,
                        |locale| {
                            json!({"deal": ctx, "actor_name": requester,
                                   "respond_by": format::date(expires, locale), "days_left": days_left})
                        },
                    )?;
                    Ok(true)
                })?;
                swept.reminded += usize::from(done);
            }
            for id in repo::due_to_expire(conn, now, BATCH)? {
                let done = db::write_tx(conn, |conn| {
                    let Some(deal) = repo::lock_deal(conn, id)? else {
                        return Ok::<_, ApiError>(false);
                    };
                    if deal.status() != DealStatus::Requested || deal.expires_at > now {
                        return Ok(false);
                    }
                    let Some(listing) = listings::find(conn, deal.listing_id)? else {
                        return Ok(false);
                    };
                    apply(
                        conn,
                        &deal,
                        &DealChange {
                            status: Some(DealStatus::Expired),
                            closed_at: Some(Some(now)),
                            ..Default::default()
                        },
                        now,
                    )?;
                    let event = record(
                        conn,
                        &deal,
                        Step {
                            actor: None,
                            side: Side::System,
                            kind: EventKind::Expired,
                            to: Some(DealStatus::Expired),
                            message: None,
                            offer_id: None,
                            details: None,
                        },
                        now,
                    )?;
                    let ctx = deal_ctx(&deal, &listing);
                    for (sides, to_requester) in [
                        (&[Side::Requester, Side::Broker][..], true),
                        (&[Side::Owner][..], false),
                    ] {
                        tell(
                            conn,
                            &st.settings,
                            &deal,
                            Event::DealExpired,
                            &format!("deal-event:{event}"),
                            sides,
                            None,
                            |_| json!({"deal": ctx, "to_requester": to_requester}),
                        )?;
                    }
                    Ok(true)
                })?;
                swept.expired += usize::from(done);
            }
            Ok(swept)
        })
        .await?;
    if swept != Swept::default() {
        tracing::info!(
            reminded = swept.reminded,
            expired = swept.expired,
            "deal sweep"
        );
        state.wake_outbox();
    }
    Ok(swept)
}
