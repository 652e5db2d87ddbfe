//! Facet counting that stays cheap for broad queries.
//!
//! The values a search counts come from closed vocabularies (the three kinds, the fields and
//! sectors of S&T, the priority areas, TRL, IP statuses, transfer modes), 81 values in all.
//! Each has a bit in one of two 64-bit fast fields of every document, so counting a match is
//! two column reads and a walk over its set bits, instead of reading a list of facet
//! ordinals and resolving them.
//!
//! Up to [`EXACT_UP_TO`] matches per segment every match is counted, so ordinary queries get
//! exact counts. Past that, the matches are sampled at a rate that halves every time the
//! number seen doubles (1 in 2, then 1 in 4, …, drawn at random so that no pattern in the
//! order of the documents can bias it), each sampled match counting for its stride: the
//! estimate stays close for the large groups a facet list shows, the cost grows with the
//! logarithm of the number of matches, and the response says the counts are approximate.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{ColumnIndex, ColumnValues};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::catalog::model::Kind;
use crate::taxonomy;

/// Matches per segment counted one by one before sampling starts.
pub const EXACT_UP_TO: u32 = 4096;

/// The two fast fields holding each document's facet bits.
pub const BITS: [&str; 2] = ["facet_bits_a", "facet_bits_b"];

/// The groups of values, as the search response names them.
pub const KIND: &str = "kind";
pub const FIELD: &str = "field";
pub const SECTOR: &str = "sector";
pub const PRIORITY: &str = "priority";
pub const TRL: &str = "trl";
pub const IP: &str = "ip";
pub const MODE: &str = "mode";

const TRL_VALUES: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Every value counted, with its bit: bit `i` is bit `i % 64` of word `i / 64`.
struct Table {
    values: Vec<(&'static str, &'static str)>,
    bits: HashMap<(&'static str, &'static str), usize>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut values: Vec<(&'static str, &'static str)> = Vec::new();
        values.extend(Kind::ALL.iter().map(|k| (KIND, k.as_str())));
        values.extend(taxonomy::FIELDS.iter().map(|(f, _)| (FIELD, f.code)));
        values.extend(taxonomy::PRIORITY_AREAS.iter().map(|t| (PRIORITY, t.code)));
        values.extend(TRL_VALUES.iter().map(|v| (TRL, *v)));
        values.extend(taxonomy::IP_STATUSES.iter().map(|t| (IP, t.code)));
        values.extend(taxonomy::TRANSFER_MODES.iter().map(|t| (MODE, t.code)));
        assert!(values.len() <= 64, "facet values outgrew the first word");
        values.resize(64, ("", ""));
        values.extend(
            taxonomy::FIELDS
                .iter()
                .flat_map(|(_, sectors)| sectors.iter().map(|s| (SECTOR, s.code))),
        );
        assert!(values.len() <= 128, "facet values outgrew the second word");
        let bits = values
            .iter()
            .enumerate()
            .filter(|(_, (group, _))| !group.is_empty())
            .map(|(i, v)| (*v, i))
            .collect();
        Table { values, bits }
    })
}

/// A fingerprint of the values and their bits (FNV-1a over them, in bit order): part of the
/// index folder's stamp, so that a change to the vocabularies rebuilds the index.
pub fn fingerprint() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (group, value) in &table().values {
        for b in group.bytes().chain([b'/']).chain(value.bytes()).chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A document's facet bits, from its `(group, value)` pairs. Values outside the
/// vocabularies (which validation keeps out) are not counted.
pub fn bits<'a>(values: impl IntoIterator<Item = (&'static str, &'a str)>) -> [u64; 2] {
    let t = table();
    let mut words = [0u64; 2];
    for (group, value) in values {
        if let Some(&i) = t.bits.get(&(group, value)) {
            words[i / 64] |= 1 << (i % 64);
        }
    }
    words
}

/// Counts of every facet value among the matches.
#[derive(Debug, Default, Clone, Copy)]
pub struct SampledFacets;

/// What a search shows of the facets: group → value → count.
#[derive(Debug, Default)]
pub struct FacetTally {
    pub by_group: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    /// True when some counts were estimated from a sample.
    pub approximate: bool,
}

pub struct SampledSegment {
    words: [Arc<dyn ColumnValues<u64>>; 2],
    counts: [u64; 128],
    seen: u32,
    level_end: u32,
    stride: u32,
    /// xorshift state: which matches a sampled level takes.
    rng: u64,
    /// Matches taken but not counted yet, all at the current stride (the batch is counted
    /// before the stride changes; see [`SampledSegment::flush`]).
    pending: Vec<DocId>,
    /// Scratch for a batch's bits.
    bits: Vec<u64>,
}

/// Matches counted together: their bits are read in one batch per column, so the reads
/// (mostly cache misses, the matches being spread over the segment) overlap instead of
/// waiting one by one between two steps of the query.
const BATCH: usize = 64;

impl SampledSegment {
    fn coin(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn count(&mut self, doc: DocId) {
        self.pending.push(doc);
        if self.pending.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let weight = u64::from(self.stride);
        self.bits.resize(self.pending.len(), 0);
        for (w, column) in self.words.iter().enumerate() {
            column.get_vals(&self.pending, &mut self.bits);
            for &x in &self.bits {
                let mut x = x;
                while x != 0 {
                    let bit = x.trailing_zeros() as usize;
                    self.counts[w * 64 + bit] += weight;
                    x &= x - 1;
                }
            }
        }
        self.pending.clear();
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
        let column = |name: &str| -> tantivy::Result<Arc<dyn ColumnValues<u64>>> {
            let column = reader.fast_fields().u64(name)?;
            // Every document has its bits, so the values are read directly by document.
            Ok(match column.index {
                ColumnIndex::Full => column.values,
                _ => column.first_or_default_col(0),
            })
        };
        Ok(SampledSegment {
            words: [column(BITS[0])?, column(BITS[1])?],
            counts: [0; 128],
            seen: 0,
            level_end: EXACT_UP_TO,
            stride: 1,
            rng: 0x9E37_79B9_7F4A_7C15 ^ u64::from(ord),
            pending: Vec::with_capacity(BATCH),
            bits: Vec::with_capacity(BATCH),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<SegmentTally>) -> tantivy::Result<FacetTally> {
        let t = table();
        let mut tally = FacetTally::default();
        let mut counts = [0u64; 128];
        for segment in segments {
            tally.approximate |= segment.sampled;
            for (total, c) in counts.iter_mut().zip(segment.counts) {
                *total += c;
            }
        }
        for (&(group, value), &count) in t.values.iter().zip(&counts) {
            if count > 0 && !group.is_empty() {
                tally
                    .by_group
                    .entry(group)
                    .or_default()
                    .insert(value, count);
            }
        }
        Ok(tally)
    }
}

/// One segment's counts (weighted where sampled).
pub struct SegmentTally {
    counts: [u64; 128],
    sampled: bool,
}

impl SegmentCollector for SampledSegment {
    type Fruit = SegmentTally;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.seen >= self.level_end {
            // The matches taken so far count at the stride they were taken at.
            self.flush();
            let level_start = self.level_end;
            self.stride = self.stride.saturating_mul(2);
            self.level_end = level_start.saturating_add(EXACT_UP_TO.saturating_mul(self.stride));
        }
        let take = self.stride == 1 || self.coin() & u64::from(self.stride - 1) == 0;
        if take {
            self.count(doc);
        }
        self.seen += 1;
    }

    fn harvest(mut self) -> SegmentTally {
        self.flush();
        SegmentTally {
            counts: self.counts,
            sampled: self.stride > 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::query::AllQuery;
    use tantivy::schema::{Schema, FAST};
    use tantivy::{doc, Index};

    #[test]
    fn every_vocabulary_value_has_its_own_bit() {
        let t = table();
        let named = t.values.iter().filter(|(g, _)| !g.is_empty()).count();
        assert_eq!(named, t.bits.len());
        assert_eq!(bits([(KIND, "need")]), bits([(KIND, "need")]));
        assert_ne!(bits([(KIND, "need")]), bits([(KIND, "expert")]));
        let [a, b] = bits([(SECTOR, "207"), (SECTOR, "101"), (TRL, "9")]);
        assert_eq!(a.count_ones(), 1);
        assert_eq!(b.count_ones(), 2);
        assert_eq!(bits([(PRIORITY, "not-a-code")]), [0, 0]);
        assert_eq!(fingerprint(), fingerprint());
    }

    fn index(n: u32) -> Index {
        let mut schema = Schema::builder();
        let a = schema.add_u64_field(BITS[0], FAST);
        let b = schema.add_u64_field(BITS[1], FAST);
        let index = Index::create_in_ram(schema.build());
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for i in 0..n {
            // 70 % technologies, 20 % needs, 10 % experts; every third one in "health".
            let kind = match i % 10 {
                0..=6 => "technology",
                7 | 8 => "need",
                _ => "expert",
            };
            let mut values = vec![(KIND, kind), (SECTOR, "207")];
            if i % 3 == 0 {
                values.push((PRIORITY, "health"));
            }
            let [x, y] = bits(values);
            w.add_document(doc!(a => x, b => y)).unwrap();
        }
        w.commit().unwrap();
        index
    }

    fn tally(n: u32) -> FacetTally {
        let index = index(n);
        let searcher = index.reader().unwrap().searcher();
        searcher.search(&AllQuery, &SampledFacets).unwrap()
    }

    #[test]
    fn counts_are_exact_for_ordinary_queries() {
        let t = tally(4000);
        assert!(!t.approximate);
        assert_eq!(t.by_group[KIND]["technology"], 2800);
        assert_eq!(t.by_group[KIND]["need"], 800);
        assert_eq!(t.by_group[KIND]["expert"], 400);
        assert_eq!(t.by_group[PRIORITY]["health"], 1334);
        assert_eq!(t.by_group[SECTOR]["207"], 4000);
        assert!(!t.by_group.contains_key(MODE));
    }

    #[test]
    fn broad_queries_are_estimated_closely_and_say_so() {
        let n = 100_000;
        let t = tally(n);
        assert!(t.approximate);
        let close = |got: u64, want: f64| (got as f64 - want).abs() / want < 0.05;
        assert!(close(t.by_group[KIND]["technology"], 0.7 * n as f64));
        assert!(close(t.by_group[KIND]["need"], 0.2 * n as f64));
        assert!(close(t.by_group[KIND]["expert"], 0.1 * n as f64));
        assert!(close(t.by_group[PRIORITY]["health"], n as f64 / 3.0));
        assert!(close(t.by_group[SECTOR]["207"], n as f64));
    }
}
