//! What WhatsApp accepts as media (Cloud API "supported media types"): per type the MIME
//! types and the largest file. Audio (AAC, AMR, MP3, M4A, OGG/Opus) and video (MP4, 3GP)
//! 16 MB; images (JPEG, PNG) 5 MB; documents (text, PDF, Word, Excel, PowerPoint) 100 MB;
//! stickers (WebP) 100 KB static, 500 KB animated. Checked before an upload so the user
//! learns at once instead of after a round trip to Meta.

const KB: u64 = 1024;
const MB: u64 = 1024 * 1024;

/// The message kind a MIME type is sent as (`image`, `video`, `audio`, `document`,
/// `sticker`), or `None` when WhatsApp does not accept it. Parameters (`; codecs=opus`)
/// and case are ignored.
pub fn kind_for_mime(mime: &str) -> Option<&'static str> {
    let base = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Some(match base.as_str() {
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => "audio",
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "document",
        "image/jpeg" | "image/png" => "image",
        "image/webp" => "sticker",
        "video/mp4" | "video/3gp" | "video/3gpp" => "video",
        _ => return None,
    })
}

/// An animated WebP has a `VP8X` chunk with the animation flag set.
pub fn is_animated_webp(head: &[u8]) -> bool {
    head.len() > 20
        && &head[0..4] == b"RIFF"
        && &head[8..12] == b"WEBP"
        && &head[12..16] == b"VP8X"
        && head[20] & 0x02 != 0
}

/// The largest file WhatsApp accepts for `kind`; `animated` only matters for stickers.
pub fn max_bytes(kind: &str, animated: bool) -> u64 {
    match kind {
        "audio" | "video" => 16 * MB,
        "document" => 100 * MB,
        "image" => 5 * MB,
        "sticker" if animated => 500 * KB,
        "sticker" => 100 * KB,
        _ => 0,
    }
}

/// Why a file cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaRejected {
    #[error("WhatsApp does not accept files of type {mime}")]
    UnsupportedType { mime: String },
    #[error("this {kind} is {size} bytes; WhatsApp accepts at most {limit} bytes")]
    TooLarge {
        kind: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("the file is empty")]
    Empty,
}

/// Checks a file before upload; returns its message kind. `head` is the file's first
/// bytes (at least 21 to tell an animated sticker).
pub fn check(mime: &str, size: u64, head: &[u8]) -> Result<&'static str, MediaRejected> {
    let kind = kind_for_mime(mime).ok_or_else(|| MediaRejected::UnsupportedType {
        mime: mime.to_owned(),
    })?;
    if size == 0 {
        return Err(MediaRejected::Empty);
    }
    let limit = max_bytes(kind, is_animated_webp(head));
    if size > limit {
        return Err(MediaRejected::TooLarge { kind, size, limit });
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_type() {
        assert_eq!(check("image/png", 5 * MB, &[]), Ok("image"));
        assert!(matches!(
            check("image/jpeg", 5 * MB + 1, &[]),
            Err(MediaRejected::TooLarge { limit, .. }) if limit == 5 * MB
        ));
        assert_eq!(check("video/mp4", 16 * MB, &[]), Ok("video"));
        assert_eq!(check("audio/ogg; codecs=opus", 16 * MB, &[]), Ok("audio"));
        assert!(check("audio/mpeg", 16 * MB + 1, &[]).is_err());
        assert_eq!(check("application/pdf", 100 * MB, &[]), Ok("document"));
        assert!(check("application/pdf", 100 * MB + 1, &[]).is_err());
        assert_eq!(check("image/webp", 100 * KB, &[]), Ok("sticker"));
        assert!(check("image/webp", 100 * KB + 1, &[]).is_err());
        let mut animated = b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\x02".to_vec();
        animated.resize(32, 0);
        assert_eq!(check("image/webp", 500 * KB, &animated), Ok("sticker"));
        assert!(check("image/webp", 500 * KB + 1, &animated).is_err());
        assert!(matches!(
            check("image/gif", 10, &[]),
            Err(MediaRejected::UnsupportedType { .. })
        ));
        assert_eq!(check("text/plain", 0, &[]), Err(MediaRejected::Empty));
    }
}
