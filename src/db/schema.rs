//! The one schema both backends share. Written by hand to the common subset of SQL types.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        locale -> Text,
        role -> Text,
        email_verified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    auth_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        org_type -> Text,
        district -> Nullable<Text>,
        website -> Nullable<Text>,
        email -> Nullable<Text>,
        tax_code -> Nullable<Text>,
        verified_at -> Nullable<Timestamp>,
        verified_by -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    organization_members (organization_id, user_id) {
        organization_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        organization_id -> BigInt,
        email -> Text,
        role -> Text,
        status -> Text,
        invited_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    listings (id) {
        id -> BigInt,
        kind -> Text,
        external_id -> Nullable<Text>,
        organization_id -> Nullable<BigInt>,
        owner_user_id -> Nullable<BigInt>,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        version -> BigInt,
        language -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        description -> Text,
        fields -> Text,
        priority_areas -> Text,
        keywords -> Text,
        modes -> Text,
        trl -> Nullable<Integer>,
        money_min -> Nullable<BigInt>,
        money_max -> Nullable<BigInt>,
        ip_status -> Nullable<Text>,
        negotiable -> Nullable<Bool>,
        applications -> Nullable<Text>,
        deadline -> Nullable<Date>,
        confidential -> Bool,
        academic_title -> Nullable<Text>,
        affiliation -> Nullable<Text>,
        country -> Nullable<Text>,
        languages -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        availability -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    listing_events (id) {
        id -> BigInt,
        listing_id -> BigInt,
        actor_user_id -> Nullable<BigInt>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    listing_changes (seq) {
        seq -> BigInt,
        listing_id -> BigInt,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_prefs (user_id) {
        user_id -> BigInt,
        deal_activity -> Bool,
        deal_messages -> Bool,
        match_proposals -> Bool,
        reminders -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    matches (id) {
        id -> BigInt,
        broker_org_id -> BigInt,
        broker_user_id -> Nullable<BigInt>,
        need_id -> BigInt,
        target_id -> BigInt,
        target_kind -> Text,
        note -> Nullable<Text>,
        status -> Text,
        deal_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deals (id) {
        id -> BigInt,
        listing_id -> BigInt,
        listing_kind -> Text,
        status -> Text,
        requester_user_id -> BigInt,
        requester_org_id -> Nullable<BigInt>,
        owner_org_id -> Nullable<BigInt>,
        owner_user_id -> Nullable<BigInt>,
        broker_org_id -> Nullable<BigInt>,
        broker_user_id -> Nullable<BigInt>,
        match_id -> Nullable<BigInt>,
        decline_reason -> Nullable<Text>,
        decline_note -> Nullable<Text>,
        close_note -> Nullable<Text>,
        agreed_offer_id -> Nullable<BigInt>,
        agreed_value_vnd -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        responded_at -> Nullable<Timestamp>,
        accepted_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deal_offers (id) {
        id -> BigInt,
        deal_id -> BigInt,
        made_by_user_id -> Nullable<BigInt>,
        side -> Text,
        transfer_mode -> Text,
        price_vnd -> Nullable<BigInt>,
        duration_months -> Nullable<Integer>,
        territory -> Nullable<Text>,
        conditions -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by_user_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    deal_events (id) {
        id -> BigInt,
        deal_id -> BigInt,
        actor_user_id -> Nullable<BigInt>,
        actor_side -> Text,
        kind -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        message -> Nullable<Text>,
        offer_id -> Nullable<BigInt>,
        details -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        dedup_key -> Text,
        template -> Text,
        recipient_user_id -> Nullable<BigInt>,
        to_address -> Text,
        to_name -> Nullable<Text>,
        locale -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(listings -> organizations (organization_id));
diesel::joinable!(listing_events -> listings (listing_id));
diesel::joinable!(auth_tokens -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::joinable!(deal_offers -> deals (deal_id));
diesel::joinable!(deal_events -> deals (deal_id));
diesel::joinable!(deals -> listings (listing_id));
diesel::joinable!(invitations -> organizations (organization_id));
diesel::joinable!(organization_members -> organizations (organization_id));
diesel::joinable!(organization_members -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    invitations,
    auth_tokens,
    login_throttle,
    organizations,
    organization_members,
    listings,
    listing_events,
    listing_changes,
    account_tokens,
    notification_prefs,
    matches,
    deals,
    deal_offers,
    deal_events,
    outbox,
);
