#!/bin/sh
# Run every test and end with one line: "N passed, N failed" (skips are
# counted on the line before).
# Environment (set by make test): NOMX the dev binary, UNIT_DIR the unit
# test binaries, RUNNER a prefix for foreign-CPU binaries (qemu-user),
# TOOLS a folder for test tools unpacked from Debian packages, VG_LOGS
# the folder of valgrind logs (make test VALGRIND=1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
TEST_TMP=$(mktemp -d /tmp/nomx-test.XXXXXX)
chmod 755 "$TEST_TMP"
export TEST_TMP TMPDIR="$TEST_TMP"
out="$TEST_TMP/results"
: > "$out"

for t in "$UNIT_DIR"/*_test; do
	echo "# unit: $(basename "$t")"
	# shellcheck disable=SC2086
	(cd "$TEST_TMP" && $RUNNER "$t") 2>"$TEST_TMP/unit.err" | tee -a "$out"
done

echo "# integration"
python3 "$here/integration/run.py" ${TEST_FILTER:-} 2>&1 | tee -a "$out"

# VALGRIND=1: every process's memcheck log; any error fails.
if [ -n "${VG_LOGS:-}" ]; then
	logs=$(find "$VG_LOGS" -name '*.log' | wc -l)
	bad=$(grep -lE 'Invalid (read|write|free)|uninitialised|definitely lost|Syscall param|Mismatched|Jump to the invalid' \
		"$VG_LOGS"/*.log 2>/dev/null)
	if [ -n "$bad" ]; then
		echo "not ok - valgrind: errors in $(echo "$bad" | wc -l) of $logs processes" | tee -a "$out"
		for f in $bad; do sed -n '1,40s/^/#   /p' "$f"; done
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
