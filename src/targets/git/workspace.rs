//! The fabric's working clone and the libgit2 operations on it. The clone is bare: commits are
//! built from trees in memory on top of the fetched branch tip, so there is no checkout to
//! get dirty and files outside the fabric's folder are carried over untouched by construction.
//! Everything here blocks; callers run it on a blocking thread.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{
    Direction, FetchOptions, FileMode, ObjectType, Oid, PushOptions, Remote, Repository, Signature,
    Tree, build::TreeUpdateBuilder,
};

use super::credentials::Credentials;
use super::error::{GitError, Redactor};
use super::layout::{KUSTOMIZATION, Layout, Plan};

/// A remote that stops answering must not hold the repository lock (which is renewed while
/// held) forever: libgit2's socket timeouts bound every connect and every read or write.
const CONNECT_TIMEOUT_MS: i32 = 15_000;
const IO_TIMEOUT_MS: i32 = 60_000;

fn set_network_timeouts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2's global options must not change while another thread runs a git
        // operation; this runs once, before the first operation of this module, and nothing
        // else in the crate uses libgit2.
        let set = unsafe {
            git2::opts::set_server_connect_timeout_in_milliseconds(CONNECT_TIMEOUT_MS)
                .and_then(|()| git2::opts::set_server_timeout_in_milliseconds(IO_TIMEOUT_MS))
        };
        if let Err(error) = set {
            tracing::warn!(%error, "cannot set libgit2's network timeouts");
        }
    });
}

/// Where the fetched tip is remembered in the working clone.
const TRACKING_PREFIX: &str = "refs/remotes/origin/";

pub struct Workspace {
    repo: Repository,
    url: String,
    branch: String,
    credentials: Credentials,
    redactor: Redactor,
}

impl Workspace {
    /// Opens the working clone in `dir`, creating it (bare) the first time.
    pub fn open(
        dir: &Path,
        url: &str,
        branch: &str,
        credentials: Credentials,
    ) -> Result<Self, GitError> {
        check_branch(branch)?;
        set_network_timeouts();
        let redactor = credentials.redactor();
        let repo = match Repository::open_bare(dir) {
            Ok(repo) => repo,
            Err(error) => {
                // The clone is only a cache of the remote: a broken one is rebuilt.
                if dir.exists() {
                    tracing::warn!(
                        workdir = %dir.display(),
                        error = %redactor.redact(error.message()),
                        "rebuilding the working clone"
                    );
                    std::fs::remove_dir_all(dir).map_err(|e| {
                        GitError::Config(format!("cannot clear {}: {e}", dir.display()))
                    })?;
                }
                std::fs::create_dir_all(dir).map_err(|e| {
                    GitError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
                Repository::init_bare(dir)
                    .map_err(|e| redactor.local(&format!("working clone {}", dir.display()), &e))?
            }
        };
        Ok(Self {
            repo,
            url: url.to_owned(),
            branch: branch.to_owned(),
            credentials,
            redactor,
        })
    }

    fn branch_ref(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    /// An anonymous remote: the URL (which may carry a user name) is never written to the
    /// clone's config on disk.
    fn remote(&self) -> Result<Remote<'_>, GitError> {
        self.repo
            .remote_anonymous(&self.url)
            .map_err(|e| self.redactor.network("remote URL", &e))
    }

    /// Fetches the branch and returns its tip, `None` when the remote has no such branch yet.
    pub fn fetch(&self) -> Result<Option<Oid>, GitError> {
        let mut remote = self.remote()?;
        let mut options = FetchOptions::new();
        options.remote_callbacks(self.credentials.callbacks());
        let refspec = format!("+{}:{TRACKING_PREFIX}{}", self.branch_ref(), self.branch);
        remote
            .fetch(&[refspec.as_str()], Some(&mut options), None)
            .map_err(|e| self.redactor.network("fetch", &e))?;
        let wanted = self.branch_ref();
        let tip = remote
            .list()
            .map_err(|e| self.redactor.network("fetch", &e))?
            .iter()
            .find(|head| head.name() == wanted)
            .map(|head| head.oid());
        let tracking = format!("{TRACKING_PREFIX}{}", self.branch);
        match tip {
            Some(oid) => {
                self.repo
                    .reference(&tracking, oid, true, "fetch")
                    .map_err(|e| self.redactor.local("remember the fetched tip", &e))?;
            }
            // The branch is gone (or never was): forget a stale tip.
            None => {
                if let Ok(mut stale) = self.repo.find_reference(&tracking) {
                    stale
                        .delete()
                        .map_err(|e| self.redactor.local("forget the stale tip", &e))?;
                }
            }
        }
        Ok(tip)
    }

    /// The tree of `commit`, or the empty tree for an empty branch.
    pub(crate) fn tree_of(&self, commit: Option<Oid>) -> Result<Tree<'_>, GitError> {
        let local = |e: git2::Error| self.redactor.local("read the tip", &e);
        let id = match commit {
            Some(id) => self.repo.find_commit(id).map_err(local)?.tree_id(),
            None => self
                .repo
                .treebuilder(None)
                .and_then(|b| b.write())
                .map_err(local)?,
        };
        self.repo.find_tree(id).map_err(local)
    }

    /// The managed files under the fabric's folder (relative path → content).
    pub(crate) fn managed_files(
        &self,
        tree: &Tree<'_>,
        layout: &Layout,
    ) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
        let local = |e: git2::Error| self.redactor.local("read the fabric's folder", &e);
        let mut files = BTreeMap::new();
        let folder = if layout.root().is_empty() {
            tree.clone()
        } else {
            match tree.get_path(Path::new(layout.root())) {
                Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
                    self.repo.find_tree(entry.id()).map_err(local)?
                }
                Ok(_) => {
                    return Err(GitError::Content(format!(
                        "`{}` in the repository is a file, not a folder",
                        layout.root()
                    )));
                }
                Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(files),
                Err(e) => return Err(local(e)),
            }
        };
        for entry in folder.iter() {
            let Ok(name) = entry.name() else { continue };
            match entry.kind() {
                Some(ObjectType::Blob) if name == KUSTOMIZATION => {
                    files.insert(name.to_owned(), self.blob(entry.id())?);
                }
                Some(ObjectType::Tree) => {
                    let sub = self.repo.find_tree(entry.id()).map_err(local)?;
                    for file in sub.iter() {
                        let Ok(file_name) = file.name() else { continue };
                        let relative = format!("{name}/{file_name}");
                        if file.kind() == Some(ObjectType::Blob)
                            && Layout::key_of(&relative).is_some()
                        {
                            files.insert(relative, self.blob(file.id())?);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(files)
    }

    fn blob(&self, id: Oid) -> Result<Vec<u8>, GitError> {
        self.repo
            .find_blob(id)
            .map(|b| b.content().to_vec())
            .map_err(|e| self.redactor.local("read a file", &e))
    }

    /// `base` with the plan's writes and removals applied inside the fabric's folder.
    pub(crate) fn apply_plan(
        &self,
        base: &Tree<'_>,
        layout: &Layout,
        plan: &Plan,
    ) -> Result<Oid, GitError> {
        let local = |e: git2::Error| self.redactor.local("build the new tree", &e);
        let mut update = TreeUpdateBuilder::new();
        for (relative, content) in &plan.writes {
            let blob = self.repo.blob(content.as_bytes()).map_err(local)?;
            update.upsert(layout.full(relative), blob, FileMode::Blob);
        }
        for relative in &plan.removals {
            update.remove(layout.full(relative));
        }
        update.create_updated(&self.repo, base).map_err(local)
    }

    /// A unified diff of the fabric's folder between two trees.
    pub fn diff(&self, old: &Tree<'_>, new: Oid, layout: &Layout) -> Result<String, GitError> {
        let local = |e: git2::Error| self.redactor.local("diff", &e);
        let new = self.repo.find_tree(new).map_err(local)?;
        let mut options = git2::DiffOptions::new();
        if !layout.root().is_empty() {
            options.pathspec(format!("{}/", layout.root()));
        }
        let diff = self
            .repo
            .diff_tree_to_tree(Some(old), Some(&new), Some(&mut options))
            .map_err(local)?;
        let mut text = String::new();
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                text.push(line.origin());
            }
            text.push_str(&String::from_utf8_lossy(line.content()));
            true
        })
        .map_err(local)?;
        Ok(text)
    }

    /// Commits `tree` on top of `parent` (the local branch ref follows; the remote does not).
    pub fn commit(
        &self,
        parent: Option<Oid>,
        tree: Oid,
        author: &Signature<'_>,
        message: &str,
    ) -> Result<Oid, GitError> {
        let local = |e: git2::Error| self.redactor.local("commit", &e);
        let tree = self.repo.find_tree(tree).map_err(local)?;
        let parent = parent
            .map(|id| self.repo.find_commit(id))
            .transpose()
            .map_err(local)?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self
            .repo
            .commit(None, author, author, message, &tree, &parents)
            .map_err(local)?;
        self.repo
            .reference(&self.branch_ref(), id, true, "hedgehog-sidecar commit")
            .map_err(local)?;
        Ok(id)
    }

    /// Pushes the local branch. A non-fast-forward (checked by libgit2 or refused by the
    /// server) is [`GitError::Rejected`], so the caller can re-apply on the new tip.
    pub fn push(&self) -> Result<(), GitError> {
        let mut remote = self.remote()?;
        let refused: RefCell<Option<String>> = RefCell::new(None);
        let mut callbacks = self.credentials.callbacks();
        callbacks.push_update_reference(|reference, status| {
            if let Some(status) = status {
                *refused.borrow_mut() = Some(format!("{reference}: {status}"));
            }
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        let refspec = format!("{0}:{0}", self.branch_ref());
        remote
            .push(&[refspec.as_str()], Some(&mut options))
            .map_err(|e| self.redactor.network("push", &e))?;
        drop(options);
        match refused.into_inner() {
            Some(reason) => Err(GitError::Rejected(
                self.redactor.redact(&format!("push rejected: {reason}")),
            )),
            None => {
                let tracking = format!("{TRACKING_PREFIX}{}", self.branch);
                let id = self
                    .repo
                    .refname_to_id(&self.branch_ref())
                    .map_err(|e| self.redactor.local("read the pushed commit", &e))?;
                self.repo
                    .reference(&tracking, id, true, "push")
                    .map_err(|e| self.redactor.local("remember the pushed tip", &e))?;
                Ok(())
            }
        }
    }
}

/// Connects to the remote with the credentials and lists its references: no clone needed.
pub(crate) fn check_remote(url: &str, credentials: &Credentials) -> Result<(), GitError> {
    set_network_timeouts();
    let redactor = credentials.redactor();
    let mut remote =
        Remote::create_detached(url).map_err(|e| redactor.network("remote URL", &e))?;
    let connection = remote
        .connect_auth(Direction::Fetch, Some(credentials.callbacks()), None)
        .map_err(|e| redactor.network("connect", &e))?;
    connection
        .list()
        .map_err(|e| redactor.network("list references", &e))?;
    Ok(())
}

fn check_branch(branch: &str) -> Result<(), GitError> {
    if git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
        Ok(())
    } else {
        Err(GitError::Config(format!(
            "git.branch `{branch}` is not a valid branch name"
        )))
    }
}

/// The working clone's folder: `git.workdir`, else `<data_dir>/git/<fabric>`.
pub fn workdir(configured: Option<&Path>, data_dir: &Path, fabric: &str) -> PathBuf {
    configured
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("git").join(fabric))
}
