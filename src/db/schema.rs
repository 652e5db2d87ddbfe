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

diesel::joinable!(auth_tokens -> users (user_id));
diesel::joinable!(organization_members -> organizations (organization_id));
diesel::joinable!(organization_members -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    auth_tokens,
    login_throttle,
    organizations,
    organization_members,
);
