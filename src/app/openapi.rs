//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::catalog::handlers as catalog;
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
        organizations::handlers::add_member,
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
    components(schemas(crate::http::error::Problem, crate::http::error::FieldError)),
    modifiers(&BearerAuth),
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
