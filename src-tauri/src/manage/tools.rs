//! Coding-tool setup as management operations: list, status, apply (with a dry run that only
//! shows the diff) and restore, for the CLI (`switchyard tools`), /api and the dashboard. Each
//! tool set up gets a gateway key of its own (kept across re-applies while its config still
//! holds it, revoked on restore) and a model that must resolve here.

use super::{ManageError, Manager, Result};
use crate::routing::RoutingState;
use crate::snapshot::ConfigSnapshot;
use crate::tools::{catalog, Target, ToolSetup, ToolsError, CATALOG};
use switchyard_api::{ToolPlan, ToolStatus};

impl From<ToolsError> for ManageError {
    fn from(e: ToolsError) -> Self {
        match e {
            ToolsError::NotApplied(_) => ManageError::Conflict(e.to_string()),
            _ => ManageError::Invalid(e.to_string()),
        }
    }
}

/// Stands for the key in a dry run (a real one is made on apply).
const KEY_PLACEHOLDER: &str = "sk-sy-(a new key, made on apply)";

fn spec(id: &str) -> Result<&'static catalog::ToolSpec> {
    catalog::find(id).ok_or_else(|| {
        let ids: Vec<&str> = CATALOG.iter().map(|t| t.id).collect();
        ManageError::NotFound(format!("no tool '{id}': Switchyard sets up {}", ids.join(", ")))
    })
}

impl Manager {
    fn tool_setup(&self) -> Result<ToolSetup> {
        let home = dirs::home_dir()
            .ok_or_else(|| ManageError::Invalid("no home folder: set HOME to set up coding tools".into()))?;
        Ok(ToolSetup::new(&home, self.data_dir()))
    }

    pub async fn tools_list(&self) -> Result<Vec<ToolStatus>> {
        let setup = self.tool_setup()?;
        CATALOG.iter().map(|spec| Ok(setup.status(spec)?.into())).collect()
    }

    pub async fn tool_status(&self, id: &str) -> Result<ToolStatus> {
        Ok(self.tool_setup()?.status(spec(id)?)?.into())
    }

    /// Points a tool at this gateway with `model` (default: the `default` alias, else the
    /// first combo), on `port` (the dashboard passes the one it is served on; the CLI passes
    /// None: the port of the gateway running on this data dir, else the `port` setting, which
    /// the plan's note says). A dry run changes nothing and shows the diff.
    pub async fn tool_apply(
        &self,
        id: &str,
        model: Option<&str>,
        port: Option<u16>,
        dry_run: bool,
    ) -> Result<ToolPlan> {
        let spec = spec(id)?;
        let setup = self.tool_setup()?;
        let config = ConfigSnapshot::load(self.store(), self.sealer()).await?;
        let model = match model.map(str::trim).filter(|m| !m.is_empty()) {
            Some(model) => model.to_string(),
            None => config
                .aliases
                .contains_key(crate::tools::DEFAULT_MODEL)
                .then(|| crate::tools::DEFAULT_MODEL.to_string())
                .or_else(|| config.combos.keys().min().cloned())
                .ok_or_else(|| {
                    ManageError::Invalid(
                        "choose the model the tool should use: --model PROVIDER/MODEL or a combo".into(),
                    )
                })?,
        };
        crate::routing::plan(&config, &RoutingState::default(), &model)
            .map_err(|e| ManageError::Invalid(format!("'{model}' cannot be used here: {e}")))?;
        let (port, note) = match port {
            Some(port) => (port, None),
            None => match crate::store::serving::current(&self.data_dir) {
                Some(serving) => (serving.port, None),
                None => {
                    let port = self.settings_in_force().await?.port;
                    let note = format!(
                        "no gateway is running on this data dir: the tool points at the port setting ({port}); start `switchyard serve` (or the app) before using it"
                    );
                    (port, Some(note))
                }
            },
        };
        let base_url = format!("http://127.0.0.1:{port}");
        // The files are read and checked before any key is made: a malformed one stops here.
        let preview = Target { base_url: base_url.clone(), key: KEY_PLACEHOLDER.into(), model: model.clone() };
        let mut plan = setup.plan(spec, &preview)?;
        if dry_run {
            plan.note = note;
            return Ok(plan.into());
        }
        // The key the tool already holds, while it is still a live key made for it.
        let held = setup.key_id(spec).and_then(|id| {
            let text = setup.current_key(spec)?;
            (config.key_id(&text) == Some(id)).then_some((id, text))
        });
        let (key_id, key, made) = match held {
            Some((id, text)) => (id, text, false),
            None => {
                let created = self.key_create(&format!("{} (tool setup)", spec.name)).await?;
                (created.record.id, created.key, true)
            }
        };
        let target = Target { base_url, key, model };
        match setup.apply(spec, &target, Some(key_id)) {
            Ok(plan) => Ok(ToolPlan { note, ..plan.into() }),
            Err(e) => {
                if made {
                    let _ = self.key_revoke(key_id).await;
                }
                Err(e.into())
            }
        }
    }

    /// Puts a tool's configuration back as it was and revokes the key made for it.
    pub async fn tool_restore(&self, id: &str) -> Result<Vec<String>> {
        let spec = spec(id)?;
        let setup = self.tool_setup()?;
        let key_id = setup.key_id(spec);
        let mut done = setup.restore(spec)?;
        if let Some(key_id) = key_id {
            if self.key_revoke(key_id).await.is_ok() {
                done.push(format!("gateway key {key_id} (made for {}) revoked", spec.name));
            }
        }
        Ok(done)
    }
}
