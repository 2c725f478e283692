//! Where and how big the thumbnail frame is.

use crate::ladder::scale_to_short_side;

/// Seconds into the media of the frame, unless configured otherwise.
pub const DEFAULT_FRAME_SECONDS: f64 = 7.0;
/// A thumbnail's short side is at most this (and never above the source).
pub const MAX_SHORT_SIDE: u32 = 1080;

/// The time of the frame: `preferred`, or halfway for media too short to hold it a second before
/// its end (a seek past the end gives no frame at all).
pub fn frame_time(duration_seconds: Option<f64>, preferred: f64) -> f64 {
    let preferred = preferred.max(0.0);
    match duration_seconds {
        Some(d) if d.is_finite() && d > 0.0 && preferred > d - 1.0 => (d / 2.0 * 1000.0).floor() / 1000.0,
        _ => preferred,
    }
}

/// The thumbnail's size for a picture of display size `width`×`height`.
pub fn frame_size(width: u32, height: u32) -> (u32, u32) {
    scale_to_short_side(width, height, width.min(height).min(MAX_SHORT_SIDE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_seconds_in_or_earlier_for_short_media() {
        assert_eq!(frame_time(Some(60.0), DEFAULT_FRAME_SECONDS), 7.0);
        assert_eq!(frame_time(Some(8.0), DEFAULT_FRAME_SECONDS), 7.0);
        assert_eq!(frame_time(Some(7.5), DEFAULT_FRAME_SECONDS), 3.75);
        assert_eq!(frame_time(Some(3.0), DEFAULT_FRAME_SECONDS), 1.5);
        assert_eq!(frame_time(Some(0.04), DEFAULT_FRAME_SECONDS), 0.02);
        assert_eq!(frame_time(None, DEFAULT_FRAME_SECONDS), 7.0);
        assert_eq!(frame_time(Some(100.0), 30.0), 30.0);
        assert_eq!(frame_time(Some(100.0), -1.0), 0.0);
    }

    #[test]
    fn capped_at_1080p_and_the_source() {
        assert_eq!(frame_size(3840, 2160), (1920, 1080));
        assert_eq!(frame_size(1080, 1920), (1080, 1920));
        assert_eq!(frame_size(2160, 3840), (1080, 1920));
        assert_eq!(frame_size(640, 360), (640, 360));
        assert_eq!(frame_size(321, 241), (320, 240));
    }
}
