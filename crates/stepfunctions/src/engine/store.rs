//! Executions kept as JSON under the data folder, one file each
//! (`<dir>/<state machine>/<execution name>.json`), so that a later process can list and show
//! them and redrive a failed one; and while one runs, its journal beside it
//! (`<name>.journal`): every history event and, at every state transition, where each branch
//! is, appended and flushed to disk as it happens, so a crash loses nothing that completed and
//! the next start resumes the execution from there.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use mediaflow_arn::Arn;

use super::execution::{Branch, Execution, Resume};
use super::history::{History, HistoryEvent};

#[derive(Clone, Debug)]
pub struct ExecutionStore {
    dir: PathBuf,
    /// What [`ExecutionStore::summaries`] read, by file, with the file's stamp.
    summaries: Arc<Mutex<HashMap<PathBuf, (Stamp, Execution)>>>,
}

/// When a record file was last written, and its size: it changes with every save (a new
/// file is renamed into place).
type Stamp = (SystemTime, u64);

impl ExecutionStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ExecutionStore { dir: dir.into(), summaries: Arc::default() }
    }

    fn path(&self, state_machine: &str, name: &str) -> PathBuf {
        self.dir.join(state_machine).join(format!("{name}.json"))
    }

    fn journal_path(&self, execution: &Execution) -> PathBuf {
        self.path(machine_of(execution), &execution.name).with_extension("journal")
    }

    /// Writes the execution whole, or not at all (a temporary file renamed into place).
    pub fn save(&self, execution: &Execution) -> io::Result<()> {
        let path = self.path(machine_of(execution), &execution.name);
        mediaflow_endpoint::files::write_whole(&path, &serde_json::to_vec_pretty(execution)?)
    }

    pub fn load(&self, state_machine: &str, name: &str) -> io::Result<Execution> {
        read(&self.path(state_machine, name))
    }

    /// The execution of `arn` (`arn:aws:states:…:execution:<state machine>:<name>`).
    pub fn load_arn(&self, arn: &str) -> io::Result<Execution> {
        match Arn::parse(arn).and_then(|a| a.execution()) {
            Some((machine, name)) => self.load(machine, name),
            None => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{arn} is not an execution's ARN"))),
        }
    }

    /// The journal of `execution`'s run, to append to (created if new).
    pub fn journal(&self, execution: &Execution) -> io::Result<Journal> {
        let path = self.journal_path(execution);
        std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal { file: Mutex::new(file) })
    }

    /// What the journal of a running `execution` holds: the events recorded since its record
    /// was saved, and where it last was. A line cut short by a crash is the end of it.
    pub fn read_journal(&self, execution: &Execution) -> io::Result<(Vec<HistoryEvent>, Option<Resume>)> {
        let text = match std::fs::read_to_string(self.journal_path(execution)) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let (mut events, mut at) = (Vec::new(), None);
        for line in text.lines() {
            match serde_json::from_str::<Entry<HistoryEvent, Branch>>(line) {
                Ok(Entry::Event(event)) => events.push(event),
                Ok(Entry::At(Branch::Unfinished(resume))) => at = resume,
                Ok(Entry::At(Branch::Succeeded(_))) => at = None,
                Err(_) => break,
            }
        }
        Ok((events, at))
    }

    /// The journal is done with once the execution's record is saved as it ended.
    pub fn remove_journal(&self, execution: &Execution) {
        let _ = std::fs::remove_file(self.journal_path(execution));
    }

    /// Every execution kept, newest first.
    pub fn list(&self) -> io::Result<Vec<Execution>> {
        let mut all = self.records()?.iter().map(|path| read(path)).collect::<io::Result<Vec<_>>>()?;
        all.sort_by_key(|e| std::cmp::Reverse(e.start_date));
        Ok(all)
    }

    /// Every execution kept, newest first, without its history and output: what a listing
    /// shows (ListExecutions, the console's list, polled every few seconds). A record is read
    /// again only when its file has changed since the last call, so an unchanged one costs a
    /// `stat`, and what is held stays small however long the histories.
    pub fn summaries(&self) -> io::Result<Vec<Execution>> {
        let mut known = self.summaries.lock().unwrap();
        let mut now = HashMap::with_capacity(known.len());
        for path in self.records()? {
            let meta = match std::fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let stamp = (meta.modified()?, meta.len());
            let summary = match known.remove(&path) {
                Some((was, summary)) if was == stamp => summary,
                _ => summary_of(read(&path)?),
            };
            now.insert(path, (stamp, summary));
        }
        *known = now;
        let mut all: Vec<Execution> = known.values().map(|(_, summary)| summary.clone()).collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.start_date));
        Ok(all)
    }

    /// The path of every kept record.
    fn records(&self) -> io::Result<Vec<PathBuf>> {
        let mut paths = Vec::new();
        let machines = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(paths),
            Err(e) => return Err(e),
        };
        for machine in machines {
            for file in std::fs::read_dir(machine?.path())? {
                let path = file?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    paths.push(path);
                }
            }
        }
        Ok(paths)
    }
}

/// An execution as a listing needs it: all but its history and output.
fn summary_of(mut execution: Execution) -> Execution {
    execution.history = History::default();
    execution.output = None;
    execution
}

fn machine_of(execution: &Execution) -> &str {
    Arn::parse(&execution.state_machine_arn).and_then(|a| a.state_machine()).unwrap_or_default()
}

/// One line of a journal.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Entry<E, B> {
    Event(E),
    At(B),
}

/// An execution's journal, open for appending. Each entry is one line, written with one call
/// so that a crash cuts at most the last line short.
#[derive(Debug)]
pub struct Journal {
    file: Mutex<std::fs::File>,
}

impl Journal {
    pub(super) fn event(&self, event: &HistoryEvent) {
        self.append(&Entry::<&HistoryEvent, ()>::Event(event), false);
    }

    /// Where the execution is now; flushed to the disk, as a state transition is what a
    /// restart resumes from.
    pub(super) fn at(&self, at: &Branch) {
        self.append(&Entry::<(), &Branch>::At(at), true);
    }

    fn append<E: Serialize, B: Serialize>(&self, entry: &Entry<E, B>, sync: bool) {
        let mut line = serde_json::to_vec(entry).expect("journal entries serialise");
        line.push(b'\n');
        let mut file = self.file.lock().unwrap();
        let written = file.write_all(&line).and_then(|()| if sync { file.sync_data() } else { Ok(()) });
        if let Err(e) = written {
            eprintln!("mediaflow: could not write an execution's journal: {e}");
        }
    }
}

fn read(path: &Path) -> io::Result<Execution> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::engine::Status;

    fn execution(name: &str, status: Status, started: i64) -> Execution {
        let mut history = History::default();
        let event = crate::engine::Event::ExecutionStarted { input: "{}".into(), role_arn: String::new() };
        history.record(chrono::DateTime::from_timestamp(started, 0).unwrap(), event, None);
        Execution {
            arn: format!("arn:aws:states:us-east-1:123456789012:execution:sm:{name}"),
            name: name.into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
            input: json!({"detail": {"object": {"key": format!("inputs/{name}.mp4")}}}),
            status,
            start_date: chrono::DateTime::from_timestamp(started, 0).unwrap(),
            stop_date: None,
            output: Some(json!({"big": "document"})),
            failure: None,
            redrive_count: 0,
            resume: None,
            history,
        }
    }

    #[test]
    fn summaries_read_a_record_again_only_when_its_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = ExecutionStore::new(dir.path());
        store.save(&execution("old", Status::Succeeded, 100)).unwrap();
        store.save(&execution("new", Status::Failed, 200)).unwrap();
        let listed = store.summaries().unwrap();
        assert_eq!(listed.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["new", "old"]);
        assert!(listed.iter().all(|e| e.history.events.is_empty() && e.output.is_none()), "{listed:?}");
        assert_eq!(listed[1].input["detail"]["object"]["key"], "inputs/old.mp4");

        // The same size and time: not read again, so what was read stands.
        let path = store.path("sm", "old");
        let when = std::fs::metadata(&path).unwrap().modified().unwrap();
        let text = std::fs::read_to_string(&path).unwrap().replace("\"SUCCEEDED\"", "\"ABORTED\"  ");
        std::fs::write(&path, &text).unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(when).unwrap();
        assert_eq!(store.summaries().unwrap()[1].status, Status::Succeeded);
        // Written again: read again.
        let later = when + Duration::from_secs(1);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(later).unwrap();
        assert_eq!(store.summaries().unwrap()[1].status, Status::Aborted);

        std::fs::remove_file(store.path("sm", "new")).unwrap();
        assert_eq!(store.summaries().unwrap().len(), 1);
    }
}
