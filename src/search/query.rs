//! Queries: text relevance for Vietnamese and English, filters, facets, snippets,
//! completion.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, Query, RangeQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Score, TantivyDocument, Term};
use utoipa::ToSchema;

use super::analysis::{self, folded, has_diacritics, nfc, pairs, tokens};
use super::facets::{self, SampledFacets};
use super::schema::{Card, CardOrg, Fields};
use super::{SearchError, SearchIndex};
use crate::catalog::model::Kind;

/// Field weights, in the spirit of the partnering databases: title above keywords above
/// summary above description.
pub const W_TITLE: f32 = 3.0;
pub const W_KEYWORDS: f32 = 2.0;
pub const W_SUMMARY: f32 = 1.5;
pub const W_BODY: f32 = 1.0;
/// Bonuses for adjacent syllables and for the exact (accented) spelling.
pub const W_PAIR: f32 = 1.5;
pub const W_EXACT: f32 = 0.6;
/// Queries of up to this many words require all of them; longer ones most of them.
const AND_UP_TO: usize = 4;
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
}

fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

/// A scored term query, boosted unless the boost is 1.
pub(crate) fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    let q: Box<dyn Query> = Box::new(TermQuery::new(
        term(field, text),
        IndexRecordOption::WithFreqs,
    ));
    if (boost - 1.0).abs() < f32::EPSILON {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// A free-text query in two parts: what a listing must contain, and what raises its score.
pub struct TextQuery {
    /// Each word somewhere in the listing (most of them for a long query), scored on the
    /// whole text.
    pub required: Box<dyn Query>,
    /// Term queries adding the weight of where a word stands (title, keywords, summary), of
    /// adjacent syllables, and of the exact spelling.
    pub bonuses: Vec<Box<dyn Query>>,
    /// Adjacent syllables of the query found as a unit: scored with every match, since
    /// they reorder the matches most.
    pub pairs: Vec<Box<dyn Query>>,
}

impl TextQuery {
    /// Both parts as one query (every match fully scored): what [`SearchIndex::search`]
    /// computes for its top candidates.
    pub fn combined(self) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, self.required)];
        clauses.extend(self.pairs.into_iter().map(|b| (Occur::Should, b)));
        clauses.extend(self.bonuses.into_iter().map(|b| (Occur::Should, b)));
        Box::new(BooleanQuery::new(clauses))
    }
}

/// The query for free text, or `None` when it has no words.
pub fn text_query(f: &Fields, q: &str) -> Option<TextQuery> {
    let q = nfc(q);
    let words = folded(&q);
    let stems = analysis::differing_stems(&q);
    let mut seen = HashSet::new();
    let mut per_word: Vec<Box<dyn Query>> = Vec::new();
    let mut bonuses: Vec<Box<dyn Query>> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if !seen.insert(w.clone()) {
            continue;
        }
        // An English word also stands for its other forms: English listings carry their
        // stems beside their words. Vietnamese words have no other form.
        let forms: Vec<&str> = std::iter::once(w.as_str())
            .chain(stems.get(i).and_then(Option::as_deref))
            .collect();
        // The word is required somewhere in the listing: one term list (two for an English
        // word in another form than its stem).
        let mut anywhere: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for form in &forms {
            anywhere.push((Occur::Should, term_query(f.all, form, W_BODY)));
            // Where it stands adds its weight: title above keywords above summary.
            bonuses.push(term_query(f.title, form, W_TITLE - W_BODY));
            bonuses.push(term_query(f.keywords, form, W_KEYWORDS - W_BODY));
            bonuses.push(term_query(f.summary, form, W_SUMMARY - W_BODY));
        }
        per_word.push(if anywhere.len() == 1 {
            anywhere.pop()?.1
        } else {
            Box::new(BooleanQuery::new(anywhere))
        });
    }
    if per_word.is_empty() {
        return None;
    }
    let n = per_word.len();
    let required: Box<dyn Query> = if n == 1 {
        per_word.pop()?
    } else if n <= AND_UP_TO {
        Box::new(BooleanQuery::new(
            per_word.into_iter().map(|q| (Occur::Must, q)).collect(),
        ))
    } else {
        let mut b = BooleanQuery::new(per_word.into_iter().map(|q| (Occur::Should, q)).collect());
        b.set_minimum_number_should_match((n * 3).div_ceil(5));
        Box::new(b)
    };
    let pairs: Vec<Box<dyn Query>> = pairs(&q)
        .split_whitespace()
        .collect::<HashSet<_>>()
        .into_iter()
        .map(|p| term_query(f.pairs, p, W_PAIR))
        .collect();
    if has_diacritics(&q) {
        for e in tokens(&mut analysis::vi_exact(), &q)
            .into_iter()
            .collect::<HashSet<_>>()
        {
            bonuses.push(term_query(f.exact, &e, W_EXACT));
        }
    }
    Some(TextQuery {
        required,
        bonuses,
        pairs,
    })
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
        let text = text_query(&f, &req.q);
        let mut clauses = filter_clauses(&f, &req.filters);
        let (query, bonuses): (Box<dyn Query>, _) = match text {
            Some(t) => {
                clauses.push((Occur::Must, t.required));
                clauses.extend(t.pairs.into_iter().map(|p| (Occur::Should, p)));
                (Box::new(BooleanQuery::new(clauses)), Some(t.bonuses))
            }
            None if clauses.is_empty() => (Box::new(AllQuery), None),
            None => (Box::new(BooleanQuery::new(clauses)), None),
        };
        let has_text = bonuses.is_some();
        let facets = SampledFacets;
        let wanted = req.offset + req.limit.max(1);
        // One pass over the matches: the total, the facets and the best candidates together.
        // Every match is visited anyway (counts and facets need them all), so a second pass
        // would only repeat the work. Relevance ranks in two steps: the matches are scored on
        // their whole text, and the best of them get the bonuses added and are sorted again.
        let (total, facet_counts, hits): (usize, _, Vec<(Score, DocAddress)>) = match bonuses {
            Some(bonuses) if req.sort == SortBy::Relevance => {
                let window = TopDocs::with_limit(wanted.max(RERANK_WINDOW)).order_by_score();
                let (total, facet_counts, candidates) =
                    searcher.search(&query, &(Count, facets, window))?;
                let mut hits = rerank(searcher, &bonuses, candidates)?;
                hits.truncate(wanted);
                (total, facet_counts, hits)
            }
            _ => {
                let page = TopDocs::with_limit(wanted)
                    .order_by_fast_field::<i64>("published", Order::Desc);
                let (total, facet_counts, hits) =
                    searcher.search(&query, &(Count, facets, page))?;
                let hits = hits.into_iter().map(|(_, a)| (0.0, a)).collect();
                (total, facet_counts, hits)
            }
        };
        let snippets = {
            let terms: BTreeMap<String, Score> =
                folded(&req.q).into_iter().map(|t| (t, 1.0)).collect();
            let mut g = SnippetGenerator::new(terms, analysis::vi_fold(), f.all, 200);
            g.set_max_num_chars(200);
            g
        };
        let mut items = Vec::with_capacity(hits.len());
        for (score, addr) in hits.into_iter().skip(req.offset).take(req.limit) {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(card) = card_of(&doc, &f) else {
                continue;
            };
            let snippet = if has_text {
                let mut s = snippets.snippet(&card.text);
                s.set_snippet_prefix_postfix("<mark>", "</mark>");
                Some(s.to_html()).filter(|h| !h.is_empty())
            } else {
                None
            }
            .or_else(|| {
                let excerpt: String = card.text.chars().take(200).collect();
                (!excerpt.is_empty()).then(|| html_escape(&excerpt))
            });
            items.push(Hit::from_card(card, score, snippet));
        }
        let mut out = Facets {
            approximate: facet_counts.approximate,
            ..Facets::default()
        };
        let list = |group: &str| -> Vec<FacetCount> {
            let mut v: Vec<FacetCount> = facet_counts
                .by_group
                .get(group)
                .into_iter()
                .flatten()
                .map(|(value, count)| FacetCount {
                    value: (*value).to_owned(),
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
        let f = *self.fields();
        let words = folded(q);
        let Some((last, first)) = words.split_last() else {
            return Ok(Vec::new());
        };
        let either = |field_a: Field,
                      field_b: Field,
                      make: &dyn Fn(Field) -> Box<dyn Query>|
         -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, make(field_a)),
                (Occur::Should, make(field_b)),
            ]))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in first {
            clauses.push((
                Occur::Must,
                either(f.title, f.keywords, &|fld| term_query(fld, w, 1.0)),
            ));
        }
        let pattern = format!("{}.*", last);
        let prefix = |fld: Field| -> Box<dyn Query> {
            match RegexQuery::from_pattern(&pattern, fld) {
                Ok(q) => Box::new(q),
                Err(_) => Box::new(TermQuery::new(term(fld, last), IndexRecordOption::Basic)),
            }
        };
        clauses.push((Occur::Must, either(f.title, f.keywords, &prefix)));
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
