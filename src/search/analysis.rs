//! Text analysis for Vietnamese and English listings, registered in one place.
//!
//! - `vi_fold`: words, lower-cased, diacritics folded (`xử lý` → `xu ly`, `đ` → `d`), so a
//!   query typed without diacritics finds accented text.
//! - `vi_exact`: words, lower-cased, diacritics kept, the tone mark placed one way (`hoá` =
//!   `hóa`): a query typed with diacritics first looks for its words spelled as typed
//!   (`lúa`, not `lừa`; `cát`, not `các`), and gets a bonus where the spelling matches.
//! - `pairs`: adjacent syllables joined (`nuoc_thai`), prepared by [`pairs`]: Vietnamese
//!   words are mostly two or three syllables, and a field of pairs rewards "nước thải" as a
//!   unit over the same syllables scattered, without the cost of phrase queries.
//! - `en_stem`: English words stemmed (`membranes` → `membran`), for English listings.
//!
//! Everything is normalised to Unicode NFC first: folding only works on composed text.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, TokenStream, WhitespaceTokenizer,
};
use tantivy::Index;
use unicode_normalization::UnicodeNormalization;

pub const VI_FOLD: &str = "vi_fold";
pub const VI_EXACT: &str = "vi_exact";
pub const PAIRS: &str = "pairs";
pub const EN_STEM: &str = "en_stem";

use super::fold::{ExactTokenizer, FoldTokenizer, MAX_TOKEN_BYTES};

pub fn vi_fold() -> TextAnalyzer {
    // Simple words, long ones dropped, lower-cased, folded: in one pass (see `fold`).
    TextAnalyzer::from(FoldTokenizer::default())
}

pub fn vi_exact() -> TextAnalyzer {
    // Words as the folding tokenizer splits them, spelled exactly (tone mark placed one way).
    TextAnalyzer::from(ExactTokenizer::default())
}

pub fn pairs_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WhitespaceTokenizer::default()).build()
}

pub fn en_stem() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Registers every analyzer the schema names.
pub fn register(index: &Index) {
    let m = index.tokenizers();
    m.register(VI_FOLD, vi_fold());
    m.register(VI_EXACT, vi_exact());
    m.register(PAIRS, pairs_analyzer());
    m.register(EN_STEM, en_stem());
}

pub fn nfc(text: &str) -> String {
    // Text almost always arrives composed already; the quick check costs far less than
    // decomposing and recomposing it.
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        text.to_owned()
    } else {
        text.nfc().collect()
    }
}

/// A token with where it stands in the (NFC) text.
struct Positioned {
    text: String,
    from: usize,
    to: usize,
}

fn positioned(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Positioned> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push(Positioned {
            text: t.text.clone(),
            from: t.offset_from,
            to: t.offset_to,
        });
    }
    out
}

/// The tokens of `text` through `analyzer` (the text is NFC-normalised first).
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let text = nfc(text);
    positioned(analyzer, &text)
        .into_iter()
        .map(|p| p.text)
        .collect()
}

/// Folded tokens: what a diacritic-free query and the index agree on.
pub fn folded(text: &str) -> Vec<String> {
    tokens(&mut vi_fold(), text)
}

/// Adjacent folded syllables joined by `_`, never across punctuation (`xử lý, nước` gives
/// `xu_ly` but not `ly_nuoc`). Space-separated, for the `pairs` analyzer.
pub fn pairs(text: &str) -> String {
    let text = nfc(text);
    let toks = positioned(&mut vi_fold(), &text);
    let mut out = String::new();
    for w in toks.windows(2) {
        let between = text.get(w[0].to..w[1].from).unwrap_or(",");
        if between.chars().all(char::is_whitespace) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&w[0].text);
            out.push('_');
            out.push_str(&w[1].text);
        }
    }
    out
}

/// The pairs of several separate texts (keywords): no pair across two of them.
pub fn pairs_of(texts: &[String]) -> String {
    texts
        .iter()
        .map(|t| pairs(t))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text followed by the English stems of its words where they differ from the words
/// (`Membranes filtering` gets `membran filter` appended): indexed for English listings, so
/// that a query for any form of a word finds every other form, in the same field and the
/// same posting list as the words themselves. Vietnamese syllables are left as they are by
/// the stemmer, so a Vietnamese query never pays for this.
pub fn with_stems(text: &str) -> String {
    let mut out = nfc(text);
    for stem in differing_stems(&out).into_iter().flatten() {
        out.push(' ');
        out.push_str(&stem);
    }
    out
}

/// The English stem of each folded word of a query, where it differs from the word.
pub fn differing_stems(text: &str) -> Vec<Option<String>> {
    let text = nfc(text);
    let words = positioned(&mut vi_fold(), &text);
    let stems = positioned(&mut en_stem(), &text);
    words
        .iter()
        .zip(&stems)
        .map(|(w, s)| (w.text != s.text).then(|| s.text.clone()))
        .collect()
}

/// True when the text carries diacritics (so the user typed them on purpose).
pub fn has_diacritics(text: &str) -> bool {
    let text = nfc(text);
    tokens(&mut vi_exact(), &text) != tokens(&mut vi_fold(), &text)
}

/// Frequent Vietnamese and English function words (folded): left out of the terms that
/// describe a listing for matching.
pub fn is_stopword(folded: &str) -> bool {
    const STOP: &[&str] = &[
        "va", "cua", "cho", "cac", "nhung", "la", "duoc", "trong", "voi", "co", "de", "mot", "nay",
        "khi", "tu", "den", "tai", "theo", "nhu", "ve", "da", "se", "dang", "cung", "thi", "ma",
        "hay", "hoac", "tren", "duoi", "sau", "truoc", "nhieu", "it", "rat", "the", "and", "of",
        "to", "in", "for", "a", "an", "with", "on", "by", "is", "are", "from", "at", "as", "or",
        "be", "this", "that", "it", "its", "can", "we", "our", "khong", "cac", "moi", "bang",
        "nham", "giup", "dat", "so", "voi", "ra", "vao",
    ];
    folded.chars().count() < 2
        || folded.chars().all(|c| c.is_ascii_digit())
        || STOP.contains(&folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_fold_on_composed_and_decomposed_text() {
        assert_eq!(folded("Xử lý nước thải"), vec!["xu", "ly", "nuoc", "thai"]);
        assert_eq!(
            folded("ĐẬP THỦY ĐIỆN Đà Nẵng"),
            vec!["dap", "thuy", "dien", "da", "nang"]
        );
        // The same words typed with combining marks (NFD) fold the same way.
        let decomposed: String = "Xử lý nước thải".nfd().collect();
        assert_ne!(decomposed, "Xử lý nước thải");
        assert_eq!(folded(&decomposed), vec!["xu", "ly", "nuoc", "thai"]);
        assert_eq!(folded("xu ly nuoc thai"), folded("xử lý nước thải"));
    }

    #[test]
    fn exact_keeps_the_spelling() {
        use crate::search::glossary::tone_key;
        assert_eq!(
            tokens(&mut vi_exact(), "Lúa LAI"),
            vec![tone_key("lúa"), "lai".to_owned()]
        );
        // One tone-mark placement: `hoá` is `hóa`, `thuỷ` is `thủy`.
        assert_eq!(
            tokens(&mut vi_exact(), "hoá thuỷ"),
            tokens(&mut vi_exact(), "hóa thủy")
        );
        assert_ne!(
            tokens(&mut vi_exact(), "cát"),
            tokens(&mut vi_exact(), "các")
        );
        assert_ne!(
            tokens(&mut vi_exact(), "lúa"),
            tokens(&mut vi_exact(), "lừa")
        );
        assert_eq!(folded("lúa"), folded("lừa"));
        assert!(has_diacritics("nước thải"));
        assert!(!has_diacritics("nuoc thai"));
    }

    #[test]
    fn pairs_reward_adjacent_syllables() {
        assert_eq!(
            pairs("Xử lý nước thải dệt nhuộm"),
            "xu_ly ly_nuoc nuoc_thai thai_det det_nhuom"
        );
        // Not across punctuation.
        assert_eq!(pairs("nước, thải"), "");
        assert_eq!(pairs("xử lý. Nước thải"), "xu_ly nuoc_thai");
        assert_eq!(
            pairs_of(&["màng lọc".into(), "nước thải".into()]),
            "mang_loc nuoc_thai"
        );
        // "nước thải" as a unit versus scattered: only the first has the pair.
        assert!(pairs("hệ thống xử lý nước thải").contains("nuoc_thai"));
        assert!(!pairs("nước sạch và khí thải").contains("nuoc_thai"));
    }

    #[test]
    fn english_is_stemmed() {
        assert_eq!(
            tokens(&mut en_stem(), "Membranes filtering"),
            vec!["membran", "filter"]
        );
        assert_eq!(
            tokens(&mut en_stem(), "batteries"),
            tokens(&mut en_stem(), "battery")
        );
    }

    #[test]
    fn english_forms_find_each_other() {
        assert_eq!(
            with_stems("Ceramic membranes for filtering"),
            "Ceramic membranes for filtering ceram membran filter"
        );
        assert_eq!(
            differing_stems("membranes nước thải"),
            vec![Some("membran".to_owned()), None, None]
        );
        // Vietnamese syllables are not touched by the stemmer.
        assert_eq!(with_stems("Xử lý nước thải"), "Xử lý nước thải");
        assert!(differing_stems("ly may thuy quy ky nghien cuu")
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn stopwords() {
        assert!(is_stopword("va"));
        assert!(is_stopword("the"));
        assert!(is_stopword("2027"));
        assert!(!is_stopword("nuoc"));
    }
}
