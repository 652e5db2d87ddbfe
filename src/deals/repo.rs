//! Storage of deals, their offers and timeline, and brokers' matches.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{
    DealRow, DealStatus, DeclineReason, EventRow, MatchRow, MatchStatus, NewDeal, NewEvent,
    NewMatch, NewOffer, OfferRow, OfferStatus, Side,
};
use crate::accounts::model::{Locale, Role};
use crate::db::schema::{
    deal_events as ev, deal_offers as of, deals as d, matches as m, organization_members as om,
    users,
};
use crate::db::DbConn;
use crate::per_backend;

pub fn insert_deal(conn: &mut DbConn, new: &NewDeal) -> QueryResult<i64> {
    per_backend!(conn, |c| diesel::insert_into(d::table)
        .values(new)
        .returning(d::id)
        .get_result(c))
}

pub fn find_deal(conn: &mut DbConn, id: i64) -> QueryResult<Option<DealRow>> {
    d::table
        .find(id)
        .select(DealRow::as_select())
        .first(conn)
        .optional()
}

/// The deal, locked until the transaction ends (PostgreSQL; on SQLite the write
/// transaction already holds the database), so racing actions are decided one by one.
pub fn lock_deal(conn: &mut DbConn, id: i64) -> QueryResult<Option<DealRow>> {
    match conn {
        DbConn::Postgres(c) => d::table
            .find(id)
            .select(DealRow::as_select())
            .for_update()
            .first(c)
            .optional(),
        DbConn::Sqlite(_) => find_deal(conn, id),
    }
}

/// The open deal this account already has on a listing.
pub fn open_deal_of(conn: &mut DbConn, listing_id: i64, user_id: i64) -> QueryResult<Option<i64>> {
    d::table
        .filter(d::listing_id.eq(listing_id))
        .filter(d::requester_user_id.eq(user_id))
        .filter(d::status.eq_any(DealStatus::OPEN))
        .select(d::id)
        .first(conn)
        .optional()
}

/// The changes an action makes to a deal row; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = d)]
pub struct DealChange {
    pub status: Option<DealStatus>,
    pub decline_reason: Option<Option<DeclineReason>>,
    pub decline_note: Option<Option<String>>,
    pub close_note: Option<Option<String>>,
    pub agreed_offer_id: Option<Option<i64>>,
    pub agreed_value_vnd: Option<Option<i64>>,
    pub responded_at: Option<Option<NaiveDateTime>>,
    pub accepted_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub reminded_at: Option<Option<NaiveDateTime>>,
}

/// Applies `change` to a deal still at `version`; answers the rows changed (0 when
/// someone else changed it first).
pub fn update_deal(
    conn: &mut DbConn,
    id: i64,
    version: i64,
    change: &DealChange,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(d::table.filter(d::id.eq(id)).filter(d::version.eq(version)))
        .set((change, d::version.eq(version + 1), d::updated_at.eq(now)))
        .execute(conn)
}

pub fn insert_event(conn: &mut DbConn, new: &NewEvent) -> QueryResult<i64> {
    per_backend!(conn, |c| diesel::insert_into(ev::table)
        .values(new)
        .returning(ev::id)
        .get_result(c))
}

pub fn events(conn: &mut DbConn, deal_id: i64) -> QueryResult<Vec<EventRow>> {
    ev::table
        .filter(ev::deal_id.eq(deal_id))
        .order(ev::id)
        .select(EventRow::as_select())
        .load(conn)
}

pub fn insert_offer(conn: &mut DbConn, new: &NewOffer) -> QueryResult<i64> {
    per_backend!(conn, |c| diesel::insert_into(of::table)
        .values(new)
        .returning(of::id)
        .get_result(c))
}

pub fn offers(conn: &mut DbConn, deal_id: i64) -> QueryResult<Vec<OfferRow>> {
    of::table
        .filter(of::deal_id.eq(deal_id))
        .order(of::id)
        .select(OfferRow::as_select())
        .load(conn)
}

/// The offers of these deals, oldest first, by deal.
pub fn offers_of(
    conn: &mut DbConn,
    deal_ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Vec<OfferRow>>> {
    let mut by_deal: std::collections::HashMap<i64, Vec<OfferRow>> = Default::default();
    if deal_ids.is_empty() {
        return Ok(by_deal);
    }
    let rows: Vec<OfferRow> = of::table
        .filter(of::deal_id.eq_any(deal_ids.to_vec()))
        .order(of::id)
        .select(OfferRow::as_select())
        .load(conn)?;
    for o in rows {
        by_deal.entry(o.deal_id).or_default().push(o);
    }
    Ok(by_deal)
}

pub fn find_offer(conn: &mut DbConn, id: i64) -> QueryResult<Option<OfferRow>> {
    of::table
        .find(id)
        .select(OfferRow::as_select())
        .first(conn)
        .optional()
}

/// Marks every open offer of a deal `status`; answers how many.
pub fn close_open_offers(
    conn: &mut DbConn,
    deal_id: i64,
    status: OfferStatus,
    by: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        of::table
            .filter(of::deal_id.eq(deal_id))
            .filter(of::status.eq(OfferStatus::Open)),
    )
    .set((
        of::status.eq(status),
        of::decided_at.eq(now),
        of::decided_by_user_id.eq(by),
    ))
    .execute(conn)
}

pub fn decide_offer(
    conn: &mut DbConn,
    id: i64,
    status: OfferStatus,
    by: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        of::table
            .filter(of::id.eq(id))
            .filter(of::status.eq(OfferStatus::Open)),
    )
    .set((
        of::status.eq(status),
        of::decided_at.eq(now),
        of::decided_by_user_id.eq(Some(by)),
    ))
    .execute(conn)
}

/// Whose deals to list.
#[derive(Debug, Clone, Default)]
pub struct DealScope {
    /// Everything (moderators).
    pub all: bool,
    pub user_id: i64,
    pub org_ids: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct DealFilter {
    pub status: Option<DealStatus>,
    /// `requester`, `owner` or `broker`: only deals where the caller is on that side.
    pub side: Option<Side>,
    pub listing_id: Option<i64>,
}

fn scoped<'a>(
    scope: &DealScope,
    filter: &DealFilter,
) -> d::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut q = d::table.into_boxed();
    if !scope.all || filter.side.is_some() {
        let u = scope.user_id;
        let orgs = scope.org_ids.clone();
        let as_requester = d::requester_user_id
            .eq(u)
            .or(d::requester_org_id.eq_any(orgs.clone()).assume_not_null());
        let as_owner = d::owner_user_id
            .eq(u)
            .assume_not_null()
            .or(d::owner_org_id.eq_any(orgs.clone()).assume_not_null());
        let as_broker = d::broker_user_id
            .eq(u)
            .assume_not_null()
            .or(d::broker_org_id.eq_any(orgs).assume_not_null());
        q = match filter.side {
            Some(Side::Requester) => q.filter(as_requester),
            // Moderators answer for what no account owns (imported expert profiles).
            Some(Side::Owner) if scope.all => {
                q.filter(as_owner.or(d::owner_user_id.is_null().and(d::owner_org_id.is_null())))
            }
            Some(Side::Owner) => q.filter(as_owner),
            Some(Side::Broker) => q.filter(as_broker),
            _ => q.filter(as_requester.or(as_owner).or(as_broker)),
        };
    }
    if let Some(s) = filter.status {
        q = q.filter(d::status.eq(s));
    }
    if let Some(l) = filter.listing_id {
        q = q.filter(d::listing_id.eq(l));
    }
    q
}

pub fn list_deals(
    conn: &mut DbConn,
    scope: &DealScope,
    filter: &DealFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(i64, Vec<DealRow>)> {
    let total = scoped(scope, filter).count().get_result(conn)?;
    let rows = scoped(scope, filter)
        .order((d::updated_at.desc(), d::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(DealRow::as_select())
        .load(conn)?;
    Ok((total, rows))
}

/// Requests unanswered past their deadline.
pub fn due_to_expire(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    d::table
        .filter(d::status.eq(DealStatus::Requested))
        .filter(d::expires_at.le(now))
        .order(d::expires_at)
        .limit(limit)
        .select(d::id)
        .load(conn)
}

/// Requests whose reminder is due (`expires_at - remind_before <= now`) and not sent.
pub fn due_for_reminder(
    conn: &mut DbConn,
    remind_from: NaiveDateTime,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    d::table
        .filter(d::status.eq(DealStatus::Requested))
        .filter(d::reminded_at.is_null())
        .filter(d::expires_at.le(remind_from))
        .filter(d::expires_at.gt(now))
        .order(d::expires_at)
        .limit(limit)
        .select(d::id)
        .load(conn)
}

/// A person as deals show and address them.
#[derive(Debug, Clone, Queryable)]
pub struct Person {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub locale: Locale,
}

/// A person's display name (empty for an account that no longer exists).
pub fn display_name(conn: &mut DbConn, id: i64) -> QueryResult<String> {
    Ok(users::table
        .find(id)
        .select(users::display_name)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// The people who answer for a listing or a deal's side: the expert's own account, the
/// organisation's members, or, for what no account owns (imported expert profiles), the
/// exchange's moderators.
pub fn answering(
    conn: &mut DbConn,
    user: Option<i64>,
    org: Option<i64>,
) -> QueryResult<Vec<Person>> {
    match (user, org) {
        (Some(u), _) => people(conn, &[u]),
        (None, Some(o)) => members_of(conn, o),
        (None, None) => moderators(conn),
    }
}

pub fn people(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Person>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(ids.to_vec()))
        .select((users::id, users::email, users::display_name, users::locale))
        .load(conn)
}

/// The exchange's moderators and administrators, who answer for listings no account owns.
pub fn moderators(conn: &mut DbConn) -> QueryResult<Vec<Person>> {
    users::table
        .filter(users::role.eq_any(Role::MODERATING))
        .order(users::id.asc())
        .select((users::id, users::email, users::display_name, users::locale))
        .load(conn)
}

/// Every member of an organisation (admins first).
pub fn members_of(conn: &mut DbConn, org_id: i64) -> QueryResult<Vec<Person>> {
    om::table
        .inner_join(users::table)
        .filter(om::organization_id.eq(org_id))
        .order((om::role.asc(), users::id.asc()))
        .select((users::id, users::email, users::display_name, users::locale))
        .load(conn)
}

pub fn insert_match(conn: &mut DbConn, new: &NewMatch) -> QueryResult<i64> {
    per_backend!(conn, |c| diesel::insert_into(m::table)
        .values(new)
        .returning(m::id)
        .get_result(c))
}

pub fn find_match(conn: &mut DbConn, id: i64) -> QueryResult<Option<MatchRow>> {
    m::table
        .find(id)
        .select(MatchRow::as_select())
        .first(conn)
        .optional()
}

pub fn lock_match(conn: &mut DbConn, id: i64) -> QueryResult<Option<MatchRow>> {
    match conn {
        DbConn::Postgres(c) => m::table
            .find(id)
            .select(MatchRow::as_select())
            .for_update()
            .first(c)
            .optional(),
        DbConn::Sqlite(_) => find_match(conn, id),
    }
}

pub fn set_match_status(
    conn: &mut DbConn,
    id: i64,
    status: MatchStatus,
    deal_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        m::table
            .filter(m::id.eq(id))
            .filter(m::status.eq(MatchStatus::Proposed)),
    )
    .set((
        m::status.eq(status),
        m::deal_id.eq(deal_id),
        m::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Matches a broker organisation made, or that concern the given listings.
pub fn list_matches(
    conn: &mut DbConn,
    all: bool,
    broker_orgs: &[i64],
    listing_ids: &[i64],
    limit: i64,
    offset: i64,
) -> QueryResult<(i64, Vec<MatchRow>)> {
    let q = || {
        let mut q = m::table.into_boxed::<crate::db::MultiBackend>();
        if !all {
            q = q.filter(
                m::broker_org_id
                    .eq_any(broker_orgs.to_vec())
                    .or(m::need_id.eq_any(listing_ids.to_vec()))
                    .or(m::target_id.eq_any(listing_ids.to_vec())),
            );
        }
        q
    };
    let total = q().count().get_result(conn)?;
    let rows = q()
        .order(m::id.desc())
        .limit(limit)
        .offset(offset)
        .select(MatchRow::as_select())
        .load(conn)?;
    Ok((total, rows))
}

/// Ids of the listings a viewer's side owns (its organisations' and its own profile).
pub fn owned_listing_ids(
    conn: &mut DbConn,
    user_id: i64,
    org_ids: &[i64],
) -> QueryResult<Vec<i64>> {
    use crate::db::schema::listings as l;
    l::table
        .filter(
            l::organization_id
                .eq_any(org_ids.to_vec())
                .assume_not_null()
                .or(l::owner_user_id.eq(user_id).assume_not_null()),
        )
        .select(l::id)
        .load(conn)
}
