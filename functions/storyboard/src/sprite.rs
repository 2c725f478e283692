//! The sprite: frames decoded, brought to the tile size and pasted into one grid. No I/O.

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{ImageFormat, RgbImage};
use mediaflow_core::storyboard::{QUALITY, grid, sprite_size, tile_origin};

/// Where the tiles go: `tiles` tiles of `tile_width`×`tile_height` in `columns`×`rows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub tiles: u32,
    pub columns: u32,
    pub rows: u32,
    pub tile_width: u32,
    pub tile_height: u32,
}

impl Layout {
    /// The layout of `tiles` tiles; `None` when the sprite would not fit in a JPEG (or a tile
    /// has no area).
    pub fn new(tiles: u32, tile_width: u32, tile_height: u32) -> Option<Layout> {
        sprite_size(tiles, tile_width, tile_height)?;
        let (columns, rows) = grid(tiles);
        Some(Layout { tiles, columns, rows, tile_width, tile_height })
    }

    /// The sprite's width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.columns * self.tile_width, self.rows * self.tile_height)
    }

    /// Tile `index`'s rectangle in the sprite: x, y, width, height.
    pub fn rect(&self, index: u32) -> (u32, u32, u32, u32) {
        let (x, y) = tile_origin(index, self.columns, self.tile_width, self.tile_height);
        (x, y, self.tile_width, self.tile_height)
    }
}

/// One frame as RGB. Grey or CMYK JPEGs come out as RGB too.
pub fn decode(jpeg: &[u8]) -> Result<RgbImage, image::ImageError> {
    Ok(image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)?.into_rgb8())
}

/// The frames, in order, pasted into a sprite of `layout`; a frame of another size (MediaConvert
/// may round a side) is scaled to the tile. Tiles past the last frame stay black.
pub fn tile(frames: &[RgbImage], layout: &Layout) -> RgbImage {
    let (width, height) = layout.size();
    let mut sprite = RgbImage::new(width, height);
    for (index, frame) in (0..layout.tiles).zip(frames) {
        let (x, y, w, h) = layout.rect(index);
        if frame.dimensions() == (w, h) {
            imageops::replace(&mut sprite, frame, i64::from(x), i64::from(y));
        } else {
            let scaled = imageops::resize(frame, w, h, FilterType::Triangle);
            imageops::replace(&mut sprite, &scaled, i64::from(x), i64::from(y));
        }
    }
    sprite
}

/// The sprite as a baseline JPEG at [`QUALITY`]. The same sprite gives the same bytes, so a
/// second run writes the same object.
pub fn encode(sprite: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY).encode_image(sprite)?;
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn solid(w: u32, h: u32, shade: u8) -> RgbImage {
        RgbImage::from_pixel(w, h, Rgb([shade, 255 - shade, shade / 2]))
    }

    #[test]
    fn the_layout_follows_the_grid() {
        let l = Layout::new(12, 160, 90).unwrap();
        assert_eq!((l.columns, l.rows, l.size()), (10, 2, (1600, 180)));
        assert_eq!(l.rect(0), (0, 0, 160, 90));
        assert_eq!(l.rect(11), (160, 90, 160, 90));
        assert_eq!(Layout::new(100, 160, 7000), None, "past a JPEG's 65,535 pixels");
        assert_eq!(Layout::new(1, 0, 90), None);
    }

    #[test]
    fn each_frame_lands_in_its_tile_scaled_to_it() {
        let layout = Layout::new(3, 4, 2).unwrap();
        // The middle frame is a side larger, as MediaConvert's rounding can make it.
        let frames = [solid(4, 2, 10), solid(5, 3, 120), solid(4, 2, 240)];
        let sprite = tile(&frames, &layout);
        assert_eq!(sprite.dimensions(), (12, 2));
        for (index, shade) in [(0u32, 10u8), (1, 120), (2, 240)] {
            let (x, y, w, h) = layout.rect(index);
            for (dx, dy) in [(0, 0), (w - 1, h - 1)] {
                assert_eq!(*sprite.get_pixel(x + dx, y + dy), Rgb([shade, 255 - shade, shade / 2]), "tile {index}");
            }
        }
    }

    #[test]
    fn tiles_past_the_last_frame_stay_black() {
        let layout = Layout::new(11, 2, 2).unwrap();
        let sprite = tile(&vec![solid(2, 2, 200); 11], &layout);
        assert_eq!(sprite.dimensions(), (20, 4));
        assert_eq!(*sprite.get_pixel(0, 2), Rgb([200, 55, 100]));
        assert_eq!(*sprite.get_pixel(19, 3), Rgb([0, 0, 0]));
    }

    #[test]
    fn the_jpeg_decodes_to_the_sprite_and_is_the_same_every_time() {
        let layout = Layout::new(2, 16, 8).unwrap();
        let sprite = tile(&[solid(16, 8, 30), solid(16, 8, 220)], &layout);
        let jpeg = encode(&sprite).unwrap();
        assert_eq!(jpeg, encode(&sprite).unwrap());
        let back = decode(&jpeg).unwrap();
        assert_eq!(back.dimensions(), (32, 8));
        let px = back.get_pixel(20, 4);
        assert!(px.0.iter().zip([220u8, 35, 110]).all(|(a, b)| a.abs_diff(b) < 12), "{px:?}");
        assert!(decode(b"not a jpeg").is_err());
    }
}
