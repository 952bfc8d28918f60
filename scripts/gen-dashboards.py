#!/usr/bin/env python3
"""Writes the Grafana dashboards in dashboards/ from this one description.

    scripts/gen-dashboards.py           rewrite dashboards/*.json
    scripts/gen-dashboards.py --check   fail if dashboards/*.json differ from what it writes

The JSON files are what users import; this script keeps the four dashboards
consistent (the same variables, datasource references, links, units and
layout rules), which hand-edited JSON does not. Edit here, run it, commit
both. Checks on the result: tests/dashboards.rs (the rules) and
scripts/check-dashboards.sh (Grafana's own schema types).

Queries reduce per-rule series with `max by (...)`, never `sum`: two
exporters polling the same environment (an HA pair) then count once.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "dashboards"

DS = {"type": "prometheus", "uid": "${datasource}"}
TAG = "pingone-sync-exporter"
ENV = 'environment_name=~"$environment_name"'
RULE = 'rule_name=~"$rule_name"'
ER = f"{ENV}, {RULE}"
RULE_LABELS = "environment_name, rule_name"

SEVERITY_STEPS = [{"color": "green", "value": None}, {"color": "red", "value": 1}]
UP_MAPPINGS = [
    {"type": "value", "options": {"0": {"text": "failing", "color": "red", "index": 0},
                                  "1": {"text": "ok", "color": "green", "index": 1}}}
]
# Rule status as one number: 0 inactive, 1 active, 2 failed (the state set
# has exactly one series at 1 per rule).
STATUS_MAPPINGS = [
    {"type": "value", "options": {"0": {"text": "inactive", "color": "text", "index": 0},
                                  "1": {"text": "active", "color": "green", "index": 1},
                                  "2": {"text": "failed", "color": "red", "index": 2}}}
]


def status_expr(sel, by):
    return (f'max by ({by}) (pingone_provisioning_rule_status{{{sel}, status="failed"}}) * 2\n'
            f'+ max by ({by}) (pingone_provisioning_rule_status{{{sel}, status="active"}})')


def failed_share(sel, by):
    """Failed sync events / all sync events of the last 30 minutes (like over
    like), as PingOneProvisioningSyncFailing sees them (a recording rule)."""
    return f'max by ({by}) (pingone:provisioning_sync_events_failed:ratio_increase30m{{{sel}}})'


def target(expr, legend="__auto", ref="A", instant=False, table=False):
    t = {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend,
         "range": not instant, "instant": instant, "refId": ref}
    if table:
        t["format"] = "table"
    return t


class Layout:
    """Places panels left to right, wrapping at 24 columns."""

    def __init__(self):
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.next_id = 1
        self.panels = []

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def row(self, title):
        self.newline()
        self.panels.append({"type": "row", "title": title, "id": self._id(), "collapsed": False,
                            "panels": [], "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}})
        self.y += 1

    def newline(self):
        if self.x:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)


def field_defaults(unit, color_mode="palette-classic", steps=None, mappings=None, custom=None,
                   extra=None):
    d = {"unit": unit, "color": {"mode": color_mode},
         "thresholds": {"mode": "absolute",
                        "steps": steps or [{"color": "green", "value": None}]},
         "mappings": mappings or []}
    if custom is not None:
        d["custom"] = custom
    if extra:
        d.update(extra)
    return d


def timeseries(title, description, unit, targets, *, min0=True, threshold=None, stack=False,
               decimals=None):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
              "spanNulls": False, "axisSoftMin": 0 if min0 else None,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"},
              "thresholdsStyle": {"mode": "dashed" if threshold is not None else "off"}}
    if not min0:
        del custom["axisSoftMin"]
    steps = None
    if threshold is not None:
        steps = [{"color": "green", "value": None}, {"color": "red", "value": threshold}]
    extra = {"decimals": decimals} if decimals is not None else None
    return {"type": "timeseries", "title": title, "description": description, "datasource": DS,
            "fieldConfig": {"defaults": field_defaults(unit, steps=steps, custom=custom,
                                                       extra=extra),
                            "overrides": []},
            "options": {"legend": {"showLegend": True, "displayMode": "table",
                                   "placement": "right", "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}},
            "targets": targets}


def stat(title, description, unit, targets, *, steps=None, mappings=None, no_value=None,
         color_mode="thresholds", graph=False):
    extra = {"noValue": no_value} if no_value else None
    return {"type": "stat", "title": title, "description": description, "datasource": DS,
            "fieldConfig": {"defaults": field_defaults(unit, color_mode=color_mode, steps=steps,
                                                       mappings=mappings, extra=extra),
                            "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area" if graph else "none",
                        "justifyMode": "auto", "orientation": "auto", "textMode": "auto",
                        "wideLayout": True, "showPercentChange": False},
            "targets": targets}


def state_timeline(title, description, targets, mappings):
    return {"type": "state-timeline", "title": title, "description": description,
            "datasource": DS,
            "fieldConfig": {"defaults": field_defaults("none", color_mode="thresholds",
                                                       mappings=mappings,
                                                       custom={"fillOpacity": 70, "lineWidth": 0}),
                            "overrides": []},
            "options": {"mergeValues": True, "showValue": "auto", "alignValue": "left",
                        "rowHeight": 0.9,
                        "legend": {"showLegend": False, "displayMode": "list",
                                   "placement": "bottom"},
                        "tooltip": {"mode": "single", "sort": "none"}},
            "targets": targets}


def table(title, description, unit, targets, *, overrides=None, transformations=None,
          sort_by=None):
    options = {"showHeader": True, "cellHeight": "sm",
               "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": ""}}
    if sort_by:
        options["sortBy"] = [{"displayName": sort_by, "desc": True}]
    return {"type": "table", "title": title, "description": description, "datasource": DS,
            "fieldConfig": {"defaults": field_defaults(unit, color_mode="thresholds",
                                                       custom={"align": "auto",
                                                               "cellOptions": {"type": "auto"},
                                                               "filterable": True}),
                            "overrides": overrides or []},
            "options": options, "transformations": transformations or [], "targets": targets}


def column(name, unit=None, display=None, color_steps=None, links=None, mappings=None):
    props = []
    if unit:
        props.append({"id": "unit", "value": unit})
    if display:
        props.append({"id": "displayName", "value": display})
    if color_steps:
        props.append({"id": "thresholds", "value": {"mode": "absolute", "steps": color_steps}})
        props.append({"id": "custom.cellOptions", "value": {"type": "color-text"}})
    if mappings:
        props.append({"id": "mappings", "value": mappings})
    if links:
        props.append({"id": "links", "value": links})
    return {"matcher": {"id": "byName", "options": name}, "properties": props}


def variables(rule_multi=True):
    return [
        {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
         "hide": 0, "includeAll": False, "multi": False, "options": [],
         "refresh": 1, "regex": "", "skipUrlSync": False},
        {"type": "query", "name": "environment_name", "label": "Environment",
         "datasource": DS,
         "query": {"qryType": 1, "query": "label_values(pingone_exporter_up, environment_name)",
                   "refId": "PrometheusVariableQueryEditor-VariableQuery"},
         "hide": 0, "includeAll": rule_multi, "multi": rule_multi,
         **({"allValue": ".*"} if rule_multi else {}),
         "options": [], "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1},
        {"type": "query", "name": "rule_name", "label": "Rule",
         "datasource": DS,
         "query": {"qryType": 1,
                   "query": f"label_values(pingone_provisioning_rule_info{{{ENV}}}, rule_name)",
                   "refId": "PrometheusVariableQueryEditor-VariableQuery"},
         "hide": 0, "includeAll": rule_multi, "multi": rule_multi,
         **({"allValue": ".*"} if rule_multi else {}),
         "options": [], "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1},
    ]


def dashboard(uid, title, description, layout, *, time_from="now-6h", refresh="1m",
              rule_multi=True):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": [TAG],
        "editable": True,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "refresh": refresh,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "",
        "weekStart": "",
        "annotations": {"list": [
            {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
             "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
             "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": [{"title": "PingOne sync dashboards", "type": "dashboards", "tags": [TAG],
                   "asDropdown": False, "includeVars": True, "keepTime": True,
                   "targetBlank": False, "icon": "external link", "tooltip": ""}],
        "templating": {"list": variables(rule_multi)},
        "panels": layout.panels,
    }


RULE_DETAIL_LINK = [{
    "title": "Rule detail",
    "url": "/d/pingone-sync-rule-detail/pingone-sync-rule-detail?var-datasource=${datasource}"
           "&var-environment_name=${__data.fields.environment_name}"
           "&var-rule_name=${__data.fields.rule_name}&${__url_time_range}",
}]


def overview():
    L = Layout()
    L.row("Summary")
    L.add(stat("Rules in failed status",
               "Rules whose connection reports syncState FAILED (alert: PingOneProvisioningRuleFailed).",
               "short",
               [target(f'count(max by ({RULE_LABELS}) (pingone_provisioning_rule_status{{{ER}, status="failed"}}) == 1) or vector(0)')],
               steps=SEVERITY_STEPS), 4, 4)
    L.add(stat("Failed sync events (30m)",
               "Failed sync attempts in the last 30 minutes, summed over the selected rules (PingOne's failedCount: events, not users; alert: PingOneProvisioningSyncFailing).",
               "short",
               [target(f'sum(max by ({RULE_LABELS}) (pingone:provisioning_sync_events:increase30m_by_rule{{{ER}, result="failure"}}))')],
               steps=SEVERITY_STEPS), 4, 4)
    L.add(stat("Failed groups", "Groups in failed state, summed over the selected rules.", "short",
               [target(f'sum(max by ({RULE_LABELS}) (pingone_provisioning_groups{{{ER}, state="failed"}}))')],
               steps=SEVERITY_STEPS), 4, 4)
    L.add(stat("Impacted users",
               "Users in scope, summed over the selected rules (write-back rules left out: they report their parent's store). A user in several rules counts once per rule.",
               "short",
               [target(f'sum(max by ({RULE_LABELS}) (pingone_provisioning_users_impacted{{{ER}, direction!="writeback"}}))')],
               color_mode="fixed"), 4, 4)
    L.add(stat("Environments failing to poll",
               "Environments whose last poll of PingOne did not fully succeed (alert: PingOneExporterPollFailing).",
               "short",
               [target(f'count(max by (environment_name) (pingone_exporter_up{{{ENV}}}) == 0) or vector(0)')],
               steps=SEVERITY_STEPS), 4, 4)
    L.add(stat("Oldest data",
               "Time since the least recently refreshed environment was polled successfully (alert: PingOneExporterDataStale).",
               "s",
               [target(f'max(time() - max by (environment_name) (pingone_exporter_last_success_timestamp_seconds{{{ENV}}}))')],
               steps=[{"color": "green", "value": None}, {"color": "orange", "value": 600},
                      {"color": "red", "value": 1800}]), 4, 4)

    L.row("Rules, failures first")
    by = "environment_name, rule_name, direction"
    L.add(table(
        "Rules",
        "Every selected rule, most failed sync events in the last 30 minutes first. Click a rule name for its detail dashboard.",
        "short",
        [target(f'max by ({by}) (pingone:provisioning_sync_events:increase30m_by_rule{{{ER}, result="failure"}})', ref="A", instant=True, table=True),
         target(failed_share(ER, by), ref="B", instant=True, table=True),
         target(f'max by ({by}) (pingone_provisioning_groups{{{ER}, state="failed"}})', ref="C", instant=True, table=True),
         target(f'max by ({by}) (pingone_provisioning_users_impacted{{{ER}}})', ref="D", instant=True, table=True),
         target(f'max by ({by}) (pingone_provisioning_groups_impacted{{{ER}}})', ref="E", instant=True, table=True),
         target(status_expr(ER, by), ref="F", instant=True, table=True),
         target(f'max by ({by}) (pingone_provisioning_last_sync_age_seconds{{{ER}}})', ref="G", instant=True, table=True),
         target(f'max by ({by}) (time() - pingone_provisioning_failing_since_timestamp_seconds{{{ER}}})', ref="H", instant=True, table=True)],
        overrides=[
            column("Value #A", display="Failed events (30m)", color_steps=SEVERITY_STEPS),
            column("Value #B", unit="percentunit", display="Failed share (30m)",
                   color_steps=[{"color": "green", "value": None}, {"color": "red", "value": 0.05}]),
            column("Value #C", display="Failed groups", color_steps=SEVERITY_STEPS),
            column("Value #D", display="Impacted users"),
            column("Value #E", display="Impacted groups"),
            column("Value #F", unit="none", display="Status", mappings=STATUS_MAPPINGS,
                   color_steps=[{"color": "text", "value": None}]),
            column("Value #G", unit="s", display="Since last sync"),
            column("Value #H", unit="s", display="Failing for"),
            column("rule_name", display="Rule", links=RULE_DETAIL_LINK),
            column("environment_name", display="Environment"),
            column("direction", display="Direction"),
        ],
        transformations=[{"id": "merge", "options": {}},
                         {"id": "organize", "options": {"excludeByName": {"Time": True},
                                                        "indexByName": {}, "renameByName": {}}}],
        sort_by="Failed events (30m)"), 24, 10)

    L.row("Over time")
    L.add(timeseries("Failed sync events by rule",
                     "Failed sync attempts per rule in each interval (PingOne's failedCount; a revision resets it, which increase() handles).",
                     "short",
                     [target(f'max by ({RULE_LABELS}) (increase(pingone_provisioning_sync_events_total{{{ER}, result="failure"}}[$__rate_interval])) > 0',
                             legend="{{environment_name}} / {{rule_name}}")]), 12, 8)
    L.add(timeseries("Failed share of sync events by rule",
                     "Failed events / all events of the last 30 minutes per rule; the dashed line is the default threshold of PingOneProvisioningSyncFailing (5%).",
                     "percentunit",
                     [target(failed_share(ER, RULE_LABELS),
                             legend="{{environment_name}} / {{rule_name}}")],
                     threshold=0.05), 12, 8)
    L.add(timeseries("Failed groups by rule", "Groups in failed state per rule.", "short",
                     [target(f'max by ({RULE_LABELS}) (pingone_provisioning_groups{{{ER}, state="failed"}}) > 0',
                             legend="{{environment_name}} / {{rule_name}}")]), 12, 8)
    L.add(timeseries("Time since last sync by rule",
                     "Now minus the rule's Last Sync. PingOneProvisioningSyncStale compares it with a threshold per kind of rule.",
                     "s",
                     [target(f'max by ({RULE_LABELS}) (pingone_provisioning_last_sync_age_seconds{{{ER}}})',
                             legend="{{environment_name}} / {{rule_name}}")]), 12, 8)
    L.add(state_timeline("Rule status", "active, inactive or failed, per rule.",
                         [target(status_expr(ER, RULE_LABELS),
                                 legend="{{environment_name}} / {{rule_name}}")],
                         STATUS_MAPPINGS), 12, 8)
    L.add(state_timeline("Exporter polls by environment",
                         "ok when the last poll of the environment fully succeeded.",
                         [target(f'max by (environment_name) (pingone_exporter_up{{{ENV}}})',
                                 legend="{{environment_name}}")],
                         UP_MAPPINGS), 12, 8)
    return dashboard("pingone-sync-overview", "PingOne provisioning / Overview",
                     "Sync status of every PingOne provisioning rule in every environment, failures first.",
                     L)


def rule_detail():
    L = Layout()
    by = "environment_name, rule_name, direction, source_store, source_type, target_store, target_type, parent_rule_id"
    L.row("Rule")
    L.add(table("Rule", "The rule's stores and direction (pingone_provisioning_rule_info).", "none",
                [target(f'max by ({by}) (pingone_provisioning_rule_info{{{ER}}})', instant=True, table=True)],
                overrides=[column("environment_name", display="Environment"),
                           column("rule_name", display="Rule"),
                           column("direction", display="Direction"),
                           column("source_store", display="Source store"),
                           column("source_type", display="Source type"),
                           column("target_store", display="Target store"),
                           column("target_type", display="Target type"),
                           column("parent_rule_id", display="Parent rule id")],
                transformations=[{"id": "organize", "options": {
                    "excludeByName": {"Time": True, "Value": True}, "indexByName": {},
                    "renameByName": {}}}]), 24, 4)
    L.add(stat("Status", "Sync Status: active, inactive or failed.", "none",
               [target(status_expr(ER, RULE_LABELS))], mappings=STATUS_MAPPINGS,
               steps=[{"color": "text", "value": None}]), 4, 4)
    L.add(stat("Enabled", "The rule's active flag.", "none",
               [target(f'max(pingone_provisioning_rule_enabled{{{ER}}})')],
               mappings=[{"type": "value", "options": {
                   "0": {"text": "disabled", "color": "text", "index": 0},
                   "1": {"text": "enabled", "color": "green", "index": 1}}}],
               steps=[{"color": "text", "value": None}]), 4, 4)
    L.add(stat("Last Sync", "The most recent sync through the rule's connection.", "dateTimeFromNow",
               [target(f'max(pingone_provisioning_last_sync_timestamp_seconds{{{ER}}}) * 1000')],
               color_mode="fixed"), 4, 4)
    L.add(stat("Last Poll (inbound)",
               "The last time PingOne polled the inbound source. Not reported by any documented PingOne API yet, so usually empty (docs/metrics.md).",
               "dateTimeFromNow",
               [target(f'max(pingone_provisioning_last_poll_timestamp_seconds{{{ER}}}) * 1000')],
               color_mode="fixed", no_value="not reported"), 4, 4)
    L.add(stat("Last Write-back",
               "The most recent write-back (Workday). Not reported by any documented PingOne API yet, so usually empty (docs/metrics.md).",
               "dateTimeFromNow",
               [target(f'max(pingone_provisioning_last_writeback_timestamp_seconds{{{ER}}}) * 1000')],
               color_mode="fixed", no_value="not reported"), 4, 4)
    L.add(stat("Latest revision",
               "The environment's latest propagation revision (a configuration change or resync); counts restart from it.",
               "dateTimeFromNow",
               [target(f'max(pingone_provisioning_revision_timestamp_seconds{{{ENV}}}) * 1000')],
               color_mode="fixed"), 4, 4)

    L.row("Users")
    L.add(timeseries("Users by sync state",
                     "Impacted users, and in user-detail mode the users in each state (Success, Failed), counted per user.",
                     "short",
                     [target(f'max(pingone_provisioning_users_impacted{{{ER}}})', legend="impacted", ref="A"),
                      target(f'max by (state) (pingone_provisioning_users{{{ER}}})', legend="{{state}}", ref="B")]),
          12, 8)
    L.add(timeseries("Sync events",
                     "Sync attempts in each interval by result (PingOne's successCount and failedCount: events, not users).",
                     "short",
                     [target(f'max by (result) (increase(pingone_provisioning_sync_events_total{{{ER}}}[$__rate_interval]))',
                             legend="{{result}}")]), 12, 8)
    L.add(timeseries("Failed share of sync events",
                     "Failed events / all events of the last 30 minutes; the dashed line is the default threshold of PingOneProvisioningSyncFailing (5%).",
                     "percentunit",
                     [target(failed_share(ER, "rule_id"), legend="failed share")],
                     threshold=0.05), 12, 8)
    L.add(timeseries("Failed deprovisioning events",
                     "Failed deprovisioning events in each interval (PingOne's failedDeprovisionCount; a revision resets it, which increase() handles).", "short",
                     [target(f'max(increase(pingone_provisioning_deprovision_failure_events_total{{{ER}}}[$__rate_interval]))', legend="failed deprovisionings")]),
          12, 8)
    L.add(table("Why it fails",
                "PingOne's syncStatus.details for the rule's connection (pingone_provisioning_sync_error_info), trimmed and scrubbed; empty while PingOne reports no error.",
                "none",
                [target(f'max by (rule_name, details) (pingone_provisioning_sync_error_info{{{ER}}})', instant=True, table=True)],
                overrides=[column("rule_name", display="Rule"), column("details", display="PingOne says")],
                transformations=[{"id": "organize", "options": {
                    "excludeByName": {"Time": True, "Value": True}, "indexByName": {},
                    "renameByName": {}}}]), 12, 8)
    L.add(timeseries("Write-back failures",
                     "Users not updated by write-back (Workday). Not reported by any documented PingOne API yet, so usually empty (docs/metrics.md).",
                     "short",
                     [target(f'max(pingone_provisioning_writeback_failures{{{ER}}})', legend="write-back failures")]),
          12, 8)

    L.row("Groups")
    L.add(timeseries("Groups by sync state", "Impacted groups and the groups in each state.", "short",
                     [target(f'max(pingone_provisioning_groups_impacted{{{ER}}})', legend="impacted", ref="A"),
                      target(f'max by (state) (pingone_provisioning_groups{{{ER}}})', legend="{{state}}", ref="B")]),
          24, 8)

    L.row("Timing")
    L.add(timeseries("Time since last sync",
                     "Now minus Last Sync, and the PingOneProvisioningSyncStale threshold for this kind of rule.",
                     "s",
                     [target(f'max(pingone_provisioning_last_sync_age_seconds{{{ER}}})', legend="since last sync", ref="A"),
                      target(f'max(pingone:provisioning_sync_age_threshold_seconds{{{ER}}})', legend="alert threshold", ref="B")]),
          12, 8)
    L.add(timeseries("Time since last poll (inbound)",
                     "Now minus Last Poll. Not reported by any documented PingOne API yet, so usually empty.",
                     "s",
                     [target(f'max(pingone_provisioning_last_poll_age_seconds{{{ER}}})', legend="since last poll")]),
          12, 8)
    return dashboard("pingone-sync-rule-detail", "PingOne provisioning / Rule detail",
                     "Every item of the admin console's sync summary for one rule, over time.",
                     L, rule_multi=False)


def exporter_health():
    L = Layout()
    L.row("Polls")
    L.add(state_timeline("Poll status", "ok when the last poll of the environment fully succeeded (pingone_exporter_up).",
                         [target(f'max by (environment_name) (pingone_exporter_up{{{ENV}}})', legend="{{environment_name}}")],
                         UP_MAPPINGS), 12, 8)
    L.add(timeseries("Time since last successful poll",
                     "Now minus the end of the last fully successful poll; the dashed line is the PingOneExporterDataStale threshold (30 min).",
                     "s",
                     [target(f'time() - max by (environment_name) (pingone_exporter_last_success_timestamp_seconds{{{ENV}}})',
                             legend="{{environment_name}}")],
                     threshold=1800), 12, 8)
    L.add(timeseries("Poll duration", "Median and 95th percentile of the wall time of one poll, budget waits and retries included.",
                     "s",
                     [target(f'histogram_quantile(0.5, sum by (environment_name, le) (rate(pingone_exporter_poll_duration_seconds_bucket{{{ENV}}}[$__rate_interval])))',
                             legend="{{environment_name}} p50", ref="A"),
                      target(f'histogram_quantile(0.95, sum by (environment_name, le) (rate(pingone_exporter_poll_duration_seconds_bucket{{{ENV}}}[$__rate_interval])))',
                             legend="{{environment_name}} p95", ref="B")]), 12, 8)
    L.add(timeseries("Polls and poll failures", "Polls per second, and failed polls by the reason of their first failure.",
                     "ops",
                     [target(f'sum by (environment_name) (rate(pingone_exporter_poll_duration_seconds_count{{{ENV}}}[$__rate_interval]))',
                             legend="{{environment_name}} polls", ref="A"),
                      target(f'sum by (environment_name, reason) (rate(pingone_exporter_poll_failures_total{{{ENV}}}[$__rate_interval]))',
                             legend="{{environment_name}} failed: {{reason}}", ref="B")]), 12, 8)

    L.row("PingOne API")
    L.add(timeseries("API requests by endpoint and code", "HTTP requests to PingOne; code is the status, or timeout/connection.",
                     "reqps",
                     [target(f'sum by (endpoint, code) (rate(pingone_exporter_api_requests_total{{{ENV}}}[$__rate_interval]))',
                             legend="{{endpoint}} {{code}}")], stack=True), 12, 8)
    L.add(timeseries("API errors by environment, endpoint and code", "Requests that did not answer 2xx.",
                     "reqps",
                     [target(f'sum by (environment_name, endpoint, code) (rate(pingone_exporter_api_requests_total{{{ENV}, code!~"2.."}}[$__rate_interval]))',
                             legend="{{environment_name}} {{endpoint}} {{code}}")]), 12, 8)
    L.add(timeseries("Retries by endpoint and reason", "Requests retried after a timeout, a connection failure, 408, 429 or 5xx.",
                     "reqps",
                     [target(f'sum by (environment_name, endpoint, reason) (rate(pingone_exporter_api_retries_total{{{ENV}}}[$__rate_interval]))',
                             legend="{{environment_name}} {{endpoint}} {{reason}}")]), 8, 8)
    L.add(timeseries("Rate limited (HTTP 429)", "429 answers from PingOne (alert: PingOneExporterRateLimited).",
                     "reqps",
                     [target(f'sum by (environment_name) (rate(pingone_exporter_rate_limited_total{{{ENV}}}[$__rate_interval]))',
                             legend="{{environment_name}}")]), 8, 8)
    L.add(timeseries("Token requests", "Access tokens fetched (about one an hour when healthy), and token requests PingOne refused (alert: PingOneExporterAuthFailing).",
                     "reqps",
                     [target(f'sum by (environment_name) (rate(pingone_exporter_token_refreshes_total{{{ENV}}}[$__rate_interval]))',
                             legend="{{environment_name}} fetched", ref="A"),
                      target(f'sum by (environment_name, code) (rate(pingone_exporter_api_requests_total{{{ENV}, endpoint="token", code=~"4.."}}[$__rate_interval]))',
                             legend="{{environment_name}} refused {{code}}", ref="B")]), 8, 8)

    L.row("Request budgets")
    L.add(timeseries("Planned requests against each budget",
                     "Requests per second the configured cadences of each budget's environments need (from their last known size), against the budget's rate (its limit line); above it the least urgent data falls behind (alert: PingOneExporterBudgetOverSubscribed; status --plan explains).",
                     "reqps",
                     [target('sum by (budget) (pingone_exporter_budget_planned_requests_per_second)',
                             legend="{{budget}} planned", ref="A"),
                      target('max by (budget) (pingone_exporter_budget_limit_requests_per_second)',
                             legend="{{budget}} limit", ref="B")]), 8, 8)
    L.add(timeseries("Planned requests by kind of data",
                     "What each cadence needs, most urgent first: stores (the failure signal) and tokens, then rules, then synced groups and user-detail walks.",
                     "reqps",
                     [target('sum by (budget, data) (pingone_exporter_budget_planned_requests_per_second)',
                             legend="{{budget}} {{data}}")], stack=True), 8, 8)
    L.add(timeseries("Requests granted by each budget",
                     "Request starts each budget granted per second: calls, retries, tokens and user-detail walks of its environments.",
                     "reqps",
                     [target('sum by (budget) (rate(pingone_exporter_budget_requests_total[$__rate_interval]))',
                             legend="{{budget}}")]), 8, 8)
    L.add(timeseries("Achieved data age, in configured intervals",
                     "Age of the oldest read of each kind of data of each budget's environments, divided by its configured interval: about 1 when the cadence is kept; the dashed line is the PingOneExporterDataBehindCadence threshold (3).",
                     "short",
                     [target('max by (budget, data) (pingone_exporter_data_age_seconds / pingone_exporter_data_interval_seconds)',
                             legend="{{budget}} {{data}}")], threshold=3), 24, 8)

    L.row("Exporter")
    L.add(stat("Config reload", "Whether the last configuration load or reload succeeded (lowest over all exporters).",
               "none",
               [target('min(pingone_exporter_config_last_reload_successful)')],
               mappings=[{"type": "value", "options": {
                   "0": {"text": "failed", "color": "red", "index": 0},
                   "1": {"text": "ok", "color": "green", "index": 1}}}],
               steps=[{"color": "text", "value": None}]), 6, 4)
    L.add(stat("Last config load", "When the configuration was last loaded or reloaded successfully (most recent over all exporters).",
               "dateTimeFromNow",
               [target('max(pingone_exporter_config_last_reload_success_timestamp_seconds) * 1000')],
               color_mode="fixed"), 6, 4)
    L.add(table("Build", "Exporter versions being scraped.", "none",
                [target('max by (instance, version, revision) (pingone_exporter_build_info)', instant=True, table=True)],
                overrides=[column("instance", display="Instance"), column("version", display="Version"),
                           column("revision", display="Revision")],
                transformations=[{"id": "organize", "options": {
                    "excludeByName": {"Time": True, "Value": True}, "indexByName": {},
                    "renameByName": {}}}]), 12, 4)
    L.add(timeseries("Unknown API values", "Enum values PingOne returned that the exporter does not know (see the exporter's logs); new ones mean the API changed.",
                     "short",
                     [target('sum by (field, value) (increase(pingone_exporter_unknown_values_total[$__rate_interval]))',
                             legend="{{field}}={{value}}")]), 24, 6)
    return dashboard("pingone-sync-exporter-health", "PingOne provisioning / Exporter health",
                     "The exporter's own health: polls, PingOne API requests by code, retries, rate limiting, tokens, request budgets.",
                     L)


def capacity():
    L = Layout()
    L.row("Users and groups")
    L.add(timeseries("Impacted users by environment",
                     "Users in scope summed over the environment's rules (a user in several rules counts once per rule; write-back rules left out), and the 30-day linear trend projected 30 days ahead.",
                     "short",
                     [target(f'pingone:provisioning_users_impacted:sum_by_environment{{{ENV}}}', legend="{{environment_name}}", ref="A"),
                      target(f'predict_linear(pingone:provisioning_users_impacted:sum_by_environment{{{ENV}}}[30d], 30 * 86400)',
                             legend="{{environment_name}} in 30 days (trend)", ref="B")]),
          12, 8)
    L.add(timeseries("Impacted users by rule", "Users in scope of each rule, and the 30-day linear trend projected 30 days ahead.", "short",
                     [target(f'pingone:provisioning_users_impacted:max_by_rule{{{ER}}}',
                             legend="{{environment_name}} / {{rule_name}}", ref="A"),
                      target(f'predict_linear(pingone:provisioning_users_impacted:max_by_rule{{{ER}}}[30d], 30 * 86400)',
                             legend="{{environment_name}} / {{rule_name}} in 30 days (trend)", ref="B")]), 12, 8)
    L.add(stat("Impacted users, change over the range",
               "Change of the impacted users of the selected environments between the start and the end of the time range.",
               "short",
               [target(f'sum(delta(pingone:provisioning_users_impacted:sum_by_environment{{{ENV}}}[$__range]))')],
               color_mode="fixed"), 6, 8)
    L.add(timeseries("Impacted groups by environment", "Groups synced by the environment's rules.", "short",
                     [target(f'pingone:provisioning_groups_impacted:sum_by_environment{{{ENV}}}', legend="{{environment_name}}")]),
          9, 8)
    L.add(timeseries("Rules by status", "Number of rules per environment in each status.", "short",
                     [target(f'pingone:provisioning_rules:count_by_environment_status{{{ENV}}}',
                             legend="{{environment_name}} {{status}}")]), 9, 8)

    L.row("Sync volume")
    L.add(timeseries("Sync events per day by environment",
                     "Sync attempts (success and failure) of the last day per environment, from PingOne's event counters (write-back rules left out), and the 30-day linear trend projected 30 days ahead.",
                     "short",
                     [target(f'sum by (environment_name) (pingone:provisioning_sync_events:increase1d_by_environment{{{ENV}}})',
                             legend="{{environment_name}}", ref="A"),
                      target(f'sum by (environment_name) (predict_linear(pingone:provisioning_sync_events:increase1d_by_environment{{{ENV}}}[30d], 30 * 86400))',
                             legend="{{environment_name}} in 30 days (trend)", ref="B")]),
          12, 8)
    L.add(timeseries("Sync events per day by rule",
                     "Sync attempts of the last day per rule, and the 30-day linear trend projected 30 days ahead.",
                     "short",
                     [target(f'sum by (environment_name, rule_name) (pingone:provisioning_sync_events:increase1d_by_rule{{{ER}}})',
                             legend="{{environment_name}} / {{rule_name}}", ref="A"),
                      target(f'sum by (environment_name, rule_name) (predict_linear(pingone:provisioning_sync_events:increase1d_by_rule{{{ER}}}[30d], 30 * 86400))',
                             legend="{{environment_name}} / {{rule_name}} in 30 days (trend)", ref="B")]),
          12, 8)
    L.add(timeseries("Failed share of sync events by environment",
                     "Failed events / all events of the last day, per environment.",
                     "percentunit",
                     [target(f'sum by (environment_name) (pingone:provisioning_sync_events:increase1d_by_environment{{{ENV}, result="failure"}})\n'
                             f'/ sum by (environment_name) (pingone:provisioning_sync_events:increase1d_by_environment{{{ENV}}})',
                             legend="{{environment_name}}")]),
          12, 8)
    L.add(timeseries("Failed share of sync events by rule",
                     "Failed events / all events of the last hour, per rule; the dashed line is the default threshold of PingOneProvisioningSyncFailing (5%, over 30 minutes).",
                     "percentunit",
                     [target(f'pingone:provisioning_sync_events_failed:ratio_rate1h{{{ER}}}',
                             legend="{{environment_name}} / {{rule_name}}")], threshold=0.05), 12, 8)

    L.row("PingOne API budget")
    L.add(timeseries("API requests per hour by environment",
                     "Requests the exporter sends to PingOne, averaged over an hour: the share of the licence's API budget it uses.",
                     "short",
                     [target(f'pingone:exporter_api_requests:rate1h_by_environment{{{ENV}}} * 3600',
                             legend="{{environment_name}}")]), 24, 8)
    return dashboard("pingone-sync-capacity", "PingOne provisioning / Capacity trends",
                     "Impacted users and sync volume (events per day) per rule and environment over months with 30-day trends, failed shares of sync events, API budget.",
                     L, time_from="now-30d", refresh="")


DASHBOARDS = {
    "pingone-sync-overview.json": overview,
    "pingone-sync-rule-detail.json": rule_detail,
    "pingone-sync-exporter-health.json": exporter_health,
    "pingone-sync-capacity.json": capacity,
}


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, build in DASHBOARDS.items():
        text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("dashboards out of date (run scripts/gen-dashboards.py): " + ", ".join(stale),
              file=sys.stderr)
        sys.exit(1)
    if check:
        print(f"dashboards up to date ({len(DASHBOARDS)} files)")


if __name__ == "__main__":
    main()
