//! Bulk import and export in the interchange format: JSON Lines, one record a line, each
//! with a `kind`. Imports are idempotent by `external_id`, stream in bounded batches, and a
//! bad line is reported with its number without stopping the others.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use chrono::Utc;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::catalog::content::{known_keys, Content, Context};
use crate::catalog::model::{EventAction, Kind, ListingData, NewListing, Status};
use crate::catalog::repo as listings;
use crate::db::{self, Db, DbConn};
use crate::http::error::{ApiError, FieldError};
use crate::organizations::model::{CreateOrganizationRequest, NewOrganization};
use crate::organizations::repo as organizations;
use crate::organizations::service::{store_update, validate_new, ValidOrg};

pub mod export;
pub mod handlers;

pub use export::{export_page, export_to, ExportKind};

/// Lines applied per transaction: large enough to be fast, small enough to bound memory.
const BATCH: usize = 500;
/// Rejected lines listed in a report; the counts stay exact past it.
const MAX_ERRORS: usize = 1000;
const EXTERNAL_ID_MAX: usize = 128;

/// Created, updated and unchanged records of one kind.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// One line that was not imported.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineError {
    /// 1-based line number in the file.
    pub line: u64,
    pub kind: Option<String>,
    pub external_id: Option<String>,
    /// The offending field, when one is to blame.
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Non-blank lines read.
    pub lines: u64,
    pub created: u64,
    pub updated: u64,
    /// Records identical to what was already stored.
    pub unchanged: u64,
    pub rejected: u64,
    pub by_kind: BTreeMap<String, Counts>,
    /// The rejected lines, at most 1 000 of them.
    pub errors: Vec<LineError>,
    /// More lines were rejected than `errors` lists.
    pub errors_truncated: bool,
}

impl ImportReport {
    fn reject(&mut self, e: LineError) {
        self.rejected += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        } else {
            self.errors_truncated = true;
        }
    }

    fn count(&mut self, kind: &str, outcome: Outcome) {
        let c = self.by_kind.entry(kind.to_owned()).or_default();
        match outcome {
            Outcome::Created => {
                c.created += 1;
                self.created += 1;
            }
            Outcome::Updated => {
                c.updated += 1;
                self.updated += 1;
            }
            Outcome::Unchanged => {
                c.unchanged += 1;
                self.unchanged += 1;
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A line parsed and validated, waiting for the database.
#[derive(Debug)]
enum Record {
    Organization {
        external_id: String,
        org: ValidOrg,
    },
    Listing {
        kind: Kind,
        external_id: String,
        owner: Option<String>,
        data: Box<ListingData>,
    },
}

struct Parsed {
    line: u64,
    record: Record,
}

fn line_error(
    line: u64,
    kind: Option<&str>,
    external_id: Option<&str>,
    field: Option<&str>,
    message: impl Into<String>,
) -> LineError {
    LineError {
        line,
        kind: kind.map(str::to_owned),
        external_id: external_id.map(str::to_owned),
        field: field.map(str::to_owned),
        message: message.into(),
    }
}

fn from_fields(line: u64, kind: &str, ext: &str, errors: Vec<FieldError>) -> Vec<LineError> {
    errors
        .into_iter()
        .map(|e| line_error(line, Some(kind), Some(ext), Some(&e.field), e.message))
        .collect()
}

fn string_field(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err("must be a string".into()),
    }
}

/// Parses and validates one line. Unknown keys are ignored, as the format says.
fn parse_line(line: u64, bytes: &[u8], today: chrono::NaiveDate) -> Result<Record, Vec<LineError>> {
    let one =
        |field: Option<&str>, message: String| vec![line_error(line, None, None, field, message)];
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| one(None, format!("not valid JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(one(None, "a record must be a JSON object".into()));
    };
    let kind = match string_field(&obj, "kind") {
        Ok(Some(k)) => k,
        Ok(None) => return Err(one(Some("kind"), "is required".into())),
        Err(m) => return Err(one(Some("kind"), m)),
    };
    let external_id = match string_field(&obj, "external_id") {
        Ok(Some(s)) if !s.trim().is_empty() && s.trim().chars().count() <= EXTERNAL_ID_MAX => {
            s.trim().to_owned()
        }
        Ok(Some(s)) if !s.trim().is_empty() => {
            return Err(vec![line_error(
                line,
                Some(&kind),
                None,
                Some("external_id"),
                format!("must be at most {EXTERNAL_ID_MAX} characters"),
            )])
        }
        Ok(_) => {
            return Err(vec![line_error(
                line,
                Some(&kind),
                None,
                Some("external_id"),
                "is required",
            )])
        }
        Err(m) => {
            return Err(vec![line_error(
                line,
                Some(&kind),
                None,
                Some("external_id"),
                m,
            )])
        }
    };
    let ext = external_id.as_str();
    if kind == "organization" {
        let get = |k: &str| string_field(&obj, k);
        let mut errs = Vec::new();
        let mut field = |k: &str| match get(k) {
            Ok(v) => v,
            Err(m) => {
                errs.push(line_error(
                    line,
                    Some("organization"),
                    Some(ext),
                    Some(k),
                    m,
                ));
                None
            }
        };
        let req = CreateOrganizationRequest {
            name: field("name"),
            org_type: field("org_type"),
            district: field("district"),
            website: field("website"),
            email: field("email"),
            tax_code: field("tax_code"),
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        return match validate_new(req) {
            Ok(org) => Ok(Record::Organization { external_id, org }),
            Err(ApiError::Validation(fields)) => {
                Err(from_fields(line, "organization", ext, fields))
            }
            Err(e) => Err(vec![line_error(
                line,
                Some("organization"),
                Some(ext),
                None,
                e.to_string(),
            )]),
        };
    }
    let kind = Kind::parse(&kind).map_err(|_| {
        vec![line_error(
            line,
            Some(&kind),
            Some(ext),
            Some("kind"),
            format!("`{kind}` is not a record kind (organization, technology, need, expert)"),
        )]
    })?;
    let owner = match kind {
        Kind::Expert => None,
        _ => string_field(&obj, "owner")
            .map_err(|m| {
                vec![line_error(
                    line,
                    Some(kind.as_str()),
                    Some(ext),
                    Some("owner"),
                    m,
                )]
            })?
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    };
    if kind == Kind::Technology && owner.is_none() {
        return Err(vec![line_error(
            line,
            Some(kind.as_str()),
            Some(ext),
            Some("owner"),
            "is required: the external_id of the owner organisation",
        )]);
    }
    let known = known_keys(kind);
    obj.retain(|k, _| known.contains(&k.as_str()));
    let data = Content::from_json(kind, Value::Object(obj))
        .and_then(|c| {
            c.validate(Context {
                today,
                previous_deadline: None,
            })
        })
        .map_err(|errors| from_fields(line, kind.as_str(), ext, errors))?;
    Ok(Record::Listing {
        kind,
        external_id,
        owner,
        data: Box::new(data),
    })
}

/// Parses one line as the importer does, for checks of data files.
#[doc(hidden)]
pub fn parse_for_test(
    line: u64,
    bytes: &[u8],
    today: chrono::NaiveDate,
) -> Result<(), Vec<LineError>> {
    parse_line(line, bytes, today).map(|_| ())
}

/// What the importer knows of a stored listing.
#[derive(Debug, Clone)]
struct Known {
    id: i64,
    organization_id: Option<i64>,
    status: Status,
    data: ListingData,
}

/// Applies parsed records to the database.
struct Applier {
    actor: Option<i64>,
    org_ids: HashMap<String, i64>,
    /// Listings of the current batch already stored, by kind and external id.
    known: HashMap<(Kind, String), Known>,
    events: Vec<listings::NewEvent>,
    changes: Vec<listings::NewChange>,
}

impl Applier {
    fn org_id(&mut self, conn: &mut DbConn, external_id: &str) -> Result<Option<i64>, ApiError> {
        if let Some(id) = self.org_ids.get(external_id) {
            return Ok(Some(*id));
        }
        let found = organizations::id_by_external_id(conn, external_id)?;
        if let Some(id) = found {
            self.org_ids.insert(external_id.to_owned(), id);
        }
        Ok(found)
    }

    fn apply(&mut self, conn: &mut DbConn, record: &Record) -> Result<Outcome, LineFailure> {
        match record {
            Record::Organization {
                external_id,
                org: o,
            } => self.organization(conn, external_id, o),
            Record::Listing {
                kind,
                external_id,
                owner,
                data,
            } => {
                let organization_id = match owner {
                    Some(owner) => Some(self.org_id(conn, owner)?.ok_or_else(|| {
                        LineFailure::Field("owner", format!("unknown organisation `{owner}`: import it first or earlier in the file"))
                    })?),
                    None => None,
                };
                self.listing(conn, *kind, external_id, organization_id, data)
            }
        }
    }

    fn organization(
        &mut self,
        conn: &mut DbConn,
        external_id: &str,
        o: &ValidOrg,
    ) -> Result<Outcome, LineFailure> {
        let now = db::now();
        let existing = organizations::find_by_external_id(conn, external_id)?;
        let outcome = match existing {
            Some(cur) => {
                let same = cur.name == o.name
                    && cur.org_type == o.org_type
                    && cur.district == o.district
                    && cur.website == o.website
                    && cur.email == o.email
                    && (o.tax_code.is_none() || cur.tax_code == o.tax_code);
                self.org_ids.insert(external_id.to_owned(), cur.id);
                if same {
                    return Ok(Outcome::Unchanged);
                }
                // An import that leaves the tax code out keeps the one registered.
                let next = ValidOrg {
                    tax_code: o.tax_code.clone().or(cur.tax_code.clone()),
                    ..o.clone()
                };
                store_update(conn, &cur, &next, now).map_err(tax_code_conflict)?;
                Outcome::Updated
            }
            None => {
                let new = NewOrganization {
                    name: o.name.clone(),
                    org_type: o.org_type,
                    district: o.district.clone(),
                    website: o.website.clone(),
                    email: o.email.clone(),
                    tax_code: o.tax_code.clone(),
                    created_by: self.actor,
                    created_at: now,
                    updated_at: now,
                    external_id: Some(external_id.to_owned()),
                };
                let id = organizations::insert(conn, &new).map_err(tax_code_conflict)?;
                self.org_ids.insert(external_id.to_owned(), id);
                Outcome::Created
            }
        };
        Ok(outcome)
    }

    fn listing(
        &mut self,
        conn: &mut DbConn,
        kind: Kind,
        external_id: &str,
        organization_id: Option<i64>,
        data: &ListingData,
    ) -> Result<Outcome, LineFailure> {
        let now = db::now();
        let key = (kind, external_id.to_owned());
        let (id, outcome, from) = match self.known.get(&key) {
            Some(cur)
                if &cur.data == data
                    && cur.organization_id == organization_id
                    && cur.status == Status::Published =>
            {
                return Ok(Outcome::Unchanged);
            }
            Some(cur) => {
                listings::overwrite(conn, cur.id, organization_id, data, Status::Published, now)?;
                (cur.id, Outcome::Updated, Some(cur.status))
            }
            None => {
                let id = listings::insert(
                    conn,
                    &NewListing {
                        kind,
                        external_id: Some(external_id.to_owned()),
                        organization_id,
                        owner_user_id: None,
                        status: Status::Published,
                        version: 1,
                        data: data.clone(),
                        created_by: self.actor,
                        created_at: now,
                        updated_at: now,
                        published_at: Some(now),
                    },
                )?;
                (id, Outcome::Created, None)
            }
        };
        self.known.insert(
            key,
            Known {
                id,
                organization_id,
                status: Status::Published,
                data: data.clone(),
            },
        );
        self.events.push(listings::NewEvent {
            listing_id: id,
            actor_user_id: self.actor,
            action: EventAction::Imported,
            from_status: from,
            to_status: Some(Status::Published),
            created_at: now,
        });
        self.changes.push(listings::NewChange {
            listing_id: id,
            changed_at: now,
        });
        Ok(outcome)
    }

    /// Loads the batch's listings that already exist, in one query per kind.
    fn prefetch(&mut self, conn: &mut DbConn, batch: &[Parsed]) -> Result<(), ApiError> {
        self.known.clear();
        self.events.clear();
        self.changes.clear();
        for kind in Kind::ALL {
            let ids: Vec<String> = batch
                .iter()
                .filter_map(|p| match &p.record {
                    Record::Listing {
                        kind: k,
                        external_id,
                        ..
                    } if *k == kind => Some(external_id.clone()),
                    _ => None,
                })
                .collect();
            for row in listings::find_externals(conn, kind, &ids)? {
                let Some(ext) = row.external_id.clone() else {
                    continue;
                };
                self.known.insert(
                    (kind, ext),
                    Known {
                        id: row.id,
                        organization_id: row.organization_id,
                        status: row.status(),
                        data: row.data,
                    },
                );
            }
        }
        Ok(())
    }
}

/// Why an otherwise valid record could not be stored.
#[derive(Debug)]
enum LineFailure {
    Field(&'static str, String),
    Db(diesel::result::Error),
    Api(ApiError),
}

impl From<diesel::result::Error> for LineFailure {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

impl From<ApiError> for LineFailure {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

fn tax_code_conflict(e: diesel::result::Error) -> LineFailure {
    if db::is_unique_violation(&e) {
        LineFailure::Field(
            "tax_code",
            "another organisation is registered with this tax code".into(),
        )
    } else {
        LineFailure::Db(e)
    }
}

/// Imports JSON Lines from `reader` as a trusted source (a moderator or the operator):
/// listings are published. `progress` is told the bytes read so far.
pub fn import(
    db: &Db,
    reader: impl BufRead,
    actor: Option<i64>,
    progress: &dyn Fn(u64),
) -> Result<ImportReport, ApiError> {
    let today = Utc::now().date_naive();
    let mut report = ImportReport::default();
    let mut applier = Applier {
        actor,
        org_ids: HashMap::new(),
        known: HashMap::new(),
        events: Vec::new(),
        changes: Vec::new(),
    };
    let mut reader = reader;
    let mut batch: Vec<Parsed> = Vec::with_capacity(BATCH);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut bytes = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| ApiError::BadRequest {
                code: "read_failed",
                detail: format!("reading the import failed after line {line}: {e}"),
            })?;
        if n == 0 {
            break;
        }
        line += 1;
        bytes += n as u64;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        report.lines += 1;
        match parse_line(line, &buf, today) {
            Ok(record) => batch.push(Parsed { line, record }),
            Err(errors) => {
                // One rejected line, however many reasons it has.
                let mut errors = errors.into_iter();
                if let Some(first) = errors.next() {
                    report.reject(first);
                    for e in errors {
                        if report.errors.len() < MAX_ERRORS {
                            report.errors.push(e);
                        }
                    }
                }
            }
        }
        if batch.len() >= BATCH {
            apply_batch(db, &mut applier, &mut batch, &mut report)?;
            progress(bytes);
        }
    }
    apply_batch(db, &mut applier, &mut batch, &mut report)?;
    progress(bytes);
    Ok(report)
}

/// One transaction for the batch, a savepoint per record: a record that fails is rolled
/// back alone and reported.
fn apply_batch(
    db: &Db,
    applier: &mut Applier,
    batch: &mut Vec<Parsed>,
    report: &mut ImportReport,
) -> Result<(), ApiError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut conn = db.conn()?;
    db::write_tx(&mut conn, |conn| {
        applier.prefetch(conn, batch)?;
        for p in batch.iter() {
            let (kind, ext) = match &p.record {
                Record::Organization { external_id, .. } => ("organization", external_id.as_str()),
                Record::Listing {
                    kind, external_id, ..
                } => (kind.as_str(), external_id.as_str()),
            };
            // Organisations can clash on a tax code: each in a savepoint of its own. A
            // listing's every check is done before it writes, so it needs none.
            let result = match &p.record {
                Record::Organization { .. } => conn.transaction::<_, SavepointError, _>(|conn| {
                    applier.apply(conn, &p.record).map_err(SavepointError::Line)
                }),
                Record::Listing { .. } => {
                    applier.apply(conn, &p.record).map_err(SavepointError::Line)
                }
            };
            match result {
                Ok(outcome) => report.count(kind, outcome),
                Err(SavepointError::Line(LineFailure::Field(field, message))) => {
                    report.reject(line_error(
                        p.line,
                        Some(kind),
                        Some(ext),
                        Some(field),
                        message,
                    ));
                }
                Err(SavepointError::Line(LineFailure::Db(e))) if db::is_unique_violation(&e) => {
                    report.reject(line_error(
                        p.line,
                        Some(kind),
                        Some(ext),
                        None,
                        "conflicts with an existing record",
                    ));
                }
                Err(SavepointError::Line(LineFailure::Db(e))) | Err(SavepointError::Db(e)) => {
                    return Err(ApiError::from(e))
                }
                Err(SavepointError::Line(LineFailure::Api(e))) => return Err(e),
            }
        }
        listings::record_bulk(conn, &applier.events, &applier.changes)?;
        applier.events.clear();
        applier.changes.clear();
        Ok::<_, ApiError>(())
    })?;
    batch.clear();
    Ok(())
}

#[derive(Debug)]
enum SavepointError {
    Line(LineFailure),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for SavepointError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn err(line: &str) -> LineError {
        parse_line(7, line.as_bytes(), today())
            .unwrap_err()
            .remove(0)
    }

    #[test]
    fn broken_lines_say_why() {
        let e = err("{not json");
        assert_eq!(e.line, 7);
        assert!(e.message.contains("JSON"));
        assert_eq!(err("[1]").message, "a record must be a JSON object");
        assert_eq!(err(r#"{"external_id":"X"}"#).field.as_deref(), Some("kind"));
        assert_eq!(
            err(r#"{"kind":"patent","external_id":"X"}"#)
                .field
                .as_deref(),
            Some("kind")
        );
        assert_eq!(
            err(r#"{"kind":"technology"}"#).field.as_deref(),
            Some("external_id")
        );
        let e = err(
            r#"{"kind":"technology","external_id":"T1","owner":"O1","description":"d","field":"207","trl":5}"#,
        );
        assert_eq!(
            (e.field.as_deref(), e.external_id.as_deref()),
            (Some("title"), Some("T1"))
        );
        let e = err(
            r#"{"kind":"technology","external_id":"T1","owner":"O1","title":"Tiêu đề dài","description":"d","field":"207","trl":5,"ip_status":"secret"}"#,
        );
        assert_eq!(e.field.as_deref(), Some("ip_status"));
        let e = err(
            r#"{"kind":"technology","external_id":"T1","title":"Tiêu đề dài","description":"d","field":"207","trl":5}"#,
        );
        assert_eq!(e.field.as_deref(), Some("owner"));
        let e =
            err(r#"{"kind":"organization","external_id":"O1","name":"Viện X","org_type":"bank"}"#);
        assert_eq!(e.field.as_deref(), Some("org_type"));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let r = parse_line(
            1,
            r#"{"kind":"need","external_id":"N1","owner":"O1","title":"Cần công nghệ","description":"d","field":"207","rating":5,"source":"x"}"#.as_bytes(),
            today(),
        );
        assert!(matches!(
            r,
            Ok(Record::Listing {
                kind: Kind::Need,
                ..
            })
        ));
    }

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
