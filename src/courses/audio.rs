//! What kind of audio a file is, judged by its first bytes (never by its
//! name): narration is Opus in Ogg, MP3 or M4A. Both the course loader and
//! the browser upload ask here, so a PNG renamed `.opus` is refused by both.

/// Largest narration file, for the loader and the upload alike.
pub const AUDIO_LIMIT: usize = 2 * 1024 * 1024;

/// The file names narration may have, by kind.
pub const AUDIO_TYPES: [&str; 3] = ["opus", "mp3", "m4a"];

/// The extension that names the kind of audio in `bytes`, or `None` when it
/// is not Ogg Opus, MP3 or M4A.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"OggS") {
        return is_ogg_opus(bytes).then_some("opus");
    }
    if bytes.starts_with(b"ID3") || (bytes.len() >= 4 && bytes[0] == 0xFF) {
        return is_mp3(bytes).then_some("mp3");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        let known = [
            b"M4A ", b"M4B ", b"mp42", b"mp41", b"isom", b"iso2", b"iso5", b"iso6",
        ]
        .iter()
        .any(|b| brand == *b);
        return (known && is_mp4(bytes)).then_some("m4a");
    }
    None
}

/// Ogg Opus: the file is a chain of well-formed Ogg pages from its first
/// byte to its last (each `OggS`, version 0, its segment table inside the
/// file), the first beginning a stream with the `OpusHead` packet and the
/// second carrying `OpusTags`. Anything that is not pages (a page of HTML
/// after a real header) breaks the chain.
fn is_ogg_opus(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    let mut page = 0usize;
    while at < bytes.len() {
        let Some(h) = bytes.get(at..at + 27) else {
            return false;
        };
        if &h[..4] != b"OggS" || h[4] != 0 {
            return false;
        }
        let segments = usize::from(h[26]);
        let Some(table) = bytes.get(at + 27..at + 27 + segments) else {
            return false;
        };
        let body = at + 27 + segments;
        let len: usize = table.iter().map(|&b| usize::from(b)).sum();
        let Some(payload) = bytes.get(body..body + len) else {
            return false;
        };
        let ok = match page {
            0 => h[5] & 0x02 != 0 && payload.len() >= 19 && payload.starts_with(b"OpusHead"),
            1 => payload.starts_with(b"OpusTags"),
            _ => true,
        };
        if !ok {
            return false;
        }
        at = body + len;
        page += 1;
    }
    page >= 2
}

/// MP4 audio: the file is a chain of boxes from its first byte to its last
/// (each a size and a four-letter type), beginning with `ftyp` and holding
/// a `moov`. Bytes after the last box that are not a box (HTML behind a
/// real `ftyp`) break the chain.
fn is_mp4(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    let mut moov = false;
    while at < bytes.len() {
        let Some(h) = bytes.get(at..at + 8) else {
            return false;
        };
        let kind = &h[4..8];
        if !kind
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b' ' || *c == 0xA9)
        {
            return false;
        }
        let size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let size = match size {
            // To the end of the file.
            0 => (bytes.len() - at) as u64,
            1 => match bytes.get(at + 8..at + 16) {
                Some(l) => u64::from_be_bytes(l.try_into().unwrap_or([0; 8])),
                None => return false,
            },
            n => n,
        };
        if size < 8 || at as u64 + size > bytes.len() as u64 {
            return false;
        }
        if at == 0 && kind != b"ftyp" {
            return false;
        }
        moov |= kind == b"moov";
        at += size as usize;
    }
    moov
}

/// MP3: an optional ID3v2 tag (a known version, a well-formed size), then
/// MPEG audio frames: the first and the one its length points to must both
/// be valid headers (a file that only starts with `ID3`, or with two lucky
/// bytes, is not audio).
fn is_mp3(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    if bytes.starts_with(b"ID3") {
        let Some(h) = bytes.get(..10) else {
            return false;
        };
        let (major, flags, size) = (h[3], h[5], &h[6..10]);
        if !(2..=4).contains(&major) || h[4] == 0xFF || size.iter().any(|b| b & 0x80 != 0) {
            return false;
        }
        let len = size.iter().fold(0usize, |n, b| (n << 7) | usize::from(*b));
        at = 10 + len + if flags & 0x10 != 0 { 10 } else { 0 };
    }
    let Some(first) = bytes.get(at..).and_then(frame_len) else {
        return false;
    };
    bytes.get(at + first..).and_then(frame_len).is_some()
}

/// The length of the MPEG audio frame whose header starts `b`: 11 sync bits,
/// a known version and layer, a bitrate from the table (not free or bad),
/// a sample rate that is not reserved.
fn frame_len(b: &[u8]) -> Option<usize> {
    let h = b.get(..4)?;
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    let layer = (h[1] >> 1) & 3; // 3: I, 2: II, 1: III
    let bitrate = usize::from(h[2] >> 4);
    let rate = usize::from((h[2] >> 2) & 3);
    let padding = usize::from((h[2] >> 1) & 1);
    if version == 1 || layer == 0 || bitrate == 0 || bitrate == 15 || rate == 3 {
        return None;
    }
    const V1: [[usize; 14]; 3] = [
        [
            32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const V2: [[usize; 14]; 2] = [
        [
            32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let kbps = match (version, layer) {
        (3, 3) => V1[0][bitrate - 1],
        (3, 2) => V1[1][bitrate - 1],
        (3, _) => V1[2][bitrate - 1],
        (_, 3) => V2[0][bitrate - 1],
        _ => V2[1][bitrate - 1],
    };
    let hz = [44_100, 48_000, 32_000][rate]
        / match version {
            3 => 1,
            2 => 2,
            _ => 4,
        };
    let len = match (version, layer) {
        (_, 3) => (12 * kbps * 1000 / hz + padding) * 4,
        (3, _) | (_, 2) => 144 * kbps * 1000 / hz + padding,
        _ => 72 * kbps * 1000 / hz + padding,
    };
    (len >= 4).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn audio_is_known_by_its_content() {
        // Two Ogg pages: OpusHead (19 bytes), then OpusTags (16 bytes).
        let page = |flags: u8, payload: &[u8]| {
            let mut p = b"OggS\0".to_vec();
            p.push(flags);
            p.resize(26, 0);
            p.push(1);
            p.push(payload.len() as u8);
            p.extend_from_slice(payload);
            p
        };
        let mut ogg = page(2, b"OpusHead\x01\x01\0\0\x80\xbb\0\0\0\0\0");
        ogg.extend(page(0, b"OpusTags\0\0\0\0\0\0\0\0"));
        assert_eq!(sniff(&ogg), Some("opus"));
        // A real header, then HTML that is not a page.
        let mut html = ogg.clone();
        html.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert_eq!(sniff(&html), None);
        // OpusHead alone, or in the first 128 bytes of something else.
        assert_eq!(
            sniff(&page(2, b"OpusHead\x01\x01\0\0\x80\xbb\0\0\0\0\0")),
            None
        );
        let mut vorbis = b"OggS\0\x02".to_vec();
        vorbis.resize(28, 0);
        vorbis.extend_from_slice(b"\x01vorbis");
        assert_eq!(sniff(&vorbis), None);
        // Two MPEG-1 Layer III frames of 128 kbit/s at 44.1 kHz (417 bytes).
        let mut frames = Vec::new();
        for _ in 0..2 {
            frames.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
            frames.resize(frames.len() + 413, 0);
        }
        assert_eq!(sniff(&frames), Some("mp3"));
        let mut tagged = b"ID3\x04\0\0\0\0\0\x05hello".to_vec();
        tagged.extend_from_slice(&frames);
        assert_eq!(sniff(&tagged), Some("mp3"));
        // An ID3 tag and nothing of audio after it; a lone frame header.
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\x21\0\0"), None);
        let mut fake = b"ID3\x04\0\0\0\0\0\x05hello".to_vec();
        fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert_eq!(sniff(&fake), None);
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64, 0, 0]), None);
        assert_eq!(sniff(&[0xFF, 0xFF, 0xFF, 0xFF]), None);
        // ftyp (16 bytes) then moov (8): boxes to the last byte.
        let mut m4a = b"\0\0\0\x10ftypM4A \0\0\0\0".to_vec();
        m4a.extend_from_slice(b"\0\0\0\x08moov");
        assert_eq!(sniff(&m4a), Some("m4a"));
        let mut html = m4a.clone();
        html.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert_eq!(sniff(&html), None);
        assert_eq!(sniff(b"\0\0\0\x18ftypM4A <html><script>"), None);
        assert_eq!(sniff(b"\0\0\0\x10ftypM4A \0\0\0\0"), None, "no moov");
        assert_eq!(sniff(b"\0\0\0\x20ftypqt  \0\0\0\0"), None);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), None);
        assert_eq!(sniff(b""), None);
    }
}
