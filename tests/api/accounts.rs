use serde_json::{json, Value};

use crate::helpers::{fields, problem, TestApp, PASSWORD};
use crate::mail::{memory_mail, Inbox};

#[tokio::test]
async fn register_login_me_logout_then_the_token_is_refused() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "  Lan.Nguyen@Example.VN ", "password": PASSWORD,
                    "display_name": "Nguyễn Thị Lan", "locale": "en"}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let received: Value = r.json().await.unwrap();
    assert_eq!(received["email"], "lan.nguyen@example.vn");
    assert!(received.get("id").is_none());

    // Sign-in is case-insensitive on the email, before verification.
    let r = app.login("LAN.NGUYEN@example.vn", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let login: Value = r.json().await.unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 40);
    assert!(login["expires_at"].as_str().unwrap().ends_with('Z'));
    let user = &login["user"];
    assert_eq!(user["email"], "lan.nguyen@example.vn");
    assert_eq!(user["display_name"], "Nguyễn Thị Lan");
    assert_eq!(user["locale"], "en");
    assert_eq!(user["role"], "member");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password_hash").is_none());

    let r = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["email"], "lan.nguyen@example.vn");
    assert_eq!(me["organizations"], json!([]));

    let r = app
        .post("/api/v1/auth/logout", Some(&token), &json!({}))
        .await;
    assert_eq!(r.status(), 204);
    let r = app.get("/api/v1/me", Some(&token)).await;
    problem(r, 401, "invalid_token").await;

    // No token at all, and a malformed header.
    problem(app.get("/api/v1/me", None).await, 401, "unauthenticated").await;
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    problem(r, 401, "invalid_authorization").await;
}

#[tokio::test]
async fn registering_a_taken_address_answers_alike_and_tells_its_owner() {
    let app = TestApp::spawn_with(memory_mail).await;
    let mail = Inbox::of(&app);
    let first = app.register("hung@example.vn", PASSWORD, "Trần Hùng").await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = app
        .register("HUNG@example.vn", "một-mật-khẩu-khác-99", "Ai Đó")
        .await;
    assert_eq!(again.status(), 202);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    let fresh = app.register("moi@example.vn", PASSWORD, "Người Mới").await;
    assert_eq!(fresh.status(), 202);
    let mut fresh: Value = fresh.json().await.unwrap();
    fresh["email"] = first["email"].clone();
    assert_eq!(fresh, first);

    // The owner is told (once a day at most); the account and its password are unchanged.
    let told = mail
        .wait_subject("hung@example.vn", "đăng ký bằng địa chỉ email")
        .await;
    assert!(
        told.text.contains("https://techex.test/password-reset"),
        "{}",
        told.text
    );
    mail.wait_subject("moi@example.vn", "Xác nhận địa chỉ email")
        .await;
    let r = app.login("hung@example.vn", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["user"]["display_name"], "Trần Hùng");
    let r = app
        .register("hung@example.vn", "lại-một-mật-khẩu-77", "Lần Nữa")
        .await;
    assert_eq!(r.status(), 202);
    let third = app
        .register("ba@example.vn", PASSWORD, "Người Thứ Ba")
        .await;
    assert_eq!(third.status(), 202);
    mail.wait_subject("ba@example.vn", "Xác nhận địa chỉ email")
        .await;
    let owner_mail = mail
        .to("hung@example.vn")
        .into_iter()
        .filter(|m| m.subject.contains("đăng ký bằng địa chỉ email"))
        .count();
    assert_eq!(owner_mail, 1);
}

#[tokio::test]
async fn bad_fields_are_named() {
    let app = TestApp::spawn().await;
    let r = app.register("not-an-email", PASSWORD, "Lan").await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(fields(&p), vec!["email"]);

    let r = app.register("a@example.vn", "ngan-qua", "Lan").await;
    let p = problem(r, 422, "validation_failed").await;
    assert_eq!(fields(&p), vec!["password"]);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("10"));

    for common in ["password123", "1234567890", "Matkhau123", "qwertyuiop"] {
        let r = app.register("b@example.vn", common, "Lan").await;
        let p = problem(r, 422, "validation_failed").await;
        assert_eq!(fields(&p), vec!["password"], "{common}");
    }

    // Everything missing: every required field listed at once.
    let r = app.post("/api/v1/auth/register", None, &json!({})).await;
    let p = problem(r, 422, "validation_failed").await;
    let mut f = fields(&p);
    f.sort();
    assert_eq!(f, vec!["display_name", "email", "password"]);

    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "c@example.vn", "password": PASSWORD, "display_name": "Lan",
                    "locale": "fr"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["locale"]
    );

    // Nothing was created by any of these.
    problem(
        app.login("b@example.vn", "password123").await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_alike() {
    let app = TestApp::spawn().await;
    app.signed_in("mai@example.vn").await;
    let wrong = app.login("mai@example.vn", "sai-mat-khau-roi-nhe").await;
    let headers_wrong = wrong.headers().clone();
    let wrong = problem(wrong, 401, "invalid_credentials").await;
    let unknown = app
        .login("khong-ai@example.vn", "sai-mat-khau-roi-nhe")
        .await;
    let headers_unknown = unknown.headers().clone();
    let unknown = problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
    assert_eq!(
        headers_wrong.get("www-authenticate"),
        headers_unknown.get("www-authenticate")
    );
}

/// Signs in from `ip` (the server trusts `X-Forwarded-For` in these tests).
async fn login_from(app: &TestApp, email: &str, password: &str, ip: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn guessing_locks_out_the_guesser_not_the_owner() {
    let app = TestApp::spawn_with(|s| {
        s.server.trust_forwarded_for = true;
        s.auth.throttle.max_failures_per_pair = 3;
        s.auth.throttle.max_failures_per_account = 100;
        s.auth.throttle.max_failures_per_address = 100;
    })
    .await;
    app.signed_in("quan@example.vn").await;
    let attacker = "203.0.113.7";
    for _ in 0..3 {
        let r = login_from(&app, "quan@example.vn", "doan-sai-mat-khau", attacker).await;
        problem(r, 401, "invalid_credentials").await;
    }
    // From where it guessed, even the right password waits.
    let r = login_from(&app, "quan@example.vn", PASSWORD, attacker).await;
    let retry = retry_after(&r);
    assert!(retry > 0 && retry <= 900, "{retry}");
    let p = problem(r, 429, "too_many_requests").await;
    assert_eq!(p["retry_after"], retry);
    // The owner, from their own address, signs in.
    let r = login_from(&app, "quan@example.vn", PASSWORD, "198.51.100.20").await;
    assert_eq!(r.status(), 200);
    // Other accounts from the guesser's address are not affected.
    let r = login_from(&app, "khac@example.vn", "doan-sai-mat-khau", attacker).await;
    problem(r, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn an_account_guessed_at_from_everywhere_slows_down_and_its_owner_still_signs_in() {
    let app = TestApp::spawn_with(|s| {
        s.server.trust_forwarded_for = true;
        s.auth.throttle.max_failures_per_pair = 100;
        s.auth.throttle.max_failures_per_account = 3;
        s.auth.throttle.max_failures_per_address = 100;
        s.auth.throttle.max_delay_seconds = 1;
    })
    .await;
    app.signed_in("thao@example.vn").await;
    for i in 0..3 {
        let r = login_from(
            &app,
            "thao@example.vn",
            "doan-sai",
            &format!("203.0.113.{i}"),
        )
        .await;
        problem(r, 401, "invalid_credentials").await;
    }
    let owner = "198.51.100.9";
    let r = login_from(&app, "thao@example.vn", PASSWORD, owner).await;
    // A delay, not a lockout: at most max_delay_seconds.
    let retry = retry_after(&r);
    assert_eq!(retry, 1);
    problem(r, 429, "too_many_requests").await;
    // The delay runs out (its clock moved on here, as waiting would): the owner signs in.
    app.state
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use techex::db::schema::login_throttle as lt;
            let past = techex::db::now() - chrono::Duration::seconds(1);
            diesel::update(lt::table.filter(lt::locked_until.is_not_null()))
                .set(lt::locked_until.eq(past))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let r = login_from(&app, "thao@example.vn", PASSWORD, owner).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn spraying_from_one_address_slows_that_address_down() {
    let app = TestApp::spawn_with(|s| {
        s.auth.throttle.max_failures_per_pair = 100;
        s.auth.throttle.max_failures_per_account = 100;
        s.auth.throttle.max_failures_per_address = 4;
    })
    .await;
    app.signed_in("an@example.vn").await;
    // Spraying many accounts from one address, known or not.
    for i in 0..4 {
        let r = app
            .login(&format!("ai-do-{i}@example.vn"), "doan-sai-mat-khau")
            .await;
        problem(r, 401, "invalid_credentials").await;
    }
    let r = app.login("an@example.vn", PASSWORD).await;
    // Everyone behind that address waits seconds, not a quarter of an hour.
    let retry = retry_after(&r);
    assert!((1..=60).contains(&retry), "{retry}");
    problem(r, 429, "too_many_requests").await;
}

#[tokio::test]
async fn a_successful_login_resets_the_account_count() {
    let app = TestApp::spawn_with(|s| {
        s.auth.throttle.max_failures_per_pair = 3;
    })
    .await;
    app.signed_in("binh@example.vn").await;
    for _ in 0..2 {
        app.login("binh@example.vn", "doan-sai-mat-khau").await;
    }
    app.token("binh@example.vn", PASSWORD).await;
    for _ in 0..2 {
        app.login("binh@example.vn", "doan-sai-mat-khau").await;
    }
    // Two failures since the success: still below three.
    assert_eq!(app.login("binh@example.vn", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn password_change_revokes_every_token() {
    let app = TestApp::spawn().await;
    let first = app.signed_in("cuong@example.vn").await;
    let second = app.token("cuong@example.vn", PASSWORD).await;

    let r = app
        .post(
            "/api/v1/me/password",
            Some(&first),
            &json!({"current_password": "khong-dung-dau", "new_password": "mat-khau-moi-2026!"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["current_password"]
    );
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&first),
            &json!({"current_password": PASSWORD, "new_password": "password123"}),
        )
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["new_password"]
    );

    let r = app
        .post(
            "/api/v1/me/password",
            Some(&first),
            &json!({"current_password": PASSWORD, "new_password": "mat-khau-moi-2026!"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let fresh: Value = r.json().await.unwrap();
    let fresh = fresh["token"].as_str().unwrap();
    problem(
        app.get("/api/v1/me", Some(&first)).await,
        401,
        "invalid_token",
    )
    .await;
    problem(
        app.get("/api/v1/me", Some(&second)).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(app.get("/api/v1/me", Some(fresh)).await.status(), 200);
    problem(
        app.login("cuong@example.vn", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login("cuong@example.vn", "mat-khau-moi-2026!")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn profile_updates() {
    let app = TestApp::spawn().await;
    let token = app.signed_in("dung@example.vn").await;
    let r = app
        .patch(
            "/api/v1/me",
            Some(&token),
            &json!({"locale": "en", "display_name": "  Dung Pham "}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["locale"], "en");
    assert_eq!(me["display_name"], "Dung Pham");
    let r = app
        .patch("/api/v1/me", Some(&token), &json!({"role": "admin"}))
        .await;
    assert_eq!(
        fields(&problem(r, 422, "validation_failed").await),
        vec!["role"]
    );
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "member");
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    for (proxies, counted_apart) in [
        (vec!["127.0.0.1".to_owned()], true),
        (vec!["10.9.9.9".to_owned()], false),
    ] {
        let app = TestApp::spawn_with(|s| {
            s.server.trusted_proxies = proxies.clone();
            s.auth.throttle.max_failures_per_pair = 2;
        })
        .await;
        app.signed_in("lien@example.vn").await;
        for _ in 0..2 {
            let r = login_from(&app, "lien@example.vn", "doan-sai", "203.0.113.50").await;
            problem(r, 401, "invalid_credentials").await;
        }
        // A client-written hop left of the proxy's proves nothing: the proxy's own entry
        // (the right-most) is the address.
        let r = login_from(
            &app,
            "lien@example.vn",
            PASSWORD,
            "203.0.113.50, 198.51.100.60",
        )
        .await;
        if counted_apart {
            assert_eq!(r.status(), 200, "{proxies:?}");
        } else {
            // From an untrusted peer the header is ignored: both came from 127.0.0.1.
            problem(r, 429, "too_many_requests").await;
        }
    }
}
