//! Cross-origin rules of the buckets, and how S3 applies them to a browser's request: the rules
//! `infra/template.yaml` gives the watch and public buckets (a test holds them equal), and the
//! matching the embedded S3 endpoint does for preflights and responses, as S3 does it.

use serde::{Deserialize, Serialize};

/// One CORS rule, with S3's field names (`PutBucketCors`' `CORSRules`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default)]
    pub max_age_seconds: Option<i32>,
}

/// The origins the console is served from on this machine, on any port.
pub fn local_origins() -> Vec<String> {
    vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()]
}

/// The watch bucket's rule: browsers upload straight into it with presigned URLs, and read the
/// ETag of each part they sent.
pub fn watch_rules(origins: Vec<String>) -> Vec<CorsRule> {
    vec![CorsRule {
        allowed_origins: origins,
        allowed_methods: vec!["PUT".into(), "POST".into(), "HEAD".into()],
        allowed_headers: vec!["*".into()],
        expose_headers: vec!["ETag".into()],
        max_age_seconds: Some(3000),
    }]
}

/// The public bucket's rule: players and pages read the outputs.
pub fn public_rules(origins: Vec<String>) -> Vec<CorsRule> {
    vec![CorsRule {
        allowed_origins: origins,
        allowed_methods: vec!["GET".into(), "HEAD".into()],
        allowed_headers: vec!["*".into()],
        expose_headers: Vec::new(),
        max_age_seconds: Some(3000),
    }]
}

/// S3's matching: a value may hold one `*`, which stands for any run of characters.
fn wildcard(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, suffix)) => {
            value.len() >= prefix.len() + suffix.len() && value.starts_with(prefix) && value.ends_with(suffix)
        }
    }
}

impl CorsRule {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| wildcard(o, origin))
    }

    /// Whether a request from `origin` with `method` and request `headers` is allowed: every
    /// header must match an allowed one (case does not matter for header names).
    pub fn allows(&self, origin: &str, method: &str, headers: &[&str]) -> bool {
        self.allows_origin(origin)
            && self.allowed_methods.iter().any(|m| m == method)
            && headers.iter().all(|h| {
                let h = h.trim().to_ascii_lowercase();
                h.is_empty() || self.allowed_headers.iter().any(|a| wildcard(&a.to_ascii_lowercase(), &h))
            })
    }
}

/// The first rule that allows the request, as S3 picks it.
pub fn first_allowing<'a>(rules: &'a [CorsRule], origin: &str, method: &str, headers: &[&str]) -> Option<&'a CorsRule> {
    rules.iter().find(|r| r.allows(origin, method, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_origin_on_any_port_may_upload_with_any_header() {
        let rules = watch_rules(local_origins());
        let rule = first_allowing(&rules, "http://127.0.0.1:8084", "PUT", &["x-amz-meta-chunks", "Content-Type"]);
        assert_eq!(rule.map(|r| r.expose_headers.clone()), Some(vec!["ETag".to_string()]));
        assert!(first_allowing(&rules, "http://localhost:3000", "HEAD", &[]).is_some());
    }

    #[test]
    fn other_origins_and_methods_are_refused() {
        let rules = watch_rules(local_origins());
        assert!(first_allowing(&rules, "https://evil.example", "PUT", &[]).is_none());
        assert!(first_allowing(&rules, "http://127.0.0.1.evil.example", "PUT", &[]).is_none());
        assert!(first_allowing(&rules, "http://127.0.0.1:8084", "DELETE", &[]).is_none());
        assert!(first_allowing(&public_rules(local_origins()), "http://127.0.0.1:1", "PUT", &[]).is_none());
    }

    #[test]
    fn a_wildcard_stands_for_any_run_once() {
        assert!(wildcard("https://*.example.com", "https://app.example.com"));
        assert!(!wildcard("https://*.example.com", "https://example.com"));
        assert!(wildcard("*", "anything"));
        assert!(!wildcard("x-amz-*", "content-type"));
        let rule = CorsRule { allowed_headers: vec!["x-amz-*".into()], ..watch_rules(vec!["*".into()])[0].clone() };
        assert!(rule.allows("https://a", "PUT", &["X-Amz-Meta-Chunks"]));
        assert!(!rule.allows("https://a", "PUT", &["authorization"]));
    }
}
