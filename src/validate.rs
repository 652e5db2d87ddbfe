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

/// Cleaned text of at most `max` characters as sent, with at least `min` visible ones
/// (characters that are neither white space nor invisible). Counting what was sent and
/// what shows — rather than the cleaned result — keeps the rule one that a schema can
/// state exactly: see [`schema::text`].
pub fn text(raw: &str, min: usize, max: usize) -> Result<String, String> {
    no_controls(raw)?;
    // Counted composed, as stored: "ệ" typed as e + two marks is one character.
    let n = if unicode_normalization::is_nfc_quick(raw.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        raw.chars().count()
    } else {
        raw.nfc().count()
    };
    if n > max {
        return Err(format!("must be at most {max} characters (got {n})"));
    }
    let visible = raw.chars().filter(|c| !invisible(*c)).count();
    if visible == 0 && min > 0 {
        return Err(if raw.trim().is_empty() {
            "must not be empty".into()
        } else {
            "must contain a visible character".into()
        });
    }
    if visible < min {
        return Err(format!(
            "must have at least {min} visible characters (got {visible})"
        ));
    }
    Ok(clean_text(raw))
}

/// Like [`text`] with `min` 1, but white space alone (or nothing) means "no value".
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    no_controls(raw)?;
    if raw.chars().all(char::is_whitespace) {
        return Ok(None);
    }
    text(raw, 1, max).map(Some)
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

/// The web addresses accepted: http(s), a host name, an optional port, then path, query
/// and fragment in the characters RFC 3986 allows (others percent-encoded). The parser
/// and the OpenAPI schema use this one pattern.
pub const WEB_URL_PATTERN: &str = concat!(
    r"^https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?::[0-9]{1,4})?",
    r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?",
    r"(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?",
    r"(?:#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$",
);

fn web_url_shape() -> &'static regex::Regex {
    static SHAPE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    // A constant pattern, compiled in a unit test: it cannot fail here.
    #[allow(clippy::expect_used)]
    SHAPE.get_or_init(|| regex::Regex::new(WEB_URL_PATTERN).expect("WEB_URL_PATTERN is valid"))
}

/// An absolute http(s) URL, at most 512 characters.
pub fn web_url(raw: &str) -> Result<String, String> {
    let s = clean_text(raw);
    if s.chars().count() > 512 {
        return Err("must be at most 512 characters".into());
    }
    if !web_url_shape().is_match(&s) {
        return Err(
            "must be an http:// or https:// address with a host name, other characters \
             percent-encoded (e.g. https://example.vn/cong-nghe)"
                .into(),
        );
    }
    match url::Url::parse(&s) {
        Ok(u) if u.host_str().is_some() => Ok(s),
        Ok(_) => Err("must be an http:// or https:// address".into()),
        Err(e) => Err(format!("is not a valid URL ({e})")),
    }
}

/// JSON Schemas stating exactly what the parsers above accept, for the OpenAPI document
/// (`#[schema(schema_with = …)]`): a client generating input from the schema gets it
/// accepted, and input outside it refused.
pub mod schema {
    use utoipa::openapi::schema::{
        AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
    };
    use utoipa::openapi::{KnownFormat, RefOr};

    /// Characters refused anywhere: controls other than tab, line feed and carriage return.
    const CONTROL: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";
    /// White space that is not a control (what `char::is_whitespace` adds to them).
    const SPACE: &str = r"\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    /// Characters that show nothing (besides white space); as `invisible` above.
    const INVISIBLE: &str =
        r"\u00AD\u034F\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF";
    /// What `str::trim` removes: every character with the White_Space property.
    const TRIMMED: &str =
        r"\t\n\u000B\u000C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

    fn string(pattern: String, max: usize) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(Some(pattern))
            .max_length(Some(max))
    }

    fn or_null() -> SchemaType {
        SchemaType::Array(vec![Type::String, Type::Null])
    }

    fn visible_pattern(min: usize) -> String {
        let any = format!("[^{CONTROL}]");
        let visible = format!("[^{CONTROL}{SPACE}{INVISIBLE}]");
        format!("^(?:{any}*?{visible}){{{min}}}{any}*$")
    }

    /// [`crate::validate::text`] with these bounds.
    pub fn text<const MIN: usize, const MAX: usize>() -> Schema {
        let min = MIN.max(1);
        string(visible_pattern(min), MAX)
            .min_length(Some(min))
            .into()
    }

    /// [`crate::validate::text`] with these bounds, or null (no change, no value).
    pub fn text_or_null<const MIN: usize, const MAX: usize>() -> Schema {
        let min = MIN.max(1);
        string(visible_pattern(min), MAX)
            .min_length(Some(min))
            .schema_type(or_null())
            .into()
    }

    /// White space alone (no value, of any length) or null; `space` is the class of
    /// characters that count as white space here.
    fn blank(space: &str) -> Schema {
        ObjectBuilder::new()
            .schema_type(or_null())
            .pattern(Some(format!("^[{space}]*$")))
            .into()
    }

    /// `value`, or what trimming leaves empty, or null.
    fn blank_or_value(value: Schema) -> Schema {
        AnyOfBuilder::new().item(blank(TRIMMED)).item(value).into()
    }

    /// A value matching `pattern` of at most `max` characters, white space alone (no
    /// value), or null.
    fn blank_or(pattern: &str, max: Option<usize>) -> Schema {
        let value = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(Some(format!("^(?:{pattern})$")))
            .max_length(max);
        blank_or_value(value.into())
    }

    /// [`crate::validate::optional_text`]: white space alone (of any length) is no value;
    /// null clears.
    pub fn optional_text<const MAX: usize>() -> Schema {
        // Controls are refused before the blank test, so blank is white space only.
        let value: Schema = string(visible_pattern(1), MAX).into();
        AnyOfBuilder::new().item(blank(SPACE)).item(value).into()
    }

    /// [`crate::validate::Email`].
    pub fn email() -> Schema {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(254))
            .into()
    }

    /// An optional email address: blank or null for none.
    pub fn optional_email() -> Schema {
        blank_or_value(email())
    }

    /// [`crate::validate::web_url`], blank or null for none. (The parser takes more, such
    /// as an IP address for the host; the schema states the usual form.)
    pub fn optional_web_url() -> Schema {
        let url = string(crate::validate::WEB_URL_PATTERN.into(), 512)
            .format(Some(SchemaFormat::Custom("uri".into())));
        blank_or_value(url.into())
    }

    /// A Vietnamese tax code (10 digits, or 10, a dash and 3), blank or null for none.
    pub fn optional_tax_code() -> Schema {
        let digit = format!("[0-9][{TRIMMED}]*");
        blank_or(
            &format!("[{TRIMMED}]*(?:{digit}){{10}}(?:-[{TRIMMED}]*(?:{digit}){{3}})?"),
            None,
        )
    }

    /// A phone number: 6 to 15 digits with spaces, `+`, `-`, dots and brackets; blank or
    /// null for none.
    pub fn optional_phone() -> Schema {
        let sep = r"[ +\-.()]";
        blank_or(
            &format!("[{TRIMMED}]*{sep}*(?:[0-9]{sep}*){{6,15}}[{TRIMMED}]*"),
            Some(32),
        )
    }

    /// An ISO date (YYYY-MM-DD), blank or null for none.
    pub fn optional_date() -> Schema {
        blank_or(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", None)
    }

    /// A list of `item`s with these bounds on its length; `nullable` for "null: none".
    pub fn list(item: Schema, min: Option<usize>, max: Option<usize>, nullable: bool) -> Schema {
        let kind = if nullable {
            SchemaType::Array(vec![Type::Array, Type::Null])
        } else {
            SchemaType::Type(Type::Array)
        };
        ArrayBuilder::new()
            .schema_type(kind)
            .items(RefOr::T(item))
            .min_items(min)
            .max_items(max)
            .into()
    }

    /// A two-letter ISO 639-1 language code, either case, surrounding white space allowed.
    pub fn language_code() -> Schema {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(Some(format!("^[{TRIMMED}]*[A-Za-z]{{2}}[{TRIMMED}]*$")))
            .into()
    }

    /// One of `values`, spelt exactly.
    pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Schema {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(values.into_iter().map(str::to_owned)))
            .into()
    }

    /// One of `values`, or null.
    pub fn one_of_or_null<'a>(values: impl IntoIterator<Item = &'a str>) -> Schema {
        ObjectBuilder::new()
            .schema_type(or_null())
            .enum_values(Some(values.into_iter().map(Some).chain([None])))
            .into()
    }

    /// A filter parameter: one of `values`, or empty for no filter.
    pub fn filter<'a>(values: impl IntoIterator<Item = &'a str>) -> Schema {
        one_of(values.into_iter().chain([""]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls() {
        assert!(web_url("https://iet.example.vn/cong-nghe?id=3#top").is_ok());
        assert!(web_url(" http://a.vn:8080 ").is_ok());
        assert!(web_url("https://a.vn/x<y").is_err());
        assert!(web_url("https://a.vn/#a#b").is_err());
        assert!(web_url("ftp://a.vn").is_err());
        assert!(web_url("https://1.2.3.4.5").is_err());
    }

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
