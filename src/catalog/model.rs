//! Listings of the three catalogues: kinds, moderation states, the stored row.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::actor::Owner;
use crate::db::schema::listings;

/// Which catalogue a listing belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A technology offer (công nghệ chào bán).
    Technology,
    /// A technology need (nhu cầu công nghệ).
    Need,
    /// An expert profile of the Hanoi Initiative Network.
    Expert,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Technology, Kind::Need, Kind::Expert];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Technology => "technology",
            Self::Need => "need",
            Self::Expert => "expert",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a listing kind (technology, need, expert)"))
    }

    /// The collection path under `/api/v1`.
    pub fn collection(self) -> &'static str {
        match self {
            Self::Technology => "technologies",
            Self::Need => "needs",
            Self::Expert => "experts",
        }
    }

    /// "technology", as a person reads it in a message.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Technology => "technology",
            Self::Need => "need",
            Self::Expert => "expert profile",
        }
    }
}

/// Moderation state: `draft → pending_review → published → archived`, and `rejected`
/// (with a reason) back to the owner, who edits and submits again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    PendingReview,
    Published,
    Rejected,
    Archived,
}

/// What can be done to a listing's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Publish,
    Reject,
    Archive,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Publish => "publish",
            Self::Reject => "reject",
            Self::Archive => "archive",
            Self::Delete => "delete",
        }
    }

    /// Publishing and rejecting are the moderators' part.
    pub fn needs_moderator(self) -> bool {
        matches!(self, Self::Publish | Self::Reject)
    }
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::PendingReview,
        Status::Published,
        Status::Rejected,
        Status::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::PendingReview => "pending_review",
            Self::Published => "published",
            Self::Rejected => "rejected",
            Self::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a status (draft, pending_review, published, rejected, archived)"
                )
            })
    }

    /// The state an action leads to from this one, if allowed.
    pub fn after(self, action: Action) -> Option<Status> {
        use Action as A;
        use Status as S;
        match (self, action) {
            (S::Draft | S::Rejected, A::Submit) => Some(S::PendingReview),
            (S::PendingReview, A::Publish) => Some(S::Published),
            (S::PendingReview, A::Reject) => Some(S::Rejected),
            (S::Published | S::PendingReview | S::Rejected | S::Draft, A::Archive) => {
                Some(S::Archived)
            }
            (S::Draft, A::Delete) => Some(S::Draft),
            _ => None,
        }
    }

    /// The actions allowed from this state.
    pub fn allowed(self) -> Vec<Action> {
        [
            Action::Submit,
            Action::Publish,
            Action::Reject,
            Action::Archive,
            Action::Delete,
        ]
        .into_iter()
        .filter(|a| self.after(*a).is_some())
        .collect()
    }
}

/// The stored listing, every column.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listings)]
pub struct ListingRow {
    pub id: i64,
    pub kind: String,
    pub external_id: Option<String>,
    pub organization_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub version: i64,
    #[diesel(embed)]
    pub data: ListingData,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
}

impl ListingRow {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Technology)
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }

    /// Its organisation, or the expert's own account; nobody for an imported profile.
    pub fn owner(&self) -> Owner {
        Owner::new(self.organization_id, self.owner_user_id)
    }
}

/// The content of a listing: what its owner writes and an import carries. Lists are stored
/// as JSON arrays.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = listings, treat_none_as_null = true)]
pub struct ListingData {
    pub language: String,
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
    pub fields: String,
    pub priority_areas: String,
    pub keywords: String,
    pub modes: String,
    pub trl: Option<i32>,
    pub money_min: Option<i64>,
    pub money_max: Option<i64>,
    pub ip_status: Option<String>,
    pub negotiable: Option<bool>,
    pub applications: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub confidential: bool,
    pub academic_title: Option<String>,
    pub affiliation: Option<String>,
    pub country: Option<String>,
    pub languages: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub availability: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = listings)]
pub struct NewListing {
    pub kind: String,
    pub external_id: Option<String>,
    pub organization_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub status: String,
    pub version: i64,
    #[diesel(embed)]
    pub data: ListingData,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

/// Reads a JSON array column.
pub fn json_list(raw: &str) -> Vec<String> {
    serde_json::from_str(raw).unwrap_or_default()
}

/// Writes a JSON array column.
pub fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moderation_state_machine() {
        assert_eq!(
            Status::Draft.after(Action::Submit),
            Some(Status::PendingReview)
        );
        assert_eq!(
            Status::Rejected.after(Action::Submit),
            Some(Status::PendingReview)
        );
        assert_eq!(
            Status::PendingReview.after(Action::Publish),
            Some(Status::Published)
        );
        assert_eq!(
            Status::PendingReview.after(Action::Reject),
            Some(Status::Rejected)
        );
        assert_eq!(
            Status::Published.after(Action::Archive),
            Some(Status::Archived)
        );
        assert_eq!(Status::Draft.after(Action::Publish), None);
        assert_eq!(Status::Published.after(Action::Submit), None);
        assert_eq!(Status::Published.after(Action::Delete), None);
        assert!(Status::Archived.allowed().is_empty());
        assert_eq!(
            Status::Draft.allowed(),
            vec![Action::Submit, Action::Archive, Action::Delete]
        );
        assert_eq!(
            Status::PendingReview.allowed(),
            vec![Action::Publish, Action::Reject, Action::Archive]
        );
    }
}
