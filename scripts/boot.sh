#!/usr/bin/env bash
# Boot one test: boot.sh TEST [OBJ] [NAME] [EXTRA_APPEND]
# TEST is tests/boot/TEST.test; OBJ the O= directory of the kernel to boot
# (default build/obj/<the test's CONFIG>); NAME names the run and its results
# (default TEST); EXTRA_APPEND is added to the kernel command line.
# Once QEMU has ended, scripts/judge.sh gives the verdict from the console
# log: NAME/boot for the boot itself (it fails on a timeout, a panic, a guest
# that did not finish, or a kernel log line that matches tests/log-patterns),
# the KTAP results as scripts/ktap.awk gives them (a SKIP fails unless the
# test's ALLOW_SKIP names that result, without the run's NAME: see
# wb_load_test in lib.sh), NAME/log-N for LOG_EXPECT and NAME/results for
# MIN_RESULTS. WB_ALLOW_SKIP names more results that may skip in this run
# (bench.sh's boots of the base). Logs stay in build/runs/NAME/.
. "$(dirname "$0")/lib.sh"

test=${1:?usage: boot.sh TEST [OBJ] [NAME] [EXTRA_APPEND]}
tfile=$(wb_test_file "$test")
wb_load_test "$tfile"
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
echo "$rc" >"$run/qemu.status"
sed -i 's/\r$//' "$run/console.log"

"$WB_TOP/scripts/judge.sh" -n "$name" -s "$rc" -e "$run/qemu.err" -o "$run/results" \
	-a "${WB_ALLOW_SKIP:-}" "$tfile" "$run/console.log"
# A failed test that asked for hot-plug shows what QEMU answered: the guest
# sees only the effect.
if [ -s "$run/qmp.log" ] && grep -q $'^R\tFAIL' "$run/results"; then
	grep -v '^\s*$' "$run/qmp.log" | tail -n 20 |
		sed "s|^|E\t$name/qmp\tqmp.log: |"
fi
