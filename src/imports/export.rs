//! Open-data export in the interchange format: published listings, organisations first,
//! without private contact details and without the owner of confidential needs.

use serde_json::{Map, Value};

use crate::catalog::content::Content;
use crate::catalog::model::{Kind, Status};
use crate::catalog::repo as listings;
use crate::db::{Db, DbConn};
use crate::http::error::ApiError;
use crate::organizations::model::Organization;
use crate::organizations::repo as organizations;

/// What an export contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Organization,
    Listing(Kind),
}

impl ExportKind {
    /// `all` (or nothing) is every kind, organisations first so that a re-import finds
    /// the owners before their listings.
    pub fn parse_selection(s: Option<&str>) -> Result<Vec<ExportKind>, String> {
        let all = vec![
            Self::Organization,
            Self::Listing(Kind::Technology),
            Self::Listing(Kind::Need),
            Self::Listing(Kind::Expert),
        ];
        match s {
            None | Some("") | Some("all") => Ok(all),
            Some("organization") => Ok(vec![Self::Organization]),
            Some(k) => Kind::parse(k).map(|k| vec![Self::Listing(k)]).map_err(|_| {
                format!("`{k}` is not an export kind (all, organization, technology, need, expert)")
            }),
        }
    }
}

/// Stable identifiers for records that were created here rather than imported.
fn org_external_id(id: i64, external_id: Option<&str>) -> String {
    external_id
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTX-ORG-{id}"))
}

fn listing_external_id(kind: Kind, id: i64, external_id: Option<&str>) -> String {
    external_id.map(str::to_owned).unwrap_or_else(|| {
        let prefix = match kind {
            Kind::Technology => "TECH",
            Kind::Need => "NEED",
            Kind::Expert => "EXP",
        };
        format!("HTX-{prefix}-{id}")
    })
}

/// One page of export lines after `after_id`; the last id read, or `None` when done.
pub fn export_page(
    conn: &mut DbConn,
    what: ExportKind,
    after_id: i64,
    limit: i64,
) -> Result<(String, Option<i64>), ApiError> {
    let mut out = String::new();
    let push = |out: &mut String, v: Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    match what {
        ExportKind::Organization => {
            let rows: Vec<Organization> = organizations::page_after(conn, after_id, limit)?;
            for o in &rows {
                // Open data: no contact email.
                push(
                    &mut out,
                    serde_json::json!({
                        "kind": "organization",
                        "external_id": org_external_id(o.id, o.external_id.as_deref()),
                        "name": o.name,
                        "org_type": o.org_type,
                        "district": o.district,
                        "website": o.website,
                    }),
                );
            }
            Ok((out, rows.last().map(|o| o.id)))
        }
        ExportKind::Listing(kind) => {
            let rows = listings::page_after(conn, kind, Status::Published, after_id, limit)?;
            let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.organization_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let owners = organizations::briefs(conn, &ids)?;
            for r in &rows {
                let mut record = Map::new();
                record.insert("kind".into(), Value::String(kind.as_str().into()));
                record.insert(
                    "external_id".into(),
                    Value::String(listing_external_id(kind, r.id, r.external_id.as_deref())),
                );
                if kind != Kind::Expert {
                    // A confidential need's owner is not open data.
                    let owner = r
                        .organization_id
                        .filter(|_| !r.data.confidential)
                        .map(|id| {
                            org_external_id(
                                id,
                                owners.get(&id).and_then(|o| o.external_id.as_deref()),
                            )
                        });
                    record.insert(
                        "owner".into(),
                        owner.map(Value::String).unwrap_or(Value::Null),
                    );
                }
                if let Ok(Value::Object(content)) =
                    serde_json::to_value(Content::from_data(kind, &r.data, false))
                {
                    record.extend(content);
                }
                if kind == Kind::Expert {
                    record.insert("language".into(), r.data.language.as_str().into());
                }
                push(&mut out, Value::Object(record));
            }
            Ok((out, rows.last().map(|r| r.id)))
        }
    }
}

/// Writes a whole export, page by page.
pub fn export_to(
    db: &Db,
    kinds: &[ExportKind],
    out: &mut dyn std::io::Write,
) -> Result<u64, ApiError> {
    let mut conn = db.conn()?;
    let mut records = 0u64;
    for what in kinds {
        let mut after = 0;
        loop {
            let (text, last) = export_page(&mut conn, *what, after, 1000)?;
            records += text.lines().count() as u64;
            out.write_all(text.as_bytes())
                .map_err(|e| ApiError::internal(format!("writing the export failed: {e}")))?;
            match last {
                Some(id) => after = id,
                None => break,
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections() {
        assert_eq!(ExportKind::parse_selection(None).unwrap().len(), 4);
        assert_eq!(
            ExportKind::parse_selection(Some("need")).unwrap(),
            vec![ExportKind::Listing(Kind::Need)]
        );
        assert!(ExportKind::parse_selection(Some("patent")).is_err());
    }
}
