// Shared by every target: whatever a reader accepts, the WebVTT written from it reads back as
// the same cues with nothing to repair.
use mediaflow_captions::{CaptionFormat, read};

pub fn check(text: &str, format: CaptionFormat) {
    let Ok(mut captions) = read(text, format) else { return };
    captions.normalise();
    let vtt = captions.to_vtt();
    let again = read(&vtt, CaptionFormat::Vtt).expect("our own WebVTT reads back");
    assert!(again.repairs.is_empty(), "our own WebVTT needed repairs: {:?}\n{vtt:?}", again.repairs);
    let key = |c: &mediaflow_captions::Cue| (c.start, c.end, c.settings.clone(), c.payload.clone());
    let before: Vec<_> = captions.cues.iter().map(key).collect();
    let after: Vec<_> = again.cues.iter().map(key).collect();
    assert_eq!(before, after, "{vtt:?}");
}
