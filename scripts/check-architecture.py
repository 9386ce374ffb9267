#!/usr/bin/env python3
"""Checks that the source tree keeps the shape the README describes.

- the README's "Source layout" lists every directory under Sources/, once, and nothing else;
- a target depends only on targets listed above it there (dependencies point one way);
- every declared dependency (target or product) is imported by at least one file of the target,
  and every imported module is declared (or is the toolchain's: Foundation, Glibc, ...);
- the strict settings enable MemberImportVisibility and InternalImportsByDefault;
- no file uses `@_exported import`;
- every `.enabled(if:)`/`.disabled(if:)` condition of a test says why it would not run;
- no test expects an IconError without checking its code (`expectIconError(.code)`);
- no file of the product (Sources/ but IconTestSupport) outside the tool runner starts processes or threads, blocks on semaphores, or
  installs signal handlers itself (Foundation.Process, Thread, DispatchSemaphore, signal()).

Usage: scripts/check-architecture.py [package-dir]   (exit 1 with one line per problem)
"""
import json
import os
import re
import subprocess
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
problems = []

readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
section = readme.split("## Source layout", 1)
if len(section) < 2:
    sys.exit("README.md has no '## Source layout' section")
block = section[1].split("```", 2)[1]
listed = [m.group(1) for m in re.finditer(r"^Sources/([^/\s]+)/", block, re.M)]
present = sorted(d for d in os.listdir(os.path.join(root, "Sources")) if os.path.isdir(os.path.join(root, "Sources", d)))
for name in sorted(set(present) - set(listed)):
    problems.append(f"Sources/{name} is not in the README's source layout")
for name in sorted(set(listed) - set(present)):
    problems.append(f"the README's source layout lists Sources/{name}, which does not exist")
for name in sorted({n for n in listed if listed.count(n) > 1}):
    problems.append(f"the README's source layout lists Sources/{name} more than once")
order = {name: index for index, name in enumerate(listed)}

dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                 capture_output=True, text=True).stdout)


def dependency_names(target):
    for dependency in target["dependencies"]:
        for kind in ("byName", "target"):
            if kind in dependency:
                yield dependency[kind][0], True
        if "product" in dependency:
            yield dependency["product"][0], False


def swift_files(directory):
    for dirpath, _, filenames in os.walk(directory):
        for filename in filenames:
            if filename.endswith(".swift"):
                yield os.path.join(dirpath, filename)


# Modules of the toolchain and the OS, imported without a package dependency.
system_modules = {"Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "CDispatch",
                  "Synchronization", "Testing", "XCTest", "os", "_Concurrency", "CoreFoundation", "SwiftGlibc"}
import_line = re.compile(r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+|package\s+|internal\s+|private\s+|fileprivate\s+)?import\s+(?:struct\s+|enum\s+|class\s+|func\s+)?(\w+)", re.M)
for target in dump["targets"]:
    name = target["name"]
    directory = os.path.join(root, target.get("path") or ("Tests" if target["type"] == "test" else "Sources"), "" if target.get("path") else name)
    imported = set()
    for path in swift_files(directory):
        imported.update(import_line.findall(open(path, encoding="utf-8").read()))
    declared = {dependency for dependency, _ in dependency_names(target)}
    for module in sorted(imported - declared - system_modules - {name}):
        problems.append(f"{name} imports {module} without declaring it as a dependency in Package.swift")
    for dependency, is_target in dependency_names(target):
        if dependency not in imported:
            problems.append(f"{name} declares a dependency on {dependency} but no file of it imports {dependency}")
        if is_target and target["type"] != "test" and name in order and dependency in order and order[dependency] > order[name]:
            problems.append(f"{name} depends on {dependency}, which the README's source layout lists below it")

package_swift = open(os.path.join(root, "Package.swift"), encoding="utf-8").read()
for feature in ("MemberImportVisibility", "InternalImportsByDefault"):
    if f'.enableUpcomingFeature("{feature}")' not in package_swift:
        problems.append(f"Package.swift's strict settings do not enable {feature}")

# The runner is SubprocessToolRunner.swift and its extensions (SubprocessToolRunner+*.swift).
runner_prefix = os.path.join(root, "Sources", "IconCore", "SubprocessToolRunner")
# IconTestSupport drives the real `icon` binary, openssl and certutil from tests (signals, exit
# codes, pids): it is test code, never linked into `icon`.
test_support = os.path.join(root, "Sources", "IconTestSupport")
bypass = re.compile(r"\b(?:Foundation\.)?Process\(\)|\bThread\s*[.({]|\bDispatchSemaphore\b|(?<![\w.])signal\(")
for top in ("Sources", "Tests"):
    for path in swift_files(os.path.join(root, top)):
        text = open(path, encoding="utf-8").read()
        relative = os.path.relpath(path, root)
        if re.search(r"^\s*@_exported\s+import", text, re.M):
            problems.append(f"{relative} uses @_exported import; import the module where it is used")
        if top == "Sources" and not path.startswith(runner_prefix) and not path.startswith(test_support + os.sep):
            code = re.sub(r"//[^\n]*", "", text)
            for match in bypass.finditer(code):
                line = code.count("\n", 0, match.start()) + 1
                problems.append(f"{relative}:{line}: {match.group(0)} outside the tool runner; use ToolRunner")

# Every condition that can keep a test from running says why (Swift Testing shows the reason).
def condition_calls(code):
    for match in re.finditer(r"\.(?:enabled|disabled)\(if:", code):
        depth, index, in_string = 1, match.end(), False
        while index < len(code) and depth:
            char = code[index]
            if char == '"' and code[index - 1] != "\\":
                in_string = not in_string
            elif not in_string and char == "(":
                depth += 1
            elif not in_string and char == ")":
                depth -= 1
            index += 1
        yield match.start(), code[match.end():index - 1]

for path in [*swift_files(os.path.join(root, "Tests")), *swift_files(test_support)]:
    code = re.sub(r"//[^\n]*", "", open(path, encoding="utf-8").read())
    for start, arguments in condition_calls(code):
        # The reason is a string argument after the condition, at the top level of the call.
        depth, has_reason = 0, False
        for index, char in enumerate(arguments):
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
            elif char == "," and depth == 0 and arguments[index + 1:].lstrip().startswith('"'):
                has_reason = True
        if not has_reason:
            line = code.count("\n", 0, start) + 1
            problems.append(f"{os.path.relpath(path, root)}:{line}: a test condition without a reason; add one: .enabled(if: ..., \"needs ...\")")

# A test that expects an IconError says which one: expectIconError(.code) or a checked result.
unchecked = re.compile(r"^(?!.*=\s*(?:try\??\s+)?(?:await\s+)?#(?:expect|require)).*#(?:expect|require)\(throws: IconError\.self", re.M)
assigned = re.compile(r"let (\w+) = [^\n]*#(?:expect|require)\(throws: IconError\.self")
for path in swift_files(os.path.join(root, "Tests")):
    code = open(path, encoding="utf-8").read()
    for match in unchecked.finditer(code):
        line = code.count("\n", 0, match.start()) + 1
        problems.append(f"{os.path.relpath(path, root)}:{line}: #expect(throws: IconError.self) without checking the code; use expectIconError(.code)")
    for match in assigned.finditer(code):
        # The caught error's code is checked within the next lines.
        following = "\n".join(code[match.start():].split("\n")[:14])
        # A helper that returns the error leaves the check to its callers.
        checked = re.search(re.escape(match.group(1)) + r"\??\.code\b", following)
        if not checked and not re.search(r"return " + re.escape(match.group(1)) + r"\b", following):
            line = code.count("\n", 0, match.start()) + 1
            problems.append(f"{os.path.relpath(path, root)}:{line}: the IconError in '{match.group(1)}' is caught but its code is not checked; #expect({match.group(1)}.code == ...)")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
