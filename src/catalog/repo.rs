//! Listing storage: rows, their events, and the change log the search index follows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{EventAction, Kind, ListingData, ListingRow, NewListing, Status};
use crate::db::schema::{listing_changes, listing_events, listings as l};
use crate::db::{DbConn, MultiBackend};
use crate::per_backend;

pub fn insert(conn: &mut DbConn, new: &NewListing) -> QueryResult<i64> {
    per_backend!(conn, |c| diesel::insert_into(l::table)
        .values(new)
        .returning(l::id)
        .get_result(c))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<ListingRow>> {
    l::table
        .find(id)
        .select(ListingRow::as_select())
        .first(conn)
        .optional()
}

/// The listings with these ids, by id (missing ones left out).
pub fn find_many(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, ListingRow>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<ListingRow> = l::table
        .filter(l::id.eq_any(ids.to_vec()))
        .select(ListingRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

pub fn find_external(
    conn: &mut DbConn,
    kind: Kind,
    external_id: &str,
) -> QueryResult<Option<ListingRow>> {
    l::table
        .filter(l::kind.eq(kind))
        .filter(l::external_id.eq(external_id))
        .select(ListingRow::as_select())
        .first(conn)
        .optional()
}

/// Replaces the content if the version still matches; answers the rows changed (0 when
/// someone else changed it first).
pub fn update_content(
    conn: &mut DbConn,
    id: i64,
    expected_version: i64,
    data: &ListingData,
    status: Status,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(l::table.find(id).filter(l::version.eq(expected_version)))
        .set((
            data,
            l::status.eq(status),
            l::version.eq(expected_version + 1),
            l::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Moves a listing from one state to another if it is still in `from`.
#[allow(clippy::too_many_arguments)]
pub fn set_status(
    conn: &mut DbConn,
    id: i64,
    from: Status,
    to: Status,
    rejection_reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = l::table.find(id).filter(l::status.eq(from));
    let base = (
        l::status.eq(to),
        l::rejection_reason.eq(rejection_reason),
        l::version.eq(l::version + 1),
        l::updated_at.eq(now),
    );
    match to {
        Status::PendingReview => diesel::update(target)
            .set((base, l::submitted_at.eq(Some(now))))
            .execute(conn),
        Status::Published => diesel::update(target)
            .set((base, l::published_at.eq(Some(now))))
            .execute(conn),
        _ => diesel::update(target).set(base).execute(conn),
    }
}

/// Overwrites content and status for an import (a moderator's trusted source).
pub fn overwrite(
    conn: &mut DbConn,
    id: i64,
    organization_id: Option<i64>,
    data: &ListingData,
    status: Status,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(l::table.find(id))
        .set((
            data,
            l::organization_id.eq(organization_id),
            l::status.eq(status),
            l::rejection_reason.eq(None::<String>),
            l::version.eq(l::version + 1),
            l::updated_at.eq(now),
            l::published_at.eq(Some(now)),
        ))
        .execute(conn)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(l::table.find(id)).execute(conn)
}

#[allow(clippy::too_many_arguments)]
pub fn record_event(
    conn: &mut DbConn,
    listing_id: i64,
    actor: Option<i64>,
    action: EventAction,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(listing_events::table)
        .values((
            listing_events::listing_id.eq(listing_id),
            listing_events::actor_user_id.eq(actor),
            listing_events::action.eq(action),
            listing_events::from_status.eq(from),
            listing_events::to_status.eq(to),
            listing_events::note.eq(note),
            listing_events::created_at.eq(now),
        ))
        .execute(conn)
}

/// An event to record in bulk.
#[derive(Debug, Insertable)]
#[diesel(table_name = listing_events)]
pub struct NewEvent {
    pub listing_id: i64,
    pub actor_user_id: Option<i64>,
    pub action: EventAction,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub created_at: NaiveDateTime,
}

/// A change to record in bulk.
#[derive(Debug, Insertable)]
#[diesel(table_name = listing_changes)]
pub struct NewChange {
    pub listing_id: i64,
    pub changed_at: NaiveDateTime,
}

/// Records many events and changes in two statements (bulk imports).
pub fn record_bulk(
    conn: &mut DbConn,
    events: &[NewEvent],
    changes: &[NewChange],
) -> QueryResult<()> {
    // Multi-row VALUES, kept well under both backends' limits on bound parameters.
    for chunk in events.chunks(1_000) {
        per_backend!(&mut *conn, |c| diesel::insert_into(listing_events::table)
            .values(chunk)
            .execute(c))?;
    }
    for chunk in changes.chunks(5_000) {
        per_backend!(&mut *conn, |c| diesel::insert_into(listing_changes::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// The listings of one kind with these external ids.
pub fn find_externals(
    conn: &mut DbConn,
    kind: Kind,
    external_ids: &[String],
) -> QueryResult<Vec<ListingRow>> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    l::table
        .filter(l::kind.eq(kind))
        .filter(l::external_id.eq_any(external_ids.to_vec()))
        .select(ListingRow::as_select())
        .load(conn)
}

/// Notes that a listing changed, in the caller's transaction, for the search index.
pub fn record_change(conn: &mut DbConn, listing_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::insert_into(listing_changes::table)
        .values((
            listing_changes::listing_id.eq(listing_id),
            listing_changes::changed_at.eq(now),
        ))
        .execute(conn)
}

/// Who may see what in a listing query.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Moderators: everything.
    All,
    /// Everyone else: published listings, plus those of their organisations and their own
    /// expert profile.
    Visible {
        org_ids: Vec<i64>,
        user_id: Option<i64>,
    },
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub kind: Option<Kind>,
    pub status: Option<Status>,
    /// Code prefix: `2` matches every engineering sector, `207` only environmental engineering.
    pub field: Option<String>,
    pub priority_area: Option<String>,
    pub organization_id: Option<i64>,
    pub external_id: Option<String>,
    /// Leave out confidential needs (whose owner must not be inferable from the filter).
    pub exclude_confidential: bool,
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Newest,
    Title,
    /// Oldest submission first: the moderation queue.
    Submitted,
}

fn filtered(f: &Filter) -> l::BoxedQuery<'static, MultiBackend> {
    let mut q = l::table.into_boxed::<MultiBackend>();
    if let Some(k) = f.kind {
        q = q.filter(l::kind.eq(k));
    }
    if let Some(s) = f.status {
        q = q.filter(l::status.eq(s));
    }
    if let Some(code) = &f.field {
        q = q.filter(l::fields.like(format!("%\"{code}%")));
    }
    if let Some(area) = &f.priority_area {
        q = q.filter(l::priority_areas.like(format!("%\"{area}\"%")));
    }
    if let Some(org) = f.organization_id {
        q = q.filter(l::organization_id.eq(org));
    }
    if let Some(ext) = &f.external_id {
        q = q.filter(l::external_id.eq(ext.clone()));
    }
    if f.exclude_confidential {
        q = q.filter(l::confidential.eq(false));
    }
    if let Scope::Visible { org_ids, user_id } = &f.scope {
        let mine = l::organization_id
            .eq_any(org_ids.clone())
            .or(l::owner_user_id.eq(user_id.unwrap_or(-1)));
        q = q.filter(l::status.eq(Status::Published).nullable().or(mine));
    }
    q
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> QueryResult<(i64, Vec<ListingRow>)> {
    let total = filtered(f).count().get_result(conn)?;
    let q = filtered(f)
        .select(ListingRow::as_select())
        .limit(limit)
        .offset(offset);
    let items = match sort {
        Sort::Newest => q.order((l::created_at.desc(), l::id.desc())).load(conn)?,
        Sort::Title => q.order((l::title.asc(), l::id.asc())).load(conn)?,
        Sort::Submitted => q.order((l::submitted_at.asc(), l::id.asc())).load(conn)?,
    };
    Ok((total, items))
}

/// A page of listings after `after_id` in id order, for exports.
pub fn page_after(
    conn: &mut DbConn,
    kind: Kind,
    status: Status,
    after_id: i64,
    limit: i64,
) -> QueryResult<Vec<ListingRow>> {
    l::table
        .filter(l::kind.eq(kind))
        .filter(l::status.eq(status))
        .filter(l::id.gt(after_id))
        .order(l::id.asc())
        .limit(limit)
        .select(ListingRow::as_select())
        .load(conn)
}
