#!/usr/bin/env python3
"""The README's configuration table against the binaries' key table.

Usage: check_config_table.py README.md CFG_KEYS
CFG_KEYS is tests/docker/cfg_keys.c built: with --defaults it prints each
key's name, type and default as every warren binary has them. Every key
must be a row of the README's table ("| key | default | |"), every row's
key a key, and each default the binary's, written as a config file would
write it ('text' for strings, 10, True). Rows of per-collection keys
(`<Collection>.NAME`) are left out: those are not in the key table.
Exits 1 naming each difference.
"""
import re
import subprocess
import sys


def table_rows(readme):
    """The rows of the configuration table, as (line number, cells)."""
    lines = open(readme, encoding="utf-8").read().split("\n")
    start = lines.index("| key | default | |")
    rows = []
    for n, line in enumerate(lines[start + 2:], start + 3):
        if not line.startswith("|"):
            break
        rows.append((n, line.split("|")[1:3]))
    return rows


def documented(readme):
    """{key: (line, default as written)} from the README's table."""
    out, problems = {}, []
    for n, (keys_cell, default_cell) in table_rows(readme):
        keys = re.findall(r"`([^`]*)`", keys_cell)
        if any(k.startswith("<") for k in keys):
            continue
        defaults = re.findall(r"`([^`]*)`", default_cell)
        if len(keys) != len(defaults):
            problems.append("README.md:%d: %d keys but %d defaults" % (n, len(keys), len(defaults)))
            continue
        for k, d in zip(keys, defaults):
            out[k] = (n, d)
    return out, problems


def written(kind, value):
    """A default as a config file writes it."""
    return "'%s'" % value if kind == "str" else value


def main():
    readme, cfg_keys = sys.argv[1], sys.argv[2]
    text = subprocess.run([cfg_keys, "--defaults"], check=True, capture_output=True,
                          text=True).stdout
    actual = {}
    for line in text.splitlines():
        name, kind, default = line.split("\t")
        actual[name] = (kind, default)
    docs, problems = documented(readme)
    for name, (kind, default) in actual.items():
        if name not in docs:
            problems.append("%s is not in the README's configuration table" % name)
        elif docs[name][1] != written(kind, default):
            problems.append("README.md:%d: %s's default is %s there, %s in the binaries"
                            % (docs[name][0], name, docs[name][1], written(kind, default)))
    for name, (n, _) in docs.items():
        if name not in actual:
            problems.append("README.md:%d: %s is no configuration key" % (n, name))
    for p in problems:
        print("config table: " + p, file=sys.stderr)
    if problems:
        return 1
    print("config table: %d keys, each as the binaries have it" % len(actual))
    return 0


if __name__ == "__main__":
    sys.exit(main())
