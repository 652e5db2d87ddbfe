//! The three catalogues over HTTP: moderation, visibility, concurrency, validation, lists.

use reqwest::Method;
use serde_json::{json, Value};
use techex::accounts::model::Role;

use crate::helpers::{fields, problem, TestApp};

pub fn technology() -> Value {
    json!({
        "title": "Hệ thống xử lý nước thải dệt nhuộm bằng màng lọc MBR kết hợp ozone",
        "summary": "Xử lý nước thải dệt nhuộm đạt QCVN 13-MT:2015/BTNMT cột A.",
        "description": "Công suất 200–2 000 m³/ngày, khử màu trên 95 %, chi phí vận hành giảm 30 %.",
        "field": "207",
        "priority_areas": ["environment", "industry"],
        "keywords": ["xử lý nước thải", "màng lọc MBR", "ozone"],
        "trl": 7,
        "ip_status": "patent_granted",
        "transfer_modes": ["license", "consulting"],
        "price_vnd_min": 500000000,
        "price_vnd_max": 2000000000,
        "negotiable": true,
        "applications": "Khu công nghiệp dệt may, làng nghề nhuộm."
    })
}

pub fn need(confidential: bool) -> Value {
    json!({
        "title": "Cần công nghệ xử lý nước thải dệt nhuộm công suất 500 m³/ngày",
        "description": "Nhà máy nhuộm ở Thanh Trì cần hệ thống đạt QCVN 13-MT:2015/BTNMT.",
        "field": "207",
        "priority_areas": ["environment"],
        "keywords": ["xử lý nước thải", "dệt nhuộm"],
        "trl_min": 6,
        "budget_vnd_max": 3000000000i64,
        "deadline": "2027-06-30",
        "collaboration_types": ["license", "research_contract"],
        "confidential": confidential
    })
}

/// An institute with a member, an enterprise with a member, a moderator, an outsider.
pub struct World {
    pub app: TestApp,
    pub institute: String,
    pub institute_id: i64,
    pub enterprise: String,
    pub enterprise_id: i64,
    pub moderator: String,
    pub outsider: String,
}

impl World {
    pub async fn new() -> Self {
        let app = TestApp::spawn().await;
        let institute = app.signed_in("chuyengiao@iet.example.vn").await;
        let institute_id = app
            .organization(&institute, "Viện Công nghệ Môi trường", "institute")
            .await;
        let enterprise = app.signed_in("giamdoc@nhuom.example.vn").await;
        let enterprise_id = app
            .organization(&enterprise, "Công ty TNHH Dệt may Thanh Trì", "enterprise")
            .await;
        let moderator = app
            .privileged("kiemduyet@sokhcn.example.vn", Role::Moderator)
            .await;
        let outsider = app.signed_in("nguoingoai@example.vn").await;
        Self {
            app,
            institute,
            institute_id,
            enterprise,
            enterprise_id,
            moderator,
            outsider,
        }
    }

    pub async fn create(&self, collection: &str, token: &str, body: &Value) -> Value {
        let r = self
            .app
            .post(&format!("/api/v1/{collection}"), Some(token), body)
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    pub async fn act(
        &self,
        collection: &str,
        id: i64,
        action: &str,
        token: &str,
    ) -> reqwest::Response {
        self.app
            .post(
                &format!("/api/v1/{collection}/{id}/{action}"),
                Some(token),
                &json!({}),
            )
            .await
    }

    /// Created, submitted and published: answers the listing.
    pub async fn published(&self, collection: &str, token: &str, body: &Value) -> Value {
        let v = self.create(collection, token, body).await;
        let id = v["id"].as_i64().unwrap();
        assert_eq!(
            self.act(collection, id, "submit", token).await.status(),
            200
        );
        let r = self.act(collection, id, "publish", &self.moderator).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

#[tokio::test]
async fn the_full_moderation_path() {
    let w = World::new().await;
    let app = &w.app;
    let created = w.create("technologies", &w.institute, &technology()).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/technologies/{id}");
    assert_eq!(created["status"], "draft");
    assert_eq!(created["kind"], "technology");
    assert_eq!(created["version"], 1);
    assert_eq!(created["organization_id"], w.institute_id);
    assert_eq!(created["organization"]["name"], "Viện Công nghệ Môi trường");
    assert_eq!(created["actions"], json!(["submit", "archive", "delete"]));
    assert_eq!(created["trl"], 7);

    // A draft is the owner's: nobody else sees it, and it is not in public lists.
    problem(app.get(&path, None).await, 404, "listing_not_found").await;
    problem(
        app.get(&path, Some(&w.enterprise)).await,
        404,
        "listing_not_found",
    )
    .await;
    let public: Value = app
        .get("/api/v1/technologies", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["total"], 0);

    // Only moderators publish; a draft cannot be published before it is submitted.
    let p = problem(
        w.act("technologies", id, "publish", &w.moderator).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["current_status"], "draft");
    assert_eq!(p["allowed_actions"], json!(["submit", "archive", "delete"]));
    let r = w.act("technologies", id, "submit", &w.institute).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "pending_review");
    problem(
        w.act("technologies", id, "publish", &w.institute).await,
        403,
        "forbidden",
    )
    .await;

    // The queue shows it to moderators only.
    let queue: Value = app
        .get("/api/v1/moderation/queue", Some(&w.moderator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["total"], 1);
    assert_eq!(queue["items"][0]["id"], id);
    problem(
        app.get("/api/v1/moderation/queue", Some(&w.institute))
            .await,
        403,
        "forbidden",
    )
    .await;

    // Rejection needs a reason, which the owner then reads.
    let r = app
        .post(&format!("{path}/reject"), Some(&w.moderator), &json!({}))
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["reason"]
    );
    let r = app
        .post(
            &format!("{path}/reject"),
            Some(&w.moderator),
            &json!({"reason": "Thiếu số liệu thử nghiệm thực tế."}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "rejected");
    let mine: Value = app
        .get(&path, Some(&w.institute))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["rejection_reason"],
        "Thiếu số liệu thử nghiệm thực tế."
    );
    assert_eq!(mine["actions"], json!(["submit", "archive"]));

    // The owner edits and resubmits; the moderator publishes.
    let r = app
        .request(
            Method::PATCH,
            &path,
            Some(&w.institute),
            Some(&json!({"version": mine["version"], "trl": 8})),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        w.act("technologies", id, "submit", &w.institute)
            .await
            .status(),
        200
    );
    let r = w.act("technologies", id, "publish", &w.moderator).await;
    let published: Value = r.json().await.unwrap();
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].as_str().is_some());
    assert!(published["rejection_reason"].is_null());

    // Now everyone sees it.
    let v: Value = app.get(&path, None).await.json().await.unwrap();
    assert_eq!(v["trl"], 8);
    assert_eq!(v["actions"], json!([]));
    let public: Value = app
        .get("/api/v1/technologies", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["total"], 1);

    // Published listings are archived, not deleted; archived is the end.
    let p = problem(
        app.delete(&path, Some(&w.institute)).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["allowed_actions"], json!(["archive"]));
    assert_eq!(
        w.act("technologies", id, "archive", &w.institute)
            .await
            .status(),
        200
    );
    let p = problem(
        w.act("technologies", id, "submit", &w.institute).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["allowed_actions"], json!([]));
    problem(app.get(&path, None).await, 404, "listing_not_found").await;
    problem(
        w.act("technologies", id, "promote", &w.institute).await,
        404,
        "route_not_found",
    )
    .await;
}

#[tokio::test]
async fn visibility_for_each_kind_of_viewer() {
    let w = World::new().await;
    let app = &w.app;
    let draft = w.create("needs", &w.enterprise, &need(false)).await;
    let path = format!("/api/v1/needs/{}", draft["id"]);
    problem(app.get(&path, None).await, 404, "listing_not_found").await;
    problem(
        app.get(&path, Some(&w.institute)).await,
        404,
        "listing_not_found",
    )
    .await;
    assert_eq!(app.get(&path, Some(&w.enterprise)).await.status(), 200);
    assert_eq!(app.get(&path, Some(&w.moderator)).await.status(), 200);
    // Others may not change what they cannot see; moderators may.
    problem(
        app.delete(&path, Some(&w.institute)).await,
        404,
        "listing_not_found",
    )
    .await;
    let drafts: Value = app
        .get("/api/v1/needs?status=draft", Some(&w.institute))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(drafts["total"], 0);
    let drafts: Value = app
        .get("/api/v1/needs?status=draft", Some(&w.enterprise))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(drafts["total"], 1);
    let drafts: Value = app
        .get("/api/v1/needs?status=draft", Some(&w.moderator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(drafts["total"], 1);

    // Published: everyone sees it; only its side may edit.
    let published = w.published("needs", &w.enterprise, &need(false)).await;
    let path = format!("/api/v1/needs/{}", published["id"]);
    for token in [None, Some(w.institute.as_str()), Some(w.outsider.as_str())] {
        let v: Value = app.get(&path, token).await.json().await.unwrap();
        assert_eq!(v["organization_id"], w.enterprise_id);
        assert_eq!(v["actions"], json!([]));
    }
    let r = app
        .patch(
            &path,
            Some(&w.institute),
            &json!({"version": published["version"], "trl_min": 3}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    // A member of another organisation cannot post in the name of this one.
    let r = app
        .post("/api/v1/needs", Some(&w.institute), &{
            let mut b = need(false);
            b["organization_id"] = json!(w.enterprise_id);
            b
        })
        .await;
    problem(r, 403, "forbidden").await;
    // Someone with no organisation is told how to get one.
    let r = app
        .post("/api/v1/technologies", Some(&w.outsider), &technology())
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["organization_id"]
    );
}

#[tokio::test]
async fn a_confidential_need_hides_its_owner() {
    let w = World::new().await;
    let app = &w.app;
    let secret = w.published("needs", &w.enterprise, &need(true)).await;
    let path = format!("/api/v1/needs/{}", secret["id"]);
    for token in [None, Some(w.institute.as_str()), Some(w.outsider.as_str())] {
        let v: Value = app.get(&path, token).await.json().await.unwrap();
        assert_eq!(v["status"], "published");
        assert!(v["organization_id"].is_null(), "{v}");
        assert!(v["organization"].is_null(), "{v}");
        assert!(
            !v.to_string().contains("Thanh Trì Dệt")
                && !v.to_string().contains("Dệt may Thanh Trì")
        );
        let list: Value = app.get("/api/v1/needs", token).await.json().await.unwrap();
        let listed = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == secret["id"])
            .unwrap_or_else(|| panic!("the need is not listed: {list}"));
        assert!(listed["organization_id"].is_null(), "{listed}");
        assert!(listed["organization"].is_null(), "{listed}");
        // Filtering by the owner must not reveal it either.
        let by_owner: Value = app
            .get(
                &format!("/api/v1/needs?organization_id={}", w.enterprise_id),
                token,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(by_owner["total"], 0, "{by_owner}");
    }
    for token in [&w.enterprise, &w.moderator] {
        let v: Value = app.get(&path, Some(token)).await.json().await.unwrap();
        assert_eq!(v["organization_id"], w.enterprise_id);
        assert_eq!(v["organization"]["name"], "Công ty TNHH Dệt may Thanh Trì");
        let by_owner: Value = app
            .get(
                &format!("/api/v1/needs?organization_id={}", w.enterprise_id),
                Some(token),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(by_owner["total"], 1);
    }
}

#[tokio::test]
async fn expert_contact_details_are_never_public() {
    let w = World::new().await;
    let app = &w.app;
    let expert = app.signed_in("hang.nguyen@example.edu.vn").await;
    let body = json!({"full_name": "Nguyễn Thị Thu Hằng", "academic_title": "PGS.TS.",
        "affiliation": "Đại học Bách khoa Hà Nội", "country": "VN", "fields": ["207", "205"],
        "expertise": ["màng lọc", "xử lý nước thải"], "languages": ["vi", "en"],
        "bio": "Hơn 20 năm nghiên cứu màng lọc.", "email": "hang.nguyen@example.edu.vn",
        "phone": "+84 912 345 678", "availability": "consulting"});
    let profile = w.published("experts", &expert, &body).await;
    let path = format!("/api/v1/experts/{}", profile["id"]);
    for token in [None, Some(w.enterprise.as_str())] {
        let text = app.get(&path, token).await.text().await.unwrap();
        assert!(
            !text.contains("hang.nguyen@example.edu.vn") && !text.contains("912 345"),
            "{text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["full_name"], "Nguyễn Thị Thu Hằng");
        assert!(v.get("email").is_none() && v.get("phone").is_none());
        let list = app
            .get("/api/v1/experts", token)
            .await
            .text()
            .await
            .unwrap();
        assert!(!list.contains("hang.nguyen@example.edu.vn") && !list.contains("912 345"));
    }
    for token in [&expert, &w.moderator] {
        let v: Value = app.get(&path, Some(token)).await.json().await.unwrap();
        assert_eq!(v["email"], "hang.nguyen@example.edu.vn");
        assert_eq!(v["phone"], "+84 912 345 678");
    }
    // One profile per account.
    let r = app.post("/api/v1/experts", Some(&expert), &body).await;
    problem(r, 409, "expert_profile_exists").await;
    // Moderators create profiles they manage (imported network members).
    let managed = w
        .create(
            "experts",
            &w.moderator,
            &json!({"full_name": "Trần Quốc Bảo", "fields": ["102"]}),
        )
        .await;
    assert_eq!(managed["availability"], "consulting");
    assert_eq!(managed["country"], "VN");
}

#[tokio::test]
async fn stale_versions_are_refused_and_nothing_is_overwritten() {
    let w = World::new().await;
    let app = &w.app;
    let v1 = w.create("technologies", &w.institute, &technology()).await;
    let path = format!("/api/v1/technologies/{}", v1["id"]);
    let r = app.get(&path, Some(&w.institute)).await;
    assert_eq!(r.headers()["etag"], "\"1\"");

    // Two editors start from version 1; the first wins.
    let r = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(&w.institute)
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Hệ thống MBR thế hệ mới cho nước thải dệt nhuộm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let r = app
        .client
        .patch(format!("{}{path}", app.base))
        .bearer_auth(&w.institute)
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Bản sửa cũ sẽ ghi đè mất thay đổi"}))
        .send()
        .await
        .unwrap();
    let p = problem(r, 412, "version_mismatch").await;
    assert_eq!(p["current_version"], 2);
    let r = app
        .patch(&path, Some(&w.institute), &json!({"version": 1, "trl": 2}))
        .await;
    problem(r, 412, "version_mismatch").await;
    let now: Value = app
        .get(&path, Some(&w.institute))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        now["title"],
        "Hệ thống MBR thế hệ mới cho nước thải dệt nhuộm"
    );
    assert_eq!(now["trl"], 7);
    assert_eq!(now["version"], 2);

    // No version at all: the client is told to send one.
    problem(
        app.patch(&path, Some(&w.institute), &json!({"trl": 2}))
            .await,
        428,
        "version_required",
    )
    .await;
    // Null clears an optional field; a required one cannot be cleared.
    let r = app
        .patch(
            &path,
            Some(&w.institute),
            &json!({"version": 2, "price_vnd_max": null}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert!(v["price_vnd_max"].is_null());
    assert_eq!(v["price_vnd_min"], 500000000);
    let r = app
        .patch(
            &path,
            Some(&w.institute),
            &json!({"version": 3, "title": null}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["title"]
    );

    // An owner's edit of a published listing goes back to review.
    let published = w
        .published("technologies", &w.institute, &technology())
        .await;
    let p = format!("/api/v1/technologies/{}", published["id"]);
    let r = app
        .patch(
            &p,
            Some(&w.institute),
            &json!({"version": published["version"], "trl": 9}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "pending_review");
    problem(app.get(&p, None).await, 404, "listing_not_found").await;
}

#[tokio::test]
async fn field_level_validation() {
    let w = World::new().await;
    let app = &w.app;
    let bad = json!({"title": "Máy", "description": "", "field": "2.07", "priority_areas": ["energy"],
        "keywords": (0..11).map(|i| format!("từ khóa {i}")).collect::<Vec<_>>(), "trl": 0,
        "ip_status": "secret", "transfer_modes": ["gift"], "price_vnd_min": 9, "price_vnd_max": 1,
        "colour": "blue"});
    // Unknown keys first: a typo is never silently dropped.
    let r = app
        .post("/api/v1/technologies", Some(&w.institute), &bad)
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["colour"]
    );
    let mut bad = bad;
    bad.as_object_mut().unwrap().remove("colour");
    let r = app
        .post("/api/v1/technologies", Some(&w.institute), &bad)
        .await;
    let mut f = fields(&problem(r, 422, "validation_failed").await);
    f.sort();
    assert_eq!(
        f,
        vec![
            "description",
            "field",
            "ip_status",
            "keywords",
            "price_vnd_max",
            "priority_areas[0]",
            "title",
            "transfer_modes[0]",
            "trl"
        ]
    );
    let r = app
        .post("/api/v1/needs", Some(&w.enterprise), &{
            let mut n = need(false);
            n["deadline"] = json!("2020-01-01");
            n["trl_min"] = json!("six");
            n
        })
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["trl_min"]
    );
    let r = app
        .post("/api/v1/needs", Some(&w.enterprise), &{
            let mut n = need(false);
            n["deadline"] = json!("2020-01-01");
            n
        })
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["deadline"]
    );
    // Text is stored in NFC and trimmed: "Hà Nội" typed decomposed.
    let mut t = technology();
    t["title"] = json!("  Công nghệ cho Ha\u{0300} N\u{00f4}\u{0323}i  ");
    let v = w.create("technologies", &w.institute, &t).await;
    assert_eq!(v["title"], "Công nghệ cho Hà Nội");
}

#[tokio::test]
async fn lists_filter_sort_and_page() {
    let w = World::new().await;
    let app = &w.app;
    let mut ids = Vec::new();
    for (title, field, area) in [
        (
            "Cảm biến IoT quan trắc chất lượng không khí",
            "202",
            "environment",
        ),
        ("Bê tông tính năng siêu cao cho cầu đi bộ", "201", "urban"),
        ("Chế phẩm sinh học xử lý rơm rạ", "404", "agriculture"),
        ("Ứng dụng học sâu nhận dạng biển số xe", "102", "ict"),
    ] {
        let mut t = technology();
        t["title"] = json!(title);
        t["field"] = json!(field);
        t["priority_areas"] = json!([area]);
        ids.push(
            w.published("technologies", &w.institute, &t).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let get = |q: &'static str| async move {
        let v: Value = app
            .get(&format!("/api/v1/technologies{q}"), None)
            .await
            .json()
            .await
            .unwrap();
        v
    };
    assert_eq!(get("").await["total"], 4);
    assert_eq!(get("?field=2").await["total"], 2);
    assert_eq!(get("?field=202").await["total"], 1);
    assert_eq!(
        get("?priority_area=agriculture").await["items"][0]["id"],
        ids[2]
    );
    let newest = get("?limit=2").await;
    assert_eq!(newest["total"], 4);
    assert_eq!(newest["items"].as_array().unwrap().len(), 2);
    assert_eq!(newest["items"][0]["id"], ids[3]);
    let second = get("?limit=2&offset=2").await;
    assert_eq!(second["items"][1]["id"], ids[0]);
    let by_title = get("?sort=title").await;
    assert_eq!(
        by_title["items"][0]["title"],
        "Bê tông tính năng siêu cao cho cầu đi bộ"
    );
    let mine: Value = app
        .get(
            &format!("/api/v1/technologies?organization_id={}", w.institute_id),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 4);
    for (q, field) in [
        ("?limit=101", "limit"),
        ("?field=9", "field"),
        ("?priority_area=space", "priority_area"),
        ("?status=gone", "status"),
        ("?sort=price", "sort"),
        ("?organization_id=x", "organization_id"),
    ] {
        let r = app.get(&format!("/api/v1/technologies{q}"), None).await;
        assert_eq!(
            fields(&problem(r, 422, "validation_failed").await),
            vec![field],
            "{q}"
        );
    }
}

#[tokio::test]
async fn vocabularies() {
    let app = TestApp::spawn().await;
    let fields: Value = app
        .get("/api/v1/taxonomy/fields", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fields.as_array().unwrap().len(), 6);
    let engineering = &fields[1];
    assert_eq!(engineering["code"], "2");
    let env = engineering["sectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "207")
        .unwrap();
    assert_eq!(env["vi"], "Kỹ thuật môi trường");
    assert_eq!(env["en"], "Environmental engineering");
    for (path, n) in [
        ("priority-areas", 7),
        ("ip-statuses", 8),
        ("transfer-modes", 6),
        ("availability", 5),
        ("trl", 9),
    ] {
        let v: Value = app
            .get(&format!("/api/v1/taxonomy/{path}"), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v.as_array().unwrap().len(), n, "{path}");
    }
}
