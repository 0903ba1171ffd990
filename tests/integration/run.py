# SPDX-License-Identifier: ISC
"""Run the integration tests: every test_* function of every test_*.py
beside this file, in order, printing "ok - NAME" / "not ok - NAME" (and
"ok - NAME # SKIP why").  An argument runs only the tests whose name
contains it.

Nothing may vanish from the count: the tests expected are read from the
sources before anything is imported, so a module that fails to import
or a test that never reports is a failure.  A daemon that a test
started and that crashed (a signal other than the test's own SIGKILL,
or a sanitizer report in its log) fails that test, and the shared
daemon must stop cleanly at the end.  With CI=true a skip fails unless
tests/ci-skips lists it for this kind of run (qemu, valgrind, asan)."""
import importlib
import os
import re
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

results = {"failed": 0}


def report(ok, name, detail=""):
    print("%s - %s%s" % ("ok" if ok else "not ok", name, detail), flush=True)
    if not ok:
        results["failed"] += 1


def show(text):
    for line in text.splitlines():
        print("#   " + line)
    sys.stdout.flush()


def expected_tests(pattern):
    """{module: [test names]} from the sources, in file order."""
    found = {}
    for fname in sorted(os.listdir(HERE)):
        if fname.startswith("test_") and fname.endswith(".py"):
            with open(os.path.join(HERE, fname)) as f:
                names = re.findall(r"^def (test_\w+)\(", f.read(), re.M)
            found[fname[:-3]] = [n for n in names if pattern in "%s.%s" % (fname[:-3], n)]
    return found


def run_kind():
    """What legitimately limits this run: qemu-user, valgrind, the
    sanitizer build, or nothing."""
    runner = os.path.basename(harness.RUNNER[0]) if harness.RUNNER else ""
    if runner.startswith("qemu"):
        return "qemu"
    return runner or ("asan" if os.environ.get("TESTKIND") == "asan" else "host")


def allowed_ci_skips():
    """(test, kind) pairs of tests/ci-skips: "module.test kind reason"
    ("module.*" allows every test of the module)."""
    allowed = set()
    with open(os.path.join(HERE, "..", "ci-skips")) as f:
        for line in f:
            parts = line.split(None, 2)
            if parts and not parts[0].startswith("#") and len(parts) == 3:
                allowed.add((parts[0], parts[1]))
    return allowed


def crashed_servers(before):
    """Problems of the daemons started since `before` (an index)."""
    problems = []
    for s in harness.SERVERS[before:]:
        p = s.problem()
        if p:
            problems.append(p)
    return problems


def run_test(full, fn, in_ci, ci_skips):
    before = len(harness.SERVERS)
    t0 = time.time()
    try:
        fn()
        problems = crashed_servers(before)
        if problems:
            report(False, full, " (a daemon crashed)")
            show("\n".join(problems))
        else:
            report(True, full, " (%.1fs)" % (time.time() - t0))
    except harness.Skip as e:
        kind = run_kind()
        module_wide = (full.split(".")[0] + ".*", kind)
        if in_ci and (full, kind) not in ci_skips and module_wide not in ci_skips:
            report(False, full, " # SKIP %s: not a skip CI allows (tests/ci-skips)" % e)
        else:
            report(True, full, " # SKIP %s" % e)
    except Exception:
        report(False, full)
        show(traceback.format_exc())
        problems = crashed_servers(before)
        if problems:
            show("\n".join(problems))


def main():
    pattern = sys.argv[1] if len(sys.argv) > 1 else ""
    in_ci = os.environ.get("CI") == "true"
    ci_skips = allowed_ci_skips()
    expected = expected_tests(pattern)
    seen = set()
    for modname, names in expected.items():
        if not names:
            continue
        try:
            mod = importlib.import_module(modname)
        except Exception:
            report(False, "%s (import)" % modname)
            show(traceback.format_exc())
            continue
        for name in names:
            fn = getattr(mod, name, None)
            full = "%s.%s" % (modname, name)
            if callable(fn):
                seen.add(full)
                run_test(full, fn, in_ci, ci_skips)
    for modname, names in expected.items():
        for name in names:
            full = "%s.%s" % (modname, name)
            if full not in seen:
                report(False, full, " # did not run")
    if "s" in harness.SHARED:
        s = harness.SHARED["s"]
        try:
            rc = s.stop()
            problem = s.problem() or (rc != 0 and "exit status %s" % rc)
        except AssertionError as e:
            problem = str(e)
        report(not problem, "shared daemon stops cleanly")
        if problem:
            show(problem)
            show(s.log()[-4000:])
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
