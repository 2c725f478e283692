//! Executions kept as JSON under the data folder, one file each
//! (`<dir>/<state machine>/<execution name>.json`), so that a later process can list and show
//! them and redrive a failed one.

use std::io;
use std::path::{Path, PathBuf};

use super::run::Execution;

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

    /// Writes the execution whole, or not at all (a temporary file renamed into place).
    pub fn save(&self, execution: &Execution) -> io::Result<()> {
        let machine = execution.state_machine_arn.rsplit(':').next().unwrap_or_default();
        let path = self.path(machine, &execution.name);
        std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, serde_json::to_vec_pretty(execution)?)?;
        std::fs::rename(partial, path)
    }

    pub fn load(&self, state_machine: &str, name: &str) -> io::Result<Execution> {
        read(&self.path(state_machine, name))
    }

    /// The execution of `arn` (`arn:aws:states:…:execution:<state machine>:<name>`).
    pub fn load_arn(&self, arn: &str) -> io::Result<Execution> {
        match arn.rsplit(':').collect::<Vec<_>>()[..] {
            [name, machine, "execution", ..] => self.load(machine, name),
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{arn} is not an execution's ARN"))),
        }
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

fn read(path: &Path) -> io::Result<Execution> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))
}
