#!/usr/bin/env python3
"""Shows that check_deps.py fails on each forbidden include and passes on allowed ones."""
import pathlib
import subprocess
import sys
import tempfile

CHECK = pathlib.Path(__file__).with_name("check_deps.py")

CASES = [
    # (file, include, should_fail)
    ("api/a.cc", "engine/worker.h", True),
    ("engine/a.cc", "api/router.h", True),
    ("retrieval/a.cc", "api/router.h", True),
    ("retrieval/a.cc", "engine/x.h", True),
    ("core/a.cc", "store/metadata_store.h", True),
    ("api/a.cc", "store/sqlite/register.h", True),
    ("engine/a.cc", "store/sqlite/register.h", True),
    ("store/metadata_store.cc", "store/sqlite/register.h", True),
    ("store/pg/a.cc", "store/sqlite/register.h", True),
    ("store/sqlite/a.cc", "api/router.h", True),
    ("api/a.cc", "store/namespace_store.h", False),
    ("api/a.cc", "core/status.h", False),
    ("engine/a.cc", "store/sync_store.h", False),
    ("server/a.cc", "store/sqlite/register.h", False),
    ("cli/a.cc", "store/sqlite/register.h", False),
    ("store/sqlite/a.cc", "store/sqlite/b.h", False),
    ("api/a_test.cc", "store/sqlite/register.h", False),
    ("api/a.cc", "boost/beast.hpp", False),
    # domain: core, store contracts and itself; used by api, engine, retrieval; never by store.
    ("domain/a.cc", "store/bucket_store.h", False),
    ("domain/a.cc", "core/status.h", False),
    ("domain/a.cc", "domain/b.h", False),
    ("domain/a.cc", "store/sqlite/register.h", True),
    ("domain/a.cc", "api/router.h", True),
    ("domain/a.cc", "engine/worker.h", True),
    ("domain/a.cc", "retrieval/stage.h", True),
    ("api/a.cc", "domain/object_ingest.h", False),
    ("engine/a.cc", "domain/object_ingest.h", False),
    ("retrieval/a.cc", "domain/object_ingest.h", False),
    ("store/metadata_store.cc", "domain/object_ingest.h", True),
    ("store/sqlite/a.cc", "domain/object_ingest.h", True),
    ("core/a.cc", "domain/object_ingest.h", True),
    # a backend never includes another backend, nor the layers above it.
    ("store/sqlite/a.cc", "store/pg/b.h", True),
    ("store/sqlite/a.cc", "server/serve.h", True),
    ("store/sqlite/a.cc", "store/metadata_store.h", False),
    # api/http: the transport knows only core.
    ("api/http/a.cc", "core/status.h", False),
    ("api/http/a.cc", "api/http/b.h", False),
    ("api/http/a.cc", "api/router.h", True),
    ("api/http/a.cc", "store/metadata_store.h", True),
    ("api/a.cc", "api/http/b.h", False),
    # extractors plug into the runtime, not the other way round.
    ("engine/runtime/a.cc", "engine/extractors/ocr/ocr.h", True),
    ("engine/runtime/a.cc", "engine/runtime/b.h", False),
    ("engine/extractors/ocr/a.cc", "engine/runtime/extractor.h", False),
    # only the composition root wires the rooms together.
    ("api/a.cc", "server/serve.h", True),
    ("engine/a.cc", "server/stores.h", True),
    ("retrieval/a.cc", "cli/command.h", True),
    ("domain/a.cc", "server/options.h", True),
    ("cli/a.cc", "server/serve.h", False),
    ("server/a.cc", "server/stores.h", False),
    # consumers take the metadata roles, not the facade one backend implements.
    ("api/a.cc", "store/metadata_store.h", True),
    ("engine/a.cc", "store/metadata_store.h", True),
    ("domain/a.cc", "store/metadata_store.h", True),
    ("api/a.cc", "store/bucket_store.h", False),
    ("server/a.cc", "store/metadata_store.h", False),
    ("store/webhook_store.h", "store/metadata_store.h", False),
    ("api/a_test.cc", "store/metadata_store.h", False),
    # a domain unit test may run against a backend, as other modules' tests do.
    ("domain/a_test.cc", "store/sqlite/register.h", False),
]


def run_case(path, include):
    with tempfile.TemporaryDirectory() as d:
        src = pathlib.Path(d) / "src"
        for folder in ("core", "store/sqlite", "store/pg", "domain", "api", "engine",
                       "retrieval"):
            (src / folder).mkdir(parents=True, exist_ok=True)
        f = src / path
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f'#include "{include}"\n')
        return subprocess.run([sys.executable, str(CHECK), str(src)], capture_output=True).returncode


def main():
    bad = 0
    for path, include, should_fail in CASES:
        rc = run_case(path, include)
        if (rc != 0) != should_fail:
            print(f"FAIL: src/{path} including {include}: exit {rc}, expected "
                  f"{'failure' if should_fail else 'success'}")
            bad += 1
    print(f"{len(CASES) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
