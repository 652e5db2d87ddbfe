//! What the engine makes of the text of a query: its words, the glossary concepts it
//! names, its typos, for a pasted statement its most telling words ([`Plan`]); and the
//! tantivy query of each relaxation step ([`Plan::query`]).

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Score, Term};

use super::analysis::{self, folded, nfc, pairs, tokens};
use super::glossary;
use super::schema::Fields;
use crate::accounts::model::Locale;

/// Field weights, in the spirit of the partnering databases: title above keywords above
/// summary above description.
pub const W_TITLE: f32 = 3.0;
pub const W_KEYWORDS: f32 = 2.0;
pub const W_SUMMARY: f32 = 1.5;
pub const W_BODY: f32 = 1.0;
/// Bonuses for adjacent syllables and for the exact (accented) spelling.
pub const W_PAIR: f32 = 1.5;
pub const W_EXACT: f32 = 0.6;
/// Queries of up to this many words require all of them; longer ones most of them.
const AND_UP_TO: usize = 4;
pub(crate) fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

/// A scored term query, boosted unless the boost is 1.
pub(crate) fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    let q: Box<dyn Query> = Box::new(TermQuery::new(
        term(field, text),
        IndexRecordOption::WithFreqs,
    ));
    if (boost - 1.0).abs() < f32::EPSILON {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

/// A free-text query in two parts: what a listing must contain, and what raises its score.
pub struct TextQuery {
    /// Each slot of the query somewhere in the listing (most of them for a long query, or
    /// fewer once relaxed), scored on the whole text.
    pub required: Box<dyn Query>,
    /// Term queries adding the weight of where a word stands (title, keywords, summary), of
    /// adjacent syllables, and of the exact spelling.
    pub bonuses: Vec<Box<dyn Query>>,
    /// Adjacent syllables of the query found as a unit: scored with every match, since
    /// they reorder the matches most.
    pub pairs: Vec<Box<dyn Query>>,
}

impl TextQuery {
    /// Both parts as one query (every match fully scored): what [`crate::search::SearchIndex::search`]
    /// computes for its top candidates.
    pub fn combined(self) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, self.required)];
        clauses.extend(self.pairs.into_iter().map(|b| (Occur::Should, b)));
        clauses.extend(self.bonuses.into_iter().map(|b| (Occur::Should, b)));
        Box::new(BooleanQuery::new(clauses))
    }
}

/// Weight of a glossary concept named by the query, per word of its name, against the
/// words themselves: a listing that names the concept in other words (or the other
/// language) ranks nearly as high as one that uses the query's words.
pub const W_CONCEPT: f32 = 0.9;
/// A slot matched in part (one word or a shorter concept of a glossary name), against the
/// whole name.
const W_PART: f32 = 0.3;
/// Weight of a word corrected from a typo, against the word typed right.
pub const W_CORRECTED: f32 = 0.7;
/// A query with more telling words than this is a pasted statement: only the rarest
/// [`LONG_SLOTS`] of them are looked for.
const LONG_FROM: usize = 8;
const LONG_SLOTS: usize = 16;
/// In a short query, a word whose rarity is under this share of the rarest word's is not
/// required at the strict step.
const LIGHT: f32 = 0.4;

/// One thing the query asks for: a word, or a glossary concept named by several words.
#[derive(Debug, Clone)]
pub struct Slot {
    /// As typed.
    pub text: String,
    /// Per word: the folded forms looked for (the word, its English stem, its correction).
    pub words: Vec<Vec<(String, f32)>>,
    pub concept: Option<u32>,
    /// For a concept slot, the shorter concepts inside its name (`dryer` inside `low
    /// temperature dryer`): once the query is relaxed, a listing naming one of them, or
    /// one of the words, matches the slot in part.
    pub parts: Vec<u32>,
    /// The exact spellings of the slot's accented words (in a query typed with
    /// diacritics): the first step looks for them as typed.
    pub accents: Vec<String>,
    /// Rarity, for choosing among the words of a long statement.
    weight: f32,
}

/// What the engine made of the query text.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub slots: Vec<Slot>,
    /// The query was typed with diacritics.
    pub accented: bool,
    /// A pasted statement: only its most telling words are looked for.
    pub long: bool,
    /// Words known nowhere in the index and not correctable.
    pub unknown: Vec<String>,
    /// (typed, corrected folded word, byte span in the query) for did-you-mean.
    pub corrections: Vec<(String, String, usize, usize)>,
    /// Exact spellings of the query's words, for the exact bonus and the snippets.
    exact: Vec<String>,
    /// Adjacent syllables of the words looked for.
    pairs: Vec<String>,
    /// The query text (NFC).
    pub text: String,
    /// The language the query is written in, as listings record it.
    pub language: Locale,
}

/// Request phrasing and circumstances of a pasted statement: never what it is about.
/// Vietnamese words compare accented (`năm` the year is not `nấm` the mushroom) unless the
/// query was typed without diacritics.
fn is_filler(w: &glossary::Word, accented_query: bool) -> bool {
    const VI: &str = "chúng tôi mình em anh chị bạn cần muốn tìm kiếm hiện nay đang giải pháp \
        công ty doanh nghiệp xưởng nhà đơn vị ngân sách khoảng trên dưới triệu tỷ tỉ đồng năm \
        tháng ngày tuần hơn kém gần làm sao nào gì ai nếu vì nên mức phần một hai ba bốn sáu \
        bảy tám chín mười trăm nghìn ngàn hợp tác liên hệ xin vui lòng mong hy vọng rất quá \
        nhất thực tế vận hành đào tạo chuyển giao hỗ trợ kỹ thuật tư vấn đầu triển khai áp \
        dụng lắp đặt thiết bị hệ thống nghệ hiệu quả phù chi phí giá thành ưu tiên yêu cầu \
        mục tiêu quy mô khu vực địa phương tỉnh huyện xã phố gấp sớm lâu dài ổn định đáp ứng \
        đảm bảo nâng cao cải tiến hiện đại mới hiện có được đã sẽ vẫn còn cũng đều phải nhằm \
        để giúp thể khi lúc trước sau thời gian người lao động cho với các những của và hoặc";
    const EN: &str = "we our us i my need needs looking look want would like seek seeking \
        company firm factory plant budget about under over million billion year years month \
        months partner partners provider supplier solution solutions help currently have has \
        which who what how also able please some any per within up into there their they them \
        so not no do does should could will technology technologies system systems transfer \
        training operation install vnd usd cost costs around approximately";
    static SETS: OnceLock<(HashSet<String>, HashSet<String>)> = OnceLock::new();
    let (vi_exact, folded_all) = SETS.get_or_init(|| {
        let vi: Vec<String> = VI.split_whitespace().map(glossary::tone_key).collect();
        let folded_all = VI
            .split_whitespace()
            .chain(EN.split_whitespace())
            .flat_map(folded)
            .collect();
        let mut exact: HashSet<String> = vi.into_iter().collect();
        exact.extend(EN.split_whitespace().map(str::to_owned));
        (exact, folded_all)
    });
    analysis::is_stopword(&w.folded)
        || if accented_query {
            vi_exact.contains(&w.exact)
        } else {
            folded_all.contains(&w.folded)
        }
}

/// Could this folded word be a Vietnamese syllable? (Typos are corrected from four
/// letters in Vietnamese, five in English.)
fn looks_vietnamese(w: &str) -> bool {
    const ONSETS: &[&str] = &[
        "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "g", "h",
        "k", "l", "m", "n", "p", "r", "s", "t", "v", "x",
    ];
    const CODAS: &[&str] = &["ng", "nh", "ch", "c", "m", "n", "p", "t"];
    if !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let rest = ONSETS
        .iter()
        .find(|o| w.starts_with(**o))
        .map_or(w, |o| &w[o.len()..]);
    let rest = CODAS
        .iter()
        .find(|c| rest.ends_with(**c) && rest.len() > c.len())
        .map_or(rest, |c| &rest[..rest.len() - c.len()]);
    (1..=3).contains(&rest.len()) && rest.bytes().all(|b| b"aeiouy".contains(&b))
}

/// The word one edit away (a letter dropped, added, changed or two swapped) that the most
/// listings use, if the typed word is used by none.
pub fn correct(searcher: &tantivy::Searcher, field: Field, word: &str) -> Option<String> {
    let min = if looks_vietnamese(word) { 4 } else { 5 };
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < min || !word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    let mut variants: HashSet<String> = HashSet::new();
    for i in 0..=chars.len() {
        if i < chars.len() {
            let mut v = chars.clone();
            v.remove(i);
            variants.insert(v.into_iter().collect());
            for &l in LETTERS {
                let mut v = chars.clone();
                v[i] = l as char;
                variants.insert(v.into_iter().collect());
            }
        }
        if i + 1 < chars.len() {
            let mut v = chars.clone();
            v.swap(i, i + 1);
            variants.insert(v.into_iter().collect());
        }
        for &l in LETTERS {
            let mut v = chars.clone();
            v.insert(i, l as char);
            variants.insert(v.into_iter().collect());
        }
    }
    variants.remove(word);
    let mut best: Option<(u64, String)> = None;
    let mut sorted: Vec<String> = variants.into_iter().collect();
    sorted.sort();
    for v in sorted {
        let df = searcher.doc_freq(&term(field, &v)).unwrap_or(0);
        if df > 0 && best.as_ref().is_none_or(|(b, _)| df > *b) {
            best = Some((df, v));
        }
    }
    best.map(|b| b.1)
}

/// Reads the query: its words, the glossary concepts it names, its typos, and for a pasted
/// statement its most telling words.
pub fn plan(searcher: &tantivy::Searcher, f: &Fields, q: &str) -> Plan {
    let text = nfc(q);
    let words = glossary::words(&text);
    let accented = words.iter().any(|w| w.accented);
    let g = glossary::get();
    let mode = if accented {
        glossary::Mode::Accented
    } else {
        glossary::Mode::Folded
    };
    let found = g.find(&words, mode);
    let content: Vec<bool> = words
        .iter()
        .map(|w| !analysis::is_stopword(&w.folded))
        .collect();
    let n_content = content.iter().filter(|c| **c).count();
    let long = n_content > LONG_FROM;
    // In a statement, a capitalised word inside a sentence is a name (a place, a firm):
    // circumstances, not the problem. Acronyms (MBR, PLC) stay.
    let is_name = |i: usize| -> bool {
        let w = &words[i];
        let original = &text[w.from..w.to];
        let mut cs = original.chars();
        let first_upper = cs.next().is_some_and(char::is_uppercase);
        let rest_lower = cs.clone().all(|c| !c.is_uppercase());
        let sentence_start = text[..w.from]
            .trim_end()
            .chars()
            .last()
            .is_none_or(|c| ".!?:;\n".contains(c));
        first_upper && rest_lower && cs.count() > 0 && !sentence_start
    };
    let n_docs = searcher.num_docs().max(1) as f32;
    let idf = |df: u64| (1.0 + n_docs / (df.max(1) as f32)).ln();
    let mut plan = Plan {
        accented,
        long,
        text: text.clone(),
        language: if accented
            || words.iter().filter(|w| looks_vietnamese(&w.folded)).count() * 2 > words.len()
        {
            Locale::Vi
        } else {
            Locale::En
        },
        ..Plan::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut at = 0;
    let mut concepts = found.into_iter().peekable();
    while at < words.len() {
        if let Some(c) = concepts.next_if(|c| c.from == at) {
            let span = &words[c.from..c.to];
            let name = text[span[0].from..span[span.len() - 1].to].to_owned();
            let key = format!("g{}", c.concept);
            let filler_only = span.iter().all(|w| is_filler(w, accented));
            if seen.insert(key.clone()) && !(long && filler_only) {
                let kept: Vec<&glossary::Word> = span
                    .iter()
                    .filter(|w| !analysis::is_stopword(&w.folded))
                    .collect();
                let df = searcher
                    .doc_freq(&term(f.concepts, &glossary::term(c.concept)))
                    .unwrap_or(0);
                let mut parts: Vec<u32> = Vec::new();
                if span.len() > 1 {
                    for sub in [&span[1..], &span[..span.len() - 1]] {
                        for p in g.find(sub, mode) {
                            if p.concept != c.concept && !parts.contains(&p.concept) {
                                parts.push(p.concept);
                            }
                        }
                    }
                }
                plan.slots.push(Slot {
                    text: name,
                    words: kept
                        .iter()
                        .map(|w| word_forms(w))
                        .filter(|v| !v.is_empty())
                        .collect(),
                    concept: Some(c.concept),
                    parts,
                    accents: kept
                        .iter()
                        .filter(|w| w.accented)
                        .map(|w| w.exact.clone())
                        .collect(),
                    weight: idf(df),
                });
            }
            at = c.to;
            continue;
        }
        let w = &words[at];
        at += 1;
        if !content[at - 1] || (long && (is_filler(w, accented) || is_name(at - 1))) {
            continue;
        }
        if !seen.insert(w.folded.clone()) {
            continue;
        }
        let typed = text[w.from..w.to].to_owned();
        let mut forms = word_forms(w);
        let mut accents = if w.accented {
            vec![w.exact.clone()]
        } else {
            Vec::new()
        };
        let df = searcher.doc_freq(&term(f.all, &w.folded)).unwrap_or(0);
        let mut weight = idf(df);
        if df == 0 && forms.len() == 1 {
            match correct(searcher, f.all, &w.folded) {
                Some(fixed) => {
                    let fdf = searcher.doc_freq(&term(f.all, &fixed)).unwrap_or(0);
                    weight = idf(fdf);
                    plan.corrections
                        .push((typed.clone(), fixed.clone(), w.from, w.to));
                    forms = vec![(fixed, W_CORRECTED)];
                    accents.clear();
                }
                None => {
                    plan.unknown.push(typed);
                    continue;
                }
            }
        }
        plan.slots.push(Slot {
            text: typed,
            words: vec![forms],
            concept: None,
            parts: Vec::new(),
            accents,
            weight,
        });
    }
    if long && plan.slots.len() > LONG_SLOTS {
        let mut order: Vec<usize> = (0..plan.slots.len()).collect();
        order.sort_by(|a, b| plan.slots[*b].weight.total_cmp(&plan.slots[*a].weight));
        let keep: HashSet<usize> = order.into_iter().take(LONG_SLOTS).collect();
        plan.slots = plan
            .slots
            .drain(..)
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, s)| s)
            .collect();
    }
    // The pairs and exact spellings of the words kept.
    let kept: HashSet<&str> = plan
        .slots
        .iter()
        .flat_map(|s| s.words.iter().flatten().map(|(w, _)| w.as_str()))
        .collect();
    let mut pair_seen = HashSet::new();
    for p in pairs(&text).split_whitespace() {
        let both = p.split('_').all(|x| kept.contains(x));
        if both && pair_seen.insert(p.to_owned()) {
            plan.pairs.push(p.to_owned());
        }
    }
    if accented {
        let mut exact_seen = HashSet::new();
        for w in &words {
            if kept.contains(w.folded.as_str()) && exact_seen.insert(w.exact.clone()) {
                plan.exact.push(w.exact.clone());
            }
        }
    }
    plan
}

fn word_forms(w: &glossary::Word) -> Vec<(String, f32)> {
    let mut forms = vec![(w.folded.clone(), W_BODY)];
    if w.stem != w.folded && !w.stem.is_empty() {
        forms.push((w.stem.clone(), W_BODY));
    }
    forms
}

impl Plan {
    /// How many slots a listing must match at the given relaxation step: 0 every slot (or
    /// most for a long statement), 1 half of them, 2 any one.
    fn needed(&self, step: usize) -> usize {
        Self::needed_of(self.slots.len(), step, self.long)
    }

    fn needed_of(n: usize, step: usize, long: bool) -> usize {
        match step {
            0 if long => (n * 3).div_ceil(10).max(1),
            0 if n <= AND_UP_TO => n,
            0 => (n * 3).div_ceil(5),
            1 if long => 1,
            1 => n.div_ceil(2),
            _ => 1,
        }
    }

    /// Per slot, whether it is light at this level: at the strict level of a short query of
    /// three slots or more, a word whose rarity is under [`LIGHT`] of the rarest slot's.
    fn light(&self, level: usize) -> Vec<bool> {
        let n = self.slots.len();
        if level > 0 || self.long || n < 3 {
            return vec![false; n];
        }
        let max = self.slots.iter().map(|s| s.weight).fold(0.0, f32::max);
        self.slots
            .iter()
            .map(|s| s.concept.is_none() && s.weight < LIGHT * max)
            .collect()
    }

    /// Whether the first step looks for the accented words spelled as typed: a query typed
    /// with diacritics means `cát` (sand), not `các` (the plural) or `cắt` (to cut). The
    /// strict step after it accepts any accents (a wrong tone mark is a typo too).
    fn as_typed_first(&self) -> bool {
        // (Not for a statement: its rarest words already decide, and the filter costs.)
        self.accented && !self.long && self.slots.iter().any(|s| !s.accents.is_empty())
    }

    /// A step as (relaxation level of [`Self::needed`], words spelled as typed).
    fn level(&self, step: usize) -> (usize, bool) {
        match (self.as_typed_first(), step) {
            (true, 0) => (0, true),
            (true, s) => (s - 1, false),
            (false, s) => (s, false),
        }
    }

    /// Whether the step asks for fewer than all of the query's words.
    pub fn is_relaxed(&self, step: usize) -> bool {
        self.level(step).0 > 0
    }

    /// The number of steps that give a different query.
    pub fn steps(&self) -> usize {
        self.levels() + usize::from(self.as_typed_first())
    }

    /// The number of relaxation levels that give a different query.
    fn levels(&self) -> usize {
        let mut last = usize::MAX;
        let mut steps = 0;
        for s in 0..3 {
            let n = self.needed(s);
            if n != last {
                steps = s + 1;
                last = n;
            }
        }
        // A glossary name of several words can also be matched in part, from step 1.
        if self
            .slots
            .iter()
            .any(|s| s.concept.is_some() && s.words.len() > 1)
        {
            steps = steps.max(2);
        }
        steps
    }

    pub(crate) fn slot_query(&self, f: &Fields, slot: &Slot, relaxed: bool) -> Box<dyn Query> {
        let whole = self.whole_slot_query(f, slot);
        if !relaxed || slot.concept.is_none() || slot.words.len() < 2 {
            return whole;
        }
        // In part: any one word of the name, or a shorter concept inside it, at a fraction
        // of the weight of the whole.
        let mut part: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (w, b) in slot.words.iter().flatten() {
            part.push((Occur::Should, term_query(f.all, w, *b)));
        }
        for c in &slot.parts {
            part.push((
                Occur::Should,
                term_query(f.concepts, &glossary::term(*c), W_CONCEPT),
            ));
        }
        Box::new(DisjunctionMaxQuery::new(vec![
            whole,
            Box::new(BoostQuery::new(Box::new(BooleanQuery::new(part)), W_PART)),
        ]))
    }

    fn whole_slot_query(&self, f: &Fields, slot: &Slot) -> Box<dyn Query> {
        let words: Vec<Box<dyn Query>> = slot
            .words
            .iter()
            .map(|forms| -> Box<dyn Query> {
                if forms.len() == 1 {
                    term_query(f.all, &forms[0].0, forms[0].1)
                } else {
                    Box::new(BooleanQuery::new(
                        forms
                            .iter()
                            .map(|(w, b)| (Occur::Should, term_query(f.all, w, *b)))
                            .collect(),
                    ))
                }
            })
            .collect();
        let n_words = words.len().max(1) as f32;
        // In a statement, a name of several syllables is looked for as its adjacent pairs
        // (one short list each) rather than as every syllable (long lists of `xu`, `ly`).
        if let (true, Some(c)) = (self.long && slot.words.len() > 1, slot.concept) {
            let pairs: Vec<(Occur, Box<dyn Query>)> = slot
                .words
                .windows(2)
                .map(|w| -> (Occur, Box<dyn Query>) {
                    let p = format!("{}_{}", w[0][0].0, w[1][0].0);
                    (Occur::Must, term_query(f.pairs, &p, W_BODY))
                })
                .collect();
            return Box::new(DisjunctionMaxQuery::new(vec![
                Box::new(BooleanQuery::new(pairs)),
                term_query(f.concepts, &glossary::term(c), W_CONCEPT * n_words),
            ]));
        }
        let by_words: Option<Box<dyn Query>> = match words.len() {
            0 => None,
            1 => words.into_iter().next(),
            _ => Some(Box::new(BooleanQuery::new(
                words.into_iter().map(|q| (Occur::Must, q)).collect(),
            ))),
        };
        match (by_words, slot.concept) {
            (Some(w), Some(c)) => Box::new(DisjunctionMaxQuery::new(vec![
                w,
                term_query(f.concepts, &glossary::term(c), W_CONCEPT * n_words),
            ])),
            (Some(w), None) => w,
            (None, Some(c)) => term_query(f.concepts, &glossary::term(c), W_CONCEPT * n_words),
            (None, None) => Box::new(tantivy::query::EmptyQuery),
        }
    }

    /// A filter: the slot's accented words spelled as typed, or its concept named.
    fn as_typed(&self, f: &Fields, slot: &Slot) -> Box<dyn Query> {
        let words: Vec<(Occur, Box<dyn Query>)> = slot
            .accents
            .iter()
            .map(|e| -> (Occur, Box<dyn Query>) {
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.exact, e),
                        IndexRecordOption::Basic,
                    )),
                )
            })
            .collect();
        let mut any: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, Box::new(BooleanQuery::new(words)))];
        if let Some(c) = slot.concept {
            any.push((
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.concepts, &glossary::term(c)),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(any)), 0.0))
    }

    /// A listing in the other language cannot use the query's words, only the concepts
    /// they name: at the strict step it counts when it names every concept of the query,
    /// provided the concepts are at least half of what the query asks (a word the glossary
    /// does not know stays a requirement for listings in the query's own language only).
    fn across_languages(&self, f: &Fields) -> Option<Box<dyn Query>> {
        let concepts: Vec<(u32, usize)> = self
            .slots
            .iter()
            .filter_map(|s| s.concept.map(|c| (c, s.words.len().max(1))))
            .collect();
        if concepts.is_empty() || concepts.len() * 2 < self.slots.len() {
            return None;
        }
        let other = self.language.other().as_str();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = concepts
            .iter()
            .map(|(c, n)| -> (Occur, Box<dyn Query>) {
                (
                    Occur::Must,
                    term_query(f.concepts, &glossary::term(*c), W_CONCEPT * *n as f32),
                )
            })
            .collect();
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(f.language, other),
                    IndexRecordOption::Basic,
                )),
                0.0,
            )),
        ));
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// The query at a relaxation step, or `None` when nothing can be looked for.
    pub fn query(&self, f: &Fields, step: usize) -> Option<TextQuery> {
        if self.slots.is_empty() {
            return None;
        }
        let (level, as_typed) = self.level(step);
        let relaxed = level > 0;
        let per_slot: Vec<Box<dyn Query>> = self
            .slots
            .iter()
            .map(|s| {
                let q = self.slot_query(f, s, relaxed);
                // A glossary name typed with diacritics was recognised as typed: it is
                // spelled right, and its syllables with other accents (`tín tắc` for
                // `tin tặc`) are another thing, at every strict step.
                let spelled_right = level == 0 && s.concept.is_some();
                if (as_typed || spelled_right) && !s.accents.is_empty() {
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, q),
                        (Occur::Must, self.as_typed(f, s)),
                    ]))
                } else {
                    q
                }
            })
            .collect();
        let needed = self.needed(level);
        // At the strict level, words far more common than the query's rarest (`làm`,
        // `nhân` beside `vữa`) are not required: they only add to the score.
        let light = self.light(level);
        let mut core: Vec<Box<dyn Query>> = Vec::new();
        let mut extra: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (q, is_light) in per_slot.into_iter().zip(&light) {
            if *is_light {
                extra.push((Occur::Should, q));
            } else {
                core.push(q);
            }
        }
        let needed = if extra.is_empty() {
            needed
        } else {
            Self::needed_of(core.len(), level, self.long)
        };
        let n = core.len();
        let required: Box<dyn Query> = if n == 1 {
            core.pop()?
        } else if needed >= n {
            let all: Box<dyn Query> = Box::new(BooleanQuery::new(
                core.into_iter().map(|q| (Occur::Must, q)).collect(),
            ));
            match self.across_languages(f) {
                Some(other) => Box::new(BooleanQuery::new(vec![
                    (Occur::Should, all),
                    (Occur::Should, other),
                ])),
                None => all,
            }
        } else {
            let mut b = BooleanQuery::new(core.into_iter().map(|q| (Occur::Should, q)).collect());
            b.set_minimum_number_should_match(needed);
            Box::new(b)
        };
        let required: Box<dyn Query> = if extra.is_empty() {
            required
        } else {
            extra.insert(0, (Occur::Must, required));
            Box::new(BooleanQuery::new(extra))
        };
        let mut bonuses: Vec<Box<dyn Query>> = Vec::new();
        for slot in &self.slots {
            for (w, b) in slot.words.iter().flatten() {
                // Where it stands adds its weight: title above keywords above summary.
                bonuses.push(term_query(f.title, w, (W_TITLE - W_BODY) * b));
                bonuses.push(term_query(f.keywords, w, (W_KEYWORDS - W_BODY) * b));
                bonuses.push(term_query(f.summary, w, (W_SUMMARY - W_BODY) * b));
            }
        }
        for e in &self.exact {
            bonuses.push(term_query(f.exact, e, W_EXACT));
        }
        let pairs = self
            .pairs
            .iter()
            .map(|p| term_query(f.pairs, p, W_PAIR))
            .collect();
        Some(TextQuery {
            required,
            bonuses,
            pairs,
        })
    }

    /// The words to highlight in snippets, and whether they are compared accented.
    pub(crate) fn highlights(&self) -> (BTreeMap<String, Score>, bool) {
        let mut out = BTreeMap::new();
        let g = glossary::get();
        let fold = |s: &str| folded(s);
        let exact = |s: &str| tokens(&mut analysis::vi_exact(), s);
        let spell = |s: &str| if self.accented { exact(s) } else { fold(s) };
        for slot in &self.slots {
            for t in spell(&slot.text) {
                out.insert(t, 1.0);
            }
            for (w, _) in slot.words.iter().flatten() {
                if !self.accented {
                    out.insert(w.clone(), 1.0);
                }
            }
            if let Some(e) = slot.concept.and_then(|c| g.entry(c)) {
                for name in e.vi.iter().chain(&e.en) {
                    for t in spell(name) {
                        if !analysis::is_stopword(&fold(&t).concat()) {
                            out.insert(t, 0.5);
                        }
                    }
                }
            }
        }
        for (_, fixed, _, _) in &self.corrections {
            out.insert(fixed.clone(), 1.0);
        }
        (out, self.accented)
    }
}
