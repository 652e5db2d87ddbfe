//! Shared terms of a match reason: the whole words and phrases a candidate shares with
//! the source, under the accent rule, with the glossary concepts both name.

use std::collections::{HashMap, HashSet};

use crate::catalog::model::ListingRow;
use crate::search::analysis;
use crate::search::glossary::{self, Word};
use crate::search::schema::Card;

/// How much of the source's description shared phrases are looked for in.
const SOURCE_BODY_CHARS: usize = 1_000;
/// Longest shared phrase looked for, in words.
const MAX_PHRASE: usize = 10;

/// The source listing's phrases, for spelling out what a candidate shares with it.
pub(super) struct SourceWords {
    /// Every run of up to [`MAX_PHRASE`] words within a sentence, keyed by [`key`].
    grams: HashSet<String>,
    /// The source's own spelling of each run, by the same key.
    spelled: HashMap<String, String>,
    /// The glossary concepts it names, each as it names it first.
    concepts: HashMap<u32, String>,
}

/// A word's key under the accent rule: an accented word by its spelling (either tone-mark
/// placement), an unaccented one by its folded English stem, so that an accented word
/// never matches another only once both are folded.
fn key(w: &Word) -> &str {
    if w.accented {
        &w.exact
    } else {
        &w.stem
    }
}

/// Sentences and list items: no phrase crosses one of these.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '.', ';', ',', '(', ')', ':', '!', '?', '–', '/'])
        .filter(|p| !p.trim().is_empty())
}

impl SourceWords {
    pub(super) fn of(row: &ListingRow) -> Self {
        let d = &row.data;
        let mut texts = vec![d.title.clone()];
        texts.extend(d.keywords.iter().cloned());
        texts.extend(d.summary.clone());
        texts.push(d.description.chars().take(SOURCE_BODY_CHARS).collect());
        Self::from_texts(&texts)
    }

    pub(super) fn from_texts(texts: &[String]) -> Self {
        let g = glossary::get();
        let mut out = SourceWords {
            grams: HashSet::new(),
            spelled: HashMap::new(),
            concepts: HashMap::new(),
        };
        for text in texts {
            let text = analysis::nfc(text);
            for piece in pieces(&text) {
                let words = glossary::words(piece);
                for i in 0..words.len() {
                    let mut k = String::new();
                    for (j, w) in words[i..].iter().take(MAX_PHRASE).enumerate() {
                        if j > 0 {
                            k.push(' ');
                        }
                        k.push_str(key(w));
                        out.grams.insert(k.clone());
                        out.spelled
                            .entry(k.clone())
                            .or_insert_with(|| piece[words[i].from..w.to].to_owned());
                    }
                }
                for f in g.find(&words, glossary::Mode::Accented) {
                    let name = piece[words[f.from].from..words[f.to - 1].to].to_owned();
                    out.concepts.entry(f.concept).or_insert(name);
                }
            }
        }
        out
    }
}

/// What both listings say, as the candidate spells it: whole phrases (never part of one
/// glossary term joined to part of the next), or single words that stand alone (codes,
/// English words); then the concepts both name in different words or languages, each
/// with the source's name beside it.
pub(super) fn shared_terms(card: &Card, source: &SourceWords) -> Vec<String> {
    let g = glossary::get();
    let texts = std::iter::once(card.title.as_str())
        .chain(card.keywords.iter().map(String::as_str))
        .chain(card.summary.as_deref());
    let mut out: Vec<String> = Vec::new();
    let mut seen_keys: HashSet<String> = HashSet::new();
    let mut concepts_shown: HashSet<u32> = HashSet::new();
    let mut concepts_here: Vec<(u32, String)> = Vec::new();
    for text in texts {
        let text = analysis::nfc(text);
        for piece in pieces(&text) {
            let words = glossary::words(piece);
            let found = g.find(&words, glossary::Mode::Accented);
            // Word boundaries: no phrase may start or end inside a glossary term.
            let inside = |at: usize| found.iter().any(|c| c.from < at && at < c.to);
            for c in &found {
                let name = piece[words[c.from].from..words[c.to - 1].to].to_owned();
                concepts_here.push((c.concept, name));
            }
            let mut i = 0;
            while i < words.len() {
                let mut best = 0;
                let mut variant = String::new();
                let mut folded_variant = String::new();
                for (j, w) in words[i..].iter().take(MAX_PHRASE).enumerate() {
                    if j > 0 {
                        variant.push(' ');
                        folded_variant.push(' ');
                    }
                    variant.push_str(key(w));
                    folded_variant.push_str(&w.stem);
                    let end = i + j + 1;
                    let hit =
                        source.grams.contains(&variant) || source.grams.contains(&folded_variant);
                    if hit && !inside(i) && !inside(end) {
                        best = j + 1;
                    }
                }
                if best == 0 {
                    i += 1;
                    continue;
                }
                // Trim function words at the ends.
                let (mut a, mut b) = (i, i + best);
                while a < b && analysis::is_stopword(&words[a].folded) {
                    a += 1;
                }
                while b > a && analysis::is_stopword(&words[b - 1].folded) {
                    b -= 1;
                }
                let span = &words[a..b];
                let stands_alone = match span {
                    [] => false,
                    [w] => {
                        let original = &piece[w.from..w.to];
                        let is_code = original.chars().filter(|c| c.is_uppercase()).count() >= 2
                            || original.chars().any(|c| c.is_ascii_digit());
                        let is_term = found.iter().any(|c| c.from == a && c.to == b);
                        (!w.accented && w.folded.len() >= 4) || is_code || is_term
                    }
                    _ => true,
                };
                if stands_alone {
                    let k: Vec<&str> = span.iter().map(key).collect();
                    let k = k.join(" ");
                    if seen_keys.insert(k.clone()) {
                        let mine = piece[span[0].from..span[span.len() - 1].to].to_owned();
                        let theirs = source.spelled.get(&k).cloned().or_else(|| {
                            let f: Vec<&str> = span.iter().map(|w| w.stem.as_str()).collect();
                            source.spelled.get(&f.join(" ")).cloned()
                        });
                        out.push(match theirs {
                            Some(t) if t.to_lowercase() != mine.to_lowercase() => {
                                format!("{mine} ({t})")
                            }
                            _ => mine,
                        });
                        for c in found.iter().filter(|c| c.from >= a && c.to <= b) {
                            concepts_shown.insert(c.concept);
                        }
                    }
                }
                i += best;
            }
        }
    }
    // Concepts both name, each in its own words.
    for (c, name) in concepts_here {
        let Some(theirs) = source.concepts.get(&c) else {
            continue;
        };
        if concepts_shown.insert(c) {
            out.push(if theirs.to_lowercase() != name.to_lowercase() {
                format!("{name} ({theirs})")
            } else {
                name
            });
        }
    }
    out.truncate(8);
    out
}
