//! docs/errors.md, "the one error table", lists every code of the core's table under its
//! category, and nothing else: the doc is held to `ERROR_CODES`.

use std::collections::BTreeSet;

use cosmos_session_token::ERROR_CODES;

#[test]
fn the_errors_page_lists_every_code_under_its_category() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md"))
        .expect("docs/errors.md");
    let mut seen = BTreeSet::new();
    for row in page.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let category = cells[0].trim_start_matches("| ").trim();
        if category == "category" || category.contains(',') {
            continue; // the header and the C-only row
        }
        let listed: BTreeSet<&str> = cells[1].split('`').skip(1).step_by(2).collect();
        let wanted: BTreeSet<&str> = ERROR_CODES
            .iter()
            .filter(|c| c.category.name() == category)
            .map(|c| c.code)
            .collect();
        assert_eq!(listed, wanted, "docs/errors.md, row {category}");
        seen.insert(category.to_owned());
    }
    let categories: BTreeSet<String> = ERROR_CODES
        .iter()
        .map(|c| c.category.name().to_owned())
        .filter(|c| c != "null_argument" && c != "buffer_too_small")
        .collect();
    assert_eq!(seen, categories, "a row per category");
}
