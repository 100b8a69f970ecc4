#!/bin/sh
# The test command (npm test): every *.test.ts under test/, or those given.
# Node 20's test runner finds no .ts files by itself and has no globs, so the
# list is expanded here. The run fails when a test failed, and also when any
# file ran no test and when no test ran at all: counted from the runner's own
# events (test/tests-ran.mjs), not from its summary, which counts each file.
set -u
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then files="$*"; else files=$(find test -name '*.test.ts' | sort); fi
[ -n "$files" ] || { echo "test/run.sh: no test files found" >&2; exit 1; }
# The CLI the tests run is the compiled one (dist/): build it from the sources first.
node bin/build-dist.mjs >/dev/null || { echo "test/run.sh: the build failed" >&2; exit 1; }
ran=$(mktemp)
trap 'rm -f "$ran"' EXIT
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=1 \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=./test/tests-ran.mjs --test-reporter-destination="$ran" \
	$files
status=$?
# shellcheck disable=SC2086
node test/tests-ran.mjs "$ran" $files || exit 1
exit $status
