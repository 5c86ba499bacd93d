# TAP helpers for integration tests (bash). Source it, call the checks,
# end with `done_testing`. Every check is counted by automake's tap-driver.
_tap_n=0
_tap_failed=0

ok() { # ok CONDITION-EXIT-STATUS NAME
	local status=$1; shift
	_tap_n=$((_tap_n + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_failed=$((_tap_failed + 1))
	fi
	return "$status"
}

pass() { ok 0 "$@"; }
fail() { ok 1 "$@"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

is() { # is GOT EXPECTED NAME
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then ok 0 "$@"; else
		ok 1 "$@"; diag "got:      '$got'" "expected: '$want'"; return 1; fi
}

isnt() { # isnt GOT UNWANTED NAME
	local got=$1 unwanted=$2; shift 2
	if [ "$got" != "$unwanted" ]; then ok 0 "$@"; else
		ok 1 "$@"; diag "got '$got', which it should not be"; return 1; fi
}

like() { # like TEXT EXTENDED-REGEX NAME
	local text=$1 re=$2; shift 2
	if printf '%s' "$text" | grep -Eq -- "$re"; then ok 0 "$@"; else
		ok 1 "$@"; diag "text did not match /$re/:" "$(printf '%s' "$text" | head -20)"; return 1; fi
}

unlike() {
	local text=$1 re=$2; shift 2
	if printf '%s' "$text" | grep -Eq -- "$re"; then
		ok 1 "$@"; diag "text matched /$re/:" "$(printf '%s' "$text" | head -20)"; return 1; else ok 0 "$@"; fi
}

# run_cmd VAR_PREFIX CMD...: runs CMD, stores stdout in ${P}_out, stderr in ${P}_err, status in ${P}_rc
run_cmd() {
	local p=$1; shift
	local of ef
	of=$(mktemp) ef=$(mktemp)
	"$@" >"$of" 2>"$ef"
	printf -v "${p}_rc" '%s' "$?"
	printf -v "${p}_out" '%s' "$(cat "$of")"
	printf -v "${p}_err" '%s' "$(cat "$ef")"
	rm -f "$of" "$ef"
}

bail_out() {
	echo "Bail out! $*"
	exit 1
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}
