//! Who hears about what happens in a deal, in their own language.

use serde_json::{json, Value};

use super::model::{DealRow, OfferRow, Side};
use super::repo::{self, Person};
use crate::accounts::model::Locale;
use crate::catalog::model::ListingRow;
use crate::config::Settings;
use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::notify::format;
use crate::notify::outbox::{self, Notice, Recipient};
use crate::notify::Event;
use crate::organizations::repo as organizations;

pub fn recipient(p: Person) -> Recipient {
    Recipient {
        user_id: Some(p.id),
        email: p.email,
        name: p.display_name,
        locale: p.locale,
    }
}

/// The people on one side of a deal. The side asked is its organisation's members (or,
/// when no one has joined it yet, its contact address), or the expert's own account.
pub fn side_recipients(
    conn: &mut DbConn,
    deal: &DealRow,
    side: Side,
) -> Result<Vec<Recipient>, ApiError> {
    let people = match side {
        Side::Requester => repo::people(conn, &[deal.requester_user_id])?,
        Side::Owner => match (deal.owner_user_id, deal.owner_org_id) {
            (None, Some(org)) => {
                let members = repo::members_of(conn, org)?;
                if members.is_empty() {
                    return Ok(organizations::contact(conn, org)?
                        .and_then(|o| {
                            o.email.map(|email| Recipient {
                                user_id: None,
                                email,
                                name: o.name,
                                locale: Locale::Vi,
                            })
                        })
                        .into_iter()
                        .collect());
                }
                members
            }
            (user, org) => repo::answering(conn, user, org)?,
        },
        Side::Broker => match (deal.broker_user_id, deal.broker_org_id) {
            (Some(user), _) => repo::people(conn, &[user])?,
            (None, Some(org)) => repo::members_of(conn, org)?,
            (None, None) => Vec::new(),
        },
        Side::Moderator | Side::System => Vec::new(),
    };
    Ok(people.into_iter().map(recipient).collect())
}

/// The `deal` object every deal template receives.
pub fn deal_ctx(deal: &DealRow, listing: &ListingRow) -> Value {
    json!({
        "id": deal.id,
        "listing_title": listing.data.title,
        "listing_kind": deal.listing_kind,
    })
}

/// An offer's terms as a template prints them.
pub fn offer_ctx(offer: &OfferRow, locale: Locale) -> Value {
    json!({
        "mode_label": format::transfer_mode(&offer.transfer_mode, locale),
        "price": offer.price_vnd.map(|p| format::vnd(p, locale)),
        "duration_months": offer.duration_months,
        "territory": offer.territory,
        "conditions": offer.conditions,
    })
}

/// Queues `event` for the people of `sides`, leaving out the person who caused it.
#[allow(clippy::too_many_arguments)]
pub fn tell(
    conn: &mut DbConn,
    settings: &Settings,
    deal: &DealRow,
    event: Event,
    key: &str,
    sides: &[Side],
    actor: Option<i64>,
    ctx: impl Fn(Locale) -> Value,
) -> Result<usize, ApiError> {
    let mut recipients = Vec::new();
    for side in sides {
        recipients.extend(
            side_recipients(conn, deal, *side)?
                .into_iter()
                .filter(|r| r.user_id.is_none() || r.user_id != actor),
        );
    }
    let path = format!("/deals/{}", deal.id);
    outbox::queue(
        conn,
        settings,
        &Notice {
            event,
            key,
            path: &path,
        },
        &recipients,
        ctx,
    )
}
