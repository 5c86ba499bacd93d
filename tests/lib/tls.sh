# TLS for integration tests (bash; source after tap.sh and pgcluster.sh, and
# after pgt_setup).
#   tls_certs DIR [SAN]    a private CA (DIR/ca.pem, made once) and a server
#                          certificate it signs (DIR/server.pem, DIR/server.key) for
#                          SAN (default IP:127.0.0.1; DNS:name for another host);
#                          sets TLS_CA
#   tls_forward DIR PORT   HTTPS on a free loopback port (TLS_PORT) with DIR's server
#                          certificate, passing the bytes on to 127.0.0.1:PORT, as a
#                          TLS-terminating load balancer in front of a store does;
#                          its pid file makes pgt_cleanup stop it
# openssl that cannot make the certificates, or a forwarder that does not
# start, is a failure (Bail out), never a skip.

tls_certs() {
	local d=$1 san=${2:-IP:127.0.0.1}
	command -v openssl >/dev/null || bail_out "openssl is needed for the TLS tests (.ci/run installs it)"
	mkdir -p "$d"
	if [ ! -f "$d/ca.pem" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pgrescue test CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
			-keyout "$d/ca.key" -out "$d/ca.pem" 2>"$d/openssl.log" || bail_out "openssl cannot make a test CA"
	fi
	openssl req -newkey rsa:2048 -nodes -subj "/CN=pgrescue test server" -keyout "$d/server.key" \
		-out "$d/server.csr" 2>>"$d/openssl.log" || bail_out "openssl cannot make a certificate request"
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/server.ext" -out "$d/server.pem" 2>>"$d/openssl.log" ||
		bail_out "openssl cannot sign the test certificate"
	TLS_CA="$d/ca.pem"
}

tls_forward() {
	local d=$1 target=$2 i
	rm -f "$d/forward.port"
	python3 - "$d/server.pem" "$d/server.key" "$target" "$d/forward.port" >"$d/forward.log" 2>&1 <<'PY' &
import socket, ssl, sys, threading

cert, key, target, port_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)

def pump(src, dst):
    try:
        while True:
            b = src.recv(1 << 16)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def serve(raw):
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()  # a client that refused the certificate
        return
    up = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(up, tls), daemon=True).start()
    pump(tls, up)

while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	TLS_FWD_PID=$!
	echo "$TLS_FWD_PID" >"$d/forward.pid"
	for ((i = 0; i < 100; i++)); do
		[ -s "$d/forward.port" ] && break
		kill -0 "$TLS_FWD_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$d/forward.port" ] || { sed 's/^/# /' "$d/forward.log"; bail_out "the TLS forwarder did not start"; }
	TLS_PORT=$(cat "$d/forward.port")
}
