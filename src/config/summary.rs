//! A loggable summary of a loaded config: what is monitored and where the
//! secrets come from, never the secrets themselves.

use super::duration::format_duration;
use super::problem::quote;
use super::{BudgetSettings, Config, SecretSource};

impl SecretSource {
    /// `file /run/secrets/pingone`, `env PINGONE_CLIENT_SECRET` or `inline`:
    /// where the secret came from, safe to log.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::File(path) => format!("file {}", quote(&path.display().to_string())),
            SecretSource::Env(var) => format!("env {var}"),
            SecretSource::Inline => "inline".to_string(),
        }
    }
}

impl Config {
    /// A multi-line summary for logs and `--config.check`: the global
    /// settings, one line per budget named under `budgets:`, then one line
    /// per environment (name, id, region, URLs, poll interval, budget,
    /// client id, worker environment, secret source kind and path or
    /// variable name, rule filters), then alerting. It never holds
    /// a secret value.
    pub fn summary(&self) -> String {
        let g = &self.global;
        let mut lines = vec![format!(
            "global: poll_interval={} rules_interval={} groups_interval={} request_timeout={} max_requests_per_second={} max_concurrent_requests={}",
            format_duration(g.poll_interval),
            format_duration(g.rules_interval),
            format_duration(g.groups_interval),
            format_duration(g.request_timeout),
            g.max_requests_per_second,
            g.max_concurrent_requests,
        )];
        for b in self
            .budgets
            .iter()
            .filter(|b| b.name != BudgetSettings::DEFAULT)
        {
            lines.push(format!(
                "budget {}: max_requests_per_second={} max_concurrent_requests={}",
                quote(&b.name),
                b.max_requests_per_second,
                b.max_concurrent_requests,
            ));
        }
        for env in &self.environments {
            let c = &env.credentials;
            let mut line = format!(
                "environment {}: id={} region={} api_url={} auth_url={} poll_interval={} rules_interval={} groups_interval={} budget={} client_id={} worker_environment_id={} secret={}",
                quote(&env.name),
                env.id,
                env.region.as_str(),
                env.api_url,
                env.auth_url,
                format_duration(env.poll_interval),
                format_duration(env.rules_interval),
                format_duration(env.groups_interval),
                quote(&env.budget),
                quote(&c.client_id),
                c.worker_environment_id,
                c.secret_source.describe(),
            );
            if let Some(r) = &env.rules.include {
                line.push_str(&format!(" rules.include={}", quote(r.as_str())));
            }
            if let Some(r) = &env.rules.exclude {
                line.push_str(&format!(" rules.exclude={}", quote(r.as_str())));
            }
            if let Some(d) = &env.user_detail {
                line.push_str(&format!(
                    " user_detail.interval={} user_detail.max_requests_per_second={}",
                    format_duration(d.interval),
                    d.max_requests_per_second
                ));
            }
            lines.push(line);
        }
        match &self.alerting {
            Some(a) => lines.push(a.summary()),
            None => lines.push("alerting: off".to_string()),
        }
        lines.join("\n")
    }
}
