use serde_json::{json, Value};
use techex::accounts::model::Role;

use crate::helpers::{fields, problem, TestApp, PASSWORD};

#[tokio::test]
async fn creator_administers_and_members_see_contact_details() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("giamdoc@moitruong.example.vn").await;
    let r = app
        .post(
            "/api/v1/organizations",
            Some(&owner),
            &json!({"name": "  Viện Công nghệ Môi trường ", "org_type": "institute",
                    "district": "Cầu Giấy", "website": "https://iet.example.vn",
                    "email": "LienHe@IET.example.vn", "tax_code": "0101234567"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let org: Value = r.json().await.unwrap();
    let id = org["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/organizations/{id}"));
    assert_eq!(org["name"], "Viện Công nghệ Môi trường");
    assert_eq!(org["email"], "lienhe@iet.example.vn");
    assert_eq!(org["verified"], false);

    // The creator is its admin.
    let me: Value = app
        .get("/api/v1/me", Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["organizations"][0]["organization_id"], id);
    assert_eq!(me["organizations"][0]["role"], "admin");

    // Anonymous visitors and outsiders do not see the contact address.
    let public: Value = app.get(&location, None).await.json().await.unwrap();
    assert_eq!(public["name"], "Viện Công nghệ Môi trường");
    assert!(public.get("email").is_none());
    let outsider = app.signed_in("nguoingoai@example.vn").await;
    let seen: Value = app
        .get(&location, Some(&outsider))
        .await
        .json()
        .await
        .unwrap();
    assert!(seen.get("email").is_none());
    let list: Value = app
        .get("/api/v1/organizations?org_type=institute", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert!(list["items"][0].get("email").is_none());

    // Membership: the admin adds; the new member sees the contact address.
    let member = app.signed_in("kysu@moitruong.example.vn").await;
    let r = app
        .post(
            &format!("{location}/members"),
            Some(&owner),
            &json!({"email": "KySu@moitruong.example.vn"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["role"], "member");
    let seen: Value = app
        .get(&location, Some(&member))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["email"], "lienhe@iet.example.vn");
    let members: Value = app
        .get(&format!("{location}/members"), Some(&member))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members.as_array().unwrap().len(), 2);

    // A plain member cannot add people, outsiders cannot list members.
    let r = app
        .post(
            &format!("{location}/members"),
            Some(&member),
            &json!({"email": "nguoingoai@example.vn"}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    problem(
        app.get(&format!("{location}/members"), Some(&outsider))
            .await,
        403,
        "forbidden",
    )
    .await;
    // Adding twice, or someone without an account.
    let r = app
        .post(
            &format!("{location}/members"),
            Some(&owner),
            &json!({"email": "kysu@moitruong.example.vn"}),
        )
        .await;
    problem(r, 409, "already_member").await;
    let r = app
        .post(
            &format!("{location}/members"),
            Some(&owner),
            &json!({"email": "chua-dang-ky@example.vn"}),
        )
        .await;
    problem(r, 404, "user_not_found").await;
}

#[tokio::test]
async fn only_moderators_verify() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("ceo@songhong.example.vn").await;
    let id = app
        .organization(&owner, "Công ty CP Nước sạch Sông Hồng Xanh", "enterprise")
        .await;
    let path = format!("/api/v1/organizations/{id}/verify");

    problem(
        app.post(&path, Some(&owner), &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.post(&path, None, &json!({})).await,
        401,
        "unauthenticated",
    )
    .await;

    let moderator = app
        .privileged("kiemduyet@sokhcn.example.vn", Role::Moderator)
        .await;
    let r = app.post(&path, Some(&moderator), &json!({})).await;
    assert_eq!(r.status(), 200);
    let org: Value = r.json().await.unwrap();
    assert_eq!(org["verified"], true);
    assert!(org["verified_at"].as_str().is_some());
    // Moderators see contact details.
    assert_eq!(org["email"], "lienhe@example.vn");

    let list: Value = app
        .get("/api/v1/organizations?verified=true", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    let list: Value = app
        .get("/api/v1/organizations?verified=false", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);

    // Editing the legal identity withdraws the verification; other edits keep it.
    let r = app
        .patch(
            &format!("/api/v1/organizations/{id}"),
            Some(&owner),
            &json!({"website": "https://songhong.example.vn"}),
        )
        .await;
    let org: Value = r.json().await.unwrap();
    assert_eq!(org["verified"], true);
    assert_eq!(org["website"], "https://songhong.example.vn");
    let r = app
        .patch(
            &format!("/api/v1/organizations/{id}"),
            Some(&owner),
            &json!({"name": "Sông Hồng Xanh JSC"}),
        )
        .await;
    let org: Value = r.json().await.unwrap();
    assert_eq!(org["verified"], false);

    problem(
        app.post(
            "/api/v1/organizations/999999/verify",
            Some(&moderator),
            &json!({}),
        )
        .await,
        404,
        "organization_not_found",
    )
    .await;
}

#[tokio::test]
async fn validation_conflicts_and_the_last_admin() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("admin@dnx.example.vn").await;
    let r = app
        .post(
            "/api/v1/organizations",
            Some(&owner),
            &json!({"name": "X", "org_type": "company", "website": "ftp://x.vn",
                    "email": "nope", "tax_code": "12345"}),
        )
        .await;
    let p = problem(r, 422, "validation_failed").await;
    let mut f = fields(&p);
    f.sort();
    assert_eq!(f, vec!["email", "name", "org_type", "tax_code", "website"]);
    problem(
        app.post(
            "/api/v1/organizations",
            None,
            &json!({"name": "Viện A", "org_type": "institute"}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;

    let body = json!({"name": "Công ty TNHH Điện tử Quang Minh", "org_type": "enterprise",
                      "tax_code": "0109876543-001"});
    assert_eq!(
        app.post("/api/v1/organizations", Some(&owner), &body)
            .await
            .status(),
        201
    );
    let other = app.signed_in("khac@example.vn").await;
    let r = app.post("/api/v1/organizations", Some(&other), &body).await;
    problem(r, 409, "tax_code_taken").await;

    let id = app
        .organization(&owner, "Trung tâm Chuyển giao Công nghệ", "broker")
        .await;
    let me: Value = app
        .get("/api/v1/me", Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    let owner_id = me["id"].as_i64().unwrap();
    let r = app
        .delete(
            &format!("/api/v1/organizations/{id}/members/{owner_id}"),
            Some(&owner),
        )
        .await;
    problem(r, 409, "last_admin").await;

    // A second admin makes leaving possible.
    let r = app
        .post(
            &format!("/api/v1/organizations/{id}/members"),
            Some(&owner),
            &json!({"email": "khac@example.vn", "role": "admin"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .delete(
            &format!("/api/v1/organizations/{id}/members/{owner_id}"),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 204);
    problem(
        app.get(&format!("/api/v1/organizations/{id}/members"), Some(&owner))
            .await,
        403,
        "forbidden",
    )
    .await;
    let _ = PASSWORD;
}

#[tokio::test]
async fn listing_pages_and_filters() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("nhieu@example.vn").await;
    for (name, t) in [
        ("Đại học Bách khoa Hà Nội", "university"),
        ("Viện Hóa học", "institute"),
        ("Viện Dược liệu", "institute"),
        ("Công ty CP Dược phẩm Hà Tây Mới", "enterprise"),
    ] {
        app.organization(&owner, name, t).await;
    }
    let page: Value = app
        .get("/api/v1/organizations?limit=2", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 4);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next: Value = app
        .get("/api/v1/organizations?limit=2&offset=2", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"].as_array().unwrap().len(), 2);
    assert_ne!(page["items"][0]["id"], next["items"][0]["id"]);
    let institutes: Value = app
        .get("/api/v1/organizations?org_type=institute", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(institutes["total"], 2);

    let p = problem(
        app.get("/api/v1/organizations?limit=500", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), vec!["limit"]);
    let p = problem(
        app.get("/api/v1/organizations?limit=abc", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), vec!["limit"]);
    let p = problem(
        app.get("/api/v1/organizations?org_type=bank", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), vec!["org_type"]);
    problem(
        app.get("/api/v1/organizations/abc", None).await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.get("/api/v1/organizations/424242", None).await,
        404,
        "organization_not_found",
    )
    .await;
}
