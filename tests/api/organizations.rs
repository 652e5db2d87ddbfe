use serde_json::{json, Value};
use techex::accounts::model::Role;

use crate::helpers::{fields, problem, TestApp, PASSWORD};
use crate::mail::{memory_mail, Inbox};

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
    let org_id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
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

    // Membership by invitation: the admin invites, the person accepts; the new member
    // sees the contact address.
    let member = app.signed_in("kysu@moitruong.example.vn").await;
    app.join(
        &owner,
        org_id,
        "KySu@moitruong.example.vn",
        &member,
        "member",
    )
    .await;
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
    assert!(members
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["email"] == "kysu@moitruong.example.vn" && m["role"] == "member"));

    // A plain member cannot invite, outsiders cannot list members.
    let r = app
        .post(
            &format!("{location}/invitations"),
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
}

#[tokio::test]
async fn invitations_tell_nobody_who_has_an_account() {
    let app = TestApp::spawn_with(memory_mail).await;
    let mail = Inbox::of(&app);
    let owner = app.signed_in("vien@moitruong.example.vn").await;
    let org = app
        .organization(&owner, "Viện Công nghệ Môi trường", "institute")
        .await;
    let invitations = format!("/api/v1/organizations/{org}/invitations");
    let registered = app.signed_in("kysu@moitruong.example.vn").await;

    // The same answer for an address with an account and one without, a moderator's
    // included; every invited address is emailed.
    let moderator = app
        .privileged("kiemduyet@skhcn.example.vn", Role::Moderator)
        .await;
    let mut answers = Vec::new();
    for email in [
        "kysu@moitruong.example.vn",
        "chua-dang-ky@example.vn",
        "kiemduyet@skhcn.example.vn",
    ] {
        let r = app
            .post(&invitations, Some(&owner), &json!({"email": email}))
            .await;
        assert_eq!(r.status(), 201);
        let mut v: Value = r.json().await.unwrap();
        assert_eq!(v["email"], email);
        assert_eq!(v["status"], "pending");
        assert_eq!(v["role"], "member");
        for varying in ["id", "email", "created_at", "expires_at"] {
            v.as_object_mut().unwrap().remove(varying);
        }
        answers.push(v);
        let letter = mail.wait_subject(email, "Viện Công nghệ Môi trường").await;
        assert!(
            letter.text.contains("https://techex.test/invitations"),
            "{}",
            letter.text
        );
        assert!(letter
            .text
            .contains("chưa được Sở Khoa học và Công nghệ xác minh"));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
    let open: Value = app
        .get(&invitations, Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open.as_array().unwrap().len(), 3);

    // Nobody is a member before accepting; only the invited address sees the invitation.
    let members: Value = app
        .get(
            &format!("/api/v1/organizations/{org}/members"),
            Some(&owner),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members.as_array().unwrap().len(), 1);
    let mine: Value = app
        .get("/api/v1/me/invitations", Some(&registered))
        .await
        .json()
        .await
        .unwrap();
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["organization_name"], "Viện Công nghệ Môi trường");
    assert_eq!(mine[0]["organization_verified"], false);
    let id = mine[0]["id"].as_i64().unwrap();
    let outsider = app.signed_in("nguoingoai@example.vn").await;
    let none: Value = app
        .get("/api/v1/me/invitations", Some(&outsider))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);
    let r = app
        .post(
            &format!("/api/v1/me/invitations/{id}/accept"),
            Some(&outsider),
            &json!({}),
        )
        .await;
    problem(r, 404, "invitation_not_found").await;

    // An address not yet confirmed cannot answer.
    let r = app
        .register("chua-dang-ky@example.vn", PASSWORD, "Người Mới")
        .await;
    assert_eq!(r.status(), 202);
    let unconfirmed = app.token("chua-dang-ky@example.vn", PASSWORD).await;
    problem(
        app.get("/api/v1/me/invitations", Some(&unconfirmed)).await,
        403,
        "email_unconfirmed",
    )
    .await;
    // Nor can it make the exchange write to others.
    let its_own = app
        .organization(&unconfirmed, "Công ty Mới Thành Lập", "enterprise")
        .await;
    let r = app
        .post(
            &format!("/api/v1/organizations/{its_own}/invitations"),
            Some(&unconfirmed),
            &json!({"email": "ai-do@example.vn"}),
        )
        .await;
    problem(r, 403, "email_unconfirmed").await;

    // The moderator declines; the engineer accepts and is a member; answered ones close.
    let theirs: Value = app
        .get("/api/v1/me/invitations", Some(&moderator))
        .await
        .json()
        .await
        .unwrap();
    let declined = theirs[0]["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/me/invitations/{declined}/decline"),
            Some(&moderator),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "declined");
    let r = app
        .post(
            &format!("/api/v1/me/invitations/{id}/accept"),
            Some(&registered),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "accepted");
    let r = app
        .post(
            &format!("/api/v1/me/invitations/{id}/accept"),
            Some(&registered),
            &json!({}),
        )
        .await;
    problem(r, 404, "invitation_not_found").await;
    let members: Value = app
        .get(
            &format!("/api/v1/organizations/{org}/members"),
            Some(&owner),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members.as_array().unwrap().len(), 2);

    // The administrator withdraws the last open one.
    let open: Value = app
        .get(&invitations, Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    let open = open.as_array().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["email"], "chua-dang-ky@example.vn");
    let last = open[0]["id"].as_i64().unwrap();
    let r = app
        .delete(&format!("{invitations}/{last}"), Some(&owner))
        .await;
    assert_eq!(r.status(), 204);
    let r = app
        .delete(&format!("{invitations}/{last}"), Some(&owner))
        .await;
    problem(r, 404, "invitation_not_found").await;
    let open: Value = app
        .get(&invitations, Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open.as_array().unwrap().len(), 0);
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
    app.join(&owner, id, "khac@example.vn", &other, "admin")
        .await;
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
