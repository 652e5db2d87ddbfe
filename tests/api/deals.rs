//! Contact, negotiation and brokers' matches over HTTP, with the emails each step sends
//! checked as the server's worker delivered them (the memory transport: SMTP delivery has
//! its own tests in `email`).

use serde_json::{json, Value};
use techex::accounts::model::Role;

use crate::catalog::{need, technology};
use crate::helpers::{assert_every, fields, problem, TestApp, PASSWORD};
use crate::mail::{memory_mail, Inbox};

const INSTITUTE: &str = "chuyengiao@iet.example.vn";
const INSTITUTE_2: &str = "phophong@iet.example.vn";
const ENTERPRISE: &str = "director@dyeworks.example.com";
const BROKER: &str = "moigioi@ketnoi.example.vn";

/// An institute (Vietnamese-speaking, two members), an enterprise (English-speaking), a
/// broker, a moderator and an outsider, with the email the server sends.
struct Market {
    app: TestApp,
    mail: Inbox,
    institute: String,
    institute_2: String,
    enterprise: String,
    broker: String,
    moderator: String,
    outsider: String,
}

async fn account(app: &TestApp, email: &str, name: &str, locale: &str) -> String {
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": PASSWORD, "display_name": name, "locale": locale}),
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    app.confirm_email(email).await;
    app.token(email, PASSWORD).await
}

impl Market {
    async fn new() -> Self {
        Self::with(|_| {}).await
    }

    async fn with(adjust: impl FnOnce(&mut techex::config::Settings)) -> Self {
        let app = TestApp::spawn_with(|s| {
            memory_mail(s);
            adjust(s);
        })
        .await;
        let mail = Inbox::of(&app);
        let institute = account(&app, INSTITUTE, "Trần Thu Hà", "vi").await;
        let org = app
            .organization(&institute, "Viện Công nghệ Môi trường", "institute")
            .await;
        let institute_2 = account(&app, INSTITUTE_2, "Lê Văn Bình", "vi").await;
        app.join(&institute, org, INSTITUTE_2, &institute_2, "member")
            .await;
        let enterprise = account(&app, ENTERPRISE, "John Carter", "en").await;
        app.organization(&enterprise, "Thanh Tri Dyeworks Ltd", "enterprise")
            .await;
        let broker = account(&app, BROKER, "Phạm Minh Châu", "vi").await;
        app.organization(&broker, "Trung tâm Kết nối Công nghệ", "broker")
            .await;
        let moderator = app
            .privileged("kiemduyet@sokhcn.example.vn", Role::Moderator)
            .await;
        let outsider = account(&app, "someone@else.example.org", "Người Ngoài", "vi").await;
        Self {
            app,
            mail,
            institute,
            institute_2,
            enterprise,
            broker,
            moderator,
            outsider,
        }
    }

    async fn published(&self, collection: &str, token: &str, body: &Value) -> i64 {
        let r = self
            .app
            .post(&format!("/api/v1/{collection}"), Some(token), body)
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        for (action, who) in [("submit", token), ("publish", self.moderator.as_str())] {
            let r = self
                .app
                .post(
                    &format!("/api/v1/{collection}/{id}/{action}"),
                    Some(who),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status(), 200, "{action}: {}", r.text().await.unwrap());
        }
        id
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.app.post(path, Some(token), &body).await
    }

    async fn ok(&self, path: &str, token: &str, body: Value) -> Value {
        let r = self.post(path, token, body).await;
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
        r.json().await.unwrap()
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let r = self.app.get(path, Some(token)).await;
        assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    async fn request(&self, listing_id: i64, kind: &str, token: &str) -> Value {
        let r = self
            .post(
                "/api/v1/deals",
                token,
                json!({"listing_kind": kind, "listing_id": listing_id,
                       "message": "We would like to license this for our plant in Thanh Trì."}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }
}

fn kinds(timeline: &Value) -> Vec<String> {
    timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn request_accept_offers_counter_offer_agreement() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;

    let deal = m.request(tech, "technology", &m.enterprise).await;
    let id = deal["id"].as_i64().unwrap();
    assert_eq!(deal["status"], "requested");
    assert_eq!(deal["your_side"], "requester");
    // Before acceptance the requester sees who owns it but not how to reach them.
    assert_eq!(
        deal["owner"]["organization"]["name"],
        "Viện Công nghệ Môi trường"
    );
    assert!(deal["owner"]["contact"].is_null());
    assert_eq!(deal["actions"], json!(["withdraw", "message"]));

    // Both institute members hear of it, in Vietnamese, with a link to the deal.
    for who in [INSTITUTE, INSTITUTE_2] {
        let mail = m.mail.wait_subject(who, "Yêu cầu liên hệ mới").await;
        assert_eq!(mail.language, "vi");
        assert!(mail.text.contains("John Carter"), "{}", mail.text);
        assert!(mail.text.contains("Thanh Trì"), "the message is quoted");
        assert!(mail
            .link(&format!("https://techex.test/deals/{id}"))
            .is_some());
        assert!(mail.html.contains("Viện") || mail.html.contains("John Carter"));
    }
    // No offers before acceptance.
    let r = m
        .post(
            &format!("/api/v1/deals/{id}/offers"),
            &m.enterprise,
            json!({"transfer_mode": "license", "price_vnd": 1_000_000_000i64}),
        )
        .await;
    let p = problem(r, 409, "invalid_transition").await;
    assert_eq!(p["current_status"], "requested");

    // The institute accepts: contact details are exchanged.
    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/accept"),
            &m.institute,
            json!({}),
        )
        .await;
    assert_eq!(v["status"], "accepted");
    let mail = m.mail.wait_subject(ENTERPRISE, "was accepted").await;
    assert_eq!(mail.language, "en");
    let seen = m.get(&format!("/api/v1/deals/{id}"), &m.enterprise).await;
    assert_eq!(seen["owner"]["contact"]["email"], "lienhe@example.vn");
    let seen = m.get(&format!("/api/v1/deals/{id}"), &m.institute).await;
    assert_eq!(seen["requester"]["contact"]["email"], ENTERPRISE);

    // A message each way.
    m.ok(
        &format!("/api/v1/deals/{id}/messages"),
        &m.institute,
        json!({"body": "Chúng tôi gửi kèm hồ sơ kỹ thuật."}),
    )
    .await;
    let mail = m.mail.wait_subject(ENTERPRISE, "New message").await;
    assert!(mail.text.contains("Chúng tôi gửi kèm hồ sơ kỹ thuật."));

    // Offer, counter-offer.
    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/offers"),
            &m.enterprise,
            json!({"transfer_mode": "license", "price_vnd": 1_500_000_000i64,
                   "duration_months": 36, "territory": "Việt Nam"}),
        )
        .await;
    assert_eq!(v["status"], "negotiating");
    let first = v["offers"][0]["id"].as_i64().unwrap();
    let mail = m.mail.wait_subject(INSTITUTE, "Đề nghị mới").await;
    assert!(mail.text.contains("1.500.000.000 ₫"), "{}", mail.text);
    assert!(
        mail.text.contains("Chuyển giao quyền sử dụng"),
        "{}",
        mail.text
    );

    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/offers"),
            &m.institute,
            json!({"transfer_mode": "license", "price_vnd": 2_000_000_000i64,
                   "duration_months": 36, "territory": "Việt Nam",
                   "conditions": "Bao gồm đào tạo vận hành 2 tuần"}),
        )
        .await;
    let offers = v["offers"].as_array().unwrap();
    assert_eq!(offers[0]["status"], "superseded");
    assert_eq!(offers[1]["status"], "open");
    let counter = offers[1]["id"].as_i64().unwrap();
    let mail = m.mail.wait_subject(ENTERPRISE, "Counter-offer").await;
    assert!(mail.text.contains("VND 2,000,000,000"), "{}", mail.text);

    // Only the latest offer can be accepted, and only by the side it was made to.
    let r = m
        .post(
            &format!("/api/v1/deals/{id}/offers/{first}/accept"),
            &m.institute,
            json!({}),
        )
        .await;
    problem(r, 409, "offer_superseded").await;
    let r = m
        .post(
            &format!("/api/v1/deals/{id}/offers/{first}/accept"),
            &m.enterprise,
            json!({}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    let r = m
        .post(
            &format!("/api/v1/deals/{id}/offers/{counter}/accept"),
            &m.institute_2,
            json!({}),
        )
        .await;
    problem(r, 403, "forbidden").await;

    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/offers/{counter}/accept"),
            &m.enterprise,
            json!({}),
        )
        .await;
    assert_eq!(v["status"], "agreed");
    assert_eq!(v["agreed_value_vnd"], 2_000_000_000i64);
    assert_eq!(v["agreed_terms"]["id"], counter);
    assert_eq!(
        v["agreed_terms"]["conditions"],
        "Bao gồm đào tạo vận hành 2 tuần"
    );
    assert_eq!(v["actions"], json!([]));
    for who in [INSTITUTE, INSTITUTE_2] {
        let mail = m.mail.wait_subject(who, "Đã đạt được thỏa thuận").await;
        assert!(mail.text.contains("2.000.000.000 ₫"), "{}", mail.text);
    }
    m.mail.wait_subject(ENTERPRISE, "Agreement reached").await;

    // Nothing more can happen, and the timeline has every step with its actor.
    let r = m
        .post(
            &format!("/api/v1/deals/{id}/close"),
            &m.enterprise,
            json!({}),
        )
        .await;
    problem(r, 409, "invalid_transition").await;
    let t = m
        .get(&format!("/api/v1/deals/{id}/timeline"), &m.institute)
        .await;
    assert_eq!(
        kinds(&t),
        [
            "requested",
            "accepted",
            "message",
            "offer_made",
            "offer_made",
            "agreed"
        ]
    );
    let items = t["items"].as_array().unwrap();
    assert_eq!(items[0]["actor"]["side"], "requester");
    assert_eq!(items[0]["actor"]["name"], "John Carter");
    assert_eq!(items[1]["actor"]["name"], "Trần Thu Hà");
    assert_eq!(items[1]["from_status"], "requested");
    assert_eq!(items[1]["to_status"], "accepted");
    assert_eq!(items[4]["details"]["supersedes"], json!([first]));
    assert_every(items, "has a time", |e| e["at"].as_str().is_some());
    let msgs = m
        .get(&format!("/api/v1/deals/{id}/messages"), &m.enterprise)
        .await;
    assert_eq!(kinds(&msgs), ["message"]);

    // Lists: each side sees it, filtered by side and state.
    let l = m.get("/api/v1/deals?side=owner", &m.institute_2).await;
    assert_eq!(l["total"], 1);
    let l = m.get("/api/v1/deals?side=owner", &m.enterprise).await;
    assert_eq!(l["total"], 0);
    let l = m.get("/api/v1/deals?status=agreed", &m.enterprise).await;
    assert_eq!(l["total"], 1);
    let r = m
        .app
        .get("/api/v1/deals?status=done", Some(&m.enterprise))
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["status"]
    );
}

#[tokio::test]
async fn declined_with_a_reason_and_withdrawn() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    let id = m.request(tech, "technology", &m.enterprise).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/deals/{id}/decline");

    // The requester cannot decline its own request; the reason must be from the list.
    problem(
        m.post(&path, &m.enterprise, json!({"reason": "price"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let p = problem(
        m.post(&path, &m.institute, json!({"reason": "too_pricey"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["reason"]);
    let p = problem(
        m.post(&path, &m.institute, json!({"reason": "other"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["note"]);
    let p = problem(
        m.post(&path, &m.institute, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["reason"]);

    let v = m
        .ok(
            &path,
            &m.institute,
            json!({"reason": "no_capacity", "note": "Đã kín lịch đến quý 3."}),
        )
        .await;
    assert_eq!(v["status"], "declined");
    assert_eq!(v["decline_reason"], "no_capacity");
    assert!(v["responded_at"].as_str().is_some());
    let mail = m.mail.wait_subject(ENTERPRISE, "was declined").await;
    assert!(
        mail.text.contains("No capacity to take it on"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("Đã kín lịch đến quý 3."));
    // A declined request is over; accepting it now is a conflict naming the state.
    let p = problem(
        m.post(
            &format!("/api/v1/deals/{id}/accept"),
            &m.institute,
            json!({}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["current_status"], "declined");
    assert_eq!(p["allowed_actions"], json!([]));

    // A new request, withdrawn by the requester.
    let id = m.request(tech, "technology", &m.enterprise).await["id"]
        .as_i64()
        .unwrap();
    problem(
        m.post(
            &format!("/api/v1/deals/{id}/withdraw"),
            &m.institute,
            json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // One institute member wants no deal activity email.
    let r = m
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/me/notifications",
            Some(&m.institute_2),
            Some(&json!({"deal_activity": false})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/withdraw"),
            &m.enterprise,
            json!({"note": "Found another supplier."}),
        )
        .await;
    assert_eq!(v["status"], "withdrawn");
    let mail = m.mail.wait_subject(INSTITUTE, "đã được rút lại").await;
    assert!(mail.text.contains("Found another supplier."));
    // Queued in the withdrawal's own transaction: for one member, not for the other.
    let queued: Vec<String> = m
        .app
        .state
        .db
        .run(|conn| {
            Ok(techex::notify::outbox::all(conn, 1000)?
                .into_iter()
                .filter(|r| r.template == techex::notify::Event::DealWithdrawn.as_str())
                .map(|r| r.to_address)
                .collect())
        })
        .await
        .unwrap();
    assert_eq!(queued, [INSTITUTE]);
    let p = problem(
        m.post(
            &format!("/api/v1/deals/{id}/withdraw"),
            &m.enterprise,
            json!({}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["current_status"], "withdrawn");
}

#[tokio::test]
async fn outsiders_get_404_on_every_deal_route() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    let id = m.request(tech, "technology", &m.enterprise).await["id"]
        .as_i64()
        .unwrap();
    m.ok(
        &format!("/api/v1/deals/{id}/accept"),
        &m.institute,
        json!({}),
    )
    .await;
    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/offers"),
            &m.enterprise,
            json!({"transfer_mode": "license"}),
        )
        .await;
    let offer = v["offers"][0]["id"].as_i64().unwrap();

    for path in ["", "/timeline", "/messages"] {
        let r = m
            .app
            .get(&format!("/api/v1/deals/{id}{path}"), Some(&m.outsider))
            .await;
        problem(r, 404, "deal_not_found").await;
    }
    for (path, body) in [
        ("/accept", json!({})),
        ("/decline", json!({"reason": "price"})),
        ("/withdraw", json!({})),
        ("/close", json!({})),
        ("/messages", json!({"body": "hello"})),
        ("/offers", json!({"transfer_mode": "license"})),
        (&*format!("/offers/{offer}/accept"), json!({})),
        (&*format!("/offers/{offer}/reject"), json!({})),
    ] {
        let r = m
            .post(&format!("/api/v1/deals/{id}{path}"), &m.outsider, body)
            .await;
        problem(r, 404, "deal_not_found").await;
    }
    // Nor does it appear in their list; a deal that does not exist looks the same.
    assert_eq!(m.get("/api/v1/deals", &m.outsider).await["total"], 0);
    problem(
        m.app.get("/api/v1/deals/999999", Some(&m.enterprise)).await,
        404,
        "deal_not_found",
    )
    .await;
    // Signed out: 401.
    problem(
        m.app.get(&format!("/api/v1/deals/{id}"), None).await,
        401,
        "unauthenticated",
    )
    .await;

    // Moderators read, but do not act.
    let v = m.get(&format!("/api/v1/deals/{id}"), &m.moderator).await;
    assert_eq!(v["your_side"], "moderator");
    assert_eq!(v["actions"], json!([]));
    problem(
        m.post(
            &format!("/api/v1/deals/{id}/messages"),
            &m.moderator,
            json!({"body": "x"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // Nothing the outsider tried changed the deal.
    let t = m
        .get(&format!("/api/v1/deals/{id}/timeline"), &m.enterprise)
        .await;
    assert_eq!(kinds(&t), ["requested", "accepted", "offer_made"]);
}

#[tokio::test]
async fn a_confidential_need_hides_its_owner_until_accepted() {
    let m = Market::new().await;
    let need_id = m.published("needs", &m.enterprise, &need(true)).await;
    let deal = m.request(need_id, "need", &m.institute).await;
    let id = deal["id"].as_i64().unwrap();
    assert!(deal["owner"]["organization"].is_null(), "{deal}");
    assert!(deal["owner"]["contact"].is_null());
    // The owner answers a question before accepting: still anonymous.
    m.ok(
        &format!("/api/v1/deals/{id}/messages"),
        &m.enterprise,
        json!({"body": "Could you share reference installations first?"}),
    )
    .await;
    let t = m
        .get(&format!("/api/v1/deals/{id}/timeline"), &m.institute)
        .await;
    assert_eq!(t["items"][1]["actor"]["side"], "owner");
    assert!(t["items"][1]["actor"]["name"].is_null());
    let mail = m.mail.wait_subject(INSTITUTE, "Tin nhắn mới").await;
    assert!(
        !mail.text.contains("John Carter") && !mail.text.contains("Dyeworks"),
        "{}",
        mail.text
    );
    let again = m.get(&format!("/api/v1/deals/{id}"), &m.institute).await;
    assert!(again["owner"]["organization"].is_null());

    // Accepted: revealed.
    m.ok(
        &format!("/api/v1/deals/{id}/accept"),
        &m.enterprise,
        json!({}),
    )
    .await;
    let after = m.get(&format!("/api/v1/deals/{id}"), &m.institute).await;
    assert_eq!(
        after["owner"]["organization"]["name"],
        "Thanh Tri Dyeworks Ltd"
    );
    assert_eq!(after["owner"]["contact"]["email"], "lienhe@example.vn");
    let t = m
        .get(&format!("/api/v1/deals/{id}/timeline"), &m.institute)
        .await;
    assert_eq!(t["items"][1]["actor"]["name"], "John Carter");
}

#[tokio::test]
async fn a_broker_proposed_match_is_taken_up() {
    let m = Market::new().await;
    let need_id = m.published("needs", &m.enterprise, &need(false)).await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;

    // Only brokers propose.
    let body = json!({"need_id": need_id, "technology_id": tech,
                      "note": "Công nghệ MBR đáp ứng đúng công suất và quy chuẩn."});
    problem(
        m.post("/api/v1/matches", &m.enterprise, body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let p = problem(
        m.post("/api/v1/matches", &m.broker, json!({"need_id": need_id}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["technology_id"]);
    let r = m.post("/api/v1/matches", &m.broker, body.clone()).await;
    assert_eq!(r.status(), 201);
    let mv: Value = r.json().await.unwrap();
    let match_id = mv["id"].as_i64().unwrap();
    assert_eq!(mv["status"], "proposed");
    // Whether the broker is vouched for shows with its name.
    assert_eq!(mv["broker_organization_verified"], false);
    let broker_org = mv["broker_organization_id"].as_i64().unwrap();
    m.ok(
        &format!("/api/v1/organizations/{broker_org}/verify"),
        &m.moderator,
        json!({}),
    )
    .await;
    let seen = m
        .get(&format!("/api/v1/matches/{match_id}"), &m.broker)
        .await;
    assert_eq!(seen["broker_organization_verified"], true, "{seen}");
    problem(
        m.post("/api/v1/matches", &m.broker, body).await,
        409,
        "match_exists",
    )
    .await;

    // Both sides hear of it, each in its language.
    let mail = m
        .mail
        .wait_subject(ENTERPRISE, "Proposed match for your technology need")
        .await;
    assert!(mail.text.contains("Phạm Minh Châu"), "{}", mail.text);
    m.mail
        .wait_subject(INSTITUTE, "Đề xuất kết nối với nhu cầu")
        .await;
    let seen = m
        .get(&format!("/api/v1/matches/{match_id}"), &m.institute)
        .await;
    assert_eq!(seen["actions"], json!(["take-up"]));
    problem(
        m.app
            .get(&format!("/api/v1/matches/{match_id}"), Some(&m.outsider))
            .await,
        404,
        "match_not_found",
    )
    .await;

    // The enterprise takes it up: a deal about the technology, with the broker attached.
    let r = m
        .post(
            &format!("/api/v1/matches/{match_id}/take-up"),
            &m.enterprise,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let deal: Value = r.json().await.unwrap();
    let id = deal["id"].as_i64().unwrap();
    assert_eq!(deal["listing"]["id"], tech);
    assert_eq!(deal["match_id"], match_id);
    assert_eq!(
        deal["broker"]["organization"]["name"],
        "Trung tâm Kết nối Công nghệ"
    );
    let mail = m.mail.wait_subject(INSTITUTE, "Yêu cầu liên hệ mới").await;
    assert!(mail.text.contains("nhà môi giới"), "{}", mail.text);
    m.mail.wait_subject(BROKER, "đã được tiếp nhận").await;
    problem(
        m.post(
            &format!("/api/v1/matches/{match_id}/take-up"),
            &m.institute,
            json!({}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        m.get(&format!("/api/v1/matches/{match_id}"), &m.broker)
            .await["deal_id"],
        id
    );

    // The broker follows the deal and can post in it, but not answer for a side.
    let v = m.get(&format!("/api/v1/deals/{id}"), &m.broker).await;
    assert_eq!(v["your_side"], "broker");
    assert_eq!(v["actions"], json!(["message"]));
    problem(
        m.post(&format!("/api/v1/deals/{id}/accept"), &m.broker, json!({}))
            .await,
        403,
        "forbidden",
    )
    .await;
    m.ok(
        &format!("/api/v1/deals/{id}/accept"),
        &m.institute,
        json!({}),
    )
    .await;
    m.ok(
        &format!("/api/v1/deals/{id}/messages"),
        &m.broker,
        json!({"body": "Tôi đề nghị hai bên họp trực tuyến tuần tới."}),
    )
    .await;
    m.mail.wait_subject(ENTERPRISE, "New message").await;
    let mail = m.mail.wait_subject(INSTITUTE_2, "Tin nhắn mới").await;
    assert!(mail.text.contains("họp trực tuyến"));
    // The broker hears of the acceptance too, and sees the deal in its list.
    m.mail.wait_subject(BROKER, "đã được chấp nhận").await;
    assert_eq!(
        m.get("/api/v1/deals?side=broker", &m.broker).await["total"],
        1
    );
}

#[tokio::test]
async fn racing_actions_leave_one_winner() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    let id = m.request(tech, "technology", &m.enterprise).await["id"]
        .as_i64()
        .unwrap();
    // Two institute members accept at once.
    let accept = format!("/api/v1/deals/{id}/accept");
    let (a, b) = tokio::join!(
        m.post(&accept, &m.institute, json!({})),
        m.post(&accept, &m.institute_2, json!({}))
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);

    // An offer, then its acceptance racing the requester's withdrawal.
    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/offers"),
            &m.institute,
            json!({"transfer_mode": "license", "price_vnd": 900_000_000}),
        )
        .await;
    let offer = v["offers"][0]["id"].as_i64().unwrap();
    let (accept, withdraw) = (
        format!("/api/v1/deals/{id}/offers/{offer}/accept"),
        format!("/api/v1/deals/{id}/withdraw"),
    );
    let (a, b) = tokio::join!(
        m.post(&accept, &m.enterprise, json!({})),
        m.post(&withdraw, &m.enterprise, json!({}))
    );
    let (sa, sb) = (a.status().as_u16(), b.status().as_u16());
    assert!(
        (sa == 200 && sb == 409) || (sa == 409 && sb == 200),
        "{sa} {sb}"
    );
    let v = m.get(&format!("/api/v1/deals/{id}"), &m.institute).await;
    let expected = if sa == 200 { "agreed" } else { "withdrawn" };
    assert_eq!(v["status"], expected);
    let t = m
        .get(&format!("/api/v1/deals/{id}/timeline"), &m.institute)
        .await;
    assert_eq!(kinds(&t).iter().filter(|k| *k == "accepted").count(), 1);
    assert_eq!(
        kinds(&t)
            .iter()
            .filter(|k| *k == "agreed" || *k == "withdrawn")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_unanswered_request_gets_a_reminder_then_expires() {
    let m = Market::with(|s| {
        s.deals.request_ttl_seconds = 3;
        s.deals.reminder_before_seconds = 2;
        s.deals.sweep_interval_ms = 100;
    })
    .await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    let id = m.request(tech, "technology", &m.enterprise).await["id"]
        .as_i64()
        .unwrap();
    let reminder = m.mail.wait_subject(INSTITUTE, "Nhắc nhở").await;
    assert!(reminder.text.contains("John Carter"));
    m.mail.wait_subject(ENTERPRISE, "has expired").await;
    m.mail.wait_subject(INSTITUTE_2, "đã hết hạn").await;
    let v = m.get(&format!("/api/v1/deals/{id}"), &m.enterprise).await;
    assert_eq!(v["status"], "expired");
    let t = m
        .get(&format!("/api/v1/deals/{id}/timeline"), &m.enterprise)
        .await;
    assert_eq!(kinds(&t), ["requested", "reminder_sent", "expired"]);
    assert_eq!(t["items"][2]["actor"]["side"], "system");
    // One reminder only, however many sweeps ran.
    assert_eq!(
        m.mail
            .to(INSTITUTE)
            .iter()
            .filter(|x| x.subject.contains("Nhắc nhở"))
            .count(),
        1
    );
    problem(
        m.post(
            &format!("/api/v1/deals/{id}/accept"),
            &m.institute,
            json!({}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
}

#[tokio::test]
async fn opening_a_deal_is_validated() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    let p = problem(
        m.post("/api/v1/deals", &m.enterprise, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["listing_kind", "listing_id", "message"]);
    let p = problem(
        m.post(
            "/api/v1/deals",
            &m.enterprise,
            json!({"listing_kind": "gadget", "listing_id": tech, "message": "hi"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["listing_kind"]);
    let p = problem(
        m.post(
            "/api/v1/deals",
            &m.enterprise,
            json!({"listing_kind": "need", "listing_id": tech, "message": "hi"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["listing_id"]);
    let p = problem(
        m.post(
            "/api/v1/deals",
            &m.enterprise,
            json!({"listing_kind": "technology", "listing_id": tech, "message": "hi", "price": 1}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["price"]);
    // Your own listing.
    let p = problem(
        m.post(
            "/api/v1/deals",
            &m.institute_2,
            json!({"listing_kind": "technology", "listing_id": tech, "message": "hi"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["listing_id"]);
    // One open request per person and listing.
    let first = m.request(tech, "technology", &m.enterprise).await;
    let p = problem(
        m.post(
            "/api/v1/deals",
            &m.enterprise,
            json!({"listing_kind": "technology", "listing_id": tech, "message": "again"}),
        )
        .await,
        409,
        "deal_exists",
    )
    .await;
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains(&first["id"].to_string()));
    // Bad offer terms name their fields.
    let id = first["id"].as_i64().unwrap();
    m.ok(
        &format!("/api/v1/deals/{id}/accept"),
        &m.institute,
        json!({}),
    )
    .await;
    let p = problem(
        m.post(
            &format!("/api/v1/deals/{id}/offers"),
            &m.enterprise,
            json!({"transfer_mode": "lease", "price_vnd": -5, "duration_months": 0}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        fields(&p),
        ["transfer_mode", "price_vnd", "duration_months"]
    );
    let p = problem(
        m.post(
            &format!("/api/v1/deals/{id}/messages"),
            &m.enterprise,
            json!({"body": "   "}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["body"]);
}

#[tokio::test]
async fn the_demo_data_shows_the_workflow() {
    let app = TestApp::spawn_demo().await;
    let password = techex::demo::PASSWORD;
    let enterprise = app.token("songhongxanh@demo.techex.test", password).await;
    let l: Value = app
        .get("/api/v1/deals", Some(&enterprise))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(l["total"], 2);
    let statuses: Vec<&str> = l["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"negotiating") && statuses.contains(&"requested"));
    let institute = app.token("vien.moitruong@demo.techex.test", password).await;
    let l: Value = app
        .get("/api/v1/deals?status=requested", Some(&institute))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        l["items"][0]["actions"],
        json!(["accept", "decline", "message"])
    );
    let broker = app.token("techbridge@demo.techex.test", password).await;
    let m: Value = app
        .get("/api/v1/matches", Some(&broker))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["total"], 1);
    assert_eq!(m["items"][0]["status"], "proposed");
}

#[tokio::test]
async fn a_rejected_offer_and_a_negotiation_closed_without_agreement() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    let id = m.request(tech, "technology", &m.enterprise).await["id"]
        .as_i64()
        .unwrap();
    m.ok(
        &format!("/api/v1/deals/{id}/accept"),
        &m.institute,
        json!({}),
    )
    .await;
    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/offers"),
            &m.institute,
            json!({"transfer_mode": "assignment", "price_vnd": 5_000_000_000i64}),
        )
        .await;
    let offer = v["offers"][0]["id"].as_i64().unwrap();
    let seen = m.get(&format!("/api/v1/deals/{id}"), &m.enterprise).await;
    assert_eq!(seen["offers"][0]["actions"], json!(["accept", "reject"]));
    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/offers/{offer}/reject"),
            &m.enterprise,
            json!({"note": "Above our budget."}),
        )
        .await;
    assert_eq!(v["status"], "negotiating");
    assert_eq!(v["offers"][0]["status"], "rejected");
    let mail = m.mail.wait_subject(INSTITUTE, "không được chấp nhận").await;
    assert!(
        mail.text.contains("Chuyển nhượng quyền sở hữu"),
        "{}",
        mail.text
    );
    // A rejected offer cannot be accepted afterwards.
    let r = m
        .post(
            &format!("/api/v1/deals/{id}/offers/{offer}/accept"),
            &m.enterprise,
            json!({}),
        )
        .await;
    problem(r, 409, "offer_closed").await;

    let v = m
        .ok(
            &format!("/api/v1/deals/{id}/close"),
            &m.enterprise,
            json!({"note": "We will revisit next year."}),
        )
        .await;
    assert_eq!(v["status"], "failed");
    assert_eq!(v["close_note"], "We will revisit next year.");
    for who in [INSTITUTE, INSTITUTE_2] {
        let mail = m.mail.wait_subject(who, "không đạt được thỏa thuận").await;
        assert!(mail.text.contains("We will revisit next year."));
    }
    let t = m
        .get(&format!("/api/v1/deals/{id}/timeline"), &m.institute)
        .await;
    assert_eq!(
        kinds(&t),
        [
            "requested",
            "accepted",
            "offer_made",
            "offer_rejected",
            "closed"
        ]
    );
}

#[tokio::test]
async fn an_imported_expert_without_an_account_is_answered_by_the_moderators() {
    let m = Market::new().await;
    // A profile the Department manages (as imported profiles are): no account owns it.
    let body = json!({"full_name": "Dr. Minh Tran", "academic_title": "TS.",
        "affiliation": "University of Melbourne", "country": "AU", "fields": ["207"],
        "expertise": ["membrane bioreactor", "wastewater"], "languages": ["en", "vi"],
        "bio": "Twenty years on membrane processes.", "email": "minh.tran@unimelb.example.edu",
        "phone": "+61 3 9000 0000", "availability": "consulting"});
    let expert = m.published("experts", &m.moderator, &body).await;
    let deal = m.request(expert, "expert", &m.enterprise).await;
    let id = deal["id"].as_i64().unwrap();
    assert_eq!(deal["owner"]["name"], "Dr. Minh Tran");
    assert!(deal["owner"]["contact"].is_null());
    // The moderators hear of it and answer for the expert.
    m.mail
        .wait_subject("kiemduyet@sokhcn.example.vn", "Yêu cầu liên hệ mới")
        .await;
    let v = m.get(&format!("/api/v1/deals/{id}"), &m.moderator).await;
    assert_eq!(v["your_side"], "owner");
    let l = m.get("/api/v1/deals?side=owner", &m.moderator).await;
    assert_eq!(l["total"], 1);
    assert_eq!(v["actions"], json!(["accept", "decline", "message"]));
    problem(
        m.post(
            &format!("/api/v1/deals/{id}/accept"),
            &m.outsider,
            json!({}),
        )
        .await,
        404,
        "deal_not_found",
    )
    .await;
    m.ok(
        &format!("/api/v1/deals/{id}/accept"),
        &m.moderator,
        json!({}),
    )
    .await;
    let seen = m.get(&format!("/api/v1/deals/{id}"), &m.enterprise).await;
    assert_eq!(
        seen["owner"]["contact"]["email"],
        "minh.tran@unimelb.example.edu"
    );
    assert_eq!(seen["owner"]["contact"]["phone"], "+61 3 9000 0000");
    // A broker's match with the profile reaches the moderators, who may take it up.
    let need_id = m.published("needs", &m.enterprise, &need(false)).await;
    let r = m
        .post(
            "/api/v1/matches",
            &m.broker,
            json!({"need_id": need_id, "expert_id": expert}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let match_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    m.mail
        .wait_subject("kiemduyet@sokhcn.example.vn", "Đề xuất kết nối với nhu cầu")
        .await;
    let seen = m
        .get(&format!("/api/v1/matches/{match_id}"), &m.moderator)
        .await;
    assert_eq!(seen["actions"], json!(["take-up"]));
    // Moderators cannot open a request to themselves.
    let r = m
        .post(
            "/api/v1/deals",
            &m.moderator,
            json!({"listing_kind": "expert", "listing_id": expert, "message": "x"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        ["listing_id"]
    );
}

#[tokio::test]
async fn a_deal_says_whether_each_organisation_is_verified() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    let deal = m.request(tech, "technology", &m.enterprise).await;
    let id = deal["id"].as_i64().unwrap();
    // Nobody has verified either organisation yet: the owner sees that before answering.
    let seen = m.get(&format!("/api/v1/deals/{id}"), &m.institute).await;
    assert_eq!(
        seen["requester"]["organization"]["name"],
        "Thanh Tri Dyeworks Ltd"
    );
    assert_eq!(
        seen["requester"]["organization"]["verified"], false,
        "{seen}"
    );
    assert_eq!(seen["owner"]["organization"]["verified"], false, "{seen}");
    // The Department verifies the enterprise; every view of the deal says so.
    let org = seen["requester"]["organization"]["id"].as_i64().unwrap();
    m.ok(
        &format!("/api/v1/organizations/{org}/verify"),
        &m.moderator,
        json!({}),
    )
    .await;
    let seen = m.get(&format!("/api/v1/deals/{id}"), &m.institute).await;
    assert_eq!(
        seen["requester"]["organization"]["verified"], true,
        "{seen}"
    );
    let list = m.get("/api/v1/deals", &m.institute).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["requester"]["organization"]["verified"], true);
}

#[tokio::test]
async fn an_unconfirmed_address_cannot_open_a_deal() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    // Registered, signed in, the emailed link not yet followed.
    let r = m
        .app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "moi@lookalike.example", "password": PASSWORD, "display_name": "Người Mới"}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let fresh = m.app.token("moi@lookalike.example", PASSWORD).await;
    let body = json!({"listing_kind": "technology", "listing_id": tech,
                      "message": "Chúng tôi muốn mua công nghệ này."});
    let p = problem(
        m.post("/api/v1/deals", &fresh, body.clone()).await,
        403,
        "email_unconfirmed",
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("confirm your email"),
        "{p}"
    );
    // Once confirmed, the same request goes through.
    m.app.confirm_email("moi@lookalike.example").await;
    let r = m.post("/api/v1/deals", &fresh, body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_look_alike_of_a_verified_organisation_is_refused_and_an_unverified_one_is_flagged() {
    let m = Market::new().await;
    let tech = m
        .published("technologies", &m.institute, &technology())
        .await;
    // The Department verifies the enterprise.
    let mine = m.get("/api/v1/me", &m.enterprise).await;
    let real = mine["organizations"][0]["organization_id"]
        .as_i64()
        .unwrap();
    m.ok(
        &format!("/api/v1/organizations/{real}/verify"),
        &m.moderator,
        json!({}),
    )
    .await;

    // Someone else cannot take its name, however it is written, at creation or later.
    let impostor = account(&m.app, "gia-mao@lookalike.example", "Kẻ Giả Mạo", "vi").await;
    for name in ["Thanh Tri Dyeworks Ltd", "  THANH TRÌ  dyeworks, ltd. "] {
        let r = m
            .post(
                "/api/v1/organizations",
                &impostor,
                json!({"name": name, "org_type": "enterprise"}),
            )
            .await;
        problem(r, 409, "name_of_verified_organization").await;
    }
    let r = m
        .post(
            "/api/v1/organizations",
            &impostor,
            json!({"name": "Thanh Tri Dye Works Co", "org_type": "enterprise"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let fake = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = m
        .app
        .patch(
            &format!("/api/v1/organizations/{fake}"),
            Some(&impostor),
            &json!({"name": "Thanh Trì Dyeworks Ltd"}),
        )
        .await;
    problem(r, 409, "name_of_verified_organization").await;

    // Its near look-alike reaches the owner marked as not verified, in the deal view
    // and in the email; the real one is not marked.
    let deal = m.request(tech, "technology", &impostor).await;
    let id = deal["id"].as_i64().unwrap();
    let seen = m.get(&format!("/api/v1/deals/{id}"), &m.institute).await;
    assert_eq!(
        seen["requester"]["organization"]["name"],
        "Thanh Tri Dye Works Co"
    );
    assert_eq!(
        seen["requester"]["organization"]["verified"], false,
        "{seen}"
    );
    let mail = m.mail.wait_subject(INSTITUTE, "Yêu cầu liên hệ mới").await;
    assert!(
        mail.text.contains(
            "Thanh Tri Dye Works Co, tổ chức chưa được Sở Khoa học và Công nghệ xác minh"
        ),
        "{}",
        mail.text
    );
    let real_deal = m.request(tech, "technology", &m.enterprise).await;
    let real_id = real_deal["id"].as_i64().unwrap();
    let seen = m
        .get(&format!("/api/v1/deals/{real_id}"), &m.institute)
        .await;
    assert_eq!(
        seen["requester"]["organization"]["verified"], true,
        "{seen}"
    );
    let genuine = m.mail.wait_text(INSTITUTE, "John Carter").await;
    assert!(
        genuine.text.contains("(Thanh Tri Dyeworks Ltd)"),
        "{}",
        genuine.text
    );
    assert!(!genuine.text.contains("chưa được Sở"), "{}", genuine.text);
}
