//! The bilingual glossary: Vietnamese and English names of the same technical concept
//! (`xử lý nước thải | wastewater treatment | sewage treatment`), with the vi/en labels of
//! the taxonomy, so that an English query finds Vietnamese listings and the other way
//! round, and a synonym finds what the listing calls it.
//!
//! Each entry is a concept with an id (`g123`). At index time every concept named in a
//! listing, in either language, goes into the listing's `concepts` field; at query time the
//! concepts named in the query are looked up there, beside the query's own words. Longer
//! names are matched first (`xử lý nước thải dệt nhuộm` before `nước thải`), and a span of
//! text names one concept at most.
//!
//! Vietnamese names match under the accent rule: on accented text, the accented spelling
//! (with either tone-mark placement: `thủy`/`thuỷ`, `hóa`/`hoá`); on text typed without
//! diacritics, the folded spelling. English names match on stems (`membranes` names
//! `membrane`).
//!
//! The entries live in `glossary/*.tsv` (one concept per line: Vietnamese forms, a tab,
//! English forms, forms separated by ` | `), compiled in; their fingerprint is part of the
//! index stamp, so editing them rebuilds the index.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use tantivy::tokenizer::{TokenStream, Tokenizer};

use super::analysis::nfc;
pub use super::fold::tone_key;
use super::fold::{spellings, FoldTokenizer, MEMO_LIMIT};
use crate::taxonomy;

const SOURCES: &[(&str, &str)] = &[
    ("agriculture", include_str!("glossary/agriculture.tsv")),
    ("core", include_str!("glossary/core.tsv")),
    (
        "culture_society",
        include_str!("glossary/culture_society.tsv"),
    ),
    ("environment", include_str!("glossary/environment.tsv")),
    ("general", include_str!("glossary/general.tsv")),
    ("health", include_str!("glossary/health.tsv")),
    ("ict", include_str!("glossary/ict.tsv")),
    ("synonyms", include_str!("glossary/synonyms.tsv")),
    ("paraphrases", include_str!("glossary/paraphrases.tsv")),
    ("industry", include_str!("glossary/industry.tsv")),
    ("urban", include_str!("glossary/urban.tsv")),
];

/// Longest name, in words, that is looked for.
const MAX_WORDS: usize = 8;

/// One concept: its names in both languages.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub vi: Vec<String>,
    pub en: Vec<String>,
}

/// How a stretch of text is compared with the names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Accented Vietnamese names by their spelling, English by stems: listings, and
    /// queries typed with diacritics.
    Accented,
    /// Vietnamese names folded too: queries typed without diacritics.
    Folded,
}

/// A concept named in a text: the entry and the span of words (token indexes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub concept: u32,
    pub from: usize,
    pub to: usize,
}

pub struct Glossary {
    entries: Vec<Entry>,
    /// Every word used in a name, in any spelling, by number: a word of a text that is
    /// not here is in no name, and names compare as numbers.
    vocab: FxHashMap<String, u32>,
    /// First word of a name → (all its words, concept), longest first; one map for each
    /// of the spellings names are compared in.
    names: [Names; 3],
    fingerprint: u64,
}

/// First word → (every word of the name, concept), by word number.
type Names = FxHashMap<u32, Vec<(Vec<u32>, u32)>>;

/// A word of a text by the numbers of its three spellings in the vocabulary (`None`: in
/// no name), indexed by [`Spelling`].
type Ids = [Option<u32>; 3];

/// The spelling a name is written in: an index into [`Glossary::names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Exact = 0,
    Folded = 1,
    Stem = 2,
}

impl Spelling {
    const ALL: [Spelling; 3] = [Spelling::Exact, Spelling::Folded, Spelling::Stem];

    fn of(self, w: &Word) -> &str {
        match self {
            Spelling::Exact => &w.exact,
            Spelling::Folded => &w.folded,
            Spelling::Stem => &w.stem,
        }
    }
}

/// One word of a text in the three spellings names are compared in.
#[derive(Debug, Clone)]
pub struct Word {
    /// Lower-cased with diacritics, tone mark placed one way.
    pub exact: String,
    pub folded: String,
    pub stem: String,
    pub accented: bool,
    pub from: usize,
    pub to: usize,
}

/// The words of an NFC text, each in its three spellings. One pass of the folding
/// tokenizer gives the words (its boundaries are those of the exact and stemming
/// analyzers: all three split on what is not alphanumeric and drop over-long words); the
/// exact spelling is the word's text lower-cased, the stem that of the folded word (the
/// stemming analyzer folds before it stems).
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut tokenizer = FoldTokenizer::default();
    let mut s = tokenizer.token_stream(text);
    while s.advance() {
        let t = s.token();
        let (from, to) = (t.offset_from, t.offset_to);
        let lower = text[from..to].to_lowercase();
        let (exact, stem) = spellings(&lower, &t.text);
        out.push(Word {
            accented: t.text != lower,
            exact,
            folded: t.text.clone(),
            stem,
            from,
            to,
        });
    }
    out
}

fn parse() -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let split = |side: &str| -> Vec<String> {
        side.split('|')
            .map(|s| nfc(s.trim()).to_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    };
    for (_, text) in SOURCES {
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((vi, en)) = line.split_once('\t') else {
                continue;
            };
            let e = Entry {
                vi: split(vi),
                en: split(en.split('\t').next().unwrap_or_default()),
            };
            if !e.vi.is_empty() && !e.en.is_empty() {
                entries.push(e);
            }
        }
    }
    // The taxonomy's own labels: fields and sectors, priority areas.
    for (field, sectors) in taxonomy::FIELDS {
        for t in std::iter::once(field).chain(sectors.iter()) {
            entries.push(Entry {
                vi: vec![t.vi.to_lowercase()],
                en: vec![t.en.to_lowercase()],
            });
        }
    }
    for t in taxonomy::PRIORITY_AREAS {
        entries.push(Entry {
            vi: vec![t.vi.to_lowercase()],
            en: vec![t.en.to_lowercase()],
        });
    }
    merge(entries)
}

/// Entries that share a Vietnamese name (the same term listed by two areas' files, or a
/// taxonomy label that a file lists too) are one concept: every name of either names it.
/// Otherwise a listing saying `linh chi` and a query saying `reishi` would land on two
/// concepts. English names alone do not merge: `output` is both `công suất` and
/// `năng suất`.
fn merge(entries: Vec<Entry>) -> Vec<Entry> {
    let mut parent: Vec<usize> = (0..entries.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        for vi in &e.vi {
            let key: Vec<String> = vi.split_whitespace().map(tone_key).collect();
            match first.get(&key.join(" ")) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    // The earlier entry stays the concept's place.
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    first.insert(key.join(" "), i);
                }
            }
        }
    }
    let mut out: Vec<Entry> = Vec::new();
    let mut at: HashMap<usize, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let r = root(&mut parent, i);
        let slot = *at.entry(r).or_insert_with(|| {
            out.push(Entry::default());
            out.len() - 1
        });
        let into = &mut out[slot];
        for v in &e.vi {
            if !into.vi.contains(v) {
                into.vi.push(v.clone());
            }
        }
        for v in &e.en {
            if !into.en.contains(v) {
                into.en.push(v.clone());
            }
        }
    }
    out
}

impl Glossary {
    fn build(entries: Vec<Entry>) -> Self {
        let mut vocab: FxHashMap<String, u32> = FxHashMap::default();
        let mut names: [Names; 3] = Default::default();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (id, e) in entries.iter().enumerate() {
            e.vi.hash(&mut hasher);
            e.en.hash(&mut hasher);
            let id = id as u32;
            let mut add = |spelling: Spelling, ws: &[Word]| {
                if ws.is_empty() || ws.len() > MAX_WORDS {
                    return;
                }
                let keys: Vec<u32> = ws
                    .iter()
                    .map(|w| {
                        let next = vocab.len() as u32;
                        *vocab.entry(spelling.of(w).to_owned()).or_insert(next)
                    })
                    .collect();
                let list = names[spelling as usize].entry(keys[0]).or_default();
                if !list.iter().any(|(k, c)| *k == keys && *c == id) {
                    list.push((keys, id));
                }
            };
            for vi in &e.vi {
                let ws = words(vi);
                add(Spelling::Exact, &ws);
                add(Spelling::Folded, &ws);
            }
            for en in &e.en {
                add(Spelling::Stem, &words(en));
            }
        }
        for list in names.iter_mut().flat_map(|m| m.values_mut()) {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        }
        Self {
            entries,
            vocab,
            names,
            fingerprint: hasher.finish(),
        }
    }

    fn ids(&self, w: &Word) -> Ids {
        Spelling::ALL.map(|sp| self.vocab.get(sp.of(w)).copied())
    }

    /// The numbers of a word as written (and folded), remembered per thread: lower-casing,
    /// the tone key and the stem cost two Unicode normalisations and a stemmer.
    fn ids_of(&self, written: &str, folded: &str) -> Ids {
        thread_local! {
            static MEMO: RefCell<(u64, FxHashMap<String, Ids>)> =
                RefCell::new((0, FxHashMap::default()));
        }
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.0 != self.fingerprint || m.1.len() >= MEMO_LIMIT {
                // Another glossary (tests build small ones), or bounded: text in many
                // languages must not grow it without end.
                m.0 = self.fingerprint;
                m.1.clear();
            }
            if let Some(ids) = m.1.get(written) {
                return *ids;
            }
            let (exact, stem) = spellings(&written.to_lowercase(), folded);
            let ids = [
                self.vocab.get(&exact).copied(),
                self.vocab.get(folded).copied(),
                self.vocab.get(&stem).copied(),
            ];
            m.1.insert(written.to_owned(), ids);
            ids
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub fn entry(&self, concept: u32) -> Option<&Entry> {
        self.entries.get(concept as usize)
    }

    /// The concepts named in `words`, longest names first, no two on the same word.
    pub fn find(&self, words: &[Word], mode: Mode) -> Vec<Found> {
        let ids: Vec<Ids> = words.iter().map(|w| self.ids(w)).collect();
        self.find_ids(&ids, mode)
    }

    fn find_ids(&self, words: &[Ids], mode: Mode) -> Vec<Found> {
        // Unaccented words are their own accented spelling (`ao nuôi`); a query typed
        // without diacritics also compares folded.
        let spellings: &[Spelling] = match mode {
            Mode::Accented => &[Spelling::Exact, Spelling::Stem],
            Mode::Folded => &[Spelling::Exact, Spelling::Folded, Spelling::Stem],
        };
        let mut out = Vec::new();
        let mut at = 0;
        while at < words.len() {
            let mut best: Option<(usize, u32)> = None;
            for &spelling in spellings {
                let sp = spelling as usize;
                let Some(list) = words[at][sp].and_then(|first| self.names[sp].get(&first)) else {
                    continue;
                };
                for (name, concept) in list {
                    if best.is_some_and(|(len, _)| len >= name.len()) {
                        break;
                    }
                    // A name is matched in one spelling throughout.
                    let fits = name.len() <= words.len() - at
                        && name
                            .iter()
                            .enumerate()
                            .skip(1)
                            .all(|(i, k)| words[at + i][sp] == Some(*k));
                    if fits {
                        best = Some((name.len(), *concept));
                    }
                }
            }
            match best {
                Some((len, concept)) => {
                    out.push(Found {
                        concept,
                        from: at,
                        to: at + len,
                    });
                    at += len;
                }
                None => at += 1,
            }
        }
        out
    }

    /// Every concept named in a listing's text, as index terms (`g123`).
    pub fn concept_terms(&self, text: &str) -> String {
        use std::fmt::Write;
        let text = nfc_cow(text);
        let mut out = String::new();
        let mut flush = |run: &mut Vec<Ids>| {
            for f in self.find_ids(run, Mode::Accented) {
                if !out.is_empty() {
                    out.push(' ');
                }
                let _ = write!(out, "g{}", f.concept);
            }
            run.clear();
        };
        // Runs of words cut where punctuation stands between two: no name spans a
        // sentence or a list item. The words go straight to their numbers (this is the
        // costliest step of indexing, so no `Word` is made).
        let mut run: Vec<Ids> = Vec::new();
        let mut last_to = 0;
        let mut tokenizer = FoldTokenizer::default();
        let mut s = tokenizer.token_stream(&text);
        while s.advance() {
            let t = s.token();
            let (from, to) = (t.offset_from, t.offset_to);
            if !run.is_empty()
                && text
                    .get(last_to..from)
                    .is_none_or(|gap| gap.contains(['\n', '.', ';', ',', '(', ')', ':']))
            {
                flush(&mut run);
            }
            last_to = to;
            run.push(self.ids_of(&text[from..to], &t.text));
        }
        flush(&mut run);
        out
    }
}

/// The text in NFC, borrowed when it already is (listings almost always are).
fn nfc_cow(text: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(nfc(text))
    }
}

/// The index term of a concept.
pub fn term(concept: u32) -> String {
    format!("g{concept}")
}

pub fn get() -> &'static Glossary {
    static G: OnceLock<Glossary> = OnceLock::new();
    G.get_or_init(|| Glossary::build(parse()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Glossary {
        Glossary::build(vec![
            Entry {
                vi: vec!["xử lý nước thải".into()],
                en: vec!["wastewater treatment".into(), "sewage treatment".into()],
            },
            Entry {
                vi: vec!["nước thải".into()],
                en: vec!["wastewater".into()],
            },
            Entry {
                vi: vec!["thủy sản".into()],
                en: vec!["aquatic products".into()],
            },
            Entry {
                vi: vec!["lúa".into()],
                en: vec!["rice".into()],
            },
        ])
    }

    fn concepts(g: &Glossary, text: &str, mode: Mode) -> Vec<u32> {
        g.find(&words(&nfc(text)), mode)
            .into_iter()
            .map(|f| f.concept)
            .collect()
    }

    #[test]
    fn longest_name_first_in_either_language() {
        let g = tiny();
        assert_eq!(
            concepts(&g, "Hệ thống xử lý nước thải", Mode::Accented),
            [0]
        );
        assert_eq!(concepts(&g, "nước thải sinh hoạt", Mode::Accented), [1]);
        assert_eq!(
            concepts(&g, "Sewage treatments for towns", Mode::Accented),
            [0]
        );
        assert_eq!(concepts(&g, "wastewater", Mode::Folded), [1]);
    }

    #[test]
    fn accents_follow_the_text() {
        let g = tiny();
        // Either tone-mark placement.
        assert_eq!(concepts(&g, "chế biến thuỷ sản", Mode::Accented), [2]);
        // An accented text must spell it right: lừa is not lúa.
        assert!(concepts(&g, "con lừa", Mode::Accented).is_empty());
        assert_eq!(concepts(&g, "giống lúa", Mode::Accented), [3]);
        // A query typed without diacritics compares folded.
        assert_eq!(concepts(&g, "xu ly nuoc thai", Mode::Folded), [0]);
        assert!(concepts(&g, "xu ly nuoc thai", Mode::Accented).is_empty());
    }

    #[test]
    fn entries_sharing_a_vietnamese_name_are_one_concept() {
        let e = |vi: &[&str], en: &[&str]| Entry {
            vi: vi.iter().map(|s| s.to_string()).collect(),
            en: en.iter().map(|s| s.to_string()).collect(),
        };
        let merged = merge(vec![
            e(&["hoá chất"], &["chemical"]),
            e(&["phân bón"], &["fertiliser"]),
            e(&["hóa chất", "hoá phẩm"], &["chemicals"]),
            e(&["công suất"], &["output"]),
            e(&["năng suất"], &["output"]),
        ]);
        assert_eq!(merged.len(), 4);
        assert_eq!(merged[0].vi, ["hoá chất", "hóa chất", "hoá phẩm"]);
        assert_eq!(merged[0].en, ["chemical", "chemicals"]);
        assert_eq!(merged[1].vi, ["phân bón"]);
    }

    #[test]
    fn the_real_glossary_is_large_and_covers_the_taxonomy() {
        let g = get();
        // Concepts after merging the areas' files (2 000 is the floor).
        assert!(g.len() >= 2_000, "{} entries", g.len());
        assert!(!concepts(g, "environmental engineering", Mode::Accented).is_empty());
        // A term two areas both list is one concept, reached from either's English.
        assert_eq!(
            concepts(g, "nấm linh chi", Mode::Accented),
            concepts(g, "ganoderma lucidum", Mode::Accented)
        );
        assert_eq!(tone_key("hoá"), tone_key("hóa"));
        assert_eq!(tone_key("thuỷ"), tone_key("thủy"));
        assert_ne!(tone_key("lúa"), tone_key("lừa"));
    }
}
