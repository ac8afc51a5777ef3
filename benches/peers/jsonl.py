"""Reads the JSON-lines files that the Rust timers and the Python peers
print: lines starting with `{`; objects with an "info" key describe the run,
the others are measurements. Shared by report.py, report_train.py and
report_ais.py."""

import json


def objects(path):
    """The JSON objects of the file, in order."""
    with open(path) as f:
        for raw in f:
            raw = raw.strip()
            if raw.startswith("{"):
                yield json.loads(raw)


def load(path):
    """Returns (info objects, measurement objects) in file order."""
    info, rows = [], []
    for d in objects(path):
        (info if "info" in d else rows).append(d)
    return info, rows


def load_processes(path):
    """The file split into processes: each process prints one info object
    and then its measurements. Returns (info objects, one list of
    measurements per process); exits with a message when a measurement
    comes before the first info object or there is none."""
    info, procs = [], []
    for d in objects(path):
        if "info" in d:
            info.append(d)
            procs.append([])
        elif not procs:
            raise SystemExit(f"{path}: a measurement before the first info line")
        else:
            procs[-1].append(d)
    if not procs:
        raise SystemExit(f"{path}: no process output (PEERS_OURS_RUNS must be at least 1)")
    return info, procs
