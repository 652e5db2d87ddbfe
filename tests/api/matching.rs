//! Matching over HTTP: ranked suggestions on the other side, each with its reasons.

use serde_json::{json, Value};

use crate::catalog::{need, technology, World};
use crate::helpers::{assert_every, fields, items_of, problem, TestApp};

fn reasons(item: &Value) -> Vec<(String, bool)> {
    item["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_owned(),
                r["fit"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_better_fit_ranks_first_and_misfits_are_explained() {
    let w = World::new().await;
    let good = w
        .published("technologies", &w.institute, &technology())
        .await;
    let mut poor = technology();
    poor["title"] = json!("Xử lý nước thải dệt nhuộm bằng keo tụ hóa học thế hệ đầu");
    poor["field"] = json!("104");
    poor["trl"] = json!(4);
    poor["price_vnd_min"] = json!(5_000_000_000i64);
    poor["price_vnd_max"] = json!(8_000_000_000i64);
    poor["transfer_modes"] = json!(["assignment"]);
    let poor = w.published("technologies", &w.institute, &poor).await;
    let mut unrelated = technology();
    unrelated["title"] = json!("Phần mềm quản lý thư viện số cho trường học");
    unrelated["keywords"] = json!(["thư viện số"]);
    unrelated["description"] = json!("Quản lý sách và bạn đọc.");
    unrelated["summary"] = json!("Thư viện.");
    w.published("technologies", &w.institute, &unrelated).await;
    let n = w.published("needs", &w.enterprise, &need(false)).await;
    w.app.sync_search().await;

    let r = w
        .app
        .get(&format!("/api/v1/needs/{}/matches", n["id"]), None)
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["source"]["id"], n["id"]);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], good["id"], "{v}");
    assert_eq!(items[1]["id"], poor["id"]);
    assert!(items[0]["score"].as_f64().unwrap() > items[1]["score"].as_f64().unwrap());
    let good_reasons = reasons(&items[0]);
    for code in [
        "shared_terms",
        "sector",
        "priority_areas",
        "trl",
        "budget",
        "transfer_mode",
    ] {
        assert!(
            good_reasons.contains(&(code.to_owned(), true)),
            "{code}: {good_reasons:?}"
        );
    }
    let shared = items[0]["reasons"][0]["detail"].as_str().unwrap();
    assert!(shared.contains("nước thải"), "{shared}");
    let poor_reasons = reasons(&items[1]);
    for code in ["trl", "budget", "transfer_mode", "field"] {
        assert!(
            poor_reasons.contains(&(code.to_owned(), false)),
            "{code}: {poor_reasons:?}"
        );
    }
    // The library software shares nothing that matters.
    assert!(items.iter().all(
        |i| i["title"] != "Phần mềm quản lý thư viện số cho trường học"
            || i["score"].as_f64().unwrap() < 0.3
    ));

    // And the other way: the technology finds the need.
    let v: Value = w
        .app
        .get(
            &format!("/api/v1/technologies/{}/matches", good["id"]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["id"], n["id"]);
    assert!(reasons(&v["items"][0]).contains(&("trl".to_owned(), true)));
}

#[tokio::test]
async fn matching_on_the_demo_data() {
    let app = TestApp::spawn_demo().await;
    let need: Value = app
        .get("/api/v1/needs?external_id=NEED-005", None)
        .await
        .json()
        .await
        .unwrap();
    let need = &need["items"][0];
    let v: Value = app
        .get(
            &format!("/api/v1/needs/{}/matches?limit=5", need["id"]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|i| i["kind"] == "technology"));
    assert!(
        items.iter().take(3).any(|i| i["title"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nước thải")),
        "{v}"
    );
    // Experts for the same need.
    let v: Value = app
        .get(
            &format!("/api/v1/needs/{}/matches?kind=expert&limit=5", need["id"]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let experts = v["items"].as_array().unwrap();
    assert!(!experts.is_empty());
    assert_every(experts, "is an expert, without an email", |i| {
        i["kind"] == "expert" && i.get("email").is_none()
    });
    assert_every(experts, "gives availability as a reason", |i| {
        i["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "availability")
    });
    // An expert's needs.
    let expert: Value = app
        .get("/api/v1/experts?external_id=EXP-001", None)
        .await
        .json()
        .await
        .unwrap();
    let v: Value = app
        .get(
            &format!("/api/v1/experts/{}/matches", expert["items"][0]["id"]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_every(items_of(&v), "is a need", |i| i["kind"] == "need");
    // A confidential need suggested to anyone shows no owner.
    let v: Value = app
        .get(
            &format!("/api/v1/technologies/{}/matches?limit=50", items[0]["id"]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let mut confidential = 0;
    for i in items_of(&v) {
        let listed: Value = app
            .get(&format!("/api/v1/needs/{}", i["id"]), None)
            .await
            .json()
            .await
            .unwrap();
        if listed["confidential"] == true {
            assert!(i["organization"].is_null(), "{i}");
            confidential += 1;
        }
    }
    assert!(
        confidential > 0,
        "no confidential need among the matches: {v}"
    );
}

#[tokio::test]
async fn matches_respect_visibility_and_validate() {
    let w = World::new().await;
    let draft = w.create("needs", &w.enterprise, &need(false)).await;
    let path = format!("/api/v1/needs/{}/matches", draft["id"]);
    problem(w.app.get(&path, None).await, 404, "listing_not_found").await;
    problem(
        w.app.get(&path, Some(&w.institute)).await,
        404,
        "listing_not_found",
    )
    .await;
    assert_eq!(w.app.get(&path, Some(&w.enterprise)).await.status(), 200);
    let r = w
        .app
        .get(&format!("{path}?kind=need"), Some(&w.enterprise))
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["kind"]
    );
    let r = w
        .app
        .get(&format!("{path}?limit=0"), Some(&w.enterprise))
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["limit"]
    );
    // The transition route next door still works.
    assert_eq!(
        w.act(
            "needs",
            draft["id"].as_i64().unwrap(),
            "submit",
            &w.enterprise
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn reasons_are_in_the_callers_language_and_budgets_read_right() {
    let w = World::new().await;
    let mut cheap = technology();
    cheap["price_vnd_min"] = json!(350_000_000i64);
    cheap["price_vnd_max"] = json!(600_000_000i64);
    let cheap = w.published("technologies", &w.institute, &cheap).await;
    let mut dear = technology();
    dear["title"] = json!("Xử lý nước thải dệt nhuộm bằng màng lọc quy mô lớn");
    dear["price_vnd_min"] = json!(50_000_000_000i64);
    dear["price_vnd_max"] = json!(80_000_000_000i64);
    let dear = w.published("technologies", &w.institute, &dear).await;
    let mut n = need(false);
    n["budget_vnd_min"] = json!(1_200_000_000i64);
    n["budget_vnd_max"] = json!(2_000_000_000i64);
    let n = w.published("needs", &w.enterprise, &n).await;
    w.app.sync_search().await;
    let path = format!("/api/v1/needs/{}/matches", n["id"]);
    let budget_of = |v: &Value, id: &Value| -> Value {
        let item = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == *id)
            .unwrap_or_else(|| panic!("{id} not among {v}"))
            .clone();
        item["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "budget")
            .unwrap()
            .clone()
    };
    let vi: Value = w.app.get_in(&path, None, "vi").await.json().await.unwrap();
    let b = budget_of(&vi, &cheap["id"]);
    assert_eq!(b["fit"], true, "{b}");
    assert_eq!(
        b["detail"],
        "giá từ 350 triệu đồng thấp hơn mức ngân sách tối thiểu 1,2 tỷ đồng: rẻ hơn dự kiến"
    );
    let b = budget_of(&vi, &dear["id"]);
    assert_eq!(b["fit"], false, "{b}");
    assert_eq!(
        b["detail"],
        "giá từ 50 tỷ đồng vượt ngân sách tối đa 2 tỷ đồng"
    );
    // Shared terms: whole phrases as the candidate spells them.
    let shared = vi["items"][0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "shared_terms")
        .unwrap()
        .clone();
    assert!(
        shared["detail"]
            .as_str()
            .unwrap()
            .starts_with("cùng nói về: "),
        "{shared}"
    );
    let terms = shared["terms"].as_array().unwrap();
    assert!(!terms.is_empty());
    assert!(
        terms
            .iter()
            .any(|t| t.as_str().unwrap().split_whitespace().count() >= 2),
        "{terms:?}"
    );
    // English on request.
    let en: Value = w.app.get_in(&path, None, "en").await.json().await.unwrap();
    let b = budget_of(&en, &dear["id"]);
    assert_eq!(
        b["detail"],
        "price from VND 50 billion is above the budget's maximum of VND 2 billion"
    );
}
