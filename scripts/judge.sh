#!/usr/bin/env bash
# The verdict on one boot, from what it left behind; no QEMU is needed.
#   judge.sh [-n NAME] [-s STATUS] [-e QEMU_ERR] [-o RESULTS] [-a NAMES] TEST CONSOLE_LOG
# TEST is a test name as boot.sh takes it (blk, bench/blk) or the path of a
# .test file; CONSOLE_LOG is the guest's console as QEMU wrote it.
#   -n NAME      the run's name, which prefixes every result (default: TEST's
#                name, "/" as "-"; boot.sh gives its own)
#   -s STATUS    QEMU's exit status, 124 and 137 the timeout's (default: what
#                qemu.status beside the log holds, which boot.sh writes, or 0)
#   -e QEMU_ERR  QEMU's standard error, quoted when STATUS is not 0
#                (default: qemu.err beside the log)
#   -o RESULTS   also write the results there, without the run's name
#   -a NAMES     results that may be SKIP in this run besides the test's
#                ALLOW_SKIP (boot.sh passes WB_ALLOW_SKIP)
# Prints scripts/results.sh's R and E lines, as boot.sh always has:
#   NAME/boot     the boot itself: it fails on a timeout, on QEMU failing, on
#                 a panic, on a guest that did not finish (no "wb: done") and
#                 on a kernel log line that matches tests/log-patterns
#                 and none of the test's LOG_EXPECT
#   NAME/...      every KTAP result of the guest and of the kernel, as
#                 scripts/ktap.awk gives them, except that a SKIP fails unless
#                 the test allows that very result: ALLOW_SKIP names results
#                 as ktap.awk does, without the run's name (see wb_load_test)
#   NAME/log-N    the test's Nth LOG_EXPECT regex matches a kernel log line
#   NAME/workload-W  a FAIL for a workload W of the command line's wb.run=
#                 that the guest reported no top-level result of
#   NAME/R        a FAIL for each result R that REQUIRE names and the boot
#                 did not report
#   NAME/results  printed only when there are fewer results than MIN_RESULTS
# Exits 0 once it has given a verdict, whichever it is.
. "$(dirname "$0")/lib.sh"

usage="usage: judge.sh [-n NAME] [-s STATUS] [-e QEMU_ERR] [-o RESULTS] [-a NAMES] TEST CONSOLE_LOG"
name='' rc='' qerr='' out='' allow_more=''
while getopts n:s:e:o:a: opt; do
	case "$opt" in
	n) name=$OPTARG ;;
	s) rc=$OPTARG ;;
	e) qerr=$OPTARG ;;
	o) out=$OPTARG ;;
	a) allow_more=$OPTARG ;;
	*) die "$usage" ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 2 ] || die "$usage"
test=$1 log=$2
if [ -f "$test" ]; then
	tfile=$test
	: "${name:=$(basename "$test" .test)}"
else
	tfile=$(wb_test_file "$test")
	: "${name:=${test//\//-}}"
fi
[ -f "$log" ] || die "judge.sh: no console log at $log"
run=$(dirname "$log")
: "${qerr:=$run/qemu.err}"
[ -n "$rc" ] || rc=$(cat "$run/qemu.status" 2>/dev/null || echo 0)
[[ "$rc" =~ ^[0-9]+$ ]] || die "judge.sh: QEMU's exit status must be a number, not '$rc'"
wb_load_test "$tfile"
wb_check_config "$CONFIG"
QEMU_BIN=qemu
qconf=$WB_TOP/configs/${CONFIG%%-*}.qemu
# shellcheck disable=SC1090
[ ! -f "$qconf" ] || . "$qconf"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# QEMU's console ends lines with CR LF.
console=$tmp/console.log
sed 's/\r$//' "$log" >"$console"
# Kernel lines carry a printk time stamp; a kernel line may start in the
# middle of a line the guest was writing.
grep -E '\[ *[0-9]+\.[0-9]+\] ' "$console" >"$tmp/kernel.log" || true

# The boot's own verdict.
why=()
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	why+=("timeout: no power-off within ${TIMEOUT}s, the guest hung")
elif [ "$rc" != 0 ]; then
	why+=("$QEMU_BIN exited with status $rc: $(head -c 300 "$qerr" 2>/dev/null || true)")
fi
if grep -q 'Kernel panic' "$console"; then
	why+=("the guest panicked: $(grep -m1 'Kernel panic' "$console" | cut -c1-200)")
fi
if ! grep -q '^wb: done' "$console"; then
	grep -q '^wb: init started' "$console" ||
		why+=("the guest's init never started")
	why+=("the guest did not finish its workloads")
fi
pat=$(grep -v '^#' "$WB_TOP/tests/log-patterns" | grep -v '^$' | paste -sd'|')
# A line the test expects (LOG_EXPECT: a zPCI error event it provokes) is no
# problem of the boot.
scan=$tmp/kernel.log
if [ ${#LOG_EXPECT[@]} -gt 0 ]; then
	scan=$tmp/kernel.scanned
	expected=()
	for a in "${LOG_EXPECT[@]}"; do expected+=(-e "$a"); done
	grep -v -E "${expected[@]}" "$tmp/kernel.log" >"$scan" || true
fi
bad=$(grep -E -m5 -e "$pat" "$scan" || true)
[ -z "$bad" ] || why+=("kernel log reports a problem")

if [ ${#why[@]} = 0 ]; then
	printf 'R\tPASS\t%s/boot\n' "$name"
else
	printf 'R\tFAIL\t%s/boot\n' "$name"
	for w in "${why[@]}"; do printf 'E\t%s/boot\t%s\n' "$name" "$w"; done
	if [ -n "$bad" ]; then
		while IFS= read -r l; do printf 'E\t%s/boot\t%s\n' "$name" "$l"; done <<<"$bad"
	else
		tail -n 12 "$console" | while IFS= read -r l; do
			printf 'E\t%s/boot\t| %s\n' "$name" "$l"
		done
	fi
	printf 'E\t%s/boot\tlogs: %s\n' "$name" "$run"
fi

# The KTAP results. A SKIP the test does not allow by name is a FAIL,
# explained by the reason the skip gave.
res=$tmp/results
awk -f "$WB_TOP/scripts/ktap.awk" "$console" |
	awk -F'\t' -v con="$console" -v allow="$ALLOW_SKIP $allow_more" -v tname="${tfile#"$WB_TOP"/}" '
	BEGIN {
		n = split(allow, a, " ")
		for (i = 1; i <= n; i++)
			ok[a[i]] = 1
		# The reason of every skip, by the name on its own line.
		while ((getline line <con) > 0) {
			sub(/^\[ *[0-9]+\.[0-9]+\] /, "", line)
			sub(/^ +/, "", line)
			if (line !~ /^(not )?ok [0-9]+ / || !match(line, / *# *[Ss][Kk][Ii][Pp]/))
				continue
			why = substr(line, RSTART + RLENGTH)
			leaf = substr(line, 1, RSTART - 1)
			sub(/^(not )?ok [0-9]+ *(- )?/, "", leaf)
			sub(/ +$/, "", leaf)
			sub(/^ +/, "", why)
			reason[leaf] = why
		}
		close(con)
	}
	# The reason of the skip that gave result n: its name or the longest
	# one that ends n after a dot (a subtest of a parent).
	function reason_of(n,    l, best, s) {
		best = ""
		for (l in reason) {
			s = length(n) - length(l)
			if ((n == l || (s > 0 && substr(n, s) == "." l)) && length(l) > length(best))
				best = l
		}
		return (best == "" || reason[best] == "") ? "no reason given" : reason[best]
	}
	$1 == "R" && $2 == "SKIP" && !($3 in ok) {
		printf "R\tFAIL\t%s\n", $3
		printf "E\t%s\tskipped (%s): a FAIL, as %s does not allow this result to skip (ALLOW_SKIP)\n",
			$3, reason_of($3), tname
		next
	}
	{ print }' >"$res"
# Every workload the kernel command line asked for (wb.run=, the last one,
# as the guest reads it) gave the guest a top-level result of that name, or
# results under it: a workload cannot go missing with the results it owed.
cmdline=$(grep -m1 -o 'Kernel command line: .*' "$console" || true)
run=$(tr ' ' '\n' <<<"$cmdline" | sed -n 's/^wb\.run=//p' | tail -n 1)
for w in ${run//,/ }; do
	awk -v w="$w" '
		/^wb: init started/ { guest = 1 }
		guest && /^(not )?ok [0-9]+ / {
			n = $0; sub(/^(not )?ok [0-9]+ /, "", n); sub(/ *#.*/, "", n)
			if (n == w) found = 1
		}
		END { exit !found }' "$console" ||
		printf 'R\tFAIL\tworkload-%s\nE\tworkload-%s\twb.run asked for %s, the guest reported no result of it\n' \
			"$w" "$w" "$w" >>"$res"
done
# Every result the test requires is there (a FAIL or SKIP of it is one by
# now, explained where it was given).
for r in $REQUIRE; do
	grep -q -F -x -e "$(printf 'R\t%s\t%s' PASS "$r")" -e "$(printf 'R\t%s\t%s' FAIL "$r")" "$res" ||
		printf 'R\tFAIL\t%s\nE\t%s\trequired by the test (REQUIRE), but the boot did not report it\n' \
			"$r" "$r" >>"$res"
done
for i in "${!LOG_EXPECT[@]}"; do
	if grep -E -e "${LOG_EXPECT[$i]}" "$tmp/kernel.log" >/dev/null; then
		printf 'R\tPASS\tlog-%d\n' $((i + 1))
	else
		printf 'R\tFAIL\tlog-%d\nE\tlog-%d\tno kernel log line matches: %s\n' \
			$((i + 1)) $((i + 1)) "${LOG_EXPECT[$i]}"
	fi
done >>"$res"
[ -z "$out" ] || cp "$res" "$out"
awk -F'\t' -v OFS='\t' -v p="$name/" '{ if ($1 == "R") $3 = p $3; else $2 = p $2; print }' "$res"
# A run that reports fewer results than the test promises did not run them.
n=$(grep -c '^R' "$res" || true)
if [ "$n" -lt "$MIN_RESULTS" ]; then
	printf 'R\tFAIL\t%s/results\nE\t%s/results\t%s results, the test promises at least %s\n' \
		"$name" "$name" "$n" "$MIN_RESULTS"
fi
exit 0
