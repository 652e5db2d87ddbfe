//! Organisation rules: who may create, see, edit, staff and verify an organisation.

use super::model::{
    tax_code, CreateOrganizationRequest, MemberRole, MemberView, NewOrganization, OrgType,
    Organization, OrganizationList, OrganizationQuery, OrganizationView, UpdateOrganizationRequest,
};
use super::repo::{self, Filter};
use crate::accounts::model::Caller;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, Violations};
use crate::http::page::{page, Page};
use crate::organizations::actor::Actor;
use crate::state::AppState;
use crate::validate::{optional_text, text, web_url, Email};
use chrono::NaiveDateTime;
use diesel::QueryResult;

fn tax_code_taken() -> ApiError {
    ApiError::Conflict {
        code: "tax_code_taken",
        detail: "another organisation is registered with this tax code".into(),
    }
}

/// A name as people read it: its letters and digits only, lower case, compatibility
/// forms folded (full-width letters), without diacritics, with nothing between them
/// (`Viện Công nghệ  Môi-trường`, `vien cong nghe moi truong` and `VienCongNgheMoiTruong`
/// read alike; an invisible character changes nothing).
pub fn comparable_name(name: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    name.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Refuses a name that reads like a verified organisation's (other than `except`): an
/// unverified look-alike could pass for the real one in deals and emails.
fn refuse_look_alike(conn: &mut DbConn, name: &str, except: Option<i64>) -> Result<(), ApiError> {
    let wanted = comparable_name(name);
    let verified = repo::verified_names(conn)?;
    if verified
        .iter()
        .any(|(id, other)| Some(*id) != except && comparable_name(other) == wanted)
    {
        return Err(ApiError::Conflict {
            code: "name_of_verified_organization",
            detail: "a verified organisation already has this name; if you belong to it, ask \
                     its administrator to invite you, or contact the Department of Science \
                     and Technology"
                .into(),
        });
    }
    Ok(())
}

fn map_unique(e: diesel::result::Error) -> ApiError {
    if db::is_unique_violation(&e) {
        tax_code_taken()
    } else {
        e.into()
    }
}

fn org_not_found() -> ApiError {
    ApiError::NotFound {
        code: "organization_not_found",
        detail: "no such organisation".into(),
    }
}

/// Optional text field: `""` clears it, otherwise it must parse.
fn opt(
    raw: String,
    parse: impl FnOnce(&str) -> Result<String, String>,
) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(&raw).map(Some)
    }
}

fn email_field(s: &str) -> Result<String, String> {
    Email::parse(s).map(Email::into_inner)
}

fn view_for(
    conn: &mut DbConn,
    id: i64,
    viewer: Option<&Caller>,
) -> Result<OrganizationView, ApiError> {
    let org = repo::find(conn, id)?.ok_or_else(org_not_found)?;
    let actor = Actor::load(conn, viewer)?;
    let show_contact = actor.is_moderator() || actor.is_member(Some(id));
    Ok(OrganizationView::from_row(&org, show_contact))
}

/// The caller must administer the organisation (or the platform).
pub(super) fn require_org_admin(
    conn: &mut DbConn,
    org_id: i64,
    caller: &Caller,
) -> Result<(), ApiError> {
    repo::find(conn, org_id)?.ok_or_else(org_not_found)?;
    if Actor::signed_in(conn, caller)?.administers(org_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only an administrator of this organisation may do this",
        ))
    }
}

/// Writes an organisation's new fields, for the API and for imports alike. A changed name
/// or tax code withdraws the Department's verification, whichever path changes it: the
/// badge vouches for an identity, and a different name under the same id is not the one
/// that was checked. Returns whether a verification was withdrawn.
pub fn store_update(
    conn: &mut DbConn,
    cur: &Organization,
    next: &ValidOrg,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let identity_changed = next.name != cur.name || next.tax_code != cur.tax_code;
    repo::update(
        conn,
        cur.id,
        &next.name,
        next.org_type,
        next.district.as_deref(),
        next.website.as_deref(),
        next.email.as_deref(),
        next.tax_code.as_deref(),
        !identity_changed,
        now,
    )?;
    let withdrawn = identity_changed && cur.verified_at.is_some();
    if withdrawn {
        tracing::info!(
            organization_id = cur.id,
            "identity changed, verification withdrawn"
        );
    }
    Ok(withdrawn)
}

/// A new organisation's fields, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOrg {
    pub name: String,
    pub org_type: OrgType,
    pub district: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub tax_code: Option<String>,
}

/// Validates a new organisation (the API's and the importer's rules are the same).
pub fn validate_new(req: CreateOrganizationRequest) -> Result<ValidOrg, ApiError> {
    let mut v = Violations::new();
    let name = v.required("name", req.name, |s| text(&s, 2, 256));
    let org_type = v.required("org_type", req.org_type, |s| OrgType::parse(s.trim()));
    let district = v
        .optional("district", req.district, |s| optional_text(&s, 100))
        .flatten()
        .flatten();
    let website = v
        .optional("website", req.website, |s| opt(s, web_url))
        .flatten()
        .flatten();
    let email = v
        .optional("email", req.email, |s| opt(s, email_field))
        .flatten()
        .flatten();
    let tax_code = v
        .optional("tax_code", req.tax_code, |s| opt(s, tax_code))
        .flatten()
        .flatten();
    v.finish()?;
    let (Some(name), Some(org_type)) = (name, org_type) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    Ok(ValidOrg {
        name,
        org_type,
        district,
        website,
        email,
        tax_code,
    })
}

pub async fn create(
    state: &AppState,
    caller: Caller,
    req: CreateOrganizationRequest,
) -> Result<OrganizationView, ApiError> {
    let ValidOrg {
        name,
        org_type,
        district,
        website,
        email,
        tax_code,
    } = validate_new(req)?;
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                refuse_look_alike(conn, &name, None)?;
                let now = db::now();
                let id = repo::insert(
                    conn,
                    &NewOrganization {
                        name,
                        org_type,
                        district,
                        website,
                        email,
                        tax_code,
                        created_by: Some(caller.user_id),
                        created_at: now,
                        updated_at: now,
                        external_id: None,
                    },
                )
                .map_err(map_unique)?;
                repo::add_member(conn, id, caller.user_id, MemberRole::Admin, now)?;
                tracing::info!(
                    organization_id = id,
                    user_id = caller.user_id,
                    "organisation created"
                );
                view_for(conn, id, Some(&caller))
            })
        })
        .await
}

pub async fn get(
    state: &AppState,
    viewer: Option<Caller>,
    id: i64,
) -> Result<OrganizationView, ApiError> {
    state
        .db
        .run(move |conn| view_for(conn, id, viewer.as_ref()))
        .await
}

pub async fn list(state: &AppState, q: OrganizationQuery) -> Result<OrganizationList, ApiError> {
    let mut v = Violations::new();
    let org_type = v
        .optional("org_type", q.org_type, |s| OrgType::parse(&s))
        .flatten();
    let Page { limit, offset } = page(&mut v, q.limit, q.offset);
    v.finish()?;
    let filter = Filter {
        org_type,
        verified: q.verified,
    };
    state
        .db
        .run(move |conn| {
            let (total, rows) = repo::list(conn, &filter, limit, offset)?;
            let items = rows
                .iter()
                .map(|o| OrganizationView::from_row(o, false))
                .collect();
            Ok(OrganizationList { total, items })
        })
        .await
}

pub async fn update(
    state: &AppState,
    caller: Caller,
    id: i64,
    req: UpdateOrganizationRequest,
) -> Result<OrganizationView, ApiError> {
    let mut v = Violations::new();
    let name = v.optional("name", req.name, |s| text(&s, 2, 256)).flatten();
    let org_type = v
        .optional("org_type", req.org_type, |s| OrgType::parse(s.trim()))
        .flatten();
    let district = v
        .optional("district", req.district, |s| optional_text(&s, 100))
        .flatten();
    let website = v
        .optional("website", req.website, |s| opt(s, web_url))
        .flatten();
    let email = v
        .optional("email", req.email, |s| opt(s, email_field))
        .flatten();
    let tax = v
        .optional("tax_code", req.tax_code, |s| opt(s, tax_code))
        .flatten();
    v.finish()?;
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                require_org_admin(conn, id, &caller)?;
                let cur = repo::find(conn, id)?.ok_or_else(org_not_found)?;
                // `Some(None)` clears, `None` keeps.
                let pick = |new: Option<Option<String>>, old: Option<String>| match new {
                    Some(value) => value,
                    None => old,
                };
                if let Some(new) = &name {
                    if comparable_name(new) != comparable_name(&cur.name) {
                        refuse_look_alike(conn, new, Some(id))?;
                    }
                }
                let name = name.unwrap_or(cur.name.clone());
                let org_type = org_type.unwrap_or(cur.org_type);
                let district = pick(district, cur.district.clone());
                let website = pick(website, cur.website.clone());
                let email = pick(email, cur.email.clone());
                let tax_code = pick(tax, cur.tax_code.clone());
                let next = ValidOrg {
                    name,
                    org_type,
                    district,
                    website,
                    email,
                    tax_code,
                };
                store_update(conn, &cur, &next, db::now()).map_err(map_unique)?;
                view_for(conn, id, Some(&caller))
            })
        })
        .await
}

pub async fn list_members(
    state: &AppState,
    caller: Caller,
    org_id: i64,
) -> Result<Vec<MemberView>, ApiError> {
    state
        .db
        .run(move |conn| {
            repo::find(conn, org_id)?.ok_or_else(org_not_found)?;
            let actor = Actor::signed_in(conn, &caller)?;
            let allowed = actor.is_moderator() || actor.is_member(Some(org_id));
            if !allowed {
                return Err(ApiError::forbidden(
                    "only members of this organisation and moderators see its members",
                ));
            }
            Ok(repo::members(conn, org_id)?)
        })
        .await
}

/// Removes a member; an organisation admin may remove anyone, a member may leave. The last
/// admin cannot leave: the organisation would be unmanageable.
pub async fn remove_member(
    state: &AppState,
    caller: Caller,
    org_id: i64,
    user_id: i64,
) -> Result<(), ApiError> {
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                if caller.user_id != user_id {
                    require_org_admin(conn, org_id, &caller)?;
                } else {
                    repo::find(conn, org_id)?.ok_or_else(org_not_found)?;
                }
                let role = repo::member_role(conn, org_id, user_id)?.ok_or(ApiError::NotFound {
                    code: "member_not_found",
                    detail: "this person is not a member of the organisation".into(),
                })?;
                if role == MemberRole::Admin && repo::count_admins(conn, org_id)? <= 1 {
                    return Err(ApiError::Conflict {
                        code: "last_admin",
                        detail: "the last administrator cannot be removed: appoint another first"
                            .into(),
                    });
                }
                repo::remove_member(conn, org_id, user_id)?;
                Ok(())
            })
        })
        .await
}

/// Marks the organisation verified by the Department of Science and Technology.
pub async fn verify(
    state: &AppState,
    caller: Caller,
    org_id: i64,
) -> Result<OrganizationView, ApiError> {
    if !caller.role.can_moderate() {
        return Err(ApiError::forbidden(
            "only moderators may verify organisations",
        ));
    }
    state
        .db
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                repo::find(conn, org_id)?.ok_or_else(org_not_found)?;
                if repo::set_verified(conn, org_id, caller.user_id, db::now())? > 0 {
                    tracing::info!(
                        organization_id = org_id,
                        moderator = caller.user_id,
                        "organisation verified"
                    );
                }
                view_for(conn, org_id, Some(&caller))
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::comparable_name;

    #[test]
    fn names_read_alike_without_marks_case_or_punctuation() {
        assert_eq!(
            comparable_name("  Viện Công nghệ  Môi-trường "),
            comparable_name("VIEN CONG NGHE MOI TRUONG")
        );
        assert_eq!(comparable_name("Đại học Bách khoa"), "daihocbachkhoa");
        assert_eq!(
            comparable_name("Vi\u{200B}ện Công nghệ Môi trường"),
            comparable_name("ＶＩＥＮ CONGNGHE moi truong")
        );
        assert_ne!(
            comparable_name("Viện Công nghệ Môi trường"),
            comparable_name("Viện Công nghệ Thông tin")
        );
    }
}
