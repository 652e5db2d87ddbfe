//! The three catalogues: technology offers, technology needs and expert profiles, with
//! moderation, visibility rules and the shared vocabularies.

pub mod content;
pub mod fields;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;
pub mod view;
