//! The demo data set: 44 organisations, 130 technologies, 66 needs and 85 experts written for
//! this project (fictional listings of plausible Hanoi owners), and a few accounts to try
//! the workflow with. `techex serve --demo` loads it into an empty database.

use std::io::Cursor;

use diesel::prelude::*;

use crate::accounts::model::{Caller, Locale, Role};
use crate::accounts::service as accounts;
use crate::catalog::model::Kind;
use crate::db::schema::{listings, users};
use crate::http::error::ApiError;
use crate::imports::{import, ImportReport};
use crate::state::AppState;

const FILES: [&str; 5] = [
    include_str!("data/organizations.jsonl"),
    include_str!("data/technologies-1.jsonl"),
    include_str!("data/technologies-2.jsonl"),
    include_str!("data/needs.jsonl"),
    include_str!("data/experts.jsonl"),
];

/// The password of every demo account. Demo only: never on a public server.
pub const PASSWORD: &str = "demo-techex-2026";

/// Demo accounts: (email, display name, platform role, organisation external id).
pub const ACCOUNTS: [(&str, &str, Role, Option<&str>); 4] = [
    (
        "kiemduyet@demo.techex.test",
        "Sở KH&CN Hà Nội — kiểm duyệt",
        Role::Moderator,
        None,
    ),
    (
        "vien.moitruong@demo.techex.test",
        "Viện Công nghệ Môi trường",
        Role::Member,
        Some("ORG-001"),
    ),
    (
        "songhongxanh@demo.techex.test",
        "Nước sạch Sông Hồng Xanh",
        Role::Member,
        Some("ORG-025"),
    ),
    (
        "techbridge@demo.techex.test",
        "TechBridge Việt Nam",
        Role::Member,
        Some("ORG-041"),
    ),
];

/// The whole data set as one JSON Lines text, organisations first.
pub fn jsonl() -> String {
    FILES.iter().flat_map(|f| [f.trim_end(), "\n"]).collect()
}

/// Loads the demo data unless the database already holds listings. Answers the import
/// report when it loaded.
pub async fn load_if_empty(state: &AppState) -> Result<Option<ImportReport>, ApiError> {
    let existing: i64 = state
        .db
        .run(|conn| Ok(listings::table.count().get_result(conn)?))
        .await?;
    if existing > 0 {
        return Ok(None);
    }
    let db = state.db.clone();
    let report =
        tokio::task::spawn_blocking(move || import(&db, Cursor::new(jsonl()), None, &|_| {}))
            .await
            .map_err(ApiError::internal)??;
    let mut moderator = None;
    for (email, name, role, org) in ACCOUNTS {
        let (user, _) =
            accounts::create_privileged(state, email, PASSWORD, role, Some(name)).await?;
        if role == Role::Moderator {
            moderator = Some(user.id);
        }
        if let Some(ext) = org {
            let user_id = user.id;
            state
                .db
                .run(move |conn| {
                    let org_id = crate::organizations::repo::id_by_external_id(conn, ext)?
                        .ok_or(diesel::result::Error::NotFound)?;
                    if crate::organizations::repo::member_role(conn, org_id, user_id)?.is_none() {
                        crate::organizations::repo::add_member(
                            conn,
                            org_id,
                            user_id,
                            crate::organizations::model::MemberRole::Admin,
                            crate::db::now(),
                        )?;
                    }
                    Ok(())
                })
                .await?;
        }
    }
    // The Department has verified the demo organisations.
    state
        .db
        .run(move |conn| {
            let now = crate::db::now();
            crate::organizations::repo::verify_all(conn, moderator, now)?;
            Ok(())
        })
        .await?;
    seed_deals(state).await?;
    Ok(Some(report))
}

/// The signed-in demo account with this email, as the services see a caller.
async fn demo_caller(state: &AppState, email: &'static str) -> Result<Caller, ApiError> {
    let (id, role, locale) = state
        .db
        .run(move |conn| {
            Ok(users::table
                .filter(users::email.eq(email))
                .select((users::id, users::role, users::locale))
                .first::<(i64, Role, Locale)>(conn)?)
        })
        .await?;
    Ok(Caller {
        user_id: id,
        role,
        token_id: 0,
        locale,
    })
}

/// The id of the listing with this external id.
async fn listing_id(state: &AppState, external_id: &'static str) -> Result<Option<i64>, ApiError> {
    state
        .db
        .run(move |conn| {
            Ok(listings::table
                .filter(listings::external_id.eq(external_id))
                .select(listings::id)
                .first(conn)
                .optional()?)
        })
        .await
}

/// A few deals between the demo accounts, so the workflow has something to show: one in
/// negotiation with an offer and a counter-offer, one awaiting an answer, and a broker's
/// match awaiting take-up. Their emails land in the mail folder like any other.
async fn seed_deals(state: &AppState) -> Result<(), ApiError> {
    use crate::deals::{matches, offers, service};
    let institute = demo_caller(state, ACCOUNTS[1].0).await?;
    let enterprise = demo_caller(state, ACCOUNTS[2].0).await?;
    let broker = demo_caller(state, ACCOUNTS[3].0).await?;
    let (Some(johkasou), Some(compost), Some(membrane), Some(arsenic)) = (
        listing_id(state, "TECH-084").await?,
        listing_id(state, "TECH-095").await?,
        listing_id(state, "TECH-092").await?,
        listing_id(state, "NEED-001").await?,
    ) else {
        return Ok(());
    };
    let deal = service::open(
        state,
        enterprise,
        service::OpenDealRequest {
            listing_kind: Some(Kind::Technology.as_str().into()),
            listing_id: Some(johkasou),
            message: Some(
                "Công ty chúng tôi quan tâm đến công nghệ này cho các khu dân cư mới ở Gia Lâm \
                 chưa có mạng thu gom. Đề nghị Viện cho biết điều kiện chuyển giao và chi phí."
                    .into(),
            ),
            organization_id: None,
        },
    )
    .await?;
    service::accept(state, institute, deal.id).await?;
    offers::offer(
        state,
        enterprise,
        deal.id,
        offers::OfferRequest {
            transfer_mode: Some("license".into()),
            price_vnd: Some(1_200_000_000),
            duration_months: Some(36),
            territory: Some("Hà Nội".into()),
            conditions: None,
        },
    )
    .await?;
    offers::offer(
        state,
        institute,
        deal.id,
        offers::OfferRequest {
            transfer_mode: Some("license".into()),
            price_vnd: Some(1_500_000_000),
            duration_months: Some(36),
            territory: Some("Hà Nội".into()),
            conditions: Some("Bao gồm chuyển giao quy trình vận hành và đào tạo 2 tuần.".into()),
        },
    )
    .await?;
    service::open(
        state,
        enterprise,
        service::OpenDealRequest {
            listing_kind: Some(Kind::Technology.as_str().into()),
            listing_id: Some(compost),
            message: Some(
                "Bùn thải từ bể lắng nhà máy nước của chúng tôi có ủ compost được bằng quy trình \
                 này không? Xin Viện gửi thêm tài liệu kỹ thuật và các công trình đã áp dụng."
                    .into(),
            ),
            organization_id: None,
        },
    )
    .await?;
    matches::propose(
        state,
        broker,
        matches::ProposeMatch {
            need_id: Some(arsenic),
            technology_id: Some(membrane),
            expert_id: None,
            note: Some(
                "Màng thẩm thấu ngược trong công nghệ của Viện loại bỏ được asen và amoni; \
                 đề nghị hai bên trao đổi về quy mô 30.000 m³/ngày."
                    .into(),
            ),
            organization_id: None,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_line_is_valid() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default();
        let text = jsonl();
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for (i, line) in text.lines().enumerate() {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            *kinds
                .entry(v["kind"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
            if let Err(e) = crate::imports::parse_for_test(i as u64 + 1, line.as_bytes(), today) {
                panic!("demo line {} is invalid: {e:?}", i + 1);
            }
        }
        assert!(kinds["organization"] >= 40);
        assert!(kinds["technology"] >= 120);
        assert!(kinds["need"] >= 60);
        assert!(kinds["expert"] >= 80);
    }
}
