//! The one reading of `limit` and `offset` that every paged list shares.

use super::error::Violations;

/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 20;
/// The most items a page holds.
pub const MAX_LIMIT: i64 = 100;
/// The furthest a list can be paged into (a search stops sooner: see `search::handlers`).
pub const MAX_OFFSET: i64 = 1_000_000;

/// A checked page: `limit` in 1–[`MAX_LIMIT`], `offset` in 0–[`MAX_OFFSET`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// Reads a page from the query, adding a violation per field out of range.
pub fn page(v: &mut Violations, limit: Option<i64>, offset: Option<i64>) -> Page {
    page_within(v, limit, offset, MAX_OFFSET, "")
}

/// `page` for a list that can be paged only `max_offset` deep (a search: ranking every
/// match to reach page 500 helps nobody); `hint` follows the offset's message.
pub fn page_within(
    v: &mut Violations,
    limit: Option<i64>,
    offset: Option<i64>,
    max_offset: i64,
    hint: &str,
) -> Page {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        v.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
    }
    let offset = offset.unwrap_or(0);
    if !(0..=max_offset).contains(&offset) {
        v.add(
            "offset",
            format!("must be between 0 and {max_offset}{hint}"),
        );
    }
    Page { limit, offset }
}
