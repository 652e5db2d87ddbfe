//! Supply–demand matching: one listing in, ranked listings of the other side out, each with
//! the reasons a broker can check.
//!
//! Candidates come from the search index by text similarity (the listing's most telling
//! words, weighted by where they stand and how rare they are, plus its adjacent-syllable
//! pairs); the best hundred are re-ranked, their text similarity scaled by the structured fit: field and sector,
//! shared priority areas, TRL against the need's minimum, price against budget, transfer
//! modes the need accepts, an expert's availability.

pub mod handlers;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::{TantivyDocument, Term};
use utoipa::ToSchema;

use crate::accounts::model::Locale;
use crate::catalog::model::{Kind, ListingRow};
use crate::notify::format;
use crate::search::analysis::{folded, is_stopword, pairs, pairs_of};
use crate::search::glossary;
use crate::search::query::{card_of, term_query, HitOrg, W_BODY, W_KEYWORDS, W_SUMMARY, W_TITLE};
use crate::search::schema::Card;
use crate::search::{SearchError, SearchIndex};
use crate::taxonomy;

mod shared;
use shared::{shared_terms, SourceWords};

/// Candidates re-ranked after the text search.
const CANDIDATES: usize = 50;
/// The source listing's words used to look for candidates.
const QUERY_TERMS: usize = 30;
const QUERY_PAIRS: usize = 15;
const QUERY_CONCEPTS: usize = 20;
/// A word used by more than this share of the listings is not looked for.
const COMMON_WORD: f32 = 0.15;
/// Weight of a glossary concept both listings name, against a word both use.
const W_CONCEPTS: f32 = 1.2;
/// The most a candidate in the other language is lifted (see `matches`).
const MAX_LIFT: f32 = 5.0;
/// Weight of a shared syllable pair against the best shared word. Lower than search's
/// `W_PAIR` (1.5) on purpose: a query's few pairs are what its user typed together, while
/// a listing taken as a query brings up to `QUERY_PAIRS` pairs, many of them incidental.
/// At 1.5 the tuning part's matching scores drop (need → technology 0.885 → 0.868, need →
/// expert 0.806 → 0.783; measured 2026-12-03).
const W_PAIRS: f32 = 1.0;
/// Structured fit scales text similarity rather than adding to it, so that a listing that
/// shares a field and a budget but nothing of substance is never pushed up.
fn combine(text_score: f32, fit: f32) -> f32 {
    text_score * (1.0 + fit).max(0.05)
}

/// Why a candidate is (or is not quite) a match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reason {
    /// shared_terms, sector, field, priority_areas, trl, budget, transfer_mode, availability,
    /// country.
    pub code: &'static str,
    /// True for a fit, false for a misfit the broker should look at.
    pub fit: bool,
    /// In the caller's language (`Accept-Language`, else the account's, else Vietnamese).
    pub detail: String,
    /// For shared_terms: each shared word or phrase as the candidate spells it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchItem {
    pub kind: Kind,
    pub id: i64,
    pub external_id: Option<String>,
    pub title: String,
    /// Text similarity scaled by structured fit (fits raise it, misfits lower it).
    pub score: f32,
    /// Text similarity alone, relative to the best candidate (0–1).
    pub text_score: f32,
    pub reasons: Vec<Reason>,
    pub trl: Option<i32>,
    pub field: Option<String>,
    pub priority_areas: Vec<String>,
    pub money_min: Option<i64>,
    pub money_max: Option<i64>,
    pub modes: Vec<String>,
    pub organization: Option<HitOrg>,
    pub country: Option<String>,
    pub availability: Option<String>,
}

/// The source listing's facts that matching compares.
struct Source {
    kind: Kind,
    fields: Vec<String>,
    areas: Vec<String>,
    trl: Option<i32>,
    money_min: Option<i64>,
    money_max: Option<i64>,
    modes: Vec<String>,
}

fn weighted_terms(row: &ListingRow) -> BTreeMap<String, f32> {
    let d = &row.data;
    let mut w: BTreeMap<String, f32> = BTreeMap::new();
    let mut add = |text: &str, weight: f32, cap: usize| {
        for t in folded(text).into_iter().take(cap) {
            if !is_stopword(&t) {
                *w.entry(t).or_default() += weight;
            }
        }
    };
    // An expert's title is a name, no clue to what the expert does.
    if row.kind() != Kind::Expert {
        add(&d.title, W_TITLE, 64);
    }
    for k in d.keywords.iter() {
        add(k, W_KEYWORDS, 16);
    }
    if let Some(s) = &d.summary {
        add(s, W_SUMMARY, 128);
    }
    add(&d.description, W_BODY * 0.5, 400);
    w
}

fn say(locale: Locale, vi: String, en: String) -> String {
    match locale {
        Locale::Vi => vi,
        Locale::En => en,
    }
}

fn pick(t: &taxonomy::Term, locale: Locale) -> &'static str {
    match locale {
        Locale::Vi => t.vi,
        Locale::En => t.en,
    }
}

/// A field or sector code with its name: `207 Kỹ thuật môi trường`.
fn sector_label(code: &str, locale: Locale) -> String {
    taxonomy::field_label(code).map_or_else(
        || code.to_owned(),
        |t| format!("{code} {}", pick(t, locale)),
    )
}

fn labelled(codes: &[String], terms: &[taxonomy::Term], locale: Locale) -> String {
    codes
        .iter()
        .map(|c| {
            terms
                .iter()
                .find(|t| t.code == c)
                .map_or_else(|| c.clone(), |t| pick(t, locale).to_owned())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn money(v: i64, locale: Locale) -> String {
    format::vnd_words(v, locale)
}

impl SearchIndex {
    /// Ranked listings of `target` kind for `source`, best first.
    pub fn matches(
        &self,
        source: &ListingRow,
        target: Kind,
        limit: usize,
        locale: Locale,
    ) -> Result<Vec<MatchItem>, SearchError> {
        let f = *self.fields();
        let searcher = self.searcher();
        let n_docs = searcher.num_docs().max(1) as f32;
        // The most telling words: weight by place, times rarity in the index.
        let mut scored: Vec<(String, f32)> = Vec::new();
        for (t, w) in weighted_terms(source) {
            let df = searcher.doc_freq(&Term::from_field_text(f.all, &t))?;
            // A word most listings use tells little and costs the most to look up.
            if df == 0 || df as f32 > COMMON_WORD * n_docs {
                continue;
            }
            let idf = (1.0 + n_docs / df as f32).ln();
            scored.push((t, w * idf));
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(QUERY_TERMS);
        let max_weight = scored.first().map_or(1.0, |s| s.1);
        // One flat union of boosted term queries, so the top candidates can be found
        // without scoring every listing that shares a word.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let term = |field, text: &str, boost: f32| (Occur::Should, term_query(field, text, boost));
        // One term list per word: `all` holds the title and keywords repeated, so a word
        // in a candidate's title already weighs more than one in its description.
        for (t, w) in &scored {
            clauses.push(term(f.all, t, w / max_weight));
        }
        let source_pairs: Vec<String> = {
            let mut p: Vec<String> = pairs(&source.data.title)
                .split_whitespace()
                .chain(pairs_of(&source.data.keywords).split_whitespace())
                .map(str::to_owned)
                .collect();
            let mut seen = HashSet::new();
            p.retain(|x| seen.insert(x.clone()));
            p.truncate(QUERY_PAIRS);
            p
        };
        for p in &source_pairs {
            clauses.push(term(f.pairs, p, W_PAIRS));
        }
        // The concepts it names, in whichever language the candidate names them.
        let g = glossary::get();
        let source_concepts: Vec<String> = {
            let text = format!(
                "{}\n{}\n{}",
                source.data.title,
                source.data.keywords.join("\n"),
                source.data.summary.as_deref().unwrap_or_default()
            );
            let mut seen = HashSet::new();
            g.concept_terms(&text)
                .split_whitespace()
                .filter(|c| seen.insert(c.to_string()))
                .map(str::to_owned)
                .collect()
        };
        let mut concept_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut concept_weight = 0.0;
        for c in source_concepts.iter().take(QUERY_CONCEPTS) {
            let df = searcher.doc_freq(&Term::from_field_text(f.concepts, c))?;
            if df > 0 {
                let idf = (1.0 + n_docs / df as f32).ln();
                let boost = W_CONCEPTS * idf * W_TITLE / max_weight;
                concept_weight += boost;
                clauses.push(term(f.concepts, c, boost));
                concept_clauses.push(term(f.concepts, c, boost));
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let kind_filter: Box<dyn Query> = Box::new(tantivy::query::ConstScoreQuery::new(
            Box::new(tantivy::query::TermQuery::new(
                Term::from_field_text(f.kind, target.as_str()),
                tantivy::schema::IndexRecordOption::Basic,
            )),
            0.0,
        ));
        let query = BooleanQuery::new(vec![
            (Occur::Must, kind_filter.box_clone()),
            (Occur::Must, Box::new(BooleanQuery::new(clauses))),
        ]);
        let mut top = searcher.search(&query, &TopDocs::with_limit(CANDIDATES).order_by_score())?;
        // A candidate in the other language shares none of the source's words, only the
        // concepts both name: it is judged on those, lifted as if it matched the words in
        // the same proportion (otherwise an English technology that answers a Vietnamese
        // need ranks below every Vietnamese listing that shares a few words).
        if !concept_clauses.is_empty() {
            let other = source.data.language.other().as_str();
            let total: f32 =
                scored.iter().map(|(_, w)| w / max_weight).sum::<f32>() + concept_weight;
            let lift = (total / concept_weight.max(f32::EPSILON)).clamp(1.0, MAX_LIFT);
            let only_other = BooleanQuery::new(vec![
                (Occur::Must, kind_filter.box_clone()),
                (
                    Occur::Must,
                    Box::new(tantivy::query::ConstScoreQuery::new(
                        Box::new(tantivy::query::TermQuery::new(
                            Term::from_field_text(f.language, other),
                            tantivy::schema::IndexRecordOption::Basic,
                        )),
                        0.0,
                    )),
                ),
                (Occur::Must, Box::new(BooleanQuery::new(concept_clauses))),
            ]);
            let theirs = searcher.search(
                &only_other,
                &TopDocs::with_limit(CANDIDATES / 4).order_by_score(),
            )?;
            for (score, addr) in theirs {
                let lifted = score * lift;
                match top.iter_mut().find(|(_, a)| *a == addr) {
                    Some(hit) => hit.0 = hit.0.max(lifted),
                    None => top.push((lifted, addr)),
                }
            }
            top.sort_by(|a, b| b.0.total_cmp(&a.0));
        }
        let best = top.first().map_or(1.0, |(s, _)| *s).max(f32::EPSILON);
        let src = Source {
            kind: source.kind(),
            fields: source.data.fields.to_vec(),
            areas: source.data.priority_areas.to_vec(),
            trl: source.data.trl,
            money_min: source.data.money_min,
            money_max: source.data.money_max,
            modes: source.data.modes.to_vec(),
        };
        let mut ranked: Vec<(f32, f32, Card, Vec<Reason>)> = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(card) = card_of(&doc, &f) else {
                continue;
            };
            if card.id == source.id {
                continue;
            }
            let text_score = score / best;
            let (fit, reasons) = structured_fit(&src, &card, locale);
            ranked.push((combine(text_score, fit), text_score, card, reasons));
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.truncate(limit);
        // Only the suggestions returned get their shared words spelled out.
        let source_words = SourceWords::of(source);
        Ok(ranked
            .into_iter()
            .map(|(score, text_score, card, mut reasons)| {
                let shared = shared_terms(&card, &source_words);
                if !shared.is_empty() {
                    reasons.insert(
                        0,
                        Reason {
                            code: "shared_terms",
                            fit: true,
                            detail: say(
                                locale,
                                format!("cùng nói về: {}", shared.join("; ")),
                                format!("both mention: {}", shared.join("; ")),
                            ),
                            terms: shared,
                        },
                    );
                }
                item(card, score, text_score, reasons)
            })
            .collect())
    }
}

fn item(card: Card, score: f32, text_score: f32, reasons: Vec<Reason>) -> MatchItem {
    MatchItem {
        kind: card.kind,
        id: card.id,
        external_id: card.external_id,
        title: card.title,
        score: (score * 1000.0).round() / 1000.0,
        text_score: (text_score * 1000.0).round() / 1000.0,
        reasons,
        trl: card.trl,
        field: card.fields.first().cloned(),
        priority_areas: card.priority_areas,
        money_min: card.money_min,
        money_max: card.money_max,
        modes: card.modes,
        organization: card.organization.map(|o| HitOrg {
            id: o.id,
            name: o.name,
            org_type: o.org_type,
            verified: o.verified,
        }),
        country: card.country,
        availability: card.availability,
    }
}

/// The structured fit of a candidate: a score adjustment and its reasons, in `locale`.
fn structured_fit(src: &Source, c: &Card, locale: Locale) -> (f32, Vec<Reason>) {
    let l = locale;
    let mut fit = 0.0f32;
    let mut reasons = Vec::new();
    let mut reason = |code: &'static str, ok: bool, vi: String, en: String| {
        reasons.push(Reason {
            code,
            fit: ok,
            detail: say(l, vi, en),
            terms: Vec::new(),
        })
    };

    let same_sector: Vec<&String> = c
        .fields
        .iter()
        .filter(|x| x.len() == 3 && src.fields.contains(x))
        .collect();
    let same_group = c
        .fields
        .iter()
        .find(|x| src.fields.iter().any(|y| x.get(..1) == y.get(..1)));
    let codes = |list: &[String]| {
        list.iter()
            .map(|c| sector_label(c, l))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(code) = same_sector.first() {
        fit += 0.15;
        let label = sector_label(code, l);
        reason(
            "sector",
            true,
            format!("cùng chuyên ngành: {label}"),
            format!("same sector: {label}"),
        );
    } else if let Some(x) = same_group {
        fit += 0.07;
        let label = sector_label(x.get(..1).unwrap_or_default(), l);
        reason(
            "field",
            true,
            format!("cùng lĩnh vực: {label}"),
            format!("same field: {label}"),
        );
    } else if !c.fields.is_empty() && !src.fields.is_empty() {
        fit -= 0.05;
        let (theirs, ours) = (codes(&c.fields), codes(&src.fields));
        reason(
            "field",
            false,
            format!("khác lĩnh vực: {theirs} so với {ours}"),
            format!("different field: {theirs} vs {ours}"),
        );
    }

    let areas: Vec<String> = c
        .priority_areas
        .iter()
        .filter(|a| src.areas.contains(a))
        .cloned()
        .collect();
    if !areas.is_empty() {
        fit += (0.05 * areas.len() as f32).min(0.1);
        let names = labelled(&areas, taxonomy::PRIORITY_AREAS, l);
        reason(
            "priority_areas",
            true,
            format!("cùng lĩnh vực ưu tiên: {names}"),
            format!("shared priority areas: {names}"),
        );
    }

    // Technology side and need side, whichever way round the match goes.
    let (tech_trl, need_trl, price, budget, offered, accepted) = match (src.kind, c.kind) {
        (Kind::Need, Kind::Technology) => (
            c.trl,
            src.trl,
            (c.money_min, c.money_max),
            (src.money_min, src.money_max),
            c.modes.clone(),
            src.modes.clone(),
        ),
        (Kind::Technology, Kind::Need) => (
            src.trl,
            c.trl,
            (src.money_min, src.money_max),
            (c.money_min, c.money_max),
            src.modes.clone(),
            c.modes.clone(),
        ),
        _ => (
            None,
            None,
            (None, None),
            (None, None),
            Vec::new(),
            Vec::new(),
        ),
    };
    if let (Some(t), Some(min)) = (tech_trl, need_trl) {
        if t >= min {
            fit += 0.1;
            reason(
                "trl",
                true,
                format!("TRL {t} đạt mức tối thiểu {min}"),
                format!("TRL {t} meets the minimum {min}"),
            );
        } else {
            fit -= 0.15;
            reason(
                "trl",
                false,
                format!("TRL {t} thấp hơn mức tối thiểu {min}"),
                format!("TRL {t} is below the minimum {min}"),
            );
        }
    }
    // Price against budget: a price at or under the budget's maximum fits, a price under
    // its minimum too (cheaper is never a misfit); only dearer than the maximum is not.
    let (pmin, pmax) = price;
    let (bmin, bmax) = budget;
    if let (Some(low), true) = (pmin.or(pmax), bmin.is_some() || bmax.is_some()) {
        let p = money(low, l);
        match (bmin, bmax) {
            (_, Some(b)) if low > b => {
                fit -= 0.1;
                let b = money(b, l);
                reason(
                    "budget",
                    false,
                    format!("giá từ {p} vượt ngân sách tối đa {b}"),
                    format!("price from {p} is above the budget's maximum of {b}"),
                );
            }
            (Some(m), _) if pmax.unwrap_or(low) < m => {
                fit += 0.08;
                let m = money(m, l);
                reason(
                    "budget",
                    true,
                    format!("giá từ {p} thấp hơn mức ngân sách tối thiểu {m}: rẻ hơn dự kiến"),
                    format!(
                        "price from {p} is below the budget's minimum of {m}: cheaper than planned"
                    ),
                );
            }
            (_, Some(b)) => {
                fit += 0.08;
                let b = money(b, l);
                reason(
                    "budget",
                    true,
                    format!("giá từ {p} nằm trong ngân sách tối đa {b}"),
                    format!("price from {p} is within the budget of up to {b}"),
                );
            }
            (Some(m), None) => {
                fit += 0.04;
                let m = money(m, l);
                reason(
                    "budget",
                    true,
                    format!("giá từ {p}, ngân sách từ {m}"),
                    format!("price from {p}, budget from {m}"),
                );
            }
            (None, None) => {}
        }
    }
    if !offered.is_empty() && !accepted.is_empty() {
        let both: Vec<String> = offered
            .iter()
            .filter(|m| accepted.contains(m))
            .cloned()
            .collect();
        let name = |list: &[String]| labelled(list, taxonomy::TRANSFER_MODES, l);
        if both.is_empty() {
            fit -= 0.07;
            let (o, a) = (name(&offered), name(&accepted));
            reason(
                "transfer_mode",
                false,
                format!("bên cung cấp {o}, nhưng bên cần chấp nhận {a}"),
                format!("offers {o} but the need accepts {a}"),
            );
        } else {
            fit += 0.07;
            let b = name(&both);
            reason(
                "transfer_mode",
                true,
                format!("cả hai chấp nhận: {b}"),
                format!("both accept {b}"),
            );
        }
    }
    if c.kind == Kind::Expert || src.kind == Kind::Expert {
        let availability = if c.kind == Kind::Expert {
            c.availability.as_deref()
        } else {
            None
        };
        match availability {
            Some("unavailable") => {
                fit -= 0.2;
                reason(
                    "availability",
                    false,
                    "chuyên gia hiện không nhận việc".into(),
                    "the expert is not taking on work now".into(),
                );
            }
            Some(a) => {
                let n = labelled(&[a.to_owned()], taxonomy::AVAILABILITY, l);
                reason(
                    "availability",
                    true,
                    format!("sẵn sàng: {n}"),
                    format!("available for {n}"),
                );
            }
            None => {}
        }
        if c.kind == Kind::Expert {
            if let Some(country) = c.country.as_deref().filter(|x| *x != "VN") {
                reason(
                    "country",
                    true,
                    format!("chuyên gia người Việt ở nước ngoài ({country})"),
                    format!("Vietnamese expert abroad ({country})"),
                );
            }
        }
    }
    (fit, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(kind: Kind) -> Card {
        Card {
            kind,
            id: 2,
            external_id: None,
            title: "Hệ thống xử lý nước thải dệt nhuộm bằng màng lọc".into(),
            summary: None,
            keywords: vec!["màng lọc".into()],
            fields: vec!["207".into()],
            priority_areas: vec!["environment".into()],
            trl: Some(7),
            ip_status: None,
            modes: vec!["license".into()],
            money_min: Some(500_000_000),
            money_max: None,
            negotiable: Some(true),
            deadline: None,
            language: "vi".into(),
            organization: None,
            academic_title: None,
            affiliation: None,
            country: None,
            availability: None,
            published_at: None,
            text: String::new(),
        }
    }

    fn need() -> Source {
        Source {
            kind: Kind::Need,
            fields: vec!["207".into()],
            areas: vec!["environment".into(), "industry".into()],
            trl: Some(6),
            money_min: None,
            money_max: Some(2_000_000_000),
            modes: vec!["license".into(), "research_contract".into()],
        }
    }

    #[test]
    fn a_good_fit_says_why() {
        let c = card(Kind::Technology);
        let (fit, reasons) = structured_fit(&need(), &c, Locale::En);
        assert!(fit > 0.3, "{fit}");
        let codes: Vec<&str> = reasons.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            vec!["sector", "priority_areas", "trl", "budget", "transfer_mode"]
        );
        assert!(reasons.iter().all(|r| r.fit));
        assert!(reasons[0].detail.contains("207"), "{}", reasons[0].detail);
        assert_eq!(
            reasons[3].detail,
            "price from VND 500 million is within the budget of up to VND 2 billion"
        );
    }

    #[test]
    fn reasons_speak_the_callers_language() {
        let (_, reasons) = structured_fit(&need(), &card(Kind::Technology), Locale::Vi);
        let budget = reasons.iter().find(|r| r.code == "budget").unwrap();
        assert_eq!(
            budget.detail,
            "giá từ 500 triệu đồng nằm trong ngân sách tối đa 2 tỷ đồng"
        );
        assert!(reasons[0].detail.starts_with("cùng chuyên ngành: 207"));
        let modes = reasons.iter().find(|r| r.code == "transfer_mode").unwrap();
        assert!(!modes.detail.contains("license"), "{}", modes.detail);
    }

    #[test]
    fn cheaper_than_the_budget_is_a_fit_dearer_is_not() {
        let mut n = need();
        n.money_min = Some(1_000_000_000);
        n.money_max = Some(2_000_000_000);
        let mut c = card(Kind::Technology);
        c.money_min = Some(350_000_000);
        c.money_max = Some(600_000_000);
        let (_, reasons) = structured_fit(&n, &c, Locale::Vi);
        let b = reasons.iter().find(|r| r.code == "budget").unwrap();
        assert!(b.fit, "{}", b.detail);
        assert!(b.detail.contains("350 triệu đồng") && b.detail.contains("1 tỷ đồng"));
        c.money_min = Some(2_500_000_000);
        c.money_max = None;
        let (_, reasons) = structured_fit(&n, &c, Locale::Vi);
        let b = reasons.iter().find(|r| r.code == "budget").unwrap();
        assert!(!b.fit);
        assert_eq!(
            b.detail,
            "giá từ 2,5 tỷ đồng vượt ngân sách tối đa 2 tỷ đồng"
        );
    }

    #[test]
    fn shared_terms_are_whole_phrases_in_the_candidates_spelling() {
        let c = card(Kind::Technology);
        let src = SourceWords::from_texts(&["Cần hệ thống xử lý nước thải dệt nhuộm".into()]);
        assert_eq!(
            shared_terms(&c, &src),
            vec!["Hệ thống xử lý nước thải dệt nhuộm"]
        );
        // Typed without diacritics: both spellings shown.
        let plain = SourceWords::from_texts(&["xu ly nuoc thai det nhuom".into()]);
        assert_eq!(
            shared_terms(&c, &plain),
            vec!["xử lý nước thải dệt nhuộm (xu ly nuoc thai det nhuom)"]
        );
        // An accented source never matches another spelling once folded: lừa is not lúa.
        let mut rice = card(Kind::Technology);
        rice.title = "Giống lừa lai".into();
        rice.keywords = vec![];
        rice.summary = None;
        let src = SourceWords::from_texts(&["giống lúa lai".into()]);
        let shared = shared_terms(&rice, &src);
        assert!(shared.iter().all(|t| !t.contains("lừa")), "{shared:?}");
        // No phrase across two texts: the title's last word and a keyword's first.
        let mut c = card(Kind::Technology);
        c.title = "Bể lọc nước".into();
        c.keywords = vec!["thải độc".into()];
        c.summary = None;
        let src = SourceWords::from_texts(&["nước thải".into()]);
        assert!(shared_terms(&c, &src).is_empty());
    }

    #[test]
    fn misfits_are_named() {
        let mut c = card(Kind::Technology);
        c.trl = Some(4);
        c.money_min = Some(5_000_000_000);
        c.modes = vec!["assignment".into()];
        c.fields = vec!["302".into()];
        let (fit, reasons) = structured_fit(&need(), &c, Locale::En);
        assert!(fit < 0.0, "{fit}");
        let misfits: Vec<&str> = reasons.iter().filter(|r| !r.fit).map(|r| r.code).collect();
        assert_eq!(misfits, vec!["field", "trl", "budget", "transfer_mode"]);
        let mut e = card(Kind::Expert);
        e.availability = Some("unavailable".into());
        e.country = Some("JP".into());
        let (_, reasons) = structured_fit(&need(), &e, Locale::En);
        assert!(reasons.iter().any(|r| r.code == "availability" && !r.fit));
        assert!(reasons.iter().any(|r| r.code == "country"));
    }
}
