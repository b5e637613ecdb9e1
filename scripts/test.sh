#!/usr/bin/env bash
# make test: everything the workbench checks, one line per test, ending with
# "N passed, N failed". TESTS="blk net bench" limits the boot tests and the
# short benchmark run to those named; CONFIGS the configs built (default: all,
# including the compile checks of other architectures); DISTRO=full builds
# vmlinux with Debian's config too, not only the directories (scripts/distro.sh).
. "$(dirname "$0")/lib.sh"
. "$WB_TOP/scripts/results.sh"

mkdir -p "$WB_BUILD/test"
: >"$WB_RESULTS"
logs=$WB_BUILD/test
all_tests=$(cd "$WB_TOP/tests/boot" && ls -1 ./*.test | sed 's|^\./||; s|\.test$||')
tests=${TESTS:-$all_tests}
configs=${CONFIGS:-$(wb_configs)}
want_bench=1
if [ -n "${TESTS:-}" ]; then
	want_bench=0
	grep -qw bench <<<"$TESTS" && want_bench=1
	tests=$(for t in $TESTS; do [ "$t" = bench ] || echo "$t"; done)
fi
for t in $tests; do
	[ -f "$WB_TOP/tests/boot/$t.test" ] || die "unknown test '$t' (known: $(echo $all_tests))"
done
for c in $configs; do wb_check_config "$c"; done

note "kernel tree"
if ! "$WB_TOP/scripts/tree.sh" 2>"$logs/tree.log"; then
	# Nothing else can run without the tree.
	mapfile -t lines <"$logs/tree.log"
	result FAIL tree "${lines[@]}" | report
	summary
	exit 1
fi
cat "$logs/tree.log" >&2
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
"$WB_TOP/scripts/static.sh" submission | report

note "builds"
# Every patch before HEAD first (bisect.sh leaves the tree at HEAD), then
# HEAD itself, which is what the boot tests boot.
"$WB_TOP/scripts/bisect.sh" $configs | report
built=()
for c in $configs; do
	result_cmd "build/$c" "$logs/build-$c.log" "$WB_TOP/scripts/build.sh" "$c" | report
	if grep -q "^PASS	build/$c\$" "$WB_RESULTS"; then built+=("$c"); fi
done
"$WB_TOP/scripts/static.sh" sparse "${built[@]}" | report

# Debian's own s390x config: the directories that use the changed APIs,
# their modules included; vmlinux too with DISTRO=full (as make distro).
distro=${DISTRO:-dirs}
if [ "$distro" = dirs ]; then
	note "distro build: Debian's s390x config, the directories that use the changed APIs"
else
	note "distro build: Debian's s390x config, vmlinux and the directories that use the changed APIs"
fi
if ! DISTRO=$distro "$WB_TOP/scripts/distro.sh" 2>"$logs/distro.log" | report; then
	mapfile -t lines < <(tail -n 15 "$logs/distro.log")
	result FAIL distro "${lines[@]}" "full log: $logs/distro.log" | report
fi

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

if [ $want_bench = 0 ]; then
	: # TESTS does not name it
elif ! note "benchmark: a short run, to check the CSV is well formed (timings are not judged)" ||
	! grep -q '^PASS	build/s390x-qemu$' "$WB_RESULTS"; then
	result FAIL bench/csv "not run: build/s390x-qemu failed" | report
else
	out=$WB_BUILD/test/bench
	if BENCH_OUT=$out BENCH_RUNS=1 BENCH_MIB=8 BENCH_SECONDS=1 BENCH_BS=4,1024 \
		"$WB_TOP/scripts/bench.sh" >"$logs/bench.log" 2>&1; then
		if msg=$(awk -f "$WB_TOP/scripts/bench-csv-check.awk" "$out/bench.csv" 2>&1); then
			result PASS bench/csv
		else
			mapfile -t lines <<<"$msg"
			result FAIL bench/csv "${lines[@]}"
		fi
	else
		mapfile -t lines < <(tail -n 15 "$logs/bench.log")
		result FAIL bench/csv "${lines[@]}" "full log: $logs/bench.log"
	fi | report
fi

summary
