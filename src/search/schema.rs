//! The index schema, built in one function, and how a listing becomes a document.

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST,
    INDEXED, STORED, STRING,
};
use tantivy::TantivyDocument;

use super::analysis::{self, EN_STEM, PAIRS, VI_EXACT, VI_FOLD};
use crate::catalog::model::{json_list, Kind, ListingRow};
use crate::catalog::repo::OrgBrief;

/// Bump when the schema or the analysis changes: an index stamped with another version is
/// rebuilt from the database at start-up.
pub const SCHEMA_VERSION: u32 = 3;

/// Handles to every field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub kind: Field,
    pub title: Field,
    pub title_pairs: Field,
    pub keywords: Field,
    pub keywords_pairs: Field,
    pub summary: Field,
    pub body: Field,
    pub body_pairs: Field,
    pub exact: Field,
    pub title_en: Field,
    pub body_en: Field,
    pub field_codes: Field,
    pub priority: Field,
    pub ip_status: Field,
    pub modes: Field,
    pub org_type: Field,
    pub country: Field,
    pub language: Field,
    pub trl: Field,
    pub money_min: Field,
    pub money_max: Field,
    pub published: Field,
    pub facets: Field,
    pub card: Field,
}

fn text(tokenizer: &str, positions: bool) -> TextOptions {
    let option = if positions {
        IndexRecordOption::WithFreqsAndPositions
    } else {
        IndexRecordOption::WithFreqs
    };
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(option),
    )
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        kind: b.add_text_field("kind", STRING),
        // Positions on title and keywords for prefix completion.
        title: b.add_text_field("title", text(VI_FOLD, true)),
        title_pairs: b.add_text_field("title_pairs", text(PAIRS, false)),
        keywords: b.add_text_field("keywords", text(VI_FOLD, true)),
        keywords_pairs: b.add_text_field("keywords_pairs", text(PAIRS, false)),
        summary: b.add_text_field("summary", text(VI_FOLD, false)),
        body: b.add_text_field("body", text(VI_FOLD, false)),
        body_pairs: b.add_text_field("body_pairs", text(PAIRS, false)),
        exact: b.add_text_field("exact", text(VI_EXACT, false)),
        title_en: b.add_text_field("title_en", text(EN_STEM, false)),
        body_en: b.add_text_field("body_en", text(EN_STEM, false)),
        field_codes: b.add_text_field("field_codes", STRING),
        priority: b.add_text_field("priority", STRING),
        ip_status: b.add_text_field("ip_status", STRING),
        modes: b.add_text_field("modes", STRING),
        org_type: b.add_text_field("org_type", STRING),
        country: b.add_text_field("country", STRING),
        language: b.add_text_field("language", STRING),
        trl: b.add_u64_field("trl", INDEXED | FAST),
        money_min: b.add_i64_field("money_min", INDEXED | FAST),
        money_max: b.add_i64_field("money_max", INDEXED | FAST),
        published: b.add_i64_field("published", FAST),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        card: b.add_text_field("card", STORED),
    };
    (b.build(), fields)
}

/// What a search result shows, stored with the document so that a search never needs the
/// database. Only public information: a confidential need has no organisation here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Card {
    pub kind: Kind,
    pub id: i64,
    pub external_id: Option<String>,
    pub title: String,
    pub summary: Option<String>,
    pub keywords: Vec<String>,
    pub fields: Vec<String>,
    pub priority_areas: Vec<String>,
    pub trl: Option<i32>,
    pub ip_status: Option<String>,
    pub modes: Vec<String>,
    pub money_min: Option<i64>,
    pub money_max: Option<i64>,
    pub negotiable: Option<bool>,
    pub deadline: Option<String>,
    pub language: String,
    pub organization: Option<CardOrg>,
    pub academic_title: Option<String>,
    pub affiliation: Option<String>,
    pub country: Option<String>,
    pub availability: Option<String>,
    pub published_at: Option<String>,
    /// Text the snippet is cut from.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardOrg {
    pub id: i64,
    pub name: String,
    pub org_type: String,
    pub verified: bool,
}

/// Money bounds as indexed: an open bound is the widest value.
pub const MONEY_OPEN_MIN: i64 = 0;
pub const MONEY_OPEN_MAX: i64 = i64::MAX;

const SNIPPET_SOURCE_CHARS: usize = 1_000;

/// The card and the document of a published listing.
pub fn document(f: &Fields, row: &ListingRow, org: Option<&OrgBrief>) -> (Card, TantivyDocument) {
    let d = &row.data;
    let kind = row.kind();
    let keywords = json_list(&d.keywords);
    let codes = json_list(&d.fields);
    let areas = json_list(&d.priority_areas);
    let modes = json_list(&d.modes);
    let org = org.filter(|_| !d.confidential);
    let mut body = d.description.clone();
    for extra in [&d.applications, &d.affiliation, &d.academic_title]
        .into_iter()
        .flatten()
    {
        body.push('\n');
        body.push_str(extra);
    }
    let text: String = {
        let mut t = d.summary.clone().map(|s| s + "\n").unwrap_or_default();
        t.push_str(&d.description);
        t.chars().take(SNIPPET_SOURCE_CHARS).collect()
    };
    let card = Card {
        kind,
        id: row.id,
        external_id: row.external_id.clone(),
        title: d.title.clone(),
        summary: d.summary.clone(),
        keywords: keywords.clone(),
        fields: codes.clone(),
        priority_areas: areas.clone(),
        trl: d.trl,
        ip_status: d.ip_status.clone(),
        modes: modes.clone(),
        money_min: d.money_min,
        money_max: d.money_max,
        negotiable: d.negotiable,
        deadline: d.deadline.map(|x| x.to_string()),
        language: d.language.clone(),
        organization: org.map(|o| CardOrg {
            id: o.id,
            name: o.name.clone(),
            org_type: o.org_type.clone(),
            verified: o.verified_at.is_some(),
        }),
        academic_title: d.academic_title.clone(),
        affiliation: d.affiliation.clone(),
        country: d.country.clone(),
        availability: d.availability.clone(),
        published_at: row
            .published_at
            .map(|t| crate::accounts::model::utc(t).to_rfc3339()),
        text,
    };

    let mut doc = TantivyDocument::new();
    doc.add_u64(f.id, row.id as u64);
    doc.add_text(f.kind, kind.as_str());
    doc.add_text(f.title, &d.title);
    doc.add_text(f.title_pairs, analysis::pairs(&d.title));
    for k in &keywords {
        doc.add_text(f.keywords, k);
    }
    doc.add_text(f.keywords_pairs, analysis::pairs_of(&keywords));
    if let Some(s) = &d.summary {
        doc.add_text(f.summary, s);
    }
    doc.add_text(f.body, &body);
    doc.add_text(f.body_pairs, analysis::pairs(&body));
    let exact = format!(
        "{}\n{}\n{}",
        d.title,
        keywords.join("\n"),
        d.summary.as_deref().unwrap_or_default()
    );
    doc.add_text(f.exact, &exact);
    if d.language == "en" {
        doc.add_text(f.title_en, &d.title);
        doc.add_text(f.title_en, keywords.join("\n"));
        doc.add_text(
            f.body_en,
            format!("{}\n{body}", d.summary.as_deref().unwrap_or_default()),
        );
    }
    for code in &codes {
        // A sector code is also found under its field: "207" under "2".
        doc.add_text(f.field_codes, code);
        if code.len() > 1 {
            doc.add_text(f.field_codes, &code[..1]);
        }
        // Fields and sectors under separate roots, so one facet collector counts both.
        doc.add_facet(f.facets, Facet::from_path(["field", &code[..1]]));
        if code.len() > 1 {
            doc.add_facet(f.facets, Facet::from_path(["sector", code.as_str()]));
        }
    }
    for a in &areas {
        doc.add_text(f.priority, a);
        doc.add_facet(f.facets, Facet::from_path(["priority", a.as_str()]));
    }
    if let Some(ip) = &d.ip_status {
        doc.add_text(f.ip_status, ip);
        doc.add_facet(f.facets, Facet::from_path(["ip", ip.as_str()]));
    }
    for m in &modes {
        doc.add_text(f.modes, m);
        doc.add_facet(f.facets, Facet::from_path(["mode", m.as_str()]));
    }
    if let Some(o) = org {
        doc.add_text(f.org_type, &o.org_type);
    }
    if let Some(c) = &d.country {
        doc.add_text(f.country, c);
    }
    doc.add_text(f.language, &d.language);
    if let Some(t) = d.trl {
        doc.add_u64(f.trl, t as u64);
        doc.add_facet(f.facets, Facet::from_path(["trl", t.to_string().as_str()]));
    }
    if d.money_min.is_some() || d.money_max.is_some() {
        doc.add_i64(f.money_min, d.money_min.unwrap_or(MONEY_OPEN_MIN));
        doc.add_i64(f.money_max, d.money_max.unwrap_or(MONEY_OPEN_MAX));
    }
    doc.add_i64(
        f.published,
        row.published_at
            .unwrap_or(row.updated_at)
            .and_utc()
            .timestamp_millis(),
    );
    doc.add_facet(f.facets, Facet::from_path(["kind", kind.as_str()]));
    doc.add_text(f.card, serde_json::to_string(&card).unwrap_or_default());
    (card, doc)
}
