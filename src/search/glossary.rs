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

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use unicode_normalization::UnicodeNormalization;

use super::analysis::{self, nfc};
use crate::catalog::taxonomy;

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
    /// First key of a name → (all its keys, concept), longest first.
    names: HashMap<String, Vec<(Vec<String>, u32)>>,
    fingerprint: u64,
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

const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// The spelling with its tone mark moved to the end of the syllable, so that the two
/// placements in use (`hoá`, `hóa`; `thuỷ`, `thủy`) compare equal.
pub fn tone_key(word: &str) -> String {
    let mut tone = None;
    let mut base = String::with_capacity(word.len());
    for c in word.nfd() {
        if TONES.contains(&c) {
            tone = Some(c);
        } else {
            base.push(c);
        }
    }
    let mut out: String = base.nfc().collect();
    if let Some(t) = tone {
        out.push(t);
    }
    out
}

fn stream(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut s = analyzer.token_stream(text);
    while s.advance() {
        let t = s.token();
        out.push((t.text.clone(), t.offset_from, t.offset_to));
    }
    out
}

/// The words of an NFC text, each in its three spellings.
pub fn words(text: &str) -> Vec<Word> {
    let exact = stream(&mut analysis::vi_exact(), text);
    let folded = stream(&mut analysis::vi_fold(), text);
    let stems = stream(&mut analysis::en_stem(), text);
    let by_offset = |list: &[(String, usize, usize)]| -> HashMap<usize, String> {
        list.iter().map(|(t, f, _)| (*f, t.clone())).collect()
    };
    let folded = by_offset(&folded);
    let stems = by_offset(&stems);
    exact
        .into_iter()
        .map(|(e, from, to)| {
            let f = folded.get(&from).cloned().unwrap_or_else(|| e.clone());
            let s = stems.get(&from).cloned().unwrap_or_else(|| f.clone());
            Word {
                accented: f != e,
                exact: tone_key(&e),
                folded: f,
                stem: s,
                from,
                to,
            }
        })
        .collect()
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
    entries
}

impl Glossary {
    fn build(entries: Vec<Entry>) -> Self {
        let mut names: HashMap<String, Vec<(Vec<String>, u32)>> = HashMap::new();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (id, e) in entries.iter().enumerate() {
            e.vi.hash(&mut hasher);
            e.en.hash(&mut hasher);
            let id = id as u32;
            let mut add = |keys: Vec<String>| {
                if keys.is_empty() || keys.len() > MAX_WORDS {
                    return;
                }
                let list = names.entry(keys[0].clone()).or_default();
                if !list.iter().any(|(k, c)| *k == keys && *c == id) {
                    list.push((keys, id));
                }
            };
            for vi in &e.vi {
                let ws = words(vi);
                add(ws.iter().map(|w| format!("x:{}", w.exact)).collect());
                add(ws.iter().map(|w| format!("f:{}", w.folded)).collect());
            }
            for en in &e.en {
                let ws = words(en);
                add(ws.iter().map(|w| format!("s:{}", w.stem)).collect());
            }
        }
        for list in names.values_mut() {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        }
        Self {
            entries,
            names,
            fingerprint: hasher.finish(),
        }
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
        let keys = |w: &Word| -> [Option<String>; 3] {
            // Unaccented words are their own accented spelling (`ao nuôi`); a query typed
            // without diacritics also compares folded.
            let folded = (mode == Mode::Folded).then(|| format!("f:{}", w.folded));
            [
                Some(format!("x:{}", w.exact)),
                folded,
                Some(format!("s:{}", w.stem)),
            ]
        };
        let all: Vec<[Option<String>; 3]> = words.iter().map(keys).collect();
        let mut out = Vec::new();
        let mut at = 0;
        while at < words.len() {
            let mut best: Option<(usize, u32)> = None;
            for first in all[at].iter().flatten() {
                let Some(list) = self.names.get(first) else {
                    continue;
                };
                for (name, concept) in list {
                    if best.is_some_and(|(len, _)| len >= name.len()) {
                        break;
                    }
                    let fits = name.len() <= words.len() - at
                        && name
                            .iter()
                            .enumerate()
                            .all(|(i, k)| all[at + i].iter().flatten().any(|mine| mine == k));
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
        let text = nfc(text);
        // One analysis of the whole text, cut into runs where punctuation stands between
        // two words: no name spans a sentence or a list item.
        let all = words(&text);
        let mut out = String::new();
        let mut start = 0;
        for end in 1..=all.len() {
            let cut = end == all.len()
                || text
                    .get(all[end - 1].to..all[end].from)
                    .is_none_or(|gap| gap.contains(['\n', '.', ';', ',', '(', ')', ':']));
            if cut {
                for f in self.find(&all[start..end], Mode::Accented) {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&term(f.concept));
                }
                start = end;
            }
        }
        out
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
    fn the_real_glossary_is_large_and_covers_the_taxonomy() {
        let g = get();
        assert!(g.len() >= 250, "{} entries", g.len());
        assert!(!concepts(g, "environmental engineering", Mode::Accented).is_empty());
        assert_eq!(tone_key("hoá"), tone_key("hóa"));
        assert_eq!(tone_key("thuỷ"), tone_key("thủy"));
        assert_ne!(tone_key("lúa"), tone_key("lừa"));
    }
}
