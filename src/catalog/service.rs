//! Catalogue rules: who sees which listing and which of its details, who may change it,
//! moderation, optimistic concurrency.

use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::content::{known_keys, Content, Context};
use super::model::{Action, EventAction, Kind, ListingRow, NewListing, Status};
use super::repo::{self, Filter, Scope, Sort};
use crate::accounts::model::Caller;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, FieldError, Violations};
use crate::http::page::page;
use crate::organizations::actor::{Acting, Actor};
use crate::organizations::repo as org_repo;
use crate::state::AppState;

use super::view::{one_view, views};
pub use super::view::{view, ListingAccess, ListingList, ListingView, OrgSummary};

fn not_found(kind: Kind) -> ApiError {
    ApiError::NotFound {
        code: "listing_not_found",
        detail: format!("no such {}", kind.noun()),
    }
}

/// The listing if it exists, is of this kind and the viewer may see it; 404 otherwise, so
/// that hidden listings cannot be told from missing ones.
fn load_visible(
    conn: &mut DbConn,
    kind: Kind,
    id: i64,
    viewer: &Actor,
) -> Result<ListingRow, ApiError> {
    match repo::find(conn, id)? {
        Some(row) if row.kind() == kind && viewer.can_see(&row) => Ok(row),
        _ => Err(not_found(kind)),
    }
}

/// A request body split into the kind's content and the bookkeeping keys.
struct Body {
    content: Map<String, Value>,
    organization_id: Option<Value>,
    version: Option<Value>,
}

/// Splits a request body, refusing keys the kind does not have.
fn split_body(kind: Kind, mut body: Map<String, Value>) -> Result<Body, ApiError> {
    let organization_id = body.remove("organization_id");
    let version = body.remove("version");
    let known = known_keys(kind);
    let unknown: Vec<FieldError> = body
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| FieldError::new(k.clone(), format!("is not a field of a {}", kind.noun())))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    Ok(Body {
        content: body,
        organization_id,
        version,
    })
}

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

fn validate(
    kind: Kind,
    content: Map<String, Value>,
    ctx: Context,
) -> Result<crate::catalog::model::ListingData, ApiError> {
    Content::from_json(kind, Value::Object(content))
        .and_then(|c| c.validate(ctx))
        .map_err(ApiError::Validation)
}

pub async fn create(
    state: &AppState,
    caller: Caller,
    kind: Kind,
    body: Map<String, Value>,
) -> Result<ListingView, ApiError> {
    let Body {
        content,
        organization_id,
        ..
    } = split_body(kind, body)?;
    let organization_id = match organization_id {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(_) => {
            return Err(ApiError::invalid(
                "organization_id",
                "must be an organisation id",
            ))
        }
    };
    if kind == Kind::Expert && organization_id.is_some() {
        return Err(ApiError::invalid(
            "organization_id",
            "expert profiles belong to a person, not an organisation",
        ));
    }
    let data = validate(
        kind,
        content,
        Context {
            today: today(),
            previous_deadline: None,
        },
    )?;
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let viewer = Actor::signed_in(conn, &caller)?;
                let (org, owner_user) = match kind {
                    Kind::Expert if viewer.is_moderator() => (None, None),
                    Kind::Expert => (None, Some(caller.user_id)),
                    _ => (Some(owning_org(conn, &viewer, organization_id)?), None),
                };
                let now = db::now();
                let id = repo::insert(
                    conn,
                    &NewListing {
                        kind,
                        external_id: None,
                        organization_id: org,
                        owner_user_id: owner_user,
                        status: Status::Draft,
                        version: 1,
                        data,
                        created_by: Some(caller.user_id),
                        created_at: now,
                        updated_at: now,
                        published_at: None,
                    },
                )
                .map_err(|e| {
                    if db::is_unique_violation(&e) && kind == Kind::Expert {
                        ApiError::Conflict {
                            code: "expert_profile_exists",
                            detail: "you already have an expert profile: edit it instead".into(),
                        }
                    } else {
                        e.into()
                    }
                })?;
                repo::record_event(
                    conn,
                    id,
                    Some(caller.user_id),
                    EventAction::Created,
                    None,
                    Some(Status::Draft),
                    None,
                    now,
                )?;
                repo::record_change(conn, id, now)?;
                let row = repo::find(conn, id)?.ok_or_else(|| not_found(kind))?;
                tracing::info!(
                    listing_id = id,
                    kind = kind.as_str(),
                    user_id = caller.user_id,
                    "listing created"
                );
                one_view(conn, &row, &viewer)
            })
        })
        .await
}

/// The organisation a new technology or need belongs to: the one named (it must exist;
/// the caller must belong to it, unless a moderator), or the caller's only organisation.
fn owning_org(conn: &mut DbConn, viewer: &Actor, requested: Option<i64>) -> Result<i64, ApiError> {
    if let Some(id) = requested {
        if org_repo::find(conn, id)?.is_none() {
            return Err(ApiError::invalid("organization_id", "no such organisation"));
        }
    }
    viewer
        .acting_organisation(requested, Acting::Owns)?
        .ok_or_else(|| ApiError::internal("a listing's owner resolved to no organisation"))
}

/// The stored listing, if the caller may see it (404 otherwise).
pub async fn visible_row(
    state: &AppState,
    caller: Option<Caller>,
    kind: Kind,
    id: i64,
) -> Result<ListingRow, ApiError> {
    state
        .db
        .run(move |conn| {
            let viewer = Actor::load(conn, caller.as_ref())?;
            load_visible(conn, kind, id, &viewer)
        })
        .await
}

pub async fn get(
    state: &AppState,
    caller: Option<Caller>,
    kind: Kind,
    id: i64,
) -> Result<ListingView, ApiError> {
    state
        .db
        .run(move |conn| {
            let viewer = Actor::load(conn, caller.as_ref())?;
            let row = load_visible(conn, kind, id, &viewer)?;
            one_view(conn, &row, &viewer)
        })
        .await
}

fn parse_version(v: &Value) -> Result<i64, ApiError> {
    v.as_i64().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::invalid("version", "must be the positive version number you edited")
    })
}

/// Updates the fields present in `body` (null clears an optional one). The version edited
/// comes from `If-Match` or the body; a stale one is refused with 412 and nothing changes.
/// An owner's edit of a published listing sends it back to review.
pub async fn update(
    state: &AppState,
    caller: Caller,
    kind: Kind,
    id: i64,
    body: Map<String, Value>,
    if_match: Option<i64>,
) -> Result<ListingView, ApiError> {
    let Body {
        content: patch,
        organization_id,
        version: body_version,
    } = split_body(kind, body)?;
    let expected = match (
        if_match,
        body_version.as_ref().map(parse_version).transpose()?,
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid(
                "version",
                "differs from the If-Match header",
            ))
        }
        (Some(v), _) | (None, Some(v)) => v,
        (None, None) => return Err(ApiError::VersionRequired),
    };
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let viewer = Actor::signed_in(conn, &caller)?;
                let row = load_visible(conn, kind, id, &viewer)?;
                if !viewer.can_edit(&row) {
                    return Err(ApiError::forbidden(format!(
                        "only the owner of this {} or a moderator may edit it",
                        kind.noun()
                    )));
                }
                if let Some(org) = organization_id.filter(|v| !v.is_null()) {
                    if org.as_i64() != row.organization_id {
                        return Err(ApiError::invalid("organization_id", "cannot be changed"));
                    }
                }
                let status = row.status();
                if status == Status::Archived {
                    return Err(ApiError::InvalidTransition {
                        detail: format!("an archived {} cannot be edited", kind.noun()),
                        current: status.as_str().into(),
                        allowed: Vec::new(),
                    });
                }
                if row.version != expected {
                    return Err(ApiError::VersionMismatch {
                        sent: expected,
                        current: row.version,
                    });
                }
                let mut merged =
                    match serde_json::to_value(Content::from_data(kind, &row.data, true)) {
                        Ok(Value::Object(m)) => m,
                        _ => return Err(ApiError::internal("listing content is not an object")),
                    };
                if kind == Kind::Expert {
                    merged.insert("language".into(), row.data.language.as_str().into());
                }
                for (k, v) in patch {
                    merged.insert(k, v);
                }
                let data = validate(
                    kind,
                    merged,
                    Context {
                        today: today(),
                        previous_deadline: row.data.deadline,
                    },
                )?;
                let next = if status == Status::Published && !viewer.is_moderator() {
                    Status::PendingReview
                } else {
                    status
                };
                let now = db::now();
                if repo::update_content(conn, id, expected, &data, next, now)? == 0 {
                    let current = repo::find(conn, id)?.map(|r| r.version).unwrap_or(expected);
                    return Err(ApiError::VersionMismatch {
                        sent: expected,
                        current,
                    });
                }
                let note = (next != status).then_some("edited while published: back to review");
                repo::record_event(
                    conn,
                    id,
                    Some(caller.user_id),
                    EventAction::Updated,
                    Some(status),
                    Some(next),
                    note,
                    now,
                )?;
                repo::record_change(conn, id, now)?;
                let row = repo::find(conn, id)?.ok_or_else(|| not_found(kind))?;
                one_view(conn, &row, &viewer)
            })
        })
        .await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// Why the listing is rejected (at least 3 visible characters); required to reject,
    /// shown to the owner.
    #[schema(schema_with = crate::validate::schema::text_or_null::<3, 2000>)]
    pub reason: Option<String>,
}

/// Applies a moderation action. Publishing and rejecting are for moderators; the owner's
/// side submits and archives. A state that does not allow the action answers 409 naming
/// the actions it allows.
pub async fn transition(
    state: &AppState,
    caller: Caller,
    kind: Kind,
    id: i64,
    action: Action,
    req: TransitionRequest,
    if_match: Option<i64>,
) -> Result<ListingView, ApiError> {
    apply(state, caller, kind, id, action, req, if_match)
        .await?
        .ok_or_else(|| not_found(kind))
}

/// Deletes a draft (the owner's side). Anything past draft is archived instead.
pub async fn delete(state: &AppState, caller: Caller, kind: Kind, id: i64) -> Result<(), ApiError> {
    apply(
        state,
        caller,
        kind,
        id,
        Action::Delete,
        TransitionRequest::default(),
        None,
    )
    .await
    .map(|_| ())
}

/// The state change itself; `None` when the listing was deleted.
async fn apply(
    state: &AppState,
    caller: Caller,
    kind: Kind,
    id: i64,
    action: Action,
    req: TransitionRequest,
    if_match: Option<i64>,
) -> Result<Option<ListingView>, ApiError> {
    // A reason is checked whenever one is sent (only a rejection needs one, and keeps it).
    let mut v = Violations::new();
    let reason = if action == Action::Reject {
        v.required("reason", req.reason, |s| crate::validate::text(&s, 3, 2000))
    } else {
        v.optional("reason", req.reason, |s| crate::validate::text(&s, 3, 2000))
            .flatten()
            .and(None)
    };
    v.finish()?;
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let viewer = Actor::signed_in(conn, &caller)?;
                let row = load_visible(conn, kind, id, &viewer)?;
                if action.needs_moderator() && !viewer.is_moderator() {
                    return Err(ApiError::forbidden(format!(
                        "only moderators may {} listings",
                        action.as_str()
                    )));
                }
                if !viewer.can_edit(&row) {
                    return Err(ApiError::forbidden(format!(
                        "only the owner of this {} or a moderator may do this",
                        kind.noun()
                    )));
                }
                if let Some(v) = if_match.filter(|v| *v != row.version) {
                    return Err(ApiError::VersionMismatch {
                        sent: v,
                        current: row.version,
                    });
                }
                let from = row.status();
                let to = transition_target(kind, from, action)?;
                let now = db::now();
                if action == Action::Delete {
                    repo::delete(conn, id)?;
                    repo::record_change(conn, id, now)?;
                    tracing::info!(listing_id = id, user_id = caller.user_id, "draft deleted");
                    return Ok(None);
                }
                if repo::set_status(conn, id, from, to, reason.as_deref(), now)? == 0 {
                    return Err(ApiError::Conflict {
                        code: "concurrent_change",
                        detail: "the listing changed meanwhile: reload it and try again".into(),
                    });
                }
                repo::record_event(
                    conn,
                    id,
                    Some(caller.user_id),
                    action.into(),
                    Some(from),
                    Some(to),
                    reason.as_deref(),
                    now,
                )?;
                repo::record_change(conn, id, now)?;
                tracing::info!(
                    listing_id = id,
                    user_id = caller.user_id,
                    from = from.as_str(),
                    to = to.as_str(),
                    "listing moved"
                );
                let row = repo::find(conn, id)?.ok_or_else(|| not_found(kind))?;
                one_view(conn, &row, &viewer).map(Some)
            })
        })
        .await
}

fn transition_target(kind: Kind, from: Status, action: Action) -> Result<Status, ApiError> {
    from.after(action).ok_or_else(|| {
        let allowed: Vec<String> = from
            .allowed()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect();
        let listed = if allowed.is_empty() {
            "nothing".to_owned()
        } else {
            allowed.join(", ")
        };
        ApiError::InvalidTransition {
            detail: format!(
                "cannot {} a {} that is {}: allowed from {}: {listed}",
                action.as_str(),
                kind.noun(),
                from.as_str(),
                from.as_str()
            ),
            current: from.as_str().into(),
            allowed,
        }
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `published` by default; other states list what you may see (your organisation's,
    /// or everything for moderators).
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    /// Field or sector code prefix: `2` engineering, `207` environmental engineering.
    #[param(schema_with = crate::taxonomy::schema::field)]
    pub field: Option<String>,
    #[param(schema_with = crate::taxonomy::schema::priority_area)]
    pub priority_area: Option<String>,
    /// Owner organisation.
    pub organization_id: Option<i64>,
    /// The identifier a listing was imported with (at most 128 characters); empty: no
    /// filter.
    #[param(max_length = 128)]
    pub external_id: Option<String>,
    /// `newest` (default) or `title`.
    #[param(schema_with = list_sort)]
    pub sort: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

pub async fn list(
    state: &AppState,
    caller: Option<Caller>,
    kind: Kind,
    q: ListQuery,
) -> Result<ListingList, ApiError> {
    let mut v = Violations::new();
    let status = v
        .optional("status", q.status, |s| Status::parse(&s))
        .flatten()
        .unwrap_or(Status::Published);
    let field = v
        .optional("field", q.field, |s| {
            if crate::taxonomy::is_field_code(&s) {
                Ok(s)
            } else {
                Err(format!(
                    "`{s}` is not a field code (see /api/v1/taxonomy/fields)"
                ))
            }
        })
        .flatten();
    let priority_area = v
        .optional("priority_area", q.priority_area, |s| {
            crate::taxonomy::priority_area(&s).map(str::to_owned)
        })
        .flatten();
    let sort = match q.sort.as_deref() {
        None | Some("newest") => Sort::Newest,
        Some("title") => Sort::Title,
        Some(other) => {
            v.add(
                "sort",
                format!("`{other}` is not a sort order (newest, title)"),
            );
            Sort::Newest
        }
    };
    if q.external_id
        .as_ref()
        .is_some_and(|s| s.chars().count() > 128)
    {
        v.add("external_id", "must be at most 128 characters");
    }
    let p = page(&mut v, q.limit, q.offset);
    v.finish()?;
    let external_id = q
        .external_id
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let organization_id = q.organization_id;
    state
        .db
        .run(move |conn| {
            let viewer = Actor::load(conn, caller.as_ref())?;
            let insider = viewer.is_moderator() || viewer.is_member(organization_id);
            let filter = Filter {
                kind: Some(kind),
                status: Some(status),
                field,
                priority_area,
                organization_id,
                external_id,
                // Listing an organisation's needs must not reveal its confidential ones.
                exclude_confidential: organization_id.is_some() && !insider,
                scope: viewer.scope(),
            };
            let (total, rows) = repo::list(conn, &filter, sort, p.limit, p.offset)?;
            Ok(ListingList {
                total,
                items: views(conn, &rows, &viewer)?,
            })
        })
        .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Only this kind: technology, need or expert.
    #[param(value_type = Option<Kind>)]
    pub kind: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

fn list_sort() -> utoipa::openapi::schema::Schema {
    crate::validate::schema::one_of(["newest", "title"])
}

/// Listings waiting for review, oldest submission first (moderators).
pub async fn queue(
    state: &AppState,
    caller: Caller,
    q: QueueQuery,
) -> Result<ListingList, ApiError> {
    if !caller.role.can_moderate() {
        return Err(ApiError::forbidden(
            "the moderation queue is for moderators",
        ));
    }
    let mut v = Violations::new();
    let kind = v.optional("kind", q.kind, |s| Kind::parse(&s)).flatten();
    let p = page(&mut v, q.limit, q.offset);
    v.finish()?;
    state
        .db
        .run(move |conn| {
            let viewer = Actor::signed_in(conn, &caller)?;
            let filter = Filter {
                kind,
                status: Some(Status::PendingReview),
                field: None,
                priority_area: None,
                organization_id: None,
                external_id: None,
                exclude_confidential: false,
                scope: Scope::All,
            };
            let (total, rows) = repo::list(conn, &filter, Sort::Submitted, p.limit, p.offset)?;
            Ok(ListingList {
                total,
                items: views(conn, &rows, &viewer)?,
            })
        })
        .await
}
