//! Made-up data: synthetic environments for benchmarks (`generate:` in a
//! scenario), users with fake personal data, and the type-specific store
//! `configuration` with its fake secrets.

use serde_json::{Value, json};

use super::model::{User, uuid};
use super::scenario::{EnvironmentSpec, GenerateSpec, Rates, RuleSpec, StoreSpec};

/// Every fake secret in a store `configuration` starts with this, so a test
/// can grep any output for it.
pub const STORE_SECRET_PREFIX: &str = "sim-store-";

#[rustfmt::skip]
const GIVEN: [&str; 16] = [
    "Ada", "Brian", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko",
    "Luis", "Maya", "Nils", "Olga", "Priya",
];
#[rustfmt::skip]
const FAMILY: [&str; 16] = [
    "Lovelace", "Kernighan", "Nguyen", "Petrov", "Garcia", "Haddad", "Hopper", "Tanaka", "Silva",
    "Berg", "Sato", "Moreno", "Cohen", "Larsen", "Ivanova", "Patel",
];
/// Outbound connection types generated rules cycle through.
const OUTBOUND: [&str; 5] = ["scim", "Salesforce", "Slack", "Zoom", "GoogleApps"];

/// The environments `generate:` describes, named `gen-0001`, `gen-0002`, ...
pub(crate) fn environments(g: &GenerateSpec) -> Vec<EnvironmentSpec> {
    (1..=g.environments)
        .map(|n| environment(g, format!("gen-{n:04}")))
        .collect()
}

fn environment(g: &GenerateSpec, name: String) -> EnvironmentSpec {
    let mut stores = vec![
        store("PingOne Directory", "directory"),
        store("PingOne Users", "PingOne"),
    ];
    let mut rules = Vec::new();
    // A cycle of 8 rules: 5 outbound, Workday inbound + write-back, LDAP inbound.
    for i in 0..g.rules_per_environment {
        let n = i + 1;
        let slot = i % 8;
        let (source, target, parent) = match slot {
            0..=4 => {
                let s = format!("{} {n}", OUTBOUND[slot as usize]);
                stores.push(store(&s, OUTBOUND[slot as usize]));
                ("PingOne Directory".to_owned(), s, None)
            }
            5 => {
                let s = format!("Workday {n}");
                stores.push(store(&s, "Workday"));
                (s, "PingOne Users".to_owned(), None)
            }
            6 => (
                "PingOne Directory".to_owned(),
                format!("Workday {}", n - 1),
                Some(format!("rule {}", n - 1)),
            ),
            _ => {
                let s = format!("LDAP {n}");
                stores.push(store(&s, "LdapGateway"));
                (s, "PingOne Users".to_owned(), None)
            }
        };
        rules.push(RuleSpec {
            name: format!("rule {n}"),
            description: None,
            source,
            target,
            parent,
            active: i % 10 != 9,
            population: 0.5 + f64::from(i % 5) * 0.1,
            population_expression: None,
            groups: g.groups_per_rule,
            rates: Rates::default(),
            sync_state: None,
            group_statuses: Vec::new(),
        });
    }
    EnvironmentSpec {
        name,
        id: None,
        users: g.users_per_environment,
        groups: g.groups_per_rule.saturating_mul(4).max(10),
        stores,
        rules,
    }
}

/// `n` users with made-up personal data (names, usernames, emails).
pub(crate) fn users(n: u32, rng: &mut fastrand::Rng) -> Vec<User> {
    (0..n as usize)
        .map(|n| {
            let (given, family) = (GIVEN[n % 16], FAMILY[(n / 16) % 16]);
            let username = format!("{}.{}{n}", given.to_lowercase(), family.to_lowercase());
            User {
                id: uuid(rng),
                email: format!("{username}@example.test"),
                username,
                given: given.into(),
                family: family.into(),
            }
        })
        .collect()
}

fn store(name: &str, kind: &str) -> StoreSpec {
    StoreSpec {
        name: name.to_owned(),
        kind: kind.to_owned(),
        failing: false,
    }
}

/// A plausible `configuration` for a store of type `kind`, with its fake
/// secret values (each starting with [`STORE_SECRET_PREFIX`]).
pub(crate) fn configuration(
    kind: &str,
    env_id: &str,
    rng: &mut fastrand::Rng,
) -> (Value, Vec<String>) {
    let mut secret = |what: &str| {
        let tail: String = std::iter::repeat_with(|| rng.alphanumeric())
            .take(20)
            .collect();
        format!("{STORE_SECRET_PREFIX}{what}-{tail}")
    };
    match kind {
        "directory" => (json!({}), Vec::new()),
        "PingOne" => (
            json!({"ENVIRONMENT_ID": env_id, "REGION": "NA"}),
            Vec::new(),
        ),
        "scim" => {
            let p = secret("password");
            let cfg = json!({
                "SCIM_URL": "https://scim.example.test/scim/v2",
                "SCIM_VERSION": "2.0",
                "AUTHENTICATION_METHOD": "Basic Authentication",
                "BASIC_AUTH_USER": "sim-provisioner",
                "BASIC_AUTH_PASSWORD": p,
                "CREATE_USERS": true, "UPDATE_USERS": true, "DISABLE_USERS": true,
                "REMOVE_ACTION": "Disable",
                "UNIQUE_USER_IDENTIFIER": "userName",
            });
            (cfg, vec![p])
        }
        "Workday" => {
            let p = secret("password");
            let cfg = json!({
                "host": "wd2-impl-services1.workday.example.test",
                "tenantId": "sim_tenant",
                "username": "ISU_PingOne",
                "password": p,
                "excludeContingentWorkers": false,
            });
            (cfg, vec![p])
        }
        "LdapGateway" => {
            let p = secret("password");
            let cfg = json!({"GATEWAY_ID": env_id, "BIND_DN": "cn=provisioning,dc=example,dc=test", "BIND_PASSWORD": p});
            (cfg, vec![p])
        }
        "Salesforce" | "SalesforceContacts" => {
            let (s, t) = (secret("secret"), secret("token"));
            let cfg = json!({"SALESFORCE_DOMAIN": "example.my.salesforce.test", "CLIENT_ID": "sim-sf-client",
                             "CLIENT_SECRET": s, "OAUTH_ACCESS_TOKEN": t});
            (cfg, vec![s, t])
        }
        _ => {
            let t = secret("token");
            let cfg = json!({"OAUTH_ACCESS_TOKEN": t, "CREATE_USERS": true, "UPDATE_USERS": true});
            (cfg, vec![t])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_environments_cycle_rule_kinds() {
        let g = GenerateSpec {
            environments: 2,
            rules_per_environment: 10,
            users_per_environment: 50,
            groups_per_rule: 3,
        };
        let envs = environments(&g);
        assert_eq!(envs.len(), 2);
        assert_eq!(envs[1].name, "gen-0002");
        let rules = &envs[0].rules;
        assert_eq!(rules.len(), 10);
        assert_eq!(rules[6].parent.as_deref(), Some("rule 6"));
        assert_eq!(rules[6].target, "Workday 6");
        assert!(!rules[9].active);
    }

    #[test]
    fn every_secret_is_inside_the_configuration_and_prefixed() {
        let mut rng = fastrand::Rng::with_seed(3);
        for kind in [
            "scim",
            "Workday",
            "LdapGateway",
            "Salesforce",
            "Slack",
            "directory",
        ] {
            let (cfg, secrets) = configuration(kind, "env", &mut rng);
            let text = cfg.to_string();
            for s in &secrets {
                assert!(s.starts_with(STORE_SECRET_PREFIX));
                assert!(text.contains(s.as_str()));
            }
        }
    }
}
