#!/usr/bin/env python3
"""Strictly parses OpenMetrics text files with the reference parser of the
Python prometheus-client (the one prometheus/client_rust's own tests use).

Usage: check_openmetrics.py FILE...   exit 0 when every file parses.
"""
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        families = list(text_string_to_metric_families(text))
        samples = sum(len(f.samples) for f in families)
        print(f"{path}: OK ({len(families)} families, {samples} samples)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # noqa: BLE001 - any parse error fails the check
        print(f"OpenMetrics parse error: {e}", file=sys.stderr)
        sys.exit(1)
