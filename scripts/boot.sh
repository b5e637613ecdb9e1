#!/usr/bin/env bash
# Boot one test: boot.sh TEST [OBJ] [NAME] [EXTRA_APPEND]
# TEST is tests/boot/TEST.test; OBJ the O= directory of the kernel to boot
# (default build/obj/<the test's CONFIG>); NAME names the run and its results
# (default TEST); EXTRA_APPEND is added to the kernel command line.
# Prints results as scripts/ktap.awk does, plus NAME/boot for the boot itself:
# it fails on a timeout, a guest that did not finish, or a kernel log line
# that matches tests/log-patterns. Logs stay in build/runs/NAME/.
. "$(dirname "$0")/lib.sh"

test=${1:?usage: boot.sh TEST [OBJ] [NAME] [EXTRA_APPEND]}
# A plain name is a boot test in tests/boot/; DIR/NAME is tests/DIR/NAME.test.
case "$test" in
*/*) tfile=$WB_TOP/tests/$test.test ;;
*) tfile=$WB_TOP/tests/boot/$test.test ;;
esac
[ -f "$tfile" ] || die "unknown test '$test' (known: $(cd "$WB_TOP/tests/boot" && ls -1 | sed -n 's/\.test$//p' | tr '\n' ' '))"
CONFIG=s390x-qemu DEVICES= APPEND= TIMEOUT=600 DISK_MIB=256 EXPECT=pass DESC= MIN_RESULTS=0
# Modules of the kernel under test (paths in OBJ) the guest finds in /lib/modules/.
MODULES=
# Extended regexes the kernel log must match, one line each (a test sets it).
LOG_EXPECT=()
# shellcheck disable=SC1090
. "$tfile"
# WB_DEVICES replaces the test's devices (the benchmark's no-IOMMU limit).
DEVICES=${WB_DEVICES:-$DEVICES}
obj=${2:-$WB_OBJ/$CONFIG}
name=${3:-${test//\//-}}
extra=${4:-}
wb_check_config "$CONFIG"
arch=${CONFIG%%-*}
qconf=$WB_TOP/configs/$arch.qemu
[ -f "$qconf" ] || die "no QEMU description configs/$arch.qemu for $CONFIG"
# shellcheck disable=SC1090
. "$qconf"
command -v "$QEMU_BIN" >/dev/null || die "$QEMU_BIN not found: run 'make deps'"
kernel=$obj/$KERNEL_IMAGE
[ -f "$kernel" ] || die "no kernel at $kernel: build $CONFIG first"
initrd=$WB_BUILD/guest/$arch/initramfs.cpio
[ -f "$initrd" ] || die "no initramfs at $initrd: run 'make guest' first"

run=$WB_BUILD/runs/$name
rm -rf "$run"
mkdir -p "$run"
if [ -n "$MODULES" ]; then
	# A second cpio archive after the guest's: the kernel unpacks both.
	for m in $MODULES; do
		[ -f "$obj/$m" ] || die "test $test: no module $obj/$m: build $CONFIG first"
	done
	{
		echo 'dir /lib 0755 0 0'
		echo 'dir /lib/modules 0755 0 0'
		for m in $MODULES; do echo "file /lib/modules/${m##*/} $obj/$m 0644 0 0"; done
	} >"$run/modules.list"
	{ cat "$initrd"; "$WB_BUILD/guest/$arch/gen_init_cpio" "$run/modules.list"; } >"$run/initramfs.cpio"
	initrd=$run/initramfs.cpio
fi
args=()
i=0
: >"$run/devices"
for dev in $DEVICES; do
	var=DEV_${dev//-/_}
	[ -n "${!var:-}" ] || die "test $test: device '$dev' has no $var in configs/$arch.qemu"
	id=$dev$i
	disk=$run/$id.img
	case "$dev" in blk*) truncate -s "${DISK_MIB}M" "$disk" ;; esac
	spec=${!var//@ID@/$id}
	spec=${spec//@DISK@/$disk}
	# shellcheck disable=SC2206
	opts=($spec)
	args+=("${opts[@]}")
	# What scripts/qmp.sh needs to plug the device again: "ID OPTION VALUE".
	for ((o = 0; o + 1 < ${#opts[@]}; o += 2)); do
		printf '%s %s %s\n' "$id" "${opts[o]}" "${opts[o + 1]}"
	done >>"$run/devices"
	i=$((i + 1))
done
# shellcheck source=../tests/expect.conf
. "$WB_TOP/tests/expect.conf"
APPEND=${APPEND//@DOMAIN_STRICT@/$EXPECT_DOMAIN_STRICT}
APPEND=${APPEND//@DOMAIN@/$EXPECT_DOMAIN}
APPEND=${APPEND//@FQ_STRICT@/$EXPECT_FQ_STRICT}
APPEND=${APPEND//@FQ_PERCPU@/$EXPECT_FQ_PERCPU}
APPEND=${APPEND//@FQ_SINGLE@/$EXPECT_FQ_SINGLE}
APPEND=${APPEND//@FQ_X86@/$EXPECT_FQ_X86}
APPEND=${APPEND//@FQ@/$EXPECT_FQ}
append="$KERNEL_APPEND $APPEND $extra"
# shellcheck disable=SC2206
cmd=("$QEMU_BIN" $QEMU_ARGS -kernel "$kernel" -initrd "$initrd"
	-qmp "unix:$run/qmp.sock,server=on,wait=off" "${args[@]}" -append "$append")
printf '%q ' "${cmd[@]}" >"$run/qemu.cmd"
echo >>"$run/qemu.cmd"

start=$(date +%s)
rc=0
# timeout runs QEMU in a process group of its own: stopped, stop it too.
qpid='' wpid=''
trap 'kill $qpid $wpid 2>/dev/null; exit 143' TERM
trap 'kill $qpid $wpid 2>/dev/null; exit 130' INT
timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null >"$run/console.log" 2>"$run/qemu.err" &
qpid=$!
# The guest asks for hot-plug through its console: scripts/qmp.sh answers,
# and ends with QEMU.
"$WB_TOP/scripts/qmp.sh" "$run" "$qpid" &
wpid=$!
wait "$qpid" || rc=$?
wait "$wpid" || true
echo "$(($(date +%s) - start))" >"$run/seconds"
sed -i 's/\r$//' "$run/console.log"

# The boot's own verdict.
why=()
if [ $rc = 124 ] || [ $rc = 137 ]; then
	why+=("timeout: no power-off within ${TIMEOUT}s, the guest hung")
elif [ $rc != 0 ]; then
	why+=("$QEMU_BIN exited with status $rc: $(head -c 300 "$run/qemu.err")")
fi
if grep -q 'Kernel panic' "$run/console.log"; then
	why+=("the guest panicked: $(grep -m1 'Kernel panic' "$run/console.log" | cut -c1-200)")
fi
if ! grep -q '^wb: done' "$run/console.log"; then
	grep -q '^wb: init started' "$run/console.log" ||
		why+=("the guest's init never started")
	why+=("the guest did not finish its workloads")
fi
pat=$(grep -v '^#' "$WB_TOP/tests/log-patterns" | grep -v '^$' | paste -sd'|')
# A kernel line may start in the middle of a line the guest was writing.
bad=$(grep -E '\[ *[0-9]+\.[0-9]+\] ' "$run/console.log" | grep -E -m5 -e "$pat" || true)
[ -z "$bad" ] || why+=("kernel log reports a problem")

if [ ${#why[@]} = 0 ]; then
	printf 'R\tPASS\t%s/boot\n' "$name"
else
	printf 'R\tFAIL\t%s/boot\n' "$name"
	for w in "${why[@]}"; do printf 'E\t%s/boot\t%s\n' "$name" "$w"; done
	if [ -n "$bad" ]; then
		while IFS= read -r l; do printf 'E\t%s/boot\t%s\n' "$name" "$l"; done <<<"$bad"
	else
		tail -n 12 "$run/console.log" | while IFS= read -r l; do
			printf 'E\t%s/boot\t| %s\n' "$name" "$l"
		done
	fi
	printf 'E\t%s/boot\tlogs: %s\n' "$name" "$run"
fi
awk -f "$WB_TOP/scripts/ktap.awk" "$run/console.log" >"$run/results"
for i in "${!LOG_EXPECT[@]}"; do
	# No grep -q: it would stop reading early, and under pipefail the
	# first grep's SIGPIPE would fail a line that matched.
	if grep -E '\[ *[0-9]+\.[0-9]+\] ' "$run/console.log" | grep -E -e "${LOG_EXPECT[$i]}" >/dev/null; then
		printf 'R\tPASS\tlog-%d\n' $((i + 1))
	else
		printf 'R\tFAIL\tlog-%d\nE\tlog-%d\tno kernel log line matches: %s\n' \
			$((i + 1)) $((i + 1)) "${LOG_EXPECT[$i]}"
	fi
done >>"$run/results"
awk -F'\t' -v OFS='\t' -v p="$name/" '{ if ($1 == "R") $3 = p $3; else $2 = p $2; print }' "$run/results"
# A run that reports fewer results than the test promises did not run them.
n=$(grep -c '^R' "$run/results" || true)
if [ "$n" -lt "$MIN_RESULTS" ]; then
	printf 'R\tFAIL\t%s/results\nE\t%s/results\t%s results, the test promises at least %s\n' \
		"$name" "$name" "$n" "$MIN_RESULTS"
fi
