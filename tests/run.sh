#!/usr/bin/env bash
# Run every test and end with one line: "N passed, N failed" (skips are
# counted on the line before).
# Environment (set by make test): NOMX the dev binary, UNIT_DIR the unit
# test binaries, RUNNER a prefix for foreign-CPU binaries (qemu-user),
# TOOLS a folder for test tools unpacked from Debian packages, VG_LOGS
# the folder of valgrind logs (make test VALGRIND=1).
#
# Every process's exit status counts: a unit binary that exits non-zero
# or whose cases do not all report against its "1..N" plan (it crashed,
# a sanitizer aborted it) fails with its stderr shown, and so does the
# integration runner if it ends badly without saying which test failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
TEST_TMP=$(mktemp -d /tmp/nomx-test.XXXXXX)
chmod 755 "$TEST_TMP"
export TEST_TMP TMPDIR="$TEST_TMP"
out="$TEST_TMP/results"
: > "$out"

fail() {
	echo "not ok - $1" | tee -a "$out"
}

# Show a file's first lines as comments.
show() {
	sed -n '1,60s/^/#   /p' "$1"
}

for t in "$UNIT_DIR"/*_test; do
	name=$(basename "$t")
	echo "# unit: $name"
	# shellcheck disable=SC2086
	(cd "$TEST_TMP" && exec $RUNNER "$t") >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err"
	rc=$?
	grep -E '^(ok|not ok) - ' "$TEST_TMP/$name.out" | sed "s/^\(ok\|not ok\) - /&$name: /" >> "$out"
	cat "$TEST_TMP/$name.out"
	plan=$(sed -n '1s/^1\.\.\([0-9]*\)$/\1/p' "$TEST_TMP/$name.out")
	ran=$(grep -cE '^(ok|not ok) - ' "$TEST_TMP/$name.out")
	if [ -z "$plan" ] || [ "$ran" != "$plan" ] || [ "$rc" != 0 ]; then
		fail "$name: exit status $rc, ${ran} of ${plan:-?} cases reported"
		show "$TEST_TMP/$name.err"
	fi
done

echo "# integration"
python3 "$here/integration/run.py" ${TEST_FILTER:-} 2>&1 | tee "$TEST_TMP/integration.out"
rc=${PIPESTATUS[0]}
cat "$TEST_TMP/integration.out" >> "$out"
if [ "$rc" != 0 ] && ! grep -q '^not ok - ' "$TEST_TMP/integration.out"; then
	fail "integration runner: exit status $rc with no failing test named"
fi

# VALGRIND=1: every process's memcheck log; any error fails.
if [ -n "${VG_LOGS:-}" ]; then
	logs=$(find "$VG_LOGS" -name '*.log' | wc -l)
	bad=$(grep -lE 'Invalid (read|write|free)|uninitialised|definitely lost|Syscall param|Mismatched|Jump to the invalid' \
		"$VG_LOGS"/*.log 2>/dev/null)
	if [ -n "$bad" ]; then
		fail "valgrind: errors in $(echo "$bad" | wc -l) of $logs processes"
		for f in $bad; do show "$f"; done
	elif [ "$logs" = 0 ]; then
		fail "valgrind: no logs at all (was anything run under it?)"
	else
		echo "ok - valgrind: $logs processes, no memcheck errors" | tee -a "$out"
	fi
fi

passed=$(grep -c '^ok - ' "$out")
skipped=$(grep -c '^ok - .*# SKIP' "$out")
failed=$(grep -c '^not ok - ' "$out")
passed=$((passed - skipped))
# Clean up only what passed; a failure leaves its spools and logs.
if [ "$failed" = 0 ]; then
	rm -rf "$TEST_TMP"
else
	echo "# spools and logs kept in $TEST_TMP"
fi
[ "$skipped" -gt 0 ] && echo "# $skipped skipped (see the # SKIP lines)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
