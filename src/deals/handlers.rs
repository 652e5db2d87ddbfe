//! HTTP handlers for deals and brokers' matches: thin wrappers over the services.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::matches::{
    self, MatchList, MatchView, ProposeMatch, ProposedMatchesQuery, TakeUpRequest,
};
use super::offers::{self, OfferRequest};
use super::service::{self, DeclineRequest, MessageRequest, NoteRequest, OpenDealRequest};
use super::views::{self, DealList, DealQuery, DealView, Timeline};
use crate::accounts::model::Caller;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::{optional_json, ApiJson, ApiQuery};
use crate::http::route::ApiRoute;
use crate::state::AppState;

fn ok(view: DealView) -> HttpResponse {
    HttpResponse::Ok().json(view)
}

/// Open a contact request about a published technology, need or expert profile.
#[utoipa::path(
    post, path = "/api/v1/deals", tag = "deals",
    security(("bearer" = [])),
    request_body = OpenDealRequest,
    responses(
        (status = 201, description = "Requested; the side asked is notified", body = DealView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your email address is not confirmed yet (`email_unconfirmed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You already have an open deal about it (`deal_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an unpublished listing, or your own", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn open(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<OpenDealRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = service::open(&state, caller, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/deals/{}", view.id)))
        .json(view))
}

/// Your deals (as requester, owner or broker), most recently active first.
#[utoipa::path(
    get, path = "/api/v1/deals", tag = "deals", operation_id = "list_deals",
    security(("bearer" = [])),
    params(DealQuery),
    responses(
        (status = 200, description = "A page of deals", body = DealList),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: ApiQuery<DealQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(views::list(&state, caller, q.0).await?))
}

/// One deal. Contact details of the other side appear once the request is accepted.
#[utoipa::path(
    get, path = "/api/v1/deals/{id}", tag = "deals", operation_id = "get_deal",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The deal", body = DealView),
        (status = 404, description = "No such deal, or not yours to see", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(views::get(&state, caller, id.into_inner()).await?))
}

/// Every step of a deal with its actor and time.
#[utoipa::path(
    get, path = "/api/v1/deals/{id}/timeline", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The timeline, oldest first", body = Timeline),
        (status = 404, description = "No such deal, or not yours to see", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(views::timeline(&state, caller, id.into_inner(), false).await?))
}

/// The messages of a deal, oldest first.
#[utoipa::path(
    get, path = "/api/v1/deals/{id}/messages", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The messages", body = Timeline),
        (status = 404, description = "No such deal, or not yours to see", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn messages(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(views::timeline(&state, caller, id.into_inner(), true).await?))
}

/// Post a message (the parties and the broker, while the deal is open).
#[utoipa::path(
    post, path = "/api/v1/deals/{id}/messages", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "Posted; the others are notified", body = DealView),
        (status = 404, description = "No such deal, or not yours to see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The deal has ended", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_message(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<MessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = service::message(&state, caller, id.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Make an offer (or a counter-offer, which supersedes the open one).
#[utoipa::path(
    post, path = "/api/v1/deals/{id}/offers", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = OfferRequest,
    responses(
        (status = 201, description = "Offered; the deal is negotiating", body = DealView),
        (status = 403, description = "Not a party", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not accepted yet, or ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid terms", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn make_offer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: ApiJson<OfferRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = offers::offer(&state, caller, id.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Accept or reject the latest offer the other party made.
#[utoipa::path(
    post, path = "/api/v1/deals/{id}/offers/{offer_id}/{action}", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("offer_id" = i64, Path), ("action" = String, Path, description = "`accept` or `reject`")),
    request_body(content = Option<NoteRequest>, description = "`{\"note\": …}` with a rejection"),
    responses(
        (status = 200, description = "Answered; accepting agrees the deal on these terms", body = DealView),
        (status = 403, description = "Not yours to answer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not the latest open offer (`offer_superseded`, `offer_closed`), or the deal ended", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn answer_offer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i64, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, offer_id, action) = path.into_inner();
    let view = match action.as_str() {
        "accept" => {
            optional_json::<NoteRequest>(&body)?;
            offers::accept_offer(&state, caller, id, offer_id).await?
        }
        "reject" => {
            offers::reject_offer(&state, caller, id, offer_id, optional_json(&body)?).await?
        }
        _ => {
            return Err(ApiError::from_status(
                actix_web::http::StatusCode::NOT_FOUND,
            ))
        }
    };
    Ok(ok(view))
}

/// Act on a deal: `accept` or `decline` (the side asked), `withdraw` (the side that asked),
/// `close` (either party: end the negotiation without agreement).
#[utoipa::path(
    post, path = "/api/v1/deals/{id}/{action}", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("action" = String, Path, description = "`accept`, `decline`, `withdraw` or `close`")),
    request_body(content = Option<DeclineRequest>, description = "`{\"reason\", \"note\"}` to decline; `{\"note\"}` to withdraw or close"),
    responses(
        (status = 200, description = "Done; the others are notified", body = DealView),
        (status = 403, description = "Not your side's to do", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such deal, or not yours to see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in the current state: `allowed_actions` lists what is", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A decline without a valid reason", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn action(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let view = match action.as_str() {
        "accept" => {
            optional_json::<NoteRequest>(&body)?;
            service::accept(&state, caller, id).await?
        }
        "decline" => service::decline(&state, caller, id, optional_json(&body)?).await?,
        "withdraw" => service::withdraw(&state, caller, id, optional_json(&body)?).await?,
        "close" => service::close(&state, caller, id, optional_json(&body)?).await?,
        _ => {
            return Err(ApiError::from_status(
                actix_web::http::StatusCode::NOT_FOUND,
            ))
        }
    };
    Ok(ok(view))
}

/// Propose that a technology or an expert answers a need (members of broker organisations).
#[utoipa::path(
    post, path = "/api/v1/matches", tag = "deals",
    security(("bearer" = [])),
    request_body = ProposeMatch,
    responses(
        (status = 201, description = "Proposed; both sides are notified", body = MatchView),
        (status = 403, description = "Not a member of a broker organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already proposed (`match_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unpublished listings", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn propose(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<ProposeMatch>,
) -> Result<HttpResponse, ApiError> {
    let view = matches::propose(&state, caller, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/matches/{}", view.id)))
        .json(view))
}

/// Matches you proposed, and those about your listings.
#[utoipa::path(
    get, path = "/api/v1/matches", tag = "deals",
    security(("bearer" = [])),
    params(ProposedMatchesQuery),
    responses((status = 200, description = "A page of matches", body = MatchList))
)]
pub async fn list_matches(
    state: web::Data<AppState>,
    caller: Caller,
    q: ApiQuery<ProposedMatchesQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(matches::list(&state, caller, q.0).await?))
}

#[utoipa::path(
    get, path = "/api/v1/matches/{id}", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The match", body = MatchView),
        (status = 404, description = "No such match, or not yours to see", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_match(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(matches::get(&state, caller, id.into_inner()).await?))
}

/// `take-up` (either side: opens a deal about the other listing, with the broker
/// attached) or `withdraw` (the broker).
#[utoipa::path(
    post, path = "/api/v1/matches/{id}/{action}", tag = "deals",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("action" = String, Path, description = "`take-up` or `withdraw`")),
    request_body(content = Option<TakeUpRequest>, description = "A first message, to take up"),
    responses(
        (status = 201, description = "Taken up: the new deal", body = DealView),
        (status = 200, description = "Withdrawn", body = MatchView),
        (status = 403, description = "Not yours to do", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already taken up or withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn match_action(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    match action.as_str() {
        // (`take_up`, as responses once spelled it, still works.)
        "take-up" | "take_up" => {
            let view = matches::take_up(&state, caller, id, optional_json(&body)?).await?;
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/deals/{}", view.id)))
                .json(view))
        }
        "withdraw" => Ok(HttpResponse::Ok().json(matches::withdraw(&state, caller, id).await?)),
        _ => Err(ApiError::from_status(
            actix_web::http::StatusCode::NOT_FOUND,
        )),
    }
}

/// The deal and match routes, relative to `/api/v1`. Order matters: the fixed segments
/// (`timeline`, `messages`, `offers`) come before the `{action}` that would also match them.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/deals", list),
        ApiRoute::post("/deals", open),
        ApiRoute::get("/deals/{id}", get),
        ApiRoute::get("/deals/{id}/timeline", timeline),
        ApiRoute::get("/deals/{id}/messages", messages),
        ApiRoute::post("/deals/{id}/messages", post_message),
        ApiRoute::post("/deals/{id}/offers", make_offer),
        ApiRoute::post("/deals/{id}/offers/{offer_id}/{action}", answer_offer),
        ApiRoute::post("/deals/{id}/{action}", action),
        ApiRoute::get("/matches", list_matches),
        ApiRoute::post("/matches", propose),
        ApiRoute::get("/matches/{id}", get_match),
        ApiRoute::post("/matches/{id}/{action}", match_action),
    ]
}
