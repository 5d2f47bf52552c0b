#!/usr/bin/env python3
"""Checks the include rules of STYLE.md §2 over src/. Exit 1 and a list of violations if any.

- api and engine never include each other;
- retrieval includes neither api nor engine;
- core includes nothing else under src/;
- store contracts (src/store/*.h|cc) include only core and other contracts;
- domain (use cases of both api and engine) includes only core, store contracts and domain;
  api, engine and retrieval may include it, the store never does;
- a concrete backend (src/store/<impl>/) includes only core, store contracts and its own folder,
  never another backend, and is included only by server/, cli/ and its own folder; unit tests
  (*_test.cc) may include the backend they run against;
- api/http (the HTTP transport) includes only core and api/http;
- engine/runtime never includes engine/extractors (extractors plug into the runtime);
- only the composition root (server/, cli/) includes server/ or cli/;
- the MetadataStore facade (store/metadata_store.h) is included only by store/, server/ and cli/:
  api, engine, domain and retrieval take the roles they use (namespace_store.h, key_store.h, ...).
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
MODULES = ("core", "store", "domain", "engine", "retrieval", "api", "server", "cli")


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
            elif tmod in ("server", "cli") and mod not in ("server", "cli"):
                why = "only the composition root (server/, cli/) includes server/ or cli/"
            elif inc == "store/metadata_store.h" and mod not in ("store", "server", "cli") and (
                not is_test
            ):
                why = "take the metadata roles you use, not the MetadataStore facade"
            elif mod == "domain" and not (
                tmod in ("core", "domain")
                or (tmod == "store" and (tbackend is None or is_test))
            ):
                why = "domain includes only core, store contracts and domain"
            elif mod == "store" and backend is not None and tmod not in ("core", "store"):
                why = "a backend includes only core, store contracts and its own folder"
            elif rel.parts[:2] == ("api", "http") and not (
                tmod == "core" or target.parts[:2] == ("api", "http")
            ):
                why = "api/http includes only core and api/http"
            elif rel.parts[:2] == ("engine", "runtime") and target.parts[:2] == (
                "engine",
                "extractors",
            ):
                why = "engine/runtime never includes engine/extractors"
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
