//! Failed sign-in throttling, kept in the database so that every API node sharing it sees
//! the same counts. A key is `account:<email>` or `address:<ip>`; unknown emails are
//! counted like known ones, so throttling tells nothing about which accounts exist.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::config::ThrottleSettings;
use crate::db::schema::login_throttle as lt;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::per_backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// One account guessed at from one address: locked past its limit.
    Pair,
    /// One account from anywhere: slowed down past its limit, never locked.
    Account,
    /// One address against any account: slowed down past its limit, never locked.
    Address,
}

impl Subject {
    fn limit(self, cfg: &ThrottleSettings) -> i32 {
        match self {
            Self::Pair => cfg.max_failures_per_pair,
            Self::Account => cfg.max_failures_per_account,
            Self::Address => cfg.max_failures_per_address,
        }
    }

    /// How long the key is refused after its `failures`-th failure.
    fn wait(self, cfg: &ThrottleSettings, failures: i32) -> Option<Duration> {
        let over = failures - self.limit(cfg);
        if over < 0 {
            return None;
        }
        Some(match self {
            Self::Pair => Duration::seconds(cfg.lockout_seconds),
            Self::Account | Self::Address => {
                Duration::seconds((1i64 << over.min(30)).min(cfg.max_delay_seconds.max(1)))
            }
        })
    }
}

pub fn key(subject: Subject, value: &str) -> String {
    match subject {
        Subject::Pair => format!("pair:{value}"),
        Subject::Account => format!("account:{value}"),
        Subject::Address => format!("address:{value}"),
    }
}

/// Refuses with 429 while any of the keys is locked out.
pub fn check(conn: &mut DbConn, keys: &[String], now: NaiveDateTime) -> Result<(), ApiError> {
    let locked: Option<NaiveDateTime> = lt::table
        .filter(lt::key.eq_any(keys))
        .filter(lt::locked_until.gt(now))
        .select(diesel::dsl::max(lt::locked_until))
        .first::<Option<NaiveDateTime>>(conn)?;
    match locked {
        Some(until) => {
            let secs = (until - now).num_seconds().max(1) as u64;
            Err(ApiError::TooManyRequests {
                retry_after_secs: secs,
                detail: if secs < 60 {
                    format!("too many failed sign-in attempts; try again in {secs} s")
                } else {
                    format!(
                        "too many failed sign-in attempts; try again in {} minute(s)",
                        secs.div_ceil(60)
                    )
                },
            })
        }
        None => Ok(()),
    }
}

/// Counts one failure against `key` and locks it once the limit is reached.
pub fn record_failure(
    conn: &mut DbConn,
    subject: Subject,
    key: &str,
    cfg: &ThrottleSettings,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    db::write_tx(conn, |conn| {
        // Make sure the row exists, then lock it (PostgreSQL) so concurrent failures count.
        per_backend!(&mut *conn, |c| diesel::insert_into(lt::table)
            .values((
                lt::key.eq(key),
                lt::failures.eq(0),
                lt::window_started_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        let (failures, window_started_at): (i32, NaiveDateTime) = match &mut *conn {
            DbConn::Postgres(c) => lt::table
                .find(key)
                .select((lt::failures, lt::window_started_at))
                .for_update()
                .first(c)?,
            DbConn::Sqlite(c) => lt::table
                .find(key)
                .select((lt::failures, lt::window_started_at))
                .first(c)?,
        };
        let window = Duration::seconds(cfg.window_seconds);
        let (failures, started) = if window_started_at + window <= now {
            (1, now)
        } else {
            (failures + 1, window_started_at)
        };
        let locked_until = subject.wait(cfg, failures).map(|w| now + w);
        diesel::update(lt::table.find(key))
            .set((
                lt::failures.eq(failures),
                lt::window_started_at.eq(started),
                lt::locked_until.eq(locked_until),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Forgets the failures of `key` (after a successful sign-in).
pub fn reset(conn: &mut DbConn, key: &str) -> Result<(), ApiError> {
    diesel::delete(lt::table.find(key)).execute(conn)?;
    Ok(())
}
