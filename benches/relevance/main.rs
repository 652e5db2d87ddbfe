//! Relevance on the blind judged sets over the demo data, per query class and split,
//! beside two baselines: plain BM25 with OR semantics over folded text (tantivy, one field,
//! no bonuses, no glossary) and PostgreSQL full-text search (`plainto_tsquery` over an
//! unaccented, weighted tsvector, ranked by `ts_rank`). Also need → technology and
//! need → expert matching on its judged set.
//!
//! cargo bench --bench relevance [-- --pg postgres://postgres@127.0.0.1:55433/postgres] [--verbose]
//!
//! Printed as Markdown for BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common.rs"]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::BufReader;
use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::Text;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;
use techex::accounts::model::Locale;
use techex::app::AppState;
use techex::catalog::model::{Kind, ListingRow};
use techex::config::{Secret, Settings};
use techex::search::query::{card_of, Filters, Request, SortBy};

use common::{ndcg, pg_load};

#[derive(serde::Deserialize)]
struct Judged {
    #[serde(default)]
    id: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    split: String,
    kind: Option<String>,
    query: String,
    relevant: HashMap<String, u32>,
}

#[derive(serde::Deserialize)]
struct MatchJudged {
    need: String,
    split: String,
    technologies: HashMap<String, u32>,
    experts: HashMap<String, u32>,
}

#[derive(QueryableByName)]
struct ExtId {
    #[diesel(sql_type = Text)]
    external_id: String,
}

fn load<T: serde::de::DeserializeOwned>(name: &str) -> Vec<T> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/relevance")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => serde_json::from_str(&s).unwrap_or_else(|e| panic!("{name}: {e}")),
        Err(_) => Vec::new(),
    }
}

#[derive(Default, Clone, Copy)]
struct Score {
    n: usize,
    ours: f64,
    bm25: f64,
    pg: f64,
    zero: usize,
}

fn main() {
    let mut pg_url = None;
    let mut verbose = false;
    let mut probe: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--pg" => pg_url = args.next(),
            "--verbose" => verbose = true,
            "--query" => probe = args.next(),
            _ => {}
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/relevance");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let mut s = Settings::defaults().unwrap();
    s.database.url = Secret::new(root.join("demo.db").to_string_lossy().into_owned());
    s.search.index_dir = root.join("index");
    s.email.file_dir = root.join("mail");
    s.search.result_cache_entries = 0;
    let demo = root.join("demo.jsonl");
    std::fs::write(&demo, techex::demo::jsonl()).unwrap();
    let mut state = AppState::prepare(s).unwrap();
    techex::imports::import(
        &state.db,
        BufReader::new(std::fs::File::open(&demo).unwrap()),
        None,
        &|_| {},
    )
    .unwrap();
    let index = techex::search::open(&mut state).unwrap();
    let f = *index.fields();
    let searcher = index.searcher();
    if let Some(q) = probe {
        // One query, for looking into a ranking: the plan and the top hits with scores.
        let plan = techex::search::query::plan(&searcher, &f, &q);
        println!("{plan:#?}");
        for step in 0..plan.steps() {
            let Some(t) = plan.query(&f, step) else {
                continue;
            };
            let top = searcher
                .search(&t.required, &TopDocs::with_limit(5).order_by_score())
                .unwrap();
            let n = searcher
                .search(&t.required, &tantivy::collector::Count)
                .unwrap();
            let ids: Vec<String> = top
                .iter()
                .filter_map(|(_, a)| {
                    let doc: tantivy::TantivyDocument = searcher.doc(*a).ok()?;
                    card_of(&doc, &f).and_then(|c| c.external_id)
                })
                .collect();
            println!(
                "step {step} relaxed={} matches={n} top={ids:?}",
                plan.is_relaxed(step)
            );
        }
        let req = Request {
            q,
            filters: Filters::default(),
            limit: 10,
            offset: 0,
            sort: SortBy::Relevance,
            locale: Locale::Vi,
        };
        let res = index.search(&req).unwrap();
        println!(
            "relaxed={} matched={:?} dropped={:?}",
            res.relaxed, res.matched_terms, res.dropped_terms
        );
        for h in &res.items {
            println!("{:7.3} {:?} {}", h.score, h.external_id, h.title);
        }
        return;
    }
    let mut pg = pg_url.map(|url| {
        let mut conn = PgConnection::establish(&url).expect("--pg: connect");
        pg_load(&mut conn, "techex_relevance_demo", &demo);
        conn
    });

    let mut judged: Vec<Judged> = ["a", "b", "c", "d", "e"]
        .iter()
        .flat_map(|part| load::<Judged>(&format!("queries-{part}.json")))
        .collect();
    let mut old: Vec<Judged> = load("judgments.json");
    for j in &mut old {
        j.class = "earlier set".into();
        j.split = "tuning".into();
        if j.kind.as_deref() == Some("any") {
            j.kind = None;
        }
    }
    judged.extend(old);
    let mut table: BTreeMap<(String, String), Score> = BTreeMap::new();
    for j in &judged {
        let kind = j.kind.as_deref().and_then(|k| Kind::parse(k).ok());
        let req = Request {
            q: j.query.clone(),
            filters: Filters {
                kind,
                ..Filters::default()
            },
            limit: 10,
            offset: 0,
            sort: SortBy::Relevance,
            locale: Locale::Vi,
        };
        let res = index.search(&req).unwrap();
        let ours: Vec<String> = res
            .items
            .iter()
            .filter_map(|h| h.external_id.clone())
            .collect();
        // Plain BM25, OR of the folded words on the one all-text field.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in techex::search::analysis::folded(&j.query) {
            words.push((
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.all, &w),
                    IndexRecordOption::WithFreqs,
                )),
            ));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(words))));
        if let Some(k) = kind {
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.kind, k.as_str()),
                        IndexRecordOption::Basic,
                    )),
                    0.0,
                )),
            ));
        }
        let bm25: Vec<String> = searcher
            .search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(10).order_by_score(),
            )
            .unwrap()
            .into_iter()
            .filter_map(|(_, a)| {
                let doc: tantivy::TantivyDocument = searcher.doc(a).ok()?;
                card_of(&doc, &f).and_then(|c| c.external_id)
            })
            .collect();
        let pg_ranked: Vec<String> = pg
            .as_mut()
            .map(|conn| {
                let kind_clause = kind
                    .map(|k| format!("AND kind = '{}'", k.as_str()))
                    .unwrap_or_default();
                let sql = format!(
                    "SELECT external_id FROM techex_relevance_demo, plainto_tsquery('simple', unaccent($1)) q \
                     WHERE tsv @@ q {kind_clause} ORDER BY ts_rank(tsv, q) DESC LIMIT 10"
                );
                diesel::sql_query(sql)
                    .bind::<Text, _>(&j.query)
                    .load::<ExtId>(conn)
                    .unwrap()
                    .into_iter()
                    .map(|r| r.external_id)
                    .collect()
            })
            .unwrap_or_default();
        let score = ndcg(&ours, &j.relevant);
        if verbose {
            println!(
                "{:<5} {:<14} {:<8} {score:.2} (bm25 {:.2}) relaxed={} dym={:?} {:<60} → {}",
                j.id,
                j.class,
                j.split,
                ndcg(&bm25, &j.relevant),
                res.relaxed,
                res.did_you_mean,
                j.query.chars().take(60).collect::<String>(),
                ours.join(" ")
            );
        }
        for key in [
            (j.split.clone(), j.class.clone()),
            (j.split.clone(), "(all)".to_owned()),
        ] {
            let e = table.entry(key).or_default();
            e.n += 1;
            e.ours += score;
            e.bm25 += ndcg(&bm25, &j.relevant);
            e.pg += ndcg(&pg_ranked, &j.relevant);
            e.zero += usize::from(ours.is_empty());
        }
    }
    println!(
        "\n| split | class | queries | techex | BM25 OR (folded) | PostgreSQL FTS | zero results |"
    );
    println!("|---|---|---|---|---|---|---|");
    for ((split, class), s) in &table {
        let n = s.n as f64;
        let pg = if pg.is_some() {
            format!("{:.3}", s.pg / n)
        } else {
            "—".into()
        };
        println!(
            "| {split} | {class} | {} | {:.3} | {:.3} | {pg} | {} |",
            s.n,
            s.ours / n,
            s.bm25 / n,
            s.zero
        );
    }

    // Matching.
    let judged: Vec<MatchJudged> = load("matching.json");
    let rows: HashMap<String, ListingRow> = {
        use techex::db::schema::listings as l;
        let mut conn = state.db.conn().unwrap();
        l::table
            .filter(l::kind.eq("need"))
            .select(ListingRow::as_select())
            .load::<ListingRow>(&mut *conn)
            .unwrap()
            .into_iter()
            .filter_map(|r| r.external_id.clone().map(|e| (e, r)))
            .collect()
    };
    let mut m: BTreeMap<(String, &str), (usize, f64)> = BTreeMap::new();
    for j in &judged {
        let Some(row) = rows.get(&j.need) else {
            continue;
        };
        for (target, rel, name) in [
            (Kind::Technology, &j.technologies, "need → technology"),
            (Kind::Expert, &j.experts, "need → expert"),
        ] {
            if rel.is_empty() {
                continue;
            }
            let ranked: Vec<String> = index
                .matches(row, target, 10, Locale::Vi)
                .unwrap()
                .into_iter()
                .filter_map(|i| i.external_id)
                .collect();
            let score = ndcg(&ranked, rel);
            if verbose {
                println!("{} {name} {score:.2} → {}", j.need, ranked.join(" "));
            }
            let e = m.entry((j.split.clone(), name)).or_default();
            e.0 += 1;
            e.1 += score;
        }
    }
    println!("\n| split | matching | needs | nDCG@10 |");
    println!("|---|---|---|---|");
    for ((split, name), (n, total)) in &m {
        println!("| {split} | {name} | {n} | {:.3} |", total / *n as f64);
    }
    index.shutdown();
}
