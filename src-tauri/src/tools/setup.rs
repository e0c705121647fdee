//! Apply and restore of a tool's configuration. Apply: read each file (a malformed one stops
//! everything, untouched), set the keys Switchyard owns, back the old file up (timestamped),
//! write the new one atomically (temp file + rename, permissions kept), and remember what was
//! there first and a digest of what was written (the gateway key stays in the tool's file
//! only). Restore: if the file is still what Switchyard wrote, put
//! the original back byte for byte (or remove a file Switchyard created); if the user changed
//! it since, give Switchyard's keys that still hold what it wrote their first values back and
//! keep every edit of the user's.
//! Drift: a key Switchyard owns no longer holds what it wrote.

use super::catalog::ToolSpec;
use super::edit::EditError;
use super::Target;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    #[error("{path} {source}; it was left untouched")]
    Malformed { path: String, source: EditError },
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: String, source: std::io::Error },
    #[error("{0} is not set up by Switchyard: nothing to restore")]
    NotApplied(&'static str),
}

type Result<T> = std::result::Result<T, ToolsError>;

/// One file's state, for `tools status`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileStatus {
    pub path: String,
    pub exists: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolStatus {
    pub id: &'static str,
    pub name: &'static str,
    /// Its program is on PATH.
    pub installed: bool,
    /// Switchyard set it up (and has not restored it).
    pub applied: bool,
    /// Keys Switchyard owns whose value the user (or the tool) changed since.
    pub drift: Vec<String>,
    /// The model it asks for, as its config says now.
    pub model: Option<String>,
    pub files: Vec<FileStatus>,
    pub try_it: &'static str,
}

/// What apply changes (or would change, with --dry-run): a unified diff per file.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: &'static str,
    pub files: Vec<FilePlan>,
    /// What the user should know about where the tool now points (no gateway running).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilePlan {
    pub path: String,
    pub changed: bool,
    pub diff: String,
}

/// What Switchyard remembers of a tool it set up.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Applied {
    /// The gateway key made for the tool.
    key_id: Option<i64>,
    files: Vec<AppliedFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AppliedFile {
    path: String,
    /// The backup holding the file as it was before the first apply; None: there was none.
    original: Option<String>,
    /// SHA-256 of what apply wrote last (the text holds the tool's gateway key: it stays in
    /// the tool's file only, not a second time here).
    written_sha256: String,
    /// The keys owned, with the SHA-256 of the value written there.
    owned: Vec<(Vec<String>, String)>,
}

fn digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn value_digest(value: &Value) -> String {
    digest(&value.to_string())
}

pub struct ToolSetup {
    home: PathBuf,
    /// `DATA_DIR/tools`: what was applied, and the backups.
    dir: PathBuf,
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ToolsError + 'a {
    move |source| ToolsError::Io { action, path: path.display().to_string(), source }
}

fn read_text(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// Writes through a temp file in the same folder and a rename, keeping the old file's
/// permissions (new files: readable by the user only, as they hold a key).
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io("create the folder of", path))?;
    }
    let tmp = path.with_extension("switchyard-tmp");
    std::fs::write(&tmp, text).map_err(io("write", &tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o600);
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
            .map_err(io("set permissions of", &tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io("replace", path))
}

fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(2).header(path, path).to_string()
}

fn now_stamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!("[year][month][day]-[hour][minute][second]"))
        .unwrap_or_default()
}

impl ToolSetup {
    pub fn new(home: &Path, data_dir: &Path) -> Self {
        Self { home: home.to_path_buf(), dir: data_dir.join("tools") }
    }

    fn file(&self, relative: &str) -> PathBuf {
        self.home.join(relative)
    }

    fn shown(relative: &str) -> String {
        format!("~/{relative}")
    }

    fn state_path(&self, spec: &ToolSpec) -> PathBuf {
        self.dir.join(format!("{}.json", spec.id))
    }

    fn load(&self, spec: &ToolSpec) -> Result<Option<Applied>> {
        let path = self.state_path(spec);
        Ok(read_text(&path)?.and_then(|text| serde_json::from_str(&text).ok()))
    }

    fn save(&self, spec: &ToolSpec, applied: &Applied) -> Result<()> {
        let path = self.state_path(spec);
        let text = serde_json::to_string_pretty(applied).unwrap_or_default();
        write_atomic(&path, &text)
    }

    /// The gateway key Switchyard made for this tool, if it set the tool up.
    pub fn key_id(&self, spec: &ToolSpec) -> Option<i64> {
        self.load(spec).ok().flatten().and_then(|a| a.key_id)
    }

    /// The gateway key the tool's config holds now (the value of the owned key that carries
    /// the key).
    pub fn current_key(&self, spec: &ToolSpec) -> Option<String> {
        self.current_part(spec, |t| &mut t.key)
    }

    /// The part of the target that `field` picks, as the tool's config holds it now.
    fn current_part(&self, spec: &ToolSpec, field: fn(&mut Target) -> &mut String) -> Option<String> {
        let (file, key, inner, prefix) = probe_key(spec, field)?;
        let value = self.current(spec, file, key).ok().flatten()?;
        let value = inner.iter().try_fold(&value, |v, name| v.get(name))?;
        value.as_str()?.strip_prefix(prefix.as_str()).map(str::to_string)
    }

    /// The value of one owned key as the tool's file says now.
    pub fn current(&self, spec: &ToolSpec, file: usize, key: &[&str]) -> Result<Option<Value>> {
        let f = &spec.files[file];
        let path = self.file(f.path);
        match read_text(&path)? {
            None => Ok(None),
            Some(text) => {
                f.format.read(&text, key).map_err(|source| ToolsError::Malformed { path: Self::shown(f.path), source })
            }
        }
    }

    pub fn status(&self, spec: &'static ToolSpec) -> Result<ToolStatus> {
        let applied = self.load(spec)?;
        let mut drift = Vec::new();
        let mut files = Vec::new();
        for f in spec.files {
            let path = self.file(f.path);
            let text = read_text(&path)?;
            files.push(FileStatus { path: Self::shown(f.path), exists: text.is_some() });
            let Some(done) = applied.as_ref().and_then(|a| a.files.iter().find(|d| d.path == f.path)) else { continue };
            for (key, wrote) in &done.owned {
                let key: Vec<&str> = key.iter().map(String::as_str).collect();
                let now = text.as_deref().and_then(|t| f.format.read(t, &key).ok().flatten());
                if now.as_ref().map(value_digest).as_ref() != Some(wrote) {
                    drift.push(format!("{}: {}", Self::shown(f.path), key.join(".")));
                }
            }
        }
        let model = self.current_part(spec, |t| &mut t.model);
        Ok(ToolStatus {
            id: spec.id,
            name: spec.name,
            installed: spec.binaries.iter().any(|b| on_path(b)),
            applied: applied.is_some(),
            drift,
            model,
            files,
            try_it: spec.try_it,
        })
    }

    /// The new text of each file for `target`, with the current one (None: no file yet).
    fn compute(&self, spec: &ToolSpec, target: &Target) -> Result<Vec<(Option<String>, String)>> {
        let mut out = Vec::new();
        for f in spec.files {
            let old = read_text(&self.file(f.path))?;
            let malformed = |source| ToolsError::Malformed { path: Self::shown(f.path), source };
            let mut text = old.clone().unwrap_or_else(|| f.starts_as.to_string());
            f.format.check(&text).map_err(malformed)?;
            for (key, value) in (f.entries)(target) {
                text = f.format.write(&text, key, Some(&value)).map_err(malformed)?;
            }
            out.push((old, text));
        }
        Ok(out)
    }

    /// What apply would change, as diffs; nothing is written.
    pub fn plan(&self, spec: &'static ToolSpec, target: &Target) -> Result<Plan> {
        Ok(Self::plan_of(spec, &self.compute(spec, target)?))
    }

    fn plan_of(spec: &'static ToolSpec, computed: &[(Option<String>, String)]) -> Plan {
        let files = spec
            .files
            .iter()
            .zip(computed)
            .map(|(f, (old, new))| {
                let old = old.as_deref().unwrap_or("");
                FilePlan {
                    path: Self::shown(f.path),
                    changed: old != new,
                    diff: unified_diff(&Self::shown(f.path), old, new),
                }
            })
            .collect();
        Plan { id: spec.id, files, note: None }
    }

    /// Points the tool at `target`; `key_id` is the gateway key made for it.
    pub fn apply(&self, spec: &'static ToolSpec, target: &Target, key_id: Option<i64>) -> Result<Plan> {
        let computed = self.compute(spec, target)?;
        let plan = Self::plan_of(spec, &computed);
        let before = self.load(spec)?;
        std::fs::create_dir_all(self.dir.join("backups")).map_err(io("create", &self.dir))?;
        let stamp = now_stamp();
        let mut applied = Applied { key_id, files: Vec::new() };
        for (f, (old, new)) in spec.files.iter().zip(computed) {
            let path = self.file(f.path);
            let first = before.as_ref().and_then(|b| b.files.iter().find(|d| d.path == f.path));
            // A timestamped backup of every file replaced (but one that is just what Switchyard
            // wrote last: nothing of the user's is in it); the first one is the original.
            let ours = first.is_some_and(|first| old.as_deref().map(digest).as_ref() == Some(&first.written_sha256));
            let backup = match &old {
                Some(text) if !ours => {
                    let base = format!("{}-{}-{stamp}", spec.id, f.path.replace('/', "_"));
                    // Never over an earlier backup (two applies in one second).
                    let name = (0..)
                        .map(|n| if n == 0 { base.clone() } else { format!("{base}.{n}") })
                        .find(|name| !self.dir.join("backups").join(name).exists())
                        .unwrap_or(base);
                    write_atomic(&self.dir.join("backups").join(&name), text)?;
                    Some(name)
                }
                _ => None,
            };
            let original = match first {
                Some(first) => first.original.clone(),
                None => backup,
            };
            if old.as_deref() != Some(new.as_str()) {
                write_atomic(&path, &new)?;
            }
            let owned = (f.entries)(target)
                .into_iter()
                .map(|(key, value)| (key.iter().map(|k| k.to_string()).collect(), value_digest(&value)))
                .collect();
            let written_sha256 = digest(&new);
            applied.files.push(AppliedFile { path: f.path.to_string(), original, written_sha256, owned });
        }
        self.save(spec, &applied)?;
        Ok(plan)
    }

    /// Puts the tool's configuration back; returns what was done, one line a file.
    pub fn restore(&self, spec: &'static ToolSpec) -> Result<Vec<String>> {
        let applied = self.load(spec)?.ok_or(ToolsError::NotApplied(spec.name))?;
        let mut done = Vec::new();
        for file in &applied.files {
            let Some(f) = spec.files.iter().find(|f| f.path == file.path) else { continue };
            let path = self.file(f.path);
            let shown = Self::shown(f.path);
            let original = match &file.original {
                Some(name) => Some(
                    std::fs::read_to_string(self.dir.join("backups").join(name))
                        .map_err(io("read the backup of", &path))?,
                ),
                None => None,
            };
            let now = read_text(&path)?;
            if now.as_deref().map(digest).is_none_or(|now| now == file.written_sha256) {
                match &original {
                    Some(text) => {
                        write_atomic(&path, text)?;
                        done.push(format!("{shown}: put back as it was"));
                    }
                    None => {
                        if now.is_some() {
                            std::fs::remove_file(&path).map_err(io("remove", &path))?;
                        }
                        done.push(format!("{shown}: removed (Switchyard had created it)"));
                    }
                }
                continue;
            }
            // Changed since: the keys still holding what Switchyard wrote go back to what they
            // were; the rest, and keys the user set anew, stay as the user left them.
            let malformed = |source| ToolsError::Malformed { path: shown.clone(), source };
            let mut text = now.unwrap_or_default();
            for (key, wrote) in &file.owned {
                let key: Vec<&str> = key.iter().map(String::as_str).collect();
                if f.format.read(&text, &key).map_err(malformed)?.as_ref().map(value_digest).as_ref() != Some(wrote) {
                    continue;
                }
                let first = match &original {
                    Some(o) => f.format.read(o, &key).map_err(malformed)?,
                    None => None,
                };
                text = f.format.write(&text, &key, first.as_ref()).map_err(malformed)?;
            }
            write_atomic(&path, &text)?;
            done.push(format!("{shown}: Switchyard's keys put back; your other changes kept"));
        }
        std::fs::remove_file(self.state_path(spec)).map_err(io("remove", &self.state_path(spec)))?;
        Ok(done)
    }
}

/// Where the part of the target that `field` picks is written: the file, the key, the names
/// inside the key's value (a list element's `apiKey`), and the fixed prefix before it
/// (OpenCode's `switchyard/MODEL`).
type Probe = (usize, &'static [&'static str], Vec<String>, String);

fn probe_key(spec: &ToolSpec, field: fn(&mut Target) -> &mut String) -> Option<Probe> {
    const MARK: &str = "\u{0}switchyard-probe";
    fn find(value: &Value, inner: &mut Vec<String>) -> Option<String> {
        match value {
            Value::String(s) => Some(s.strip_suffix(MARK)?.to_string()),
            // A name made of the target (OpenCode's `models.MODEL`) is no place to read it back.
            Value::Object(map) => map.iter().filter(|(name, _)| !name.contains(MARK)).find_map(|(name, v)| {
                inner.push(name.clone());
                let found = find(v, inner);
                if found.is_none() {
                    inner.pop();
                }
                found
            }),
            _ => None,
        }
    }
    let mut probe = Target { base_url: String::new(), key: String::new(), model: String::new() };
    *field(&mut probe) = MARK.into();
    spec.files.iter().enumerate().find_map(|(i, f)| {
        (f.entries)(&probe).into_iter().find_map(|(k, v)| {
            let mut inner = Vec::new();
            let prefix = find(&v, &mut inner)?;
            Some((i, k, inner, prefix))
        })
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::catalog::find;

    fn target() -> Target {
        Target { base_url: "http://127.0.0.1:20130".into(), key: "sk-sy-test".into(), model: "coding".into() }
    }

    #[test]
    fn apply_changes_only_owned_keys_and_restore_is_byte_identical() {
        let home = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let setup = ToolSetup::new(home.path(), data.path());
        let original = "{\n  // mine\n  \"theme\": \"dark\",\n  \"env\": {\"KEEP\": \"1\"}\n}\n";
        std::fs::create_dir_all(home.path().join(".claude")).unwrap();
        std::fs::write(home.path().join(".claude/settings.json"), original).unwrap();
        let spec = find("claude-code").unwrap();
        let plan = setup.apply(spec, &target(), Some(3)).unwrap();
        assert!(plan.files[0].changed && plan.files[0].diff.contains("+"), "{:?}", plan);
        let written = std::fs::read_to_string(home.path().join(".claude/settings.json")).unwrap();
        assert!(written.contains("// mine") && written.contains("\"KEEP\": \"1\"") && written.contains("sk-sy-test"));
        // Twice: the same file.
        setup.apply(spec, &target(), Some(3)).unwrap();
        assert_eq!(std::fs::read_to_string(home.path().join(".claude/settings.json")).unwrap(), written);
        let status = setup.status(spec).unwrap();
        assert!(status.applied && status.drift.is_empty() && status.model.as_deref() == Some("coding"));
        assert_eq!(setup.key_id(spec), Some(3));
        setup.restore(spec).unwrap();
        assert_eq!(std::fs::read_to_string(home.path().join(".claude/settings.json")).unwrap(), original);
        assert!(matches!(setup.restore(spec), Err(ToolsError::NotApplied(_))));
    }

    #[test]
    fn drift_is_seen_and_restore_keeps_the_users_later_edits() {
        let home = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let setup = ToolSetup::new(home.path(), data.path());
        let spec = find("codex").unwrap();
        let path = home.path().join(".codex/config.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "# mine\nmodel = \"o3\"\n").unwrap();
        setup.apply(spec, &target(), None).unwrap();
        let edited = std::fs::read_to_string(&path).unwrap().replace("model = \"coding\"", "model = \"other\"")
            + "\n[profiles.x]\nmodel = \"y\"\n";
        std::fs::write(&path, &edited).unwrap();
        assert_eq!(setup.status(spec).unwrap().drift, vec!["~/.codex/config.toml: model".to_string()]);
        setup.restore(spec).unwrap();
        let back = std::fs::read_to_string(&path).unwrap();
        assert!(
            back.contains("model = \"other\"") && back.contains("[profiles.x]") && !back.contains("switchyard"),
            "{back}"
        );
    }

    #[test]
    fn a_file_switchyard_created_is_removed_again_and_malformed_ones_stay_untouched() {
        let home = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let setup = ToolSetup::new(home.path(), data.path());
        let spec = find("gemini-cli").unwrap();
        std::fs::create_dir_all(home.path().join(".gemini")).unwrap();
        std::fs::write(home.path().join(".gemini/settings.json"), "{ \"broken\": ").unwrap();
        let e = setup.apply(spec, &target(), None).unwrap_err().to_string();
        assert!(e.contains("~/.gemini/settings.json") && e.contains("left untouched"), "{e}");
        assert!(!home.path().join(".gemini/.env").exists());
        std::fs::remove_file(home.path().join(".gemini/settings.json")).unwrap();
        setup.apply(spec, &target(), None).unwrap();
        assert!(home.path().join(".gemini/.env").exists());
        setup.restore(spec).unwrap();
        assert!(!home.path().join(".gemini/.env").exists() && !home.path().join(".gemini/settings.json").exists());
    }
}
