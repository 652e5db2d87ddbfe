//! What both benchmarks share: the PostgreSQL full-text baseline and nDCG.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::Value;

fn sql_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Loads JSON Lines listings into a PostgreSQL table with a weighted, unaccented tsvector.
pub fn pg_load(conn: &mut PgConnection, table: &str, file: &Path) -> Duration {
    let started = Instant::now();
    diesel::sql_query("CREATE EXTENSION IF NOT EXISTS unaccent")
        .execute(conn)
        .unwrap();
    diesel::sql_query(format!("DROP TABLE IF EXISTS {table}"))
        .execute(conn)
        .unwrap();
    diesel::sql_query(format!(
        "CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, external_id TEXT, kind TEXT, title TEXT, keywords TEXT, summary TEXT, body TEXT, tsv tsvector)"
    ))
    .execute(conn)
    .unwrap();
    let mut batch: Vec<String> = Vec::new();
    let flush = |conn: &mut PgConnection, batch: &mut Vec<String>| {
        if batch.is_empty() {
            return;
        }
        diesel::sql_query(format!(
            "INSERT INTO {table} (external_id, kind, title, keywords, summary, body) VALUES {}",
            batch.join(",")
        ))
        .execute(conn)
        .unwrap();
        batch.clear();
    };
    for line in BufReader::new(std::fs::File::open(file).unwrap()).lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let kind = v["kind"].as_str().unwrap_or_default();
        if kind == "organization" {
            continue;
        }
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let list = |k: &str| {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        let (title, keywords, body) = match kind {
            "expert" => (s("full_name"), list("expertise"), s("bio")),
            _ => (
                s("title"),
                list("keywords"),
                format!("{} {}", s("description"), s("applications")),
            ),
        };
        batch.push(format!(
            "({}, {}, {}, {}, {}, {})",
            sql_quote(&s("external_id")),
            sql_quote(kind),
            sql_quote(&title),
            sql_quote(&keywords),
            sql_quote(&s("summary")),
            sql_quote(&body)
        ));
        if batch.len() >= 500 {
            flush(conn, &mut batch);
        }
    }
    flush(conn, &mut batch);
    diesel::sql_query(format!(
        "UPDATE {table} SET tsv = setweight(to_tsvector('simple', unaccent(title)), 'A') || \
         setweight(to_tsvector('simple', unaccent(keywords)), 'B') || \
         setweight(to_tsvector('simple', unaccent(summary)), 'C') || \
         setweight(to_tsvector('simple', unaccent(body)), 'D')"
    ))
    .execute(conn)
    .unwrap();
    diesel::sql_query(format!("CREATE INDEX ON {table} USING gin (tsv)"))
        .execute(conn)
        .unwrap();
    diesel::sql_query(format!("CREATE INDEX ON {table} (kind)"))
        .execute(conn)
        .unwrap();
    diesel::sql_query(format!("ANALYZE {table}"))
        .execute(conn)
        .unwrap();
    started.elapsed()
}

pub fn ndcg(ranked: &[String], relevant: &HashMap<String, u32>) -> f64 {
    let gain = |g: u32| f64::from((1u32 << g) - 1);
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, id)| gain(*relevant.get(id).unwrap_or(&0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<u32> = relevant.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| gain(*g) / ((i + 2) as f64).log2())
        .sum();
    if idcg == 0.0 {
        0.0
    } else {
        dcg / idcg
    }
}
