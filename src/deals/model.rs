//! Deals: states, actions, reasons, and the stored rows.

use crate::accounts::model::Locale;
use crate::catalog::model::Kind;
use crate::db::schema::{deal_events, deal_offers, deals, matches};
use crate::db::text_enum::text_enum;
use chrono::NaiveDateTime;
use diesel::prelude::*;

text_enum! {
    /// Where a deal stands: `requested → accepted → negotiating → agreed`, or one of the
    /// exits `declined`, `withdrawn`, `expired`, `failed`.
    pub enum DealStatus {
        Requested = "requested",
        Accepted = "accepted",
        Negotiating = "negotiating",
        Agreed = "agreed",
        Declined = "declined",
        Withdrawn = "withdrawn",
        Expired = "expired",
        Failed = "failed",
    }
}

impl DealStatus {
    /// The states of a deal still going (one per listing and requester at most).
    pub const OPEN: [DealStatus; 3] = [Self::Requested, Self::Accepted, Self::Negotiating];

    /// Still going: the parties can act on it.
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// Contact accepted and not yet ended: offers can be made.
    pub fn in_talks(self) -> bool {
        matches!(self, Self::Accepted | Self::Negotiating)
    }
}

text_enum! {
    /// What a participant can do to a deal.
    pub enum DealAction {
        Accept = "accept",
        Decline = "decline",
        Withdraw = "withdraw",
        Close = "close",
        Message = "message",
        Offer = "offer",
    }
}

text_enum! {
    /// Why the side asked declined a request.
    pub enum DeclineReason {
        NotRelevant = "not_relevant",
        TooEarlyStage = "too_early_stage",
        Price = "price",
        IpUnclear = "ip_unclear",
        NoCapacity = "no_capacity",
        Other = "other",
    }
}

impl DeclineReason {
    pub fn label(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Self::NotRelevant, Locale::Vi) => "Không phù hợp với nhu cầu",
            (Self::NotRelevant, Locale::En) => "Not relevant",
            (Self::TooEarlyStage, Locale::Vi) => "Công nghệ còn ở giai đoạn quá sớm",
            (Self::TooEarlyStage, Locale::En) => "Too early a stage",
            (Self::Price, Locale::Vi) => "Giá hoặc ngân sách không phù hợp",
            (Self::Price, Locale::En) => "Price or budget does not fit",
            (Self::IpUnclear, Locale::Vi) => "Tình trạng sở hữu trí tuệ chưa rõ ràng",
            (Self::IpUnclear, Locale::En) => "Intellectual property unclear",
            (Self::NoCapacity, Locale::Vi) => "Không đủ năng lực tiếp nhận hoặc thực hiện",
            (Self::NoCapacity, Locale::En) => "No capacity to take it on",
            (Self::Other, Locale::Vi) => "Lý do khác",
            (Self::Other, Locale::En) => "Other reason",
        }
    }
}

text_enum! {
    /// Which side of a deal someone is on.
    pub enum Side {
        Requester = "requester",
        Owner = "owner",
        Broker = "broker",
        Moderator = "moderator",
        System = "system",
    }
}

impl Side {
    pub fn other(self) -> Option<Side> {
        match self {
            Self::Requester => Some(Self::Owner),
            Self::Owner => Some(Self::Requester),
            _ => None,
        }
    }
}

text_enum! {
    /// Where an offer stands; a counter-offer supersedes the open one.
    pub enum OfferStatus {
        Open = "open",
        Accepted = "accepted",
        Rejected = "rejected",
        Superseded = "superseded",
    }
}

text_enum! {
    /// Where a broker's proposal stands.
    pub enum MatchStatus {
        Proposed = "proposed",
        TakenUp = "taken_up",
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// A step of a deal's timeline.
    pub enum EventKind {
        Requested = "requested",
        Accepted = "accepted",
        Declined = "declined",
        Withdrawn = "withdrawn",
        Message = "message",
        OfferMade = "offer_made",
        OfferRejected = "offer_rejected",
        Agreed = "agreed",
        Closed = "closed",
        ReminderSent = "reminder_sent",
        Expired = "expired",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deals)]
pub struct DealRow {
    pub id: i64,
    pub listing_id: i64,
    pub listing_kind: Kind,
    pub status: DealStatus,
    pub requester_user_id: i64,
    pub requester_org_id: Option<i64>,
    pub owner_org_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub broker_org_id: Option<i64>,
    pub broker_user_id: Option<i64>,
    pub match_id: Option<i64>,
    pub decline_reason: Option<DeclineReason>,
    pub decline_note: Option<String>,
    pub close_note: Option<String>,
    pub agreed_offer_id: Option<i64>,
    pub agreed_value_vnd: Option<i64>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
    pub reminded_at: Option<NaiveDateTime>,
}

impl DealRow {
    pub fn status(&self) -> DealStatus {
        self.status
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = deals)]
pub struct NewDeal {
    pub listing_id: i64,
    pub listing_kind: Kind,
    pub status: DealStatus,
    pub requester_user_id: i64,
    pub requester_org_id: Option<i64>,
    pub owner_org_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub broker_org_id: Option<i64>,
    pub broker_user_id: Option<i64>,
    pub match_id: Option<i64>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deal_offers)]
pub struct OfferRow {
    pub id: i64,
    pub deal_id: i64,
    pub made_by_user_id: Option<i64>,
    pub side: Side,
    pub transfer_mode: String,
    pub price_vnd: Option<i64>,
    pub duration_months: Option<i32>,
    pub territory: Option<String>,
    pub conditions: Option<String>,
    pub status: OfferStatus,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by_user_id: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = deal_offers)]
pub struct NewOffer {
    pub deal_id: i64,
    pub made_by_user_id: Option<i64>,
    pub side: Side,
    pub transfer_mode: String,
    pub price_vnd: Option<i64>,
    pub duration_months: Option<i32>,
    pub territory: Option<String>,
    pub conditions: Option<String>,
    pub status: OfferStatus,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deal_events)]
pub struct EventRow {
    pub id: i64,
    pub deal_id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_side: Side,
    pub kind: EventKind,
    pub from_status: Option<DealStatus>,
    pub to_status: Option<DealStatus>,
    pub message: Option<String>,
    pub offer_id: Option<i64>,
    pub details: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = deal_events)]
pub struct NewEvent {
    pub deal_id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_side: Side,
    pub kind: EventKind,
    pub from_status: Option<DealStatus>,
    pub to_status: Option<DealStatus>,
    pub message: Option<String>,
    pub offer_id: Option<i64>,
    pub details: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = matches)]
pub struct MatchRow {
    pub id: i64,
    pub broker_org_id: i64,
    pub broker_user_id: Option<i64>,
    pub need_id: i64,
    pub target_id: i64,
    pub target_kind: Kind,
    pub note: Option<String>,
    pub status: MatchStatus,
    pub deal_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = matches)]
pub struct NewMatch {
    pub broker_org_id: i64,
    pub broker_user_id: Option<i64>,
    pub need_id: i64,
    pub target_id: i64,
    pub target_kind: Kind,
    pub note: Option<String>,
    pub status: MatchStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
