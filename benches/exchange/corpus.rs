//! A generator of synthetic listings in the interchange format, with realistic Vietnamese
//! (and some English) vocabulary, deterministic for a given seed.

use serde_json::{json, Value};

/// A tiny deterministic generator (SplitMix64): the same corpus on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A word or phrase from a list of them.
    pub fn word(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

pub struct Area {
    pub code: &'static str,
    pub fields: &'static [&'static str],
    pub topics: &'static [&'static str],
    pub sectors: &'static [&'static str],
    pub en_topics: &'static [&'static str],
}

pub const AREAS: &[Area] = &[
    Area {
        code: "ict",
        fields: &["102", "202"],
        topics: &[
            "trí tuệ nhân tạo",
            "học sâu",
            "thị giác máy tính",
            "nhận dạng khuôn mặt",
            "cảm biến IoT",
            "dữ liệu lớn",
            "chuyển đổi số",
            "điện toán đám mây",
            "an ninh mạng",
            "phần mềm quản lý",
            "ứng dụng di động",
            "mạng 5G",
            "robot tự hành",
            "trợ lý ảo",
            "xử lý ngôn ngữ tự nhiên",
            "nhận dạng biển số xe",
        ],
        sectors: &[
            "doanh nghiệp vừa và nhỏ",
            "cơ quan nhà nước",
            "ngân hàng",
            "bệnh viện",
            "trường học",
        ],
        en_topics: &[
            "machine learning",
            "computer vision",
            "edge computing",
            "IoT sensors",
            "data platforms",
            "cybersecurity",
            "digital twins",
        ],
    },
    Area {
        code: "health",
        fields: &["302", "303", "304"],
        topics: &[
            "chẩn đoán nhanh",
            "xét nghiệm sinh học phân tử",
            "dược liệu",
            "vắc xin",
            "thiết bị y tế",
            "điều trị ung thư",
            "y học cổ truyền",
            "chăm sóc người cao tuổi",
            "hình ảnh y khoa",
            "sinh phẩm chẩn đoán",
            "kháng sinh thế hệ mới",
            "y tế từ xa",
        ],
        sectors: &[
            "bệnh viện tuyến huyện",
            "phòng khám",
            "trạm y tế xã",
            "doanh nghiệp dược",
        ],
        en_topics: &[
            "rapid diagnostics",
            "medical imaging",
            "telemedicine",
            "herbal extracts",
            "vaccine adjuvants",
        ],
    },
    Area {
        code: "industry",
        fields: &["203", "205", "204"],
        topics: &[
            "vật liệu composite",
            "khuôn mẫu chính xác",
            "gia công CNC",
            "linh kiện điện tử",
            "dệt nhuộm",
            "mỹ phẩm thiên nhiên",
            "tự động hóa dây chuyền",
            "hàn robot",
            "sơn phủ nano",
            "in 3D kim loại",
            "vật liệu nano",
            "pin lưu trữ năng lượng",
        ],
        sectors: &[
            "khu công nghiệp",
            "làng nghề cơ khí",
            "nhà máy dệt may",
            "doanh nghiệp điện tử",
        ],
        en_topics: &[
            "composite materials",
            "precision moulds",
            "battery storage",
            "additive manufacturing",
            "nano coatings",
        ],
    },
    Area {
        code: "agriculture",
        fields: &["401", "404", "402"],
        topics: &[
            "giống lúa chịu hạn",
            "nuôi cấy mô",
            "bảo quản sau thu hoạch",
            "chế biến sâu nông sản",
            "phân bón hữu cơ",
            "chế phẩm sinh học",
            "nuôi trồng thủy sản",
            "chăn nuôi an toàn sinh học",
            "truy xuất nguồn gốc",
            "nông nghiệp công nghệ cao",
            "tưới tiết kiệm nước",
            "rau thủy canh",
        ],
        sectors: &[
            "hợp tác xã",
            "trang trại",
            "vùng chuyên canh",
            "doanh nghiệp chế biến",
        ],
        en_topics: &[
            "cold chain",
            "post-harvest storage",
            "precision irrigation",
            "biofertilizers",
            "aquaculture feeds",
        ],
    },
    Area {
        code: "environment",
        fields: &["207", "208", "105"],
        topics: &[
            "xử lý nước thải",
            "chất thải rắn",
            "quan trắc không khí",
            "năng lượng mặt trời",
            "điện gió",
            "khí sinh học biogas",
            "tái chế nhựa",
            "xử lý khí thải",
            "nước sạch nông thôn",
            "xử lý bùn thải",
            "màng lọc",
            "than sinh học",
        ],
        sectors: &["khu đô thị", "cụm công nghiệp", "làng nghề", "bãi chôn lấp"],
        en_topics: &[
            "wastewater treatment",
            "air quality monitoring",
            "solar power",
            "plastic recycling",
            "membrane filtration",
        ],
    },
    Area {
        code: "urban",
        fields: &["201", "211"],
        topics: &[
            "giao thông thông minh",
            "quy hoạch đô thị",
            "chống ngập úng",
            "vật liệu xây dựng xanh",
            "bê tông tính năng cao",
            "quan trắc cầu",
            "chiếu sáng công cộng",
            "bãi đỗ xe thông minh",
            "nhà ở xã hội",
            "gạch không nung",
        ],
        sectors: &[
            "quận nội thành",
            "khu đô thị mới",
            "ban quản lý dự án",
            "doanh nghiệp xây dựng",
        ],
        en_topics: &[
            "smart traffic",
            "flood warning",
            "green building",
            "structural monitoring",
        ],
    },
    Area {
        code: "culture_society",
        fields: &["601", "604", "503"],
        topics: &[
            "số hóa di sản",
            "làng nghề truyền thống",
            "bảo tàng số",
            "du lịch thông minh",
            "giáo dục trực tuyến",
            "thư viện số",
            "gốm sứ Bát Tràng",
            "lễ hội truyền thống",
        ],
        sectors: &["bảo tàng", "trường phổ thông", "làng nghề", "khu di tích"],
        en_topics: &["heritage digitisation", "virtual museums", "e-learning"],
    },
];

const PREFIX: &[&str] = &[
    "Hệ thống",
    "Công nghệ",
    "Giải pháp",
    "Thiết bị",
    "Quy trình",
    "Phần mềm",
    "Mô hình",
    "Dây chuyền",
    "Chế phẩm",
    "Bộ kit",
];
const SUFFIX: &[&str] = &[
    "cho doanh nghiệp vừa và nhỏ",
    "quy mô công nghiệp",
    "thế hệ mới",
    "giá thành thấp",
    "tiết kiệm năng lượng",
    "tại Hà Nội",
    "cho vùng nông thôn",
    "ứng dụng trí tuệ nhân tạo",
    "tích hợp cảm biến IoT",
    "đạt chuẩn quốc tế",
];
const NEED_PREFIX: &[&str] = &[
    "Cần công nghệ",
    "Tìm giải pháp",
    "Đặt hàng nghiên cứu",
    "Cần chuyển giao",
    "Tìm đối tác phát triển",
];
const SENTENCES: &[&str] = &[
    "Công nghệ được nhóm nghiên cứu phát triển trong {n} năm và đã thử nghiệm thành công.",
    "Hiệu suất đạt {p}%, giảm {q}% chi phí vận hành so với giải pháp nhập khẩu.",
    "Giải pháp phù hợp cho {sector}, dễ lắp đặt và vận hành.",
    "Sản phẩm đáp ứng quy chuẩn kỹ thuật quốc gia và tiêu chuẩn môi trường hiện hành.",
    "Quy mô triển khai từ {n} đến {m} điểm, thời gian hoàn vốn khoảng {n} năm.",
    "Đơn vị sẵn sàng chuyển giao, đào tạo nhân lực và hỗ trợ kỹ thuật sau bán hàng.",
    "Kết quả được công bố trên {n} bài báo khoa học và được cấp bằng độc quyền.",
    "Hệ thống kết hợp {topic} với {topic2} để nâng cao năng suất.",
];
const NEED_SENTENCES: &[&str] = &[
    "Doanh nghiệp hiện gặp khó khăn về {topic}, chi phí tăng {p}% mỗi năm.",
    "Cần giải pháp đạt quy chuẩn, công suất {n} tấn mỗi ngày, vận hành ổn định.",
    "Ưu tiên công nghệ trong nước, có khả năng mở rộng cho {sector}.",
    "Ngân sách dự kiến khoảng {m} triệu đồng, thời gian triển khai {n} tháng.",
];
const EN_SENTENCES: &[&str] = &[
    "The system was developed over {n} years and validated in pilot plants.",
    "Efficiency reaches {p}% while operating costs fall by {q}%.",
    "It suits {topic} projects and integrates with {topic2}.",
    "The team offers licensing, training and technical support.",
];
const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Minh", "Quốc", "Thu", "Hữu", "Thanh", "Ngọc"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Hằng", "Lan", "Mai", "Nam", "Phương", "Quân", "Sơn", "Tâm",
    "Tuấn", "Yến",
];
const MODES: &[&str] = &[
    "assignment",
    "license",
    "capital_contribution",
    "joint_development",
    "consulting",
    "research_contract",
];
const IP: &[&str] = &[
    "patent_granted",
    "patent_pending",
    "utility_solution",
    "industrial_design",
    "software_copyright",
    "plant_variety",
    "know_how",
    "none",
];
const COUNTRIES: &[&str] = &[
    "VN", "VN", "VN", "VN", "JP", "KR", "US", "DE", "FR", "AU", "SG",
];

fn fill(template: &str, r: &mut Rng, area: &Area) -> String {
    template
        .replace("{n}", &(2 + r.below(12)).to_string())
        .replace("{m}", &(20 + r.below(900)).to_string())
        .replace("{p}", &(60 + r.below(39)).to_string())
        .replace("{q}", &(10 + r.below(40)).to_string())
        .replace("{sector}", r.word(area.sectors))
        .replace("{topic2}", r.word(area.topics))
        .replace("{topic}", r.word(area.topics))
}

fn en_fill(template: &str, r: &mut Rng, area: &Area) -> String {
    template
        .replace("{n}", &(2 + r.below(12)).to_string())
        .replace("{p}", &(60 + r.below(39)).to_string())
        .replace("{q}", &(10 + r.below(40)).to_string())
        .replace("{topic2}", r.word(area.en_topics))
        .replace("{topic}", r.word(area.en_topics))
}

fn modes(r: &mut Rng) -> Vec<&'static str> {
    let mut m: Vec<&str> = (0..1 + r.below(3)).map(|_| r.word(MODES)).collect();
    m.sort_unstable();
    m.dedup();
    m
}

/// The organisations listings belong to: `count` of them.
pub fn organizations(count: usize) -> Vec<Value> {
    let types = [
        "institute",
        "university",
        "enterprise",
        "enterprise",
        "broker",
    ];
    (0..count)
        .map(|i| {
            json!({"kind": "organization", "external_id": format!("BORG-{i}"),
                   "name": format!("Tổ chức khoa học và công nghệ số {i}"),
                   "org_type": types[i % types.len()], "district": "Cầu Giấy"})
        })
        .collect()
}

/// Listing number `i` of the corpus (55 % technologies, 25 % needs, 20 % experts; about
/// 12 % in English).
pub fn listing(i: usize, orgs: usize, r: &mut Rng) -> Value {
    let area = r.pick(AREAS);
    let english = r.chance(12);
    let field = r.word(area.fields);
    let second = if r.chance(30) {
        Some(r.pick(AREAS).code)
    } else {
        None
    };
    let mut areas = vec![area.code];
    if let Some(s) = second.filter(|s| *s != area.code) {
        areas.push(s);
    }
    let owner = format!("BORG-{}", r.below(orgs));
    let kind_roll = r.below(100);
    if kind_roll < 55 {
        let (title, description, keywords, language) = if english {
            let t = format!("{} for {}", r.pick(area.en_topics), r.pick(area.en_topics));
            let d: Vec<String> = (0..4)
                .map(|_| en_fill(r.word(EN_SENTENCES), r, area))
                .collect();
            let k: Vec<&str> = (0..3).map(|_| r.word(area.en_topics)).collect();
            (t, d.join(" "), k, "en")
        } else {
            let t = format!(
                "{} {} {}",
                r.pick(PREFIX),
                r.pick(area.topics),
                r.pick(SUFFIX)
            );
            let d: Vec<String> = (0..5).map(|_| fill(r.word(SENTENCES), r, area)).collect();
            let k: Vec<&str> = (0..4).map(|_| r.word(area.topics)).collect();
            (t, d.join(" "), k, "vi")
        };
        let mut k: Vec<&str> = keywords;
        k.sort_unstable();
        k.dedup();
        let min = 50_000_000 * (1 + r.below(40)) as i64;
        json!({"kind": "technology", "external_id": format!("BT-{i}"), "owner": owner, "language": language,
               "title": title, "summary": description.chars().take(200).collect::<String>(),
               "description": description, "field": field, "priority_areas": areas, "keywords": k,
               "trl": 3 + r.below(7), "ip_status": r.pick(IP), "transfer_modes": modes(r),
               "price_vnd_min": if r.chance(70) { Some(min) } else { None },
               "price_vnd_max": if r.chance(50) { Some(min * 3) } else { None },
               "negotiable": r.chance(50), "applications": format!("Ứng dụng cho {}", r.pick(area.sectors))})
    } else if kind_roll < 80 {
        let t = format!(
            "{} {} {}",
            r.pick(NEED_PREFIX),
            r.pick(area.topics),
            r.pick(SUFFIX)
        );
        let d: Vec<String> = (0..4)
            .map(|_| fill(r.word(NEED_SENTENCES), r, area))
            .collect();
        let mut k: Vec<&str> = (0..3).map(|_| r.word(area.topics)).collect();
        k.sort_unstable();
        k.dedup();
        json!({"kind": "need", "external_id": format!("BN-{i}"), "owner": owner, "language": "vi",
               "title": t, "description": d.join(" "), "field": field, "priority_areas": areas,
               "keywords": k, "trl_min": 4 + r.below(5), "budget_vnd_min": null,
               "budget_vnd_max": 100_000_000 * (1 + r.below(50)) as i64, "deadline": "2029-12-31",
               "collaboration_types": modes(r), "confidential": r.chance(30)})
    } else {
        let name = format!(
            "{} {} {} {i}",
            r.pick(FAMILY),
            r.pick(MIDDLE),
            r.pick(GIVEN)
        );
        let mut k: Vec<&str> = (0..4).map(|_| r.word(area.topics)).collect();
        k.sort_unstable();
        k.dedup();
        let bio: Vec<String> = (0..3).map(|_| fill(r.word(SENTENCES), r, area)).collect();
        json!({"kind": "expert", "external_id": format!("BE-{i}"), "full_name": name,
               "academic_title": r.word(&["TS.", "PGS.TS.", "GS.TS.", "ThS."]),
               "affiliation": "Viện Hàn lâm Khoa học và Công nghệ Việt Nam", "country": r.pick(COUNTRIES),
               "fields": [field], "expertise": k, "languages": ["vi", "en"], "bio": bio.join(" "),
               "email": format!("chuyengia{i}@example.vn"), "availability": "consulting"})
    }
}

/// Search-box queries of 1–3 words drawn from the same vocabulary, half of them typed
/// without diacritics.
pub fn queries(count: usize, r: &mut Rng) -> Vec<String> {
    (0..count)
        .map(|i| {
            let area = r.pick(AREAS);
            let topic = r.word(area.topics);
            let words: Vec<&str> = topic.split_whitespace().collect();
            let n = 1 + r.below(3.min(words.len()));
            let start = r.below(words.len() - n + 1);
            let q = words[start..start + n].join(" ");
            if i % 2 == 0 {
                techex::search::analysis::folded(&q).join(" ")
            } else {
                q
            }
        })
        .collect()
}

/// The query mix people really type: 70 % short search-box queries (as [`queries`]), 10 %
/// long problem statements (the demo needs' descriptions, cut to 25–60 words), 10 % English
/// (the demo's English listings' titles, cut to 2–6 words), 10 % typos (a short query with
/// one letter of one word of four letters or more dropped, doubled or swapped). Each query
/// comes with its class.
pub fn query_mix(count: usize, r: &mut Rng) -> Vec<(&'static str, String)> {
    let demo = techex::demo::jsonl();
    let mut statements = Vec::new();
    let mut english = Vec::new();
    for line in demo.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["kind"] == "need" {
            if let Some(d) = v["description"].as_str() {
                statements.push(d.to_owned());
            }
        }
        if v["language"] == "en" {
            if let Some(t) = v["title"].as_str() {
                english.push(t.to_owned());
            }
        }
    }
    let short = queries(count, r);
    (0..count)
        .map(|i| match i % 10 {
            0 => {
                let words: Vec<&str> = r.pick(&statements).split_whitespace().collect();
                let n = (25 + r.below(36)).min(words.len());
                ("long", words[..n].join(" "))
            }
            1 => {
                let words: Vec<&str> = r.pick(&english).split_whitespace().collect();
                let n = (2 + r.below(5)).min(words.len());
                ("english", words[..n].join(" "))
            }
            2 => {
                let q = &short[i];
                let mut words: Vec<String> = q.split_whitespace().map(str::to_owned).collect();
                if let Some(w) = words.iter_mut().find(|w| w.chars().count() >= 4) {
                    let mut cs: Vec<char> = w.chars().collect();
                    let at = 1 + r.below(cs.len() - 2);
                    match r.below(3) {
                        0 => {
                            cs.remove(at);
                        }
                        1 => cs.insert(at, cs[at]),
                        _ => cs.swap(at, at + 1),
                    }
                    *w = cs.into_iter().collect();
                }
                ("typo", words.join(" "))
            }
            _ => ("short", short[i].clone()),
        })
        .collect()
}
