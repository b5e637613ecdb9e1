#!/usr/bin/env bash
# Print result lines (from boot.sh and friends) for a person, with a tally.
. "$(dirname "$0")/lib.sh"
. "$WB_TOP/scripts/results.sh"
WB_RESULTS=$(mktemp)
trap 'rm -f "$WB_RESULTS"' EXIT
report
summary
