#!/usr/bin/env bash
# Configuration errors as a user meets them on the command line: each names
# the file, the line and the key, exits 2, and never echoes a password.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup

cfg="$PGT_ROOT/config.ini"
write() { printf '%s\n' "$@" >"$cfg"; chmod 600 "$cfg"; }

run_cmd r "$PGRESCUE" --config "$PGT_ROOT/missing.ini" status
is "$r_rc" 2 "a missing config file named with --config exits 2"
like "$r_err" "missing.ini" "the error names the missing file"
like "$r_err" "HINT:" "and gives a hint"

write "[env prod]" "dsn = service=prod" "store = file:///srv/b" "retention_wal = 7 days"
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 2 "a bad duration exits 2"
like "$r_err" "config.ini:4: .*retention_wal" "the error names file:line and the key"

write "[env prod]" "dsn = service=prod" "store = file:///srv/b" "colour = blue"
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 2 "an unknown key exits 2"
like "$r_err" "config.ini:4: .*unknown key \"colour\"" "the unknown key is named with its line"

write "[env prod]" "dsn = host=db user=app password=hunter2" "store = file:///srv/b"
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 2 "a password in the dsn is refused"
like "$r_err" "config.ini:2: .*password" "the refusal names the line"
unlike "$r_err$r_out" "hunter2" "the password itself is never printed"

write "[env prod]" "store = file:///srv/b"
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 2 "a section without dsn exits 2"
like "$r_err" "config.ini:1: \[env prod\] is missing the key \"dsn\"" "the missing key is named"

write "[env a]" "dsn = service=a" "store = file:///a" "[env b]" "dsn = service=b" "store = file:///b"
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 2 "two environments and no default is an error"
like "$r_err" "several environments \(a, b\)" "it lists them"
like "$r_err" "HINT: .*--env" "and says how to choose"
run_cmd r "$PGRESCUE" --config "$cfg" --env c status
is "$r_rc" 2 "an unknown --env exits 2"
like "$r_err" "no environment named \"c\"" "and names it"

write "[env a]" "dsn = service=a" "store = file:///a"
chmod 644 "$cfg"
run_cmd r "$PGRESCUE" --config "$cfg" status --json
like "$r_err" "readable by others" "a config readable by others gets a warning"
like "$r_err" "HINT: chmod 600" "with the fix as a hint"
run_cmd r "$PGRESCUE" --config "$cfg" backup --bogus
is "$r_rc" 2 "an unknown option exits 2"

run_cmd r "$PGRESCUE" frobnicate
is "$r_rc" 2 "an unknown command exits 2"
like "$r_err" "unknown command \"frobnicate\"" "and names it"

# The default path is $XDG_CONFIG_HOME/pgrescue/config.ini; PGRESCUE_CONFIG overrides it.
mkdir -p "$XDG_CONFIG_HOME/pgrescue"
printf '[env xdg]\ndsn = service=x\nstore = file:///x\ncolour = 1\n' >"$XDG_CONFIG_HOME/pgrescue/config.ini"
chmod 600 "$XDG_CONFIG_HOME/pgrescue/config.ini"
run_cmd r "$PGRESCUE" status
like "$r_err" "$XDG_CONFIG_HOME/pgrescue/config.ini:4:" "the XDG config file is read by default"
printf '[env envvar]\ndsn = service=x\nstore = file:///x\nbad key here\n' >"$PGT_ROOT/env.ini"
chmod 600 "$PGT_ROOT/env.ini"
PGRESCUE_CONFIG="$PGT_ROOT/env.ini" run_cmd r "$PGRESCUE" status
like "$r_err" "env.ini:4: syntax error" "PGRESCUE_CONFIG overrides the default path"

run_cmd r "$PGRESCUE" --version
like "$r_out" "^pgrescue [0-9]+\.[0-9]+" "--version prints the version"
run_cmd r "$PGRESCUE" --help
like "$r_out" "wal-fetch NAME PATH" "--help lists the commands"

done_testing
