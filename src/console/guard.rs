//! Who may call the console. It listens on loopback only, but any web site open in the same
//! browser can send requests to loopback, and a DNS name rebound to 127.0.0.1 can read answers.
//! So every request must name the console's own host (`Host`), and every state-changing one
//! (presign, redrive, stop) must come from the console's own page: same origin (`Origin`,
//! `Sec-Fetch-Site`) and carrying the session token that only that page was given.

use axum::http::{HeaderMap, Method};

/// What a request must match.
#[derive(Clone, Debug)]
pub struct Guard {
    /// The port the console listens on: `127.0.0.1:<port>` and `localhost:<port>` are its hosts.
    pub port: u16,
    /// The per-start session token, written into the page and sent back in `X-Console-Token`.
    pub token: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the Host header does not name this console")]
    Host,
    #[error("a request from another origin ({0}) may not change anything")]
    Origin(String),
    #[error("a request from another site may not change anything")]
    Site,
    #[error("the console's session token is missing or wrong: reload the page")]
    Token,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Guard {
    fn hosts(&self) -> [String; 2] {
        [format!("127.0.0.1:{}", self.port), format!("localhost:{}", self.port)]
    }

    /// Whether a request with `method` and `headers` may be served.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
        let hosts = self.hosts();
        if !header(headers, "host").is_some_and(|h| hosts.iter().any(|o| o == h)) {
            return Err(Refusal::Host);
        }
        if matches!(*method, Method::GET | Method::HEAD) {
            return Ok(());
        }
        if let Some(origin) = header(headers, "origin")
            && !hosts.iter().any(|h| origin == format!("http://{h}"))
        {
            return Err(Refusal::Origin(origin.to_string()));
        }
        if header(headers, "sec-fetch-site").is_some_and(|site| site != "same-origin") {
            return Err(Refusal::Site);
        }
        match header(headers, "x-console-token") {
            Some(token) if token == self.token => Ok(()),
            _ => Err(Refusal::Token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    fn guard() -> Guard {
        Guard { port: 8084, token: "t0ken".into() }
    }

    #[test]
    fn the_page_itself_may_change_things() {
        let own = headers(&[
            ("host", "127.0.0.1:8084"),
            ("origin", "http://127.0.0.1:8084"),
            ("sec-fetch-site", "same-origin"),
            ("x-console-token", "t0ken"),
        ]);
        assert_eq!(guard().check(&Method::POST, &own), Ok(()));
        let localhost = headers(&[("host", "localhost:8084"), ("x-console-token", "t0ken")]);
        assert_eq!(guard().check(&Method::POST, &localhost), Ok(()));
    }

    #[test]
    fn another_site_a_missing_token_or_a_rebound_name_is_refused() {
        let evil = headers(&[
            ("host", "127.0.0.1:8084"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
            ("x-console-token", "t0ken"),
        ]);
        assert_eq!(guard().check(&Method::POST, &evil), Err(Refusal::Origin("https://evil.example".into())));
        let sneaky =
            headers(&[("host", "127.0.0.1:8084"), ("sec-fetch-site", "same-site"), ("x-console-token", "t0ken")]);
        assert_eq!(guard().check(&Method::POST, &sneaky), Err(Refusal::Site));
        let tokenless = headers(&[("host", "127.0.0.1:8084"), ("origin", "http://127.0.0.1:8084")]);
        assert_eq!(guard().check(&Method::POST, &tokenless), Err(Refusal::Token));
        let rebound = headers(&[("host", "evil.example:8084")]);
        assert_eq!(guard().check(&Method::GET, &rebound), Err(Refusal::Host));
        let other_port = headers(&[("host", "127.0.0.1:9999"), ("origin", "http://127.0.0.1:9999")]);
        assert_eq!(guard().check(&Method::GET, &other_port), Err(Refusal::Host));
    }

    #[test]
    fn reading_needs_only_the_right_host() {
        assert_eq!(guard().check(&Method::GET, &headers(&[("host", "127.0.0.1:8084")])), Ok(()));
    }
}
