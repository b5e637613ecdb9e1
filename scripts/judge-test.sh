#!/usr/bin/env bash
# The judge (scripts/judge.sh) against its own test data, tests/judge/: no
# QEMU, a few seconds. Every CASE.log there is a saved console log, judged
# with CASE.test as its test, CASE.qemu.status as QEMU's exit status (0
# without one) and CASE.qemu.err as QEMU's standard error; the R and E lines
# it prints must be CASE.expected, line for line (so the verdict, and the
# reason of every failure). Prints one result judge/CASE each, as
# scripts/results.sh describes. A new case: write CASE.log and CASE.test,
# then, from the top directory,
#   scripts/judge.sh -n CASE -s STATUS -e tests/judge/CASE.qemu.err \
#       tests/judge/CASE.test tests/judge/CASE.log >tests/judge/CASE.expected
# and read what it wrote before committing it.
. "$(dirname "$0")/lib.sh"
# shellcheck source=results.sh
. "$WB_TOP/scripts/results.sh"

cd "$WB_TOP"
n=0
for log in tests/judge/*.log; do
	[ -e "$log" ] || continue
	c=${log%.log}
	case=${c##*/}
	n=$((n + 1))
	status=0
	[ ! -f "$c.qemu.status" ] || status=$(cat "$c.qemu.status")
	if [ ! -f "$c.test" ] || [ ! -f "$c.expected" ]; then
		result FAIL "judge/$case" "tests/judge/$case.log needs $case.test and $case.expected beside it"
		continue
	fi
	# Relative paths: the "logs:" line names tests/judge wherever the tree is.
	if out=$(scripts/judge.sh -n "$case" -s "$status" -e "$c.qemu.err" "$c.test" "$log" 2>&1 |
		diff -u "$c.expected" - 2>&1); then
		result PASS "judge/$case"
	else
		mapfile -t lines <<<"$out"
		result FAIL "judge/$case" "the verdict differs from $case.expected:" "${lines[@]}"
	fi
done
[ $n -gt 0 ] || result FAIL judge/cases "no saved console log in tests/judge/"
