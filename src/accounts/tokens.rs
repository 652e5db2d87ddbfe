//! Bearer and one-time tokens: how they are made and stored, and the blocking pool the
//! password work runs on. A leaf of `accounts`: the services build on it.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;

/// Runs CPU-heavy work (Argon2) on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))
}

/// Stored form of a bearer token: its SHA-256. The token itself is never stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn new_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
