//! Contact, negotiation and brokered matches: from a first request to a recorded agreement.

pub mod handlers;
pub mod matches;
pub mod model;
pub mod notify;
pub mod offers;
pub mod repo;
mod rules;
pub mod service;
pub mod sweep;
mod transition;
mod views;

pub use sweep::sweep;
