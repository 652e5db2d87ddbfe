//! techex: the backend of the Hanoi Technology Exchange (Sàn giao dịch công nghệ Hà Nội).
//!
//! One crate, one module per area of the business; `http` holds the wiring.

pub mod accounts;
pub mod app;
pub mod catalog;
pub mod config;
pub mod db;
pub mod deals;
pub mod demo;
pub mod http;
pub mod imports;
pub mod locale;
pub mod matching;
pub mod me;
pub mod metrics;
pub mod notify;
pub mod organizations;
pub mod password;
pub mod search;
pub mod state;
pub mod taxonomy;
pub mod telemetry;
pub mod validate;
