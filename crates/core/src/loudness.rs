//! Loudness: what an upload measures (ITU-R BS.1770 / EBU R 128: integrated loudness, loudness
//! range, true peak), and the target its renditions are normalized to, read from the job's
//! `AudioNormalizationSettings` as MediaConvert reads them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// MediaConvert's loudness measurement (`AudioNormalizationSettings.Algorithm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NormalizationAlgorithm {
    /// Ungated loudness (ATSC A/85).
    #[serde(rename = "ITU_BS_1770_1")]
    ItuBs1770_1,
    /// Gated loudness, as EBU R 128 asks; what this code assumes a job without `Algorithm` gets.
    #[default]
    #[serde(rename = "ITU_BS_1770_2")]
    ItuBs1770_2,
    /// 1770-2 with the updated true-peak measurement.
    #[serde(rename = "ITU_BS_1770_3")]
    ItuBs1770_3,
    /// 1770-3 for more channels.
    #[serde(rename = "ITU_BS_1770_4")]
    ItuBs1770_4,
}

impl NormalizationAlgorithm {
    /// The `TargetLkfs` MediaConvert chooses when a job leaves it out: -24 for 1770-1, -23 for
    /// the others (MediaConvert's API reference, `AudioNormalizationSettings.TargetLkfs`).
    pub fn default_target_lkfs(self) -> f64 {
        match self {
            NormalizationAlgorithm::ItuBs1770_1 => -24.0,
            _ => -23.0,
        }
    }
}

/// An upload's measured loudness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Loudness {
    /// Integrated loudness, LUFS (-70 is BS.1770's floor: silence).
    pub integrated_lufs: f64,
    /// Loudness range, LU.
    pub range_lu: f64,
    /// True peak, dBTP; none for digital silence (minus infinity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_peak_dbtp: Option<f64>,
}

/// Reads the summary ffmpeg's `ebur128` filter (with `peak=true`) logs at the end of a run.
pub fn parse_ebur128_summary(log: &str) -> Option<Loudness> {
    let summary = &log[log.rfind("Summary:")?..];
    // Each value under its own heading: `peak=sample+true` logs a `Peak:` line under
    // "Sample peak:" before the true peak's.
    let value = |heading: &str, label: &str| -> Option<Option<f64>> {
        let section = &summary[summary.find(heading)? + heading.len()..];
        let line = section.lines().map(str::trim).find(|l| l.starts_with(label))?;
        let number = line[label.len()..].split_whitespace().next()?;
        Some(number.parse::<f64>().ok().filter(|v| v.is_finite()))
    };
    Some(Loudness {
        integrated_lufs: value("Integrated loudness:", "I:")??,
        range_lu: value("Loudness range:", "LRA:")??,
        true_peak_dbtp: value("True peak:", "Peak:").flatten(),
    })
}

/// One output's `AudioNormalizationSettings`, as MediaConvert applies them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Normalization {
    pub algorithm: NormalizationAlgorithm,
    /// `CORRECT_AUDIO` corrects; `MEASURE_ONLY` only measures.
    pub corrects: bool,
    /// Integrated loudness the audio is brought to, LKFS (= LUFS).
    pub target_lkfs: f64,
    /// The true-peak limit, dBTP; none when the job sets no limiter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_peak_limit_dbtp: Option<f64>,
}

impl Normalization {
    /// Reads an `AudioNormalizationSettings` object.
    pub fn from_settings(settings: &Value) -> Option<Normalization> {
        let algorithm = settings
            .get("Algorithm")
            .map_or(Ok(NormalizationAlgorithm::default()), |a| serde_json::from_value(a.clone()))
            .ok()?;
        let corrects =
            settings.get("AlgorithmControl").and_then(Value::as_str).unwrap_or("CORRECT_AUDIO") == "CORRECT_AUDIO";
        let target_lkfs = settings.get("TargetLkfs").and_then(Value::as_f64).unwrap_or(algorithm.default_target_lkfs());
        let true_peak_limit_dbtp = settings.get("TruePeakLimiterThreshold").and_then(Value::as_f64);
        settings.is_object().then_some(Normalization { algorithm, corrects, target_lkfs, true_peak_limit_dbtp })
    }
}

/// The normalization a job applies: the first correcting `AudioNormalizationSettings` of its
/// outputs (the shipped templates set the same on every output).
pub fn target_of(job: &Value) -> Option<Normalization> {
    let groups = job.pointer("/Settings/OutputGroups")?.as_array()?;
    groups
        .iter()
        .filter_map(|g| g.get("Outputs")?.as_array())
        .flatten()
        .filter_map(|o| o.get("AudioDescriptions")?.as_array())
        .flatten()
        .filter_map(|a| Normalization::from_settings(a.get("AudioNormalizationSettings")?))
        .find(|n| n.corrects)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "[Parsed_ebur128_0 @ 0x55d] Summary:

  Integrated loudness:
    I:         -16.2 LUFS
    Threshold: -26.4 LUFS

  Loudness range:
    LRA:         5.3 LU
    Threshold: -36.3 LUFS
    LRA low:   -19.4 LUFS
    LRA high:  -14.1 LUFS

  True peak:
    Peak:       -1.3 dBFS
";

    #[test]
    fn reads_ffmpegs_summary() {
        let l = parse_ebur128_summary(&format!("t: 0.1 M: -20\n{SUMMARY}")).unwrap();
        assert_eq!(l, Loudness { integrated_lufs: -16.2, range_lu: 5.3, true_peak_dbtp: Some(-1.3) });
        let silent = SUMMARY.replace("-16.2", "-70.0").replace("-1.3 dBFS", "-inf dBFS");
        let l = parse_ebur128_summary(&silent).unwrap();
        assert_eq!((l.integrated_lufs, l.true_peak_dbtp), (-70.0, None));
        assert_eq!(parse_ebur128_summary("no summary"), None);
        assert_eq!(parse_ebur128_summary(&SUMMARY.replace("I:", "X:")), None);
    }

    #[test]
    fn the_true_peak_is_read_under_its_heading() {
        let both = SUMMARY.replace("  True peak:", "  Sample peak:\n    Peak:       -2.0 dBFS\n\n  True peak:");
        assert_eq!(parse_ebur128_summary(&both).unwrap().true_peak_dbtp, Some(-1.3));
        let no_true_peak = &SUMMARY[..SUMMARY.find("  True peak:").unwrap()];
        assert_eq!(parse_ebur128_summary(no_true_peak).unwrap().true_peak_dbtp, None);
        // A tag that says "Summary:" earlier in the log is not the summary.
        let tagged = format!("    title : Summary: I: -1 LUFS\n{SUMMARY}");
        assert_eq!(parse_ebur128_summary(&tagged).unwrap().integrated_lufs, -16.2);
    }

    #[test]
    fn the_target_is_the_jobs_correcting_normalization() {
        let job = serde_json::json!({"Settings": {"OutputGroups": [{"Outputs": [
            {"AudioDescriptions": [{"AudioNormalizationSettings":
                {"Algorithm": "ITU_BS_1770_3", "AlgorithmControl": "MEASURE_ONLY"}}]},
            {"AudioDescriptions": [{"AudioNormalizationSettings":
                {"Algorithm": "ITU_BS_1770_3", "AlgorithmControl": "CORRECT_AUDIO",
                 "TargetLkfs": -16.0, "TruePeakLimiterThreshold": -1.0}}]}
        ]}]}});
        let n = target_of(&job).unwrap();
        assert_eq!((n.target_lkfs, n.true_peak_limit_dbtp, n.corrects), (-16.0, Some(-1.0), true));
        assert_eq!(target_of(&crate::templates::video()).map(|n| n.target_lkfs), Some(-16.0));
        let defaults = Normalization::from_settings(&serde_json::json!({})).unwrap();
        assert_eq!(
            (defaults.algorithm, defaults.target_lkfs, defaults.corrects),
            (NormalizationAlgorithm::ItuBs1770_2, -23.0, true)
        );
        let ungated = Normalization::from_settings(&serde_json::json!({"Algorithm": "ITU_BS_1770_1"})).unwrap();
        assert_eq!(ungated.target_lkfs, -24.0);
        assert_eq!(Normalization::from_settings(&serde_json::json!({"Algorithm": "LOUDEST"})), None);
    }
}
