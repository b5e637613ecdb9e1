#!/usr/bin/env bash
# make test: everything the workbench checks but the build of every patch,
# one line per test, ending with "N passed, N failed". TESTS="blk net bench"
# limits the boot tests and the short benchmark run to those named; CONFIGS
# the configs built (default: all, including the compile checks of other
# architectures); DISTRO=full builds vmlinux with Debian's config too, not
# only the directories (scripts/distro.sh).
#
# test.sh bisect (make bisect): the build of every patch before HEAD in
# every config (scripts/bisect.sh), with a summary line of its own. It is
# kept out of make test, whose 45 minutes from a fresh machine it would
# exceed by itself (about 20 more); .ci/run runs both. CONFIGS applies.
. "$(dirname "$0")/lib.sh"
mode=${1:-all}
case "$mode" in
all) ;;
bisect) WB_RESULTS=$WB_BUILD/test/bisect-results.tsv ;;
*) die "unknown mode '$mode' (known: bisect)" ;;
esac
. "$WB_TOP/scripts/results.sh"

mkdir -p "$WB_BUILD/test"
: >"$WB_RESULTS"
logs=$WB_BUILD/test
timeline=$logs/timeline
[ "$mode" = all ] || timeline=$logs/$mode-timeline
# Where the time goes: "MIN:SS step" lines, printed before the summary.
t0=$(date +%s)
: >"$timeline"
tl() {
	local t=$(($(date +%s) - t0))
	printf '%3d:%02d %s\n' $((t / 60)) $((t % 60)) "$*" >>"$timeline"
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

if [ "$mode" = bisect ]; then
	note "builds: every patch before HEAD"
	tl "builds: every patch before HEAD"
	"$WB_TOP/scripts/bisect.sh" $configs | report
	tl "all done"
	note "where the time went (min:s since the start)"
	cat "$timeline" >&2
	summary
	exit
fi

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

	# The judge of a boot against its saved console logs (tests/judge/):
	# every detector shown to fire, and a good boot to pass, without QEMU.
	"$WB_TOP/scripts/judge-test.sh"

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

tl static checks
note "static checks"
"$WB_TOP/scripts/static.sh" checkpatch | report
"$WB_TOP/scripts/static.sh" submission | report

note "builds"
# HEAD, which is what the boot tests boot (make bisect builds the patches
# before it).
built=()
for c in $configs; do
	tl "builds: HEAD $c"
	result_cmd "build/$c" "$logs/build-$c.log" "$WB_TOP/scripts/build.sh" "$c" | report
	if grep -q "^PASS	build/$c\$" "$WB_RESULTS"; then built+=("$c"); fi
done
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

tl guest
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
	tl "boots: $t"
	# shellcheck disable=SC1090
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

# stage CONFIG NAME [image]: the kernel image and the modules of CONFIG's
# O= directory (only the image with "image"), copied to build/boot/NAME.
stage() {
	local obj=$WB_OBJ/$1 dir=$WB_BUILD/boot/$2 image
	# shellcheck disable=SC1090
	image=$(. "$WB_TOP/configs/${1%%-*}.qemu" && echo "$KERNEL_IMAGE")
	rm -rf "$dir"
	mkdir -p "$dir/$(dirname "$image")"
	cp "$obj/$image" "$dir/$image" || return 1
	[ "${3:-}" = image ] ||
		(cd "$obj" && find . -name '*.ko' -exec cp --parents -t "$dir" {} +)
}

# The benchmark's unpatched kernel: the tag 'base' built in s390x-qemu's
# O= directory, where only what the series changes is rebuilt, rather than
# cold in a directory of its own as make bench does. It is copied to
# build/boot/base-s390x-qemu, with HEAD's kernel beside it, and kept for the
# next run while the base and the config stay the same. The O= directory's
# image is removed afterwards, not to be booted as HEAD's (build.sh makes it
# again). Nothing is built in a tree with changes that are not committed.
base_kernel() {
	local dir=$WB_BUILD/boot/base-s390x-qemu id image
	id=$(git -C "$WB_SRC" rev-parse 'base^{tree}')-$(wb_fragments s390x-qemu | xargs cat | sha256sum | cut -c1-16)
	[ "$(cat "$dir/.wb-id" 2>/dev/null)" != "$id" ] || return 0
	[ -z "$(git -C "$WB_SRC" status --porcelain --untracked-files=no)" ] || {
		echo "$WB_SRC has uncommitted changes: commit them first"
		return 1
	}
	# shellcheck disable=SC1090
	image=$(. "$WB_TOP/configs/s390x.qemu" && echo "$KERNEL_IMAGE")
	# Called in a condition, where set -e does not apply: every step says.
	trap 'git -C "$WB_SRC" checkout -q -f work' EXIT
	git -C "$WB_SRC" checkout -q --detach base || return 1
	# Its image only: no benchmark boot loads a module.
	"$WB_TOP/scripts/build.sh" s390x-qemu -- "$(basename "$image")" || return 1
	stage s390x-qemu base-s390x-qemu image || return 1
	# Nor is the directory's state that of the tag (its modules are
	# HEAD's) for bisect.sh, which would take it for a build of base.
	rm -f "$WB_OBJ/s390x-qemu/$image" "$WB_OBJ/s390x-qemu/.wb-built-tree"
	echo "$id" >"$dir/.wb-id"
}

if [ $want_bench = 0 ]; then
	: # TESTS does not name it
elif ! note "benchmark: a short run, to check the CSV is well formed (timings are not judged)" ||
	! grep -q '^PASS	build/s390x-qemu$' "$WB_RESULTS"; then
	result FAIL bench/csv "not run: build/s390x-qemu failed" | report
else
	tl benchmark check
	out=$WB_BUILD/test/bench
	: >"$logs/bench.log"
	if stage s390x-qemu s390x-qemu >>"$logs/bench.log" 2>&1 &&
		(base_kernel) >>"$logs/bench.log" 2>&1 &&
		BENCH_OUT=$out BENCH_RUNS=1 BENCH_MIB=8 BENCH_SECONDS=1 BENCH_BS=4,1024 \
			BENCH_OBJ=$WB_BUILD/boot/s390x-qemu BENCH_BASE_OBJ=$WB_BUILD/boot/base-s390x-qemu \
			"$WB_TOP/scripts/bench.sh" >>"$logs/bench.log" 2>&1; then
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

tl "all done"
note "where the time went (min:s since the start)"
cat "$timeline" >&2
summary
