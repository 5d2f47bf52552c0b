#!/usr/bin/env python3
"""Every /usr/share path that the code, tests, benches and scripts read belongs to a package that
scripts/setup.sh installs.

A fresh Debian 12 machine has only what the setup script installs; a test that reads a file of a
package installed by hand passes on the developer's machine and fails on a new one (it happened:
dlib's example faces). This check finds every literal /usr/share/... path in the given trees,
asks dpkg which package owns it, and fails unless that package is one the setup script names.

  check_packages.py ROOT            exit 0 when every path is accounted for, 1 otherwise
  check_packages.py ROOT --setup S  use S instead of ROOT/scripts/setup.sh (for the self-test)
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys

TREES = ("src", "tests", "bench", "scripts", "web/scripts")
SUFFIXES = {".cc", ".h", ".sh", ".py", ".lua", ".cmake", ".txt", ".in", ".js", ".mjs"}
PATH_RE = re.compile(r"/usr/share/[A-Za-z0-9._+@-]+(?:/[A-Za-z0-9._+@-]+)*")


def literal_paths(root):
    """{path: [files that mention it]} for every /usr/share path written in the trees."""
    found = {}
    for tree in TREES:
        base = root / tree
        if not base.is_dir():
            continue
        for f in sorted(base.rglob("*")):
            if not f.is_file() or (f.suffix not in SUFFIXES and f.name != "CMakeLists.txt"):
                continue
            if "node_modules" in f.parts:
                continue
            try:
                text = f.read_text(errors="replace")
            except OSError:
                continue
            for m in PATH_RE.finditer(text):
                path = m.group(0).rstrip("/.")
                found.setdefault(path, []).append(str(f.relative_to(root)))
    return found


def setup_packages(setup):
    out = subprocess.run(["bash", str(setup), "--list-packages"], capture_output=True, text=True,
                         check=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def owners(path):
    """Packages dpkg names as owners of `path` (architecture qualifiers dropped)."""
    r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if r.returncode != 0:
        return set()
    names = set()
    for line in r.stdout.splitlines():
        if ": " not in line:
            continue
        for name in line.split(": ", 1)[0].split(","):
            names.add(name.strip().split(":")[0])
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--setup")
    args = ap.parse_args()
    root = pathlib.Path(args.root).resolve()
    setup = pathlib.Path(args.setup) if args.setup else root / "scripts" / "setup.sh"
    wanted = setup_packages(setup)
    problems = []
    paths = literal_paths(root)
    for path, files in sorted(paths.items()):
        where = ", ".join(sorted(set(files))[:3])
        if not os.path.exists(path):
            problems.append(f"{path} (read by {where}) does not exist here: install the package "
                            f"that holds it from scripts/setup.sh")
            continue
        pkgs = owners(path)
        if not pkgs:
            problems.append(f"{path} (read by {where}) belongs to no Debian package: read files "
                            f"that a package installs, or make them in the test")
        elif not pkgs & wanted:
            problems.append(f"{path} (read by {where}) belongs to {', '.join(sorted(pkgs))}, "
                            f"which scripts/setup.sh does not install: add it there")
    for p in problems:
        print("check_packages:", p)
    if problems:
        return 1
    print(f"check_packages: {len(paths)} /usr/share paths, each from a package setup.sh installs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
