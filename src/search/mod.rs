//! Full-text search over the three catalogues, on tantivy.
//!
//! The database is the source of truth. Every change to a listing writes a row in
//! `listing_changes` in its own transaction; the indexer of each process applies those rows
//! in order and records how far it got inside the tantivy commit (its payload), so a crash
//! or restart resumes without loss and re-applying is harmless (a listing is re-read from
//! the database and replaced by id). Several `serve` processes on one PostgreSQL each keep
//! their own index this way. One writer per process, one long-lived reader.

pub mod analysis;
pub mod cache;
pub mod facets;
pub mod fold;
pub mod glossary;
pub mod handlers;
pub mod plan;
pub mod query;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, Term,
};

use self::schema::{Fields, SCHEMA_VERSION};
use crate::catalog::model::{ListingRow, Status};
use crate::catalog::repo as listings;
use crate::db::schema::{listing_changes as lc, listings as l};
use crate::db::Db;
use crate::http::error::ApiError;
use crate::state::AppState;

const STAMP_FILE: &str = "techex-schema-version";
/// What the index folder is stamped with: the schema version, and a fingerprint of the
/// facet vocabularies (a new sector or priority area changes the facet bits, so the index
/// is rebuilt for it without anyone bumping the version).
fn stamp() -> String {
    format!(
        "{SCHEMA_VERSION}.{:016x}.{:016x}",
        facets::fingerprint(),
        glossary::get().fingerprint()
    )
}
/// Stored cards are compressed in blocks of this size; a search result decompresses the
/// block that holds its card, so smaller blocks than tantivy's 16 KiB cost less per hit
/// (a card is 1–2 KiB) for a slightly larger store.
const DOCSTORE_BLOCK_BYTES: usize = 4096;
/// Indexing memory per writer thread (tantivy needs at least 15 MB each).
const WRITER_MEMORY_PER_THREAD: usize = 40 * 1024 * 1024;
/// Changes read per pass.
const PASS_LIMIT: i64 = 5_000;
/// A sequence number missing for this long belongs to a transaction that rolled back.
const GAP_PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index at {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index: database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("search index: {0}")]
    Other(String),
}

/// How far the index has followed the change log.
#[derive(Debug, Default)]
struct Cursor {
    /// Highest sequence number applied.
    high: i64,
    /// Numbers below `high` not seen yet (their transaction may still commit), with when
    /// they were first missed.
    gaps: BTreeMap<i64, Instant>,
}

impl Cursor {
    /// Where to resume after a restart: before the oldest gap.
    fn safe_point(&self) -> i64 {
        self.gaps.keys().next().map_or(self.high, |g| g - 1)
    }
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// `None` once shut down: the writer's lock on the folder is released with it.
    writer: Mutex<Option<IndexWriter<TantivyDocument>>>,
    cursor: Mutex<Cursor>,
    db: Db,
    ready: AtomicBool,
    stop: AtomicBool,
    wake: (Mutex<bool>, Condvar),
    path: PathBuf,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Why the indexer is not keeping the index in sync, when it is not (see
    /// [`SearchIndex::indexer_fault`]).
    fault: Mutex<Option<String>>,
    /// Recent search responses, for the current searcher generation.
    results: cache::ResultCache,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("path", &self.path)
            .finish()
    }
}

fn open_err(path: &Path, e: impl std::fmt::Display) -> SearchError {
    SearchError::Open {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Removes an index's files, keeping anything a person put there (`.gitignore`).
fn wipe(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".gitignore" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it, or rebuilding it from the database when it is
    /// missing, unreadable, of another schema version, or behind a pruned change log.
    pub fn open(dir: &Path, db: Db) -> Result<Arc<Self>, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| open_err(dir, e))?;
        let (schema, fields) = schema::build();
        let stamp = std::fs::read_to_string(dir.join(STAMP_FILE)).ok();
        let current = stamp.as_deref().map(str::trim) == Some(self::stamp().as_str());
        let existing = if current {
            Index::open_in_dir(dir)
                .ok()
                .filter(|i| i.schema() == schema)
        } else {
            None
        };
        let (index, fresh) = match existing {
            Some(index) => (index, false),
            None => {
                if stamp.is_some() || dir.join("meta.json").exists() {
                    tracing::info!(path = %dir.display(), "search index outdated or unreadable: rebuilding");
                }
                wipe(dir).map_err(|e| open_err(dir, e))?;
                let index = Index::builder()
                    .schema(schema)
                    .settings(IndexSettings {
                        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
                        ..IndexSettings::default()
                    })
                    .create_in_dir(dir)
                    .map_err(|e| open_err(dir, e))?;
                std::fs::write(dir.join(STAMP_FILE), self::stamp())
                    .map_err(|e| open_err(dir, e))?;
                (index, true)
            }
        };
        analysis::register(&index);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let writer = index.writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD).map_err(|e| {
            open_err(
                dir,
                format!("{e} (another techex process uses this folder? give each process its own search.index_dir)"),
            )
        })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| open_err(dir, e))?;
        let resume: i64 = index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let this = Arc::new(Self {
            index,
            reader,
            fields,
            writer: Mutex::new(Some(writer)),
            cursor: Mutex::new(Cursor {
                high: resume,
                gaps: BTreeMap::new(),
            }),
            db,
            ready: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            wake: (Mutex::new(false), Condvar::new()),
            path: dir.to_path_buf(),
            worker: Mutex::new(None),
            fault: Mutex::new(None),
            results: cache::ResultCache::new(0),
        });
        let oldest: Option<i64> = {
            let mut conn = this
                .db
                .conn()
                .map_err(|e| SearchError::Other(e.to_string()))?;
            lc::table
                .select(diesel::dsl::min(lc::seq))
                .first(&mut *conn)?
        };
        let pruned_past_us = oldest.is_some_and(|o| o > resume + 1) && resume > 0;
        if fresh || pruned_past_us {
            this.rebuild(&|_, _| {})?;
        }
        Ok(this)
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Keeps up to `entries` recent search responses per index generation (0: none).
    pub fn set_result_cache(&self, entries: usize) {
        self.results.set_capacity(entries);
    }

    /// A searcher on the last committed state.
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// How far the index has applied the change log (waits for a running pass: call it
    /// off the async threads).
    pub fn position(&self) -> Option<i64> {
        self.cursor.lock().ok().map(|c| c.high)
    }

    /// True once the index has caught up with the database since start-up.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Rebuilds everything from the database. `progress(done, total)` is told as it goes.
    pub fn rebuild(&self, progress: &dyn Fn(u64, u64)) -> Result<u64, SearchError> {
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| SearchError::Other("writer lock poisoned".into()))?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| SearchError::Other("the index is shut down".into()))?;
        let mut conn = self
            .db
            .conn()
            .map_err(|e| SearchError::Other(e.to_string()))?;
        // Read the position first: changes after it are applied again by the next pass.
        let max_seq: Option<i64> = lc::table
            .select(diesel::dsl::max(lc::seq))
            .first(&mut *conn)?;
        let total: i64 = l::table
            .filter(l::status.eq(Status::Published))
            .count()
            .get_result(&mut *conn)?;
        writer.delete_all_documents()?;
        let mut done = 0u64;
        for kind in crate::catalog::model::Kind::ALL {
            let mut after = 0;
            loop {
                let rows = listings::page_after(&mut conn, kind, Status::Published, after, 1_000)?;
                let Some(last) = rows.last() else { break };
                after = last.id;
                self.add_rows(writer, &mut conn, &rows)?;
                done += rows.len() as u64;
                progress(done, total as u64);
            }
        }
        let high = max_seq.unwrap_or(0);
        self.commit(writer, high)?;
        // A bulk load leaves many small segments; one segment answers queries fastest.
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
            self.reader.reload()?;
        }
        let mut cursor = self
            .cursor
            .lock()
            .map_err(|_| SearchError::Other("cursor lock poisoned".into()))?;
        *cursor = Cursor {
            high,
            gaps: BTreeMap::new(),
        };
        self.ready.store(true, Ordering::Release);
        tracing::info!(documents = done, position = high, "search index rebuilt");
        Ok(done)
    }

    fn add_rows(
        &self,
        writer: &mut IndexWriter<TantivyDocument>,
        conn: &mut crate::db::DbConn,
        rows: &[ListingRow],
    ) -> Result<(), SearchError> {
        let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.organization_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let orgs = crate::organizations::repo::briefs(conn, &ids)?;
        for row in rows {
            let org = row.organization_id.and_then(|id| orgs.get(&id));
            let (_, doc) = schema::document(&self.fields, row, org);
            writer.add_document(doc)?;
        }
        Ok(())
    }

    fn commit(
        &self,
        writer: &mut IndexWriter<TantivyDocument>,
        position: i64,
    ) -> Result<(), SearchError> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&position.to_string());
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Applies the changes written since the last pass; answers how many listings it
    /// re-indexed. Callers may run it at any time (tests do, to drive the index).
    pub fn sync_once(&self) -> Result<usize, SearchError> {
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| SearchError::Other("writer lock poisoned".into()))?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| SearchError::Other("the index is shut down".into()))?;
        let mut cursor = self
            .cursor
            .lock()
            .map_err(|_| SearchError::Other("cursor lock poisoned".into()))?;
        let mut conn = self
            .db
            .conn()
            .map_err(|e| SearchError::Other(e.to_string()))?;
        let fresh: Vec<(i64, i64)> = lc::table
            .filter(lc::seq.gt(cursor.high))
            .order(lc::seq.asc())
            .limit(PASS_LIMIT)
            .select((lc::seq, lc::listing_id))
            .load(&mut *conn)?;
        let late: Vec<(i64, i64)> = if cursor.gaps.is_empty() {
            Vec::new()
        } else {
            let wanted: Vec<i64> = cursor.gaps.keys().copied().take(1_000).collect();
            lc::table
                .filter(lc::seq.eq_any(wanted))
                .select((lc::seq, lc::listing_id))
                .load(&mut *conn)?
        };
        let now = Instant::now();
        let mut expected = cursor.high + 1;
        for (seq, _) in &fresh {
            for missing in expected..*seq {
                cursor.gaps.insert(missing, now);
            }
            expected = seq + 1;
        }
        for (seq, _) in &late {
            cursor.gaps.remove(seq);
        }
        cursor
            .gaps
            .retain(|_, since| now.duration_since(*since) < GAP_PATIENCE);
        let mut ids: Vec<i64> = fresh.iter().chain(late.iter()).map(|(_, id)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        if let Some((last, _)) = fresh.last() {
            cursor.high = *last;
        }
        if ids.is_empty() {
            drop(cursor);
            self.ready.store(true, Ordering::Release);
            return Ok(0);
        }
        let rows: Vec<ListingRow> = l::table
            .filter(l::id.eq_any(ids.clone()))
            .select(ListingRow::as_select())
            .load(&mut *conn)?;
        for id in &ids {
            writer.delete_term(Term::from_field_u64(self.fields.id, *id as u64));
        }
        let published: Vec<ListingRow> = rows
            .into_iter()
            .filter(|r| r.status() == Status::Published)
            .collect();
        self.add_rows(writer, &mut conn, &published)?;
        self.commit(writer, cursor.safe_point())?;
        drop(cursor);
        self.ready.store(true, Ordering::Release);
        tracing::debug!(listings = ids.len(), "search index updated");
        Ok(ids.len())
    }

    /// Wakes the indexer now instead of at its next poll.
    pub fn notify(&self) {
        if let Ok(mut flag) = self.wake.0.lock() {
            *flag = true;
            self.wake.1.notify_one();
        }
    }

    /// Stops the indexer thread and waits for it to finish its pass.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        self.notify();
        let handle = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
        // Dropping the writer releases the folder for the next process.
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
    }

    /// Follows the change log on a thread of its own until [`Self::shutdown`], polling every
    /// `interval` (and at once when [`Self::notify`]d). Errors are logged and retried with
    /// back-off.
    fn set_fault(&self, fault: Option<String>) {
        if let Ok(mut f) = self.fault.lock() {
            *f = fault;
        }
    }

    /// Why the index is not being kept in sync with the database, if it is not: the
    /// indexer could not start, has stopped, or its last pass failed (it retries, backing
    /// off up to 30 s, and this clears with the first pass that succeeds). `None` also
    /// where no indexer was started (command-line tools).
    pub fn indexer_fault(&self) -> Option<String> {
        if let Some(f) = self.fault.lock().ok().and_then(|f| f.clone()) {
            return Some(f);
        }
        let stopped = self
            .worker
            .lock()
            .ok()
            .is_some_and(|w| w.as_ref().is_some_and(|h| h.is_finished()));
        (stopped && !self.stop.load(Ordering::Acquire))
            .then(|| "the indexer thread has stopped".to_owned())
    }

    pub fn spawn_indexer(self: &Arc<Self>, interval: Duration) {
        let this = Arc::clone(self);
        let handle = std::thread::Builder::new()
            .name("techex-indexer".into())
            .spawn(move || {
                let mut backoff = interval;
                while !this.stop.load(Ordering::Acquire) {
                    let pass = this.sync_once();
                    this.set_fault(
                        pass.as_ref()
                            .err()
                            .map(|e| format!("indexer pass failed: {e}")),
                    );
                    let wait = match pass {
                        Err(_) if this.stop.load(Ordering::Acquire) => break,
                        Ok(n) if n > 0 => {
                            backoff = interval;
                            Duration::ZERO
                        }
                        Ok(_) => {
                            backoff = interval;
                            interval
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "search indexer pass failed");
                            backoff = (backoff * 2).min(Duration::from_secs(30));
                            backoff
                        }
                    };
                    if wait.is_zero() {
                        continue;
                    }
                    if let Ok(mut flag) = this.wake.0.lock() {
                        if !*flag {
                            if let Ok((f, _)) = this.wake.1.wait_timeout(flag, wait) {
                                flag = f;
                            } else {
                                continue;
                            }
                        }
                        *flag = false;
                    }
                }
            })
            .map_err(|e| {
                tracing::error!(error = %e, "cannot start the search indexer thread");
                self.set_fault(Some(format!("the indexer thread could not start: {e}")));
            })
            .ok();
        if let Ok(mut w) = self.worker.lock() {
            *w = handle;
        }
    }
}

/// Opens this process's index into `state` (rebuilding it from the database when
/// needed), or answers the one already open.
pub fn open(state: &mut AppState) -> anyhow::Result<Arc<SearchIndex>> {
    if let Some(index) = opened(state) {
        return Ok(index);
    }
    let index = SearchIndex::open(&state.settings.search.index_dir, state.db.clone())?;
    let shared: Arc<dyn std::any::Any + Send + Sync> = index.clone();
    state.search = Some(shared);
    Ok(index)
}

/// The index open in this process, if any.
pub fn opened(state: &AppState) -> Option<Arc<SearchIndex>> {
    state.search.clone()?.downcast::<SearchIndex>().ok()
}

/// The index, or 503 where this process has none.
pub fn index(state: &AppState) -> Result<Arc<SearchIndex>, ApiError> {
    opened(state)
        .ok_or_else(|| ApiError::Unavailable("the search index is not open in this process".into()))
}

/// Listing changes after `position` that the index has yet to apply.
pub fn lag(conn: &mut crate::db::DbConn, position: i64) -> diesel::QueryResult<i64> {
    lc::table
        .filter(lc::seq.gt(position))
        .count()
        .get_result(conn)
}
