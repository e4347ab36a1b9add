//! Diesel's view of the tables, shared by both engines. Kept by hand in step with
//! `migrations/sqlite` and `migrations/postgres`; only types that both engines
//! support through `MultiConnection` appear here.

diesel::table! {
    site_settings (id) {
        id -> Integer,
        name -> Text,
        copyright_holder -> Text,
        address -> Text,
        postcode -> Text,
        email -> Text,
        icp_filing -> Text,
        news_service_filing -> Text,
        complaint_phone -> Text,
        complaint_email -> Text,
        time_zone -> Text,
        default_script -> Text,
        updated_at -> Timestamp,
        logo_url -> Text,
    }
}

diesel::table! {
    sections (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        parent_id -> Nullable<Integer>,
        kind -> Text,
        position -> Integer,
        in_navigation -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sources (id) {
        id -> Integer,
        name -> Text,
        owned -> Bool,
        url -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contributors (id) {
        id -> Integer,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        disabled -> Bool,
        contributor_id -> Nullable<Integer>,
        tokens_valid_after -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_placements (scope_id, published_at, article_id) {
        scope_id -> Integer,
        published_at -> Timestamp,
        article_id -> Integer,
    }
}

diesel::table! {
    articles (id) {
        id -> Integer,
        slug -> Text,
        title -> Text,
        original_title -> Nullable<Text>,
        summary -> Text,
        body -> Text,
        body_format -> Text,
        raw_text -> Nullable<Text>,
        script -> Text,
        section_id -> Integer,
        source_id -> Nullable<Integer>,
        owner_id -> Nullable<Integer>,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> Integer,
        import_key -> Nullable<Text>,
        import_warnings -> Text,
        ruby_stripped_count -> Integer,
        held_since -> Nullable<Timestamp>,
        public_changed_at -> Nullable<Timestamp>,
        requested_slug -> Nullable<Text>,
        credits -> Text,
        lead_media_id -> Nullable<Text>,
        seo_title -> Nullable<Text>,
        seo_description -> Nullable<Text>,
    }
}

diesel::table! {
    media (id) {
        id -> Text,
        content_type -> Text,
        width -> Integer,
        height -> Integer,
        bytes -> Integer,
        blurhash -> Text,
        alt -> Text,
        caption -> Text,
        credit -> Text,
        source -> Text,
        rights -> Text,
        uploaded_by -> Nullable<Integer>,
        created_at -> Timestamp,
        held_since -> Nullable<Timestamp>,
        photographer_id -> Nullable<Integer>,
    }
}

diesel::table! {
    media_holds (id) {
        id -> Integer,
        media_id -> Text,
        takedown_id -> Integer,
        placed_at -> Timestamp,
        placed_by_user_id -> Nullable<Integer>,
        released_at -> Nullable<Timestamp>,
        released_by_user_id -> Nullable<Integer>,
    }
}

diesel::table! {
    legal_holds (id) {
        id -> Integer,
        article_id -> Integer,
        takedown_id -> Nullable<Integer>,
        reason -> Text,
        placed_at -> Timestamp,
        placed_by_user_id -> Nullable<Integer>,
        released_at -> Nullable<Timestamp>,
        released_by_user_id -> Nullable<Integer>,
    }
}

diesel::table! {
    article_slug_history (slug) {
        slug -> Text,
        article_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_credits (article_id, position) {
        article_id -> Integer,
        position -> Integer,
        contributor_id -> Integer,
        role -> Text,
    }
}

diesel::table! {
    tags (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> Integer,
        tag_id -> Integer,
    }
}

diesel::table! {
    article_revisions (id) {
        id -> Integer,
        article_id -> Integer,
        revision -> Integer,
        snapshot -> Text,
        actor_id -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    related_articles (article_id, position) {
        article_id -> Integer,
        position -> Integer,
        related_id -> Integer,
    }
}

diesel::table! {
    copyright_notices (id) {
        id -> Integer,
        kind -> Text,
        text -> Text,
        window_days -> Nullable<Integer>,
        effective_from -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recommendation_lists (id) {
        id -> Integer,
        name -> Text,
        section_id -> Nullable<Integer>,
        updated_at -> Timestamp,
        written_by -> Text,
    }
}

diesel::table! {
    recommendation_items (list_id, position) {
        list_id -> Integer,
        position -> Integer,
        headline -> Text,
        url -> Nullable<Text>,
        article_id -> Nullable<Integer>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    partner_keys (id) {
        id -> Integer,
        name -> Text,
        key_hash -> Text,
        requests_per_minute -> Integer,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partner_usage (partner_key_id, day) {
        partner_key_id -> Integer,
        day -> Text,
        requests -> BigInt,
    }
}

diesel::table! {
    takedown_requests (id) {
        id -> Integer,
        claimant_user_id -> Nullable<Integer>,
        filed_by_user_id -> Integer,
        claimant_name -> Text,
        organisation -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_address -> Text,
        rights_statement -> Text,
        evidence_links -> Text,
        reason -> Text,
        good_faith -> Bool,
        state -> Text,
        provisionally_withdrawn -> Bool,
        late -> Bool,
        received_at -> Timestamp,
        respond_by -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    takedown_targets (takedown_id, position) {
        takedown_id -> Integer,
        position -> Integer,
        article_id -> Nullable<Integer>,
        url -> Nullable<Text>,
        media_id -> Nullable<Text>,
    }
}

diesel::table! {
    counter_notices (takedown_id) {
        takedown_id -> Integer,
        name -> Text,
        contact -> Text,
        address -> Text,
        statement -> Text,
        evidence_links -> Text,
        filed_by_user_id -> Integer,
        filed_at -> Timestamp,
    }
}

diesel::table! {
    takedown_events (id) {
        id -> Integer,
        takedown_id -> Integer,
        actor_user_id -> Nullable<Integer>,
        actor_role -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        note -> Text,
        forwarded_to -> Text,
        request_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Integer,
        actor_user_id -> Nullable<Integer>,
        actor_role -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Integer>,
        revision_before -> Nullable<Integer>,
        revision_after -> Nullable<Integer>,
        request_id -> Nullable<Text>,
        details -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Integer,
        url -> Text,
        events -> Text,
        secret -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_outbox (id) {
        id -> Integer,
        webhook_id -> Integer,
        event -> Text,
        payload -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        traceparent -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Integer,
        outbox_id -> Integer,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_search (article_id) {
        article_id -> Integer,
        title_terms -> Text,
        body_terms -> Text,
    }
}

diesel::table! {
    idempotency_keys (actor_user_id, key) {
        actor_user_id -> Integer,
        key -> Text,
        request_hash -> Text,
        claim -> Text,
        response -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(articles -> sections (section_id));
diesel::joinable!(article_placements -> articles (article_id));
diesel::joinable!(legal_holds -> articles (article_id));
diesel::joinable!(articles -> sources (source_id));
diesel::joinable!(article_credits -> articles (article_id));
diesel::joinable!(article_credits -> contributors (contributor_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(recommendation_items -> recommendation_lists (list_id));
diesel::joinable!(takedown_targets -> takedown_requests (takedown_id));
diesel::joinable!(media_holds -> media (media_id));
diesel::joinable!(takedown_events -> takedown_requests (takedown_id));
diesel::joinable!(webhook_outbox -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhook_outbox (outbox_id));
diesel::joinable!(partner_usage -> partner_keys (partner_key_id));

diesel::table! {
    search_log (seq) {
        seq -> BigInt,
        article_id -> Integer,
        logged_at -> Timestamp,
    }
}

diesel::table! {
    change_log (seq) {
        seq -> BigInt,
        logged_at -> Timestamp,
        kind -> Text,
        article_id -> Nullable<Integer>,
        list_slug -> Nullable<Text>,
    }
}

diesel::table! {
    search_identity (token) {
        token -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    media,
    media_holds,
    article_placements,
    search_log,
    change_log,
    site_settings,
    sections,
    sources,
    contributors,
    users,
    articles,
    article_slug_history,
    article_credits,
    tags,
    article_tags,
    article_revisions,
    related_articles,
    copyright_notices,
    recommendation_lists,
    recommendation_items,
    revoked_tokens,
    partner_keys,
    partner_usage,
    takedown_requests,
    takedown_targets,
    counter_notices,
    takedown_events,
    audit_events,
    webhooks,
    webhook_outbox,
    webhook_deliveries,
    article_search,
    idempotency_keys,
);
