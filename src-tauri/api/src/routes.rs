//! Every /api route as a typed item: its method, its path (as the server's router declares it,
//! `{name}` for a parameter), the body it takes and the answer it gives. A route's value holds
//! its parameters; `path()` fills them in (percent-encoded), and any field that is not in the
//! path goes in the query. The server registers its handlers by these items and answers with
//! their `Answer` type; the dashboard calls them through one generic function. A route with
//! `()` as its answer answers 204 with no body.

use crate::config::{
    Account, AccountChange, CatalogEntry, Combo, ComboSpec, Cooldown, NewAccount, NewProvider, ProbeResult, Provider,
    ProviderAdded, ProviderChange,
};
use crate::keys::{CreatedKey, GatewayKey, KeyChange, NewKey};
use crate::logins::{LoginChoice, PastedUrl, PendingLogin, QuotaWindow, StoredQuota};
use crate::overview::{LoggedIn, OverviewAnswer, Password, SessionStatus};
use crate::settings::{SettingValue, Settings};
use crate::tools::{ToolApply, ToolPlan, ToolStatus};
use crate::usage::{ModelName, ModelTest, SeriesPoint, UsageRow, UsageTotals};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// One /api route.
pub trait Route: Serialize + DeserializeOwned {
    const METHOD: Method;
    /// The path as the router declares it: `/api/providers/{id}`.
    const TEMPLATE: &'static str;
    /// What the request carries (`()`: no body).
    type Body: Serialize + DeserializeOwned;
    /// What a success answers (`()`: 204, no body).
    type Answer: Serialize + DeserializeOwned;

    /// The path to call: the parameters filled in, the other fields as the query.
    fn path(&self) -> String {
        fill(Self::TEMPLATE, serde_json::to_value(self).unwrap_or_default())
    }
}

/// The characters a path segment or a query value keeps as they are (RFC 3986 unreserved).
const KEPT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn fill(template: &str, fields: serde_json::Value) -> String {
    let mut path = template.to_string();
    let mut query = Vec::new();
    let serde_json::Value::Object(fields) = fields else { return path };
    for (name, value) in fields {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let encoded = utf8_percent_encode(&text, KEPT).to_string();
        let slot = format!("{{{name}}}");
        if path.contains(&slot) {
            path = path.replace(&slot, &encoded);
        } else {
            query.push(format!("{name}={encoded}"));
        }
    }
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    path
}

/// Declares routes: `Name { fields } METHOD "template", Body => Answer;`.
macro_rules! routes {
    ($(
        $(#[$doc:meta])*
        $name:ident { $($(#[$field_doc:meta])* $field:ident : $ty:ty),* $(,)? }
        $method:ident $template:literal, $body:ty => $answer:ty;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                $(
                    $(#[$field_doc])*
                    #[serde(default, skip_serializing_if = "is_absent")]
                    pub $field: $ty,
                )*
            }

            impl Route for $name {
                const METHOD: Method = Method::$method;
                const TEMPLATE: &'static str = $template;
                type Body = $body;
                type Answer = $answer;
            }
        )*

        /// Every route's method and template, for checks over the whole API.
        pub const ALL: &[(Method, &str)] = &[$((Method::$method, $template)),*];
    };
}

/// A field left out of the path and query: an absent optional value.
fn is_absent<T: Serialize>(value: &T) -> bool {
    serde_json::to_value(value).is_ok_and(|v| v.is_null())
}

routes! {
    /// Whether a dashboard password is set and this browser is logged in (no session needed).
    GetSession {} Get "/api/session", () => SessionStatus;
    /// Sets the first dashboard password (from this machine only) and logs in.
    SetUpPassword {} Post "/api/session/setup", Password => LoggedIn;
    LogIn {} Post "/api/session/login", Password => LoggedIn;
    LogOut {} Post "/api/session/logout", () => ();

    GetOverview {} Get "/api/overview", () => OverviewAnswer;
    /// The model names clients may ask for (providers' models, combos, aliases).
    ListModels {} Get "/api/models", () => Vec<String>;
    /// One short request to a model name through the gateway's own path.
    TestModel {} Post "/api/models/test", ModelName => ModelTest;

    ListCatalog {} Get "/api/catalog", () => Vec<CatalogEntry>;
    ListProviders {} Get "/api/providers", () => Vec<Provider>;
    AddProvider {} Post "/api/providers", NewProvider => ProviderAdded;
    ChangeProvider { id: String } Patch "/api/providers/{id}", ProviderChange => ();
    RemoveProvider { id: String } Delete "/api/providers/{id}", () => ();

    ListAccounts {} Get "/api/accounts", () => Vec<Account>;
    AddAccount {} Post "/api/accounts", NewAccount => Account;
    ChangeAccount { id: i64 } Patch "/api/accounts/{id}", AccountChange => ();
    RemoveAccount { id: i64 } Delete "/api/accounts/{id}", () => ();
    /// Tries the account's credential (a model-list call; no tokens spent).
    TestAccount { id: i64 } Post "/api/accounts/{id}/test", () => ProbeResult;
    /// Reads a login account's quota windows now.
    ReadQuota { id: i64 } Get "/api/accounts/{id}/quota", () => Vec<QuotaWindow>;
    /// Every login account's quota as last read.
    ListQuotas {} Get "/api/quotas", () => Vec<StoredQuota>;
    ListCooldowns {} Get "/api/cooldowns", () => Vec<Cooldown>;

    ListLogins {} Get "/api/logins", () => Vec<LoginChoice>;
    /// Starts a sign-in, followed with `GetPendingLogin`.
    BeginLogin {
        provider: String,
        /// The desktop window: the server opens the sign-in page in the system browser.
        open_browser: Option<bool>,
    } Post "/api/logins/{provider}", () => PendingLogin;
    /// Takes the login the provider's official CLI saved on this machine.
    ImportLogin { provider: String } Post "/api/logins/{provider}/import", () => Account;
    GetPendingLogin { id: u64 } Get "/api/logins/pending/{id}", () => PendingLogin;
    PasteLogin { id: u64 } Post "/api/logins/pending/{id}/paste", PastedUrl => PendingLogin;

    ListCombos {} Get "/api/combos", () => Vec<Combo>;
    SetCombo { name: String } Put "/api/combos/{name}", ComboSpec => ();
    RemoveCombo { name: String } Delete "/api/combos/{name}", () => ();

    ListKeys {} Get "/api/keys", () => Vec<GatewayKey>;
    CreateKey {} Post "/api/keys", NewKey => CreatedKey;
    ChangeKey { id: i64 } Patch "/api/keys/{id}", KeyChange => ();
    RevokeKey { id: i64 } Delete "/api/keys/{id}", () => ();

    GetSettings {} Get "/api/settings", () => Settings;
    /// Sets one setting (the dashboard password too: other browsers then log in again).
    SetSetting { name: String } Put "/api/settings/{name}", SettingValue => Settings;

    ListTools {} Get "/api/tools", () => Vec<ToolStatus>;
    GetTool { id: String } Get "/api/tools/{id}", () => ToolStatus;
    ApplyTool { id: String } Post "/api/tools/{id}/apply", ToolApply => ToolPlan;
    /// Puts the tool's files back as they were; answers the files restored.
    RestoreTool { id: String } Post "/api/tools/{id}/restore", () => Vec<String>;

    /// Totals per group since a period (`24h`, `7d`, ...; default 24h), grouped `by`
    /// provider (default), model, key, tool or account.
    UsageSummary { since: Option<String>, by: Option<String> } Get "/api/usage/summary", () => Vec<UsageTotals>;
    /// The same per `bucket` (hour, default; or day).
    UsageSeries { since: Option<String>, bucket: Option<String>, by: Option<String> }
        Get "/api/usage/series", () => Vec<SeriesPoint>;
    /// The newest requests (default 100).
    UsageLog { limit: Option<i64> } Get "/api/usage/log", () => Vec<UsageRow>;
}

/// The live feed: server-sent events, a `usage` event per finished request and `lagged` when
/// some were missed (not a JSON route).
pub const USAGE_EVENTS: &str = "/api/usage/events";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_fill_the_path_and_the_rest_goes_in_the_query() {
        assert_eq!(RemoveProvider { id: "my provider/1".into() }.path(), "/api/providers/my%20provider%2F1");
        assert_eq!(ChangeAccount { id: 7 }.path(), "/api/accounts/7");
        assert_eq!(UsageLog { limit: None }.path(), "/api/usage/log");
        assert_eq!(
            UsageSummary { since: Some("7d".into()), by: Some("model".into()) }.path(),
            "/api/usage/summary?by=model&since=7d"
        );
        assert_eq!(
            BeginLogin { provider: "claude".into(), open_browser: Some(true) }.path(),
            "/api/logins/claude?open_browser=true"
        );
        assert_eq!(ListProviders {}.path(), "/api/providers");
    }

    #[test]
    fn no_two_routes_share_a_method_and_path() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(!ALL[i + 1..].contains(a), "{a:?} is declared twice");
            assert!(a.1.starts_with("/api/"), "{a:?}");
        }
    }
}
