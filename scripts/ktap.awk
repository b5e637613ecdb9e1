#!/usr/bin/awk -f
# KTAP to test results. Reads a console log in which kernel lines carry a
# printk time stamp ("[    1.234567] ") and the guest's init writes plain
# lines; each is its own KTAP stream (the kernel's holds KUnit results).
# Prints, tab separated:
#   R <PASS|FAIL|SKIP> <name>   one line per leaf test
#   E <name> <text>             the diagnostics that explain a failure
# Subtests are named parent.child; kernel results are prefixed "kunit.".
# A parent is reported only when it failed without a failing child, and a
# plan that does not match the results is a failure of its own.

function path(st, lvl, name,    i, p) {
	p = (st == "k") ? "kunit." : ""
	for (i = 1; i <= lvl; i++)
		p = p sub_name[st, i] "."
	return p name
}

function emit(status, name, st, lvl,    i) {
	printf "R\t%s\t%s\n", status, name
	if (status == "FAIL")
		for (i = 1; i <= ndiag[st, lvl]; i++)
			printf "E\t%s\t%s\n", name, diag[st, lvl, i]
}

function close_block(st, lvl, name) {
	if (plan[st, lvl] >= 0 && nres[st, lvl] != plan[st, lvl]) {
		printf "R\tFAIL\t%s\n", name
		printf "E\t%s\tplan was %d tests, %d reported\n", name, plan[st, lvl], nres[st, lvl]
		nfail[st, lvl]++
	}
	open[st, lvl] = 0
}

BEGIN { plan["u", 0] = -1; plan["k", 0] = -1 }

{
	line = $0
	sub(/\r$/, "", line)
	st = "u"
	if (match(line, /^\[ *[0-9]+\.[0-9]+\] /)) {
		st = "k"
		line = substr(line, RLENGTH + 1)
	}
	match(line, /^ */)
	lvl = int(RLENGTH / 4)
	body = substr(line, RLENGTH + 1)

	if (body ~ /^# Subtest: /) {
		sub_name[st, lvl] = substr(body, 12)
		open[st, lvl] = 1
		nres[st, lvl] = 0
		nfail[st, lvl] = 0
		ndiag[st, lvl] = 0
		plan[st, lvl] = -1
		next
	}
	if (body ~ /^1\.\.[0-9]+ *$/) {
		plan[st, lvl] = substr(body, 4) + 0
		if (lvl == 0)
			seen[st] = 1
		next
	}
	if (body ~ /^(not )?ok [0-9]+( |$)/) {
		ok = (body !~ /^not /)
		rest = body
		sub(/^(not )?ok [0-9]+ *(- )?/, "", rest)
		skip = 0
		if (match(rest, / *# *[Ss][Kk][Ii][Pp]/)) {
			skip = 1
			rest = substr(rest, 1, RSTART - 1)
		} else if (match(rest, / # .*$/)) {
			rest = substr(rest, 1, RSTART - 1)
		}
		sub(/ +$/, "", rest)
		name = path(st, lvl, rest)
		nres[st, lvl]++
		if (open[st, lvl + 1]) {
			close_block(st, lvl + 1, name)
			if (!ok && nfail[st, lvl + 1] == 0)
				emit("FAIL", name, st, lvl + 1)
		} else {
			emit(skip ? "SKIP" : (ok ? "PASS" : "FAIL"), name, st, lvl)
		}
		if (!ok)
			nfail[st, lvl]++
		ndiag[st, lvl] = 0
		next
	}
	if (body ~ /^# /) {
		ndiag[st, lvl]++
		diag[st, lvl, ndiag[st, lvl]] = substr(body, 3)
	}
}

END {
	for (st in seen) {
		for (l = 1; l < 8; l++)
			if (open[st, l])
				printf "R\tFAIL\t%s\nE\t%s\tthe output ends inside this subtest\n",
					path(st, l - 1, sub_name[st, l]), path(st, l - 1, sub_name[st, l])
		if (plan[st, 0] >= 0 && nres[st, 0] != plan[st, 0])
			printf "R\tFAIL\t%sresults\nE\t%sresults\tplan was %d tests, %d reported\n",
				(st == "k") ? "kunit." : "", (st == "k") ? "kunit." : "",
				plan[st, 0], nres[st, 0]
	}
}
