#!/usr/bin/python3
"""A small OAuth 2.0 authorization server on loopback (HTTPS), for tests.

It plays the provider (Microsoft's or Google's login service) for one
mailbox account, with the endpoints mentord and the mail servers use:

    POST /token       RFC 6749: grant_type refresh_token (the refresh token
                      rotates: each use returns a new one and the old one is
                      spent), authorization_code (with PKCE S256),
                      client_credentials, and RFC 8628's device_code
    POST /device      RFC 8628 device authorization: device_code, user_code
    GET  /authorize   authorization endpoint: answers at once with a
                      redirect to redirect_uri?code=..&state=.. (the person
                      signing in is simulated: approve_browser decides)
    POST /introspect  RFC 7662: {"active": true, "username": USER, ...} for a
                      valid access token, {"active": false} otherwise; what
                      Dovecot's oauth2 passdb and the SMTP sink ask

Access tokens live `lifetime` seconds (short, so tests see them expire) and
are long (`token_length`, like Microsoft's), so SMTP clients send them after
a 334 rather than on the AUTH line.  Test controls (Python, thread-safe):

    approve(user_code) / deny(user_code)   the person at the device page
    revoke_refresh_tokens()                every refresh token stops working
    reject_next(n=1, who=None)             the next n introspections of a
                                           valid token (by "imap": Dovecot,
                                           "smtp": the SMTP sink, or anyone)
                                           say inactive and revoke that
                                           token (a server that knows of a
                                           revocation first)
    fail_next(n=1)                         the next n /token requests get 503
    counts()                               {"refresh": n, "device": n, ...}
    user_codes()                           device codes waiting for a person

    with OAuthServer(dir, cert, key) as srv:
        srv.token_url, srv.device_url, srv.authorize_url, srv.introspect_url

Nothing it issues is a real secret; it never logs a token.
"""

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class _Handler(BaseHTTPRequestHandler):
    server_version = "oauthserver/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: tokens may be in paths
        pass

    def _send(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("ascii", "replace") if n else ""
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    def do_POST(self):
        path = urllib.parse.urlparse(self.path).path
        form = self._form()
        srv = self.server.owner
        if path == "/token":
            status, obj = srv._token(form)
        elif path == "/device":
            status, obj = srv._device(form)
        elif path == "/introspect":
            agent = self.headers.get("User-Agent") or ""
            status, obj = srv._introspect(form, "smtp" if "smtpsink" in agent else "imap")
        else:
            status, obj = 404, {"error": "not_found"}
        self._send(status, obj)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        srv = self.server.owner
        if url.path == "/authorize":
            q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            status, location, obj = srv._authorize(q)
            if location:
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(status, obj)
            return
        self._send(404, {"error": "not_found"})


class OAuthServer:
    def __init__(self, cert, key, user="mentor", client_id="mentord-test",
                 client_secret=None, lifetime=3600, token_length=1200, scope="mail"):
        self.cert = cert
        self.key = key
        self.user = user
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = lifetime
        self.token_length = token_length
        self.scope = scope
        self.approve_browser = True
        self.port = 0
        self._lock = threading.Lock()
        self._access = {}    # token -> {"exp", "active", "user"}
        self._refresh = {}   # token -> "active" | "spent" | "revoked"
        self._devices = {}   # device_code -> {"user_code", "state", "exp"}
        self._codes = {}     # code -> {"challenge", "redirect_uri", "used"}
        self._counts = {}
        self._reject = []   # who ("imap", "smtp" or None: anyone) per rejection
        self._fail = 0
        self._httpd = None
        self._thread = None

    # ---- life cycle ----

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="oauthserver",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    @property
    def token_url(self):
        return self._url("/token")

    @property
    def device_url(self):
        return self._url("/device")

    @property
    def authorize_url(self):
        return self._url("/authorize")

    @property
    def introspect_url(self):
        return self._url("/introspect")

    # ---- test controls ----

    def _count(self, what):
        self._counts[what] = self._counts.get(what, 0) + 1

    def counts(self):
        with self._lock:
            return dict(self._counts)

    def approve(self, user_code):
        return self._set_device(user_code, "approved")

    def deny(self, user_code):
        return self._set_device(user_code, "denied")

    def _set_device(self, user_code, state):
        with self._lock:
            for d in self._devices.values():
                if d["user_code"] == user_code and d["state"] == "pending":
                    d["state"] = state
                    return True
        return False

    def user_codes(self):
        with self._lock:
            return [d["user_code"] for d in self._devices.values() if d["state"] == "pending"]

    def revoke_refresh_tokens(self):
        with self._lock:
            for t in self._refresh:
                if self._refresh[t] == "active":
                    self._refresh[t] = "revoked"

    def reject_next(self, n=1, who=None):
        """who: "imap" (Dovecot asks), "smtp" (the SMTP sink asks) or None."""
        with self._lock:
            self._reject += [who] * n

    def fail_next(self, n=1):
        with self._lock:
            self._fail += n

    def valid_access_tokens(self):
        now = time.time()
        with self._lock:
            return sum(1 for a in self._access.values() if a["active"] and a["exp"] > now)

    # ---- issuing ----

    def _new_token(self, prefix, length):
        raw = secrets.token_urlsafe(length)
        return (prefix + raw)[:length]

    def _issue(self, with_refresh=True):
        """Called with the lock held."""
        access = self._new_token("at-", self.token_length)
        self._access[access] = {"exp": time.time() + self.lifetime, "active": True,
                                "user": self.user}
        out = {"access_token": access, "token_type": "Bearer", "expires_in": self.lifetime,
               "scope": self.scope}
        if with_refresh:
            refresh = self._new_token("rt-", 64)
            self._refresh[refresh] = "active"
            out["refresh_token"] = refresh
        return out

    def _client_ok(self, form):
        if form.get("client_id") != self.client_id:
            return False
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return False
        return True

    def _token(self, form):
        with self._lock:
            if self._fail > 0:
                self._fail -= 1
                self._count("fail_503")
                return 503, {"error": "temporarily_unavailable"}
            if not self._client_ok(form):
                self._count("invalid_client")
                return 401, {"error": "invalid_client",
                             "error_description": "unknown client or wrong secret"}
            grant = form.get("grant_type")
            if grant == "refresh_token":
                rt = form.get("refresh_token", "")
                state = self._refresh.get(rt)
                if state != "active":
                    self._count("invalid_grant")
                    if state == "spent":
                        self._count("reuse")
                    return 400, {"error": "invalid_grant",
                                 "error_description": "refresh token %s" % (
                                     state or "unknown")}
                self._refresh[rt] = "spent"
                self._count("refresh")
                return 200, self._issue()
            if grant == DEVICE_GRANT:
                d = self._devices.get(form.get("device_code", ""))
                if d is None:
                    return 400, {"error": "invalid_grant"}
                if time.time() > d["exp"]:
                    return 400, {"error": "expired_token"}
                if d["state"] == "pending":
                    self._count("device_pending")
                    return 400, {"error": "authorization_pending"}
                if d["state"] == "denied":
                    return 400, {"error": "access_denied"}
                if d["state"] == "used":
                    return 400, {"error": "invalid_grant"}
                d["state"] = "used"
                self._count("device")
                return 200, self._issue()
            if grant == "authorization_code":
                c = self._codes.get(form.get("code", ""))
                verifier = form.get("code_verifier", "")
                if c is None or c["used"] or c["redirect_uri"] != form.get("redirect_uri"):
                    self._count("invalid_grant")
                    return 400, {"error": "invalid_grant"}
                want = base64.urlsafe_b64encode(
                    hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if want != c["challenge"]:
                    self._count("pkce_mismatch")
                    return 400, {"error": "invalid_grant",
                                 "error_description": "PKCE verification failed"}
                c["used"] = True
                self._count("code")
                return 200, self._issue()
            if grant == "client_credentials":
                self._count("client_credentials")
                return 200, self._issue(with_refresh=False)
            return 400, {"error": "unsupported_grant_type"}

    def _device(self, form):
        with self._lock:
            if form.get("client_id") != self.client_id:
                return 400, {"error": "invalid_client"}
            device_code = secrets.token_urlsafe(32)
            user_code = "%s-%s" % (secrets.token_hex(2).upper(), secrets.token_hex(2).upper())
            self._devices[device_code] = {"user_code": user_code, "state": "pending",
                                          "exp": time.time() + 600}
            return 200, {"device_code": device_code, "user_code": user_code,
                         "verification_uri": self._url("/activate"), "expires_in": 600,
                         "interval": 1}

    def _authorize(self, q):
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect.startswith("http://"):
            return 400, None, {"error": "invalid_request"}
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return 400, None, {"error": "invalid_request",
                               "error_description": "PKCE S256 required"}
        sep = "&" if "?" in redirect else "?"
        if not self.approve_browser:
            return 302, redirect + sep + urllib.parse.urlencode(
                {"error": "access_denied", "state": q.get("state", "")}), None
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {"challenge": q["code_challenge"], "redirect_uri": redirect,
                                 "used": False}
            self._count("authorize")
        return 302, redirect + sep + urllib.parse.urlencode(
            {"code": code, "state": q.get("state", "")}), None

    def _introspect(self, form, who):
        token = form.get("token", "")
        with self._lock:
            a = self._access.get(token)
            ok = a is not None and a["active"] and a["exp"] > time.time()
            match = [i for i, w in enumerate(self._reject) if w is None or w == who]
            if ok and match:
                del self._reject[match[0]]
                a["active"] = False
                ok = False
                self._count("rejected")
            self._count("introspect_active" if ok else "introspect_inactive")
            if not ok:
                return 200, {"active": False}
            return 200, {"active": True, "username": a["user"], "exp": int(a["exp"]),
                         "client_id": self.client_id, "scope": self.scope,
                         "token_type": "Bearer"}


def introspect(url, ca_file, token, timeout=10):
    """Asks url (RFC 7662) about token; returns the username when active,
    else None.  What the SMTP sink does with every AUTH."""
    import urllib.request
    ctx = ssl.create_default_context(cafile=ca_file)
    data = urllib.parse.urlencode({"token": token}).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Accept": "application/json",
                                          "User-Agent": "smtpsink"})
    with urllib.request.urlopen(req, context=ctx, timeout=timeout) as r:
        obj = json.loads(r.read().decode())
    if obj.get("active") is True:
        return obj.get("username")
    return None
