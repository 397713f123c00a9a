#!/usr/bin/env python3
"""The README documents every command, option and setting that exists, and nothing else.

Compares `decode-async --help` (every subcommand, recursively: its options) with the README's
command table, `decode-async-bench --help` likewise with the README's benchmark table, and the
environment variables the configuration reads (the SettingsReader calls in Sources/DecodeAsync) with
the README's configuration table. Prints a diff and exits 1 on any difference. Needs the built
binaries (DECODE_ASYNC_BIN, default .build/debug/decode-async; DECODE_ASYNC_BENCH_BIN, default
.build/debug/decode-async-bench); no stack.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = {
    "decode-async": (os.environ.get("DECODE_ASYNC_BIN", str(REPO / ".build/debug/decode-async")), "## Running the services"),
    "decode-async-bench": (
        os.environ.get("DECODE_ASYNC_BENCH_BIN", str(REPO / ".build/debug/decode-async-bench")),
        "### Benchmarks",
    ),
}
README = (REPO / "README.md").read_text()
IGNORED_OPTIONS = {"--help", "--version", "--experimental-dump-help"}


def help_text(program, path):
    result = subprocess.run(
        [PROGRAMS[program][0], *path, "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", "")},
    )
    if result.returncode != 0:
        sys.exit(f"test_docs_match: FAIL: {' '.join([program, *path, '--help'])} exited {result.returncode}")
    return result.stdout


def sections(text):
    """Maps each `NAME:` heading of swift-argument-parser's help to its lines."""
    found, current = {}, None
    for line in text.splitlines():
        heading = re.fullmatch(r"([A-Z][A-Z ]+):(.*)", line)
        if heading:
            current = heading.group(1)
            found[current] = [heading.group(2)] if heading.group(2).strip() else []
        elif current:
            found[current].append(line)
    return found


def commands(program, path=()):
    """Yields the path of every leaf command of `program` under `path`."""
    parts = sections(help_text(program, path))
    subcommands = []
    for line in parts.get("SUBCOMMANDS", []):
        if not line.strip():
            break  # the list ends at a blank line ("See 'decode-async help <subcommand>'" follows)
        match = re.match(r"  (\S+)", line)
        if match and not line.startswith("   ") and match.group(1) != "help":
            subcommands.append(match.group(1))
    if not subcommands:
        yield path
    for name in subcommands:
        yield from commands(program, (*path, name))


def option_lines(text):
    options = set()
    for line in text.splitlines():
        match = re.match(r"  (-\w, )?(--[a-z0-9][a-z0-9-]*)", line)
        if match:
            options.add(match.group(2))
    return options


def documented_commands(program):
    start = README.index(PROGRAMS[program][1])
    table = {}
    for line in README[start:].splitlines():
        if not line.startswith("| `"):
            if table and not line.startswith("|"):
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        words = []
        for word in cells[0].strip("`").split():
            if word[0] in "<[-":
                break
            words.append(word)
        table[tuple(words)] = set(re.findall(r"`(--[a-z0-9-]+)`", cells[1]))
    return table


def read_variables():
    pattern = re.compile(r'settings\.(?:string|requiredString|int|port|bool|choice|uri)\(\s*"([A-Z][A-Z0-9_]*)"')
    found = set()
    for source in (REPO / "Sources/DecodeAsync").rglob("*.swift"):
        found.update(pattern.findall(source.read_text()))
    return found


def documented_variables():
    start = README.index("## Configuration")
    end = README.index("\n## ", start + 1)
    found = set()
    for line in README[start:end].splitlines():
        if line.startswith("| `"):
            first = line.strip("|").split("|")[0]
            found.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first))
    return found


def main():
    problems = []
    actual = {}
    documented = {}
    for program in PROGRAMS:
        for path in commands(program):
            options = option_lines("\n".join(sections(help_text(program, path)).get("OPTIONS", [])))
            actual[(program, *path)] = options - IGNORED_OPTIONS
        for path, options in documented_commands(program).items():
            documented[(program, *path)] = options
    for path in sorted(set(actual) | set(documented)):
        name = " ".join(path)
        if path not in documented:
            problems.append(f"+ {name}: exists, no row in the README's command table")
            continue
        if path not in actual:
            problems.append(f"- {name}: README row, no such command")
            continue
        for option in sorted(actual[path] - documented[path]):
            problems.append(f"+ {name} {option}: exists, not in its README row")
        for option in sorted(documented[path] - actual[path]):
            problems.append(f"- {name} {option}: in its README row, not an option")
    read, written = read_variables(), documented_variables()
    for variable in sorted(read - written):
        problems.append(f"+ {variable}: read by the configuration, no row in the README's configuration table")
    for variable in sorted(written - read):
        problems.append(f"- {variable}: in the README's configuration table, never read")
    if problems:
        print("test_docs_match: FAIL: README.md and the code disagree (+ exists only in the code, - only in the README):")
        for problem in problems:
            print("  " + problem)
        sys.exit(1)
    print(
        f"test_docs_match: ok: {len(actual)} commands (of {', '.join(PROGRAMS)}) and {len(read)} settings,"
        " each with its README row"
    )


if __name__ == "__main__":
    main()
