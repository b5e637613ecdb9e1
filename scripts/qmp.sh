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

# qmp_ask JSON: QEMU's answer to one command, on stdout. (No grep -q on it:
# under pipefail socat's SIGPIPE would read as a failed match.)
qmp_ask() {
	printf '%s\n%s\n' '{"execute":"qmp_capabilities"}' "$1" |
		socat -t 2 - "UNIX-CONNECT:$sock" 2>/dev/null
}

# QEMU has device QID (a child of /machine/peripheral).
has_dev() {
	qmp_ask '{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}' |
		grep "\"name\": \"$1\"" >/dev/null
}

# QEMU has drive ID (a block backend of that name).
has_drive() {
	qmp_ask '{"execute":"query-block"}' | grep "\"device\": \"$1\"" >/dev/null
}

# plug ID: device_add of the device and its drives, checked.
# The guest may let go of the function before QEMU has finished deleting it
# (DEVICE_DELETED comes later), and the drive that went with it goes later
# still (when the device is finalized, after QEMU's RCU grace period): a
# drive_add before that gets 'Duplicate ID' and the function never comes
# back. So first wait until the device and its drives are gone (up to 60 s),
# then add what is missing and check that it is there, up to 10 times.
plug() {
	local id=$1 dev qid drive did try d gone=''
	local -a drives=() dids=() cmds=()
	dev=$(dev_opts "$id" -device)
	qid=$(tr ',' '\n' <<<"$dev" | sed -n 's/^id=//p')
	while IFS= read -r drive; do
		[ -n "$drive" ] || continue
		drives+=("$drive")
		dids+=("$(tr ',' '\n' <<<"$drive" | sed -n 's/^id=//p')")
	done < <(dev_opts "$id" -drive)
	for _ in $(seq 120); do
		kill -0 "$pid" 2>/dev/null || return 0
		gone=1
		has_dev "$qid" && gone=''
		for did in "${dids[@]}"; do
			[ -z "$gone" ] || ! has_drive "$did" || gone=''
		done
		[ -z "$gone" ] || break
		sleep 0.5
	done
	[ -n "$gone" ] || echo "!! $qid or its drive still in QEMU after 60 s" >>"$log"
	for try in $(seq 10); do
		# QEMU may end as soon as the guest has what it asked for.
		kill -0 "$pid" 2>/dev/null || return 0
		cmds=()
		for ((d = 0; d < ${#drives[@]}; d++)); do
			has_drive "${dids[d]}" || cmds+=("$(hmp "drive_add 0 ${drives[d]}")")
		done
		has_dev "$qid" || cmds+=("$(hmp "device_add $dev")")
		[ ${#cmds[@]} -gt 0 ] || return 0
		[ "$try" = 1 ] || echo "== $(date +%T) try $try" >>"$log"
		qmp_send "${cmds[@]}"
		! has_dev "$qid" || return 0
		sleep 1
	done
	! kill -0 "$pid" 2>/dev/null || has_dev "$qid" ||
		echo "!! $qid not back after 10 tries" >>"$log"
}

request() {
	local what=$1 id=$2 dev qid cmds=()
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
		plug "$id"
		return
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
