//! Organisation storage.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{
    MemberRole, MemberView, MembershipView, NewOrganization, OrgType, Organization,
};
use crate::db::schema::{organization_members as om, organizations as org, users};
use crate::db::utc;
use crate::db::{DbConn, MultiBackend};
use crate::per_backend;

pub fn insert(conn: &mut DbConn, new: &NewOrganization) -> QueryResult<i64> {
    per_backend!(conn, |c| diesel::insert_into(org::table)
        .values(new)
        .returning(org::id)
        .get_result(c))
}

/// Ids and names of the organisations the Department has verified.
pub fn verified_names(conn: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    per_backend!(conn, |c| org::table
        .filter(org::verified_at.is_not_null())
        .select((org::id, org::name))
        .load(c))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Organization>> {
    org::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

/// Filters shared by the count and the page of a listing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub org_type: Option<OrgType>,
    pub verified: Option<bool>,
}

fn filtered(f: &Filter) -> org::BoxedQuery<'static, MultiBackend> {
    let mut q = org::table.into_boxed::<MultiBackend>();
    if let Some(t) = f.org_type {
        q = q.filter(org::org_type.eq(t));
    }
    match f.verified {
        Some(true) => q = q.filter(org::verified_at.is_not_null()),
        Some(false) => q = q.filter(org::verified_at.is_null()),
        None => {}
    }
    q
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> QueryResult<(i64, Vec<Organization>)> {
    let total = filtered(f).count().get_result(conn)?;
    let items = filtered(f)
        .order((org::name.asc(), org::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(Organization::as_select())
        .load(conn)?;
    Ok((total, items))
}

#[allow(clippy::too_many_arguments)]
pub fn update(
    conn: &mut DbConn,
    id: i64,
    name: &str,
    org_type: OrgType,
    district: Option<&str>,
    website: Option<&str>,
    email: Option<&str>,
    tax_code: Option<&str>,
    keep_verification: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = org::table.find(id);
    let fields = (
        org::name.eq(name),
        org::org_type.eq(org_type),
        org::district.eq(district),
        org::website.eq(website),
        org::email.eq(email),
        org::tax_code.eq(tax_code),
        org::updated_at.eq(now),
    );
    if keep_verification {
        diesel::update(target).set(fields).execute(conn)
    } else {
        diesel::update(target)
            .set((
                fields,
                org::verified_at.eq(None::<NaiveDateTime>),
                org::verified_by.eq(None::<i64>),
            ))
            .execute(conn)
    }
}

pub fn set_verified(conn: &mut DbConn, id: i64, by: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(org::table.find(id))
        .filter(org::verified_at.is_null())
        .set((
            org::verified_at.eq(now),
            org::verified_by.eq(by),
            org::updated_at.eq(now),
        ))
        .execute(conn)
}

/// The organisations a person belongs to, with their role in each.
pub fn memberships_of(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(i64, MemberRole)>> {
    let rows: Vec<(i64, String)> = om::table
        .filter(om::user_id.eq(user_id))
        .order(om::organization_id.asc())
        .select((om::organization_id, om::role))
        .load(conn)?;
    rows.into_iter()
        .map(|(org, role)| {
            MemberRole::parse(&role)
                .map(|r| (org, r))
                .map_err(|e| diesel::result::Error::DeserializationError(e.into()))
        })
        .collect()
}

/// The caller's role inside the organisation, if a member.
pub fn member_role(
    conn: &mut DbConn,
    org_id: i64,
    user_id: i64,
) -> QueryResult<Option<MemberRole>> {
    om::table
        .find((org_id, user_id))
        .select(om::role)
        .first(conn)
        .optional()
}

pub fn add_member(
    conn: &mut DbConn,
    org_id: i64,
    user_id: i64,
    role: MemberRole,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(om::table)
        .values((
            om::organization_id.eq(org_id),
            om::user_id.eq(user_id),
            om::role.eq(role),
            om::created_at.eq(now),
        ))
        .execute(conn)
}

pub fn remove_member(conn: &mut DbConn, org_id: i64, user_id: i64) -> QueryResult<usize> {
    diesel::delete(om::table.find((org_id, user_id))).execute(conn)
}

pub fn count_admins(conn: &mut DbConn, org_id: i64) -> QueryResult<i64> {
    om::table
        .filter(om::organization_id.eq(org_id))
        .filter(om::role.eq(MemberRole::Admin))
        .count()
        .get_result(conn)
}

pub fn members(conn: &mut DbConn, org_id: i64) -> QueryResult<Vec<MemberView>> {
    let rows: Vec<(i64, String, String, MemberRole, NaiveDateTime)> = om::table
        .inner_join(users::table)
        .filter(om::organization_id.eq(org_id))
        .order((om::created_at.asc(), users::id.asc()))
        .select((
            users::id,
            users::display_name,
            users::email,
            om::role,
            om::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, display_name, email, role, joined)| MemberView {
            user_id,
            display_name,
            email,
            role,
            joined_at: utc(joined),
        })
        .collect())
}

pub fn find_by_external_id(
    conn: &mut DbConn,
    external_id: &str,
) -> QueryResult<Option<Organization>> {
    org::table
        .filter(org::external_id.eq(external_id))
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

pub fn id_by_external_id(conn: &mut DbConn, external_id: &str) -> QueryResult<Option<i64>> {
    org::table
        .filter(org::external_id.eq(external_id))
        .select(org::id)
        .first(conn)
        .optional()
}

/// Up to `limit` organisations after `after_id`, in id order (exports).
pub fn page_after(conn: &mut DbConn, after_id: i64, limit: i64) -> QueryResult<Vec<Organization>> {
    org::table
        .filter(org::id.gt(after_id))
        .order(org::id.asc())
        .limit(limit)
        .select(Organization::as_select())
        .load(conn)
}

pub fn name_of(conn: &mut DbConn, id: i64) -> QueryResult<String> {
    org::table.find(id).select(org::name).first(conn)
}

/// The broker organisations among `ids`.
pub fn brokers_among(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    org::table
        .filter(org::id.eq_any(ids.to_vec()))
        .filter(org::org_type.eq(OrgType::Broker))
        .select(org::id)
        .load(conn)
}

/// Marks every organisation not yet verified as verified by `by` (the demo data).
pub fn verify_all(conn: &mut DbConn, by: Option<i64>, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(org::table.filter(org::verified_at.is_null()))
        .set((org::verified_at.eq(now), org::verified_by.eq(by)))
        .execute(conn)
}

/// What a listing shows of its owner organisation.
#[derive(Debug, Clone, Queryable)]
pub struct OrgBrief {
    pub id: i64,
    pub name: String,
    pub org_type: OrgType,
    pub verified_at: Option<NaiveDateTime>,
    pub external_id: Option<String>,
}

pub fn briefs(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, OrgBrief>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<OrgBrief> = org::table
        .filter(org::id.eq_any(ids.to_vec()))
        .select((
            org::id,
            org::name,
            org::org_type,
            org::verified_at,
            org::external_id,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|o| (o.id, o)).collect())
}

/// What deals show of an organisation.
#[derive(Debug, Clone, Queryable)]
pub struct OrgContact {
    pub id: i64,
    pub name: String,
    pub org_type: OrgType,
    pub email: Option<String>,
    pub website: Option<String>,
    /// When the Department verified it (none: not verified).
    pub verified_at: Option<NaiveDateTime>,
}

pub fn contact(conn: &mut DbConn, id: i64) -> QueryResult<Option<OrgContact>> {
    Ok(contacts(conn, &[id])?.remove(&id))
}

/// The organisations a person belongs to, as their account shows them.
pub fn membership_views(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<MembershipView>> {
    let rows: Vec<(i64, String, OrgType, MemberRole, Option<NaiveDateTime>)> = om::table
        .inner_join(org::table)
        .filter(om::user_id.eq(user_id))
        .order(org::name.asc())
        .select((
            org::id,
            org::name,
            org::org_type,
            om::role,
            org::verified_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(organization_id, name, org_type, role, verified_at)| MembershipView {
                organization_id,
                name,
                org_type,
                role,
                verified: verified_at.is_some(),
            },
        )
        .collect())
}

/// What deals show of these organisations, by id.
pub fn contacts(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, OrgContact>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<OrgContact> = org::table
        .filter(org::id.eq_any(ids.to_vec()))
        .select((
            org::id,
            org::name,
            org::org_type,
            org::email,
            org::website,
            org::verified_at,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|o| (o.id, o)).collect())
}
