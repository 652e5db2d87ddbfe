//! Supply–demand matching: one listing in, ranked listings of the other side out, each with
//! the reasons a broker can check.
//!
//! Candidates come from the search index by text similarity (the listing's most telling
//! words, weighted by where they stand and how rare they are, plus its adjacent-syllable
//! pairs); the best hundred are re-ranked, their text similarity scaled by the structured fit: field and sector,
//! shared priority areas, TRL against the need's minimum, price against budget, transfer
//! modes the need accepts, an expert's availability.

pub mod handlers;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::{TantivyDocument, Term};
use utoipa::ToSchema;

use crate::catalog::model::{json_list, Kind, ListingRow};
use crate::catalog::taxonomy;
use crate::search::analysis::{self, folded, is_stopword, pairs, pairs_of, tokens};
use crate::search::query::{card_of, term_query, HitOrg, W_BODY, W_KEYWORDS, W_SUMMARY, W_TITLE};
use crate::search::schema::Card;
use crate::search::{SearchError, SearchIndex};

/// Candidates re-ranked after the text search.
const CANDIDATES: usize = 100;
/// The source listing's words used to look for candidates.
const QUERY_TERMS: usize = 30;
const QUERY_PAIRS: usize = 15;
/// Weight of a shared syllable pair against the best shared word.
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
    pub detail: String,
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
    add(&d.title, W_TITLE, 64);
    for k in json_list(&d.keywords) {
        add(&k, W_KEYWORDS, 16);
    }
    if let Some(s) = &d.summary {
        add(s, W_SUMMARY, 128);
    }
    add(&d.description, W_BODY * 0.5, 400);
    w
}

fn sector_label(code: &str) -> String {
    taxonomy::field_label(code).map_or_else(|| code.to_owned(), |t| format!("{code} {}", t.vi))
}

fn money(v: Option<i64>) -> String {
    v.map_or_else(|| "—".into(), |n| format!("{:.1} tỷ đồng", n as f64 / 1e9))
}

impl SearchIndex {
    /// Ranked listings of `target` kind for `source`, best first.
    pub fn matches(
        &self,
        source: &ListingRow,
        target: Kind,
        limit: usize,
    ) -> Result<Vec<MatchItem>, SearchError> {
        let f = *self.fields();
        let searcher = self.searcher();
        let n_docs = searcher.num_docs().max(1) as f32;
        // The most telling words: weight by place, times rarity in the index.
        let mut scored: Vec<(String, f32)> = Vec::new();
        for (t, w) in weighted_terms(source) {
            let df = searcher.doc_freq(&Term::from_field_text(f.all, &t))?;
            if df == 0 {
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
                .chain(pairs_of(&json_list(&source.data.keywords)).split_whitespace())
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
            (Occur::Must, kind_filter),
            (Occur::Must, Box::new(BooleanQuery::new(clauses))),
        ]);
        let top = searcher.search(&query, &TopDocs::with_limit(CANDIDATES).order_by_score())?;
        let best = top.first().map_or(1.0, |(s, _)| *s).max(f32::EPSILON);
        let src = Source {
            kind: source.kind(),
            fields: json_list(&source.data.fields),
            areas: json_list(&source.data.priority_areas),
            trl: source.data.trl,
            money_min: source.data.money_min,
            money_max: source.data.money_max,
            modes: json_list(&source.data.modes),
        };
        let query_terms: HashSet<String> = scored.iter().map(|(t, _)| t.clone()).collect();
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
            let (fit, reasons) = structured_fit(&src, &card);
            ranked.push((combine(text_score, fit), text_score, card, reasons));
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.truncate(limit);
        // Only the suggestions returned get their shared words spelled out.
        let mut analyzers = (analysis::vi_exact(), analysis::vi_fold());
        Ok(ranked
            .into_iter()
            .map(|(score, text_score, card, mut reasons)| {
                let shared = shared_terms(&card, &query_terms, &source_pairs, &mut analyzers);
                if !shared.is_empty() {
                    reasons.insert(
                        0,
                        Reason {
                            code: "shared_terms",
                            fit: true,
                            detail: shared.join(", "),
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

/// The words both listings share, in the candidate's own spelling (with its diacritics).
fn shared_terms(
    card: &Card,
    query_terms: &HashSet<String>,
    source_pairs: &[String],
    (exact_analyzer, fold_analyzer): &mut (
        tantivy::tokenizer::TextAnalyzer,
        tantivy::tokenizer::TextAnalyzer,
    ),
) -> Vec<String> {
    let text = format!(
        "{}\n{}\n{}",
        card.title,
        card.keywords.join("\n"),
        card.summary.as_deref().unwrap_or_default()
    );
    let exact = tokens(exact_analyzer, &text);
    let fold = tokens(fold_analyzer, &text);
    let spelled: HashMap<&str, &str> = fold
        .iter()
        .map(String::as_str)
        .zip(exact.iter().map(String::as_str))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let candidate_text_pairs = pairs(&text);
    let candidate_pairs: HashSet<&str> = candidate_text_pairs.split_whitespace().collect();
    let mut covered: HashSet<String> = HashSet::new();
    for p in source_pairs {
        if candidate_pairs.contains(p.as_str()) {
            let words: Vec<&str> = p.split('_').collect();
            let shown: Vec<&str> = words.iter().map(|w| *spelled.get(w).unwrap_or(w)).collect();
            out.push(shown.join(" "));
            covered.extend(words.iter().map(|w| w.to_string()));
        }
    }
    let mut seen = HashSet::new();
    for t in &fold {
        if query_terms.contains(t) && !covered.contains(t) && seen.insert(t.clone()) {
            out.push(
                spelled
                    .get(t.as_str())
                    .map_or(t.clone(), |s| (*s).to_owned()),
            );
        }
    }
    out.truncate(8);
    out
}

/// The structured fit of a candidate: a score adjustment and its reasons.
fn structured_fit(src: &Source, c: &Card) -> (f32, Vec<Reason>) {
    let mut fit = 0.0f32;
    let mut reasons = Vec::new();
    let mut reason = |code: &'static str, ok: bool, detail: String| {
        reasons.push(Reason {
            code,
            fit: ok,
            detail,
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
        .any(|x| src.fields.iter().any(|y| x.get(..1) == y.get(..1)));
    if let Some(code) = same_sector.first() {
        fit += 0.15;
        reason(
            "sector",
            true,
            format!("same sector: {}", sector_label(code)),
        );
    } else if same_group {
        fit += 0.07;
        let group = c.fields.iter().find_map(|x| x.get(..1)).unwrap_or_default();
        reason(
            "field",
            true,
            format!("same field: {}", sector_label(group)),
        );
    } else if !c.fields.is_empty() && !src.fields.is_empty() {
        fit -= 0.05;
        reason(
            "field",
            false,
            format!(
                "different field: {} vs {}",
                c.fields.join(", "),
                src.fields.join(", ")
            ),
        );
    }

    let areas: Vec<&String> = c
        .priority_areas
        .iter()
        .filter(|a| src.areas.contains(a))
        .collect();
    if !areas.is_empty() {
        fit += (0.05 * areas.len() as f32).min(0.1);
        reason(
            "priority_areas",
            true,
            format!(
                "shared priority areas: {}",
                areas
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
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
            reason("trl", true, format!("TRL {t} meets the minimum {min}"));
        } else {
            fit -= 0.15;
            reason("trl", false, format!("TRL {t} is below the minimum {min}"));
        }
    }
    let (pmin, pmax) = price;
    let (bmin, bmax) = budget;
    if (pmin.is_some() || pmax.is_some()) && (bmin.is_some() || bmax.is_some()) {
        let low = pmin.unwrap_or(0);
        let within =
            bmax.is_none_or(|b| low <= b) && pmax.is_none_or(|p| bmin.is_none_or(|b| p >= b));
        if within {
            fit += 0.08;
            reason(
                "budget",
                true,
                format!(
                    "price from {} fits the budget up to {}",
                    money(pmin),
                    money(bmax)
                ),
            );
        } else {
            fit -= 0.1;
            reason(
                "budget",
                false,
                format!(
                    "price from {} exceeds the budget up to {}",
                    money(pmin),
                    money(bmax)
                ),
            );
        }
    }
    if !offered.is_empty() && !accepted.is_empty() {
        let both: Vec<&String> = offered.iter().filter(|m| accepted.contains(m)).collect();
        if both.is_empty() {
            fit -= 0.07;
            reason(
                "transfer_mode",
                false,
                format!(
                    "offers {} but the need accepts {}",
                    offered.join(", "),
                    accepted.join(", ")
                ),
            );
        } else {
            fit += 0.07;
            reason(
                "transfer_mode",
                true,
                format!(
                    "both accept {}",
                    both.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
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
                    "the expert is not taking on work now".into(),
                );
            }
            Some(a) => reason("availability", true, format!("available for {a}")),
            None => {}
        }
        if c.kind == Kind::Expert {
            if let Some(country) = c.country.as_deref().filter(|x| *x != "VN") {
                reason(
                    "country",
                    true,
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
        let terms: HashSet<String> = ["xu", "ly", "nuoc", "thai", "det"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let c = card(Kind::Technology);
        let (fit, reasons) = structured_fit(&need(), &c);
        assert!(fit > 0.3, "{fit}");
        let codes: Vec<&str> = reasons.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            vec!["sector", "priority_areas", "trl", "budget", "transfer_mode"]
        );
        assert!(reasons.iter().all(|r| r.fit));
        assert!(reasons[0].detail.contains("207"));
        // Shared words are shown as the candidate spells them, pairs first.
        let mut analyzers = (analysis::vi_exact(), analysis::vi_fold());
        let shared = shared_terms(
            &c,
            &terms,
            &["nuoc_thai".into(), "xu_ly".into()],
            &mut analyzers,
        );
        assert_eq!(shared, vec!["nước thải", "xử lý", "dệt"]);
    }

    #[test]
    fn misfits_are_named() {
        let mut c = card(Kind::Technology);
        c.trl = Some(4);
        c.money_min = Some(5_000_000_000);
        c.modes = vec!["assignment".into()];
        c.fields = vec!["302".into()];
        let (fit, reasons) = structured_fit(&need(), &c);
        assert!(fit < 0.0, "{fit}");
        let misfits: Vec<&str> = reasons.iter().filter(|r| !r.fit).map(|r| r.code).collect();
        assert_eq!(misfits, vec!["field", "trl", "budget", "transfer_mode"]);
        let mut e = card(Kind::Expert);
        e.availability = Some("unavailable".into());
        e.country = Some("JP".into());
        let (_, reasons) = structured_fit(&need(), &e);
        assert!(reasons.iter().any(|r| r.code == "availability" && !r.fit));
        assert!(reasons.iter().any(|r| r.code == "country"));
    }
}
