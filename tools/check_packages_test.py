#!/usr/bin/env python3
"""Shows that check_packages.py fails on a path whose package the setup script does not install,
and on a path that does not exist, and passes when the setup script names the owner."""
import pathlib
import subprocess
import sys
import tempfile

CHECK = pathlib.Path(__file__).with_name("check_packages.py")

# A file every Debian machine has, from a package the fake setup scripts name or leave out.
OWNED = "/usr/share/doc/dpkg/copyright"  # package dpkg


def run(test_text, packages):
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        (root / "tests").mkdir()
        (root / "tests" / "a_test.cc").write_text(test_text)
        setup = root / "setup.sh"
        setup.write_text('[[ "$1" == --list-packages ]] && printf "%s\\n" ' +
                         " ".join(packages) + "\nexit 0\n")
        r = subprocess.run([sys.executable, str(CHECK), str(root), "--setup", str(setup)],
                           capture_output=True, text=True)
        return r.returncode, r.stdout


def main():
    failures = []
    cases = [
        ("owner installed", f'const char* kPath = "{OWNED}";', ["dpkg", "cmake"], 0),
        ("owner not installed", f'const char* kPath = "{OWNED}";', ["cmake"], 1),
        ("missing path", 'std::string d = "/usr/share/doc/no-such-package-argus/faces/";',
         ["dpkg"], 1),
        ("no paths", "int x = 1;", ["dpkg"], 0),
    ]
    for name, text, packages, want in cases:
        rc, out = run(text, packages)
        if rc != want:
            failures.append(f"{name}: exit {rc}, want {want}\n{out}")
    for f in failures:
        print("FAIL", f)
    if failures:
        return 1
    print(f"check_packages_test: {len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
