//! Pictures for lessons: a photo or screenshot a trainer takes on the phone
//! becomes a picture a learner on 2G can afford, and nothing about where it
//! was taken goes with it.
//!
//! [`prepare`] judges the upload by its bytes (JPEG, PNG or WebP; SVG
//! drawings are judged by [`super::svg`] instead), decodes it within memory
//! limits, turns it upright by its EXIF orientation, scales it to at most
//! [`WIDTH`] pixels wide and writes it again: PNG when a screenshot stays
//! small that way (sharp text), else JPEG at the best quality that keeps it
//! under [`TARGET_BYTES`]. The written file is made from pixels only, so
//! EXIF (GPS position, phone model, time), XMP, IPTC and colour profiles of
//! the source are all gone. [`metadata`] finds such blocks in a file; the
//! course loader refuses a picture that still carries one.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

/// The largest photo taken from the phone (megabytes, before it is made small).
pub const UPLOAD_MB: usize = 20;
/// The widest picture a lesson shows (a phone screen is narrower).
pub const WIDTH: u32 = 720;
/// What a lesson picture should weigh at most (bytes).
pub const TARGET_BYTES: usize = 80 * 1024;
/// The largest raster picture the course loader takes (bytes): a little room
/// above the target for a detailed photo written at the lowest quality.
pub const RASTER_LIMIT: usize = 120 * 1024;
/// JPEG qualities tried in turn until the picture fits the target.
const QUALITIES: [u8; 6] = [80, 72, 64, 56, 48, 40];
/// A decoded picture may not be larger than this (pixels per side).
const MAX_SIDE: u32 = 12_000;

/// A picture ready to keep.
#[derive(Debug)]
pub struct Picture {
    pub bytes: Vec<u8>,
    /// `jpg` or `png`.
    pub ext: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Why a picture is refused, as a locale key.
pub type Refusal = &'static str;

/// The raster formats a phone gives, judged by the first bytes.
pub fn raster_format(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes).ok()? {
        f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => Some(f),
        _ => None,
    }
}

/// Makes a lesson picture of a phone photo or screenshot (see the module docs).
pub fn prepare(bytes: &[u8]) -> Result<Picture, Refusal> {
    let format = raster_format(bytes).ok_or("author.picture.bad_type")?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 << 20);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|_| "author.picture.unreadable")?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => "author.picture.too_many_pixels",
        _ => "author.picture.unreadable",
    })?;
    img.apply_orientation(orientation);
    let img = if img.width() > WIDTH {
        img.resize(WIDTH, u32::MAX, FilterType::CatmullRom)
    } else {
        img
    };
    let (width, height) = (img.width(), img.height());
    let rgb = flatten(&img);
    if format == ImageFormat::Png
        && let Some(png) = png(&rgb).filter(|b| b.len() <= TARGET_BYTES)
    {
        return Ok(Picture {
            bytes: png,
            ext: "png",
            width,
            height,
        });
    }
    let mut best = None;
    for q in QUALITIES {
        let b = jpeg(&rgb, q).ok_or("author.picture.unreadable")?;
        let fits = b.len() <= TARGET_BYTES;
        best = Some(b);
        if fits {
            break;
        }
    }
    Ok(Picture {
        bytes: best.ok_or("author.picture.unreadable")?,
        ext: "jpg",
        width,
        height,
    })
}

/// The pixels on white (a transparent corner of a screenshot stays white).
fn flatten(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

fn jpeg(rgb: &RgbImage, quality: u8) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(rgb)
        .ok()?;
    Some(out)
}

fn png(rgb: &RgbImage) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let enc = PngEncoder::new_with_quality(&mut out, CompressionType::Best, PngFilter::Adaptive);
    rgb.write_with_encoder(enc).ok()?;
    Some(out)
}

/// The first metadata block in a raster picture that could say where or
/// when it was taken or by what (EXIF, XMP, IPTC, text chunks), by name;
/// `None` for a clean file or one that is not JPEG, PNG or WebP.
pub fn metadata(bytes: &[u8]) -> Option<&'static str> {
    match raster_format(bytes)? {
        ImageFormat::Jpeg => jpeg_metadata(bytes),
        ImageFormat::Png => png_metadata(bytes),
        ImageFormat::WebP => webp_metadata(bytes),
        _ => None,
    }
}

fn jpeg_metadata(b: &[u8]) -> Option<&'static str> {
    let mut at = 2;
    while at + 4 <= b.len() {
        if b[at] != 0xFF {
            return None;
        }
        let marker = b[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        // Start of scan, or markers without a length: the headers are over.
        if marker == 0xDA || marker == 0xD9 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
        let body = b.get(at + 4..(at + 2 + len).min(b.len())).unwrap_or(&[]);
        match marker {
            0xE1 if body.starts_with(b"Exif") => return Some("EXIF"),
            0xE1 => return Some("XMP"),
            0xED => return Some("IPTC"),
            0xE2..=0xEF => return Some("APP"),
            0xFE => return Some("comment"),
            _ => {}
        }
        at += 2 + len;
    }
    None
}

fn png_metadata(b: &[u8]) -> Option<&'static str> {
    let mut at = 8;
    while at + 8 <= b.len() {
        let len = u32::from_be_bytes(b[at..at + 4].try_into().ok()?) as usize;
        match &b[at + 4..at + 8] {
            b"eXIf" => return Some("EXIF"),
            b"tEXt" | b"zTXt" | b"iTXt" => return Some("text"),
            b"tIME" => return Some("time"),
            b"IEND" => return None,
            _ => {}
        }
        at = at.checked_add(12 + len)?;
    }
    None
}

fn webp_metadata(b: &[u8]) -> Option<&'static str> {
    let mut at = 12;
    while at + 8 <= b.len() {
        let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().ok()?) as usize;
        match &b[at..at + 4] {
            b"EXIF" => return Some("EXIF"),
            b"XMP " => return Some("XMP"),
            _ => {}
        }
        at = at.checked_add(8 + len + (len & 1))?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG of `w`×`h` noisy pixels (so it does not compress to nothing),
    /// with an EXIF block holding a GPS position and the given orientation.
    pub fn phone_photo(w: u32, h: u32, orientation: u16) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)).wrapping_mul(2_654_435_761);
            image::Rgb([(x % 256) as u8, (y % 256) as u8, (n >> 24) as u8])
        });
        let plain = jpeg(&img, 95).unwrap();
        with_exif(&plain, orientation)
    }

    /// `jpeg` with an APP1 EXIF block after its SOI: orientation and a GPS
    /// latitude of 25° N (a village in Yunnan).
    pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        // TIFF, big-endian: IFD0 with Orientation and a GPS IFD pointer.
        let mut t = Vec::new();
        t.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
        t.extend_from_slice(&2u16.to_be_bytes());
        t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        t.extend_from_slice(&orientation.to_be_bytes());
        t.extend_from_slice(&[0, 0]);
        let gps_at = 8 + 2 + 24 + 4;
        t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1]);
        t.extend_from_slice(&(gps_at as u32).to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 0]);
        // GPS IFD: GPSLatitudeRef "N".
        t.extend_from_slice(&1u16.to_be_bytes());
        t.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
        t.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&t);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn a_big_phone_photo_becomes_small_upright_and_without_its_position() {
        // 6 = the camera was turned: the stored pixels are 2000 wide, 1500 high.
        let photo = phone_photo(2000, 1500, 6);
        assert!(photo.len() > 1_000_000, "{} bytes", photo.len());
        assert_eq!(metadata(&photo), Some("EXIF"));
        let p = prepare(&photo).unwrap();
        assert_eq!(p.ext, "jpg");
        // Upright: the picture is taller than wide, scaled to 720 px wide.
        assert_eq!((p.width, p.height), (720, 960));
        assert!(p.bytes.len() <= RASTER_LIMIT, "{} bytes", p.bytes.len());
        assert_eq!(metadata(&p.bytes), None);
        assert!(memchr::memmem::find(&p.bytes, b"Exif").is_none());
        let back = image::load_from_memory(&p.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (720, 960));
    }

    #[test]
    fn a_small_screenshot_stays_sharp_as_png() {
        let img = RgbImage::from_fn(360, 640, |x, y| {
            if (x / 20 + y / 20) % 2 == 0 {
                image::Rgb([255, 255, 255])
            } else {
                image::Rgb([20, 90, 60])
            }
        });
        let mut src = Vec::new();
        img.write_to(&mut Cursor::new(&mut src), ImageFormat::Png)
            .unwrap();
        let p = prepare(&src).unwrap();
        assert_eq!((p.ext, p.width, p.height), ("png", 360, 640));
        assert_eq!(metadata(&p.bytes), None);
    }

    #[test]
    fn what_is_not_a_photo_is_refused_by_its_bytes() {
        assert_eq!(
            prepare(b"GIF89a....").unwrap_err(),
            "author.picture.bad_type"
        );
        assert_eq!(
            prepare(b"<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap_err(),
            "author.picture.bad_type"
        );
        // A JPEG's first bytes and then nothing.
        assert_eq!(
            prepare(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0]).unwrap_err(),
            "author.picture.unreadable"
        );
    }

    #[test]
    fn metadata_is_found_in_each_format() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0, 0, 0, 13]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&[0; 13 + 4]);
        png.extend_from_slice(&[0, 0, 0, 4]);
        png.extend_from_slice(b"eXIf");
        png.extend_from_slice(&[0; 8]);
        assert_eq!(metadata(&png), Some("EXIF"));
        let mut webp = b"RIFF\0\0\0\0WEBP".to_vec();
        webp.extend_from_slice(b"VP8X");
        webp.extend_from_slice(&10u32.to_le_bytes());
        webp.extend_from_slice(&[0; 10]);
        webp.extend_from_slice(b"EXIF");
        webp.extend_from_slice(&4u32.to_le_bytes());
        webp.extend_from_slice(&[0; 4]);
        assert_eq!(metadata(&webp), Some("EXIF"));
    }
}
