//! The bytes Meta puts on the wire: compact JSON where `/` is written `\/` and every
//! non-ASCII character is a lowercase `\uXXXX` escape (UTF-16 units, so an emoji becomes a
//! surrogate pair). Receivers must verify the signature over these exact bytes, which is
//! only a real test if the sim produces them the way Meta does.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// serde_json's compact formatter, plus Meta's extra escapes inside strings.
struct MetaFormatter;

impl Formatter for MetaFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch != '/' && ch.is_ascii() {
                continue;
            }
            writer.write_all(&bytes[start..i])?;
            if ch == '/' {
                writer.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
            start = i + ch.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }
}

/// Serialises `value` the way Meta does.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let mut ser = Serializer::with_formatter(&mut out, MetaFormatter);
    value
        .serialize(&mut ser)
        .expect("serialising plain data into a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_slash_non_ascii_and_emoji_like_meta() {
        let bytes = to_vec(&json!({"t": "a/b привет 你好 😀 \"q\"\n"}));
        let text = String::from_utf8(bytes.clone()).expect("output is ASCII");
        assert!(text.is_ascii());
        assert_eq!(
            text,
            r#"{"t":"a\/b \u043f\u0440\u0438\u0432\u0435\u0442 \u4f60\u597d \ud83d\ude00 \"q\"\n"}"#
        );
        // And it is still the same JSON.
        let back: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert_eq!(back["t"], "a/b привет 你好 😀 \"q\"\n");
    }
}
