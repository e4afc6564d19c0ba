"""tempo_sim.server: the HTTP and HTTPS listeners and main() (options, port files, signals)."""

import argparse
import gzip
import io
import ipaddress
import os
import re
import signal
import socket
import socketserver
import ssl
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .config import CFG, CT_TEMPO, Config, STOP, SimError
from .selection import PAGE_CACHE
from .plumbing import ApiError, Ctx, LOG, PRE_FAULTS, Resp, Scenario, jira_json, tempo_fail
from .routing import authorized, encoded_answer, prefault_answer, route, unauthorized
from .control import control


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def version_string(self):
        return "tempo_sim/1.0"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):     # pylint: disable=redefined-builtin
        """Quiet: the request log is kept in memory (/_log)."""

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # -- request ---------------------------------------------------------------------

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                line = self.rfile.readline().split(b";")[0].strip()
                if not re.match(rb"^[0-9A-Fa-f]{1,8}$", line):
                    raise SimError(400, "tempo_sim: bad chunked request body")
                size = int(line, 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts) or None
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        if not length.isdigit() or int(length) > 256 * 1024 * 1024:
            raise SimError(400, "tempo_sim: bad Content-Length")
        return self.rfile.read(int(length)) if int(length) else None

    def wants_gzip(self):
        for token in (self.headers.get("Accept-Encoding") or "").split(","):
            name, _sc, q = token.strip().partition(";")
            if name.strip().lower() == "gzip":
                return q.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
        return False

    def dispatch(self):
        try:
            self.handle_request()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True

    def handle_request(self):
        target, _q, query = self.path.partition("?")
        prefix, path = "", target
        try:
            body = self.read_body()
            if target.startswith("/@"):
                seg, slash, rest = target[1:].partition("/")
                prefix, path = "/" + seg, slash + rest
                scenario = Scenario(seg[1:])
            else:
                scenario = Scenario()
            if path.startswith("/_"):
                status, ctype, data = control(self, path, query, body)
                self.send_plain(status, ctype, data)
                return
        except SimError as e:
            self.send_plain(e.status, "text/plain", str(e).encode("utf-8"))
            return
        ctx = Ctx(self, self.command, prefix, path, query, body, scenario)
        entry = LOG.add(ctx, self)
        if scenario.delay_ms:
            STOP.wait(scenario.delay_ms / 1000)
        self.answer(ctx, entry)

    # -- answer ----------------------------------------------------------------------

    def answer(self, ctx, entry):
        """Compute the answer, apply the scenario's fault and send it; the log entry gets
        the status before the first byte goes out (0 for reset/hang)."""
        fn, extra = route(ctx)
        try:
            if fn is not None:
                resp = fn(ctx, extra)
            elif extra:
                resp = Resp(405, "text/plain", b"Method Not Allowed", headers=[("Allow", ", ".join(extra))])
            elif ctx.src == "tempo":
                resp = tempo_fail(404, "Not found").resp
            else:
                resp = jira_json({"errorMessages": ["Not found"], "errors": {}}, 404)
        except ApiError as e:
            resp = e.resp
        except SimError as e:
            resp = Resp(e.status, "text/plain", str(e).encode("utf-8"))
        kind = self.pick_fault(ctx, resp)
        extra_headers = [("Retry-After", ctx.sc.retry_after)] if kind and ctx.sc.retry_after else []
        if kind in ("bomb", "deflate"):
            body, encoding = encoded_answer(ctx, kind)
            entry["status"] = 200
            self.send_head(200, [("Content-Type", CT_TEMPO), ("Content-Encoding", encoding)] + extra_headers,
                           len(body))
            self.wfile.write(body)
            return
        if kind in PRE_FAULTS:
            if kind == "reset":
                self.reset_connection()
                return
            if kind == "hang":
                STOP.wait(ctx.sc.slow_ms / 1000)
                self.close_connection = True
                return
            resp = prefault_answer(ctx, kind)
        elif ctx.src in ("tempo", "jira") and not authorized(ctx):
            resp = unauthorized(ctx)
        elif kind in ("nextloop", "foreignnext", "countmismatch", "crlfnext") and resp.variant and resp.status == 200:
            resp = Resp(200, resp.ctype, resp.variant(kind))
        resp.headers.extend(extra_headers)
        entry["status"] = resp.status
        if kind == "truncate":
            self.send_truncated(resp)
        elif kind == "slow":
            self.send_slow(resp, ctx.sc.slow_ms)
        else:
            self.send(resp, self.wants_gzip())

    def pick_fault(self, ctx, resp):
        sc = ctx.sc
        if not sc.fault or ctx.src not in ("tempo", "jira") or sc.src not in ("both", ctx.src):
            return None
        if sc.fault_on and not (ctx.path.startswith("/4/" + sc.fault_on) or
                                ctx.path.startswith("/rest/api/3/" + sc.fault_on)):
            return None
        index, last = resp.page if resp.page else (ctx.ordinal, True)
        if sc.fault_at == "last" and not last:
            return None
        if isinstance(sc.fault_at, int) and index != sc.fault_at:
            return None
        return sc.fault if LOG.take_fault(sc.tag, sc.fault, sc.fault_times, sc.fault_skip) else None

    # -- sending ---------------------------------------------------------------------

    def send_head(self, status, headers, length):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def send_plain(self, status, ctype, data):
        self.send_head(status, [("Content-Type", ctype)], len(data))
        self.wfile.write(data)

    def send(self, resp, use_gzip):
        headers = [("Content-Type", resp.ctype)] + resp.headers
        if resp.stream:
            length, chunks = resp.stream
            if use_gzip:
                data = PAGE_CACHE.get(resp.cache_key)
                if data is None:
                    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
                    data = b"".join([comp.compress(c) for c in chunks()] + [comp.flush()])
                    PAGE_CACHE.put(resp.cache_key, data)
                self.send_head(resp.status, headers + [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                               len(data))
                self.wfile.write(data)
                return
            self.send_head(resp.status, headers, length)
            for chunk in chunks():
                self.wfile.write(chunk)
            return
        body = resp.body
        if use_gzip:
            packed = PAGE_CACHE.get(resp.cache_key + ("gzip",)) if resp.cache_key else None
            if packed is None:
                packed = gzip.compress(body, compresslevel=1, mtime=0)
                if resp.cache_key:
                    PAGE_CACHE.put(resp.cache_key + ("gzip",), packed)
            body = packed
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self.send_head(resp.status, headers, len(body))
        self.wfile.write(body)

    def send_truncated(self, resp):
        body = resp.body
        self.send_head(resp.status, [("Content-Type", resp.ctype)] + resp.headers, len(body))
        self.wfile.write(body[:len(body) // 2])
        self.close_connection = True

    def send_slow(self, resp, slow_ms):
        body = resp.body
        self.send_head(resp.status, [("Content-Type", resp.ctype)] + resp.headers, len(body))
        deadline = time.monotonic() + slow_ms / 1000
        sent = 0
        while sent < len(body) and time.monotonic() < deadline:
            self.wfile.write(body[sent:sent + 1])
            sent += 1
            if STOP.wait(min(0.2, max(0.0, deadline - time.monotonic()))):
                break
        self.wfile.write(body[sent:])

    def reset_connection(self):
        """Abort with TCP RST: SO_LINGER 0, then close the socket (the buffered reader holds
        a reference, so it goes first); the handler's files become inert buffers."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        """Bind without HTTPServer's reverse DNS lookup (getfqdn can stall offline)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class TLSServer(Server):
    """The same server behind TLS.  accept() only wraps the socket; the handshake runs in
    the request's thread, so a client that never completes it blocks nobody else.  A
    client refusing the certificate (the point of sql/tls.sql) is not an error here."""
    scheme = "https"

    def __init__(self, address, handler, context):
        self.context = context
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            request.do_handshake()
            request.settimeout(None)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tempo_sim",
                                 description="Tempo/Jira worklog simulator for tempo_fdw tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--tempo-token", default=Config.tempo_token)
    ap.add_argument("--jira-email", default=Config.jira_email)
    ap.add_argument("--jira-token", default=Config.jira_token)
    ap.add_argument("--seed", type=int, default=Config.seed)
    ap.add_argument("--cache-mb", type=int, default=Config.cache_bytes // (1024 * 1024),
                    help="byte bound of the rendered-page cache")
    ap.add_argument("--tls-port", type=int, default=0)
    ap.add_argument("--tls-port-file")
    ap.add_argument("--tls-cert", help="PEM certificate of the HTTPS listener")
    ap.add_argument("--tls-key", help="PEM private key of the HTTPS listener")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key) or (args.tls_port_file and not args.tls_cert):
        ap.error("--tls-cert and --tls-key go together (and --tls-port-file needs them)")
    host = "127.0.0.1" if args.host == "localhost" else args.host
    try:
        loopback = ipaddress.ip_address(host).is_loopback and ipaddress.ip_address(host).version == 4
    except ValueError:
        loopback = False
    if not loopback:
        ap.error("--host must be an IPv4 loopback address (127.x.x.x), got %r" % args.host)
    CFG.tempo_token, CFG.jira_email, CFG.jira_token = args.tempo_token, args.jira_email, args.jira_token
    CFG.seed = args.seed
    PAGE_CACHE.max_bytes = max(0, args.cache_mb) * 1024 * 1024

    server = Server((host, args.port), Handler)
    CFG.port = server.server_address[1]
    tls_server = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        tls_server = TLSServer((host, args.tls_port), Handler, context)
        threading.Thread(target=tls_server.serve_forever, kwargs={"poll_interval": 0.2},
                         name="tls", daemon=True).start()
        if args.tls_port_file:
            write_port_file(args.tls_port_file, tls_server.server_address[1])
        print("tempo_sim listening on https://%s:%d" % (host, tls_server.server_address[1]), flush=True)
    if args.port_file:
        write_port_file(args.port_file, CFG.port)
    print("tempo_sim listening on http://%s:%d" % (host, CFG.port), flush=True)

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        STOP.set()
        if tls_server is not None:
            tls_server.shutdown()
            tls_server.server_close()
        server.server_close()
    return 0

