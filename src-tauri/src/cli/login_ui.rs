//! How `switchyard login` talks to the user: the sign-in address printed (and opened in the
//! browser unless `--no-browser`), the device code printed, and a pasted callback address read
//! from stdin when the callback port is taken.

use crate::manage::logins::LoginUi;
use futures_util::future::BoxFuture;
use std::io::Write;

pub struct TerminalLogin {
    pub open_browser: bool,
}

impl LoginUi for TerminalLogin {
    fn open_url(&self, url: &str) {
        println!("Sign in at:\n  {url}");
        if self.open_browser && webbrowser::open(url).is_err() {
            println!("(no browser could be opened here: open the address above yourself)");
        }
        println!("Waiting for the sign-in to finish…");
        let _ = std::io::stdout().flush();
    }

    fn device_code(&self, user_code: &str, url: &str) {
        println!("Open {url} and enter the code:\n  {user_code}");
        if self.open_browser {
            let _ = webbrowser::open(url);
        }
        println!("Waiting for you to approve…");
        let _ = std::io::stdout().flush();
    }

    fn say(&self, line: &str) {
        println!("{line}");
        let _ = std::io::stdout().flush();
    }

    fn pasted_url(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async {
            tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).ok().filter(|n| *n > 0).map(|_| line.trim().to_string())
            })
            .await
            .ok()
            .flatten()
        })
    }
}
