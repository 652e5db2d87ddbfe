//! The index schema, built in one function, and how a listing becomes a document.

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::TantivyDocument;

use super::analysis::{self, PAIRS, VI_EXACT, VI_FOLD};
use super::{facets, glossary};
use crate::accounts::model::Locale;
use crate::catalog::model::{Kind, ListingRow};
use crate::organizations::repo::OrgBrief;

/// Bump when the schema or the analysis changes: an index stamped with another version is
/// rebuilt from the database at start-up.
pub const SCHEMA_VERSION: u32 = 7;

/// Handles to every field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub kind: Field,
    pub title: Field,
    pub keywords: Field,
    pub summary: Field,
    /// An expert's name, for completion only (an expert's title is a name, kept out of
    /// `title` so that it weighs nothing in ranking).
    pub name: Field,
    /// Every word of the listing (title, keywords, summary, description and the rest): one
    /// posting list per word, so that requiring each query word is an intersection of term
    /// lists rather than of unions over fields. The fields above add their weights on top.
    pub all: Field,
    /// Adjacent syllables (`nuoc_thai`) of the title, keywords and text, the title's and
    /// the keywords' repeated as in `all`.
    pub pairs: Field,
    pub exact: Field,
    /// The glossary concepts the listing names, in either language (`g123`, see
    /// [`super::glossary`]), the title's and keywords' repeated as in `all`: how an
    /// English query finds a Vietnamese listing and a synonym finds the listing's word.
    pub concepts: Field,
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
    /// Each document's facet values as bits (see [`super::facets`]).
    pub facet_bits: [Field; 2],
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
        keywords: b.add_text_field("keywords", text(VI_FOLD, true)),
        summary: b.add_text_field("summary", text(VI_FOLD, false)),
        name: b.add_text_field("name", text(VI_FOLD, true)),
        all: b.add_text_field("all", text(VI_FOLD, false)),
        pairs: b.add_text_field("pairs", text(PAIRS, false)),
        exact: b.add_text_field("exact", text(VI_EXACT, false)),
        concepts: b.add_text_field("concepts", text(PAIRS, false)),
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
        facet_bits: [
            b.add_u64_field(facets::BITS[0], FAST),
            b.add_u64_field(facets::BITS[1], FAST),
        ],
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
/// How much of the description is scanned for glossary concepts.
const CONCEPT_BODY_CHARS: usize = 600;
/// Times the title and the keywords are written into `all`. A search ranks its matches on
/// `all` first and adds the per-field weights only to the best few hundred
/// (`query::RERANK_WINDOW`); repeating the title and the keywords (3 : 2 : 1, as
/// `W_TITLE : W_KEYWORDS : W_BODY`) makes that first ranking lean the way the final one
/// does, so that the two agree on 97–98 % of the top 10 at 100 000 listings (BENCHMARKS.md).
const ALL_TITLE_REPEAT: usize = 3;
const ALL_KEYWORDS_REPEAT: usize = 2;

/// The card and the document of a published listing.
pub fn document(f: &Fields, row: &ListingRow, org: Option<&OrgBrief>) -> (Card, TantivyDocument) {
    let d = &row.data;
    let kind = row.kind();
    let keywords = d.keywords.to_vec();
    let codes = d.fields.to_vec();
    let areas = d.priority_areas.to_vec();
    let modes = d.modes.to_vec();
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
        language: d.language.as_str().to_owned(),
        organization: org.map(|o| CardOrg {
            id: o.id,
            name: o.name.clone(),
            org_type: o.org_type.as_str().to_owned(),
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
    // English listings carry the stems of their words too (see `analysis::with_stems`).
    let grown = |t: &str| -> String {
        if d.language == Locale::En {
            analysis::with_stems(t)
        } else {
            t.to_owned()
        }
    };
    let title = grown(&d.title);
    let keyword_texts: Vec<String> = keywords.iter().map(|k| grown(k)).collect();
    let summary = d.summary.as_deref().map(grown);
    let body_text = grown(&body);
    // An expert's title is a name: found when searched for, but no clue to what the expert
    // does (`Thủy` is not `thủy sản`, `Lâm` not `lâm nghiệp`), so it is written once and
    // weighs nothing more, and it names no concepts.
    let is_name = kind == Kind::Expert;
    let title_repeat = if is_name { 1 } else { ALL_TITLE_REPEAT };
    if is_name {
        doc.add_text(f.name, &title);
    } else {
        doc.add_text(f.title, &title);
    }
    for k in &keyword_texts {
        doc.add_text(f.keywords, k);
    }
    if let Some(s) = &summary {
        doc.add_text(f.summary, s);
    }
    // Everything in one field, title and keywords repeated (see ALL_TITLE_REPEAT).
    for _ in 0..title_repeat {
        doc.add_text(f.all, &title);
    }
    for _ in 0..ALL_KEYWORDS_REPEAT {
        for k in &keyword_texts {
            doc.add_text(f.all, k);
        }
    }
    if let Some(s) = &summary {
        doc.add_text(f.all, s);
    }
    doc.add_text(f.all, &body_text);
    let title_pairs = analysis::pairs(&d.title);
    // A name's syllables in their order still tell (`thanh_thuy`).
    for _ in 0..ALL_TITLE_REPEAT {
        doc.add_text(f.pairs, &title_pairs);
    }
    let keyword_pairs = analysis::pairs_of(&keywords);
    for _ in 0..ALL_KEYWORDS_REPEAT {
        doc.add_text(f.pairs, &keyword_pairs);
    }
    doc.add_text(f.pairs, analysis::pairs(&body));
    let exact = format!(
        "{}\n{}\n{}\n{}",
        d.title,
        keywords.join("\n"),
        d.summary.as_deref().unwrap_or_default(),
        body
    );
    doc.add_text(f.exact, &exact);
    let g = glossary::get();
    if !is_name {
        let title_concepts = g.concept_terms(&d.title);
        for _ in 0..ALL_TITLE_REPEAT {
            doc.add_text(f.concepts, &title_concepts);
        }
    }
    let keyword_concepts: Vec<String> = keywords.iter().map(|k| g.concept_terms(k)).collect();
    for _ in 0..ALL_KEYWORDS_REPEAT {
        for k in &keyword_concepts {
            doc.add_text(f.concepts, k);
        }
    }
    if let Some(s) = &d.summary {
        doc.add_text(f.concepts, g.concept_terms(s));
    }
    // The concepts of the body's beginning only: the title, keywords and summary name what
    // a listing is about, and the glossary scan is the costliest step of indexing.
    let head: String = body.chars().take(CONCEPT_BODY_CHARS).collect();
    doc.add_text(f.concepts, g.concept_terms(&head));
    for code in &codes {
        // A sector code is also found under its field: "207" under "2".
        doc.add_text(f.field_codes, code);
        if code.len() > 1 {
            doc.add_text(f.field_codes, &code[..1]);
        }
    }
    for a in &areas {
        doc.add_text(f.priority, a);
    }
    if let Some(ip) = &d.ip_status {
        doc.add_text(f.ip_status, ip);
    }
    for m in &modes {
        doc.add_text(f.modes, m);
    }
    if let Some(o) = org {
        doc.add_text(f.org_type, o.org_type.as_str());
    }
    if let Some(c) = &d.country {
        doc.add_text(f.country, c);
    }
    doc.add_text(f.language, d.language.as_str());
    if let Some(t) = d.trl {
        doc.add_u64(f.trl, t as u64);
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
    let trl = d.trl.map(|t| t.to_string());
    let facet_values = codes
        .iter()
        .flat_map(|c| {
            // A sector counts under its field too: "207" under "2".
            [
                (facets::FIELD, c.get(..1).unwrap_or_default()),
                (facets::SECTOR, c.as_str()),
            ]
        })
        .chain(areas.iter().map(|a| (facets::PRIORITY, a.as_str())))
        .chain(modes.iter().map(|m| (facets::MODE, m.as_str())))
        .chain(d.ip_status.iter().map(|ip| (facets::IP, ip.as_str())))
        .chain(trl.iter().map(|t| (facets::TRL, t.as_str())))
        .chain([(facets::KIND, kind.as_str())]);
    let [bits_a, bits_b] = facets::bits(facet_values);
    doc.add_u64(f.facet_bits[0], bits_a);
    doc.add_u64(f.facet_bits[1], bits_b);
    doc.add_text(f.card, serde_json::to_string(&card).unwrap_or_default());
    (card, doc)
}
