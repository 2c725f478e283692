//! Where a running execution is, at every level: the state each branch or item is in with its
//! input, which branches and items have succeeded, and the token a waiting Task holds. It is
//! the same shape a redrive starts from ([`Resume`]), so one tree serves three ends: a stop or
//! time-out knows where to redrive, the journal keeps it at every transition, and a restart
//! resumes from it.

use serde_json::Value;

use super::execution::{Branch, Resume};

/// A place in the tree: the branch or item index at each Parallel or Map on the way down; the
/// state machine itself is `[]`.
pub(super) type Path = Vec<usize>;

#[derive(Debug)]
pub(super) struct Progress {
    root: Branch,
}

impl Progress {
    /// Progress from where a run starts: its resume point, or nothing yet.
    pub(super) fn new(from: Option<Resume>) -> Progress {
        Progress { root: Branch::Unfinished(from) }
    }

    /// Where a resumed or redriven run would start: the top-level state in flight and, within
    /// it, every branch's own point.
    pub(super) fn resume(&self) -> Option<Resume> {
        match &self.root {
            Branch::Unfinished(r) => r.clone(),
            Branch::Succeeded(_) => None,
        }
    }

    /// The tree as the journal keeps it.
    pub(super) fn snapshot(&self) -> &Branch {
        &self.root
    }

    fn node(&mut self, path: &[usize]) -> Option<&mut Branch> {
        let mut node = &mut self.root;
        for &i in path {
            node = match node {
                Branch::Unfinished(Some(r)) => r.fan_out.as_mut()?.get_mut(i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The run at `path` entered `state` with `input`.
    pub(super) fn enter(&mut self, path: &[usize], state: &str, input: &Value) {
        if let Some(node) = self.node(path) {
            let at = Resume { state: state.to_string(), input: input.clone(), fan_out: None, token: None };
            *node = Branch::Unfinished(Some(at));
        }
    }

    /// The Parallel or Map at `path` starts its branches or items as `plan` says.
    pub(super) fn fan_out(&mut self, path: &[usize], plan: &[Branch]) {
        if let Some(Branch::Unfinished(Some(at))) = self.node(path) {
            at.fan_out = Some(plan.to_vec());
        }
    }

    /// The branch or item at `path` succeeded with `output`.
    pub(super) fn succeeded(&mut self, path: &[usize], output: &Value) {
        if let Some(node) = self.node(path) {
            *node = Branch::Succeeded(output.clone());
        }
    }

    /// The Task at `path` waits on `token`.
    pub(super) fn token(&mut self, path: &[usize], token: &str) {
        if let Some(Branch::Unfinished(Some(at))) = self.node(path) {
            at.token = Some(token.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_tree_follows_branches_and_keeps_tokens() {
        let mut p = Progress::new(None);
        p.enter(&[], "Media", &json!({"a": 1}));
        p.fan_out(&[], &[Branch::Unfinished(None), Branch::Unfinished(None)]);
        p.enter(&[0], "Transcode", &json!({"b": 2}));
        p.token(&[0], "t-1");
        p.enter(&[1], "SaveFrame", &json!({}));
        p.succeeded(&[1], &json!({"thumbnail": {}}));
        let at = p.resume().unwrap();
        assert_eq!(at.state, "Media");
        let branches = at.fan_out.clone().unwrap();
        let Branch::Unfinished(Some(first)) = &branches[0] else { panic!("{branches:?}") };
        assert_eq!((first.state.as_str(), first.token.as_deref()), ("Transcode", Some("t-1")));
        assert_eq!(branches[1], Branch::Succeeded(json!({"thumbnail": {}})));
        // A redrive does not wait on a token of the run it redrives.
        let redriven = at.without_tokens();
        let Some(Branch::Unfinished(Some(first))) = redriven.fan_out.as_ref().map(|b| b[0].clone()) else { panic!() };
        assert_eq!(first.token, None);
        // The next top-level state forgets the branches.
        p.enter(&[], "SaveMetadata", &json!({}));
        assert_eq!(p.resume().unwrap().fan_out, None);
        // A path that is not in the tree changes nothing.
        p.enter(&[3, 1], "Nowhere", &json!({}));
        assert_eq!(p.resume().unwrap().state, "SaveMetadata");
    }
}
