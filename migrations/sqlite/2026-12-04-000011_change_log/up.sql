-- What happened to public view, in commit order, for live updates: every
-- transaction that changes an article or a recommendation list writes one
-- entry per subject here, in the same transaction, saying what the change
-- was (an article became public, was revised, left public view, or
-- changed out of public view; a list changed). Each node's live-update hub
-- reads the entries after the last it sent, so nothing is announced that
-- did not commit, a subscriber on any node hears a change made on another,
-- and an SSE client resumes after the last event id it saw.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    logged_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    article_id INTEGER,
    list_slug TEXT
);
CREATE INDEX change_log_logged_at ON change_log (logged_at);
