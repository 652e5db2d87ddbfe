-- The three catalogues (technology offers, technology needs, expert profiles) in one table:
-- the columns they share are typed once; each kind's own columns are nullable.

ALTER TABLE organizations ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX organizations_external_id ON organizations (external_id);

CREATE TABLE listings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('technology', 'need', 'expert')),
    external_id TEXT,
    -- Owner organisation of a technology or need (a need imported as open data may have none).
    organization_id BIGINT REFERENCES organizations (id) ON DELETE RESTRICT,
    -- The account that manages an expert profile; none for profiles moderators manage.
    owner_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    status TEXT NOT NULL
        CHECK (status IN ('draft', 'pending_review', 'published', 'rejected', 'archived')),
    rejection_reason TEXT,
    version BIGINT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('vi', 'en')),
    -- Title of a technology or need; full name of an expert.
    title TEXT NOT NULL,
    summary TEXT,
    -- Description of a technology or need; biography of an expert.
    description TEXT NOT NULL,
    -- JSON arrays of codes and words.
    fields TEXT NOT NULL,
    priority_areas TEXT NOT NULL,
    keywords TEXT NOT NULL,
    -- Transfer modes offered (technology) or collaboration types accepted (need).
    modes TEXT NOT NULL,
    -- TRL of a technology; minimum TRL wanted by a need.
    trl INTEGER CHECK (trl BETWEEN 1 AND 9),
    -- Indicative price of a technology; budget of a need. Whole đồng.
    money_min BIGINT,
    money_max BIGINT,
    ip_status TEXT,
    negotiable BOOLEAN,
    applications TEXT,
    deadline DATE,
    confidential BOOLEAN NOT NULL,
    academic_title TEXT,
    affiliation TEXT,
    country TEXT,
    languages TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    availability TEXT,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    published_at TIMESTAMP,
    UNIQUE (kind, external_id),
    CHECK (money_min IS NULL OR money_max IS NULL OR money_min <= money_max)
);
CREATE INDEX listings_kind_status_created ON listings (kind, status, created_at);
CREATE INDEX listings_organization ON listings (organization_id);
CREATE UNIQUE INDEX listings_one_profile_per_account ON listings (owner_user_id)
    WHERE kind = 'expert';

-- Who did what to a listing, and when.
CREATE TABLE listing_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id BIGINT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    actor_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX listing_events_listing ON listing_events (listing_id, id);

-- Every change to a listing, in order, written in the transaction of the change: the
-- search index follows this table (a transactional outbox).
CREATE TABLE listing_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id BIGINT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
