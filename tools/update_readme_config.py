#!/usr/bin/env python3
"""Replaces README.md's configuration table with `argus config reference` (ConfigDocTest checks
that they agree). Usage: tools/update_readme_config.py [path/to/argus]"""
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
binary = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "argus")
table = subprocess.run([binary, "config", "reference"], capture_output=True, text=True,
                       check=True).stdout.strip("\n").splitlines()
readme = root / "README.md"
lines = readme.read_text().splitlines()
start = lines.index(table[0])  # the header row
end = start
while end < len(lines) and lines[end].startswith("|"):
    end += 1
lines[start:end] = table
readme.write_text("\n".join(lines) + "\n")
print(f"README.md: configuration table of {len(table) - 2} keys")
