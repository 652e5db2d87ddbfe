//! People: registration, sign-in, tokens, platform roles.

pub mod extract;
pub mod handlers;
pub mod mail;
pub mod model;

pub mod repo;
pub mod service;
pub mod throttle;
pub mod tokens;
