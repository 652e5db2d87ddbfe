//! The email outbox: rows written in the transaction of the change that causes them,
//! claimed by workers (with `SKIP LOCKED` on PostgreSQL, so several can share the table),
//! and marked sent, retried later, or dead.

use std::collections::HashSet;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::prefs;
use super::templates::{self, Category, Event};
use crate::config::Settings;
use crate::db::schema::outbox as ob;
use crate::db::text_enum::text_enum;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::locale::Locale;
use crate::per_backend;

text_enum! {
    /// Where a message stands: waiting (or being retried), delivered, or given up on.
    pub enum OutboxStatus {
        Pending = "pending",
        Sent = "sent",
        Dead = "dead",
    }
}

/// Someone to write to, in their language.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// The account, when there is one (its notification preferences apply).
    pub user_id: Option<i64>,
    pub email: String,
    pub name: String,
    pub locale: Locale,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = ob)]
pub struct OutboxRow {
    pub id: i64,
    pub dedup_key: String,
    /// The event's name as the node that queued it spelt it. Kept as text: the message
    /// was rendered when queued, so a worker that does not know a newer event still
    /// delivers it (one unknown row must not stop every delivery of a rolling upgrade).
    pub template: String,
    pub recipient_user_id: Option<i64>,
    pub to_address: String,
    pub to_name: Option<String>,
    /// As the queueing node wrote it (see `template`).
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = ob)]
struct NewOutbox<'a> {
    dedup_key: &'a str,
    template: Event,
    recipient_user_id: Option<i64>,
    to_address: &'a str,
    to_name: Option<&'a str>,
    locale: Locale,
    subject: &'a str,
    body_text: &'a str,
    body_html: &'a str,
    status: OutboxStatus,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// What a change asks to be told, before it is addressed to anyone.
pub struct Notice<'a> {
    pub event: Event,
    /// Identifies the occurrence (e.g. `deal-event:42`); with the address it is the dedup
    /// key, so the same occurrence is never queued twice for one address.
    pub key: &'a str,
    /// Path of the page the email links to, under `server.public_url`.
    pub path: &'a str,
}

/// Queues `notice` for every recipient who wants it, inside the caller's transaction.
/// `ctx` gives the template's variables in a language (amounts and labels differ).
/// Answers how many messages were queued.
pub fn queue<C: Serialize>(
    conn: &mut DbConn,
    settings: &Settings,
    notice: &Notice<'_>,
    recipients: &[Recipient],
    ctx: impl Fn(Locale) -> C,
) -> Result<usize, ApiError> {
    let base = settings.server.public_url.trim_end_matches('/');
    let action_url = format!("{base}{}", notice.path);
    let settings_url = format!("{base}/settings/notifications");
    let now = db::now();
    let mut seen = HashSet::new();
    let mut queued = 0;
    for r in recipients {
        let address = r.email.trim().to_lowercase();
        if address.is_empty() || !seen.insert(address.clone()) {
            continue;
        }
        let category = notice.event.category();
        if let Some(user_id) = r.user_id {
            if category != Category::Account && !prefs::wants(conn, user_id, category)? {
                continue;
            }
        }
        let rendered = templates::render(
            notice.event,
            r.locale,
            &r.name,
            &action_url,
            &settings_url,
            ctx(r.locale),
        )
        .map_err(|e| ApiError::internal(format!("template {}: {e:#}", notice.event.name())))?;
        let key = format!("{}:{address}", notice.key);
        let row = NewOutbox {
            dedup_key: &key,
            template: notice.event,
            recipient_user_id: r.user_id,
            to_address: r.email.trim(),
            to_name: Some(r.name.as_str()).filter(|n| !n.is_empty()),
            locale: r.locale,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: &rendered.html,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        };
        queued += per_backend!(&mut *conn, |c| diesel::insert_into(ob::table)
            .values(&row)
            .on_conflict(ob::dedup_key)
            .do_nothing()
            .execute(c))?;
    }
    Ok(queued)
}

/// Takes up to `limit` due messages for this worker until `now + lease`. Rows another
/// worker holds are skipped, not waited for.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    db::write_tx(conn, |conn| {
        let due = ob::table
            .filter(ob::status.eq(OutboxStatus::Pending))
            .filter(ob::next_attempt_at.le(now))
            .filter(ob::locked_until.is_null().or(ob::locked_until.lt(now)))
            .order((ob::next_attempt_at, ob::id))
            .limit(limit)
            .select(ob::id);
        let ids: Vec<i64> = match &mut *conn {
            DbConn::Postgres(c) => due.for_update().skip_locked().load(c)?,
            // One writer at a time on SQLite (`BEGIN IMMEDIATE`): nothing to skip.
            DbConn::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(ob::table.filter(ob::id.eq_any(&ids)))
            .set(ob::locked_until.eq(now + lease))
            .execute(conn)?;
        ob::table
            .filter(ob::id.eq_any(&ids))
            .order(ob::id)
            .select(OutboxRow::as_select())
            .load(conn)
    })
}

/// Account mail carries single-use links: once delivered, the stored copy loses them.
fn carries_secret(template: &str) -> bool {
    matches!(
        Event::parse(template),
        Ok(Event::VerifyEmail | Event::PasswordReset)
    )
}

pub fn mark_sent(conn: &mut DbConn, row: &OutboxRow, now: NaiveDateTime) -> QueryResult<usize> {
    let target = ob::table
        .filter(ob::id.eq(row.id))
        .filter(ob::status.eq(OutboxStatus::Pending));
    if carries_secret(&row.template) {
        diesel::update(target)
            .set((
                ob::status.eq(OutboxStatus::Sent),
                ob::attempts.eq(row.attempts + 1),
                ob::sent_at.eq(now),
                ob::locked_until.eq(None::<NaiveDateTime>),
                ob::last_error.eq(None::<String>),
                ob::body_text.eq("(removed after delivery: it carried a single-use link)"),
                ob::body_html.eq(""),
            ))
            .execute(conn)
    } else {
        diesel::update(target)
            .set((
                ob::status.eq(OutboxStatus::Sent),
                ob::attempts.eq(row.attempts + 1),
                ob::sent_at.eq(now),
                ob::locked_until.eq(None::<NaiveDateTime>),
                ob::last_error.eq(None::<String>),
            ))
            .execute(conn)
    }
}

/// Records a failed attempt: retried at `retry_at`, or dead when `retry_at` is `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    row: &OutboxRow,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    let target = ob::table
        .filter(ob::id.eq(row.id))
        .filter(ob::status.eq(OutboxStatus::Pending));
    let error: String = error.chars().take(2000).collect();
    diesel::update(target)
        .set((
            ob::status.eq(if retry_at.is_some() {
                OutboxStatus::Pending
            } else {
                OutboxStatus::Dead
            }),
            ob::attempts.eq(row.attempts + 1),
            ob::next_attempt_at.eq(retry_at.unwrap_or(row.next_attempt_at)),
            ob::locked_until.eq(None::<NaiveDateTime>),
            ob::last_error.eq(Some(error)),
        ))
        .execute(conn)
}

/// How many messages are in each state.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
}

pub fn counts(conn: &mut DbConn) -> QueryResult<Counts> {
    let rows: Vec<(OutboxStatus, i64)> = ob::table
        .group_by(ob::status)
        .select((ob::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut c = Counts::default();
    for (status, n) in rows {
        match status {
            OutboxStatus::Pending => c.pending = n,
            OutboxStatus::Sent => c.sent = n,
            OutboxStatus::Dead => c.dead = n,
        }
    }
    Ok(c)
}

/// Messages in one state, oldest first.
pub fn list(conn: &mut DbConn, status: OutboxStatus, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    ob::table
        .filter(ob::status.eq(status))
        .order(ob::id)
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Every message whatever its state, oldest first (one statement, so a message changing
/// state meanwhile is seen once).
pub fn all(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    ob::table
        .order(ob::id)
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Puts dead messages (one, or all when `id` is `None`) back in the queue with fresh
/// attempts. Answers how many.
pub fn retry_dead(conn: &mut DbConn, id: Option<i64>, now: NaiveDateTime) -> QueryResult<usize> {
    let set = (
        ob::status.eq(OutboxStatus::Pending),
        ob::attempts.eq(0),
        ob::next_attempt_at.eq(now),
        ob::locked_until.eq(None::<NaiveDateTime>),
    );
    let dead = ob::table.filter(ob::status.eq(OutboxStatus::Dead));
    match id {
        Some(id) => diesel::update(dead.filter(ob::id.eq(id)))
            .set(set)
            .execute(conn),
        None => diesel::update(dead).set(set).execute(conn),
    }
}
