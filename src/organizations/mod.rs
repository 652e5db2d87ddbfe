//! Organisations and their members.

pub mod actor;
pub mod handlers;
pub mod invitations;
pub mod model;
pub mod repo;
pub mod service;
