//! Listings of the three catalogues: kinds, moderation states, the stored row.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::accounts::model::Locale;
use crate::db::schema::listings;
use crate::db::text_enum::text_enum;
use crate::organizations::actor::Owner;

text_enum! {
    /// Which catalogue a listing belongs to.
    pub enum Kind as "a listing kind" {
        /// A technology offer (công nghệ chào bán).
        Technology = "technology",
        /// A technology need (nhu cầu công nghệ).
        Need = "need",
        /// An expert profile of the Hanoi Initiative Network.
        Expert = "expert",
    }
}

impl Kind {
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

text_enum! {
    /// Moderation state: `draft → pending_review → published → archived`, and `rejected`
    /// (with a reason) back to the owner, who edits and submits again.
    pub enum Status as "a status" {
        Draft = "draft",
        PendingReview = "pending_review",
        Published = "published",
        Rejected = "rejected",
        Archived = "archived",
    }
}

text_enum! {
    /// What can be done to a listing's state.
    pub enum Action {
        Submit = "submit",
        Publish = "publish",
        Reject = "reject",
        Archive = "archive",
        Delete = "delete",
    }
}

text_enum! {
    /// What a listing's history records: a moderation action, or its creation, an edit or
    /// an import.
    pub enum EventAction {
        Created = "created",
        Updated = "updated",
        Imported = "imported",
        Submit = "submit",
        Publish = "publish",
        Reject = "reject",
        Archive = "archive",
        Delete = "delete",
    }
}

impl From<Action> for EventAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Submit => Self::Submit,
            Action::Publish => Self::Publish,
            Action::Reject => Self::Reject,
            Action::Archive => Self::Archive,
            Action::Delete => Self::Delete,
        }
    }
}

impl Action {
    /// Publishing and rejecting are the moderators' part.
    pub fn needs_moderator(self) -> bool {
        matches!(self, Self::Publish | Self::Reject)
    }
}

impl Status {
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
        Action::ALL
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
    pub kind: Kind,
    pub external_id: Option<String>,
    pub organization_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub status: Status,
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
        self.kind
    }

    pub fn status(&self) -> Status {
        self.status
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
    pub language: Locale,
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
    pub fields: JsonList,
    pub priority_areas: JsonList,
    pub keywords: JsonList,
    pub modes: JsonList,
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
    pub languages: Option<JsonList>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub availability: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = listings)]
pub struct NewListing {
    pub kind: Kind,
    pub external_id: Option<String>,
    pub organization_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub status: Status,
    pub version: i64,
    #[diesel(embed)]
    pub data: ListingData,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

/// A list column, stored as a JSON array of strings. A stored text that is not one is a
/// deserialization error when the row is read (never an empty list).
#[derive(Debug, Clone, Default, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct JsonList(pub Vec<String>);

impl std::ops::Deref for JsonList {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for JsonList {
    fn from(items: Vec<String>) -> Self {
        Self(items)
    }
}

/// The stored text is not a JSON array of strings.
#[derive(Debug, thiserror::Error)]
#[error("a stored list is not a JSON array of strings ({source}): `{raw}`")]
pub struct BadList {
    raw: String,
    source: serde_json::Error,
}

impl JsonList {
    fn to_text(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.0)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for JsonList {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(self.to_text()?);
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for JsonList {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        serde_json::to_writer(out, &self.0)?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, crate::db::MultiBackend> for JsonList {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, crate::db::MultiBackend>,
    ) -> diesel::serialize::Result {
        // Handed on to the backend in use, which writes the JSON.
        out.set_value((diesel::sql_types::Text, self));
        Ok(diesel::serialize::IsNull::No)
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for JsonList
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let raw =
            <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
        match serde_json::from_str(&raw) {
            Ok(items) => Ok(Self(items)),
            Err(source) => Err(Box::new(BadList { raw, source })),
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::IntoSql;

    use super::*;
    use crate::db::DbConn;

    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            out.push_str(&format!(": {s}"));
            source = s.source();
        }
        out
    }

    fn list_round_trip(conn: &mut DbConn) {
        let list = JsonList(vec!["màng lọc".into(), "ozone".into()]);
        let stored: String = diesel::select(list.clone().into_sql::<Text>())
            .get_result(conn)
            .unwrap();
        assert_eq!(stored, r#"["màng lọc","ozone"]"#);
        let back: JsonList = diesel::select(list.clone().into_sql::<Text>())
            .get_result(conn)
            .unwrap();
        assert_eq!(back, list);
        let empty: JsonList = diesel::select("[]".into_sql::<Text>())
            .get_result(conn)
            .unwrap();
        assert!(empty.is_empty());
        for bad in ["ozone, MBR", "[1, 2]", "{}"] {
            let e = diesel::select(bad.into_sql::<Text>())
                .get_result::<JsonList>(conn)
                .unwrap_err();
            let message = chain(&e);
            assert!(
                message.contains("not a JSON array of strings") && message.contains(bad),
                "{message}"
            );
        }
    }

    #[test]
    fn list_columns_round_trip_and_refuse_what_is_not_a_list() {
        let mut conn = DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        list_round_trip(&mut conn);
        // And on PostgreSQL, when `TEST_DATABASE_URL` names a server.
        if let Some(url) = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            let mut conn = DbConn::Postgres(diesel::PgConnection::establish(&url).unwrap());
            list_round_trip(&mut conn);
        }
    }

    #[test]
    fn every_action_is_recorded_as_itself() {
        for a in Action::ALL {
            assert_eq!(EventAction::from(a).as_str(), a.as_str());
        }
        assert_eq!(
            Status::parse("live").unwrap_err(),
            "`live` is not a status (draft, pending_review, published, rejected, archived)"
        );
        assert_eq!(
            Kind::parse("patent").unwrap_err(),
            "`patent` is not a listing kind (technology, need, expert)"
        );
    }

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
