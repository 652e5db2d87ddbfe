//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::catalog::content::required_keys;
use crate::catalog::handlers as catalog;
use crate::catalog::model::Kind;
use crate::{accounts, organizations};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "techex — Hanoi Technology Exchange API",
        description = "Sàn giao dịch công nghệ Hà Nội: technologies, needs and experts, search and \
            matching, contact and negotiation. Errors are `application/problem+json` (RFC 9457) \
            with a stable `code` and, for validation, the offending `errors[].field`."
    ),
    paths(
        super::health::live,
        super::health::ready,
        accounts::handlers::register,
        accounts::handlers::login,
        accounts::handlers::logout,
        crate::me::me,
        crate::me::update_me,
        accounts::handlers::change_password,
        accounts::handlers::verify_email,
        accounts::handlers::resend_verification,
        accounts::handlers::request_reset,
        accounts::handlers::confirm_reset,
        crate::me::get_prefs,
        crate::me::put_prefs,
        organizations::handlers::create,
        organizations::handlers::list,
        organizations::handlers::get,
        organizations::handlers::update,
        organizations::handlers::list_members,
        organizations::invitations::invite_handler,
        organizations::invitations::list_handler,
        organizations::invitations::revoke_handler,
        organizations::invitations::mine_handler,
        organizations::invitations::answer_handler,
        organizations::handlers::remove_member,
        organizations::handlers::verify,
        catalog::technologies::create,
        catalog::technologies::list,
        catalog::technologies::get,
        catalog::technologies::update,
        catalog::technologies::delete,
        catalog::technologies::transition,
        catalog::needs::create,
        catalog::needs::list,
        catalog::needs::get,
        catalog::needs::update,
        catalog::needs::delete,
        catalog::needs::transition,
        catalog::experts::create,
        catalog::experts::list,
        catalog::experts::get,
        catalog::experts::update,
        catalog::experts::delete,
        catalog::experts::transition,
        catalog::queue,
        catalog::fields,
        catalog::priority_areas,
        catalog::ip_statuses,
        catalog::transfer_modes,
        catalog::availability,
        catalog::trl,
        crate::imports::handlers::upload,
        crate::imports::handlers::export,
        crate::search::handlers::search,
        crate::search::handlers::suggest,
        crate::matching::handlers::for_need,
        crate::matching::handlers::for_technology,
        crate::matching::handlers::for_expert,
        crate::deals::handlers::open,
        crate::deals::handlers::list,
        crate::deals::handlers::get,
        crate::deals::handlers::timeline,
        crate::deals::handlers::messages,
        crate::deals::handlers::post_message,
        crate::deals::handlers::make_offer,
        crate::deals::handlers::answer_offer,
        crate::deals::handlers::action,
        crate::deals::handlers::propose,
        crate::deals::handlers::list_matches,
        crate::deals::handlers::get_match,
        crate::deals::handlers::match_action,
    ),
    components(schemas(
        crate::http::error::Problem,
        crate::http::error::FieldError,
        organizations::invitations::InvitationAnswer,
    )),
    modifiers(&BearerAuth, &Contract, &ListingShapes),
    tags(
        (name = "health", description = "Probes for orchestrators"),
        (name = "accounts", description = "Registration, sign-in, the caller's account"),
        (name = "organizations", description = "Enterprises, institutes, universities, brokers, agencies; members; verification"),
        (name = "technologies", description = "Technology offers (công nghệ chào bán)"),
        (name = "needs", description = "Technology needs (nhu cầu công nghệ); confidential ones hide their owner"),
        (name = "experts", description = "Expert profiles of the Hanoi Initiative Network; contact details never public"),
        (name = "moderation", description = "The Department of S&T's review queue"),
        (name = "taxonomy", description = "Vocabularies with Vietnamese and English labels"),
        (name = "search", description = "Full-text search over the catalogues, Vietnamese-aware"),
        (name = "matching", description = "Supply–demand matching with reasons"),
        (name = "deals", description = "Contact requests, negotiation with offers, agreements; brokers' matches. Every step is notified by email in each person's language"),
        (name = "imports", description = "Bulk import and open-data export in the interchange format (JSON Lines)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers every operation can give besides its own, documented once under
/// `components/responses` and referred to from each operation they apply to, by what the
/// operation has: a body can be malformed, too large, too slow or of the wrong type; a
/// parameter can be invalid; a path can name nothing; a protected route needs a token;
/// anything that reads the database can find it unavailable. An operation's own answer
/// for a status (a more precise description) wins.
struct Contract;

/// (status, component name, description) of the shared answers.
const SHARED: [(&str, &str, &str); 12] = [
    ("400", "Malformed", "The body is empty, not well-formed JSON or not UTF-8 (`malformed_json`, `empty_body`, `body_read_failed`, `bad_request`)"),
    ("401", "Unauthenticated", "No valid bearer token (`unauthenticated`, `invalid_authorization`, `invalid_token`)"),
    ("403", "Forbidden", "Not allowed to you (`forbidden`, or a code of its own such as `email_unconfirmed`)"),
    ("404", "NotFound", "Nothing at this path that you may see (`listing_not_found`, `deal_not_found`, … one code per resource): an id that cannot exist answers the same as a missing one"),
    ("408", "RequestTimeout", "The body did not arrive in time (`request_timeout`); the connection is closed"),
    ("413", "PayloadTooLarge", "The body is larger than the limit (`payload_too_large`)"),
    ("414", "UriTooLong", "The path and query are longer than 8 KiB (`uri_too_long`)"),
    ("415", "UnsupportedMediaType", "The body is not `application/json` (`unsupported_media_type`)"),
    ("422", "Invalid", "Invalid input, each offending field or parameter named in `errors` (`validation_failed`)"),
    ("429", "TooManyRequests", "Too many attempts: wait `retry_after` seconds (`too_many_requests`)"),
    ("431", "HeadersTooLarge", "More than 64 header fields (`headers_too_large`)"),
    ("503", "Unavailable", "The database or the index cannot answer now (`service_unavailable`); try again shortly"),
];

fn shared(status: &str) -> Option<RefOr<Response>> {
    SHARED
        .iter()
        .find(|(s, _, _)| *s == status)
        .map(|(_, name, _)| RefOr::Ref(Ref::from_response_name(*name)))
}

/// Operations that count attempts and answer 429 past a limit.
const THROTTLED: [&str; 3] = [
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/password-reset",
];

/// Operations that never touch the database or the index.
fn without_storage(path: &str) -> bool {
    path.starts_with("/api/v1/taxonomy/") || path == "/health/live"
}

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in SHARED {
            let problem = Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))));
            let answer = ResponseBuilder::new()
                .description(description)
                .content("application/problem+json", problem)
                .build();
            components
                .responses
                .insert(name.to_string(), RefOr::T(answer));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ];
            for (operation, changes) in operations {
                let Some(operation) = operation else {
                    continue;
                };
                for status in shared_statuses(path, operation, changes) {
                    if let Some(answer) = shared(status) {
                        let responses = &mut operation.responses.responses;
                        responses.entry(status.to_string()).or_insert(answer);
                    }
                }
            }
        }
    }
}

/// The shared answers an operation can give, from what it has.
fn shared_statuses(path: &str, operation: &Operation, changes: bool) -> Vec<&'static str> {
    // Any request can be too long to read.
    let mut out = vec!["414", "431"];
    let params = operation.parameters.iter().flatten();
    let (mut in_path, mut in_query) = (false, false);
    for p in params {
        if let RefOr::T(p) = p {
            match p.parameter_in {
                ParameterIn::Path => in_path = true,
                ParameterIn::Query | ParameterIn::Header => in_query = true,
                _ => {}
            }
        }
    }
    if operation.request_body.is_some() {
        out.extend(["400", "408", "413", "415", "422"]);
    } else if in_query || in_path {
        out.push("422");
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        out.push("401");
        // A change to something that is not only the caller's own account can be refused.
        if changes && !path.starts_with("/api/v1/me") && !path.starts_with("/api/v1/auth/") {
            out.push("403");
        }
    }
    if in_path {
        out.push("404");
    }
    if THROTTLED.contains(&path) {
        out.push("429");
    }
    if !without_storage(path) {
        out.push("503");
    }
    out
}

/// A listing's shape depends on its `kind`: `ListingView` is documented as one of
/// `TechnologyListing`, `NeedListing` and `ExpertListing`, told apart by `kind`, each the
/// common fields plus its kind's content with every field that is always sent required.
/// (The derive can only say "any of three shapes that require nothing", which every
/// listing matches three times over.)
struct ListingShapes;

/// (kind, listing schema, content fields schema, content fields sent only when set).
const SHAPES: [(&str, &str, &str, &[&str]); 3] = [
    ("technology", "TechnologyListing", "TechnologyFields", &[]),
    ("need", "NeedListing", "NeedFields", &[]),
    (
        "expert",
        "ExpertListing",
        "ExpertFields",
        &["email", "phone", "language"],
    ),
];

impl Modify for ListingShapes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        if listing_shapes(&mut doc).is_some() && new_listings(&mut doc).is_some() {
            if let Ok(reshaped) = serde_json::from_value(doc) {
                *openapi = reshaped;
            }
        }
    }
}

fn listing_shapes(doc: &mut serde_json::Value) -> Option<()> {
    use serde_json::{json, Value};
    let schemas = doc.pointer_mut("/components/schemas")?.as_object_mut()?;
    // The derive's ListingView: allOf [Content, the common fields].
    let common = schemas
        .get("ListingView")?
        .get("allOf")?
        .as_array()?
        .iter()
        .find(|s| s.get("properties").is_some())?
        .clone();
    let mut mapping = serde_json::Map::new();
    let mut shapes = Vec::new();
    for (kind, listing, fields, optional) in SHAPES {
        let mut content = schemas.get(fields)?.clone();
        let names: Vec<Value> = content
            .get("properties")?
            .as_object()?
            .keys()
            .filter(|k| !optional.contains(&k.as_str()))
            .map(|k| Value::from(k.as_str()))
            .collect();
        content["required"] = Value::Array(names);
        content["description"] = Value::from(format!("The content of a {kind} as it is sent."));
        let content_name = format!("{}Content", &listing[..listing.len() - "Listing".len()]);
        schemas.insert(content_name.clone(), content);
        let mut own = common.clone();
        own["properties"]["kind"] = json!({"type": "string", "enum": [kind]});
        let reference = format!("#/components/schemas/{listing}");
        schemas.insert(
            listing.to_owned(),
            json!({
                "description": format!("A {kind} listing."),
                "allOf": [own, {"$ref": format!("#/components/schemas/{content_name}")}],
            }),
        );
        mapping.insert(kind.to_owned(), Value::from(reference.clone()));
        shapes.push(json!({"$ref": reference}));
    }
    schemas.insert(
        "ListingView".to_owned(),
        json!({
            "description": "A listing of any kind, its shape told by `kind`.",
            "oneOf": shapes,
            "discriminator": {"propertyName": "kind", "mapping": mapping},
        }),
    );
    schemas.remove("Content");
    Some(())
}

/// A new listing's body: its kind's fields, those it cannot be without required.
fn new_listings(doc: &mut serde_json::Value) -> Option<()> {
    use serde_json::{json, Value};
    for (kind, listing, fields, _) in SHAPES {
        let kind = Kind::parse(kind).ok()?;
        let schemas = doc.pointer_mut("/components/schemas")?.as_object_mut()?;
        let mut new = schemas.get(fields)?.clone();
        new["required"] = json!(required_keys(kind));
        new["description"] = Value::from(format!(
            "A new {kind}, created as a draft; `organization_id` picks the owner when you \
             belong to several."
        ));
        let name = format!("New{}", &listing[..listing.len() - "Listing".len()]);
        schemas.insert(name.clone(), new);
        let body = format!(
            "/paths/~1api~1v1~1{}/post/requestBody/content/application~1json/schema",
            kind.collection()
        );
        *doc.pointer_mut(&body)? = json!({"$ref": format!("#/components/schemas/{name}")});
    }
    Some(())
}
