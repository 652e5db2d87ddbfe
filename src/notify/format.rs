//! Amounts, dates and vocabulary labels as each language writes them.

use chrono::NaiveDate;

use crate::locale::Locale;
use crate::taxonomy::TRANSFER_MODES;

fn group(n: u64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// `1.500.000.000 ₫` in Vietnamese, `VND 1,500,000,000` in English.
pub fn vnd(amount: i64, locale: Locale) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let n = amount.unsigned_abs();
    match locale {
        Locale::Vi => format!("{sign}{} ₫", group(n, '.')),
        Locale::En => format!("{sign}VND {}", group(n, ',')),
    }
}

/// An amount as people say it: `1,2 tỷ đồng`, `350 triệu đồng` in Vietnamese; `VND 1.2
/// billion`, `VND 350 million` in English; smaller amounts in full.
pub fn vnd_words(amount: i64, locale: Locale) -> String {
    let n = amount.unsigned_abs() as f64;
    let sign = if amount < 0 { "-" } else { "" };
    let (value, vi, en) = if n >= 1e9 {
        (n / 1e9, "tỷ đồng", "billion")
    } else if n >= 1e6 {
        (n / 1e6, "triệu đồng", "million")
    } else {
        return vnd(amount, locale);
    };
    // At most two decimals, none when whole.
    let mut digits = format!("{value:.2}");
    while digits.contains('.') && (digits.ends_with('0') || digits.ends_with('.')) {
        digits.pop();
    }
    match locale {
        Locale::Vi => format!("{sign}{} {vi}", digits.replace('.', ",")),
        Locale::En => format!("{sign}VND {digits} {en}"),
    }
}

/// `05/12/2026` in Vietnamese, `5 Dec 2026` in English.
pub fn date(d: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::Vi => d.format("%d/%m/%Y").to_string(),
        Locale::En => d.format("%-d %b %Y").to_string(),
    }
}

/// The label of a transfer mode code, or the code itself when unknown.
pub fn transfer_mode(code: &str, locale: Locale) -> String {
    TRANSFER_MODES
        .iter()
        .find(|t| t.code == code)
        .map(|t| match locale {
            Locale::Vi => t.vi,
            Locale::En => t.en,
        })
        .unwrap_or(code)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_the_local_way() {
        assert_eq!(vnd(1_500_000_000, Locale::Vi), "1.500.000.000 ₫");
        assert_eq!(vnd(1_500_000_000, Locale::En), "VND 1,500,000,000");
        assert_eq!(vnd(0, Locale::Vi), "0 ₫");
        assert_eq!(vnd(999, Locale::En), "VND 999");
        assert_eq!(vnd(1000, Locale::En), "VND 1,000");
    }

    #[test]
    fn amounts_in_words() {
        assert_eq!(vnd_words(1_200_000_000, Locale::Vi), "1,2 tỷ đồng");
        assert_eq!(vnd_words(350_000_000, Locale::Vi), "350 triệu đồng");
        assert_eq!(vnd_words(2_000_000_000, Locale::Vi), "2 tỷ đồng");
        assert_eq!(vnd_words(1_250_000_000, Locale::En), "VND 1.25 billion");
        assert_eq!(vnd_words(350_000_000, Locale::En), "VND 350 million");
        assert_eq!(vnd_words(500_000, Locale::Vi), "500.000 ₫");
    }

    #[test]
    fn dates_and_labels() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(date(d, Locale::Vi), "05/12/2026");
        assert_eq!(date(d, Locale::En), "5 Dec 2026");
        assert_eq!(transfer_mode("license", Locale::En), "Licence to use");
        assert_eq!(transfer_mode("zzz", Locale::Vi), "zzz");
    }
}
