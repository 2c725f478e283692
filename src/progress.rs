//! What `mediaflow process` shows while its executions run: how many there are and how many
//! still run, and a bar for each MediaConvert job with its `jobPercentComplete`. A terminal gets
//! indicatif's bars; anywhere else (a log, CI) each change of status is one plain line.

use std::collections::BTreeMap;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mediaflow_core::keys::s3_location;
use mediaflow_standins::mediaconvert::JobProgress;

pub struct Progress {
    multi: MultiProgress,
    executions: ProgressBar,
    jobs: BTreeMap<String, ProgressBar>,
    /// Without a terminal: what was last written for each line's subject.
    written: BTreeMap<String, String>,
}

impl Progress {
    /// Bars drawn to `target`; plain lines on standard error when it is hidden.
    pub fn new(target: ProgressDrawTarget) -> Progress {
        let multi = MultiProgress::with_draw_target(target);
        let executions = multi.add(ProgressBar::new_spinner());
        executions.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
        Progress { multi, executions, jobs: BTreeMap::new(), written: BTreeMap::new() }
    }

    fn drawn(&self) -> bool {
        !self.multi.is_hidden()
    }

    fn line(&mut self, subject: &str, text: String) {
        if self.written.get(subject) != Some(&text) {
            eprintln!("{text}");
            self.written.insert(subject.to_string(), text);
        }
    }

    pub fn executions(&mut self, total: usize, running: usize) {
        let text = format!("{total} executions, {running} running");
        if self.drawn() {
            self.executions.set_message(text);
            self.executions.tick();
        } else {
            self.line("executions", text);
        }
    }

    /// The jobs as they stand: a bar each, named by the upload it transcodes.
    pub fn jobs(&mut self, jobs: &[JobProgress]) {
        for job in jobs {
            // `s3://bucket/inputs/talk.mp4` reads as the key it was uploaded under.
            let upload = s3_location(&job.input).map_or(&*job.input, |(_, key)| key);
            let ended = matches!(job.status.as_str(), "COMPLETE" | "ERROR" | "CANCELED");
            if !self.drawn() {
                self.line(&job.id, format!("transcoding {upload}: {}", job.status));
                continue;
            }
            let bar = self.jobs.entry(job.id.clone()).or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new(100));
                bar.set_style(
                    ProgressStyle::with_template("  {prefix} [{bar:30}] {pos:>3}% {msg}")
                        .expect("a valid template")
                        .progress_chars("=> "),
                );
                bar.set_prefix(format!("transcoding {upload}"));
                bar
            });
            if bar.is_finished() {
                continue;
            }
            bar.set_position(job.percent.into());
            if ended {
                bar.finish_with_message(job.status.clone());
            } else {
                bar.set_message(job.status.clone());
            }
        }
    }

    /// Takes the bars away, for the traces that follow.
    pub fn finish(&self) {
        self.executions.finish_and_clear();
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use indicatif::InMemoryTerm;

    use super::*;

    fn job(status: &str, percent: u32) -> JobProgress {
        JobProgress { id: "1".into(), input: "s3://watch/inputs/talk.mp4".into(), status: status.into(), percent }
    }

    #[test]
    fn a_terminal_shows_each_job_with_its_percent() {
        let term = InMemoryTerm::new(10, 100);
        let mut progress = Progress::new(ProgressDrawTarget::term_like(Box::new(term.clone())));
        progress.executions(2, 1);
        progress.jobs(&[job("PROGRESSING", 40)]);
        progress.multi.suspend(|| {});
        let shown = term.contents();
        assert!(shown.contains("2 executions, 1 running"), "{shown}");
        assert!(shown.contains("transcoding inputs/talk.mp4") && shown.contains(" 40% PROGRESSING"), "{shown}");

        progress.jobs(&[job("COMPLETE", 100)]);
        progress.multi.suspend(|| {});
        let shown = term.contents();
        assert!(shown.contains("100% COMPLETE"), "{shown}");
        progress.finish();
        assert!(!term.contents().contains("transcoding"), "the bars are cleared: {}", term.contents());
    }
}
