//! Caption files come in every encoding: UTF-8 with or without BOM, UTF-16 with a BOM, and
//! legacy single-byte files from older tools. Everything becomes UTF-8 with `\n` line ends.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use mediaflow_core::text::{self, Layout};

use crate::error::Error;

/// A caption file as text.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Without BOM, with `\n` line ends.
    pub text: String,
    /// The encoding it was read as, e.g. `UTF-8`, `UTF-16LE`, `windows-1252`.
    pub encoding: &'static str,
}

pub fn decode(bytes: &[u8]) -> Result<Decoded, Error> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Empty);
    }
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((encoding, bom)) => (encoding, &bytes[bom..]),
        None => (guess(bytes), bytes),
    };
    let (text, _) = encoding.decode_without_bom_handling(body);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.trim().is_empty() {
        return Err(Error::Empty);
    }
    Ok(Decoded { text, encoding: encoding.name() })
}

/// UTF-16 without a BOM as Classify tells it (`mediaflow_core::text`, the rule both share);
/// UTF-8 when the bytes are UTF-8; otherwise what `chardetng` makes of them.
fn guess(bytes: &[u8]) -> &'static Encoding {
    match text::layout(bytes) {
        Some(Layout::Utf16Le { .. }) => return UTF_16LE,
        Some(Layout::Utf16Be { .. }) => return UTF_16BE,
        _ => {}
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_and_line_ends() {
        let d = decode(b"\xEF\xBB\xBF1\r\n00:00:01,000\r\n").unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("1\n00:00:01,000\n", "UTF-8"));
        let le: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("h\u{e9}\r".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(decode(&le).unwrap(), Decoded { text: "hé\n".into(), encoding: "UTF-16LE" });
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("hé".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(decode(&be).unwrap(), Decoded { text: "hé".into(), encoding: "UTF-16BE" });
    }

    #[test]
    fn utf16_without_a_bom() {
        let le: Vec<u8> =
            "1\n00:00:01,000 --> 00:00:02,000\nhello\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&le).unwrap().encoding, "UTF-16LE");
        let be: Vec<u8> =
            "1\n00:00:01,000 --> 00:00:02,000\nhello\n".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&be).unwrap().encoding, "UTF-16BE");
    }

    #[test]
    fn legacy_single_byte_files() {
        // "Déjà vu, señor. Ça coûte 5 €." in Windows-1252.
        let cp1252 = b"1\n00:00:01,000 --> 00:00:02,000\nD\xE9j\xE0 vu, se\xF1or. \xC7a co\xFBte 5 \x80.\n";
        let d = decode(cp1252).unwrap();
        assert!(d.text.contains("Déjà vu, señor. Ça coûte 5 €."), "{d:?}");
        assert_eq!(d.encoding, "windows-1252");
        // Cyrillic in Windows-1251: "Привет, как дела?"
        let cp1251 = b"1\n00:00:01,000 --> 00:00:02,000\n\xCF\xF0\xE8\xE2\xE5\xF2, \xEA\xE0\xEA \xE4\xE5\xEB\xE0?\n";
        assert!(decode(cp1251).unwrap().text.contains("Привет, как дела?"));
    }

    #[test]
    fn empty_files() {
        assert_eq!(decode(b""), Err(Error::Empty));
        assert_eq!(decode(b" \r\n\t"), Err(Error::Empty));
        assert_eq!(decode(b"\xEF\xBB\xBF\n"), Err(Error::Empty));
    }
}
