//! The rendition ladder: which sizes a source gets. A rung is named by its short side
//! (`720p` is 1280×720 landscape, 720×1280 portrait); no rung is ever above the source.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The default rungs' short sides: 360p 640×360, 480p 854×480, 720p 1280×720, 1080p 1920×1080.
pub const DEFAULT_RUNGS: [u32; 4] = [360, 480, 720, 1080];

/// One output size for one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rendition {
    /// `<short side>p`, as in the output name `<stem>_720p.mp4`.
    pub label: String,
    pub width: u32,
    pub height: u32,
    /// The rung whose encoding settings this rendition uses (its short side).
    pub rung: u32,
}

/// The size a viewer sees: rotation metadata of 90 or 270 degrees swaps the sides.
pub fn display_size(width: u32, height: u32, rotation: u32) -> (u32, u32) {
    if rotation % 180 == 90 { (height, width) } else { (width, height) }
}

/// The renditions of a source of display size `width`×`height` for the rungs `rungs` (short
/// sides, any order): every rung whose short side is at most the source's, at the source's
/// aspect ratio with both sides even; a source below the lowest rung gets one rendition at its
/// own size, labelled by its short side, with the lowest rung's settings.
pub fn plan(rungs: &[u32], width: u32, height: u32) -> Result<Vec<Rendition>, Error> {
    if width < 2 || height < 2 {
        return Err(Error::InvalidMedia(format!("a video of {width}×{height} has no picture to scale")));
    }
    let mut rungs: Vec<u32> = rungs.to_vec();
    rungs.sort_unstable();
    rungs.dedup();
    let lowest = *rungs.first().ok_or_else(|| Error::InvalidTemplate("the job template has no video output".into()))?;
    let short = width.min(height);
    let kept: Vec<Rendition> = rungs.iter().filter(|&&r| r <= short).map(|&r| scaled(width, height, r, r)).collect();
    if kept.is_empty() {
        return Ok(vec![scaled(width, height, short, lowest)]);
    }
    Ok(kept)
}

/// `width`×`height` scaled so its short side is `target` (even), the long side at the same
/// aspect ratio rounded to even and never past the source's.
pub fn scale_to_short_side(width: u32, height: u32, target: u32) -> (u32, u32) {
    let even_floor = |v: u32| (v & !1).max(2);
    let short = width.min(height);
    let long = width.max(height);
    let target = even_floor(target.min(short));
    let scaled_long = ((f64::from(long) * f64::from(target) / f64::from(short) / 2.0).round() as u32 * 2)
        .min(even_floor(long))
        .max(2);
    if width >= height { (scaled_long, target) } else { (target, scaled_long) }
}

fn scaled(width: u32, height: u32, short: u32, rung: u32) -> Rendition {
    let (w, h) = scale_to_short_side(width, height, short);
    Rendition { label: format!("{}p", w.min(h)), width: w, height: h, rung }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(w: u32, h: u32) -> Vec<(String, u32, u32)> {
        plan(&DEFAULT_RUNGS, w, h).unwrap().into_iter().map(|r| (r.label, r.width, r.height)).collect()
    }

    fn s(label: &str, w: u32, h: u32) -> (String, u32, u32) {
        (label.to_string(), w, h)
    }

    #[test]
    fn full_hd_gets_the_default_ladder() {
        assert_eq!(
            sizes(1920, 1080),
            vec![s("360p", 640, 360), s("480p", 854, 480), s("720p", 1280, 720), s("1080p", 1920, 1080)]
        );
    }

    #[test]
    fn never_above_the_source() {
        assert_eq!(sizes(1280, 720), vec![s("360p", 640, 360), s("480p", 854, 480), s("720p", 1280, 720)]);
        assert_eq!(sizes(854, 480), vec![s("360p", 640, 360), s("480p", 854, 480)]);
        // 4K stops at the highest rung.
        assert_eq!(sizes(3840, 2160).last().unwrap(), &s("1080p", 1920, 1080));
    }

    #[test]
    fn portrait_sources_get_portrait_rungs() {
        assert_eq!(
            sizes(1080, 1920),
            vec![s("360p", 360, 640), s("480p", 480, 854), s("720p", 720, 1280), s("1080p", 1080, 1920)]
        );
    }

    #[test]
    fn rotation_swaps_the_sides() {
        assert_eq!(display_size(1920, 1080, 90), (1080, 1920));
        assert_eq!(display_size(1920, 1080, 270), (1080, 1920));
        assert_eq!(display_size(1920, 1080, 180), (1920, 1080));
        assert_eq!(display_size(1920, 1080, 0), (1920, 1080));
        let (w, h) = display_size(1920, 1080, 90);
        assert_eq!(sizes(w, h).last().unwrap(), &s("1080p", 1080, 1920));
    }

    #[test]
    fn aspect_ratio_is_kept_and_sides_are_even() {
        // 4:3
        assert_eq!(sizes(1440, 1080).last().unwrap(), &s("1080p", 1440, 1080));
        assert_eq!(sizes(1440, 1080)[2], s("720p", 960, 720));
        // Cinema 2.39:1
        assert_eq!(sizes(1920, 804)[2], s("720p", 1720, 720));
        // Odd source sizes never give odd or larger outputs.
        for r in plan(&DEFAULT_RUNGS, 1919, 1081).unwrap() {
            assert!(r.width % 2 == 0 && r.height % 2 == 0, "{r:?}");
            assert!(r.width <= 1919 && r.height <= 1081, "{r:?}");
        }
        // Square.
        assert_eq!(sizes(720, 720).last().unwrap(), &s("720p", 720, 720));
    }

    #[test]
    fn small_sources_get_one_rendition_at_their_own_size() {
        let plan = plan(&DEFAULT_RUNGS, 320, 240).unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!((plan[0].label.as_str(), plan[0].width, plan[0].height, plan[0].rung), ("240p", 320, 240, 360));
        assert_eq!(sizes(175, 143), vec![s("142p", 174, 142)]);
        assert_eq!(sizes(240, 426), vec![s("240p", 240, 426)]);
    }

    #[test]
    fn the_template_decides_the_rungs() {
        let custom = plan(&[1440, 720, 720, 2160], 2560, 1440).unwrap();
        let labels: Vec<_> = custom.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["720p", "1440p"]);
        assert!(plan(&[], 1920, 1080).is_err());
        assert!(plan(&DEFAULT_RUNGS, 0, 1080).is_err());
    }
}
