//! Small generated files for inbound media (the demo's photos and invoice PDF), and the
//! store entry that lets the business fetch them through `GET /{media-id}` like real media.

use sha2::{Digest, Sha256};

use crate::ids;
use crate::state::Media;

pub fn store_entry(bytes: Vec<u8>, mime_type: &str, filename: Option<String>) -> Media {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Media {
        id: ids::numeric_id(),
        bytes,
        mime_type: mime_type.to_string(),
        sha256,
        filename,
        url_token: ids::token(),
    }
}

/// A placeholder file for an inbound message of `kind` when the test gave none.
pub fn placeholder(kind: &str, label: &str) -> (Vec<u8>, &'static str) {
    match kind {
        "image" => (png(64, 48, seed_colour(label)), "image/png"),
        "document" => (pdf(label), "application/pdf"),
        "sticker" => (webp_static(), "image/webp"),
        "audio" => (b"OggS\0\x02sim-voice-note".to_vec(), "audio/ogg"),
        _ => (b"\0\0\0\x18ftypmp42sim-video".to_vec(), "video/mp4"),
    }
}

fn seed_colour(label: &str) -> [u8; 3] {
    let h = Sha256::digest(label.as_bytes());
    [h[0] | 0x40, h[1] | 0x40, h[2] | 0x40]
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// A valid RGB PNG with a diagonal stripe, deflated with stored blocks.
pub fn png(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0);
        for x in 0..width {
            let stripe = (x + y) % 16 < 4;
            raw.extend_from_slice(if stripe { &[255, 255, 255] } else { &colour });
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A one-page PDF with one line of (ASCII) text and a correct xref table.
pub fn pdf(text: &str) -> Vec<u8> {
    let safe: String = text
        .chars()
        .filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\'))
        .collect();
    let stream = format!("BT /F1 16 Tf 24 100 Td ({safe}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 160] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn webp_static() -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&20u32.to_le_bytes());
    out.extend_from_slice(b"WEBPVP8L");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&[0x2f, 0, 0, 0, 0, 0, 0, 0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_valid_structure_and_crc() {
        let bytes = png(4, 3, [10, 20, 30]);
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR chunk CRC covers type + data.
        let ihdr = &bytes[8..8 + 4 + 4 + 13 + 4];
        let crc = u32::from_be_bytes(ihdr[21..25].try_into().expect("4 bytes"));
        assert_eq!(crc, crc32(&ihdr[4..21]));
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn pdf_xref_points_at_objects() {
        let bytes = pdf("Invoice 1042");
        let text = String::from_utf8(bytes).expect("ascii");
        let second = text.find("2 0 obj").expect("object 2");
        assert!(text.contains(&format!("{second:010} 00000 n")));
        assert!(text.ends_with("%%EOF\n"));
    }
}
