# SPDX-License-Identifier: ISC
"""Run the integration tests: every test_* function of every test_*.py
beside this file, in order, printing "ok - NAME" / "not ok - NAME" (and
"ok - NAME # SKIP why").  An argument runs only the tests whose name
contains it."""
import importlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    pattern = sys.argv[1] if len(sys.argv) > 1 else ""
    here = os.path.dirname(os.path.abspath(__file__))
    failed = 0
    for fname in sorted(os.listdir(here)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        mod = importlib.import_module(fname[:-3])
        for name, fn in list(vars(mod).items()):
            if not name.startswith("test_") or not callable(fn):
                continue
            full = "%s.%s" % (fname[:-3], name)
            if pattern not in full:
                continue
            t0 = time.time()
            try:
                fn()
                print("ok - %s (%.1fs)" % (full, time.time() - t0), flush=True)
            except harness.Skip as e:
                print("ok - %s # SKIP %s" % (full, e), flush=True)
            except Exception:
                failed += 1
                print("not ok - %s" % full)
                for l in traceback.format_exc().splitlines():
                    print("#   " + l)
                sys.stdout.flush()
    if "s" in harness.SHARED:
        harness.SHARED["s"].stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
