//! Lists are built in a fixed number of database queries, however long the page: the
//! `Server-Timing` header (on in tests) says how many statements a request ran.

use serde_json::{json, Value};
use techex::accounts::model::Role;

use crate::catalog::{need, technology};
use crate::helpers::TestApp;

/// The statements the request ran, from `Server-Timing: db;desc="N queries";dur=…`.
fn queries(r: &reqwest::Response) -> u64 {
    let v = r
        .headers()
        .get("server-timing")
        .expect("Server-Timing is on in tests")
        .to_str()
        .unwrap()
        .to_owned();
    let n = v
        .split("desc=\"")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no count in {v}"));
    n.parse().unwrap_or_else(|_| panic!("no count in {v}"))
}

async fn published(
    app: &TestApp,
    moderator: &str,
    collection: &str,
    token: &str,
    body: &Value,
) -> i64 {
    let r = app
        .post(&format!("/api/v1/{collection}"), Some(token), body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for (action, who) in [("submit", token), ("publish", moderator)] {
        let r = app
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

/// Lists `path` as `token`: the number of items and the statements it took.
async fn listed(app: &TestApp, path: &str, token: &str) -> (usize, u64) {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), 200);
    let n = queries(&r);
    let body: Value = r.json().await.unwrap();
    (body["items"].as_array().unwrap().len(), n)
}

#[tokio::test]
async fn deals_and_brokers_matches_are_listed_in_a_fixed_number_of_queries() {
    let app = TestApp::spawn_with(|s| s.server.server_timing = true).await;
    let moderator = app
        .privileged("kd@sokhcn.example.vn", Role::Moderator)
        .await;
    let institute = app.signed_in("chuyengiao@iet.example.vn").await;
    app.organization(&institute, "Viện Công nghệ Môi trường", "institute")
        .await;
    let enterprise = app.signed_in("giamdoc@nhuom.example.vn").await;
    app.organization(&enterprise, "Công ty Dệt nhuộm Thanh Trì", "enterprise")
        .await;
    let broker = app.signed_in("moigioi@ketnoi.example.vn").await;
    app.organization(&broker, "Trung tâm Kết nối Công nghệ", "broker")
        .await;
    let need_id = published(&app, &moderator, "needs", &enterprise, &need(false)).await;

    let mut techs = Vec::new();
    for i in 0..7 {
        let mut body = technology();
        body["title"] = json!(format!("Công nghệ xử lý nước thải số {i}"));
        techs.push(published(&app, &moderator, "technologies", &institute, &body).await);
    }
    let mut counts = Vec::new();
    for batch in [&techs[..2], &techs[2..]] {
        for &tech in batch {
            let r = app
                .post(
                    "/api/v1/deals",
                    Some(&enterprise),
                    &json!({"listing_kind": "technology", "listing_id": tech,
                            "message": "Chúng tôi muốn nhận chuyển giao công nghệ này."}),
                )
                .await;
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
            let r = app
                .post(
                    "/api/v1/matches",
                    Some(&broker),
                    &json!({"need_id": need_id, "technology_id": tech,
                            "note": "Công suất và quy chuẩn phù hợp."}),
                )
                .await;
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
        counts.push((
            listed(&app, "/api/v1/deals?limit=100", &enterprise).await,
            listed(&app, "/api/v1/deals?limit=100", &institute).await,
            listed(&app, "/api/v1/matches?limit=100", &broker).await,
            listed(&app, "/api/v1/matches?limit=100", &enterprise).await,
        ));
    }
    let [(d2, o2, b2, e2), (d7, o7, b7, e7)] = counts[..] else {
        panic!("{counts:?}")
    };
    // Each side sees every deal and every match.
    assert_eq!([d2.0, o2.0, b2.0, e2.0], [2; 4], "{counts:?}");
    assert_eq!([d7.0, o7.0, b7.0, e7.0], [7; 4], "{counts:?}");
    // Seven take as many statements as two.
    assert_eq!(
        [d2.1, o2.1, b2.1, e2.1],
        [d7.1, o7.1, b7.1, e7.1],
        "{counts:?}"
    );
    assert!(d7.1 <= 12 && b7.1 <= 12, "{counts:?}");
}
