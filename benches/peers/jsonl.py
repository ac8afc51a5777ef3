"""Reads the JSON-lines files that the Rust timers and the Python peers
print: lines starting with `{`; objects with an "info" key describe the run,
the others are measurements. Shared by report.py, report_train.py and
report_ais.py."""

import json


def load(path):
    """Returns (info objects, measurement objects) in file order."""
    info, rows = [], []
    with open(path) as f:
        for raw in f:
            raw = raw.strip()
            if raw.startswith("{"):
                d = json.loads(raw)
                (info if "info" in d else rows).append(d)
    return info, rows
