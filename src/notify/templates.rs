//! The email templates, embedded in the binary: one per event and language, each with a
//! `subject`, a plain-text `body` and an `action` label for the link; the HTML body is the
//! plain text laid out by `layout.html` (HTML-escaped), so the two never disagree.

use std::sync::LazyLock;

use minijinja::{context, AutoEscape, Environment};
use serde::Serialize;

use crate::db::text_enum::text_enum;
use crate::locale::Locale;

/// Which optional emails an event belongs to; account mail always goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Account,
    DealActivity,
    DealMessages,
    MatchProposals,
    Reminders,
}

macro_rules! events {
    ($($variant:ident => $name:tt, $category:ident;)*) => {
        text_enum! {
            /// Everything the exchange writes to people about; stored in the outbox as the
            /// name of its template.
            pub enum Event {
                $($variant = $name,)*
            }
        }

        impl Event {
            /// The template's file stem, also recorded in the outbox.
            pub fn name(self) -> &'static str {
                self.as_str()
            }

            pub fn category(self) -> Category {
                match self {
                    $(Event::$variant => Category::$category,)*
                }
            }
        }

        const SOURCES: &[(&str, &str)] = &[
            $(
                (concat!("vi/", $name, ".txt"), include_str!(concat!("templates/vi/", $name, ".txt"))),
                (concat!("en/", $name, ".txt"), include_str!(concat!("templates/en/", $name, ".txt"))),
            )*
            ("layout.html", include_str!("templates/layout.html")),
        ];
    };
}

events! {
    VerifyEmail => "verify_email", Account;
    PasswordReset => "password_reset", Account;
    PasswordChanged => "password_changed", Account;
    OrganizationInvitation => "organization_invitation", Account;
    AlreadyRegistered => "already_registered", Account;
    DealRequested => "deal_requested", DealActivity;
    DealAccepted => "deal_accepted", DealActivity;
    DealDeclined => "deal_declined", DealActivity;
    DealWithdrawn => "deal_withdrawn", DealActivity;
    DealMessage => "deal_message", DealMessages;
    OfferMade => "offer_made", DealActivity;
    OfferRejected => "offer_rejected", DealActivity;
    DealAgreed => "deal_agreed", DealActivity;
    DealFailed => "deal_failed", DealActivity;
    DealReminder => "deal_reminder", Reminders;
    DealExpired => "deal_expired", DealActivity;
    MatchProposed => "match_proposed", MatchProposals;
    MatchTakenUp => "match_taken_up", MatchProposals;
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_trim_blocks(true);
    for (name, source) in SOURCES {
        // The sources are compiled in; a unit test renders every one of them.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "email template does not parse");
        }
    }
    env
});

fn footer(locale: Locale, category: Category, settings_url: &str) -> String {
    match (locale, category) {
        (Locale::Vi, Category::Account) => {
            "Đây là thư về tài khoản của bạn trên Sàn giao dịch công nghệ Hà Nội; thư loại này luôn được gửi.".into()
        }
        (Locale::En, Category::Account) => {
            "This email is about your account on the Hanoi Technology Exchange; such emails are always sent.".into()
        }
        (Locale::Vi, _) => format!(
            "Bạn nhận được thư này vì tham gia Sàn giao dịch công nghệ Hà Nội. Chọn loại thư muốn nhận tại: {settings_url}"
        ),
        (Locale::En, _) => format!(
            "You receive this email as a user of the Hanoi Technology Exchange. Choose which emails you get at: {settings_url}"
        ),
    }
}

/// One line, without control characters: what a header may carry.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders `event` in `locale`. `ctx` carries the event's variables (see the templates);
/// `recipient_name`, `locale` and `action_url` are added here.
pub fn render<C: Serialize>(
    event: Event,
    locale: Locale,
    recipient_name: &str,
    action_url: &str,
    settings_url: &str,
    ctx: C,
) -> Result<Rendered, minijinja::Error> {
    let name = format!("{}/{}.txt", locale.as_str(), event.name());
    let template = ENV.get_template(&name)?;
    let full = context! {
        recipient_name => recipient_name,
        locale => locale.as_str(),
        action_url => action_url,
        ..minijinja::Value::from_serialize(&ctx)
    };
    let mut captured = template.render_captured(full)?;
    let (subject, body, action) = captured.with_state_mut(|state| {
        Ok::<_, minijinja::Error>((
            one_line(&state.render_block("subject")?),
            state.render_block("body")?.trim().to_owned(),
            one_line(&state.render_block("action")?),
        ))
    })?;
    let footer = footer(locale, event.category(), settings_url);
    let text = format!("{body}\n\n{action}: {action_url}\n\n-- \n{footer}\n");
    let paragraphs: Vec<Vec<&str>> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.lines().map(str::trim_end).collect())
        .collect();
    let html = ENV.get_template("layout.html")?.render(context! {
        subject => &subject,
        paragraphs => paragraphs,
        action_label => &action,
        action_url => action_url,
        footer => footer,
        locale => locale.as_str(),
    })?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(event: Event) -> serde_json::Value {
        let deal = json!({"id": 7, "listing_title": "Xử lý nước thải <bằng> màng MBR", "listing_kind": "technology"});
        let offer = json!({"mode_label": "Chuyển giao quyền sử dụng", "price": "1.500.000.000 ₫",
                           "duration_months": 24, "territory": "Hà Nội", "conditions": "Đào tạo 2 tuần"});
        let m = json!({"need_title": "Cần xử lý nước thải", "target_title": "Màng MBR", "target_kind": "technology"});
        match event {
            Event::VerifyEmail => json!({"link_hours": 48}),
            Event::PasswordReset => json!({"link_minutes": 60}),
            Event::PasswordChanged => json!({}),
            Event::AlreadyRegistered => json!({}),
            Event::OrganizationInvitation => json!({"organization": "Viện <Môi trường>",
                "verified": false, "inviter": "Trần Thị B", "role": "thành viên", "days": 14}),
            Event::DealRequested => {
                json!({"deal": deal, "actor_name": "Nguyễn Văn A", "actor_org": {"name": "Công ty X", "verified": false},
                                           "message": "Chúng tôi quan tâm.", "respond_by": "05/12/2026"})
            }
            Event::DealAccepted | Event::DealWithdrawn | Event::DealFailed => {
                json!({"deal": deal, "actor_name": "Trần Thị B"})
            }
            Event::DealDeclined => json!({"deal": deal, "reason_label": "Giá không phù hợp"}),
            Event::DealMessage => {
                json!({"deal": deal, "actor_name": "Trần Thị B", "message": "Xin chào"})
            }
            Event::OfferMade => {
                json!({"deal": deal, "actor_name": "Trần Thị B", "offer": offer, "counter": true})
            }
            Event::OfferRejected => {
                json!({"deal": deal, "actor_name": "Trần Thị B", "offer": offer})
            }
            Event::DealAgreed => json!({"deal": deal, "offer": offer, "value": "1.500.000.000 ₫"}),
            Event::DealReminder => {
                json!({"deal": deal, "actor_name": "Nguyễn Văn A", "respond_by": "05/12/2026", "days_left": 3})
            }
            Event::DealExpired => json!({"deal": deal, "to_requester": true}),
            Event::MatchProposed => json!({"match": m, "broker_name": "Lê C", "side": "need"}),
            Event::MatchTakenUp => json!({"match": m, "actor_name": "Nguyễn Văn A"}),
        }
    }

    #[test]
    fn every_template_renders_in_both_languages() {
        for event in Event::ALL {
            for locale in [Locale::Vi, Locale::En] {
                let r = render(
                    event,
                    locale,
                    "Phạm D",
                    "https://x.vn/deals/7",
                    "https://x.vn/s",
                    sample(event),
                )
                .unwrap_or_else(|e| panic!("{} {}: {e:#}", event.name(), locale.as_str()));
                assert!(
                    !r.subject.is_empty() && !r.subject.contains('\n'),
                    "{}",
                    event.name()
                );
                assert!(r.text.contains("https://x.vn/deals/7"));
                assert!(r.html.contains("https://x.vn/deals/7"));
                assert!(
                    !r.text.contains("{{") && !r.text.contains("{%"),
                    "{}",
                    r.text
                );
                assert!(
                    r.html.starts_with("<!DOCTYPE")
                        || r.html.starts_with("<html")
                        || r.html.contains("<html")
                );
            }
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let r = render(
            Event::DealMessage,
            Locale::Vi,
            "A",
            "https://x.vn/d/1",
            "https://x.vn/s",
            json!({"deal": {"id": 1, "listing_title": "T", "listing_kind": "need"},
                   "actor_name": "B", "message": "<script>alert(1)</script>"}),
        )
        .unwrap();
        assert!(r.text.contains("<script>"));
        assert!(!r.html.contains("<script>"));
        assert!(r.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_language_follows_the_recipient() {
        let vi = render(
            Event::VerifyEmail,
            Locale::Vi,
            "A",
            "u",
            "s",
            json!({"link_hours": 48}),
        )
        .unwrap();
        let en = render(
            Event::VerifyEmail,
            Locale::En,
            "A",
            "u",
            "s",
            json!({"link_hours": 48}),
        )
        .unwrap();
        assert!(vi.subject.starts_with("[Techex Hà Nội]"));
        assert!(en.subject.starts_with("[Techex Hanoi]"));
    }
}
