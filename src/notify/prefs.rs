//! Which optional emails each account wants. Account mail (verification, password reset,
//! security notices) is not optional and has no switch.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::templates::Category;
use crate::db::schema::notification_prefs as np;
use crate::db::{self, DbConn};
use crate::per_backend;

/// Email preferences of the signed-in account. Every switch is on for a new account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = np)]
pub struct NotificationPrefs {
    /// Requests, answers, offers, agreements and closings in your deals.
    pub deal_activity: bool,
    /// New messages in your deals.
    pub deal_messages: bool,
    /// Matches brokers propose to you, and their take-up.
    pub match_proposals: bool,
    /// Reminders of requests awaiting your answer.
    pub reminders: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self {
            deal_activity: true,
            deal_messages: true,
            match_proposals: true,
            reminders: true,
        }
    }
}

impl NotificationPrefs {
    fn allows(&self, category: Category) -> bool {
        match category {
            Category::Account => true,
            Category::DealActivity => self.deal_activity,
            Category::DealMessages => self.deal_messages,
            Category::MatchProposals => self.match_proposals,
            Category::Reminders => self.reminders,
        }
    }
}

/// The switches to change; those left out keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePrefs {
    pub deal_activity: Option<bool>,
    pub deal_messages: Option<bool>,
    pub match_proposals: Option<bool>,
    pub reminders: Option<bool>,
}

pub fn load(conn: &mut DbConn, user_id: i64) -> QueryResult<NotificationPrefs> {
    Ok(np::table
        .find(user_id)
        .select(NotificationPrefs::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// True when the account wants emails of this category.
pub fn wants(conn: &mut DbConn, user_id: i64, category: Category) -> QueryResult<bool> {
    if category == Category::Account {
        return Ok(true);
    }
    Ok(load(conn, user_id)?.allows(category))
}

fn save(conn: &mut DbConn, user_id: i64, p: &NotificationPrefs) -> QueryResult<usize> {
    let now = db::now();
    let values = (
        np::user_id.eq(user_id),
        np::deal_activity.eq(p.deal_activity),
        np::deal_messages.eq(p.deal_messages),
        np::match_proposals.eq(p.match_proposals),
        np::reminders.eq(p.reminders),
        np::updated_at.eq(now),
    );
    per_backend!(conn, |c| diesel::insert_into(np::table)
        .values(values)
        .on_conflict(np::user_id)
        .do_update()
        .set((
            np::deal_activity.eq(p.deal_activity),
            np::deal_messages.eq(p.deal_messages),
            np::match_proposals.eq(p.match_proposals),
            np::reminders.eq(p.reminders),
            np::updated_at.eq(now),
        ))
        .execute(c))
}

/// Applies the switches given and stores the result (in the caller's transaction).
pub fn update(conn: &mut DbConn, user_id: i64, u: UpdatePrefs) -> QueryResult<NotificationPrefs> {
    let mut p = load(conn, user_id)?;
    p.deal_activity = u.deal_activity.unwrap_or(p.deal_activity);
    p.deal_messages = u.deal_messages.unwrap_or(p.deal_messages);
    p.match_proposals = u.match_proposals.unwrap_or(p.match_proposals);
    p.reminders = u.reminders.unwrap_or(p.reminders);
    save(conn, user_id, &p)?;
    Ok(p)
}
