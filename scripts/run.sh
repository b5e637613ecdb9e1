#!/usr/bin/env bash
# make run: build and boot the patched kernel (the base while patches/ is
# empty), run the DMA workload and say what the IOMMU did.
. "$(dirname "$0")/lib.sh"
. "$WB_TOP/scripts/results.sh"

"$WB_TOP/scripts/tree.sh"
"$WB_TOP/scripts/build.sh" s390x-qemu
"$WB_TOP/scripts/guest.sh" >/dev/null
note "booting the workload (qemu-system-s390x, TCG, 2 vCPUs)"
mkdir -p "$WB_BUILD/test"
WB_RESULTS=$WB_BUILD/test/run.tsv
: >"$WB_RESULTS"
"$WB_TOP/scripts/boot.sh" workload "" run >"$WB_BUILD/test/run.out"
log=$WB_BUILD/runs/run/console.log

echo
echo "== What ran"
echo "kernel:  $(sed -n 's/^# kernel: //p' "$log" | cut -d' ' -f1-3)"
echo "base:    $(cat "$WB_SRC/.git/wb-base-version")"
echo "series:  $(wb_series | wc -l) patches from patches/"
echo
echo "== PCI functions"
sed -n 's/^# function \([^ ]*\) \([^ ]*\) \([^ ]*\) driver=\([^ ]*\) iommu_group=\([^ ]*\) type=\([^ ]*\)\( flush_queue=\)*\([^ ]*\)$/\1 \3 \4 \5 \6 \8/p' "$log" |
	while read -r fn kind drv grp type fq; do
		printf '  %s  %-10s  driver %-18s  IOMMU group %-4s  domain type %-7s' "$fn" "$kind" "$drv" "$grp" "$type"
		case "$fq" in
		'' | none) echo ;;
		*) IFS=, read -r qt qs qto <<<"$fq"
		   printf '  flush queue: %s, %s entries, %s ms\n' "$qt" "$qs" "$qto" ;;
		esac
	done
echo
echo "== Data moved and verified"
grep -E '^ *# (blk|net)[ :]' "$log" | sed 's/^ *# /  /' || echo "  (none)"
v=$(sed -n 's/^wb: bytes verified //p' "$log")
[ -n "$v" ] && echo "  total: $v bytes ($((v / 1048576)) MiB) written or sent, read back and compared byte for byte"
echo
echo "== DMA map benchmark (spare function)"
grep -E '^ *# dmabench ' "$log" | sed 's/^ *# dmabench /  /' || echo "  (none)"
echo
echo "== IOMMU counters since statistics were reset (RPCITs: QEMU's measurement block)"
sed -n 's/^ *# stats \([^ ]*\) \([^:]*\): \(.*\)$/\1 \2 \3/p' "$log" |
	while read -r fn kind rest; do
		rpcit=? mapped=0 unmapped=0 global_rpcit=-1 sync_rpcit=? sync_map_rpcit=?
		for kv in $rest; do
			case "${kv%%=*}" in
			rpcit | mapped | unmapped | global_rpcit | sync_rpcit | sync_map_rpcit)
				printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
			esac
		done
		printf '  %s  %-10s  RPCITs %-8s  pages mapped %-8s unmapped %-8s (still mapped %s)' \
			"$fn" "$kind" "$rpcit" "$mapped" "$unmapped" "$((mapped - unmapped))"
		[ "$global_rpcit" != -1 ] &&
			printf '  global %s, sync %s, sync-map %s RPCITs' "$global_rpcit" "$sync_rpcit" "$sync_map_rpcit"
		echo
	done
echo
echo "== Checks"
report <"$WB_BUILD/test/run.out" | grep -v '^PASS' || true
summary
