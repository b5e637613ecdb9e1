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
# Where the time goes: "MIN:SS lane step" lines, printed at the end.
t0=$(date +%s)
: >"$logs/timeline"
tl() {
	local t=$(($(date +%s) - t0))
	printf '%3d:%02d %s\n' $((t / 60)) $((t % 60)) "$*" >>"$logs/timeline"
}
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
tl tree ready
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

# Two lanes: this shell builds (HEAD in every config, sparse, Debian's
# config, then every patch before HEAD), while a second boots what the
# builds made, as soon as each config is built: the boots leave a core
# mostly idle, the builds use it. The boots use copies (build/boot/CONFIG)
# because bisect.sh rebuilds the O= directories at older commits. The second
# lane's report is printed after the builds'; its results count the same.
lane=$logs/lane
rm -rf "$lane" "${WB_BUILD:?}/boot"
mkdir -p "$lane"
# mark WHAT ok|fail: tell the boot lane; await WHAT: wait for it (true if ok).
mark() { [ -e "$lane/$1.ok" ] || [ -e "$lane/$1.fail" ] || touch "$lane/$1.$2"; }
await() {
	while :; do
		[ -e "$lane/$1.ok" ] && return 0
		[ -e "$lane/$1.fail" ] && return 1
		sleep 2
	done
}
# The config a boot test boots.
config_of() {
	# shellcheck disable=SC1090
	(CONFIG=s390x-qemu; . "$WB_TOP/tests/boot/$1.test"; echo "$CONFIG")
}
# stage CONFIG [NAME]: the kernel image and the modules of CONFIG's O=
# directory, copied to build/boot/NAME (default CONFIG) for the boots.
stage() {
	local obj=$WB_OBJ/$1 dir=$WB_BUILD/boot/${2:-$1} image
	# shellcheck disable=SC1090
	image=$(. "$WB_TOP/configs/${1%%-*}.qemu" && echo "$KERNEL_IMAGE")
	rm -rf "$dir"
	mkdir -p "$dir/$(dirname "$image")"
	cp "$obj/$image" "$dir/$image" &&
		(cd "$obj" && find . -name '*.ko' -exec cp --parents -t "$dir" {} +)
}
# Configs with boot tests first, most tests first, so that boots start early.
declare -A ntests
for t in $tests; do
	c=$(config_of "$t")
	ntests[$c]=$((${ntests[$c]:-0} + 1))
done
boot_configs=$(for c in "${!ntests[@]}"; do echo "${ntests[$c]} $c"; done | sort -k1,1nr -k2 | cut -d' ' -f2)
configs=$( (for c in $boot_configs; do grep -qx "$c" <<<"${configs// /$'\n'}" && echo "$c"; done
	for c in $configs; do grep -qx "$c" <<<"$boot_configs" || echo "$c"; done) | tr '\n' ' ')

boot_lane() {
	WB_RESULTS=$lane/results.tsv
	: >"$WB_RESULTS"
	# Before bisect.sh checks out other commits: these read the tree at HEAD.
	tl boots: static checks
	note "static checks"
	"$WB_TOP/scripts/static.sh" checkpatch | report
	"$WB_TOP/scripts/static.sh" submission | report
	mark static ok

	note "boot tests"
	local c t expect out
	for c in $boot_configs; do
		for t in $tests; do
			[ "$(config_of "$t")" = "$c" ] || continue
			if ! await guest || ! await "build-$c"; then
				result FAIL "$t/boot" "not booted: build/$c or guest/build failed" | report
				continue
			fi
			tl "boots: $t"
			# shellcheck disable=SC1090
			expect=$( (EXPECT=pass; . "$WB_TOP/tests/boot/$t.test"; echo "$EXPECT"))
			if [ "$expect" = pass ]; then
				"$WB_TOP/scripts/boot.sh" "$t" "$WB_BUILD/boot/$c" | report
				continue
			fi
			# A runner self-test: the boot must fail, for the expected reason.
			out=$("$WB_TOP/scripts/boot.sh" "$t" "$WB_BUILD/boot/$c" 2>&1 || true)
			if grep -q $'^R\tFAIL' <<<"$out" && grep -q "^E.*$expect" <<<"$out"; then
				result PASS "$t/detected"
			else
				mapfile -t lines <<<"$out"
				result FAIL "$t/detected" "expected a failure reported as '$expect', got:" "${lines[@]}"
			fi | report
		done
	done

	[ $want_bench = 1 ] || return 0
	note "benchmark: a short run, to check the CSV is well formed (timings are not judged)"
	if ! await guest || ! await build-s390x-qemu || ! await base; then
		result FAIL bench/csv "not run: build/s390x-qemu, guest/build or the base kernel failed" | report
		return 0
	fi
	tl boots: benchmark check
	out=$WB_BUILD/test/bench
	if BENCH_OUT=$out BENCH_RUNS=1 BENCH_MIB=8 BENCH_SECONDS=1 BENCH_BS=4,1024 \
		BENCH_OBJ=$WB_BUILD/boot/s390x-qemu BENCH_BASE_OBJ=$WB_BUILD/boot/base-s390x-qemu \
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
}

# Its own process group (set -m), so that an interrupted make test stops its
# boots too; a lane that is waiting sees the build lane gone and stops.
set -m
boot_lane >"$lane/out" 2>&1 &
lane_pid=$!
set +m
detached=0
finish() {
	kill -- -"$lane_pid" 2>/dev/null || true
	[ $detached = 0 ] || git -C "$WB_SRC" checkout -q -f work
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tl builds: guest
note "guest"
result_cmd guest/build "$logs/guest.log" "$WB_TOP/scripts/guest.sh" | report
if grep -q '^PASS	guest/build$' "$WB_RESULTS"; then mark guest ok; else mark guest fail; fi

note "builds: HEAD"
built=()
for c in $configs; do
	tl "builds: HEAD $c"
	result_cmd "build/$c" "$logs/build-$c.log" "$WB_TOP/scripts/build.sh" "$c" | report
	if grep -q "^PASS	build/$c\$" "$WB_RESULTS"; then
		built+=("$c")
		if [ -n "${ntests[$c]:-}" ]; then
			if stage "$c"; then mark "build-$c" ok; else mark "build-$c" fail; fi
		fi
	fi
	mark "build-$c" fail
done
for c in $boot_configs; do mark "build-$c" fail; done
tl builds: sparse
"$WB_TOP/scripts/static.sh" sparse "${built[@]}" | report

# Debian's own s390x config: the directories that use the changed APIs,
# their modules included; vmlinux too with DISTRO=full (as make distro).
tl builds: distro
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

note "builds: every patch before HEAD"
await static || true
tl builds: bisect
"$WB_TOP/scripts/bisect.sh" $configs | report

# The benchmark's unpatched kernel: the tag 'base' built where bisect.sh
# left s390x-qemu, at the first patch, so only that patch is rebuilt.
if [ $want_bench = 1 ] && grep -q '^PASS	build/s390x-qemu$' "$WB_RESULTS"; then
	tl builds: base kernel for the benchmark
	note "benchmark: the unpatched base in s390x-qemu's directory"
	detached=1
	if git -C "$WB_SRC" checkout -q --detach base &&
		"$WB_TOP/scripts/build.sh" s390x-qemu >"$logs/build-base.log" 2>&1 &&
		stage s390x-qemu base-s390x-qemu; then
		mark base ok
	else
		mark base fail
		mapfile -t lines < <(tail -n 15 "$logs/build-base.log")
		result FAIL bench/base-build "${lines[@]}" "full log: $logs/build-base.log" | report
	fi
	git -C "$WB_SRC" checkout -q -f work
	detached=0
fi
mark base fail

note "boot tests and benchmark check (run alongside the builds)"
tl builds: done
tail -n +1 -f --pid="$lane_pid" "$lane/out"
wait "$lane_pid" || true
tl done
cat "$lane/results.tsv" >>"$WB_RESULTS"
note "where the time went (min:s since the start, both lanes)"
sort -n "$logs/timeline" >&2
summary
