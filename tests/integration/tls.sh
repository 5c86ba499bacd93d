#!/usr/bin/env bash
# TLS to the store, against azurite serving HTTPS with a certificate from a
# private CA made here: certificates are verified by default (the system's CAs
# do not know this one, so every command refuses, with a HINT naming ca_file,
# and nothing is stored or written); ca_file = the CA makes wal-push, wal-fetch
# and store-check work, the data identical; a certificate for another host
# name is refused even with the right CA; a ca_file that cannot be read is
# named. The account key appears in no output.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/azurite.sh"
AZT_TLS=1 azt_start
AZT_TLS=1
like "$AZT_ENDPOINT" '^https://127\.0\.0\.1:[0-9]+/' "azurite serves HTTPS ($AZT_ENDPOINT)"
azt_py mkcontainer backups || bail_out "cannot create a container in azurite over HTTPS with the test CA"

export AZURE_STORAGE_CONNECTION_STRING="$AZT_CONN"
unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
STORE=az://devstoreaccount1/backups/tls
SEG=000000010000000000000001
mkdir -p "$PGT_ROOT/wal" "$PGT_ROOT/out"
head -c 3145728 /dev/urandom >"$PGT_ROOT/wal/$SEG"

# A config whose only difference is ca_file (no database is needed for these commands).
CFG=$PGT_ROOT/config.ini
pgt_config "$CFG" tls "host=/nonexistent dbname=none" "$STORE" "ca_file=$AZT_CA"
CFG_NOCA=$PGT_ROOT/config-noca.ini
pgt_config "$CFG_NOCA" tls "host=/nonexistent dbname=none" "$STORE"
ALL_OUT=

# ------------------------------------------------------------------ verified by default
run_cmd n "$PGRESCUE" --config "$CFG_NOCA" wal-push "$PGT_ROOT/wal/$SEG"
ALL_OUT+="$n_out$n_err"
isnt "$n_rc" 0 "wal-push over HTTPS to a server the system's CAs do not know fails"
like "$n_err" "https://127\.0\.0\.1:$AZT_PORT/devstoreaccount1/backups/tls/" "the error names the URL" || diag "$n_err"
like "$n_err" "[Cc]ertificate" "and says it is about the certificate"
like "$n_err" "HINT: .*ca_file = /path/to/ca\.pem" "the HINT names ca_file"
is "$(azt_py exists backups "tls/wal-archive/$SEG")" no "nothing was stored"

run_cmd c "$PGRESCUE" --config "$CFG_NOCA" store-check
ALL_OUT+="$c_out$c_err"
isnt "$c_rc" 0 "store-check without the CA fails too"
like "$c_err" "HINT: .*ca_file" "with the same HINT" || diag "$c_err"

# ------------------------------------------------------------------ ca_file = the private CA
run_cmd p "$PGRESCUE" --config "$CFG" wal-push "$PGT_ROOT/wal/$SEG"
ALL_OUT+="$p_out$p_err"
is "$p_rc" 0 "with ca_file = the CA, wal-push works" || diag "$p_err"
azt_py getfile backups "tls/wal-archive/$SEG" "$PGT_ROOT/out/independent" || fail "the independent client reads it"
ok "$(cmp -s "$PGT_ROOT/wal/$SEG" "$PGT_ROOT/out/independent"; echo $?)" "what landed is identical (read by an independent client)"

run_cmd c "$PGRESCUE" --config "$CFG" store-check
ALL_OUT+="$c_out$c_err"
is "$c_rc" 0 "store-check with the CA answers" || diag "$c_err"

run_cmd f "$PGRESCUE" --config "$CFG" wal-fetch "$SEG" "$PGT_ROOT/out/fetched"
ALL_OUT+="$f_out$f_err"
is "$f_rc" 0 "wal-fetch with the CA works" || diag "$f_err"
ok "$(cmp -s "$PGT_ROOT/wal/$SEG" "$PGT_ROOT/out/fetched"; echo $?)" "the fetched segment is identical"

run_cmd g "$PGRESCUE" --config "$CFG_NOCA" wal-fetch "$SEG" "$PGT_ROOT/out/fetched-noca"
ALL_OUT+="$g_out$g_err"
isnt "$g_rc" 0 "wal-fetch without the CA fails"
like "$g_err" "HINT: .*ca_file" "with the HINT" || diag "$g_err"
ok "$([ ! -e "$PGT_ROOT/out/fetched-noca" ]; echo $?)" "and writes nothing under the destination's name"
is "$(find "$PGT_ROOT/out" -name '*fetched-noca*' | wc -l)" 0 "nor any partial file beside it"

# ------------------------------------------------------------------ a ca_file that cannot be read
CFG_BAD=$PGT_ROOT/config-bad.ini
pgt_config "$CFG_BAD" tls "host=/nonexistent dbname=none" "$STORE" "ca_file=$PGT_ROOT/no-such-ca.pem"
run_cmd b "$PGRESCUE" --config "$CFG_BAD" store-check
ALL_OUT+="$b_out$b_err"
isnt "$b_rc" 0 "a ca_file that does not exist fails"
like "$b_err" 'ca_file ".*/no-such-ca\.pem" cannot be read: No such file' "the error names ca_file, its path and why"
like "$b_err" "HINT: ca_file names a PEM file" "with a HINT saying what it must be"
unlike "$b_err" "GET https" "it is refused before any request"

printf 'not a certificate\n' >"$PGT_ROOT/garbage.pem"
CFG_GARBAGE=$PGT_ROOT/config-garbage.ini
pgt_config "$CFG_GARBAGE" tls "host=/nonexistent dbname=none" "$STORE" "ca_file=$PGT_ROOT/garbage.pem"
run_cmd j "$PGRESCUE" --config "$CFG_GARBAGE" store-check
ALL_OUT+="$j_out$j_err"
isnt "$j_rc" 0 "a ca_file that holds no certificate fails"
like "$j_err" "HINT: ca_file = $PGT_ROOT/garbage\.pem holds no CA certificate in PEM form" \
	"the HINT names the file and what it lacks" || diag "$j_err"

CFG_REL=$PGT_ROOT/config-rel.ini
pgt_config "$CFG_REL" tls "host=/nonexistent dbname=none" "$STORE" "ca_file=tls/ca.pem"
run_cmd k "$PGRESCUE" --config "$CFG_REL" store-check
ALL_OUT+="$k_out$k_err"
isnt "$k_rc" 0 "a relative ca_file is refused"
like "$k_err" 'ca_file "tls/ca\.pem" is not an absolute path' "naming it" || diag "$k_err"

# ------------------------------------------------------------------ another host's certificate
# The same CA, a certificate for another name: the host name is checked too.
azt_stop
azt_tls_certs DNS:store.pgrescue.invalid
azt_start
export AZURE_STORAGE_CONNECTION_STRING="$AZT_CONN"
run_cmd h "$PGRESCUE" --config "$CFG" wal-fetch "$SEG" "$PGT_ROOT/out/fetched-host"
ALL_OUT+="$h_out$h_err"
isnt "$h_rc" 0 "a certificate for another host name is refused, even from the trusted CA"
like "$h_err" "127\.0\.0\.1" "the error names the host connected to" || diag "$h_err"
like "$h_err" "HINT: The certificate is valid but not issued for the host in the URL" "the HINT says the name is wrong, not the CA"
ok "$([ ! -e "$PGT_ROOT/out/fetched-host" ]; echo $?)" "and writes nothing"

# ------------------------------------------------------------------ secrets
unlike "$ALL_OUT" "$(printf '%s' "$AZT_KEY" | head -c 24)" "the account key is in no output"

azt_stop
done_testing
