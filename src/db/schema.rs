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

diesel::joinable!(listings -> organizations (organization_id));
diesel::joinable!(listing_events -> listings (listing_id));
diesel::joinable!(auth_tokens -> users (user_id));
diesel::joinable!(organization_members -> organizations (organization_id));
diesel::joinable!(organization_members -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    auth_tokens,
    login_throttle,
    organizations,
    organization_members,
    listings,
    listing_events,
    listing_changes,
);
