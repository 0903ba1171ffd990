#!/bin/sh
# Run every test and end with one line: "N passed, N failed" (skips are
# counted on the line before).
# Environment (set by make test): NOMX the dev binary, UNIT_DIR the unit
# test binaries, RUNNER a prefix for foreign-CPU binaries (qemu-user),
# TOOLS a folder for test tools unpacked from Debian packages.
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
