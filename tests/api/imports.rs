//! Bulk import and open-data export over HTTP.

use serde_json::{json, Value};
use techex::accounts::model::Role;

use crate::helpers::{assert_every, items_of, problem, TestApp};

const GOOD_AND_BROKEN: &str = r#"{"kind":"organization","external_id":"ORG-001","name":"Viện Công nghệ Môi trường","org_type":"institute","district":"Cầu Giấy","website":"https://iet.example.vn","email":"lienhe@iet.example.vn"}
{"kind":"organization","external_id":"ORG-002","name":"Công ty CP Nước sạch Sông Hồng Xanh","org_type":"enterprise"}
{"kind":"technology","external_id":"TECH-001","owner":"ORG-001","language":"vi","title":"Màng lọc MBR xử lý nước thải dệt nhuộm","summary":"Đạt QCVN 13.","description":"Công suất 500 m³/ngày.","field":"207","priority_areas":["environment"],"keywords":["xử lý nước thải","màng lọc"],"trl":7,"ip_status":"patent_granted","transfer_modes":["license"],"price_vnd_min":500000000,"price_vnd_max":null,"negotiable":true,"applications":"Dệt nhuộm","rating":5}
{"kind":"technology","external_id":"TECH-002","owner":"ORG-001", "title": broken json
{"kind":"technology","external_id":"TECH-003","owner":"ORG-001","title":"Cảm biến quan trắc bụi PM2.5","description":"IoT","field":"207","trl":6,"ip_status":"secret"}

{"kind":"need","external_id":"NEED-001","owner":"ORG-002","description":"Thiếu tiêu đề","field":"207"}
{"kind":"need","external_id":"NEED-002","owner":"ORG-999","title":"Cần công nghệ khử màu nước thải","description":"d","field":"207"}
{"kind":"need","external_id":"NEED-003","owner":"ORG-002","language":"vi","title":"Cần công nghệ xử lý nước thải dệt nhuộm 500 m³/ngày","description":"Nhà máy cần đạt cột A.","field":"207","priority_areas":["environment"],"keywords":["xử lý nước thải"],"trl_min":6,"budget_vnd_min":null,"budget_vnd_max":2000000000,"deadline":"2030-06-30","collaboration_types":["license","research_contract"],"confidential":true}
{"kind":"expert","external_id":"EXP-001","full_name":"Nguyễn Thị Thu Hằng","academic_title":"PGS.TS.","affiliation":"Đại học Bách khoa Hà Nội","country":"VN","fields":["207"],"expertise":["màng lọc"],"languages":["vi","en"],"bio":"Hơn 20 năm nghiên cứu màng lọc.","email":"hang@example.edu.vn","phone":"+84 912 345 678","availability":"consulting"}
"#;

async fn upload(app: &TestApp, token: &str, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/imports", app.base))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn good_lines_load_and_broken_ones_are_reported_by_number() {
    let app = TestApp::spawn().await;
    let moderator = app
        .privileged("kiemduyet@sokhcn.example.vn", Role::Moderator)
        .await;
    let r = upload(&app, &moderator, GOOD_AND_BROKEN).await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["lines"], 9, "non-blank lines");
    assert_eq!(report["created"], 5, "{report}");
    assert_eq!(report["rejected"], 4, "{report}");
    assert_eq!(report["by_kind"]["organization"]["created"], 2);
    assert_eq!(report["by_kind"]["technology"]["created"], 1);
    let errors: Vec<(u64, Option<String>)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (4, None),                     // bad JSON
            (5, Some("ip_status".into())), // unknown enum value
            (7, Some("title".into())),     // missing title (line 6 is blank)
            (8, Some("owner".into())),     // unknown owner
        ]
    );
    assert!(report["errors"][3]["message"]
        .as_str()
        .unwrap()
        .contains("ORG-999"));
    // Imported listings are published and findable by external id; unknown keys ignored.
    let v: Value = app
        .get("/api/v1/technologies?external_id=TECH-001", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["status"], "published");
    assert_eq!(
        v["items"][0]["organization"]["name"],
        "Viện Công nghệ Môi trường"
    );
    let v: Value = app
        .get("/api/v1/needs?external_id=NEED-003", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    assert!(v["items"][0]["organization_id"].is_null(), "confidential");

    // Again: nothing new, nothing duplicated.
    let again: Value = upload(&app, &moderator, GOOD_AND_BROKEN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["created"], 0);
    assert_eq!(again["updated"], 0);
    assert_eq!(again["unchanged"], 5);
    assert_eq!(again["rejected"], 4);
    let all: Value = app
        .get("/api/v1/technologies", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 1);

    // A changed record updates in place.
    let changed = GOOD_AND_BROKEN.replace("\"trl\":7", "\"trl\":8");
    let third: Value = upload(&app, &moderator, &changed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(third["updated"], 1);
    let v: Value = app
        .get("/api/v1/technologies?external_id=TECH-001", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["trl"], 8);
}

#[tokio::test]
async fn imports_are_for_moderators() {
    let app = TestApp::spawn().await;
    let member = app.signed_in("thanhvien@example.vn").await;
    problem(
        upload(&app, &member, GOOD_AND_BROKEN).await,
        403,
        "forbidden",
    )
    .await;
    let r = app
        .client
        .post(format!("{}/api/v1/imports", app.base))
        .body(GOOD_AND_BROKEN)
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthenticated").await;
    let moderator = app.privileged("kd@example.vn", Role::Moderator).await;
    problem(upload(&app, &moderator, "").await, 400, "empty_body").await;
}

#[tokio::test]
async fn export_then_import_into_an_empty_database_round_trips() {
    let source = TestApp::spawn().await;
    let moderator = source
        .privileged("kiemduyet@sokhcn.example.vn", Role::Moderator)
        .await;
    let report: Value = upload(&source, &moderator, GOOD_AND_BROKEN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["created"], 5);
    // Plus listings made through the API, without external ids.
    let owner = source.signed_in("vien@example.vn").await;
    source
        .organization(&owner, "Viện Hóa học", "institute")
        .await;
    let mut t = crate::catalog::technology();
    t["title"] = json!("Chất xúc tác nano cho pin nhiên liệu");
    let r = source.post("/api/v1/technologies", Some(&owner), &t).await;
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    source
        .post(
            &format!("/api/v1/technologies/{id}/submit"),
            Some(&owner),
            &json!({}),
        )
        .await;
    source
        .post(
            &format!("/api/v1/technologies/{id}/publish"),
            Some(&moderator),
            &json!({}),
        )
        .await;
    // A draft stays out of open data.
    let mut draft = crate::catalog::technology();
    draft["title"] = json!("Bản nháp chưa công bố");
    source
        .post("/api/v1/technologies", Some(&owner), &draft)
        .await;

    let r = source.get("/api/v1/export", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/x-ndjson"));
    let text = r.text().await.unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Open data: no contact details anywhere, no owner for the confidential need.
    assert!(
        !text.contains("hang@example.edu.vn")
            && !text.contains("912 345")
            && !text.contains("lienhe@")
    );
    assert_every(&records, "has no contact details", |r| {
        r.get("email").is_none() && r.get("phone").is_none()
    });
    let secret = records
        .iter()
        .find(|r| r["external_id"] == "NEED-003")
        .unwrap();
    assert!(secret["owner"].is_null());
    assert!(!text.contains("Bản nháp"));
    assert_eq!(
        records.iter().filter(|r| r["kind"] == "technology").count(),
        2
    );

    let target = TestApp::spawn().await;
    let moderator2 = target.privileged("kd2@example.vn", Role::Moderator).await;
    let report: Value = upload(&target, &moderator2, &text)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["rejected"], 0, "{report}");
    for collection in ["technologies", "needs", "experts"] {
        let strip = |v: Value| -> Vec<Value> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let mut i = i.clone();
                    for k in [
                        "id",
                        "organization_id",
                        "created_at",
                        "updated_at",
                        "published_at",
                        "version",
                        "external_id",
                    ] {
                        i.as_object_mut().unwrap().remove(k);
                    }
                    if let Some(o) = i.get_mut("organization").and_then(Value::as_object_mut) {
                        o.remove("id");
                        o.remove("verified");
                    }
                    i
                })
                .collect()
        };
        let path = format!("/api/v1/{collection}?sort=title&limit=100");
        let a = strip(source.get(&path, None).await.json().await.unwrap());
        let b = strip(target.get(&path, None).await.json().await.unwrap());
        assert!(!a.is_empty());
        assert_eq!(a, b, "{collection} differ after the round trip");
    }
    // Exporting the copy gives the same file.
    let again = target
        .get("/api/v1/export", None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(again, text);
    problem(
        source.get("/api/v1/export?kind=patent", None).await,
        422,
        "validation_failed",
    )
    .await;
    let only: String = source
        .get("/api/v1/export?kind=expert", None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(only.lines().count(), 1);
}

#[tokio::test]
async fn the_demo_data_set_is_a_living_exchange() {
    let app = TestApp::spawn().await;
    let report = techex::demo::load_if_empty(&app.state)
        .await
        .unwrap()
        .expect("loaded");
    assert_eq!(report.rejected, 0);
    assert!(
        techex::demo::load_if_empty(&app.state)
            .await
            .unwrap()
            .is_none(),
        "only into an empty database"
    );
    let count = |v: Value| v["total"].as_i64().unwrap();
    assert!(
        count(
            app.get("/api/v1/technologies", None)
                .await
                .json()
                .await
                .unwrap()
        ) >= 120
    );
    assert!(count(app.get("/api/v1/needs", None).await.json().await.unwrap()) >= 60);
    assert!(count(app.get("/api/v1/experts", None).await.json().await.unwrap()) >= 80);
    assert!(
        count(
            app.get("/api/v1/organizations", None)
                .await
                .json()
                .await
                .unwrap()
        ) >= 40
    );
    for area in [
        "ict",
        "health",
        "industry",
        "agriculture",
        "environment",
        "urban",
        "culture_society",
    ] {
        let v: Value = app
            .get(&format!("/api/v1/technologies?priority_area={area}"), None)
            .await
            .json()
            .await
            .unwrap();
        assert!(count(v) > 0, "{area}");
    }
    let abroad: Value = app
        .get("/api/v1/experts?limit=100", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        abroad["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["country"] != "VN")
            .count()
            >= 10
    );
    assert_every(items_of(&abroad), "hides its email", |e| {
        e.get("email").is_none()
    });
    // The demo accounts work and belong to their organisations.
    let token = app
        .token("vien.moitruong@demo.techex.test", techex::demo::PASSWORD)
        .await;
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["organizations"][0]["name"], "Viện Công nghệ Môi trường");
    let moderator = app
        .token("kiemduyet@demo.techex.test", techex::demo::PASSWORD)
        .await;
    assert_eq!(
        app.get("/api/v1/moderation/queue", Some(&moderator))
            .await
            .status(),
        200
    );
}

/// The organisation imported as `external_id`, as a moderator sees it.
async fn imported_org(app: &TestApp, token: &str, external_id: &str) -> Value {
    let list: Value = app
        .get("/api/v1/organizations?limit=100", Some(token))
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{list}");
    let id = items
        .iter()
        .find(|o| o["external_id"] == external_id)
        .unwrap_or_else(|| panic!("{external_id} not in {list}"))["id"]
        .as_i64()
        .unwrap();
    app.get(&format!("/api/v1/organizations/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_import_that_changes_a_verified_identity_withdraws_the_verification() {
    let app = TestApp::spawn().await;
    let moderator = app.privileged("kd@example.vn", Role::Moderator).await;
    let line = |name: &str, tax: &str, district: &str| {
        json!({"kind": "organization", "external_id": "ORG-V", "name": name,
               "org_type": "enterprise", "district": district, "tax_code": tax})
        .to_string()
    };
    let verify = |id: i64| {
        let app = &app;
        let moderator = &moderator;
        async move {
            let r = app
                .post(
                    &format!("/api/v1/organizations/{id}/verify"),
                    Some(moderator),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status(), 200);
        }
    };
    // Imports `body` as an update of ORG-V; answers the organisation as it is then.
    let reimport = |body: String| {
        let (app, moderator) = (&app, &moderator);
        async move {
            let r: Value = upload(app, moderator, &body).await.json().await.unwrap();
            assert_eq!(r["updated"], 1, "{r}");
            imported_org(app, moderator, "ORG-V").await
        }
    };
    let r = upload(
        &app,
        &moderator,
        &line("Công ty CP Cơ khí Thạch Thất", "0101234567", "Thạch Thất"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let org = imported_org(&app, &moderator, "ORG-V").await;
    let id = org["id"].as_i64().unwrap();
    verify(id).await;
    assert_eq!(
        imported_org(&app, &moderator, "ORG-V").await["verified"],
        true
    );

    // Another district is not another identity: the verification stays.
    let org = reimport(line(
        "Công ty CP Cơ khí Thạch Thất",
        "0101234567",
        "Quốc Oai",
    ))
    .await;
    assert_eq!(
        (org["district"].as_str(), org["verified"].as_bool()),
        (Some("Quốc Oai"), Some(true))
    );

    // A new name under the same external id is not the organisation that was checked.
    let org = reimport(line("Công ty TNHH Cơ khí Mới", "0101234567", "Quốc Oai")).await;
    assert_eq!(org["name"], "Công ty TNHH Cơ khí Mới");
    assert_eq!(org["verified"], false, "{org}");
    assert!(org["verified_at"].is_null(), "{org}");

    // Nor is another tax code.
    verify(id).await;
    let org = reimport(line("Công ty TNHH Cơ khí Mới", "0109876543", "Quốc Oai")).await;
    assert_eq!(
        (org["tax_code"].as_str(), org["verified"].as_bool()),
        (Some("0109876543"), Some(false))
    );
}
