//! The shared vocabularies: fields of S&T (OECD Fields of Science, as Vietnam's
//! classification follows them), Hanoi priority areas, IP statuses, transfer modes, TRL,
//! expert availability. Codes are what the API and the interchange format carry.

use serde::Serialize;
use utoipa::ToSchema;

/// A code with its Vietnamese and English labels.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Term {
    pub code: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
}

const fn t(code: &'static str, vi: &'static str, en: &'static str) -> Term {
    Term { code, vi, en }
}

/// The six fields (one digit) and their sectors (three digits).
pub const FIELDS: &[(Term, &[Term])] = &[
    (
        t("1", "Khoa học tự nhiên", "Natural sciences"),
        &[
            t("101", "Toán học và thống kê", "Mathematics"),
            t(
                "102",
                "Khoa học máy tính và thông tin",
                "Computer and information sciences",
            ),
            t("103", "Vật lý", "Physical sciences"),
            t("104", "Hóa học", "Chemical sciences"),
            t(
                "105",
                "Khoa học trái đất và môi trường liên quan",
                "Earth and related environmental sciences",
            ),
            t("106", "Sinh học", "Biological sciences"),
            t("107", "Khoa học tự nhiên khác", "Other natural sciences"),
        ],
    ),
    (
        t(
            "2",
            "Khoa học kỹ thuật và công nghệ",
            "Engineering and technology",
        ),
        &[
            t("201", "Kỹ thuật dân dụng", "Civil engineering"),
            t(
                "202",
                "Kỹ thuật điện, điện tử, thông tin",
                "Electrical, electronic and information engineering",
            ),
            t("203", "Kỹ thuật cơ khí", "Mechanical engineering"),
            t("204", "Kỹ thuật hóa học", "Chemical engineering"),
            t(
                "205",
                "Kỹ thuật vật liệu và luyện kim",
                "Materials engineering",
            ),
            t("206", "Kỹ thuật y học", "Medical engineering"),
            t("207", "Kỹ thuật môi trường", "Environmental engineering"),
            t(
                "208",
                "Công nghệ sinh học môi trường",
                "Environmental biotechnology",
            ),
            t(
                "209",
                "Công nghệ sinh học công nghiệp",
                "Industrial biotechnology",
            ),
            t("210", "Công nghệ nano", "Nano-technology"),
            t(
                "211",
                "Kỹ thuật và công nghệ khác",
                "Other engineering and technologies",
            ),
        ],
    ),
    (
        t("3", "Khoa học y, dược", "Medical and health sciences"),
        &[
            t("301", "Y học cơ sở", "Basic medicine"),
            t("302", "Y học lâm sàng", "Clinical medicine"),
            t("303", "Khoa học sức khỏe", "Health sciences"),
            t(
                "304",
                "Công nghệ sinh học trong y học",
                "Medical biotechnology",
            ),
            t("305", "Khoa học y, dược khác", "Other medical sciences"),
        ],
    ),
    (
        t("4", "Khoa học nông nghiệp", "Agricultural sciences"),
        &[
            t(
                "401",
                "Nông nghiệp, lâm nghiệp và thủy sản",
                "Agriculture, forestry and fisheries",
            ),
            t("402", "Chăn nuôi và sữa", "Animal and dairy science"),
            t("403", "Thú y", "Veterinary science"),
            t(
                "404",
                "Công nghệ sinh học nông nghiệp",
                "Agricultural biotechnology",
            ),
            t(
                "405",
                "Khoa học nông nghiệp khác",
                "Other agricultural sciences",
            ),
        ],
    ),
    (
        t("5", "Khoa học xã hội", "Social sciences"),
        &[
            t("501", "Tâm lý học", "Psychology"),
            t("502", "Kinh tế và kinh doanh", "Economics and business"),
            t("503", "Khoa học giáo dục", "Educational sciences"),
            t("504", "Xã hội học", "Sociology"),
            t("505", "Pháp luật", "Law"),
            t("506", "Khoa học chính trị", "Political science"),
            t(
                "507",
                "Địa lý kinh tế và xã hội",
                "Social and economic geography",
            ),
            t(
                "508",
                "Thông tin đại chúng và truyền thông",
                "Media and communications",
            ),
            t("509", "Khoa học xã hội khác", "Other social sciences"),
        ],
    ),
    (
        t("6", "Khoa học nhân văn", "Humanities"),
        &[
            t("601", "Lịch sử và khảo cổ học", "History and archaeology"),
            t("602", "Ngôn ngữ học và văn học", "Languages and literature"),
            t(
                "603",
                "Triết học, đạo đức học và tôn giáo",
                "Philosophy, ethics and religion",
            ),
            t("604", "Nghệ thuật", "Arts"),
            t("605", "Khoa học nhân văn khác", "Other humanities"),
        ],
    ),
];

pub const PRIORITY_AREAS: &[Term] = &[
    t(
        "ict",
        "Công nghệ thông tin và truyền thông",
        "Information and communication technology",
    ),
    t("health", "Y tế và chăm sóc sức khỏe", "Health"),
    t("industry", "Công nghiệp", "Industry"),
    t("agriculture", "Nông nghiệp", "Agriculture"),
    t("environment", "Môi trường", "Environment"),
    t("urban", "Phát triển đô thị", "Urban development"),
    t(
        "culture_society",
        "Văn hóa và phát triển xã hội",
        "Culture and social development",
    ),
];

pub const IP_STATUSES: &[Term] = &[
    t(
        "patent_granted",
        "Bằng độc quyền sáng chế",
        "Granted patent",
    ),
    t("patent_pending", "Đang nộp đơn sáng chế", "Patent pending"),
    t("utility_solution", "Giải pháp hữu ích", "Utility solution"),
    t(
        "industrial_design",
        "Kiểu dáng công nghiệp",
        "Industrial design",
    ),
    t(
        "software_copyright",
        "Quyền tác giả phần mềm",
        "Software copyright",
    ),
    t(
        "plant_variety",
        "Bảo hộ giống cây trồng",
        "Plant variety protection",
    ),
    t("know_how", "Bí quyết kỹ thuật", "Trade secret / know-how"),
    t("none", "Chưa bảo hộ", "None"),
];

pub const TRANSFER_MODES: &[Term] = &[
    t(
        "assignment",
        "Chuyển nhượng quyền sở hữu",
        "Assignment of ownership",
    ),
    t("license", "Chuyển giao quyền sử dụng", "Licence to use"),
    t(
        "capital_contribution",
        "Góp vốn bằng công nghệ",
        "Capital contribution with technology",
    ),
    t(
        "joint_development",
        "Hợp tác nghiên cứu, phát triển",
        "Technical cooperation / joint development",
    ),
    t(
        "consulting",
        "Tư vấn, dịch vụ kỹ thuật",
        "Consulting and technical services",
    ),
    t(
        "research_contract",
        "Đặt hàng nghiên cứu",
        "Research contract",
    ),
];

pub const AVAILABILITY: &[Term] = &[
    t("consulting", "Tư vấn", "Consulting"),
    t("appraisal", "Thẩm định", "Appraisal"),
    t("joint_research", "Hợp tác nghiên cứu", "Joint research"),
    t("training", "Đào tạo", "Training"),
    t("unavailable", "Tạm thời không nhận", "Unavailable"),
];

/// Technology readiness levels with their descriptions.
pub const TRL: &[(u8, &str, &str)] = &[
    (
        1,
        "Nguyên lý cơ bản được quan sát và báo cáo",
        "Basic principles observed",
    ),
    (
        2,
        "Hình thành khái niệm công nghệ và ứng dụng",
        "Technology concept formulated",
    ),
    (
        3,
        "Chứng minh khái niệm bằng thực nghiệm",
        "Experimental proof of concept",
    ),
    (
        4,
        "Công nghệ được kiểm chứng trong phòng thí nghiệm",
        "Technology validated in lab",
    ),
    (
        5,
        "Công nghệ được kiểm chứng trong môi trường liên quan",
        "Technology validated in relevant environment",
    ),
    (
        6,
        "Công nghệ được trình diễn trong môi trường liên quan",
        "Technology demonstrated in relevant environment",
    ),
    (
        7,
        "Trình diễn mẫu thử hệ thống trong môi trường vận hành",
        "System prototype demonstration in operational environment",
    ),
    (
        8,
        "Hệ thống hoàn chỉnh và đạt chuẩn",
        "System complete and qualified",
    ),
    (
        9,
        "Hệ thống được chứng minh trong vận hành thực tế",
        "Actual system proven in operational environment",
    ),
];

/// Is `code` a field (1 digit) or a sector (3 digits) of the classification?
pub fn is_field_code(code: &str) -> bool {
    FIELDS
        .iter()
        .any(|(f, sectors)| f.code == code || sectors.iter().any(|s| s.code == code))
}

pub fn field_label(code: &str) -> Option<&'static Term> {
    FIELDS.iter().find_map(|(f, sectors)| {
        if f.code == code {
            Some(f)
        } else {
            sectors.iter().find(|s| s.code == code)
        }
    })
}

fn one_of(terms: &[Term], code: &str, what: &str) -> Result<&'static str, String>
where
{
    terms
        .iter()
        .find(|t| t.code == code)
        .map(|t| t.code)
        .ok_or_else(|| {
            let codes: Vec<&str> = terms.iter().map(|t| t.code).collect();
            format!("`{code}` is not {what} ({})", codes.join(", "))
        })
}

pub fn priority_area(code: &str) -> Result<&'static str, String> {
    one_of(PRIORITY_AREAS, code, "a priority area")
}

pub fn ip_status(code: &str) -> Result<&'static str, String> {
    one_of(IP_STATUSES, code, "an IP status")
}

pub fn transfer_mode(code: &str) -> Result<&'static str, String> {
    one_of(TRANSFER_MODES, code, "a transfer mode")
}

pub fn availability(code: &str) -> Result<&'static str, String> {
    one_of(AVAILABILITY, code, "an availability")
}

/// ISO 3166-1 alpha-2 codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ \
BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK \
DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW \
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB \
LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC \
NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC \
SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

pub fn country(code: &str) -> Result<String, String> {
    let c = code.trim().to_ascii_uppercase();
    if c.len() == 2 && COUNTRIES.split_ascii_whitespace().any(|k| k == c) {
        Ok(c)
    } else {
        Err(format!(
            "`{code}` is not an ISO 3166 two-letter country code"
        ))
    }
}

/// The vocabularies as JSON Schema enums, for the OpenAPI document: `field` and friends
/// for listing fields, the `_filter` ones for query parameters (empty: no filter).
pub mod schema {
    use crate::taxonomy::{
        AVAILABILITY, COUNTRIES, FIELDS, IP_STATUSES, PRIORITY_AREAS, TRANSFER_MODES,
    };
    use crate::validate::schema::{filter, list, one_of, one_of_or_null};
    use utoipa::openapi::schema::Schema;

    fn field_codes() -> impl Iterator<Item = &'static str> {
        FIELDS
            .iter()
            .flat_map(|(f, sectors)| std::iter::once(f.code).chain(sectors.iter().map(|s| s.code)))
    }

    /// Fields of S&T: at least one.
    pub fn fields() -> Schema {
        list(field(), Some(1), None, false)
    }
    pub fn priority_areas() -> Schema {
        list(priority_area(), None, None, true)
    }
    pub fn transfer_modes() -> Schema {
        list(transfer_mode(), None, None, true)
    }
    pub fn ip_status_or_null() -> Schema {
        one_of_or_null(IP_STATUSES.iter().map(|t| t.code))
    }
    pub fn availability_or_null() -> Schema {
        one_of_or_null(AVAILABILITY.iter().map(|t| t.code))
    }
    pub fn country_or_null() -> Schema {
        one_of_or_null(COUNTRIES.split_ascii_whitespace())
    }

    pub fn field() -> Schema {
        one_of(field_codes())
    }
    pub fn field_filter() -> Schema {
        filter(field_codes())
    }
    pub fn priority_area() -> Schema {
        one_of(PRIORITY_AREAS.iter().map(|t| t.code))
    }
    pub fn priority_area_filter() -> Schema {
        filter(PRIORITY_AREAS.iter().map(|t| t.code))
    }
    pub fn ip_status() -> Schema {
        one_of(IP_STATUSES.iter().map(|t| t.code))
    }
    pub fn ip_status_filter() -> Schema {
        filter(IP_STATUSES.iter().map(|t| t.code))
    }
    pub fn transfer_mode() -> Schema {
        one_of(TRANSFER_MODES.iter().map(|t| t.code))
    }
    pub fn transfer_mode_filter() -> Schema {
        filter(TRANSFER_MODES.iter().map(|t| t.code))
    }
    pub fn availability() -> Schema {
        one_of(AVAILABILITY.iter().map(|t| t.code))
    }
    pub fn country() -> Schema {
        one_of(COUNTRIES.split_ascii_whitespace())
    }
    pub fn country_filter() -> Schema {
        filter(COUNTRIES.split_ascii_whitespace())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_codes() {
        for code in [
            "1", "2", "102", "202", "205", "207", "210", "211", "302", "401", "404", "605",
        ] {
            assert!(is_field_code(code), "{code}");
        }
        for code in ["7", "108", "212", "2.07", "", "20"] {
            assert!(!is_field_code(code), "{code}");
        }
        assert_eq!(
            field_label("207").map(|t| t.en),
            Some("Environmental engineering")
        );
    }

    #[test]
    fn vocabularies() {
        assert!(priority_area("environment").is_ok());
        assert!(priority_area("energy")
            .unwrap_err()
            .contains("culture_society"));
        assert!(ip_status("patent_granted").is_ok());
        assert!(transfer_mode("license").is_ok());
        assert!(transfer_mode("licence").is_err());
        assert_eq!(country("vn").unwrap(), "VN");
        assert!(country("XX").is_err());
        assert_eq!(TRL.len(), 9);
    }
}
