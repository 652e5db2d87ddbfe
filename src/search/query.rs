//! Queries: text relevance for Vietnamese and English, filters, facets, snippets,
//! completion.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Score, TantivyDocument, Term};
use utoipa::ToSchema;

use super::analysis::{self, folded, has_diacritics, nfc, pairs, tokens};
use super::facets::SampledFacets;
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
pub const W_TITLE_PAIR: f32 = 2.0;
pub const W_KEYWORD_PAIR: f32 = 1.5;
pub const W_BODY_PAIR: f32 = 0.75;
pub const W_EXACT: f32 = 0.6;
/// Queries of up to this many words require all of them; longer ones most of them.
const AND_UP_TO: usize = 4;

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

fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
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

/// The scored part of a query for free text, or `None` when it has no words.
pub fn text_query(f: &Fields, q: &str) -> Option<Box<dyn Query>> {
    let q = nfc(q);
    let words = folded(&q);
    let stems = tokens(&mut analysis::en_stem(), &q);
    let mut seen = HashSet::new();
    let mut per_word: Vec<Box<dyn Query>> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if !seen.insert(w.clone()) {
            continue;
        }
        let mut fields: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Should, term_query(f.title, w, W_TITLE)),
            (Occur::Should, term_query(f.keywords, w, W_KEYWORDS)),
            (Occur::Should, term_query(f.summary, w, W_SUMMARY)),
            (Occur::Should, term_query(f.body, w, W_BODY)),
        ];
        if let Some(stem) = stems.get(i) {
            fields.push((Occur::Should, term_query(f.title_en, stem, W_TITLE)));
            fields.push((Occur::Should, term_query(f.body_en, stem, W_BODY)));
        }
        per_word.push(Box::new(BooleanQuery::new(fields)));
    }
    if per_word.is_empty() {
        return None;
    }
    let n = per_word.len();
    let words_query: Box<dyn Query> = if n <= AND_UP_TO {
        Box::new(BooleanQuery::new(
            per_word.into_iter().map(|q| (Occur::Must, q)).collect(),
        ))
    } else {
        let mut b = BooleanQuery::new(per_word.into_iter().map(|q| (Occur::Should, q)).collect());
        b.set_minimum_number_should_match((n * 3).div_ceil(5));
        Box::new(b)
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, words_query)];
    for p in pairs(&q).split_whitespace().collect::<HashSet<_>>() {
        clauses.push((Occur::Should, term_query(f.title_pairs, p, W_TITLE_PAIR)));
        clauses.push((
            Occur::Should,
            term_query(f.keywords_pairs, p, W_KEYWORD_PAIR),
        ));
        clauses.push((Occur::Should, term_query(f.body_pairs, p, W_BODY_PAIR)));
    }
    if has_diacritics(&q) {
        for e in tokens(&mut analysis::vi_exact(), &q)
            .into_iter()
            .collect::<HashSet<_>>()
        {
            clauses.push((Occur::Should, term_query(f.exact, &e, W_EXACT)));
        }
    }
    Some(Box::new(BooleanQuery::new(clauses)))
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

const FACET_GROUPS: [(&str, &str); 5] = [
    ("/kind", "kind"),
    ("/priority", "priority_area"),
    ("/trl", "trl"),
    ("/ip", "ip_status"),
    ("/mode", "transfer_mode"),
];

impl SearchIndex {
    /// Runs a search request.
    pub fn search(&self, req: &Request) -> Result<SearchResponse, SearchError> {
        let searcher = self.searcher();
        let generation = searcher.generation().generation_id();
        if let Some(hit) = self.results.get(generation, req) {
            return Ok((*hit).clone());
        }
        let res = self.search_on(&searcher, req)?;
        self.results.put(generation, req, Arc::new(res.clone()));
        Ok(res)
    }

    fn search_on(
        &self,
        searcher: &tantivy::Searcher,
        req: &Request,
    ) -> Result<SearchResponse, SearchError> {
        let f = *self.fields();
        let text = text_query(&f, &req.q);
        let has_text = text.is_some();
        let mut clauses = filter_clauses(&f, &req.filters);
        let query: Box<dyn Query> = match text {
            Some(t) => {
                clauses.push((Occur::Must, t));
                Box::new(BooleanQuery::new(clauses))
            }
            None if clauses.is_empty() => Box::new(AllQuery),
            None => Box::new(BooleanQuery::new(clauses)),
        };
        let mut roots: Vec<&'static str> = FACET_GROUPS.iter().map(|(p, _)| *p).collect();
        roots.push("/field");
        roots.push("/sector");
        let facets = SampledFacets::new(roots);
        let page = TopDocs::with_limit(req.limit.max(1)).and_offset(req.offset);
        // One pass over the matches: ranking, the total and the facets together. Every match
        // is visited anyway (counts and facets need them all, and an intersection of
        // per-word unions is not pruned), so a second pass would only repeat the work.
        let (total, facet_counts, hits): (usize, _, Vec<(Score, DocAddress)>) =
            if req.sort == SortBy::Relevance && has_text {
                searcher.search(&query, &(Count, facets, page.order_by_score()))?
            } else {
                let (total, facet_counts, hits) = searcher.search(
                    &query,
                    &(
                        Count,
                        facets,
                        page.order_by_fast_field::<i64>("published", Order::Desc),
                    ),
                )?;
                let hits = hits.into_iter().map(|(_, a)| (0.0, a)).collect();
                (total, facet_counts, hits)
            };
        let snippets = {
            let terms: BTreeMap<String, Score> =
                folded(&req.q).into_iter().map(|t| (t, 1.0)).collect();
            let mut g = SnippetGenerator::new(terms, analysis::vi_fold(), f.body, 200);
            g.set_max_num_chars(200);
            g
        };
        let mut items = Vec::with_capacity(hits.len());
        for (score, addr) in hits.into_iter().take(req.limit) {
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
        let list = |path: &str| -> Vec<FacetCount> {
            let mut v: Vec<FacetCount> = facet_counts
                .by_root
                .get(path)
                .map(|values| {
                    values
                        .iter()
                        .filter(|(_, c)| **c > 0)
                        .map(|(value, count)| FacetCount {
                            value: value.clone(),
                            count: *count,
                        })
                        .collect()
                })
                .unwrap_or_default();
            v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
            v
        };
        out.kind = list("/kind");
        out.priority_area = list("/priority");
        out.trl = list("/trl");
        out.ip_status = list("/ip");
        out.transfer_mode = list("/mode");
        let mut fields = list("/field");
        fields.extend(list("/sector"));
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
