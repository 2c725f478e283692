//! The one rule for "is this text, and in which Unicode form": Classify decides with it whether
//! an upload named `.srt` is a caption file, and the captions reader how to decode one, so a
//! file one accepts the other reads.

/// How the leading bytes of a text file are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// UTF-16, little-endian; with a byte order mark, or without one when every other byte is
    /// NUL (mostly-ASCII text in UTF-16).
    Utf16Le {
        bom: bool,
    },
    Utf16Be {
        bom: bool,
    },
    /// UTF-8 (with or without its BOM) or a legacy single-byte encoding: bytes without NUL and
    /// with few control characters.
    Bytes,
}

/// The layout of `head` if it is text, `None` for binary data.
pub fn layout(head: &[u8]) -> Option<Layout> {
    if head.starts_with(&[0xFF, 0xFE]) {
        return Some(Layout::Utf16Le { bom: true });
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Some(Layout::Utf16Be { bom: true });
    }
    let sample = &head[..head.len().min(4096) & !1];
    let nul_at = |parity: usize| sample.iter().skip(parity).step_by(2).filter(|&&b| b == 0).count();
    let half = sample.len() / 2;
    // In UTF-16 without a BOM, ASCII text has a NUL in every other byte and none in the rest.
    if half > 0 && nul_at(1) * 10 > half * 8 && nul_at(0) == 0 {
        return Some(Layout::Utf16Le { bom: false });
    }
    if half > 0 && nul_at(0) * 10 > half * 8 && nul_at(1) == 0 {
        return Some(Layout::Utf16Be { bom: false });
    }
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    if body.contains(&0) {
        return None;
    }
    let controls = body.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)).count();
    (controls * 100 <= body.len()).then_some(Layout::Bytes)
}

/// `head` decoded for a look at its ASCII structure (a caption's timing lines): UTF-16 as
/// such, other bytes as UTF-8 with replacement characters.
pub fn view(head: &[u8]) -> Option<String> {
    let utf16 = |bytes: &[u8], le: bool| -> String {
        let units = bytes
            .chunks_exact(2)
            .map(|p| if le { u16::from_le_bytes([p[0], p[1]]) } else { u16::from_be_bytes([p[0], p[1]]) });
        char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')).collect()
    };
    let skip = |bom: bool| if bom { 2 } else { 0 };
    Some(match layout(head)? {
        Layout::Utf16Le { bom } => utf16(&head[skip(bom)..], true),
        Layout::Utf16Be { bom } => utf16(&head[skip(bom)..], false),
        Layout::Bytes => String::from_utf8_lossy(head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head)).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRT: &str = "1\n00:00:01,000 --> 00:00:02,000\nhello\n";

    #[test]
    fn utf16_with_or_without_a_bom_is_text() {
        let le: Vec<u8> = SRT.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = SRT.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(layout(&le), Some(Layout::Utf16Le { bom: false }));
        assert_eq!(layout(&be), Some(Layout::Utf16Be { bom: false }));
        assert_eq!(view(&le).as_deref(), Some(SRT));
        let with_bom: Vec<u8> = [0xFF, 0xFE].into_iter().chain(le).collect();
        assert_eq!(layout(&with_bom), Some(Layout::Utf16Le { bom: true }));
        assert_eq!(view(&with_bom).as_deref(), Some(SRT));
    }

    #[test]
    fn binary_data_is_not_text() {
        assert_eq!(layout(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"), None);
        assert_eq!(layout(&[0u8; 64]), None, "all NUL is no text");
        assert_eq!(layout(&[1, 2, 3, 4, 5, 6, 7, 8, b'a', b'b']), None, "control characters");
        assert_eq!(layout("plain UTF-8 é".as_bytes()), Some(Layout::Bytes));
        assert_eq!(layout(&[b'c', b'a', b'f', 0xE9]), Some(Layout::Bytes), "Latin-1");
    }
}
