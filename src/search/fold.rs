//! The `vi_fold` analysis in one pass: words split on anything not alphanumeric, words of
//! [`MAX_TOKEN_BYTES`] or more dropped, lower-cased, diacritics folded.
//!
//! It gives exactly what tantivy's `SimpleTokenizer`, `RemoveLongFilter`, `LowerCaser` and
//! `AsciiFoldingFilter` give in a row (a unit test compares them on the demo data and on
//! random text), but Vietnamese text costs far less: each of those steps looks up Unicode
//! tables for every non-ASCII letter, and Vietnamese has one in about every four letters.
//! Here every character of the Latin blocks, which hold all of Vietnamese, is classified
//! and folded once, in a table made from those same steps; anything else takes their path.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, Stemmer, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};
use unicode_normalization::UnicodeNormalization;

/// Words this long or longer (in bytes, as written) are noise and are dropped.
pub const MAX_TOKEN_BYTES: usize = 60;

/// The Latin blocks: Basic Latin to Latin Extended-B, and Latin Extended Additional (where
/// most Vietnamese letters with two marks live).
const LOW: std::ops::Range<u32> = 0..0x250;
const HIGH: std::ops::Range<u32> = 0x1E00..0x1F00;

/// What a character becomes: `None` if it separates words.
struct Table {
    low: Vec<Option<Box<str>>>,
    high: Vec<Option<Box<str>>>,
}

/// One character lower-cased and folded, the way the filters do it (with one analyzer per
/// thread: text in other scripts comes here for every letter).
fn fold_slow(c: char) -> Option<Box<str>> {
    thread_local! {
        static FILTERS: RefCell<TextAnalyzer> = RefCell::new(
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        );
    }
    if !c.is_alphanumeric() {
        return None;
    }
    FILTERS.with_borrow_mut(|analyzer| {
        let mut buf = [0; 4];
        let mut stream = analyzer.token_stream(c.encode_utf8(&mut buf));
        let mut out = String::new();
        while stream.advance() {
            out.push_str(&stream.token().text);
        }
        Some(out.into_boxed_str())
    })
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let block =
            |r: std::ops::Range<u32>| r.map(|u| char::from_u32(u).and_then(fold_slow)).collect();
        Table {
            low: block(LOW),
            high: block(HIGH),
        }
    })
}

/// The tokenizer; register it as an analyzer with `TextAnalyzer::from`.
#[derive(Clone, Default)]
pub struct FoldTokenizer {
    token: Token,
}

pub struct FoldStream<'a> {
    text: &'a str,
    at: usize,
    token: &'a mut Token,
    table: &'static Table,
}

impl Tokenizer for FoldTokenizer {
    type TokenStream<'a> = FoldStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FoldStream<'a> {
        self.token.reset();
        FoldStream {
            text,
            at: 0,
            token: &mut self.token,
            table: table(),
        }
    }
}

enum Class<'t> {
    Separator,
    Ascii(u8),
    Folded(&'t str),
    Other(char),
}

impl FoldStream<'_> {
    /// The character at `at`, its length, and what it is.
    fn class(&self, at: usize) -> (Class<'static>, usize) {
        let b = self.text.as_bytes()[at];
        if b.is_ascii() {
            return if b.is_ascii_alphanumeric() {
                (Class::Ascii(b.to_ascii_lowercase()), 1)
            } else {
                (Class::Separator, 1)
            };
        }
        let Some(c) = self.text[at..].chars().next() else {
            return (Class::Separator, 1);
        };
        let len = c.len_utf8();
        let u = c as u32;
        let entry = if LOW.contains(&u) {
            &self.table.low[(u - LOW.start) as usize]
        } else if HIGH.contains(&u) {
            &self.table.high[(u - HIGH.start) as usize]
        } else if c.is_alphanumeric() {
            return (Class::Other(c), len);
        } else {
            return (Class::Separator, len);
        };
        match entry {
            Some(folded) => (Class::Folded(folded), len),
            None => (Class::Separator, len),
        }
    }
}

impl TokenStream for FoldStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            // The next word's start.
            let from = loop {
                if self.at >= self.text.len() {
                    return false;
                }
                let (class, len) = self.class(self.at);
                if !matches!(class, Class::Separator) {
                    break self.at;
                }
                self.at += len;
            };
            // Its end, folding as it goes.
            self.token.text.clear();
            while self.at < self.text.len() {
                let (class, len) = self.class(self.at);
                match class {
                    Class::Separator => break,
                    Class::Ascii(b) => self.token.text.push(b as char),
                    Class::Folded(s) => self.token.text.push_str(s),
                    Class::Other(c) => {
                        if let Some(s) = fold_slow(c) {
                            self.token.text.push_str(&s);
                        }
                    }
                }
                self.at += len;
            }
            // Every word counts for positions, a dropped one too.
            self.token.position = self.token.position.wrapping_add(1);
            if self.at - from < MAX_TOKEN_BYTES {
                self.token.offset_from = from;
                self.token.offset_to = self.at;
                self.token.position_length = 1;
                return true;
            }
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
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

/// The two spellings a word's own spelling gives: its tone key and its English stem.
/// Remembered per thread: a catalogue uses a few thousand distinct words, and working
/// them out (two Unicode normalisations, a stemmer) costs far more than looking them up.
pub(crate) fn spellings(lower: &str, folded: &str) -> (String, String) {
    thread_local! {
        static MEMO: RefCell<HashMap<String, (String, String)>> = RefCell::new(HashMap::new());
        static STEM: RefCell<TextAnalyzer> = RefCell::new(
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(Stemmer::new(Language::English))
                .build(),
        );
    }
    if let Some(hit) = MEMO.with(|m| m.borrow().get(lower).cloned()) {
        return hit;
    }
    let stem = STEM.with(|a| {
        let mut a = a.borrow_mut();
        let mut s = a.token_stream(folded);
        if s.advance() {
            s.token().text.clone()
        } else {
            folded.to_owned()
        }
    });
    let out = (tone_key(lower), stem);
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        // Bounded: text in many languages must not grow it without end.
        if m.len() >= MEMO_LIMIT {
            m.clear();
        }
        m.insert(lower.to_owned(), out.clone());
    });
    out
}

pub(crate) const MEMO_LIMIT: usize = 200_000;

/// The `vi_exact` analysis: the words of [`words`] in their exact spelling (lower-cased,
/// diacritics kept, the tone mark placed one way), so that `cát` (sand) is not `các` and
/// `hoá` is `hóa`. Word boundaries are those of the folding tokenizer.
#[derive(Clone, Default)]
pub struct ExactTokenizer {
    tokens: Vec<Token>,
    /// When set, only words whose folded form is here are spelled out; the others come
    /// out empty (for snippets: only the highlighted words need their spelling).
    only: Option<Arc<HashSet<String>>>,
}

impl ExactTokenizer {
    /// A tokenizer that spells out only the words folding to one of `folded`.
    pub fn only(folded: HashSet<String>) -> Self {
        ExactTokenizer {
            tokens: Vec::new(),
            only: Some(Arc::new(folded)),
        }
    }
}

pub struct ExactStream<'a> {
    tokens: &'a mut [Token],
    at: usize,
}

impl Tokenizer for ExactTokenizer {
    type TokenStream<'a> = ExactStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ExactStream<'a> {
        self.tokens.clear();
        let mut fold = FoldTokenizer::default();
        let mut s = fold.token_stream(text);
        while s.advance() {
            let t = s.token();
            let written = &text[t.offset_from..t.offset_to];
            let wanted = self.only.as_ref().is_none_or(|o| o.contains(&t.text));
            let exact = if !wanted {
                String::new()
            } else if written.is_ascii() {
                written.to_ascii_lowercase()
            } else {
                spellings(&written.to_lowercase(), &t.text).0
            };
            self.tokens.push(Token {
                offset_from: t.offset_from,
                offset_to: t.offset_to,
                position: t.position,
                text: exact,
                position_length: 1,
            });
        }
        ExactStream {
            tokens: &mut self.tokens,
            at: 0,
        }
    }
}

impl TokenStream for ExactStream<'_> {
    fn advance(&mut self) -> bool {
        self.at += 1;
        self.at <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer};

    use super::*;

    fn reference() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build()
    }

    fn all(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        let mut s = analyzer.token_stream(text);
        while s.advance() {
            let t = s.token();
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
        }
        out
    }

    fn same(text: &str) {
        let mut ours = TextAnalyzer::from(FoldTokenizer::default());
        assert_eq!(
            all(&mut ours, text),
            all(&mut reference(), text),
            "{text:?}"
        );
    }

    #[test]
    fn folds_vietnamese_like_the_filters() {
        same("Xử lý nước thải dệt nhuộm bằng màng lọc gốm – ĐẬP THỦY ĐIỆN Đà Nẵng!");
        same("Quy trình sản xuất phân bón hữu cơ vi sinh từ phụ phẩm nông nghiệp (TRL 6).");
        let mut ours = TextAnalyzer::from(FoldTokenizer::default());
        let words: Vec<String> = all(&mut ours, "Nghiên cứu ỨNG DỤNG")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(words, ["nghien", "cuu", "ung", "dung"]);
    }

    #[test]
    fn other_scripts_long_words_and_marks_go_the_filters_way() {
        same("Straße Œuvre ǅemal ŉ İstanbul ΣΟΦΟΣ σοφός Москва 東京 ١٢٣ ½ x²");
        same("e\u{301}te\u{301} combining marks, a\u{0308}");
        same(&format!(
            "short {} long {}é end",
            "a".repeat(59),
            "b".repeat(60)
        ));
        same(&format!("{} tail", "ữ".repeat(30)));
        same("emoji 🙂 between😀words, tab\tnewline\nnbsp\u{a0}end");
        same("");
        same("   ,,, ");
    }

    #[test]
    fn random_text_goes_the_filters_way() {
        let pool: Vec<char> = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ áàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ0123456789 ,.;-–()/\n\tßæøåçñüöÆØÅŁłŒœΣσςЖж東\u{301}\u{a0}🙂"
            .chars()
            .collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..2000 {
            let mut text = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 200) as usize;
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push(pool[(x % pool.len() as u64) as usize]);
            }
            same(&text);
        }
    }

    #[test]
    fn the_demo_catalogue_goes_the_filters_way() {
        for line in crate::demo::jsonl().lines() {
            same(line);
        }
    }
}
