//! Contact, negotiation and brokered matches: from a first request to a recorded agreement.

pub mod handlers;
pub mod matches;
pub mod model;
pub mod notify;
pub mod repo;
pub mod service;
pub mod sweep;

pub use sweep::sweep;
