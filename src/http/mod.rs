//! What every area's HTTP handlers share: problem+json errors, body and query extractors,
//! the page parser and route tables. The server that mounts the areas' routes is in
//! `app` (the top layer); this layer knows no area.

pub mod error;
pub mod extract;
pub mod page;
pub mod route;
