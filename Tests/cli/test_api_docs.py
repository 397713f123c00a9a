#!/usr/bin/env python3
"""Every public symbol of the protocol clients has a `///` comment (issue #15).

Reads the Swift sources of the client modules and lists each public declaration (types, members,
initialisers, and the cases of public enums) whose line is not preceded by a `///` comment
(attributes such as `@inlinable` may stand between). Exits 1 when any is missing. No build, no stack.
"""

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = ["AMQPProtocol", "AMQPClient", "RedisClient", "BoltClient", "SMTPClient", "MongoStore"]
PUBLIC = re.compile(
    r"\s*(@\w+(\(.*\))?\s+)*public\s+(private\(set\)\s+)?(final\s+|indirect\s+)?"
    r"(func|var|let|init|struct|enum|class|actor|protocol|typealias|static|case|subscript|convenience|mutating|nonisolated)\b"
)
PUBLIC_ENUM = re.compile(r"(\s*)(@\w+(\(.*\))?\s+)*public\s+(indirect\s+)?enum\b")
CASE = re.compile(r"(\s*)case\s+[`\w]")


def documented(lines, index):
    above = index - 1
    while above >= 0 and re.match(r"\s*@", lines[above]):
        above -= 1
    return above >= 0 and lines[above].strip().startswith("///")


def missing_in(path):
    lines = path.read_text().splitlines()
    enums = []  # indentation of the public enums we are in
    for index, line in enumerate(lines):
        if PUBLIC.match(line) and not documented(lines, index):
            yield index + 1, line.strip()
        opened = PUBLIC_ENUM.match(line)
        if opened:
            enums.append(len(opened.group(1)))
            continue
        case = CASE.match(line)
        if case and enums and len(case.group(1)) == enums[-1] + 4 and not line.rstrip().endswith(":"):
            if not documented(lines, index):
                yield index + 1, line.strip()
        closing = re.match(r"(\s*)\}", line)
        if closing and enums and len(closing.group(1)) == enums[-1]:
            enums.pop()


def main():
    problems = []
    for module in MODULES:
        for path in sorted((REPO / "Sources" / module).rglob("*.swift")):
            for number, text in missing_in(path):
                problems.append(f"{path.relative_to(REPO)}:{number}: {text[:100]}")
    if problems:
        print(f"test_api_docs: FAIL: {len(problems)} public declarations of the protocol clients without ///:")
        for problem in problems:
            print("  " + problem)
        sys.exit(1)
    print(f"test_api_docs: ok: every public declaration of {', '.join(MODULES)} has its /// comment")


if __name__ == "__main__":
    main()
