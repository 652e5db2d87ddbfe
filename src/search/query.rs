//! Queries: text relevance for Vietnamese and English, filters, facets, snippets,
//! completion.

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::Arc;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EnableScoring, Occur, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Order, Score, TantivyDocument, Term};
use utoipa::ToSchema;

use super::analysis::{self, folded};
use super::facets::{self, SampledFacets};
use super::fold::ExactTokenizer;
use super::glossary;
use super::plan::term;
pub(crate) use super::plan::term_query;
pub use super::plan::{
    correct, plan, Plan, Slot, TextQuery, W_BODY, W_CONCEPT, W_CORRECTED, W_EXACT, W_KEYWORDS,
    W_PAIR, W_SUMMARY, W_TITLE,
};
use super::schema::{Card, CardOrg, Fields};
use super::{SearchError, SearchIndex};
use crate::accounts::model::Locale;
use crate::catalog::model::Kind;
use crate::taxonomy;

/// How many of the best matches on the whole text get the bonuses added before the final
/// sort (or more, for a deep page).
pub const RERANK_WINDOW: usize = 300;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    pub kind: Option<Kind>,
    pub field: Option<String>,
    pub priority_area: Option<String>,
    pub trl_min: Option<u64>,
    pub trl_max: Option<u64>,
    pub ip_status: Option<String>,
    pub transfer_mode: Option<String>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub org_type: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortBy {
    Relevance,
    Newest,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    pub q: String,
    pub filters: Filters,
    pub limit: usize,
    pub offset: usize,
    pub sort: SortBy,
    /// Language of the facet labels.
    pub locale: Locale,
}

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    pub kind: Kind,
    pub id: i64,
    pub external_id: Option<String>,
    pub title: String,
    /// An excerpt with the matched words in `<mark>…</mark>` (HTML-escaped otherwise).
    pub snippet: Option<String>,
    pub score: f32,
    pub trl: Option<i32>,
    /// The listing's (first) field code.
    pub field: Option<String>,
    pub fields: Vec<String>,
    pub priority_areas: Vec<String>,
    pub keywords: Vec<String>,
    pub summary: Option<String>,
    pub ip_status: Option<String>,
    /// Transfer modes offered, or collaboration types accepted.
    pub modes: Vec<String>,
    /// Price of a technology or budget of a need, in đồng.
    pub money_min: Option<i64>,
    pub money_max: Option<i64>,
    pub negotiable: Option<bool>,
    pub deadline: Option<String>,
    pub language: String,
    /// Owner organisation; absent for confidential needs and experts.
    pub organization: Option<HitOrg>,
    pub academic_title: Option<String>,
    pub affiliation: Option<String>,
    pub country: Option<String>,
    pub availability: Option<String>,
    pub published_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitOrg {
    pub id: i64,
    pub name: String,
    pub org_type: String,
    pub verified: bool,
}

impl Hit {
    pub fn from_card(card: Card, score: f32, snippet: Option<String>) -> Self {
        Self {
            kind: card.kind,
            id: card.id,
            external_id: card.external_id,
            title: card.title,
            snippet,
            score,
            trl: card.trl,
            field: card.fields.first().cloned(),
            fields: card.fields,
            priority_areas: card.priority_areas,
            keywords: card.keywords,
            summary: card.summary,
            ip_status: card.ip_status,
            modes: card.modes,
            money_min: card.money_min,
            money_max: card.money_max,
            negotiable: card.negotiable,
            deadline: card.deadline,
            language: card.language,
            organization: card.organization.map(
                |CardOrg {
                     id,
                     name,
                     org_type,
                     verified,
                 }| HitOrg {
                    id,
                    name,
                    org_type,
                    verified,
                },
            ),
            academic_title: card.academic_title,
            affiliation: card.affiliation,
            country: card.country,
            availability: card.availability,
            published_at: card.published_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetCount {
    pub value: String,
    /// The value's name in the caller's language (`Accept-Language`, else the account's).
    pub label: Option<String>,
    pub count: u64,
}

/// Counts of the matching listings per value, for refining a search.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Facets {
    pub kind: Vec<FacetCount>,
    /// Fields (`2`) and their sectors (`207`).
    pub field: Vec<FacetCount>,
    pub priority_area: Vec<FacetCount>,
    pub trl: Vec<FacetCount>,
    pub ip_status: Vec<FacetCount>,
    pub transfer_mode: Vec<FacetCount>,
    /// True when the query matched so many listings that the counts were estimated from
    /// a sample of them (exact up to a few thousand matches).
    pub approximate: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResponse {
    pub total: usize,
    pub items: Vec<Hit>,
    pub facets: Facets,
    /// True when too few listings have every word of the query to fill the page (for a
    /// pasted statement: enough of its telling words): the page goes on with listings that
    /// have half of them, then any, after those that have all. Filters always apply in
    /// full; `total` and the facets count the last, widest step.
    pub relaxed: bool,
    /// The query's words and phrases (a glossary concept counts as one) that the results
    /// shown contain, in the query's spelling.
    pub matched_terms: Vec<String>,
    /// The query's words and phrases that no result shown contains, or that no listing
    /// uses at all. Function words and, in a long statement, its circumstances are not
    /// looked for and not listed.
    pub dropped_terms: Vec<String>,
    /// The query with its typos corrected, when a word was found under a correction (`nươc
    /// thai` → `nước thải`).
    pub did_you_mean: Option<String>,
}

fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// The strict query for free text, or `None` when it has no words (for benchmarks that
/// compare the ranking steps).
pub fn text_query(searcher: &tantivy::Searcher, f: &Fields, q: &str) -> Option<TextQuery> {
    plan(searcher, f, q).query(f, 0)
}

/// Adds the bonuses to the scores of the candidates and sorts them, best first.
///
/// Each bonus term is looked up only at the candidates (a forward seek through its posting
/// list per candidate), instead of walking its whole list for every match of the query.
pub fn rerank(
    searcher: &tantivy::Searcher,
    bonuses: &[Box<dyn Query>],
    mut hits: Vec<(Score, DocAddress)>,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    if !bonuses.is_empty() && !hits.is_empty() {
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let weights = bonuses
            .iter()
            .map(|b| b.weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        // Seeks only move forward: visit the candidates by segment, then document.
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by_key(|&i| hits[i].1);
        let mut at = 0;
        while at < order.len() {
            let segment = hits[order[at]].1.segment_ord;
            let end = at
                + order[at..]
                    .iter()
                    .take_while(|&&i| hits[i].1.segment_ord == segment)
                    .count();
            let reader = searcher.segment_reader(segment);
            for weight in &weights {
                let mut scorer = weight.scorer(reader, 1.0)?;
                for &i in &order[at..end] {
                    let doc = hits[i].1.doc_id;
                    if scorer.doc() < doc {
                        scorer.seek(doc);
                    }
                    if scorer.doc() == doc {
                        hits[i].0 += scorer.score();
                    }
                }
            }
            at = end;
        }
    }
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(hits)
}

fn filter_clauses(f: &Fields, flt: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
    let mut out = Vec::new();
    let mut exact = |field: Field, value: &Option<String>| {
        if let Some(v) = value {
            out.push(filter(term_query(field, v, 1.0)));
        }
    };
    exact(f.kind, &flt.kind.map(|k| k.as_str().to_owned()));
    exact(f.field_codes, &flt.field);
    exact(f.priority, &flt.priority_area);
    exact(f.ip_status, &flt.ip_status);
    exact(f.modes, &flt.transfer_mode);
    exact(f.org_type, &flt.org_type);
    exact(f.country, &flt.country);
    exact(f.language, &flt.language);
    if flt.trl_min.is_some() || flt.trl_max.is_some() {
        let lower = flt.trl_min.map_or(Bound::Unbounded, |v| {
            Bound::Included(Term::from_field_u64(f.trl, v))
        });
        let upper = flt.trl_max.map_or(Bound::Unbounded, |v| {
            Bound::Included(Term::from_field_u64(f.trl, v))
        });
        out.push(filter(Box::new(RangeQuery::new(lower, upper))));
    }
    // Price or budget ranges that overlap the one asked for.
    if let Some(max) = flt.price_max {
        out.push(filter(Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_i64(f.money_min, max)),
        ))));
    }
    if let Some(min) = flt.price_min {
        out.push(filter(Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.money_max, min)),
            Bound::Unbounded,
        ))));
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The way `text` spells the folded word, if it has it.
fn spelling_of(text: &str, folded_word: &str) -> Option<String> {
    glossary::words(text)
        .into_iter()
        .find(|w| w.folded == folded_word)
        .map(|w| text[w.from..w.to].to_lowercase())
}

/// A facet value's name in the caller's language.
fn facet_label(group: &str, value: &str, locale: Locale) -> Option<String> {
    let pick = |t: &taxonomy::Term| match locale {
        Locale::Vi => t.vi.to_owned(),
        Locale::En => t.en.to_owned(),
    };
    let among = |terms: &[taxonomy::Term]| terms.iter().find(|t| t.code == value).map(pick);
    match group {
        facets::KIND => Some(
            match (Kind::parse(value).ok()?, locale) {
                (Kind::Technology, Locale::Vi) => "Công nghệ",
                (Kind::Need, Locale::Vi) => "Nhu cầu công nghệ",
                (Kind::Expert, Locale::Vi) => "Chuyên gia",
                (Kind::Technology, Locale::En) => "Technology",
                (Kind::Need, Locale::En) => "Technology need",
                (Kind::Expert, Locale::En) => "Expert",
            }
            .to_owned(),
        ),
        facets::FIELD | facets::SECTOR => taxonomy::field_label(value).map(pick),
        facets::PRIORITY => among(taxonomy::PRIORITY_AREAS),
        facets::IP => among(taxonomy::IP_STATUSES),
        facets::MODE => among(taxonomy::TRANSFER_MODES),
        facets::TRL => taxonomy::TRL
            .iter()
            .find(|(n, _, _)| n.to_string() == value)
            .map(|(n, vi, en)| match locale {
                Locale::Vi => format!("TRL {n}: {vi}"),
                Locale::En => format!("TRL {n}: {en}"),
            }),
        _ => None,
    }
}

pub fn card_of(doc: &TantivyDocument, f: &Fields) -> Option<Card> {
    doc.get_first(f.card)
        .and_then(|v| v.as_str())
        .and_then(|s| serde_json::from_str(s).ok())
}

impl SearchIndex {
    /// Runs a search request. The response is shared with the result cache, not copied.
    pub fn search(&self, req: &Request) -> Result<Arc<SearchResponse>, SearchError> {
        let searcher = self.searcher();
        let generation = searcher.generation().generation_id();
        if let Some(hit) = self.results.get(generation, req) {
            return Ok(hit);
        }
        let res = Arc::new(self.search_on(&searcher, req)?);
        self.results.put(generation, req, Arc::clone(&res));
        Ok(res)
    }

    fn search_on(
        &self,
        searcher: &tantivy::Searcher,
        req: &Request,
    ) -> Result<SearchResponse, SearchError> {
        let f = *self.fields();
        let plan = plan(searcher, &f, &req.q);
        let has_text = !req.q.trim().is_empty();
        let wanted = req.offset + req.limit.max(1);
        let facets = SampledFacets;
        let steps = if plan.slots.is_empty() {
            1
        } else {
            plan.steps()
        };
        // Each step asks for fewer of the query's words; a step runs only while the steps
        // before it found fewer listings than the page needs, and its new listings come
        // after theirs. Total and facets are those of the last step run.
        let mut hits: Vec<(Score, DocAddress)> = Vec::new();
        let mut seen: HashSet<DocAddress> = HashSet::new();
        let mut total = 0;
        let mut facet_counts = None;
        let mut relaxed = false;
        for step in 0..steps {
            let mut clauses = filter_clauses(&f, &req.filters);
            let text = plan.query(&f, step);
            if has_text && text.is_none() {
                // Only words no listing uses: nothing can match.
                break;
            }
            let (query, bonuses): (Box<dyn Query>, _) = match text {
                Some(t) => {
                    clauses.push((Occur::Must, t.required));
                    clauses.extend(t.pairs.into_iter().map(|p| (Occur::Should, p)));
                    (Box::new(BooleanQuery::new(clauses)), Some(t.bonuses))
                }
                None if clauses.is_empty() => (Box::new(AllQuery), None),
                None => (Box::new(BooleanQuery::new(clauses)), None),
            };
            // One pass over the matches: the total, the facets and the best candidates
            // together. Relevance ranks in two steps: the matches are scored on their whole
            // text, and the best of them get the bonuses added and are sorted again.
            let (n, counts, found): (usize, _, Vec<(Score, DocAddress)>) = match bonuses {
                Some(bonuses) if req.sort == SortBy::Relevance => {
                    let window = TopDocs::with_limit(wanted.max(RERANK_WINDOW)).order_by_score();
                    let (n, counts, candidates) =
                        searcher.search(&query, &(Count, facets, window))?;
                    (n, counts, rerank(searcher, &bonuses, candidates)?)
                }
                _ => {
                    let page = TopDocs::with_limit(wanted)
                        .order_by_fast_field::<i64>("published", Order::Desc);
                    let (n, counts, found) = searcher.search(&query, &(Count, facets, page))?;
                    (
                        n,
                        counts,
                        found.into_iter().map(|(_, a)| (0.0, a)).collect(),
                    )
                }
            };
            total = n;
            facet_counts = Some(counts);
            let before = hits.len();
            for h in found {
                if hits.len() >= wanted {
                    break;
                }
                if seen.insert(h.1) {
                    hits.push(h);
                }
            }
            if plan.is_relaxed(step) && hits.len() > before {
                relaxed = true;
            }
            if hits.len() >= wanted || total >= wanted {
                break;
            }
        }
        let page: Vec<(Score, DocAddress)> =
            hits.into_iter().skip(req.offset).take(req.limit).collect();
        // Which of the query's slots the page shows.
        let mut matched_terms = Vec::new();
        let mut dropped_terms = Vec::new();
        if has_text {
            let scoring = EnableScoring::enabled_from_searcher(searcher);
            for slot in &plan.slots {
                let weight = plan.slot_query(&f, slot, false).weight(scoring)?;
                let mut found = false;
                for (_, addr) in &page {
                    let reader = searcher.segment_reader(addr.segment_ord);
                    let mut scorer = weight.scorer(reader, 1.0)?;
                    if scorer.doc() < addr.doc_id {
                        scorer.seek(addr.doc_id);
                    }
                    if scorer.doc() == addr.doc_id {
                        found = true;
                        break;
                    }
                }
                if found {
                    matched_terms.push(slot.text.clone());
                } else {
                    dropped_terms.push(slot.text.clone());
                }
            }
            dropped_terms.extend(plan.unknown.iter().cloned());
        }
        let (highlight, accented) = plan.highlights();
        let snippets = {
            let analyzer = if accented {
                // Only the words that fold like a highlighted one need their spelling.
                let folded = highlight.keys().flat_map(|k| folded(k)).collect();
                TextAnalyzer::from(ExactTokenizer::only(folded))
            } else {
                analysis::vi_fold()
            };
            let mut g = SnippetGenerator::new(highlight, analyzer, f.all, 200);
            g.set_max_num_chars(200);
            g
        };
        let mut items = Vec::with_capacity(page.len());
        let mut spelled: Vec<Option<String>> = vec![None; plan.corrections.len()];
        for (score, addr) in page {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(card) = card_of(&doc, &f) else {
                continue;
            };
            // A corrected word as the listings spell it.
            for (i, (_, fixed, _, _)) in plan.corrections.iter().enumerate() {
                if spelled[i].is_none() {
                    let text = format!("{} {}", card.title, card.keywords.join(" "));
                    spelled[i] = spelling_of(&text, fixed);
                }
            }
            let snippet = if has_text {
                let mut s = snippets.snippet(&card.text);
                s.set_snippet_prefix_postfix("<mark>", "</mark>");
                Some(s.to_html()).filter(|h| h.contains("<mark>"))
            } else {
                None
            }
            .or_else(|| {
                let excerpt: String = card.text.chars().take(200).collect();
                (!excerpt.is_empty()).then(|| html_escape(&excerpt))
            });
            items.push(Hit::from_card(card, score, snippet));
        }
        let did_you_mean = (!plan.corrections.is_empty()).then(|| {
            let mut out = String::new();
            let mut at = 0;
            for (i, (_, fixed, from, to)) in plan.corrections.iter().enumerate() {
                out.push_str(&plan.text[at..*from]);
                out.push_str(spelled[i].as_deref().unwrap_or(fixed));
                at = *to;
            }
            out.push_str(&plan.text[at..]);
            out
        });
        let facet_counts = facet_counts.unwrap_or_default();
        let mut out = Facets {
            approximate: facet_counts.approximate,
            ..Facets::default()
        };
        let locale = req.locale;
        let list = |group: &str| -> Vec<FacetCount> {
            let mut v: Vec<FacetCount> = facet_counts
                .by_group
                .get(group)
                .into_iter()
                .flatten()
                .map(|(value, count)| FacetCount {
                    value: (*value).to_owned(),
                    label: facet_label(group, value, locale),
                    count: *count,
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
            v
        };
        out.kind = list(facets::KIND);
        out.priority_area = list(facets::PRIORITY);
        out.trl = list(facets::TRL);
        out.ip_status = list(facets::IP);
        out.transfer_mode = list(facets::MODE);
        let mut fields = list(facets::FIELD);
        fields.extend(list(facets::SECTOR));
        out.field = fields;
        Ok(SearchResponse {
            total,
            items,
            facets: out,
            relaxed,
            matched_terms,
            dropped_terms,
            did_you_mean,
        })
    }

    /// Completions for a search box: titles and keywords that contain the typed words, the
    /// last one as a prefix, diacritics ignored.
    pub fn suggest(
        &self,
        q: &str,
        kind: Option<Kind>,
        limit: usize,
    ) -> Result<Vec<Suggestion>, SearchError> {
        let words = folded(q);
        let out = self.suggest_words(&words, kind, limit)?;
        if !out.is_empty() {
            return Ok(out);
        }
        // Nothing: try again with each word no listing uses corrected (a letter dropped,
        // added, changed or swapped). A missing tone mark needs nothing: words are folded.
        let searcher = self.searcher();
        let all = self.fields().all;
        let mut changed = false;
        let fixed: Vec<String> = words
            .iter()
            .map(|w| {
                let unused = searcher.doc_freq(&term(all, w)).unwrap_or(0) == 0;
                match unused.then(|| correct(&searcher, all, w)).flatten() {
                    Some(c) => {
                        changed = true;
                        c
                    }
                    None => w.clone(),
                }
            })
            .collect();
        if changed {
            self.suggest_words(&fixed, kind, limit)
        } else {
            Ok(out)
        }
    }

    fn suggest_words(
        &self,
        words: &[String],
        kind: Option<Kind>,
        limit: usize,
    ) -> Result<Vec<Suggestion>, SearchError> {
        let f = *self.fields();
        let Some((last, first)) = words.split_last() else {
            return Ok(Vec::new());
        };
        // Completion draws on titles, keywords and experts' names.
        let either = |make: &dyn Fn(Field) -> Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                [f.title, f.keywords, f.name]
                    .into_iter()
                    .map(|fld| (Occur::Should, make(fld)))
                    .collect(),
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in first {
            clauses.push((Occur::Must, either(&|fld| term_query(fld, w, 1.0))));
        }
        let pattern = format!("{}.*", last);
        let prefix = |fld: Field| -> Box<dyn Query> {
            match RegexQuery::from_pattern(&pattern, fld) {
                Ok(q) => Box::new(q),
                Err(_) => Box::new(TermQuery::new(term(fld, last), IndexRecordOption::Basic)),
            }
        };
        clauses.push((Occur::Must, either(&prefix)));
        if let Some(k) = kind {
            clauses.push(filter(term_query(f.kind, k.as_str(), 1.0)));
        }
        let searcher = self.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit * 4).order_by_score(),
        )?;
        let wanted = words.join(" ");
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(card) = card_of(&doc, &f) else {
                continue;
            };
            let candidates =
                std::iter::once(card.title.clone()).chain(card.keywords.iter().cloned());
            for text in candidates {
                let flat = folded(&text).join(" ");
                let starts_a_word =
                    flat.starts_with(&wanted) || flat.contains(&format!(" {wanted}"));
                if starts_a_word && seen.insert(flat) {
                    out.push(Suggestion {
                        text,
                        kind: card.kind,
                        id: card.id,
                    });
                }
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }
}

/// One completion.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub text: String,
    /// The listing it comes from.
    pub kind: Kind,
    pub id: i64,
}
