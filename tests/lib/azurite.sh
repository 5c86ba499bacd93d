# azurite (Microsoft's Azure Storage emulator, from npm) for integration tests
# (bash; source after tap.sh and pgcluster.sh, and after pgt_setup).
#   azt_start            start azurite's blob service on a free loopback port, in
#                        a temp dir, and wait until it answers; sets AZT_PORT,
#                        AZT_ENDPOINT, AZT_CONN (a connection string), AZT_PID
#                        (AZT_QUIET=1: no debug log nor access log, for benches;
#                        a restart on the same PGT_ROOT keeps the data;
#                        AZT_TLS=1: HTTPS with the certificate azt_tls_certs
#                        made, AZT_CA its CA, AZT_SCHEME https)
#   azt_tls_certs [SAN]  tls_certs (tls.sh) in $AZT_DIR/tls: a private CA, AZT_CA, and a
#                        server certificate it signs for SAN (default IP:127.0.0.1)
#   azt_stop [SIGNAL]    stop it (TERM by default) and wait until it is gone
#   azt_py CMD ARGS...   a small client with its own Shared Key signer (Python's
#                        hmac, independent of pgrescue's): mkcontainer C,
#                        putmany C PREFIX N, putwal C PREFIX N [FIRST] (segment names),
#                        putfile C BLOB FILE, getfile C BLOB
#                        FILE, count C PREFIX, exists C BLOB, sas (an account SAS)
# The azurite it runs: $PGR_AZURITE, else the one .ci/run installs under
# ~/.cache/pgrescue/npm, else azurite-blob on PATH. One that cannot be found or
# cannot start is a failure (Bail out), never a skip.

. "$(dirname "${BASH_SOURCE[0]}")/tls.sh"

AZT_ACCOUNT=devstoreaccount1
# The emulator's documented development key (public, not a secret).
AZT_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

azt_bin() {
	local c
	for c in "${PGR_AZURITE:-}" "$HOME/.cache/pgrescue/npm/node_modules/.bin/azurite-blob" \
		"$(command -v azurite-blob 2>/dev/null)"; do
		[ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}

azt_start() {
	local bin
	bin=$(azt_bin) || bail_out "azurite-blob not found: run .ci/run (it installs azurite from npm into ~/.cache/pgrescue/npm) or set PGR_AZURITE"
	command -v python3 >/dev/null || bail_out "python3 is needed for the azurite test client"
	AZT_DIR="$PGT_ROOT/azurite"
	mkdir -p "$AZT_DIR/data"
	local try
	for try in 1 2 3 4 5; do
		AZT_PORT=$((30000 + RANDOM % 20000))
		local debug=(--debug "$AZT_DIR/debug.log") tls=() curl_tls=()
		[ -n "${AZT_QUIET:-}" ] && debug=(--silent)
		AZT_SCHEME=http
		if [ -n "${AZT_TLS:-}" ]; then
			[ -f "$AZT_DIR/tls/server.pem" ] || azt_tls_certs
			tls=(--cert "$AZT_DIR/tls/server.pem" --key "$AZT_DIR/tls/server.key")
			curl_tls=(-k) # readiness only: any answer will do
			AZT_SCHEME=https
		fi
		"$bin" --blobHost 127.0.0.1 --blobPort "$AZT_PORT" --location "$AZT_DIR/data" \
			--disableTelemetry --skipApiVersionCheck --loose "${tls[@]}" \
			"${debug[@]}" >"$AZT_DIR/azurite.log" 2>&1 &
		AZT_PID=$!
		# pgt_cleanup stops whatever a *.pid file under the test's root names.
		echo "$AZT_PID" >"$AZT_DIR/azurite.pid"
		local i
		for ((i = 0; i < 150; i++)); do
			kill -0 "$AZT_PID" 2>/dev/null || break
			# Any HTTP answer (403 for an unsigned request) means it is up.
			if [ "$(curl "${curl_tls[@]}" -s -o /dev/null -m 2 -w '%{http_code}' "$AZT_SCHEME://127.0.0.1:$AZT_PORT/$AZT_ACCOUNT?comp=list")" != 000 ]; then
				AZT_ENDPOINT="$AZT_SCHEME://127.0.0.1:$AZT_PORT/$AZT_ACCOUNT"
				AZT_CONN="DefaultEndpointsProtocol=$AZT_SCHEME;AccountName=$AZT_ACCOUNT;AccountKey=$AZT_KEY;BlobEndpoint=$AZT_ENDPOINT;"
				return 0
			fi
			sleep 0.2
		done
		kill "$AZT_PID" 2>/dev/null
		wait "$AZT_PID" 2>/dev/null
		grep -q EADDRINUSE "$AZT_DIR/azurite.log" || break
	done
	sed 's/^/# /' "$AZT_DIR/azurite.log"
	bail_out "azurite did not start ($bin)"
}

azt_tls_certs() {
	tls_certs "$AZT_DIR/tls" "${1:-IP:127.0.0.1}"
	AZT_CA=$TLS_CA
}

azt_stop() {
	local sig=${1:-TERM} i
	[ -n "${AZT_PID:-}" ] || return 0
	kill -s "$sig" "$AZT_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$AZT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$AZT_PID" 2>/dev/null && kill -KILL "$AZT_PID" 2>/dev/null
	wait "$AZT_PID" 2>/dev/null
	rm -f "$AZT_DIR/azurite.pid"
	AZT_PID=
}

azt_py() {
	AZT_PORT=$AZT_PORT AZT_ACCOUNT=$AZT_ACCOUNT AZT_KEY=$AZT_KEY AZT_CA=${AZT_TLS:+$AZT_CA} python3 - "$@" <<'PY'
import base64, datetime, email.utils, hashlib, hmac, http.client, os, sys, urllib.parse

port = int(os.environ["AZT_PORT"])
acct = os.environ["AZT_ACCOUNT"]
key = base64.b64decode(os.environ["AZT_KEY"])
if os.environ.get("AZT_CA"):
    import ssl
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60,
                                       context=ssl.create_default_context(cafile=os.environ["AZT_CA"]))
else:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

def call(method, container, blob=None, query=None, body=b"", headers=None):
    query = query or {}
    h = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
    h.update(headers or {})
    path = "/%s/%s" % (acct, container) + ("/" + blob if blob else "")
    qpath = urllib.parse.quote(path)
    fields = [method, "", "", str(len(body)) if body else "", "", h.get("Content-Type", ""),
              "", "", "", "", "", ""]
    canon = "".join("%s:%s\n" % (k.lower(), v.strip()) for k, v in sorted(h.items(), key=lambda kv: kv[0].lower())
                    if k.lower().startswith("x-ms-"))
    res = "/%s%s" % (acct, qpath) + "".join("\n%s:%s" % (k.lower(), v) for k, v in sorted(query.items()))
    sts = "\n".join(fields) + "\n" + canon + res
    sig = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
    h["Authorization"] = "SharedKey %s:%s" % (acct, sig)
    url = qpath + ("?" + urllib.parse.urlencode(query) if query else "")
    conn.request(method, url, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    return r.status, data

def need(status, data, ok, what):
    if status not in ok:
        sys.exit("%s: HTTP %d %s" % (what, status, data[:300]))

cmd = sys.argv[1]
if cmd == "mkcontainer":
    s, d = call("PUT", sys.argv[2], query={"restype": "container"})
    need(s, d, (201, 409), "create container")
elif cmd == "putmany":
    c, prefix, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    for i in range(n):
        body = b"%d\n" % i
        s, d = call("PUT", c, "%s%06d" % (prefix, i), body=body,
                    headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"})
        need(s, d, (201,), "put")
elif cmd == "putwal":
    # WAL segment names (timeline 1), as many as asked, each a few bytes;
    # an optional fifth argument starts the numbering there.
    c, prefix, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    for i in range(first, first + n):
        s, d = call("PUT", c, "%s00000001%08X%08X" % (prefix, i // 256, i % 256), body=b"x",
                    headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"})
        need(s, d, (201,), "put")
elif cmd == "putfile":
    with open(sys.argv[4], "rb") as f:
        body = f.read()
    s, d = call("PUT", sys.argv[2], sys.argv[3], body=body,
                headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"})
    need(s, d, (201,), "put")
elif cmd == "getfile":
    s, d = call("GET", sys.argv[2], sys.argv[3])
    need(s, d, (200,), "get")
    with open(sys.argv[4], "wb") as f:
        f.write(d)
elif cmd == "exists":
    s, d = call("HEAD", sys.argv[2], sys.argv[3])
    print("yes" if s == 200 else "no")
elif cmd == "count":
    import xml.etree.ElementTree as ET
    n, marker = 0, None
    while True:
        q = {"restype": "container", "comp": "list", "prefix": sys.argv[3]}
        if marker:
            q["marker"] = marker
        s, d = call("GET", sys.argv[2], query=q)
        need(s, d, (200,), "list")
        root = ET.fromstring(d)
        n += len(root.findall("./Blobs/Blob"))
        marker = root.findtext("NextMarker")
        if not marker:
            break
    print(n)
elif cmd == "sas":
    # An account SAS (service version 2020-12-06 and later string to sign).
    se = (datetime.datetime.utcnow() + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sv, ss, srt, sp, spr = "2021-08-06", "b", "sco", "rwdlac", "http,https"
    sts = "\n".join([acct, sp, ss, srt, "", se, "", spr, sv, "", ""])
    sig = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
    print(urllib.parse.urlencode({"sv": sv, "ss": ss, "srt": srt, "sp": sp, "se": se, "spr": spr, "sig": sig}))
else:
    sys.exit("azt_py: unknown command " + cmd)
PY
}
