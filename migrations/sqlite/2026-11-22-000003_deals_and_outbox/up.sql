-- Contact, negotiation and brokered matches; the email outbox; account tokens sent by email;
-- notification preferences.

-- Single-use tokens sent by email: address verification and password reset. Only the
-- SHA-256 of a token is stored.
CREATE TABLE account_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    token_hash TEXT NOT NULL UNIQUE,
    -- The address the token was sent to: verifying proves this address, not a later one.
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Which optional emails an account wants; no row means all of them. Account mail
-- (verification, password reset, security notices) always goes.
CREATE TABLE notification_prefs (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    deal_activity BOOLEAN NOT NULL,
    deal_messages BOOLEAN NOT NULL,
    match_proposals BOOLEAN NOT NULL,
    reminders BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A broker's proposal that a technology or expert answers a need.
CREATE TABLE matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    broker_org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    broker_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    need_id BIGINT NOT NULL REFERENCES listings (id) ON DELETE RESTRICT,
    target_id BIGINT NOT NULL REFERENCES listings (id) ON DELETE RESTRICT,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('technology', 'expert')),
    note TEXT,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'taken_up', 'withdrawn')),
    deal_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX matches_one_open_per_pair ON matches (need_id, target_id)
    WHERE status = 'proposed';
CREATE INDEX matches_broker ON matches (broker_org_id, id);
CREATE INDEX matches_need ON matches (need_id);
CREATE INDEX matches_target ON matches (target_id);

-- A contact request and the negotiation that follows it.
CREATE TABLE deals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id BIGINT NOT NULL REFERENCES listings (id) ON DELETE RESTRICT,
    listing_kind TEXT NOT NULL CHECK (listing_kind IN ('technology', 'need', 'expert')),
    status TEXT NOT NULL CHECK (status IN ('requested', 'accepted', 'negotiating', 'agreed',
        'declined', 'withdrawn', 'expired', 'failed')),
    -- The side that asked: the account, and the organisation it asked for (if any).
    requester_user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    requester_org_id BIGINT REFERENCES organizations (id) ON DELETE RESTRICT,
    -- The side asked: the listing's organisation, or the account of an expert profile.
    owner_org_id BIGINT REFERENCES organizations (id) ON DELETE RESTRICT,
    owner_user_id BIGINT REFERENCES users (id) ON DELETE RESTRICT,
    -- A broker following the deal.
    broker_org_id BIGINT REFERENCES organizations (id) ON DELETE RESTRICT,
    broker_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    match_id BIGINT REFERENCES matches (id) ON DELETE SET NULL,
    decline_reason TEXT,
    decline_note TEXT,
    close_note TEXT,
    agreed_offer_id BIGINT,
    agreed_value_vnd BIGINT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- When the owner's side accepted or declined: response times are reported from this.
    responded_at TIMESTAMP,
    -- When the contact details were exchanged (acceptance); they stay visible afterwards.
    accepted_at TIMESTAMP,
    closed_at TIMESTAMP,
    -- An unanswered request expires then; a reminder goes before.
    expires_at TIMESTAMP NOT NULL,
    reminded_at TIMESTAMP
);
CREATE UNIQUE INDEX deals_one_open_per_requester ON deals (listing_id, requester_user_id)
    WHERE status IN ('requested', 'accepted', 'negotiating');
CREATE INDEX deals_status_expires ON deals (status, expires_at);
CREATE INDEX deals_requester_user ON deals (requester_user_id);
CREATE INDEX deals_requester_org ON deals (requester_org_id);
CREATE INDEX deals_owner_org ON deals (owner_org_id);
CREATE INDEX deals_owner_user ON deals (owner_user_id);
CREATE INDEX deals_broker_org ON deals (broker_org_id);

-- Terms proposed inside a deal; a counter-offer supersedes the open one.
CREATE TABLE deal_offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deal_id BIGINT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    made_by_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    side TEXT NOT NULL CHECK (side IN ('requester', 'owner')),
    transfer_mode TEXT NOT NULL,
    price_vnd BIGINT CHECK (price_vnd >= 0),
    duration_months INTEGER CHECK (duration_months > 0),
    territory TEXT,
    conditions TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'rejected', 'superseded')),
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX deal_offers_deal ON deal_offers (deal_id, id);

-- Every step of a deal, with its actor: the timeline. Messages are steps too.
CREATE TABLE deal_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deal_id BIGINT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    actor_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- requester, owner, broker or system.
    actor_side TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    message TEXT,
    offer_id BIGINT,
    -- JSON object with what else the step carries (reason codes, terms).
    details TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX deal_events_deal ON deal_events (deal_id, id);

-- Email waiting to be delivered, written in the transaction of the change that causes it,
-- so no notification is lost; `dedup_key` makes sure none is queued twice.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key TEXT NOT NULL UNIQUE,
    template TEXT NOT NULL,
    recipient_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    to_address TEXT NOT NULL,
    to_name TEXT,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A worker holds the row until then while it delivers it.
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
