"""Parses OpenMetrics text from stdin with the reference parser of the
Prometheus Python client (PyPI `prometheus-client`), which refuses anything
the OpenMetrics 1.0 format does not allow, and prints each family's name,
type and sample count as JSON."""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    families = {
        family.name: {"type": family.type, "samples": len(family.samples)}
        for family in text_string_to_metric_families(text)
    }
    print(json.dumps(families))


if __name__ == "__main__":
    main()
