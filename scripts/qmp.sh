#!/usr/bin/env bash
# The guest's hands on QEMU: qmp.sh RUN_DIR PID
# Started by boot.sh beside QEMU (PID); follows RUN_DIR/console.log until PID
# ends and carries out the requests the guest prints there:
#   wb: qmp SEQ device_del ID   unplug the workbench device ID (blk0, net1, ...)
#   wb: qmp SEQ device_add ID   plug it again, with the options it booted with
# SEQ numbers the requests: a request is carried out once, however often the
# line appears. The devices' options are in RUN_DIR/devices ("ID OPTION VALUE"
# lines, written by boot.sh). Every request and QEMU's answers go to
# RUN_DIR/qmp.log; the guest sees the effect, not the answer.
. "$(dirname "$0")/lib.sh"

run=${1:?usage: qmp.sh RUN_DIR PID}
pid=${2:?usage: qmp.sh RUN_DIR PID}
sock=$run/qmp.sock
log=$run/qmp.log

# JSON string contents: the option values hold paths and commas, no controls.
json_str() {
	local s=${1//\\/\\\\}
	printf '%s' "${s//\"/\\\"}"
}

# qmp_send JSON...: one QMP session; the answers are logged.
qmp_send() {
	local c
	for c in "$@"; do echo ">> $c"; done >>"$log"
	{
		echo '{"execute":"qmp_capabilities"}'
		for c in "$@"; do echo "$c"; done
	} | socat -t 2 - "UNIX-CONNECT:$sock" 2>&1 | grep -v '"QMP"' | sed 's/^/<< /' >>"$log" ||
		echo "!! socat: no QMP session at $sock" >>"$log"
}

hmp() {
	printf '{"execute":"human-monitor-command","arguments":{"command-line":"%s"}}' \
		"$(json_str "$1")"
}

# The value of OPTION for device ID in RUN_DIR/devices, one per line.
dev_opts() {
	awk -v id="$1" -v opt="$2" '$1 == id && $2 == opt { print $3 }' "$run/devices"
}

request() {
	local what=$1 id=$2 dev drive qid cmds=()
	dev=$(dev_opts "$id" -device)
	if [ -z "$dev" ]; then
		echo "!! no device $id in $run/devices" >>"$log"
		return
	fi
	case "$what" in
	device_del)
		# The QEMU id of the function (id=...), not of its drive.
		qid=$(tr ',' '\n' <<<"$dev" | sed -n 's/^id=//p')
		cmds+=("$(printf '{"execute":"device_del","arguments":{"id":"%s"}}' "$(json_str "$qid")")")
		;;
	device_add)
		# The guest may have let go of the function before QEMU has
		# finished deleting it (DEVICE_DELETED comes later) and with
		# it the drive: wait until the QEMU id is gone, up to 10 s.
		# (No grep -q: under pipefail socat's SIGPIPE would end the
		# wait as if the id were gone.)
		qid=$(tr ',' '\n' <<<"$dev" | sed -n 's/^id=//p')
		for _ in $(seq 20); do
			printf '%s\n%s\n' '{"execute":"qmp_capabilities"}' \
				'{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}' |
				socat -t 2 - "UNIX-CONNECT:$sock" 2>/dev/null |
				grep "\"name\": \"$qid\"" >/dev/null || break
			sleep 0.5
		done
		# A -drive goes with its device when that is unplugged: add it back.
		while IFS= read -r drive; do
			[ -n "$drive" ] && cmds+=("$(hmp "drive_add 0 $drive")")
		done < <(dev_opts "$id" -drive)
		cmds+=("$(hmp "device_add $dev")")
		;;
	esac
	qmp_send "${cmds[@]}"
}

declare -A done_seq=()
: >>"$log"
while IFS= read -r line; do
	line=${line%$'\r'}
	[[ $line =~ wb:\ qmp\ ([0-9]+)\ (device_del|device_add)\ ([A-Za-z0-9_-]+) ]] || continue
	seq=${BASH_REMATCH[1]}
	[ -z "${done_seq[$seq]:-}" ] || continue
	done_seq[$seq]=1
	echo "== $(date +%T) request $seq: ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}" >>"$log"
	request "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
done < <(tail --pid="$pid" -n +1 -F "$run/console.log" 2>/dev/null)
