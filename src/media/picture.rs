//! What happens to an uploaded picture: its type is read from its bytes
//! (never from its name), its size from its header before a pixel is
//! decoded, then it is decoded within limits, turned upright by its EXIF
//! orientation and encoded again without any metadata (EXIF, GPS, XMP,
//! comments). Renditions are made from that clean master.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::MediaRefusal;

/// Widths renditions are made at (and the master's own, when narrower).
pub const WIDTHS: [u32; 4] = [320, 640, 1280, 2048];

/// JPEG quality of masters and renditions.
const MASTER_QUALITY: u8 = 92;
const RENDITION_QUALITY: u8 = 82;

/// The formats a rendition is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Webp,
}

impl Format {
    pub fn parse(extension: &str) -> Option<Format> {
        match extension {
            "jpg" | "jpeg" => Some(Format::Jpeg),
            "webp" => Some(Format::Webp),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Webp => "image/webp",
        }
    }
}

/// A cleaned upload, ready to store.
#[derive(Debug, Clone)]
pub struct Master {
    pub bytes: Vec<u8>,
    /// `image/jpeg`, `image/png` or `image/webp` (a GIF's first frame is kept as PNG).
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// A placeholder to show while the picture loads (blurhash.org).
    pub blurhash: String,
}

/// The formats accepted, by their bytes.
fn accepted(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
    )
}

/// Reads `bytes` as a picture of at most `max_pixels`, upright and without
/// metadata.
pub fn master(bytes: &[u8], max_pixels: u64) -> Result<Master, MediaRefusal> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    let format = reader
        .format()
        .filter(|f| accepted(*f))
        .ok_or(MediaRefusal::NotAnImage)?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    check_pixels(width, height, max_pixels)?;
    if format == ImageFormat::Jpeg && !jpeg_is_whole(bytes) {
        // The decoder would paint the missing part grey.
        return Err(MediaRefusal::Unreadable("the JPEG data ends early".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits(max_pixels));
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture =
        DynamicImage::from_decoder(decoder).map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    picture.apply_orientation(orientation);
    let (bytes, content_type) = match format {
        ImageFormat::Jpeg => (jpeg(&picture, MASTER_QUALITY)?, "image/jpeg"),
        ImageFormat::WebP => (webp(&picture)?, "image/webp"),
        _ => (png(&picture)?, "image/png"),
    };
    Ok(Master {
        bytes,
        content_type,
        width: picture.width(),
        height: picture.height(),
        blurhash: placeholder(&picture),
    })
}

/// Whether a JPEG's image data reaches its end marker: after the first
/// start-of-scan (FF DA) an FF D9 must follow, which compressed data
/// cannot hold (its FF bytes are stuffed as FF 00).
fn jpeg_is_whole(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn check_pixels(width: u32, height: u32, max_pixels: u64) -> Result<(), MediaRefusal> {
    if u64::from(width) * u64::from(height) > max_pixels || width == 0 || height == 0 {
        return Err(MediaRefusal::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(())
}

/// The decoder's limits: no more pixels than allowed, and memory for
/// them as RGBA with room for the decoder's own buffers.
fn limits(max_pixels: u64) -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    limits
}

/// The master at `width` (never wider than it is) in `format`.
pub fn rendition(
    master: &[u8],
    width: u32,
    format: Format,
    max_pixels: u64,
) -> Result<Vec<u8>, MediaRefusal> {
    let mut reader = ImageReader::new(Cursor::new(master))
        .with_guessed_format()
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    reader.limits(limits(max_pixels));
    let picture = reader
        .decode()
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    let width = width.min(picture.width());
    let height = scaled_height(picture.width(), picture.height(), width);
    let resized = if width == picture.width() {
        picture
    } else {
        picture.resize_exact(width, height, image::imageops::FilterType::Triangle)
    };
    match format {
        Format::Jpeg => jpeg(&resized, RENDITION_QUALITY),
        Format::Webp => webp(&resized),
    }
}

/// The height of a picture `width`×`height` scaled to `to` wide.
pub fn scaled_height(width: u32, height: u32, to: u32) -> u32 {
    if width == 0 {
        return height;
    }
    let h = (u64::from(height) * u64::from(to) + u64::from(width) / 2) / u64::from(width);
    u32::try_from(h.max(1)).unwrap_or(u32::MAX)
}

/// The rendition width to show for `wanted` of a picture `width` wide: the
/// smallest offered at least that wide, else the widest offered.
pub fn nearest_width(width: u32, wanted: u32) -> u32 {
    let widths = widths_for(width);
    widths
        .iter()
        .copied()
        .find(|w| *w >= wanted)
        .or_else(|| widths.last().copied())
        .unwrap_or(width)
}

/// The widths renditions of a picture `width` wide come in: the standard
/// ones below its width, and its own.
pub fn widths_for(width: u32) -> Vec<u32> {
    let mut out: Vec<u32> = WIDTHS.iter().copied().filter(|w| *w < width).collect();
    out.push(width.min(*WIDTHS.last().unwrap_or(&width)));
    out.dedup();
    out
}

fn jpeg(picture: &DynamicImage, quality: u8) -> Result<Vec<u8>, MediaRefusal> {
    let mut out = Vec::new();
    let rgb = picture.to_rgb8();
    rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    Ok(out)
}

fn png(picture: &DynamicImage) -> Result<Vec<u8>, MediaRefusal> {
    let mut out = Vec::new();
    picture
        .to_rgba8()
        .write_with_encoder(PngEncoder::new(&mut out))
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    Ok(out)
}

fn webp(picture: &DynamicImage) -> Result<Vec<u8>, MediaRefusal> {
    let mut out = Vec::new();
    picture
        .to_rgba8()
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .map_err(|e| MediaRefusal::Unreadable(e.to_string()))?;
    Ok(out)
}

/// A 4×3 blurhash of the picture, computed on a 32-pixel-wide copy.
fn placeholder(picture: &DynamicImage) -> String {
    let small = picture.thumbnail(32, 32).to_rgba8();
    blurhash::encode(4, 3, small.width(), small.height(), small.as_raw()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::samples::{jpeg_with_exif, picture};
    use super::*;

    #[test]
    fn every_accepted_format_becomes_a_clean_master() {
        for (format, kept) in [
            (ImageFormat::Jpeg, "image/jpeg"),
            (ImageFormat::Png, "image/png"),
            (ImageFormat::WebP, "image/webp"),
            (ImageFormat::Gif, "image/png"),
        ] {
            let m = master(&picture(40, 30, format), 1_000_000).expect("accepted");
            assert_eq!(
                (m.content_type, m.width, m.height),
                (kept, 40, 30),
                "{format:?}"
            );
            assert!(!m.blurhash.is_empty());
        }
    }

    #[test]
    fn exif_is_applied_and_then_gone() {
        let upload = jpeg_with_exif(40, 30);
        assert!(upload.windows(4).any(|w| w == b"Exif"));
        let m = master(&upload, 1_000_000).expect("accepted");
        assert_eq!(
            (m.width, m.height),
            (30, 40),
            "orientation 6 turns the picture upright"
        );
        assert!(!m.bytes.windows(4).any(|w| w == b"Exif"), "EXIF kept");
    }

    #[test]
    fn what_is_not_a_picture_or_is_too_big_is_refused_before_decoding() {
        assert_eq!(
            master(b"<?php system($_GET['c']); ?>", 1_000_000).map(|m| m.width),
            Err(MediaRefusal::NotAnImage)
        );
        let big = master(&picture(200, 100, ImageFormat::Png), 10_000);
        assert!(matches!(
            big,
            Err(MediaRefusal::TooManyPixels {
                width: 200,
                height: 100,
                ..
            })
        ));
        for (width, height) in [(64, 64), (300, 200)] {
            let jpeg = picture(width, height, ImageFormat::Jpeg);
            for cut_at in [jpeg.len() / 2, jpeg.len() - 2] {
                let cut = master(&jpeg[..cut_at], 1_000_000);
                assert!(
                    matches!(cut, Err(MediaRefusal::Unreadable(_))),
                    "{cut_at}: {cut:?}"
                );
            }
        }
        let png = picture(300, 200, ImageFormat::Png);
        assert!(master(&png[..png.len() / 2], 1_000_000).is_err());
    }

    #[test]
    fn renditions_have_the_asked_width_and_format() {
        let m = master(&picture(700, 350, ImageFormat::Png), 1_000_000).expect("accepted");
        for (width, format, magic) in [
            (320, Format::Jpeg, &b"\xFF\xD8"[..]),
            (640, Format::Webp, &b"RIFF"[..]),
        ] {
            let bytes = rendition(&m.bytes, width, format, 1_000_000).expect("made");
            assert!(bytes.starts_with(magic));
            let img = image::load_from_memory(&bytes).expect("decodes");
            assert_eq!((img.width(), img.height()), (width, width / 2));
        }
        let wide = rendition(&m.bytes, 2048, Format::Jpeg, 1_000_000).expect("made");
        assert_eq!(
            image::load_from_memory(&wide).expect("decodes").width(),
            700
        );
        assert_eq!(widths_for(700), vec![320, 640, 700]);
        assert_eq!(widths_for(5000), vec![320, 640, 1280, 2048]);
    }
}
