//! What a Cosmos DB store reads from the service before it trusts it, on arbitrary input split
//! at the first two '\n': an account endpoint (a URL), an account description (`GET /`'s body)
//! and a page of partition-key ranges (`GET …/pkranges`). A description that parses keeps only
//! regions the endpoint rules allow (checked again here) and names the refused ones without
//! their endpoint text; pages decode within their bounds, refuse a repeated continuation, and a
//! map built from them covers ""..FF.
#![no_main]

use cosmos_session_state::cosmos::endpoint::region_refusal;
use cosmos_session_state::cosmos::pkranges::Pages;
use cosmos_session_state::cosmos::topology::Account;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let (endpoint, description, page) = (parts.next().unwrap_or(""), parts.next(), parts.next());
    if let (Ok(account_url), Some(description)) = (url::Url::parse(endpoint), description)
        && let Ok(account) = Account::parse(description.as_bytes())
    {
        let (kept, refused) = account.keep_family(&account_url);
        for region in kept.writable.iter().chain(&kept.readable) {
            let url = url::Url::parse(&region.endpoint).expect("a kept region's endpoint parses");
            assert_eq!(region_refusal(&account_url, &url), None, "kept {}", region.name);
            assert!(url.username().is_empty() && url.password().is_none());
        }
        for r in &refused {
            assert!(!r.reason.contains('@'), "a refusal repeats no userinfo: {}", r.reason);
        }
    }
    if let Some(page) = page {
        let mut pages = Pages::new("dbs/d/colls/c");
        if pages.take(page.as_bytes(), Some("c".into())).is_ok() {
            assert!(pages.take(page.as_bytes(), Some("c".into())).is_err(), "a repeated continuation");
        }
        let mut once = Pages::new("dbs/d/colls/c");
        if once.take(page.as_bytes(), None).is_ok()
            && let Ok(map) = once.finish()
        {
            let ranges = map.ranges();
            assert_eq!(ranges[0].min, "");
            assert_eq!(ranges[ranges.len() - 1].max, "FF");
        }
    }
});
