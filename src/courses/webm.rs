//! The Opus packets of a WebM (Matroska) file, as a browser's recorder
//! writes it (`audio/webm;codecs=opus`): a small EBML reader that walks the
//! Segment, its Tracks and Clusters and takes the blocks of the Opus track.
//! Master elements are entered, not skipped, so the unknown sizes a live
//! recorder writes (Segment, Cluster) need no special case.

use super::opus::{Stream, head_info};

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const CODEC_ID: u32 = 0x86;
const CODEC_PRIVATE: u32 = 0x63A2;
const AUDIO: u32 = 0xE1;
const CLUSTER: u32 = 0x1F43_B675;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;

/// Elements whose children are read in place.
const ENTER: [u32; 6] = [SEGMENT, TRACKS, TRACK_ENTRY, AUDIO, CLUSTER, BLOCK_GROUP];

/// Whether `bytes` begin like a WebM/Matroska file (the EBML header).
pub fn is_webm(bytes: &[u8]) -> bool {
    bytes.starts_with(&EBML.to_be_bytes())
}

/// Why a WebM file gives no Opus stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebmError {
    /// Not well-formed EBML.
    Broken,
    /// No Opus track (another codec, or no audio).
    NoOpus,
}

/// A variable-length integer: (value without its length marker, length).
fn vint(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let bytes = b.get(..len)?;
    let mut v = u64::from(first) & (0xFF >> len);
    for &x in &bytes[1..] {
        v = (v << 8) | u64::from(x);
    }
    Some((v, len))
}

/// An element ID, marker kept (IDs are written that way): (id, length).
fn element_id(b: &[u8]) -> Option<(u32, usize)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let id = b
        .get(..len)?
        .iter()
        .fold(0u32, |v, &x| (v << 8) | u32::from(x));
    Some((id, len))
}

#[derive(Default)]
struct Track {
    number: u64,
    codec: Vec<u8>,
    private: Vec<u8>,
}

/// The Opus stream of the first Opus track of a WebM file.
pub fn opus_stream(bytes: &[u8]) -> Result<Stream, WebmError> {
    let mut tracks: Vec<Track> = Vec::new();
    // (track number, frame) in file order; the track is chosen at the end.
    let mut frames: Vec<(u64, &[u8])> = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let (id, id_len) = element_id(&bytes[at..]).ok_or(WebmError::Broken)?;
        let (size, size_len) = vint(&bytes[at + id_len..]).ok_or(WebmError::Broken)?;
        let start = at + id_len + size_len;
        let unknown = size == (1u64 << (7 * size_len)) - 1;
        if ENTER.contains(&id) {
            if id == TRACK_ENTRY {
                tracks.push(Track::default());
            }
            at = start;
            continue;
        }
        if unknown {
            return Err(WebmError::Broken);
        }
        let end = start.checked_add(usize::try_from(size).map_err(|_| WebmError::Broken)?);
        let Some(payload) = end.and_then(|end| bytes.get(start..end)) else {
            // A recorder stopped mid-element: the blocks before it stand.
            break;
        };
        match id {
            TRACK_NUMBER | CODEC_ID | CODEC_PRIVATE => {
                let t = tracks.last_mut().ok_or(WebmError::Broken)?;
                match id {
                    TRACK_NUMBER => {
                        t.number = payload.iter().fold(0, |v, &x| (v << 8) | u64::from(x))
                    }
                    CODEC_ID => t.codec = payload.to_vec(),
                    _ => t.private = payload.to_vec(),
                }
            }
            SIMPLE_BLOCK | BLOCK => block(payload, &mut frames)?,
            _ => {}
        }
        at = start + payload.len();
    }
    let track = tracks
        .iter()
        .find(|t| t.codec == b"A_OPUS")
        .ok_or(WebmError::NoOpus)?;
    if head_info(&track.private).is_none() {
        return Err(WebmError::NoOpus);
    }
    Ok(Stream {
        head: track.private.clone(),
        packets: frames
            .into_iter()
            .filter(|(n, f)| *n == track.number && !f.is_empty())
            .map(|(_, f)| f.to_vec())
            .collect(),
    })
}

/// The frames of one (Simple)Block: track number, 2 bytes of time, flags,
/// then one frame, or several by Xiph or fixed-size lacing.
fn block<'a>(b: &'a [u8], frames: &mut Vec<(u64, &'a [u8])>) -> Result<(), WebmError> {
    let (track, len) = vint(b).ok_or(WebmError::Broken)?;
    let flags = *b.get(len + 2).ok_or(WebmError::Broken)?;
    let data = &b[len + 3..];
    match (flags >> 1) & 3 {
        0 => frames.push((track, data)),
        lacing @ (1 | 2) => {
            let count = usize::from(*data.first().ok_or(WebmError::Broken)?) + 1;
            let mut at = 1usize;
            let mut sizes = Vec::with_capacity(count);
            if lacing == 1 {
                for _ in 0..count - 1 {
                    let mut size = 0usize;
                    loop {
                        let x = *data.get(at).ok_or(WebmError::Broken)?;
                        at += 1;
                        size += usize::from(x);
                        if x < 255 {
                            break;
                        }
                    }
                    sizes.push(size);
                }
                let used: usize = sizes.iter().sum();
                sizes.push(data.len().checked_sub(at + used).ok_or(WebmError::Broken)?);
            } else {
                let rest = data.len() - 1;
                if !rest.is_multiple_of(count) {
                    return Err(WebmError::Broken);
                }
                sizes.resize(count, rest / count);
            }
            for size in sizes {
                let frame = data.get(at..at + size).ok_or(WebmError::Broken)?;
                frames.push((track, frame));
                at += size;
            }
        }
        // EBML lacing: no browser writes it for audio.
        _ => return Err(WebmError::Broken),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An element with a one- or eight-byte size (`None`: unknown size).
    fn el(id: u32, body: &[u8], size: Option<usize>) -> Vec<u8> {
        let mut out: Vec<u8> = id
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        match size {
            Some(n) if n < 127 => out.push(0x80 | n as u8),
            Some(n) => {
                out.push(0x01);
                out.extend_from_slice(&(n as u64).to_be_bytes()[1..]);
            }
            None => out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        }
        out.extend_from_slice(body);
        out
    }

    fn known(id: u32, body: &[u8]) -> Vec<u8> {
        el(id, body, Some(body.len()))
    }

    pub fn head() -> Vec<u8> {
        let mut h = b"OpusHead\x01\x01".to_vec();
        h.extend_from_slice(&312u16.to_le_bytes());
        h.extend_from_slice(&48_000u32.to_le_bytes());
        h.extend_from_slice(&[0, 0, 0]);
        h
    }

    #[test]
    fn a_live_recording_gives_its_opus_packets() {
        let mut entry = known(TRACK_NUMBER, &[1]);
        entry.extend(known(CODEC_ID, b"A_OPUS"));
        entry.extend(known(CODEC_PRIVATE, &head()));
        entry.extend(known(AUDIO, &known(0x9F, &[1])));
        let mut video = known(TRACK_NUMBER, &[2]);
        video.extend(known(CODEC_ID, b"V_VP8"));
        let mut tracks = known(TRACK_ENTRY, &entry);
        tracks.extend(known(TRACK_ENTRY, &video));
        let simple = |track: u8, frame: &[u8]| {
            let mut b = vec![0x80 | track, 0, 0, 0x80];
            b.extend_from_slice(frame);
            known(SIMPLE_BLOCK, &b)
        };
        let mut cluster = known(0xE7, &[0]);
        cluster.extend(simple(1, &[0x48, 0x80, 1, 2]));
        cluster.extend(simple(2, b"video"));
        // Xiph lacing: two frames of 3 and 2 bytes.
        let mut laced = vec![0x81, 0, 0, 0x82, 1, 3];
        laced.extend_from_slice(&[0x48, 0, 3, 0x48, 0]);
        cluster.extend(known(BLOCK_GROUP, &known(BLOCK, &laced)));
        let mut segment = known(0x1549_A966, &known(0x2AD7B1, &[0x0F, 0x42, 0x40]));
        segment.extend(known(TRACKS, &tracks));
        segment.extend(el(CLUSTER, &cluster, None));
        segment.extend(el(CLUSTER, &simple(1, &[0x48, 0x80, 9]), None));
        let mut file = known(EBML, &known(0x4282, b"webm"));
        file.extend(el(SEGMENT, &segment, None));
        assert!(is_webm(&file));
        let s = opus_stream(&file).expect("an Opus stream");
        assert_eq!(s.head, head());
        assert_eq!(
            s.packets,
            vec![
                vec![0x48, 0x80, 1, 2],
                vec![0x48, 0, 3],
                vec![0x48, 0],
                vec![0x48, 0x80, 9]
            ]
        );
        // A recording cut in its last block keeps what came before.
        let cut = &file[..file.len() - 2];
        assert_eq!(opus_stream(cut).map(|s| s.packets.len()), Ok(3));
        // Vorbis, or no track at all, is not Opus; a bad ID is broken.
        let mut vorbis = file.clone();
        let at = file.windows(6).position(|w| w == b"A_OPUS").unwrap_or(0);
        vorbis[at..at + 6].copy_from_slice(b"A_VORB");
        assert_eq!(opus_stream(&vorbis).err(), Some(WebmError::NoOpus));
        assert_eq!(
            opus_stream(&[0x1A, 0x45, 0xDF, 0xA3, 0x00]).err(),
            Some(WebmError::Broken)
        );
        assert_eq!(
            opus_stream(&known(EBML, b"")).err(),
            Some(WebmError::NoOpus)
        );
    }
}
