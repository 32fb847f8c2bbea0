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
        // The first Ogg page carries the Opus identification header.
        let head = &bytes[..bytes.len().min(128)];
        return head.windows(8).any(|w| w == b"OpusHead").then_some("opus");
    }
    if bytes.starts_with(b"ID3") && bytes.len() > 10 {
        return Some("mp3");
    }
    if bytes.len() >= 4 && mpeg_frame(bytes) {
        return Some("mp3");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        return [b"M4A ", b"M4B ", b"mp42", b"mp41", b"isom", b"iso2"]
            .iter()
            .any(|b| brand == *b)
            .then_some("m4a");
    }
    None
}

/// An MPEG audio frame header: 11 sync bits, a known version and layer, a
/// bitrate and sample rate that are not the reserved values.
fn mpeg_frame(b: &[u8]) -> bool {
    let version = (b[1] >> 3) & 3;
    let layer = (b[1] >> 1) & 3;
    let bitrate = b[2] >> 4;
    let rate = (b[2] >> 2) & 3;
    b[0] == 0xFF && b[1] & 0xE0 == 0xE0 && version != 1 && layer != 0 && bitrate != 15 && rate != 3
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn audio_is_known_by_its_content() {
        let mut ogg = b"OggS\0\x02".to_vec();
        ogg.resize(28, 0);
        ogg.extend_from_slice(b"OpusHead\x01\x01");
        assert_eq!(sniff(&ogg), Some("opus"));
        let mut vorbis = b"OggS\0\x02".to_vec();
        vorbis.resize(28, 0);
        vorbis.extend_from_slice(b"\x01vorbis");
        assert_eq!(sniff(&vorbis), None);
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\x21\0\0"), Some("mp3"));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64, 0, 0]), Some("mp3"));
        assert_eq!(sniff(&[0xFF, 0xFF, 0xFF, 0xFF]), None);
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0\0\0"), Some("m4a"));
        assert_eq!(sniff(b"\0\0\0\x20ftypqt  \0\0\0\0"), None);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), None);
        assert_eq!(sniff(b""), None);
    }
}
