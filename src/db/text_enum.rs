//! Closed vocabularies stored as text (states, roles, locales, kinds, sides): one macro,
//! [`text_enum!`], defines such an enum with its spelling, its JSON form, its OpenAPI
//! schema and its diesel mapping for both backends, so the rest of the code compares enum
//! values and never strings.
//!
//! The stored text, the JSON and the spelling are one and the same string per variant.
//! Reading a stored value the enum does not know is a deserialization error naming the
//! type and the value (the request fails with a 500 and the cause is logged); it is
//! never mapped to a default.

use std::fmt;

/// A stored value that is none of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// The Rust type it was read as, e.g. `DealStatus`.
    pub type_name: &'static str,
    /// The text found in the database.
    pub value: String,
    /// What the type knows.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}` stored in the database (known: {})",
            self.type_name,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// What a client is told when its value is none of the spellings: "`x` is not a role
/// (member, moderator, admin)", or "`x` is not one of: a, b" for a vocabulary without a
/// noun.
pub fn not_one_of(value: &str, noun: &str, spellings: &[&str]) -> String {
    if noun.is_empty() {
        format!("`{value}` is not one of: {}", spellings.join(", "))
    } else {
        format!("`{value}` is not {noun} ({})", spellings.join(", "))
    }
}

/// Defines a closed vocabulary stored as text.
///
/// ```text
/// text_enum! {
///     /// Platform role.
///     pub enum Role as "a role" {
///         Member = "member",
///         Moderator = "moderator",
///     }
/// }
/// ```
///
/// gives `Role::ALL` (in the order written), `as_str`, `parse` (exact spelling; the
/// error names the noun and the spellings, for a 422), `Display`, serde with the same
/// spellings, `utoipa::ToSchema` (a string enum), and diesel `AsExpression<Text>` /
/// `FromSqlRow` with `ToSql<Text, _>` for SQLite, PostgreSQL and the multi-backend, and
/// `FromSql<Text, DB>` for any backend that reads text, failing with [`UnknownValue`] on
/// a spelling it does not know. Without `as "noun"` the client error reads "is not one of".
// The spellings are taken as `tt`, not `literal`: a `literal` fragment reaches
// `#[serde(rename = …)]` wrapped in an invisible group that utoipa does not read, and the
// schema would then list the variant names instead (a unit test checks the schema).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident $(as $noun:literal)? {
            $($(#[$vmeta:meta])* $variant:ident = $s:tt),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $s)] $variant,)+
        }

        impl $name {
            /// Every value, in the order of the definition.
            pub const ALL: [$name; [$($s),+].len()] = [$($name::$variant),+];

            /// Every spelling, in the order of [`Self::ALL`].
            pub const SPELLINGS: [&'static str; [$($s),+].len()] = [$($s),+];

            /// The spelling: stored, sent in JSON and accepted from clients.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)+
                }
            }

            /// The value spelt exactly `s`; the error is for a person (a 422's message).
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)+
                    other => Err($crate::db::text_enum::not_one_of(
                        other,
                        $crate::db::text_enum::text_enum!(@noun $($noun)?),
                        &Self::SPELLINGS,
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        // Queries written once against `DbConn` bind through the multi-backend, which hands
        // the text on to whichever backend runs them.
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                match text.as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(Box::new($crate::db::text_enum::UnknownValue {
                        type_name: stringify!($name),
                        value: text,
                        expected: &Self::SPELLINGS,
                    })),
                }
            }
        }
    };
    (@noun $noun:literal) => { $noun };
    (@noun) => { "" };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::{Nullable, Text};
    use diesel::{Connection, IntoSql};

    use diesel::connection::SimpleConnection;

    use crate::db::DbConn;

    text_enum! {
        /// A test vocabulary.
        pub enum Shade as "a shade" {
            Light = "light",
            /// With a doc comment and a two-word spelling.
            DarkGrey = "dark_grey",
        }
    }

    text_enum! {
        enum Bare {
            One = "one",
        }
    }

    #[test]
    fn spelling_parse_and_all_agree() {
        assert_eq!(Shade::ALL, [Shade::Light, Shade::DarkGrey]);
        assert_eq!(Shade::SPELLINGS, ["light", "dark_grey"]);
        for s in Shade::ALL {
            assert_eq!(Shade::parse(s.as_str()), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(
            Shade::parse("Light").unwrap_err(),
            "`Light` is not a shade (light, dark_grey)"
        );
        // Parsing is exact: trimming is the caller's decision.
        assert!(Shade::parse(" light").is_err());
        assert_eq!(Bare::parse("two").unwrap_err(), "`two` is not one of: one");
        assert_eq!(Bare::ALL, [Bare::One]);
    }

    #[test]
    fn json_uses_the_same_spelling() {
        assert_eq!(
            serde_json::to_string(&Shade::DarkGrey).unwrap(),
            "\"dark_grey\""
        );
        assert_eq!(
            serde_json::from_str::<Shade>("\"light\"").unwrap(),
            Shade::Light
        );
        assert!(serde_json::from_str::<Shade>("\"dark\"").is_err());
    }

    #[test]
    fn the_schema_is_a_string_enum_of_the_spellings() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Shade::schema()).unwrap();
        assert_eq!(schema["type"], "string", "{schema}");
        assert_eq!(schema["enum"], serde_json::json!(["light", "dark_grey"]));
    }

    fn unknown_message(e: &diesel::result::Error) -> String {
        let mut chain = vec![e.to_string()];
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            chain.push(s.to_string());
            source = s.source();
        }
        chain.join(": ")
    }

    #[test]
    fn sqlite_round_trip_and_unknown_values() {
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        for s in Shade::ALL {
            let back: Shade = diesel::select(s.into_sql::<Text>())
                .get_result(&mut c)
                .unwrap();
            assert_eq!(back, s);
            let stored: String = diesel::select(s.into_sql::<Text>())
                .get_result(&mut c)
                .unwrap();
            assert_eq!(stored, s.as_str());
        }
        let none: Option<Shade> = diesel::select(None::<Shade>.into_sql::<Nullable<Text>>())
            .get_result(&mut c)
            .unwrap();
        assert_eq!(none, None);
        let e = diesel::select("purple".into_sql::<Text>())
            .get_result::<Shade>(&mut c)
            .unwrap_err();
        assert!(matches!(e, diesel::result::Error::DeserializationError(_)));
        let message = unknown_message(&e);
        assert!(
            message.contains("unknown Shade `purple`") && message.contains("light, dark_grey"),
            "{message}"
        );
    }

    /// The same through `DbConn`, where queries bind and read via the multi-backend.
    #[test]
    fn multi_backend_round_trip_and_unknown_values() {
        let mut conn = DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        conn.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, shade TEXT)")
            .unwrap();
        diesel::table! { t (id) { id -> Integer, shade -> Text, } }
        for (id, shade) in [(1, Shade::Light), (2, Shade::DarkGrey)] {
            diesel::insert_into(t::table)
                .values((t::id.eq(id), t::shade.eq(shade)))
                .execute(&mut conn)
                .unwrap();
        }
        // What an older or newer release, or a hand edit, might have left behind.
        diesel::insert_into(t::table)
            .values((t::id.eq(3), t::shade.eq("purple")))
            .execute(&mut conn)
            .unwrap();
        let known: Vec<Shade> = t::table
            .filter(t::shade.eq_any(Shade::ALL))
            .order(t::id)
            .select(t::shade)
            .load(&mut conn)
            .unwrap();
        assert_eq!(known, Shade::ALL);
        let stored: Vec<String> = t::table
            .filter(t::shade.ne(Shade::Light))
            .order(t::id)
            .select(t::shade)
            .load(&mut conn)
            .unwrap();
        assert_eq!(stored, ["dark_grey", "purple"]);
        let e = t::table
            .find(3)
            .select(t::shade)
            .first::<Shade>(&mut conn)
            .unwrap_err();
        let message = unknown_message(&e);
        assert!(message.contains("unknown Shade `purple`"), "{message}");
    }

    /// On PostgreSQL too, when `TEST_DATABASE_URL` names a server.
    #[test]
    fn postgres_round_trip_and_unknown_values() {
        let Some(url) = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
        else {
            return;
        };
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        for s in Shade::ALL {
            let back: Shade = diesel::select(s.into_sql::<Text>())
                .get_result(&mut c)
                .unwrap();
            assert_eq!(back, s);
        }
        let e = diesel::select("purple".into_sql::<Text>())
            .get_result::<Shade>(&mut c)
            .unwrap_err();
        let message = unknown_message(&e);
        assert!(message.contains("unknown Shade `purple`"), "{message}");
        let mut conn = DbConn::Postgres(c);
        let back: Shade = diesel::select(Shade::DarkGrey.into_sql::<Text>())
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(back, Shade::DarkGrey);
    }
}
