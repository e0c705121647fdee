//! One module per page of the dashboard.

pub mod combos;
pub mod desktop;
pub mod keys;
pub mod logins;
pub mod overview;
pub mod providers;
pub mod settings;
pub mod tool_setup;
pub mod tools;
pub mod usage;
