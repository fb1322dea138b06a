#!/usr/bin/env bash
# The function-size check run on fixtures: it must fail, name the two long functions that give no
# reason, and pass the one that does and the short one whose lambda is part of it.
set -uo pipefail
check=$1
fixtures=$(dirname "$0")/long-functions
out=$("$check" "$fixtures" 2>&1)
rc=$?
fail() { printf '%s\n%s\n' "$1" "$out" >&2; exit 1; }
[ "$rc" -eq 1 ] || fail "the check did not fail (status $rc) on functions that are too long:"
for expected in "functions.cpp:4: too_long is 90 lines long" \
  "holder.hpp:9: member_too_long is 88 lines long" \
  "2 functions longer than 80 lines without a reason"; do
  grep -qF "$expected" <<<"$out" || fail "the check did not say \"$expected\":"
done
grep -qE 'long_with_reason|short_one' <<<"$out" && fail "the check refused a function it should pass:"
printf 'the check caught both long functions:\n%s\n' "$out"
