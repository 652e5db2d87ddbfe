//! The content of each kind of listing in the words of the interchange format (which the
//! API speaks too): parsing and validation into stored columns, and back.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

pub use super::fields::{
    known_keys, required_keys, ExpertFields, NeedFields, TechnologyFields, DESCRIPTION_MAX,
    KEYWORDS_MAX, KEYWORD_MAX_CHARS, LONG_TEXT_MAX, MONEY_MAX, SUMMARY_MAX, TITLE_MAX, TITLE_MIN,
};
use super::model::{JsonList, Kind, ListingData};
use crate::accounts::model::Locale;
use crate::http::error::{FieldError, Violations};
use crate::taxonomy;
use crate::validate::{text, Email};

/// Content of any kind.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Content {
    Technology(TechnologyFields),
    Need(NeedFields),
    Expert(ExpertFields),
}

/// What validation needs besides the fields.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub today: NaiveDate,
    /// The deadline already stored: keeping it is allowed even once it has passed.
    pub previous_deadline: Option<NaiveDate>,
}

impl Content {
    /// Parses a JSON object of this kind's fields; type errors name the field.
    pub fn from_json(kind: Kind, value: serde_json::Value) -> Result<Self, Vec<FieldError>> {
        fn parse<T: serde::de::DeserializeOwned>(
            v: serde_json::Value,
        ) -> Result<T, Vec<FieldError>> {
            serde_path_to_error::deserialize(v).map_err(|e| {
                let field = e.path().to_string();
                let message = e.into_inner().to_string();
                vec![FieldError::new(
                    if field == "." {
                        "body".to_owned()
                    } else {
                        field
                    },
                    message,
                )]
            })
        }
        Ok(match kind {
            Kind::Technology => Self::Technology(parse(value)?),
            Kind::Need => Self::Need(parse(value)?),
            Kind::Expert => Self::Expert(parse(value)?),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Self::Technology(_) => Kind::Technology,
            Self::Need(_) => Kind::Need,
            Self::Expert(_) => Kind::Expert,
        }
    }

    /// Validates and normalises (NFC, trimmed, codes checked) into the stored columns.
    pub fn validate(self, ctx: Context) -> Result<ListingData, Vec<FieldError>> {
        let mut v = Violations::new();
        let data = match self {
            Self::Technology(f) => technology(&mut v, f),
            Self::Need(f) => need(&mut v, f, ctx),
            Self::Expert(f) => expert(&mut v, f),
        };
        match v.finish() {
            Ok(()) => Ok(data),
            Err(crate::http::error::ApiError::Validation(errors)) => Err(errors),
            Err(_) => Err(vec![]),
        }
    }

    /// Back from stored columns. `contact` includes an expert's email and phone.
    pub fn from_data(kind: Kind, d: &ListingData, contact: bool) -> Self {
        let list = |l: &JsonList| Some(l.to_vec());
        match kind {
            Kind::Technology => Self::Technology(TechnologyFields {
                language: Some(d.language.as_str().to_owned()),
                title: Some(d.title.clone()),
                summary: d.summary.clone(),
                description: Some(d.description.clone()),
                field: d.fields.first().cloned(),
                priority_areas: list(&d.priority_areas),
                keywords: list(&d.keywords),
                trl: d.trl.map(i64::from),
                ip_status: d.ip_status.clone(),
                transfer_modes: list(&d.modes),
                price_vnd_min: d.money_min,
                price_vnd_max: d.money_max,
                negotiable: d.negotiable,
                applications: d.applications.clone(),
            }),
            Kind::Need => Self::Need(NeedFields {
                language: Some(d.language.as_str().to_owned()),
                title: Some(d.title.clone()),
                description: Some(d.description.clone()),
                field: d.fields.first().cloned(),
                priority_areas: list(&d.priority_areas),
                keywords: list(&d.keywords),
                trl_min: d.trl.map(i64::from),
                budget_vnd_min: d.money_min,
                budget_vnd_max: d.money_max,
                deadline: d.deadline.map(|x| x.format("%Y-%m-%d").to_string()),
                collaboration_types: list(&d.modes),
                confidential: Some(d.confidential),
            }),
            Kind::Expert => Self::Expert(ExpertFields {
                full_name: Some(d.title.clone()),
                academic_title: d.academic_title.clone(),
                affiliation: d.affiliation.clone(),
                country: d.country.clone(),
                fields: list(&d.fields),
                expertise: list(&d.keywords),
                languages: d.languages.as_ref().map(|l| l.to_vec()),
                bio: Some(d.description.clone()).filter(|b| !b.is_empty()),
                email: if contact {
                    d.contact_email.clone()
                } else {
                    None
                },
                phone: if contact {
                    d.contact_phone.clone()
                } else {
                    None
                },
                availability: d.availability.clone(),
                language: None,
            }),
        }
    }
}

fn empty(language: Locale, title: String, description: String) -> ListingData {
    ListingData {
        language,
        title,
        summary: None,
        description,
        fields: JsonList::default(),
        priority_areas: JsonList::default(),
        keywords: JsonList::default(),
        modes: JsonList::default(),
        trl: None,
        money_min: None,
        money_max: None,
        ip_status: None,
        negotiable: None,
        applications: None,
        deadline: None,
        confidential: false,
        academic_title: None,
        affiliation: None,
        country: None,
        languages: None,
        contact_email: None,
        contact_phone: None,
        availability: None,
    }
}

fn language(v: &mut Violations, raw: Option<String>) -> Locale {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Locale::Vi,
        Some(other) => Locale::parse(other).unwrap_or_else(|_| {
            // Refused (the request fails with this field); the value is never stored.
            v.add(
                "language",
                format!("`{other}` is not a supported language (vi, en)"),
            );
            Locale::Vi
        }),
    }
}

fn required_text(
    v: &mut Violations,
    field: &str,
    raw: Option<String>,
    min: usize,
    max: usize,
) -> String {
    v.required(field, raw, |s| text(&s, min, max))
        .unwrap_or_default()
}

fn optional_text(
    v: &mut Violations,
    field: &str,
    raw: Option<String>,
    max: usize,
) -> Option<String> {
    v.optional(field, raw, |s| crate::validate::optional_text(&s, max))
        .flatten()
        .flatten()
}

/// Keywords: at most 10, each with a visible character and at most 60 characters as
/// sent; cleaned, and duplicates (ignoring case) dropped.
fn keywords(v: &mut Violations, field: &str, raw: Option<Vec<String>>) -> Vec<String> {
    let raw = raw.unwrap_or_default();
    if raw.len() > KEYWORDS_MAX {
        v.add(
            field,
            format!("at most {KEYWORDS_MAX} items (got {})", raw.len()),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for (i, k) in raw.into_iter().enumerate() {
        match text(&k, 1, KEYWORD_MAX_CHARS) {
            Ok(k) => {
                if !out.iter().any(|o| o.to_lowercase() == k.to_lowercase()) {
                    out.push(k);
                }
            }
            Err(m) => v.add(format!("{field}[{i}]"), m),
        }
    }
    out
}

fn codes(
    v: &mut Violations,
    field: &str,
    raw: Option<Vec<String>>,
    parse: fn(&str) -> Result<&'static str, String>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, c) in raw.unwrap_or_default().iter().enumerate() {
        match parse(c.trim()) {
            Ok(code) if !out.iter().any(|o| o == code) => out.push(code.to_owned()),
            Ok(_) => {}
            Err(m) => v.add(format!("{field}[{i}]"), m),
        }
    }
    out
}

fn field_code(raw: &str) -> Result<String, String> {
    let code = raw.trim();
    if taxonomy::is_field_code(code) {
        Ok(code.to_owned())
    } else {
        Err(format!(
            "`{code}` is not a field of S&T: use a code from /api/v1/taxonomy/fields (e.g. 207)"
        ))
    }
}

fn trl(v: &mut Violations, field: &str, raw: Option<i64>, required: bool) -> Option<i32> {
    match raw {
        None if required => {
            v.add(field, "is required");
            None
        }
        None => None,
        Some(n @ 1..=9) => Some(n as i32),
        Some(n) => {
            v.add(
                field,
                format!("must be a readiness level from 1 to 9 (got {n})"),
            );
            None
        }
    }
}

fn money(
    v: &mut Violations,
    (fmin, min): (&str, Option<i64>),
    (fmax, max): (&str, Option<i64>),
) -> (Option<i64>, Option<i64>) {
    let mut check = |field: &str, x: Option<i64>| match x {
        Some(n) if !(0..=MONEY_MAX).contains(&n) => {
            v.add(
                field,
                format!("must be a whole number of đồng from 0 to {MONEY_MAX}"),
            );
            None
        }
        other => other,
    };
    let (min, max) = (check(fmin, min), check(fmax, max));
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            v.add(fmax, format!("must not be less than {fmin} ({a})"));
        }
    }
    (min, max)
}

fn technology(v: &mut Violations, f: TechnologyFields) -> ListingData {
    let language = language(v, f.language);
    let title = required_text(v, "title", f.title, TITLE_MIN, TITLE_MAX);
    let description = required_text(v, "description", f.description, 1, DESCRIPTION_MAX);
    let mut d = empty(language, title, description);
    d.summary = optional_text(v, "summary", f.summary, SUMMARY_MAX);
    d.fields = JsonList(
        v.required("field", f.field, |s| field_code(&s))
            .into_iter()
            .collect::<Vec<_>>(),
    );
    d.priority_areas = JsonList(codes(
        v,
        "priority_areas",
        f.priority_areas,
        taxonomy::priority_area,
    ));
    d.keywords = JsonList(keywords(v, "keywords", f.keywords));
    d.trl = trl(v, "trl", f.trl, true);
    d.ip_status = Some(
        v.optional("ip_status", f.ip_status, |s| {
            taxonomy::ip_status(s.trim()).map(str::to_owned)
        })
        .flatten()
        .unwrap_or_else(|| "none".into()),
    );
    d.modes = JsonList(codes(
        v,
        "transfer_modes",
        f.transfer_modes,
        taxonomy::transfer_mode,
    ));
    (d.money_min, d.money_max) = money(
        v,
        ("price_vnd_min", f.price_vnd_min),
        ("price_vnd_max", f.price_vnd_max),
    );
    d.negotiable = Some(
        f.negotiable
            .unwrap_or(d.money_min.is_none() && d.money_max.is_none()),
    );
    d.applications = optional_text(v, "applications", f.applications, LONG_TEXT_MAX);
    d
}

fn need(v: &mut Violations, f: NeedFields, ctx: Context) -> ListingData {
    let language = language(v, f.language);
    let title = required_text(v, "title", f.title, TITLE_MIN, TITLE_MAX);
    let description = required_text(v, "description", f.description, 1, DESCRIPTION_MAX);
    let mut d = empty(language, title, description);
    d.fields = JsonList(
        v.required("field", f.field, |s| field_code(&s))
            .into_iter()
            .collect::<Vec<_>>(),
    );
    d.priority_areas = JsonList(codes(
        v,
        "priority_areas",
        f.priority_areas,
        taxonomy::priority_area,
    ));
    d.keywords = JsonList(keywords(v, "keywords", f.keywords));
    d.trl = trl(v, "trl_min", f.trl_min, false);
    (d.money_min, d.money_max) = money(
        v,
        ("budget_vnd_min", f.budget_vnd_min),
        ("budget_vnd_max", f.budget_vnd_max),
    );
    d.deadline = v
        .optional(
            "deadline",
            f.deadline.filter(|s| !s.trim().is_empty()),
            |s| {
                let date = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("`{s}` is not an ISO date (YYYY-MM-DD)"))?;
                if date < ctx.today && Some(date) != ctx.previous_deadline {
                    return Err(format!("must not be in the past (today is {})", ctx.today));
                }
                Ok(date)
            },
        )
        .flatten();
    d.modes = JsonList(codes(
        v,
        "collaboration_types",
        f.collaboration_types,
        taxonomy::transfer_mode,
    ));
    d.confidential = f.confidential.unwrap_or(false);
    d
}

/// Vietnamese letters outside ASCII: enough to tell a Vietnamese biography from an English one.
fn looks_vietnamese(s: &str) -> bool {
    s.chars().any(|c| {
        "ăâđêôơưĂÂĐÊÔƠƯáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ".contains(c)
    })
}

fn phone(raw: &str) -> Result<String, String> {
    if raw.chars().count() > 32 {
        return Err("must be at most 32 characters".into());
    }
    let s = raw.trim();
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let allowed = s
        .chars()
        .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if allowed && (6..=15).contains(&digits) {
        Ok(s.to_owned())
    } else {
        Err(
            "must be a phone number of 6 to 15 digits (spaces, +, -, dots and brackets allowed)"
                .into(),
        )
    }
}

fn language_codes(v: &mut Violations, raw: Option<Vec<String>>) -> Option<JsonList> {
    let raw = raw?;
    if raw.len() > 10 {
        v.add("languages", "at most 10 languages");
    }
    let mut out: Vec<String> = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let c = c.trim().to_ascii_lowercase();
        if c.len() == 2 && c.chars().all(|x| x.is_ascii_lowercase()) {
            if !out.contains(&c) {
                out.push(c);
            }
        } else {
            v.add(
                format!("languages[{i}]"),
                format!("`{c}` is not an ISO 639-1 language code"),
            );
        }
    }
    Some(JsonList(out))
}

fn expert(v: &mut Violations, f: ExpertFields) -> ListingData {
    let name = required_text(v, "full_name", f.full_name, 2, 200);
    let bio = optional_text(v, "bio", f.bio, LONG_TEXT_MAX).unwrap_or_default();
    let lang = match f.language {
        Some(l) => language(v, Some(l)),
        None if bio.is_empty() || looks_vietnamese(&bio) => Locale::Vi,
        None => Locale::En,
    };
    let mut d = empty(lang, name, bio);
    d.academic_title = optional_text(v, "academic_title", f.academic_title, 32);
    d.affiliation = optional_text(v, "affiliation", f.affiliation, 256);
    d.country = Some(
        v.optional("country", f.country, |s| taxonomy::country(&s))
            .flatten()
            .unwrap_or_else(|| "VN".into()),
    );
    let fields = match f.fields {
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for (i, c) in list.iter().enumerate() {
                match field_code(c) {
                    Ok(code) if !out.contains(&code) => out.push(code),
                    Ok(_) => {}
                    Err(m) => v.add(format!("fields[{i}]"), m),
                }
            }
            if out.is_empty() && list.is_empty() {
                v.add("fields", "at least one field of S&T is required");
            }
            out
        }
        None => {
            v.add("fields", "is required");
            Vec::new()
        }
    };
    d.fields = JsonList(fields);
    d.keywords = JsonList(keywords(v, "expertise", f.expertise));
    d.languages = language_codes(v, f.languages);
    d.contact_email = v
        .optional("email", f.email.filter(|s| !s.trim().is_empty()), |s| {
            Email::parse(&s).map(Email::into_inner)
        })
        .flatten();
    d.contact_phone = v
        .optional("phone", f.phone.filter(|s| !s.trim().is_empty()), |s| {
            phone(&s)
        })
        .flatten();
    d.availability = Some(
        v.optional("availability", f.availability, |s| {
            taxonomy::availability(s.trim()).map(str::to_owned)
        })
        .flatten()
        .unwrap_or_else(|| "consulting".into()),
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context {
            today: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            previous_deadline: None,
        }
    }

    fn fields_of(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_good_technology() {
        let c = Content::from_json(
            Kind::Technology,
            json!({"title": " Xu\u{0323}̛ lý nước thải dệt nhuộm ", "description": "MBR + ozone",
                   "field": "207", "priority_areas": ["environment", "environment"],
                   "keywords": ["xử lý nước thải", "Xử lý nước thải", "màng lọc"], "trl": 7,
                   "transfer_modes": ["license"], "price_vnd_min": 500000000}),
        )
        .unwrap();
        let d = c.validate(ctx()).unwrap();
        assert_eq!(d.language, Locale::Vi);
        assert_eq!(*d.fields, ["207"]);
        assert_eq!(*d.priority_areas, ["environment"]);
        assert_eq!(*d.keywords, ["xử lý nước thải", "màng lọc"]);
        assert_eq!(d.ip_status.as_deref(), Some("none"));
        assert_eq!(d.negotiable, Some(false));
        assert_eq!(d.trl, Some(7));
    }

    #[test]
    fn every_bad_technology_field_is_named() {
        let c = Content::from_json(
            Kind::Technology,
            json!({"title": "Abc", "field": "999", "priority_areas": ["energy"], "trl": 10,
                   "ip_status": "secret", "transfer_modes": ["gift"], "keywords": ["x".repeat(61)],
                   "summary": "s".repeat(501), "price_vnd_min": 5, "price_vnd_max": 1,
                   "language": "fr"}),
        )
        .unwrap();
        let errors = c.validate(ctx()).unwrap_err();
        let mut f = fields_of(&errors);
        f.sort();
        assert_eq!(
            f,
            vec![
                "description",
                "field",
                "ip_status",
                "keywords[0]",
                "language",
                "price_vnd_max",
                "priority_areas[0]",
                "summary",
                "title",
                "transfer_modes[0]",
                "trl"
            ]
        );
        let too_many: Vec<String> = (0..11).map(|i| format!("từ khóa {i}")).collect();
        let c = Content::from_json(
            Kind::Technology,
            json!({"title": "Tiêu đề hợp lệ", "description": "d", "field": "2", "trl": 3,
                   "keywords": too_many}),
        )
        .unwrap();
        assert_eq!(fields_of(&c.validate(ctx()).unwrap_err()), vec!["keywords"]);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = Content::from_json(Kind::Technology, json!({"trl": "seven"})).unwrap_err();
        assert_eq!(fields_of(&e), vec!["trl"]);
        let e = Content::from_json(Kind::Need, json!({"keywords": "one"})).unwrap_err();
        assert_eq!(fields_of(&e), vec!["keywords"]);
    }

    #[test]
    fn need_deadlines() {
        let need = |deadline: &str| {
            Content::from_json(
                Kind::Need,
                json!({"title": "Cần công nghệ xử lý", "description": "d", "field": "207",
                       "deadline": deadline}),
            )
            .unwrap()
        };
        assert!(need("2027-06-30").validate(ctx()).is_ok());
        let e = need("2020-01-01").validate(ctx()).unwrap_err();
        assert!(e[0].message.contains("past"));
        assert!(need("30/06/2027").validate(ctx()).is_err());
        // An already stored deadline may stay when other fields change.
        let keep = Context {
            previous_deadline: NaiveDate::from_ymd_opt(2020, 1, 1),
            ..ctx()
        };
        assert!(need("2020-01-01").validate(keep).is_ok());
    }

    #[test]
    fn experts() {
        let c = Content::from_json(
            Kind::Expert,
            json!({"full_name": "Nguyễn Thị Thu Hằng", "academic_title": "PGS.TS.",
                   "country": "jp", "fields": ["207", "205"], "expertise": ["màng lọc"],
                   "languages": ["vi", "EN"], "bio": "Over 20 years of membrane research.",
                   "email": "Hang@Example.jp", "phone": "+81 3-1234-5678"}),
        )
        .unwrap();
        let d = c.validate(ctx()).unwrap();
        assert_eq!(d.country.as_deref(), Some("JP"));
        assert_eq!(d.language, Locale::En);
        assert_eq!(d.contact_email.as_deref(), Some("hang@example.jp"));
        assert_eq!(
            d.languages.as_deref(),
            Some(&["vi".to_owned(), "en".to_owned()][..])
        );
        assert_eq!(d.availability.as_deref(), Some("consulting"));
        let public = Content::from_data(Kind::Expert, &d, false);
        let json = serde_json::to_value(&public).unwrap();
        assert!(json.get("email").is_none() && json.get("phone").is_none());
        let c = Content::from_json(
            Kind::Expert,
            json!({"full_name": "A", "phone": "abc", "country": "ZZ"}),
        )
        .unwrap();
        let mut f = fields_of(&c.validate(ctx()).unwrap_err())
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        f.sort();
        assert_eq!(f, vec!["country", "fields", "full_name", "phone"]);
    }

    #[test]
    fn round_trip_through_stored_columns() {
        let original = json!({"language": "en", "title": "Low-cost PM2.5 sensor network",
            "summary": "IoT stations", "description": "LoRaWAN stations.", "field": "207",
            "priority_areas": ["environment", "ict"], "keywords": ["pm2.5", "iot"], "trl": 6,
            "ip_status": "patent_pending", "transfer_modes": ["license", "consulting"],
            "price_vnd_min": 100, "price_vnd_max": 200, "negotiable": true,
            "applications": "Cities"});
        let d = Content::from_json(Kind::Technology, original.clone())
            .unwrap()
            .validate(ctx())
            .unwrap();
        let back = serde_json::to_value(Content::from_data(Kind::Technology, &d, true)).unwrap();
        assert_eq!(back, original);
    }
}
