DROP TABLE listing_changes;
DROP TABLE listing_events;
DROP TABLE listings;
DROP INDEX organizations_external_id;
ALTER TABLE organizations DROP COLUMN external_id;
