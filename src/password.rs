//! Password policy and Argon2id hashing. Hashing is CPU-heavy: callers run it on the
//! blocking pool, never on an async thread.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};

use crate::config::Argon2Settings;

const COMMON: &str = include_str!("accounts/common_passwords.txt");
const MAX_PASSWORD_CHARS: usize = 256;

fn common_passwords() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

/// Checks a new password: length, the list of common passwords, trivial patterns, and
/// the account's own email address.
pub fn check_policy(password: &str, min_chars: usize, email: Option<&str>) -> Result<(), String> {
    let n = password.chars().count();
    if n < min_chars {
        return Err(format!("must be at least {min_chars} characters (got {n})"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    let lower = password.to_lowercase();
    if common_passwords().contains(&lower) {
        return Err("is too common: choose a less predictable password".into());
    }
    let distinct: HashSet<char> = lower.chars().collect();
    if distinct.len() < 4 {
        return Err("uses too few different characters".into());
    }
    if is_sequence(&lower) {
        return Err("is a plain sequence of characters".into());
    }
    if let Some(email) = email {
        let local = email.split('@').next().unwrap_or_default();
        if lower == email || (local.chars().count() >= 4 && lower.contains(local)) {
            return Err("must not contain your email address".into());
        }
    }
    Ok(())
}

/// "abcdefghij", "9876543210": every step +1 or every step −1.
fn is_sequence(s: &str) -> bool {
    let codes: Vec<i64> = s.chars().map(|c| c as i64).collect();
    if codes.len() < 3 {
        return false;
    }
    let steps: Vec<i64> = codes.windows(2).map(|w| w[1] - w[0]).collect();
    steps.iter().all(|&d| d == 1) || steps.iter().all(|&d| d == -1)
}

/// Hashes and verifies with the configured Argon2id cost. Holds a hash of a random password
/// so that a sign-in for an unknown email costs the same as one for a known email.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    dummy_hash: String,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .finish()
    }
}

impl Hasher {
    pub fn new(cfg: &Argon2Settings) -> Result<Self, String> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| format!("auth.argon2: {e}"))?;
        let mut hasher = Self {
            params,
            dummy_hash: String::new(),
        };
        let mut random = [0u8; 24];
        OsRng.fill_bytes(&mut random);
        hasher.dummy_hash = hasher.hash(&hex::encode(random))?;
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, String> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| format!("argon2: {e}"))
    }

    /// Verifies against a stored hash, or against the dummy hash when there is none, so
    /// both paths do the same work. Parameters are read from the stored hash itself.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let (target, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let ok = match PasswordHash::new(target) {
            Ok(parsed) => self
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        };
        ok && real
    }

    /// True when a stored hash was made with other parameters than the configured ones,
    /// so it should be re-hashed after the next successful sign-in.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        match PasswordHash::new(stored).and_then(|h| Params::try_from(&h)) {
            Ok(p) => {
                p.m_cost() != self.params.m_cost()
                    || p.t_cost() != self.params.t_cost()
                    || p.p_cost() != self.params.p_cost()
            }
            Err(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        Hasher::new(&Argon2Settings {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", 10, None)
            .unwrap_err()
            .contains("at least 10"));
        assert!(check_policy("Password123", 10, None)
            .unwrap_err()
            .contains("common"));
        assert!(check_policy("matkhau123", 10, None).is_err());
        assert!(check_policy("aaaaaaaaaaab", 10, None)
            .unwrap_err()
            .contains("different"));
        assert!(check_policy("abcdefghijklm", 10, None)
            .unwrap_err()
            .contains("sequence"));
        assert!(
            check_policy("lan.nguyen-2026!", 10, Some("lan.nguyen@example.vn"))
                .unwrap_err()
                .contains("email")
        );
        assert!(check_policy("cà phê sữa đá buổi sáng", 10, None).is_ok());
        assert!(check_policy("ngọc-lan-42-hồ-tây", 10, Some("lan@example.vn")).is_ok());
    }

    #[test]
    fn hash_and_verify() {
        let h = cheap();
        let stored = h.hash("cà phê sữa đá").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("cà phê sữa đá", Some(&stored)));
        assert!(!h.verify("ca phe sua da", Some(&stored)));
        // Unknown account: never true, even for the dummy's own password.
        assert!(!h.verify("anything", None));
        assert!(!h.needs_rehash(&stored));
        let stronger = Hasher::new(&Argon2Settings {
            memory_kib: 512,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        assert!(stronger.needs_rehash(&stored));
    }
}
