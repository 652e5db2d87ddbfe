DROP TABLE outbox;
DROP TABLE deal_events;
DROP TABLE deal_offers;
DROP TABLE deals;
DROP TABLE matches;
DROP TABLE notification_prefs;
DROP TABLE account_tokens;
