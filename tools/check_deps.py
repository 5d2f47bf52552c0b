#!/usr/bin/env python3
"""Checks the include rules of STYLE.md §2 over src/. Exit 1 and a list of violations if any.

- api and engine never include each other;
- retrieval includes neither api nor engine;
- core includes nothing else under src/;
- store contracts (src/store/*.h|cc) include only core;
- a concrete backend (src/store/<impl>/) is included only by server/, cli/ and its own folder;
  unit tests (*_test.cc) may include the backend they run against.
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
MODULES = ("core", "store", "engine", "retrieval", "api", "server", "cli")


def module_of(rel):
    parts = rel.parts
    if parts[0] != "store":
        return parts[0], None
    if len(parts) > 2:
        return "store", parts[1]  # a backend folder
    return "store", None


def main(src):
    src = pathlib.Path(src)
    backends = {p.name for p in (src / "store").iterdir() if p.is_dir()}
    errors = []
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".h", ".cc", ".in"):
            continue
        rel = path.relative_to(src)
        mod, backend = module_of(rel)
        is_test = path.name.endswith("_test.cc")
        for inc in INCLUDE.findall(path.read_text(errors="replace")):
            target = pathlib.PurePosixPath(inc)
            if target.parts[0] not in MODULES:
                continue  # std or third-party
            tmod = target.parts[0]
            tbackend = target.parts[1] if tmod == "store" and len(target.parts) > 2 else None
            if tbackend is not None and tbackend not in backends:
                tbackend = None
            why = None
            if mod == "core" and tmod != "core":
                why = "core includes only core"
            elif mod == "api" and tmod == "engine":
                why = "api never includes engine"
            elif mod == "engine" and tmod == "api":
                why = "engine never includes api"
            elif mod == "retrieval" and tmod in ("api", "engine"):
                why = "retrieval includes neither api nor engine"
            elif mod == "store" and backend is None and tmod != "core" and not (
                tmod == "store" and tbackend is None
            ):
                why = "store contracts include only core and other contracts"
            elif mod == "store" and backend is not None and tmod in ("api", "engine", "retrieval"):
                why = "a backend includes only core, store contracts and its own folder"
            elif tbackend is not None and mod not in ("server", "cli") and backend != tbackend:
                if not is_test:
                    why = f"only server/, cli/ and store/{tbackend}/ include store/{tbackend}/"
            if why:
                errors.append(f"src/{rel}: #include \"{inc}\": {why}")
    for e in errors:
        print(e)
    print(f"check_deps: {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "src"))
