//! Subscription logins as the dashboard drives them: the logins offered (with each one's
//! terms risk and settings), a sign-in in progress, the address pasted when the callback port
//! is taken, and the quota windows a login account reports.

use crate::config::Account;
use serde::{Deserialize, Serialize};

/// A subscription login the dashboard offers, with its terms risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginChoice {
    pub provider: String,
    pub name: String,
    pub terms_risk: String,
    /// `browser` (authorization code) or `device` (a code to enter).
    pub flow: String,
    /// Settings to fill in before signing in, where the login needs some.
    #[serde(default)]
    pub options: Vec<LoginOption>,
}

/// One setting shown with a login (`login.PROVIDER.NAME`), with its value now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginOption {
    pub setting: String,
    pub label: String,
    pub help: String,
    pub value: String,
}

/// A sign-in started from the dashboard, as its page shows it while it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub id: u64,
    pub provider: String,
    /// The address to open (authorization-code flows) or to enter the code at (device flows).
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub user_code: Option<String>,
    /// The callback port is taken: the page asks for the address the browser ends on.
    #[serde(default)]
    pub needs_paste: bool,
    /// Progress lines (the terms first).
    #[serde(default)]
    pub lines: Vec<String>,
    /// The account the sign-in saved, once it has.
    #[serde(default)]
    pub account: Option<Account>,
    #[serde(default)]
    pub error: Option<String>,
}

/// `POST /api/logins/pending/{id}/paste`: the address the browser ended on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastedUrl {
    pub url: String,
}

/// One quota window of a login account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaWindow {
    /// `5h`, `weekly`, `weekly-opus`, `primary`, `secondary`, `premium`...
    pub name: String,
    /// Share used, 0 to 100.
    pub used_percent: f64,
    /// When it resets, Unix ms.
    #[serde(default)]
    pub resets_at_ms: Option<i64>,
    /// The model the window limits; None: every model of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// A login account's quota windows as last read, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredQuota {
    pub account_id: i64,
    pub fetched_at_ms: i64,
    pub windows: Vec<QuotaWindow>,
}
