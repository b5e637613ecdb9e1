#!/usr/bin/env bash
# make test: everything the workbench checks, one line per test, ending with
# "N passed, N failed". TESTS="blk net" limits the boot tests; CONFIGS the
# configs built (default: all s390x ones).
. "$(dirname "$0")/lib.sh"
. "$WB_TOP/scripts/results.sh"

mkdir -p "$WB_BUILD/test"
: >"$WB_RESULTS"
logs=$WB_BUILD/test
all_tests=$(cd "$WB_TOP/tests/boot" && ls -1 ./*.test | sed 's|^\./||; s|\.test$||')
tests=${TESTS:-$all_tests}
configs=${CONFIGS:-$(wb_configs | grep '^s390x-')}
for t in $tests; do
	[ -f "$WB_TOP/tests/boot/$t.test" ] || die "unknown test '$t' (known: $(echo $all_tests))"
done
for c in $configs; do wb_check_config "$c"; done

note "kernel tree"
"$WB_TOP/scripts/tree.sh"
echo "base: $(cat "$WB_SRC/.git/wb-base-version")"
npatches=$(wb_series | wc -l)
echo "series: $npatches patches"

{
	# The KTAP parser against its own test data.
	for log in "$WB_TOP"/tests/ktap/*.log; do
		[ -e "$log" ] || continue
		c=$(basename "$log" .log)
		if out=$(awk -f "$WB_TOP/scripts/ktap.awk" "$log" | diff -u "${log%.log}.expected" - 2>&1); then
			result PASS "ktap/$c"
		else
			mapfile -t lines <<<"$out"
			result FAIL "ktap/$c" "${lines[@]}"
		fi
	done

	# Command-line mistakes end with a message and a non-zero exit.
	for args in "build.sh nosuchconfig" "boot.sh nosuchtest"; do
		name="cli/${args// /-}"
		if out=$("$WB_TOP"/scripts/$args 2>&1); then
			result FAIL "$name" "exited 0: $out"
		elif grep -q '^error: unknown' <<<"$out"; then
			result PASS "$name"
		else
			result FAIL "$name" "no clear message: $out"
		fi
	done
} | report

note "static checks"
"$WB_TOP/scripts/static.sh" checkpatch | report

note "builds"
built=()
for c in $configs; do
	result_cmd "build/$c" "$logs/build-$c.log" "$WB_TOP/scripts/build.sh" "$c" | report
	grep -q "^PASS	build/$c\$" "$WB_RESULTS" && built+=("$c")
done
"$WB_TOP/scripts/static.sh" sparse "${built[@]}" | report
"$WB_TOP/scripts/bisect.sh" "${built[@]}" | report

note "guest"
result_cmd guest/build "$logs/guest.log" "$WB_TOP/scripts/guest.sh" | report

note "boot tests"
for t in $tests; do
	# shellcheck disable=SC1090
	cfg=$( (CONFIG=s390x-qemu; . "$WB_TOP/tests/boot/$t.test"; echo "$CONFIG"))
	if ! grep -q "^PASS	build/$cfg\$" "$WB_RESULTS" ||
		! grep -q '^PASS	guest/build$' "$WB_RESULTS"; then
		result FAIL "$t/boot" "not booted: build/$cfg or guest/build failed" | report
		continue
	fi
	expect=$( (EXPECT=pass; . "$WB_TOP/tests/boot/$t.test"; echo "$EXPECT"))
	if [ "$expect" = pass ]; then
		"$WB_TOP/scripts/boot.sh" "$t" | report
		continue
	fi
	# A runner self-test: the boot must fail, for the expected reason.
	out=$("$WB_TOP/scripts/boot.sh" "$t" 2>&1 || true)
	if grep -q $'^R\tFAIL' <<<"$out" && grep -q "^E.*$expect" <<<"$out"; then
		result PASS "$t/detected"
	else
		mapfile -t lines <<<"$out"
		result FAIL "$t/detected" "expected a failure reported as '$expect', got:" "${lines[@]}"
	fi | report
done

summary
