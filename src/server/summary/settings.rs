//! What the status page knows beyond the snapshots: per environment the
//! admin-console link, the poll interval (the page's refresh) and whether
//! user-detail mode is on; and Grafana's base URL. The environments part is
//! replaced whole when the configuration is reloaded.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::config::Config;

/// The uid of the bundled Rule detail dashboard
/// (`dashboards/pingone-sync-rule-detail.json`).
pub const RULE_DASHBOARD_UID: &str = "pingone-sync-rule-detail";

/// One environment's page settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvPage {
    /// The admin-console link: `console_url` from the file, else the
    /// region's documented sign-on URL.
    pub console_url: String,
    /// Time between two polls.
    pub poll_interval: Duration,
    /// User-detail mode is configured.
    pub user_detail: bool,
}

/// The page settings, shared by the server's handlers.
#[derive(Debug)]
pub struct PageSettings {
    /// One permit: page renders run one at a time (see the module docs of
    /// `server::summary`).
    pub renders: tokio::sync::Semaphore,
    grafana: Option<reqwest::Url>,
    envs: ArcSwap<HashMap<String, EnvPage>>,
}

/// Checks `--web.grafana-url`: an http(s) URL with a host.
pub fn grafana_base(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("--web.grafana-url {text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "--web.grafana-url {text:?}: expected an http or https URL such as https://grafana.example.com"
        ));
    }
    Ok(url)
}

fn env_pages(config: &Config) -> HashMap<String, EnvPage> {
    config
        .environments
        .iter()
        .map(|e| {
            let page = EnvPage {
                console_url: e
                    .console_url
                    .clone()
                    .unwrap_or_else(|| e.region.console_url(&e.id)),
                poll_interval: e.poll_interval,
                user_detail: e.user_detail.is_some(),
            };
            (e.id.clone(), page)
        })
        .collect()
}

impl PageSettings {
    /// Settings for `config`, linking Grafana at `grafana` when given.
    pub fn new(grafana: Option<reqwest::Url>, config: &Config) -> Self {
        Self {
            renders: tokio::sync::Semaphore::new(1),
            grafana,
            envs: ArcSwap::from_pointee(env_pages(config)),
        }
    }

    /// Takes a reloaded configuration's environments.
    pub fn apply(&self, config: &Config) {
        self.envs.store(Arc::new(env_pages(config)));
    }

    /// The current environments' settings, by environment id.
    pub fn envs(&self) -> Arc<HashMap<String, EnvPage>> {
        self.envs.load_full()
    }

    /// Seconds between the page's refreshes: the shortest poll interval,
    /// since nothing on the page changes between polls; 60 without any
    /// environment.
    pub fn refresh_seconds(&self) -> u64 {
        self.envs
            .load()
            .values()
            .map(|e| e.poll_interval.as_secs().max(1))
            .min()
            .unwrap_or(60)
    }

    /// The Rule detail dashboard of one rule, when Grafana is configured.
    /// The dashboard selects by the `environment_name` and `rule_name`
    /// variables.
    pub fn grafana_rule_url(&self, environment_name: &str, rule_name: &str) -> Option<String> {
        let base = self.grafana.as_ref()?;
        let mut url = base.clone();
        let path = format!(
            "{}/d/{RULE_DASHBOARD_UID}/",
            base.path().trim_end_matches('/')
        );
        url.set_path(&path);
        url.query_pairs_mut()
            .append_pair("var-environment_name", environment_name)
            .append_pair("var-rule_name", rule_name);
        Some(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grafana_links_encode_the_variables_under_a_path_prefix() {
        let config = Config {
            budgets: Vec::new(),
            global: crate::config::Global::default(),
            environments: Vec::new(),
            alerting: None,
            warnings: Vec::new(),
        };
        let s = PageSettings::new(
            Some(grafana_base("https://example.com/grafana/").unwrap()),
            &config,
        );
        assert_eq!(
            s.grafana_rule_url("prod eu", "A&B <x>").unwrap(),
            "https://example.com/grafana/d/pingone-sync-rule-detail/?var-environment_name=prod+eu&var-rule_name=A%26B+%3Cx%3E"
        );
        assert_eq!(s.refresh_seconds(), 60);
        assert!(grafana_base("ftp://x").is_err());
        assert!(grafana_base("not a url").is_err());
        assert_eq!(
            PageSettings::new(None, &config).grafana_rule_url("a", "b"),
            None
        );
    }

    fn config(extra: &str) -> Config {
        let text = format!(
            "global:\n  poll_interval: 30s\nenvironments:\n  - name: a\n    id: 3f0b6a1e-0000-4000-8000-000000000001\n    region: eu\n    credentials:\n      client_id: c\n      client_secret_env: S\n{extra}"
        );
        crate::config::load_str(&text, "config.yml", &|_| Some("s".into())).unwrap()
    }

    #[test]
    fn console_links_follow_the_region_and_the_override_across_reloads() {
        let s = PageSettings::new(None, &config(""));
        let id = "3f0b6a1e-0000-4000-8000-000000000001";
        let env = s.envs().get(id).cloned().unwrap();
        assert_eq!(
            env.console_url,
            format!("https://console.pingone.eu/?env={id}")
        );
        assert_eq!((env.poll_interval.as_secs(), env.user_detail), (30, false));
        assert_eq!(s.refresh_seconds(), 30);
        s.apply(&config(
            "    console_url: https://sso.example.com/p1?env=x\n    poll_interval: 20s\n    user_detail:\n      enabled: true\n",
        ));
        let env = s.envs().get(id).cloned().unwrap();
        assert_eq!(env.console_url, "https://sso.example.com/p1?env=x");
        assert!(env.user_detail);
        assert_eq!(s.refresh_seconds(), 20);
    }
}
