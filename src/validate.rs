//! Parsing of user input into domain values, shared by every area.

use unicode_normalization::UnicodeNormalization;

/// Text as stored: Unicode NFC (so "ệ" typed decomposed equals "ệ" typed composed), trimmed,
/// control characters other than line breaks and tabs removed.
pub fn clean_text(raw: &str) -> String {
    let keep = |c: &char| !c.is_control() || matches!(c, '\n' | '\t');
    // Composed text (nearly all of it) skips the decomposition and recomposition.
    let out: String = if unicode_normalization::is_nfc_quick(raw.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        raw.chars().filter(keep).collect()
    } else {
        raw.nfc().filter(keep).collect()
    };
    out.trim().to_owned()
}

/// Characters that show nothing: zero-width spaces and joiners, direction marks and
/// embeddings, the byte-order mark, the soft hyphen.
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Control characters (other than line breaks and tabs) are refused, not silently
/// dropped: they are never meant, and a client should learn that it sent them.
fn no_controls(raw: &str) -> Result<(), String> {
    match raw
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        Some(c) => Err(format!(
            "must not contain control characters (found U+{:04X})",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

/// Cleaned text whose length in characters lies in `min..=max`, with at least one visible
/// character when not empty.
pub fn text(raw: &str, min: usize, max: usize) -> Result<String, String> {
    no_controls(raw)?;
    let s = clean_text(raw);
    let n = s.chars().count();
    if n == 0 && min > 0 {
        return Err("must not be empty".into());
    }
    if n > 0 && s.chars().all(invisible) {
        return Err("must contain a visible character".into());
    }
    if n < min {
        return Err(format!("must be at least {min} characters (got {n})"));
    }
    if n > max {
        return Err(format!("must be at most {max} characters (got {n})"));
    }
    Ok(s)
}

/// Like [`text`] but an empty string after cleaning means "no value".
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    no_controls(raw)?;
    let s = clean_text(raw);
    if s.is_empty() {
        return Ok(None);
    }
    text(&s, 1, max).map(Some)
}

/// An email address, lower-cased so that addresses compare as people expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = clean_text(raw).to_lowercase();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.chars().count() > 254 {
            return Err("is longer than 254 characters".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("is not an email address (no @)".into());
        };
        let bad = || Err(format!("`{s}` is not a valid email address"));
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return bad();
        }
        if s.chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"'))
        {
            return bad();
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return bad();
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return bad();
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An absolute http(s) URL, at most 512 characters.
pub fn web_url(raw: &str) -> Result<String, String> {
    let s = clean_text(raw);
    if s.chars().count() > 512 {
        return Err("must be at most 512 characters".into());
    }
    match url::Url::parse(&s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(s),
        Ok(_) => Err("must be an http:// or https:// address".into()),
        Err(e) => Err(format!("is not a valid URL ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_invisible_text_are_refused_not_stripped() {
        assert!(text("Màng\u{0}lọc", 1, 100).unwrap_err().contains("U+0000"));
        assert!(optional_text("a\u{7}", 100).unwrap_err().contains("U+0007"));
        assert_eq!(
            text("dòng 1\ndòng 2\tcột", 1, 100).unwrap(),
            "dòng 1\ndòng 2\tcột"
        );
        assert!(text("\u{200B}\u{200B}\u{FEFF}", 1, 100)
            .unwrap_err()
            .contains("visible"));
        assert!(optional_text("\u{200D}", 100).is_err());
        assert_eq!(optional_text("   ", 100).unwrap(), None);
        assert_eq!(
            text("\u{200B}Cảm biến", 1, 100).unwrap(),
            "\u{200B}Cảm biến"
        );
    }

    #[test]
    fn text_is_nfc_and_trimmed() {
        // "Hà Nội" with combining marks (NFD) becomes the composed form.
        let decomposed = "  Ha\u{0300} N\u{00f4}\u{0323}i \u{0007} ";
        assert_eq!(clean_text(decomposed), "Hà Nội");
        assert_eq!(text("  ab ", 2, 5).unwrap(), "ab");
        assert!(text("a", 2, 5).is_err());
        assert!(text("abcdef", 2, 5).is_err());
        assert!(text("   ", 1, 5).unwrap_err().contains("empty"));
        // Length counts characters, not bytes.
        assert!(text("Đường", 5, 5).is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Lan.Nguyen@Example.VN ").unwrap().as_str(),
            "lan.nguyen@example.vn"
        );
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.vn",
            "a@@example.vn",
            "a b@example.vn",
            "a@-x.vn",
            "a..b@x.vn",
            "<a@x.vn>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(Email::parse("a+tag@sub.example.com").is_ok());
    }

    #[test]
    fn urls() {
        assert!(web_url("https://iet.vast.vn").is_ok());
        assert!(web_url("ftp://x.vn").is_err());
        assert!(web_url("not a url").is_err());
        assert!(web_url("javascript:alert(1)").is_err());
    }
}
