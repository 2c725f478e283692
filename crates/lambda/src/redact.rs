//! Secrets kept out of errors and logs.

/// `text` with the secrets of presigned URLs blanked: the values of every `X-Amz-Signature`,
/// `X-Amz-Credential` and `X-Amz-Security-Token` query parameter. For errors and log lines that
/// may quote a URL (ffmpeg and ffprobe print the input they failed on).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["X-Amz-Signature=", "X-Amz-Credential=", "X-Amz-Security-Token="]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
        .min()
    {
        let (start, len) = at;
        out.push_str(&rest[..start + len]);
        out.push_str("REDACTED");
        rest = &rest[start + len..];
        // A query value: unreserved characters and %-escapes.
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "%-_.~".contains(c))).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn presigned_secrets_are_blanked() {
        let line = "https://b.s3.amazonaws.com/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1&X-Amz-Security-Token=IQo&X-Amz-Signature=abc123: Invalid data";
        let redacted = redact(line);
        assert_eq!(
            redacted,
            "https://b.s3.amazonaws.com/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED: Invalid data"
        );
        assert_eq!(redact("no url here"), "no url here");
    }
}
