//! Email notifications. Each is rendered from embedded templates in the recipient's
//! language and written to the outbox in the transaction of the change that causes it;
//! the worker delivers it with retries, so a notification is never lost with its change
//! committed, nor sent for a change rolled back.

pub mod format;
pub mod mailer;
pub mod outbox;
pub mod prefs;
pub mod templates;
pub mod worker;

pub use templates::Event;
