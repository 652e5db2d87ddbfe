//! What a caller sees of a listing: the viewer and their rights, the listing as shown.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::content::Content;
use super::model::{Action, Kind, ListingRow, Status};
use super::repo::Scope;
use crate::accounts::model::utc;
use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::organizations::actor::Actor;
use crate::organizations::model::OrgType;
use crate::organizations::repo::{self as organizations, OrgBrief};

/// What the actor may do with a listing. Owning is the actor's rule (`Actor::owns`); a
/// listing adds only that a published one is open to everyone.
pub trait ListingAccess {
    fn can_see(&self, row: &ListingRow) -> bool;
    fn can_edit(&self, row: &ListingRow) -> bool;
    /// A confidential need's owner, and an expert's contact details, are for the owner's
    /// side and moderators only.
    fn sees_private(&self, row: &ListingRow) -> bool;
    fn scope(&self) -> Scope;
    /// The actions this actor could take on the listing now.
    fn actions(&self, row: &ListingRow) -> Vec<Action>;
}

impl ListingAccess for Actor {
    fn can_see(&self, row: &ListingRow) -> bool {
        row.status() == Status::Published || self.manages(row.owner())
    }

    fn can_edit(&self, row: &ListingRow) -> bool {
        self.manages(row.owner())
    }

    fn sees_private(&self, row: &ListingRow) -> bool {
        self.manages(row.owner())
    }

    fn scope(&self) -> Scope {
        if self.is_moderator() {
            Scope::All
        } else {
            Scope::Visible {
                org_ids: self.org_ids(),
                user_id: self.user_id(),
            }
        }
    }

    fn actions(&self, row: &ListingRow) -> Vec<Action> {
        if !self.can_edit(row) {
            return Vec::new();
        }
        row.status()
            .allowed()
            .into_iter()
            .filter(|a| !a.needs_moderator() || self.is_moderator())
            .collect()
    }
}

/// The owner organisation as a listing shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgSummary {
    pub id: i64,
    pub name: String,
    pub org_type: OrgType,
    pub verified: bool,
}

/// A listing of any kind as the API shows it. The content fields are those of its kind
/// (see `TechnologyFields`, `NeedFields`, `ExpertFields`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListingView {
    pub kind: Kind,
    pub id: i64,
    pub external_id: Option<String>,
    pub status: Status,
    /// Owner organisation; null for a confidential need unless you are its owner or a
    /// moderator.
    pub organization_id: Option<i64>,
    pub organization: Option<OrgSummary>,
    #[serde(flatten)]
    pub content: Content,
    /// Why a moderator rejected it (shown to its owner).
    pub rejection_reason: Option<String>,
    /// Send it back as `If-Match` (or `version`) when you update.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// State changes you may make now.
    pub actions: Vec<Action>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListingList {
    pub total: i64,
    pub items: Vec<ListingView>,
}

pub fn view(row: &ListingRow, viewer: &Actor, orgs: &HashMap<i64, OrgBrief>) -> ListingView {
    let private = viewer.sees_private(row);
    let hide_owner = row.data.confidential && !private;
    let organization_id = row.organization_id.filter(|_| !hide_owner);
    ListingView {
        kind: row.kind(),
        id: row.id,
        external_id: row.external_id.clone(),
        status: row.status(),
        organization_id,
        organization: organization_id
            .and_then(|id| orgs.get(&id))
            .map(|o| OrgSummary {
                id: o.id,
                name: o.name.clone(),
                org_type: o.org_type,
                verified: o.verified_at.is_some(),
            }),
        content: Content::from_data(row.kind(), &row.data, private),
        rejection_reason: row.rejection_reason.clone().filter(|_| private),
        version: row.version,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        published_at: row.published_at.map(utc),
        actions: viewer.actions(row),
    }
}

pub(super) fn views(
    conn: &mut DbConn,
    rows: &[ListingRow],
    viewer: &Actor,
) -> Result<Vec<ListingView>, ApiError> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let orgs = organizations::briefs(conn, &ids)?;
    Ok(rows.iter().map(|r| view(r, viewer, &orgs)).collect())
}

pub(super) fn one_view(
    conn: &mut DbConn,
    row: &ListingRow,
    viewer: &Actor,
) -> Result<ListingView, ApiError> {
    Ok(views(conn, std::slice::from_ref(row), viewer)?.remove(0))
}
