-- Membership by invitation: an administrator invites an address; the person with that
-- (verified) address accepts or declines after signing in. Nothing tells the inviter
-- whether an account uses the address.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    invited_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP
);
CREATE INDEX invitations_email ON invitations (email, status);
-- One open invitation per address and organisation (a renewal updates it).
CREATE UNIQUE INDEX invitations_one_open ON invitations (organization_id, email)
    WHERE status = 'pending';
CREATE INDEX invitations_organization ON invitations (organization_id, status);
