//! End-to-end benchmark of the exchange at a given scale:
//!
//! ```sh
//! cargo bench --bench exchange -- --listings 100000 [--pg postgres://postgres@127.0.0.1:55433/postgres]
//! ```
//!
//! Generates a deterministic corpus of synthetic listings (realistic Vietnamese and some
//! English vocabulary), imports it into SQLite, builds the index, then measures in-process
//! search and matching latency, HTTP throughput and latency under concurrent load, and the
//! peak memory of the process. With `--pg`, the same corpus and queries run on PostgreSQL
//! full-text search (tsvector, GIN, unaccent, ts_rank) as the baseline, and both engines are
//! scored on the judged relevance set. Results are printed as Markdown for BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common.rs"]
mod common;
mod corpus;
use common::{ndcg, pg_load};

const PG_QUERY: &str = "SELECT id FROM {table}, plainto_tsquery('simple', unaccent($1)) q \
                        WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 10";

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use techex::app::{AppState, Application};
use techex::catalog::model::{Kind, ListingRow};
use techex::config::{Secret, Settings};
use techex::search::query::{Filters, Request, SortBy};

struct Args {
    listings: usize,
    queries: usize,
    http_seconds: u64,
    concurrency: usize,
    pg: Option<String>,
    quick: bool,
    matching_only: bool,
    rounds: usize,
    reuse: bool,
}

fn args() -> Args {
    let mut a = Args {
        listings: 100_000,
        queries: 300,
        http_seconds: 10,
        concurrency: 16,
        pg: None,
        quick: false,
        matching_only: false,
        rounds: 3,
        reuse: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--listings" => a.listings = value().parse().expect("--listings N"),
            "--queries" => a.queries = value().parse().expect("--queries N"),
            "--http-seconds" => a.http_seconds = value().parse().expect("--http-seconds S"),
            "--concurrency" => a.concurrency = value().parse().expect("--concurrency C"),
            "--pg" => a.pg = Some(value()),
            // Times each query is searched in-process (more for profiling).
            "--rounds" => a.rounds = value().parse().expect("--rounds N"),
            // In-process figures only: no HTTP load, no PostgreSQL.
            "--quick" => a.quick = true,
            // Import, index and matching only (for profiling matching).
            "--matching-only" => a.matching_only = true,
            // Keep the database and index of the previous run at this scale (for profiling
            // and A/B runs; the index is rebuilt anyway if its schema version changed).
            "--reuse" => a.reuse = true,
            // cargo bench passes --bench; ignore anything else.
            _ => {}
        }
    }
    a
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    n: usize,
}

fn latency(mut v: Vec<Duration>) -> Latency {
    v.sort_unstable();
    Latency {
        p50: pct(&v, 0.5),
        p99: pct(&v, 0.99),
        max: pct(&v, 1.0),
        n: v.len(),
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn corpus_file(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join(format!("corpus-{n}.jsonl"));
    if path.exists() {
        return path;
    }
    let started = Instant::now();
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    let orgs = (n / 500).max(50);
    for o in corpus::organizations(orgs) {
        writeln!(out, "{o}").unwrap();
    }
    let mut r = corpus::Rng::new(2026);
    for i in 0..n {
        writeln!(out, "{}", corpus::listing(i, orgs, &mut r)).unwrap();
    }
    out.flush().unwrap();
    eprintln!(
        "generated {n} listings in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    path
}

fn settings(dir: &Path) -> Settings {
    let mut s = Settings::defaults().unwrap();
    s.database.url = Secret::new(dir.join("bench.db").to_string_lossy().into_owned());
    s.search.index_dir = dir.join("index");
    s.email.file_dir = dir.join("mail");
    s.server.port = 0;
    s.server.workers = 2;
    s.database.pool_size = 16;
    s
}

fn search_request(q: &str) -> Request {
    Request {
        q: q.to_owned(),
        filters: Filters::default(),
        limit: 10,
        offset: 0,
        sort: SortBy::Relevance,
        locale: techex::accounts::model::Locale::Vi,
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct ExtId {
    #[diesel(sql_type = Text)]
    external_id: String,
}

#[derive(serde::Deserialize)]
struct Judgment {
    query: String,
    kind: String,
    relevant: HashMap<String, u32>,
}

/// The same HTTP load from `wrk` (a C load generator in its own process, when installed):
/// less of the two cores goes to generating load than with the in-process clients.
fn wrk(base: &str, queries: &[String], dir: &Path, clients: usize, seconds: u64) -> Option<String> {
    let found = std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        println!("(wrk not installed: `apt-get install wrk` to measure with it too)");
        return None;
    }
    let list: Vec<String> = queries
        .iter()
        .map(|q| {
            let enc: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
            format!("\"{enc}\"")
        })
        .collect();
    let script = dir.join("search.lua");
    std::fs::write(
        &script,
        format!(
            "local q = {{{}}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", \"/api/v1/search?limit=10&q=\" .. q[(i % #q) + 1])\nend\n",
            list.join(",")
        ),
    )
    .ok()?;
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{clients}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(base)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let errors = text
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .unwrap_or("0 errors")
        .trim()
        .to_owned();
    Some(format!(
        "| search over HTTP with wrk (separate process, 2 threads), {clients} connections, {seconds} s | {} requests/s, p50 {}, p99 {}, {errors} |",
        field("Requests/sec:"),
        field("50%"),
        field("99%"),
    ))
}

fn main() {
    let a = args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&root).unwrap();
    let file = corpus_file(&root, a.listings);
    let dir = root.join(format!("run-{}", a.listings));
    let reuse = a.reuse && dir.join("bench.db").exists();
    if !reuse {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut out = String::new();
    let mut line = |s: String| {
        println!("{s}");
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("## {} listings\n", a.listings));

    // Import, then index.
    let mut state = AppState::prepare(settings(&dir)).unwrap();
    let index = if reuse {
        line("(reusing the database and index of the previous run)\n".into());
        line("| measure | value |".into());
        line("|---|---|".into());
        techex::search::open(&mut state).unwrap()
    } else {
        let started = Instant::now();
        let report = techex::imports::import(
            &state.db,
            BufReader::with_capacity(1 << 20, std::fs::File::open(&file).unwrap()),
            None,
            &|_| {},
        )
        .unwrap();
        let t_import = started.elapsed();
        assert_eq!(report.rejected, 0, "{:?}", report.errors.first());
        let started = Instant::now();
        let index = techex::search::open(&mut state).unwrap();
        let t_index = started.elapsed();
        let n = report.created as f64;
        line("| measure | value |".into());
        line("|---|---|".into());
        line(format!(
            "| import into SQLite | {:.1} s ({:.0} records/s) |",
            t_import.as_secs_f64(),
            n / t_import.as_secs_f64()
        ));
        line(format!(
            "| index build (tantivy) | {:.1} s ({:.0} listings/s) |",
            t_index.as_secs_f64(),
            n / t_index.as_secs_f64()
        ));
        line(format!(
            "| import with indexing, end to end | {:.0} listings/s |",
            n / (t_import + t_index).as_secs_f64()
        ));
        index
    };
    let db_mib = std::fs::metadata(dir.join("bench.db")).map_or(0, |m| m.len()) as f64 / 1048576.0;
    let idx_mib: u64 = std::fs::read_dir(dir.join("index"))
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    line(format!(
        "| database / index size | {db_mib:.0} MiB / {:.0} MiB |",
        idx_mib as f64 / 1048576.0
    ));

    // In-process search.
    let mut r = corpus::Rng::new(7);
    let queries = corpus::queries(a.queries, &mut r);
    let mut search_p50 = 0.0;
    if !a.matching_only {
        for q in &queries {
            index.search(&search_request(q)).unwrap();
        }
        let mut times = Vec::new();
        let mut hits = 0usize;
        for _ in 0..a.rounds {
            for q in &queries {
                let t = Instant::now();
                let res = index.search(&search_request(q)).unwrap();
                times.push(t.elapsed());
                hits += res.total;
            }
        }
        let s = latency(times);
        search_p50 = s.p50;
        line(format!(
            "| search in-process (top 10 + facets + snippets), {} queries | p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (mean {} matches) |",
            s.n,
            s.p50,
            s.p99,
            s.max,
            hits / s.n
        ));

        // The realistic mix, per class and as a whole.
        {
            let mut r = corpus::Rng::new(11);
            let mix = corpus::query_mix(a.queries.max(100), &mut r);
            for (_, q) in &mix {
                index.search(&search_request(q)).unwrap();
            }
            let mut by_class: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
            let mut all = Vec::new();
            for _ in 0..a.rounds {
                for (class, q) in &mix {
                    let t = Instant::now();
                    let res = index.search(&search_request(q)).unwrap();
                    let e = t.elapsed();
                    std::hint::black_box(res.total);
                    by_class.entry(class).or_default().push(e);
                    all.push(e);
                }
            }
            for (class, times) in by_class {
                let s = latency(times);
                line(format!(
                    "| search in-process, mix: {class} ({} searches) | p50 {:.2} ms, p99 {:.2} ms |",
                    s.n, s.p50, s.p99
                ));
            }
            let s = latency(all);
            line(format!(
                "| search in-process, whole mix (70 % short, 10 % long, 10 % English, 10 % typos) | p50 {:.2} ms, p99 {:.2} ms |",
                s.p50, s.p99
            ));
        }

        // The two-step ranking against scoring every match in full (the per-field weights
        // added to every match, not only to the best few hundred): how often their top 10 agree,
        // and what the full scoring would cost (ranking only: no facets, no snippets).
        {
            let searcher = index.searcher();
            let f = *index.fields();
            let (mut same, mut compared) = (0usize, 0usize);
            let mut full_times = Vec::new();
            for q in &queries {
                let Some(text) = techex::search::query::text_query(&searcher, &f, q) else {
                    continue;
                };
                let query = text.combined();
                let t = Instant::now();
                let top = searcher
                    .search(
                        &query,
                        &tantivy::collector::TopDocs::with_limit(10).order_by_score(),
                    )
                    .unwrap();
                full_times.push(t.elapsed());
                let full: Vec<i64> = top
                    .into_iter()
                    .filter_map(|(_, a)| {
                        let doc: tantivy::TantivyDocument = searcher.doc(a).ok()?;
                        techex::search::query::card_of(&doc, &f).map(|c| c.id)
                    })
                    .collect();
                let ours: std::collections::HashSet<i64> = index
                    .search(&search_request(q))
                    .unwrap()
                    .items
                    .iter()
                    .map(|h| h.id)
                    .collect();
                same += full.iter().filter(|id| ours.contains(id)).count();
                compared += full.len();
            }
            let full = latency(full_times);
            line(format!(
                "| top 10 of the two-step ranking (best {} rescored) also in the top 10 of full scoring | {:.1} % (full scoring of every match, top 10 only: p50 {:.2} ms) |",
                techex::search::query::RERANK_WINDOW,
                100.0 * same as f64 / compared.max(1) as f64,
                full.p50
            ));
        }
    }

    // Matching for needs.
    let needs: Vec<ListingRow> = {
        let mut conn = state.db.conn().unwrap();
        use techex::db::schema::listings as l;
        l::table
            .filter(l::kind.eq("need"))
            .order(l::id.asc())
            .limit(200)
            .select(ListingRow::as_select())
            .load(&mut *conn)
            .unwrap()
    };
    for n in needs.iter().take(20) {
        index
            .matches(n, Kind::Technology, 10, techex::accounts::model::Locale::Vi)
            .unwrap();
    }
    let mut times = Vec::new();
    for n in &needs {
        let t = Instant::now();
        index
            .matches(n, Kind::Technology, 10, techex::accounts::model::Locale::Vi)
            .unwrap();
        times.push(t.elapsed());
    }
    let m = latency(times);
    line(format!(
        "| matching, one need → 10 technologies, {} needs | p50 {:.2} ms, p99 {:.2} ms |",
        m.n, m.p50, m.p99
    ));

    let segments = index
        .index()
        .searchable_segment_ids()
        .map_or(0, |s| s.len());
    line(format!(
        "| index segments after the bulk load | {segments} |"
    ));
    if a.quick || a.matching_only {
        index.shutdown();
        return;
    }

    // HTTP under concurrent load.
    let (base, handle) = rt.block_on(async {
        let app = Application::start(state.clone()).unwrap();
        // Cold figures first: every request searches.
        index.set_result_cache(0);
        let base = format!("http://{}", app.addr());
        let handle = app.handle();
        tokio::spawn(app.run());
        (base, handle)
    });
    let queries = Arc::new(queries);
    // The search-box queries, then the realistic mix (70 % short, 10 % long statements,
    // 10 % English, 10 % typos).
    let mix: Arc<Vec<String>> = Arc::new(
        corpus::query_mix(a.queries.max(100), &mut corpus::Rng::new(11))
            .into_iter()
            .map(|(_, q)| q)
            .collect(),
    );
    for (label, list) in [
        ("search-box queries", Arc::clone(&queries)),
        ("the mix", Arc::clone(&mix)),
    ] {
        let (count, errors, http) = rt.block_on(async {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(a.concurrency)
                .build()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(a.http_seconds);
            let mut tasks = Vec::new();
            for c in 0..a.concurrency {
                let client = client.clone();
                let base = base.clone();
                let queries = Arc::clone(&list);
                tasks.push(tokio::spawn(async move {
                    let mut times = Vec::new();
                    let mut errors = 0usize;
                    let mut i = c;
                    while Instant::now() < deadline {
                        let q: String = url::form_urlencoded::byte_serialize(
                            queries[i % queries.len()].as_bytes(),
                        )
                        .collect();
                        i += a.concurrency;
                        let t = Instant::now();
                        match client
                            .get(format!("{base}/api/v1/search?q={q}&limit=10"))
                            .send()
                            .await
                        {
                            Ok(r) if r.status().is_success() => {
                                let _ = r.bytes().await;
                                times.push(t.elapsed());
                            }
                            _ => errors += 1,
                        }
                    }
                    (times, errors)
                }));
            }
            let mut all = Vec::new();
            let mut errors = 0;
            for t in tasks {
                let (times, e) = t.await.unwrap();
                all.extend(times);
                errors += e;
            }
            (all.len(), errors, latency(all))
        });
        line(format!(
            "| search over HTTP, {label}, {} concurrent clients, {} s | {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} errors |",
            a.concurrency,
            a.http_seconds,
            count as f64 / a.http_seconds as f64,
            http.p50,
            http.p99,
            errors
        ));
    }
    if let Some(w) = wrk(&base, &queries, &dir, a.concurrency, a.http_seconds) {
        line(w.replace(
            "search over HTTP with wrk",
            "search over HTTP with wrk, search-box queries",
        ));
    }
    if let Some(w) = wrk(&base, &mix, &dir, a.concurrency, a.http_seconds) {
        line(w.replace(
            "search over HTTP with wrk",
            "search over HTTP with wrk, the mix (70 % short, 10 % long, 10 % English, 10 % typos)",
        ));
    }
    // The same load with the result cache on: the queries repeat, as popular searches do.
    index.set_result_cache(1024);
    if let Some(w) = wrk(&base, &queries, &dir, a.concurrency, a.http_seconds) {
        line(w.replace(
            "search over HTTP with wrk",
            &format!(
                "search over HTTP with wrk, result cache on (the same {} queries repeating)",
                queries.len()
            ),
        ));
    }
    rt.block_on(handle.stop(true));
    line(format!(
        "| peak resident memory of the whole run | {:.0} MiB |",
        peak_rss_mib()
    ));

    // PostgreSQL full-text baseline on the same corpus and queries.
    if let Some(url) = &a.pg {
        let mut conn = PgConnection::establish(url).expect("--pg: connect");
        let t_load = pg_load(&mut conn, "techex_bench", &file);
        line(format!(
            "| PostgreSQL FTS load + GIN index | {:.1} s |",
            t_load.as_secs_f64()
        ));
        let sql = PG_QUERY.replace("{table}", "techex_bench");
        for q in queries.iter() {
            diesel::sql_query(&sql)
                .bind::<Text, _>(q)
                .load::<Id>(&mut conn)
                .unwrap();
        }
        let mut times = Vec::new();
        for _ in 0..3 {
            for q in queries.iter() {
                let t = Instant::now();
                let rows = diesel::sql_query(&sql)
                    .bind::<Text, _>(q)
                    .load::<Id>(&mut conn)
                    .unwrap();
                times.push(t.elapsed());
                std::hint::black_box(rows.iter().map(|r| r.id).sum::<i64>());
            }
        }
        let p = latency(times);
        line(format!(
            "| PostgreSQL FTS (tsvector, GIN, unaccent, ts_rank), same queries | p50 {:.2} ms, p99 {:.2} ms |",
            p.p50, p.p99
        ));
        line(format!(
            "| tantivy p50 advantage | {:.0}× |",
            p.p50 / search_p50.max(1e-6)
        ));

        // Relevance of both on the judged set over the demo data.
        let demo = root.join("demo.jsonl");
        std::fs::write(&demo, techex::demo::jsonl()).unwrap();
        pg_load(&mut conn, "techex_bench_demo", &demo);
        let judged: Vec<Judgment> = serde_json::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance/judgments.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let demo_dir = root.join("run-demo");
        let _ = std::fs::remove_dir_all(&demo_dir);
        std::fs::create_dir_all(&demo_dir).unwrap();
        let mut demo_state = AppState::prepare(settings(&demo_dir)).unwrap();
        techex::imports::import(
            &demo_state.db,
            BufReader::new(std::fs::File::open(&demo).unwrap()),
            None,
            &|_| {},
        )
        .unwrap();
        let demo_index = techex::search::open(&mut demo_state).unwrap();
        let (mut ours, mut theirs) = (0.0, 0.0);
        for j in &judged {
            let kind = Kind::parse(&j.kind).ok();
            let mut req = search_request(&j.query);
            req.filters.kind = kind;
            let ranked: Vec<String> = demo_index
                .search(&req)
                .unwrap()
                .items
                .iter()
                .filter_map(|h| h.external_id.clone())
                .collect();
            ours += ndcg(&ranked, &j.relevant);
            let kind_clause = kind
                .map(|k| format!("AND kind = '{}'", k.as_str()))
                .unwrap_or_default();
            let sql = format!(
                "SELECT external_id FROM techex_bench_demo, plainto_tsquery('simple', unaccent($1)) q \
                 WHERE tsv @@ q {kind_clause} ORDER BY ts_rank(tsv, q) DESC LIMIT 10"
            );
            let ranked: Vec<String> = diesel::sql_query(sql)
                .bind::<Text, _>(&j.query)
                .load::<ExtId>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|r| r.external_id)
                .collect();
            theirs += ndcg(&ranked, &j.relevant);
        }
        let k = judged.len() as f64;
        line(format!(
            "| mean nDCG@10 on the judged set ({} queries): techex / PostgreSQL FTS | {:.3} / {:.3} |",
            judged.len(),
            ours / k,
            theirs / k
        ));
        demo_index.shutdown();
    }
    index.shutdown();
    std::fs::write(root.join(format!("results-{}.md", a.listings)), out).unwrap();
}
