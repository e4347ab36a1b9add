-- The whole data model of newsdesk. Times are UTC (TIMESTAMP without zone);
-- the site's own time zone is applied when they are shown.
-- Enumerations are TEXT with CHECK constraints so both engines agree.

CREATE TABLE site_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL DEFAULT '',
    copyright_holder TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    postcode TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    icp_filing TEXT NOT NULL DEFAULT '',
    news_service_filing TEXT NOT NULL DEFAULT '',
    complaint_phone TEXT NOT NULL DEFAULT '',
    complaint_email TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    default_script TEXT NOT NULL DEFAULT 'hant' CHECK (default_script IN ('hans', 'hant')),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE sections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES sections (id),
    kind TEXT NOT NULL CHECK (kind IN ('topic', 'region')),
    position INTEGER NOT NULL DEFAULT 0,
    in_navigation BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sections_parent ON sections (parent_id, position);
CREATE UNIQUE INDEX sections_name_per_parent ON sections (COALESCE(parent_id, 0), name);

CREATE TABLE sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    owned BOOLEAN NOT NULL DEFAULT FALSE,
    url TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE contributors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('reporter', 'editor', 'legal', 'admin', 'claimant', 'partner')),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    contributor_id INTEGER REFERENCES contributors (id),
    tokens_valid_after TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    original_title TEXT,
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    body_format TEXT NOT NULL DEFAULT 'paragraphs' CHECK (body_format IN ('paragraphs', 'html')),
    raw_text TEXT,
    script TEXT NOT NULL CHECK (script IN ('hans', 'hant')),
    section_id INTEGER NOT NULL REFERENCES sections (id),
    source_id INTEGER REFERENCES sources (id),
    owner_id INTEGER REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'scheduled', 'published', 'withdrawn', 'deleted')),
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    withdrawn_at TIMESTAMP,
    withdrawn_reason TEXT,
    import_key TEXT UNIQUE,
    import_warnings TEXT NOT NULL DEFAULT '[]',
    ruby_stripped_count INTEGER NOT NULL DEFAULT 0
);
-- Hot reads: newest public articles overall and per section, keyset-paginated.
CREATE INDEX articles_public_newest ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_section_newest ON articles (section_id, status, published_at DESC, id DESC);
CREATE INDEX articles_source ON articles (source_id);
CREATE INDEX articles_owner ON articles (owner_id);
-- Recommendation headlines are linked to articles by exact title.
CREATE INDEX articles_title ON articles (title);

CREATE TABLE article_slug_history (
    slug TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE article_credits (
    article_id INTEGER NOT NULL REFERENCES articles (id),
    position INTEGER NOT NULL,
    contributor_id INTEGER NOT NULL REFERENCES contributors (id),
    role TEXT NOT NULL CHECK (role IN ('reporter', 'correspondent', 'photographer', 'editor')),
    PRIMARY KEY (article_id, position)
);
CREATE INDEX article_credits_contributor ON article_credits (contributor_id);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles (id),
    tag_id INTEGER NOT NULL REFERENCES tags (id),
    PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag ON article_tags (tag_id);

CREATE TABLE article_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    revision INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (article_id, revision)
);

CREATE TABLE related_articles (
    article_id INTEGER NOT NULL REFERENCES articles (id),
    position INTEGER NOT NULL,
    related_id INTEGER NOT NULL REFERENCES articles (id),
    PRIMARY KEY (article_id, position)
);

CREATE TABLE copyright_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('original', 'reprint', 'removal')),
    text TEXT NOT NULL,
    window_days INTEGER,
    effective_from TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (kind, effective_from)
);

CREATE TABLE recommendation_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    section_id INTEGER REFERENCES sections (id),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE recommendation_items (
    list_id INTEGER NOT NULL REFERENCES recommendation_lists (id),
    position INTEGER NOT NULL,
    headline TEXT NOT NULL,
    url TEXT,
    article_id INTEGER REFERENCES articles (id),
    PRIMARY KEY (list_id, position)
);
CREATE INDEX recommendation_items_article ON recommendation_items (article_id);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE partner_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    requests_per_minute INTEGER NOT NULL DEFAULT 600,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE partner_usage (
    partner_key_id INTEGER NOT NULL REFERENCES partner_keys (id),
    day TEXT NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_key_id, day)
);

CREATE TABLE takedown_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claimant_user_id INTEGER REFERENCES users (id),
    filed_by_user_id INTEGER NOT NULL REFERENCES users (id),
    claimant_name TEXT NOT NULL,
    organisation TEXT,
    contact_phone TEXT,
    contact_email TEXT,
    contact_address TEXT NOT NULL,
    rights_statement TEXT NOT NULL,
    evidence_links TEXT NOT NULL DEFAULT '[]',
    reason TEXT NOT NULL,
    good_faith BOOLEAN NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('received', 'under_review', 'accepted', 'rejected', 'counter_notice', 'restored', 'upheld')),
    provisionally_withdrawn BOOLEAN NOT NULL DEFAULT FALSE,
    late BOOLEAN NOT NULL DEFAULT FALSE,
    received_at TIMESTAMP NOT NULL,
    respond_by TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX takedown_requests_state ON takedown_requests (state, received_at);
CREATE INDEX takedown_requests_claimant ON takedown_requests (claimant_user_id);

CREATE TABLE takedown_targets (
    takedown_id INTEGER NOT NULL REFERENCES takedown_requests (id),
    position INTEGER NOT NULL,
    article_id INTEGER REFERENCES articles (id),
    url TEXT,
    PRIMARY KEY (takedown_id, position)
);
CREATE INDEX takedown_targets_article ON takedown_targets (article_id);

CREATE TABLE counter_notices (
    takedown_id INTEGER PRIMARY KEY REFERENCES takedown_requests (id),
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    address TEXT NOT NULL,
    statement TEXT NOT NULL,
    evidence_links TEXT NOT NULL DEFAULT '[]',
    filed_by_user_id INTEGER NOT NULL REFERENCES users (id),
    filed_at TIMESTAMP NOT NULL
);

CREATE TABLE takedown_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    takedown_id INTEGER NOT NULL REFERENCES takedown_requests (id),
    actor_user_id INTEGER REFERENCES users (id),
    actor_role TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    forwarded_to TEXT NOT NULL DEFAULT '[]',
    request_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX takedown_events_request ON takedown_events (takedown_id, id);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_user_id INTEGER REFERENCES users (id),
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id INTEGER,
    revision_before INTEGER,
    revision_after INTEGER,
    request_id TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (delivered_at, next_attempt_at);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    actor_user_id INTEGER REFERENCES users (id),
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
