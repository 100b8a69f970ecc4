#!/bin/sh
# The test command (npm test): every *.test.ts under test/, or those given.
# Node 20's test runner finds no .ts files by itself and has no globs, so the
# list is expanded here; a run in which no test ran fails.
set -u
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then files="$*"; else files=$(find test -name '*.test.ts' | sort); fi
[ -n "$files" ] || { echo "test/run.sh: no test files found" >&2; exit 1; }
# The CLI the tests run is the compiled one (dist/): build it from the sources first.
node bin/build-dist.mjs >/dev/null || { echo "test/run.sh: the build failed" >&2; exit 1; }
out=$(mktemp)
rc=$(mktemp)
trap 'rm -f "$out" "$rc"' EXIT
# sh has no pipefail: the runner's status goes through a file, past tee.
# shellcheck disable=SC2086
{ node --import tsx --test --test-reporter=spec --test-concurrency=1 $files; echo $? >"$rc"; } 2>&1 | tee "$out"
status=$(cat "$rc")
# node prints "ℹ tests N" with the spec reporter; zero tests is a failure.
if ! grep -Eq '^ℹ tests [1-9]' "$out"; then
	echo "test/run.sh: no test ran" >&2
	exit 1
fi
exit $status
