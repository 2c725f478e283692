//! Executions kept as JSON under the data folder, one file each
//! (`<dir>/<state machine>/<execution name>.json`), so that a later process can list and show
//! them and redrive a failed one; and while one runs, its journal beside it
//! (`<name>.journal`): every history event and, at every state transition, where each branch
//! is, appended and flushed to disk as it happens, so a crash loses nothing that completed and
//! the next start resumes the execution from there.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use mediaflow_core::arn::Arn;

use super::execution::{Branch, Execution, Resume};
use super::history::HistoryEvent;

#[derive(Clone, Debug)]
pub struct ExecutionStore {
    dir: PathBuf,
}

impl ExecutionStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ExecutionStore { dir: dir.into() }
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
        crate::files::write_whole(&path, &serde_json::to_vec_pretty(execution)?)
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
        let mut all = Vec::new();
        let machines = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(all),
            Err(e) => return Err(e),
        };
        for machine in machines {
            for file in std::fs::read_dir(machine?.path())? {
                let path = file?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    all.push(read(&path)?);
                }
            }
        }
        all.sort_by_key(|e| std::cmp::Reverse(e.start_date));
        Ok(all)
    }
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
