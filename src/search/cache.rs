//! Results of recent searches, for the index generation they were computed on.
//!
//! Search traffic repeats itself (browsing a priority area, the same few words typed by
//! many people), and a response depends only on the request and the index: the same
//! request on the same searcher generation gets the same answer, so it is kept. A new
//! generation (any commit the reader has picked up) empties the cache, so nothing stale
//! is ever served. Search responses carry only public data, never anything per caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::query::{Request, SearchResponse};

pub struct ResultCache {
    inner: Mutex<Inner>,
}

struct Inner {
    capacity: usize,
    generation: u64,
    entries: HashMap<Request, Arc<SearchResponse>>,
}

impl ResultCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                capacity,
                generation: u64::MAX,
                entries: HashMap::new(),
            }),
        }
    }

    /// Keeps at most `capacity` responses (0: none).
    pub fn set_capacity(&self, capacity: usize) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.capacity = capacity;
            inner.entries.clear();
        }
    }

    pub fn get(&self, generation: u64, req: &Request) -> Option<Arc<SearchResponse>> {
        let inner = self.inner.lock().ok()?;
        if inner.generation != generation {
            return None;
        }
        inner.entries.get(req).cloned()
    }

    pub fn put(&self, generation: u64, req: &Request, res: Arc<SearchResponse>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.capacity == 0 {
            return;
        }
        if inner.generation != generation {
            inner.generation = generation;
            inner.entries.clear();
        }
        if inner.entries.len() >= inner.capacity {
            // Simplest fair eviction: start over. Popular requests come back at once.
            inner.entries.clear();
        }
        inner.entries.insert(req.clone(), res);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::{Facets, Filters, SortBy};

    fn req(q: &str) -> Request {
        Request {
            q: q.into(),
            filters: Filters::default(),
            limit: 10,
            offset: 0,
            sort: SortBy::Relevance,
            locale: crate::accounts::model::Locale::Vi,
        }
    }

    fn res(total: usize) -> Arc<SearchResponse> {
        Arc::new(SearchResponse {
            total,
            items: Vec::new(),
            facets: Facets::default(),
            relaxed: false,
            matched_terms: Vec::new(),
            dropped_terms: Vec::new(),
            did_you_mean: None,
        })
    }

    #[test]
    fn serves_only_the_generation_it_was_computed_on() {
        let c = ResultCache::new(10);
        c.put(1, &req("nuoc thai"), res(7));
        assert_eq!(c.get(1, &req("nuoc thai")).map(|r| r.total), Some(7));
        assert!(c.get(1, &req("nuoc")).is_none());
        // A new generation: nothing from the old one.
        assert!(c.get(2, &req("nuoc thai")).is_none());
        c.put(2, &req("nuoc"), res(3));
        assert!(c.get(1, &req("nuoc thai")).is_none());
        assert_eq!(c.get(2, &req("nuoc")).map(|r| r.total), Some(3));
    }

    #[test]
    fn capacity_bounds_it_and_zero_turns_it_off() {
        let c = ResultCache::new(2);
        for (i, q) in ["a", "b", "c"].into_iter().enumerate() {
            c.put(1, &req(q), res(i));
        }
        assert!(c.get(1, &req("c")).is_some());
        assert!(c.get(1, &req("a")).is_none());
        c.set_capacity(0);
        c.put(1, &req("d"), res(1));
        assert!(c.get(1, &req("d")).is_none());
    }
}
