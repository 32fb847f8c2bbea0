//! Opus in Ogg without a codec: reading a file's packets, writing pages, and
//! what the packets say about themselves (length, bitrate, whether a voice
//! is heard). Nothing here decodes sound; every figure comes from the Opus
//! packet headers (RFC 6716) and the Ogg framing (RFC 3533, RFC 7845).

/// Opus always counts time in 48 kHz samples.
pub const RATE: u64 = 48_000;

/// A stream of Opus packets with its two header packets.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// The `OpusHead` packet.
    pub head: Vec<u8>,
    /// The audio packets, in order.
    pub packets: Vec<Vec<u8>>,
}

/// What the packets of a stream say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heard {
    /// Playing time, pre-skip taken off.
    pub seconds: f64,
    /// Average bitrate of the audio packets, kbit/s.
    pub kbps: f64,
    /// Seconds in which the encoder marked a voice (SILK's VAD flag); `None`
    /// when the packets carry no such flag (CELT only).
    pub voiced: Option<f64>,
    /// The packet sizes barely change (an encoder's pauses and syllables
    /// make them vary; silence and steady hiss do not).
    pub flat: bool,
}

/// The samples one Opus packet decodes to, from its TOC byte (and the
/// frame count byte of a code 3 packet); `None` when it cannot be a packet.
pub fn packet_samples(p: &[u8]) -> Option<u64> {
    let toc = *p.first()?;
    let config = toc >> 3;
    let frame: u64 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u64::from(*p.get(1)? & 0x3F),
    };
    let total = frame * frames;
    (frames > 0 && total <= 5760).then_some(total)
}

/// The channel count and pre-skip of an `OpusHead`, when it is one this
/// product plays: version 0.x, mapping family 0 (mono or stereo).
pub fn head_info(head: &[u8]) -> Option<(u8, u16)> {
    if head.len() != 19 || !head.starts_with(b"OpusHead") || head[8] & 0xF0 != 0 {
        return None;
    }
    let channels = head[9];
    let family = head[18];
    if family != 0 || !(1..=2).contains(&channels) {
        return None;
    }
    Some((channels, u16::from_le_bytes([head[10], head[11]])))
}

/// The same head, saying one channel: a decoder then mixes a stereo-coded
/// packet down to mono (every Opus decoder may decode any packet to mono).
pub fn mono_head(head: &[u8]) -> Vec<u8> {
    let mut out = head.to_vec();
    if out.len() > 9 {
        out[9] = 1;
    }
    out
}

impl Stream {
    /// Length, bitrate and voice of the audio packets; `None` when a packet
    /// is malformed or the head is not one this product plays.
    pub fn heard(&self) -> Option<Heard> {
        let (_, pre_skip) = head_info(&self.head)?;
        let (mut samples, mut bytes, mut voiced, mut silk) = (0u64, 0u64, 0u64, 0usize);
        let mut sizes = Vec::with_capacity(self.packets.len());
        for p in &self.packets {
            let n = packet_samples(p)?;
            samples += n;
            bytes += p.len() as u64;
            sizes.push(p.len());
            // SILK and hybrid packets begin with the first frame's VAD flag
            // (coded with probability one half: the top bit of the byte
            // after the TOC).
            if p[0] >> 3 < 16 {
                silk += 1;
                if p.get(1).is_some_and(|b| b & 0x80 != 0) {
                    voiced += n;
                }
            }
        }
        let playing = samples.saturating_sub(u64::from(pre_skip));
        let seconds = playing as f64 / RATE as f64;
        let kbps = if samples == 0 {
            0.0
        } else {
            bytes as f64 * 8.0 / (samples as f64 / RATE as f64) / 1000.0
        };
        sizes.sort_unstable();
        let at = |q: usize| sizes.get(sizes.len() * q / 10).copied().unwrap_or(0) as f64;
        Some(Heard {
            seconds,
            kbps,
            voiced: (silk * 2 >= self.packets.len() && silk > 0)
                .then(|| voiced as f64 / RATE as f64),
            flat: at(9) <= at(1) * 1.25 + 2.0,
        })
    }

    /// Reads an Ogg file of one Opus stream: `OpusHead`, `OpusTags`, then
    /// the audio packets (packets may span pages). `None` when it is not.
    pub fn read_ogg(bytes: &[u8]) -> Option<Stream> {
        let mut packets = Vec::new();
        let mut partial: Vec<u8> = Vec::new();
        let mut serial = None;
        let mut at = 0usize;
        while at < bytes.len() {
            let h = bytes.get(at..at + 27)?;
            if &h[..4] != b"OggS" || h[4] != 0 {
                return None;
            }
            let this = u32::from_le_bytes([h[14], h[15], h[16], h[17]]);
            if *serial.get_or_insert(this) != this {
                return None;
            }
            let segments = usize::from(h[26]);
            let table = bytes.get(at + 27..at + 27 + segments)?;
            let mut body = at + 27 + segments;
            for &len in table {
                let len = usize::from(len);
                partial.extend_from_slice(bytes.get(body..body + len)?);
                body += len;
                if len < 255 {
                    packets.push(std::mem::take(&mut partial));
                }
            }
            at = body;
        }
        let mut packets = packets.into_iter();
        let head = packets.next()?;
        let tags = packets.next()?;
        if head_info(&head).is_none() || !tags.starts_with(b"OpusTags") {
            return None;
        }
        Some(Stream {
            head,
            packets: packets.filter(|p| !p.is_empty()).collect(),
        })
    }

    /// The stream as an Ogg Opus file: the head, `OpusTags` with `vendor`
    /// and `comments`, then pages of about a second of audio each.
    pub fn write_ogg(&self, vendor: &str, comments: &[&str], serial: u32) -> Vec<u8> {
        let mut w = Writer {
            out: Vec::new(),
            serial,
            sequence: 0,
        };
        w.page(0x02, 0, &[&self.head]);
        let mut tags = b"OpusTags".to_vec();
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor.as_bytes());
        tags.extend_from_slice(&(comments.len() as u32).to_le_bytes());
        for c in comments {
            tags.extend_from_slice(&(c.len() as u32).to_le_bytes());
            tags.extend_from_slice(c.as_bytes());
        }
        w.page(0, 0, &[&tags]);
        let mut granule = 0u64;
        let mut page: Vec<&[u8]> = Vec::new();
        let (mut segments, mut samples) = (0usize, 0u64);
        let count = self.packets.len();
        for (i, p) in self.packets.iter().enumerate() {
            let need = p.len() / 255 + 1;
            if segments + need > 255 || samples >= RATE {
                w.page(0, granule, &page);
                page.clear();
                (segments, samples) = (0, 0);
            }
            let n = packet_samples(p).unwrap_or(0);
            granule += n;
            samples += n;
            segments += need;
            page.push(p);
            if i + 1 == count {
                w.page(0x04, granule, &page);
            }
        }
        if count == 0 {
            w.page(0x04, 0, &[]);
        }
        w.out
    }
}

struct Writer {
    out: Vec<u8>,
    serial: u32,
    sequence: u32,
}

impl Writer {
    /// One page holding whole packets (each shorter than 255 × 255 bytes).
    fn page(&mut self, flags: u8, granule: u64, packets: &[&[u8]]) {
        let start = self.out.len();
        self.out.extend_from_slice(b"OggS\0");
        self.out.push(flags);
        self.out.extend_from_slice(&granule.to_le_bytes());
        self.out.extend_from_slice(&self.serial.to_le_bytes());
        self.out.extend_from_slice(&self.sequence.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        let mut table = Vec::new();
        for p in packets {
            table.extend(std::iter::repeat_n(255u8, p.len() / 255));
            table.push((p.len() % 255) as u8);
        }
        self.out.push(table.len() as u8);
        self.out.extend_from_slice(&table);
        for p in packets {
            self.out.extend_from_slice(p);
        }
        let crc = crc32(&self.out[start..]);
        self.out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
        self.sequence += 1;
    }
}

/// The Ogg checksum: CRC-32, polynomial 0x04C11DB7, not reflected, from 0.
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut r = (i as u32) << 24;
            let mut k = 0;
            while k < 8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04C1_1DB7
                } else {
                    r << 1
                };
                k += 1;
            }
            t[i] = r;
            i += 1;
        }
        t
    };
    bytes.iter().fold(0u32, |crc, &b| {
        (crc << 8) ^ TABLE[usize::from(((crc >> 24) as u8) ^ b)]
    })
}

/// An `OpusHead` packet of `channels` channels (48 kHz, pre-skip 312), for
/// tests that make streams.
#[cfg(test)]
pub(crate) fn test_head(channels: u8) -> Vec<u8> {
    let mut h = b"OpusHead\x01".to_vec();
    h.push(channels);
    h.extend_from_slice(&312u16.to_le_bytes());
    h.extend_from_slice(&48_000u32.to_le_bytes());
    h.extend_from_slice(&[0, 0, 0]);
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_head as head;

    #[test]
    fn packet_lengths_come_from_the_toc() {
        // SILK WB 20 ms, one frame; CELT FB 20 ms, two frames; code 3 with 3 frames of 10 ms.
        assert_eq!(packet_samples(&[9 << 3]), Some(960));
        assert_eq!(packet_samples(&[(31 << 3) | 1]), Some(1920));
        assert_eq!(packet_samples(&[(30 << 3) | 3, 3]), Some(1440));
        assert_eq!(packet_samples(&[(30 << 3) | 3, 0]), None);
        assert_eq!(
            packet_samples(&[(3 << 3) | 3, 3]),
            None,
            "180 ms is too long"
        );
        assert_eq!(packet_samples(&[]), None);
    }

    #[test]
    fn written_pages_read_back_with_their_checksums() {
        // 150 SILK packets of 20 ms: 3 s, half of them voiced.
        let packets: Vec<Vec<u8>> = (0..150)
            .map(|i| {
                let mut p = vec![9 << 3, if i % 2 == 0 { 0x80 } else { 0 }];
                p.resize(20 + i % 30, 7);
                p
            })
            .collect();
        let s = Stream {
            head: head(2),
            packets,
        };
        let file = s.write_ogg("fuzhi", &["FUZHI_RECORDED=1"], 7);
        assert_eq!(crate::courses::audio::sniff(&file), Some("opus"));
        let back = Stream::read_ogg(&file).expect("reads back");
        assert_eq!(back, s);
        // Every page's checksum is right: recompute with the field zeroed.
        let mut at = 0;
        let mut pages = 0;
        while at < file.len() {
            let n = usize::from(file[at + 26]);
            let len: usize = file[at + 27..at + 27 + n]
                .iter()
                .map(|&b| usize::from(b))
                .sum();
            let end = at + 27 + n + len;
            let mut page = file[at..end].to_vec();
            let stored = u32::from_le_bytes([page[22], page[23], page[24], page[25]]);
            page[22..26].fill(0);
            assert_eq!(crc32(&page), stored);
            at = end;
            pages += 1;
        }
        assert!(pages >= 4, "head, tags and at least two audio pages");
        let heard = back.heard().expect("plays");
        assert!((heard.seconds - (3.0 - 312.0 / 48_000.0)).abs() < 1e-9);
        assert!((heard.voiced.unwrap_or(0.0) - 1.5).abs() < 1e-9);
        assert!(!heard.flat);
        assert_eq!(head_info(&mono_head(&back.head)), Some((1, 312)));
        // The known CRC-32/MPEG-2-like check value of Ogg's variant.
        assert_eq!(crc32(b"123456789"), 0x89A1_897F);
    }
}
