//! `AudioNormalizationSettings` as ffmpeg's `loudnorm` does them: a first pass measures the
//! source's audio (once per job), a second applies the measured values with `linear=true`, so
//! the output lands on `targetLkfs`, its true peak under `truePeakLimiterThreshold`.

use mediaflow_core::loudness::{Normalization, NormalizationAlgorithm};
use serde_json::Value;

use super::{Request, Unsupported};

/// loudnorm's loudness-range target. MediaConvert has none, so the widest: a target below the
/// source's range would force loudnorm out of linear mode.
const LRA: f64 = 50.0;
/// loudnorm's ceiling when the job sets no limiter (its `TP` is at most 0 dBTP).
const NO_LIMIT: f64 = 0.0;

/// An output whose audio is normalized: `args[arg]` is its `-af` filter, first the one-pass
/// (dynamic) filter, replaced by [`Loudnorm::second_pass`] once the source is measured.
#[derive(Clone, Debug, PartialEq)]
pub struct LoudnessFix {
    pub arg: usize,
    pub target: Normalization,
    /// The output's sample rate, when the job sets one (loudnorm works at 192 kHz).
    pub sample_rate: Option<u64>,
}

/// Reads `{at}/audioNormalizationSettings`: the normalization to apply, `None` for none or for
/// `MEASURE_ONLY` (which changes nothing in the output).
pub(super) fn compile_normalization(r: &mut Request, at: &str) -> Result<Option<Normalization>, Unsupported> {
    let at = format!("{at}/audioNormalizationSettings");
    if r.at(&at).is_none() {
        return Ok(None);
    }
    // BS.1770-1 has no gate; loudnorm measures with BS.1770's gate (as -2, -3 and -4 do).
    let algorithm = match r.choice(&format!("{at}/algorithm"), &["ITU_BS_1770_2", "ITU_BS_1770_3", "ITU_BS_1770_4"])? {
        Some("ITU_BS_1770_3") => NormalizationAlgorithm::ItuBs1770_3,
        Some("ITU_BS_1770_4") => NormalizationAlgorithm::ItuBs1770_4,
        _ => NormalizationAlgorithm::ItuBs1770_2,
    };
    let control = r.choice(&format!("{at}/algorithmControl"), &["CORRECT_AUDIO", "MEASURE_ONLY"])?;
    r.choice(&format!("{at}/peakCalculation"), &["TRUE_PEAK", "NONE"])?;
    r.choice(&format!("{at}/loudnessLogging"), &["DONT_LOG"])?;
    // -70 LKFS is BS.1770's own absolute gate, which loudnorm applies.
    if r.float(&format!("{at}/correctionGateLevel"))?.is_some_and(|g| g != -70.0) {
        return Err(r.unsupported(&format!("{at}/correctionGateLevel")));
    }
    let target_at = format!("{at}/targetLkfs");
    let target_lkfs = r.float(&target_at)?.unwrap_or(algorithm.default_target_lkfs());
    // MediaConvert takes -59…0, loudnorm -70…-5.
    if !(-59.0..=-5.0).contains(&target_lkfs) {
        return Err(r.unsupported(&target_at));
    }
    let limit_at = format!("{at}/truePeakLimiterThreshold");
    let true_peak_limit_dbtp = r.float(&limit_at)?;
    if true_peak_limit_dbtp.is_some_and(|l| !(-8.0..=0.0).contains(&l)) {
        return Err(r.unsupported(&limit_at));
    }
    let corrects = control.unwrap_or("CORRECT_AUDIO") == "CORRECT_AUDIO";
    Ok(corrects.then_some(Normalization { algorithm, corrects, target_lkfs, true_peak_limit_dbtp }))
}

/// What loudnorm's first pass measured of the source (its `print_format=json` block).
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub input_i: f64,
    pub input_tp: f64,
    pub input_lra: f64,
    pub input_thresh: f64,
    /// What the pass's own dynamic run missed its target by (`target_offset`).
    pub target_offset: f64,
    /// The second pass's output loudness (`output_i`): how a calibration run landed.
    pub output_i: f64,
}

impl Measured {
    /// The last JSON block loudnorm prints in `log`. `None` when there is none, or for a
    /// silent source (its loudness is minus infinity: nothing to bring up).
    pub fn parse(log: &str) -> Option<Measured> {
        let start = log.rfind("\n{").map_or_else(|| log.find('{'), |i| Some(i + 1))?;
        let end = start + log[start..].find('}')? + 1;
        let json: Value = serde_json::from_str(&log[start..end]).ok()?;
        let number = |name: &str| json.get(name)?.as_str()?.parse::<f64>().ok().filter(|v| v.is_finite());
        Some(Measured {
            input_i: number("input_i")?,
            input_tp: number("input_tp")?,
            input_lra: number("input_lra")?,
            input_thresh: number("input_thresh")?,
            target_offset: number("target_offset").unwrap_or(0.0),
            output_i: number("output_i").unwrap_or(f64::NAN),
        })
    }
}

/// One normalization's loudnorm filters.
#[derive(Clone, Debug, PartialEq)]
pub struct Loudnorm {
    pub target: f64,
    pub true_peak: f64,
}

impl Loudnorm {
    pub fn of(target: &Normalization) -> Loudnorm {
        Loudnorm { target: target.target_lkfs, true_peak: target.true_peak_limit_dbtp.unwrap_or(NO_LIMIT) }
    }

    fn targets(&self) -> String {
        format!("I={}:TP={}:LRA={LRA}", self.target, self.true_peak)
    }

    /// The first pass: measures, printing JSON.
    pub fn first_pass(&self) -> String {
        format!("loudnorm={}:print_format=json", self.targets())
    }

    /// The filter before a measurement: loudnorm in one (dynamic) pass.
    pub fn one_pass(&self) -> String {
        format!("loudnorm={}", self.targets())
    }

    /// The measured value of loudness range as passed on: loudnorm reads 0 as "not measured"
    /// and would leave linear mode for a source of steady loudness.
    fn lra_of(m: &Measured) -> f64 {
        m.input_lra.max(0.01)
    }

    /// Whether loudnorm's second pass will be linear (one gain for the whole file): its own
    /// rule, the gain must not lift the true peak above the limit.
    pub fn linear(&self, m: &Measured) -> bool {
        let offset_tp = m.input_tp + (self.target - m.input_i);
        m.input_thresh != -70.0 && m.input_i != 0.0 && offset_tp <= self.true_peak && Self::lra_of(m) <= LRA
    }

    /// The second pass with `measured`'s values and `offset` (the gain loudnorm adds in dynamic
    /// mode, before its limiter), then back to `sample_rate`; without one, it prints what it
    /// did (a calibration run, whose output is thrown away: loudnorm's 192 kHz output has no
    /// channel layout ffmpeg can resample without the `-ac` of an encoded output).
    pub fn second_pass(&self, m: &Measured, offset: f64, sample_rate: Option<u64>) -> String {
        let mut filter = format!(
            "loudnorm={}:measured_I={:.2}:measured_TP={:.2}:measured_LRA={:.2}:measured_thresh={:.2}:offset={offset:.2}:linear=true",
            self.targets(),
            m.input_i,
            m.input_tp,
            Self::lra_of(m),
            m.input_thresh,
        );
        match sample_rate {
            Some(rate) => filter.push_str(&format!(",aresample={rate}")),
            None => filter.push_str(":print_format=json"),
        }
        filter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST_PASS: &str = "[Parsed_loudnorm_0 @ 0x55d]\n{\n\t\"input_i\" : \"-34.30\",\n\t\"input_tp\" : \"-10.17\",\n\t\"input_lra\" : \"0.00\",\n\t\"input_thresh\" : \"-44.30\",\n\t\"output_i\" : \"-21.51\",\n\t\"output_tp\" : \"-1.00\",\n\t\"output_lra\" : \"0.50\",\n\t\"output_thresh\" : \"-31.51\",\n\t\"normalization_type\" : \"dynamic\",\n\t\"target_offset\" : \"5.51\"\n}\n";

    #[test]
    fn reads_loudnorms_json_and_a_silent_source_has_none() {
        let m = Measured::parse(FIRST_PASS).unwrap();
        assert_eq!((m.input_i, m.input_tp, m.input_lra, m.input_thresh), (-34.3, -10.17, 0.0, -44.3));
        assert_eq!((m.target_offset, m.output_i), (5.51, -21.51));
        assert_eq!(Measured::parse(&FIRST_PASS.replace("\"-34.30\"", "\"-inf\"")), None);
        assert_eq!(Measured::parse("no json here"), None);
    }

    #[test]
    fn the_second_pass_is_linear_when_the_gain_keeps_the_peak_under_the_limit() {
        let target = Normalization {
            algorithm: NormalizationAlgorithm::ItuBs1770_3,
            corrects: true,
            target_lkfs: -16.0,
            true_peak_limit_dbtp: Some(-1.0),
        };
        let loudnorm = Loudnorm::of(&target);
        assert_eq!(loudnorm.first_pass(), "loudnorm=I=-16:TP=-1:LRA=50:print_format=json");
        let quiet = Measured::parse(FIRST_PASS).unwrap();
        // +18.3 dB would take the -10.17 dBTP peak to +8.
        assert!(!loudnorm.linear(&quiet));
        let loud = Measured { input_i: -8.46, input_tp: -0.16, ..quiet.clone() };
        assert!(loudnorm.linear(&loud), "a steady source (LRA 0) stays linear");
        assert_eq!(
            loudnorm.second_pass(&loud, 0.0, Some(44100)),
            "loudnorm=I=-16:TP=-1:LRA=50:measured_I=-8.46:measured_TP=-0.16:measured_LRA=0.01:measured_thresh=-44.30:offset=0.00:linear=true,aresample=44100"
        );
        assert!(loudnorm.second_pass(&quiet, 5.51, None).ends_with(":offset=5.51:linear=true:print_format=json"));
        let unlimited = Loudnorm::of(&Normalization { true_peak_limit_dbtp: None, ..target });
        assert_eq!(unlimited.one_pass(), "loudnorm=I=-16:TP=0:LRA=50");
    }
}
