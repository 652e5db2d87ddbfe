//! The exchange's two languages (a bottom module: accounts, listings, emails and search
//! all speak of them).

use crate::db::text_enum::text_enum;

text_enum! {
    /// Language of the interface and of the emails a person receives, and of a listing's
    /// content.
    pub enum Locale as "a supported locale" {
        Vi = "vi",
        En = "en",
    }
}

impl Locale {
    /// The other of the two languages: where listings that share only concepts with a
    /// text are looked for.
    pub fn other(self) -> Locale {
        match self {
            Self::Vi => Self::En,
            Self::En => Self::Vi,
        }
    }
}

/// Vietnamese, the exchange's own language, for whoever or whatever has not said otherwise.
impl Default for Locale {
    fn default() -> Self {
        Self::Vi
    }
}
