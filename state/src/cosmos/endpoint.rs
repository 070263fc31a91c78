//! Where credentials may go: the one place that decides whether an endpoint is acceptable.
//!
//! Every URL a store sends a signed request, a bearer token or an identity secret to passes
//! through here: the connection string's `AccountEndpoint`, the regional endpoints of the
//! account description (`GET /`), the managed-identity endpoint and the Entra ID authority host.
//! URLs are parsed with the `url` crate (no string splitting: `http://[::1]@evil/` has the host
//! `evil`), and every rule compares parsed hosts exactly.
//!
//! The rules:
//! * no userinfo (`user:password@`) anywhere, and no error or `Debug` output ever repeats it;
//! * `https://`, or `http://` on a loopback host (identity endpoints: also the link-local
//!   instance-metadata host) — the connection string may opt out with `AllowInsecureHttp=true`;
//! * a regional endpoint ([`region_refusal`]) is `https://` (or loopback `http://` when the
//!   account endpoint is loopback `http://` too) on a sibling of the account's host: for a DNS
//!   name, one label followed by the account host minus its first label
//!   (`acct-westus.documents.azure.com` for `acct.documents.azure.com`, likewise for sovereign
//!   clouds and `privatelink` names), when that remainder has at least two labels; for an IP
//!   literal, `localhost` or a shorter name, the same host (ports may differ).

use url::{Host, Url};

use crate::error::{Result, StateError};

/// The link-local host of the Azure instance-metadata service.
const INSTANCE_METADATA_HOST: std::net::Ipv4Addr = std::net::Ipv4Addr::new(169, 254, 169, 254);

/// Parses `text` as an `http(s)` URL without userinfo, or says why not. `what` names the
/// endpoint in the message; the message never repeats the text (it may hold a password).
pub(crate) fn parse(what: &str, text: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{what} is not a URL ({e})"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!("{what} must be an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{what} must not contain a user name or password before its host (its text is not shown)"
        ));
    }
    if url.host().is_none() {
        return Err(format!("{what} has no host"));
    }
    Ok(url)
}

/// `localhost`, an IPv4 address in 127.0.0.0/8, or `::1` (the parsed host, exactly).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks an identity endpoint (`IDENTITY_ENDPOINT`, the instance-metadata endpoint, the
/// authority host): `https://`, or `http://` on loopback (and on the instance-metadata host when
/// `link_local` allows it).
pub(crate) fn check_identity(what: &str, text: &str, link_local: bool) -> Result<Url> {
    let url = parse(what, text).map_err(StateError::InvalidOption)?;
    let metadata_host = link_local && url.host() == Some(Host::Ipv4(INSTANCE_METADATA_HOST));
    if url.scheme() == "http" && !is_loopback(&url) && !metadata_host {
        let hosts = if link_local {
            "a loopback or link-local host"
        } else {
            "loopback"
        };
        return Err(StateError::InvalidOption(format!(
            "{what} must be https://, or http:// on {hosts}"
        )));
    }
    Ok(url)
}

/// The host as compared: lower case (the URL parser lower-cases DNS names already).
fn host_text(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

/// Why the regional endpoint `region` may not receive the account's requests, or `None` when it
/// may (see the module's rules). `account` is the connection string's endpoint.
///
/// ```
/// # use cosmos_session_state::cosmos::endpoint::region_refusal;
/// let account = url::Url::parse("https://acct.documents.azure.com:443/").unwrap();
/// let ok = url::Url::parse("https://acct-westus.documents.azure.com:443/").unwrap();
/// assert_eq!(region_refusal(&account, &ok), None);
/// let other = url::Url::parse("https://evil.example.com/").unwrap();
/// assert!(region_refusal(&account, &other).is_some());
/// ```
pub fn region_refusal(account: &Url, region: &Url) -> Option<String> {
    if !region.username().is_empty() || region.password().is_some() {
        return Some("it carries a user name or password".into());
    }
    match region.scheme() {
        "https" => {}
        "http" if account.scheme() == "http" && is_loopback(account) && is_loopback(region) => {}
        "http" => {
            return Some(
                "it is plain http:// (allowed only for a loopback region of a loopback http:// account)"
                    .into(),
            );
        }
        _ => return Some("it is not an http(s) URL".into()),
    }
    let (mine, theirs) = (host_text(account), host_text(region));
    if mine == theirs {
        return None;
    }
    // A DNS account host's family: its name without the first label, when that has two labels
    // or more (`localhost` and IP literals have none: only the same host).
    let family = match account.host() {
        Some(Host::Domain(_)) => mine
            .split_once('.')
            .map(|(_, parent)| parent)
            .filter(|parent| parent.contains('.')),
        _ => None,
    };
    let Some(parent) = family else {
        return Some("its host is not the account's host".into());
    };
    // One label, then the family.
    let label = match region.host() {
        Some(Host::Domain(_)) => theirs
            .strip_suffix(parent)
            .and_then(|l| l.strip_suffix('.')),
        _ => None,
    };
    match label {
        Some(l) if !l.is_empty() && !l.contains('.') => None,
        _ => Some(format!(
            "its host is not a sibling of the account's (*.{parent})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn userinfo_is_refused_and_never_repeated() {
        for text in [
            "http://[::1]@evil.example/token",
            "http://127.0.0.1:80@evil.example/",
            "https://user:hunter2@acct.documents.azure.com/",
            "http://localhost:hunter2@evil/",
        ] {
            let err = parse("IDENTITY_ENDPOINT", text).unwrap_err();
            assert!(err.contains("user name or password"), "{text}: {err}");
            assert!(!err.contains("hunter2") && !err.contains("evil"), "{err}");
            assert!(check_identity("IDENTITY_ENDPOINT", text, true).is_err());
        }
    }

    #[test]
    fn loopback_is_the_parsed_host() {
        for ok in [
            "http://localhost/",
            "http://LOCALHOST:8081/",
            "http://127.0.0.1/",
            "http://127.1.2.3:80/",
            "http://[::1]/",
            "http://[::1]:8081/x",
        ] {
            assert!(is_loopback(&u(ok)), "{ok}");
        }
        for no in [
            "http://example.com/",
            "http://10.0.0.1/",
            "http://128.0.0.1:80/",
            "http://[::2]/",
            "http://localhost.evil.com/",
            "http://127.0.0.1.nip.io/",
            "http://[::1]@evil/",
        ] {
            assert!(!is_loopback(&u(no)), "{no}");
        }
    }

    #[test]
    fn identity_endpoints() {
        assert!(check_identity("x", "https://login.microsoftonline.com", false).is_ok());
        assert!(check_identity("x", "http://127.0.0.1:41741/msi/token", false).is_ok());
        assert!(
            check_identity(
                "x",
                "http://169.254.169.254/metadata/identity/oauth2/token",
                true
            )
            .is_ok()
        );
        assert!(check_identity("x", "http://169.254.169.254/", false).is_err());
        assert!(check_identity("x", "http://login.example/", false).is_err());
        assert!(check_identity("x", "ftp://127.0.0.1/", false).is_err());
    }

    #[test]
    fn regions_must_be_siblings() {
        let acct = u("https://acct.documents.azure.com:443/");
        for ok in [
            "https://acct-westus.documents.azure.com:443/",
            "https://acct.documents.azure.com/",
            "https://ACCT-EASTUS.documents.azure.com",
        ] {
            assert_eq!(region_refusal(&acct, &u(ok)), None, "{ok}");
        }
        for no in [
            "http://acct-westus.documents.azure.com/",
            "https://evil.example.com/",
            "https://acct-westus.documents.azure.com.evil.example/",
            "https://a.b.documents.azure.com/",
            "https://documents.azure.com/",
            "https://xdocuments.azure.com/",
            "https://127.0.0.1/",
            "https://u:p@acct-westus.documents.azure.com/",
        ] {
            assert!(region_refusal(&acct, &u(no)).is_some(), "{no}");
        }
        let private = u("https://acct.privatelink.documents.azure.com/");
        assert_eq!(
            region_refusal(
                &private,
                &u("https://acct-westus.privatelink.documents.azure.com/")
            ),
            None
        );
        let china = u("https://acct.documents.azure.cn/");
        assert_eq!(
            region_refusal(&china, &u("https://acct-chinaeast.documents.azure.cn/")),
            None
        );
        // A two-label account host has no family wider than itself.
        let short = u("https://example.com/");
        assert!(region_refusal(&short, &u("https://evil.com/")).is_some());
        assert_eq!(region_refusal(&short, &u("https://example.com:444/")), None);
        // Loopback: the same host on another port, http only for an http loopback account.
        let local = u("http://127.0.0.1:8081/");
        assert_eq!(region_refusal(&local, &u("http://127.0.0.1:9000/")), None);
        assert!(region_refusal(&local, &u("http://127.0.0.2:9000/")).is_some());
        assert!(region_refusal(&local, &u("http://localhost:9000/")).is_some());
        let tls = u("https://127.0.0.1:8081/");
        assert!(region_refusal(&tls, &u("http://127.0.0.1:9000/")).is_some());
        assert_eq!(region_refusal(&tls, &u("https://127.0.0.1:9000/")), None);
    }
}
