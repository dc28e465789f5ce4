#!/usr/bin/python3
"""The Python client's parsers as a benchmark peer of bench/run.

    py_parse.py text|openmetrics FILE [EXPECTED_SAMPLES]

Reads FILE whole and iterates over every sample that prometheus_client's
text parser (prometheus_client.parser) or OpenMetrics parser
(prometheus_client.openmetrics.parser) yields, the way a consumer of the
library would. Prints the number of samples; exits 1 when it differs from
EXPECTED_SAMPLES, so that a parser that silently skips lines fails the run.
Run with Debian's /usr/bin/python3, which has python3-prometheus-client.
"""
import sys


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("text", "openmetrics"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.argv[1] == "openmetrics":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    else:
        from prometheus_client.parser import text_string_to_metric_families
    with open(sys.argv[2], encoding="utf-8") as f:
        text = f.read()
    n = 0
    for family in text_string_to_metric_families(text):
        n += len(family.samples)
    print(n)
    if len(sys.argv) == 4 and n != int(sys.argv[3]):
        print(f"py_parse: {n} samples, expected {sys.argv[3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
