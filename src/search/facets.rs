//! Facet counting that stays cheap for broad queries.
//!
//! Reading a match's facets costs more than finding it. Up to [`EXACT_UP_TO`] matches per
//! segment every match is counted, so ordinary queries get exact counts. Past that, the
//! matches are sampled at a rate that halves every time the number seen doubles
//! (1 in 2, then 1 in 4, …, drawn at random so that no pattern in the order of the
//! documents can bias it), each sampled match counting for its stride: the estimate
//! stays close for the large groups a facet list shows, the cost grows with the
//! logarithm of the number of matches, and the response says the counts are approximate.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, FacetCollector, FacetCounts, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Matches per segment counted one by one before sampling starts.
pub const EXACT_UP_TO: u32 = 2048;

const FIELD: &str = "facets";

/// Counts under each root facet (`/kind`, `/priority`, …), with their sampling weight.
pub struct SampledFacets {
    roots: Vec<&'static str>,
}

impl SampledFacets {
    pub fn new(roots: Vec<&'static str>) -> Self {
        Self { roots }
    }

    fn facet_collector(&self) -> FacetCollector {
        let mut c = FacetCollector::for_field(FIELD);
        for r in &self.roots {
            c.add_facet(*r);
        }
        c
    }
}

/// What a search shows of the facets: root → value → count.
#[derive(Debug, Default)]
pub struct FacetTally {
    pub by_root: BTreeMap<&'static str, BTreeMap<String, u64>>,
    /// True when some counts were estimated from a sample.
    pub approximate: bool,
}

pub struct SampledSegment {
    roots: Vec<&'static str>,
    reader: SegmentReader,
    ord: SegmentOrdinal,
    /// One collector per sampling level, with the weight of each match it saw.
    levels: Vec<(u64, <FacetCollector as Collector>::Child)>,
    seen: u32,
    level_start: u32,
    level_end: u32,
    stride: u32,
    /// xorshift state: which matches a sampled level takes.
    rng: u64,
}

impl SampledSegment {
    fn coin(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn start_level(&mut self) {
        let mut c = FacetCollector::for_field(FIELD);
        for r in &self.roots {
            c.add_facet(*r);
        }
        if let Ok(child) = c.for_segment(self.ord, &self.reader) {
            self.levels.push((u64::from(self.stride), child));
        }
    }
}

impl Collector for SampledFacets {
    type Fruit = FacetTally;
    type Child = SampledSegment;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SampledSegment> {
        // The first level is made at once, so that a field error surfaces here.
        let first = self.facet_collector().for_segment(ord, reader)?;
        Ok(SampledSegment {
            roots: self.roots.clone(),
            reader: reader.clone(),
            ord,
            levels: vec![(1, first)],
            seen: 0,
            level_start: 0,
            level_end: EXACT_UP_TO,
            stride: 1,
            rng: 0x9E37_79B9_7F4A_7C15 ^ u64::from(ord),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<SegmentTally>) -> tantivy::Result<FacetTally> {
        let mut tally = FacetTally::default();
        for segment in segments {
            tally.approximate |= segment.levels.len() > 1;
            for (weight, counts) in segment.levels {
                for root in &self.roots {
                    let values = tally.by_root.entry(*root).or_default();
                    for (facet, count) in counts.get(*root) {
                        let value = facet
                            .to_path()
                            .last()
                            .map(|s| s.to_string())
                            .unwrap_or_default();
                        *values.entry(value).or_default() += weight * count;
                    }
                }
            }
        }
        Ok(tally)
    }
}

/// One segment's counts, level by level.
pub struct SegmentTally {
    levels: Vec<(u64, FacetCounts)>,
}

impl SegmentCollector for SampledSegment {
    type Fruit = SegmentTally;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.seen >= self.level_end {
            self.level_start = self.level_end;
            self.stride = self.stride.saturating_mul(2);
            self.level_end = self
                .level_start
                .saturating_add(EXACT_UP_TO.saturating_mul(self.stride));
            self.start_level();
        }
        let take = self.stride == 1 || self.coin() & u64::from(self.stride - 1) == 0;
        if take {
            if let Some((_, level)) = self.levels.last_mut() {
                level.collect(doc, score);
            }
        }
        self.seen += 1;
    }

    fn harvest(self) -> SegmentTally {
        SegmentTally {
            levels: self
                .levels
                .into_iter()
                .map(|(w, c)| (w, c.harvest()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::query::AllQuery;
    use tantivy::schema::{Facet, FacetOptions, Schema};
    use tantivy::{doc, Index};

    fn index(n: u32) -> Index {
        let mut schema = Schema::builder();
        let f = schema.add_facet_field(FIELD, FacetOptions::default());
        let index = Index::create_in_ram(schema.build());
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for i in 0..n {
            // 70 % technologies, 20 % needs, 10 % experts; every third one in "health".
            let kind = match i % 10 {
                0..=6 => "/kind/technology",
                7 | 8 => "/kind/need",
                _ => "/kind/expert",
            };
            let mut d = doc!(f => Facet::from(kind));
            if i % 3 == 0 {
                d.add_facet(f, Facet::from("/priority/health"));
            }
            w.add_document(d).unwrap();
        }
        w.commit().unwrap();
        index
    }

    fn tally(n: u32) -> FacetTally {
        let index = index(n);
        let searcher = index.reader().unwrap().searcher();
        searcher
            .search(&AllQuery, &SampledFacets::new(vec!["/kind", "/priority"]))
            .unwrap()
    }

    #[test]
    fn counts_are_exact_for_ordinary_queries() {
        let t = tally(2000);
        assert!(!t.approximate);
        assert_eq!(t.by_root["/kind"]["technology"], 1400);
        assert_eq!(t.by_root["/kind"]["need"], 400);
        assert_eq!(t.by_root["/kind"]["expert"], 200);
        assert_eq!(t.by_root["/priority"]["health"], 667);
    }

    #[test]
    fn broad_queries_are_estimated_closely_and_say_so() {
        let n = 100_000;
        let t = tally(n);
        assert!(t.approximate);
        let close = |got: u64, want: f64| (got as f64 - want).abs() / want < 0.05;
        assert!(close(t.by_root["/kind"]["technology"], 0.7 * n as f64));
        assert!(close(t.by_root["/kind"]["need"], 0.2 * n as f64));
        assert!(close(t.by_root["/kind"]["expert"], 0.1 * n as f64));
        assert!(close(t.by_root["/priority"]["health"], n as f64 / 3.0));
    }
}
