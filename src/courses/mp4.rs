//! The playing time of an MP4 audio file (M4A, or a recorder's fragmented
//! MP4): the movie header's duration, else the fragments' declared length,
//! else the sum of the fragments' sample durations in the track's time scale.

/// The boxes directly inside `b`: (type, body).
fn boxes(b: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let h = b.get(at..at + 8)?;
        let size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let (head, size) = match size {
            0 => (8, b.len() - at),
            1 => {
                let l = b.get(at + 8..at + 16)?;
                (
                    16,
                    usize::try_from(u64::from_be_bytes(l.try_into().ok()?)).ok()?,
                )
            }
            n => (8, n),
        };
        let body = b.get(at + head..at.checked_add(size)?)?;
        let kind = &h[4..8];
        at += size.max(8);
        Some((kind, body))
    })
}

fn child<'a>(b: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    boxes(b).find(|(k, _)| *k == kind).map(|(_, body)| body)
}

fn be(b: &[u8], at: usize, len: usize) -> Option<u64> {
    let s = b.get(at..at + len)?;
    Some(s.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// (time scale, duration) of an `mvhd`, `mdhd` (version 0 or 1).
fn header(b: &[u8]) -> Option<(u64, u64)> {
    match b.first()? {
        0 => Some((be(b, 12, 4)?, be(b, 16, 4)?)),
        1 => Some((be(b, 20, 4)?, be(b, 24, 8)?)),
        _ => None,
    }
}

/// Seconds of playing time, when the file says it.
pub fn seconds(bytes: &[u8]) -> Option<f64> {
    let moov = child(bytes, b"moov")?;
    let (scale, duration) = header(child(moov, b"mvhd")?)?;
    if scale == 0 {
        return None;
    }
    if duration > 0 && duration != u64::from(u32::MAX) {
        return Some(duration as f64 / scale as f64);
    }
    if let Some(mehd) = child(moov, b"mvex").and_then(|m| child(m, b"mehd")) {
        let d = if mehd.first()? == &1 {
            be(mehd, 4, 8)?
        } else {
            be(mehd, 4, 4)?
        };
        if d > 0 {
            return Some(d as f64 / scale as f64);
        }
    }
    // Fragments: each run's sample durations (or the defaults), in the
    // first track's time scale.
    let trak = child(moov, b"trak")?;
    let (track_scale, _) = header(child(child(trak, b"mdia")?, b"mdhd")?)?;
    let trex_default = child(moov, b"mvex")
        .and_then(|m| child(m, b"trex"))
        .and_then(|t| be(t, 12, 4))
        .unwrap_or(0);
    let mut total = 0u64;
    for (kind, moof) in boxes(bytes) {
        if kind != b"moof" {
            continue;
        }
        for (k, traf) in boxes(moof) {
            if k != b"traf" {
                continue;
            }
            let tfhd = child(traf, b"tfhd")?;
            let flags = be(tfhd, 1, 3)?;
            let mut at = 8;
            for (bit, len) in [(0x1, 8), (0x2, 4)] {
                if flags & bit != 0 {
                    at += len;
                }
            }
            let default = if flags & 0x8 != 0 {
                be(tfhd, at, 4)?
            } else {
                trex_default
            };
            for (k, trun) in boxes(traf) {
                if k != b"trun" {
                    continue;
                }
                let flags = be(trun, 1, 3)?;
                let count = be(trun, 4, 4)?;
                let mut at = 8;
                at += if flags & 0x1 != 0 { 4 } else { 0 };
                at += if flags & 0x4 != 0 { 4 } else { 0 };
                let per = [0x100, 0x200, 0x400, 0x800]
                    .iter()
                    .filter(|b| flags & **b != 0)
                    .count()
                    * 4;
                if flags & 0x100 == 0 {
                    total += default * count;
                    continue;
                }
                for i in 0..usize::try_from(count).ok()? {
                    total += be(trun, at + i * per, 4)?;
                }
            }
        }
    }
    (total > 0 && track_scale > 0).then(|| total as f64 / track_scale as f64)
}

#[cfg(test)]
mod tests {
    use super::seconds;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn hd(scale: u32, duration: u32) -> Vec<u8> {
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&scale.to_be_bytes());
        b.extend_from_slice(&duration.to_be_bytes());
        b.resize(100, 0);
        b
    }

    #[test]
    fn the_length_of_an_mp4_recording() {
        let mut plain = bx(b"ftyp", b"M4A \0\0\0\0");
        plain.extend(bx(b"moov", &bx(b"mvhd", &hd(1000, 4500))));
        assert_eq!(seconds(&plain), Some(4.5));
        // Fragmented, as a recorder writes it: the runs give 3 × 1024 and 2 × 1024 samples.
        let trak = bx(b"trak", &bx(b"mdia", &bx(b"mdhd", &hd(48_000, 0))));
        let mut trex = vec![0u8; 12];
        trex.extend_from_slice(&1024u32.to_be_bytes());
        trex.resize(24, 0);
        let mut moov = bx(b"mvhd", &hd(1000, 0));
        moov.extend(trak);
        moov.extend(bx(b"mvex", &bx(b"trex", &trex)));
        let mut file = bx(b"ftyp", b"iso5\0\0\0\0");
        file.extend(bx(b"moov", &moov));
        for count in [3u32, 2] {
            let tfhd = bx(b"tfhd", &[0, 0, 0, 0, 0, 0, 0, 1]);
            let mut run = vec![0u8; 4];
            run.extend_from_slice(&count.to_be_bytes());
            let traf = [tfhd, bx(b"trun", &run)].concat();
            file.extend(bx(b"moof", &bx(b"traf", &traf)));
            file.extend(bx(b"mdat", b"xx"));
        }
        assert_eq!(seconds(&file), Some(5.0 * 1024.0 / 48_000.0));
        assert_eq!(seconds(b"\0\0\0\x10ftypM4A \0\0\0\0"), None);
    }
}

/// The picture of an MP4 file's video track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoTrack {
    /// The sample entry's format: `avc1` for H.264.
    pub codec: [u8; 4],
    pub width: u32,
    pub height: u32,
}

/// The first video track of an MP4 file (handler `vide`), when it has one.
pub fn video_track(bytes: &[u8]) -> Option<VideoTrack> {
    let moov = child(bytes, b"moov")?;
    boxes(moov)
        .filter(|(k, _)| *k == b"trak")
        .find_map(|(_, trak)| {
            let mdia = child(trak, b"mdia")?;
            if child(mdia, b"hdlr")?.get(8..12)? != b"vide" {
                return None;
            }
            let stsd = child(child(child(mdia, b"minf")?, b"stbl")?, b"stsd")?;
            // Version and flags, the entry count, then the first sample entry.
            let entry = stsd.get(8..)?;
            let codec: [u8; 4] = entry.get(4..8)?.try_into().ok()?;
            // Visual sample entry: 6 reserved, data reference index, 16 bytes
            // of pre-defined and reserved fields, then width and height.
            let body = entry.get(8..)?;
            Some(VideoTrack {
                codec,
                width: be(body, 24, 2)? as u32,
                height: be(body, 26, 2)? as u32,
            })
        })
}

/// Whether an MP4 file has an audio track (handler `soun`).
pub fn has_audio(bytes: &[u8]) -> bool {
    child(bytes, b"moov").is_some_and(|moov| {
        boxes(moov).any(|(k, trak)| {
            k == b"trak"
                && child(trak, b"mdia")
                    .and_then(|m| child(m, b"hdlr"))
                    .and_then(|h| h.get(8..12))
                    == Some(b"soun".as_slice())
        })
    })
}
