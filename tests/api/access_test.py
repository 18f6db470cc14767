"""Issue 9, access control: nobody gets in without a credential, no other web origin can
change anything, roles hold, secrets never come back out, and the local machine's own
use stays frictionless (the local token, the one-time sign-in link, the CLI).

Every request here goes over real HTTP to a real `loupe serve`; browsers are imitated by
the headers they send (Origin, Sec-Fetch-Site, Cookie), as a page on another local port
(a notebook, a dev server) would send them."""
import http.client
import json
import os
import sqlite3
import stat
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from loupe_server import LoupeServer

BIN = os.path.abspath(os.environ.get("LOUPE_BIN", "build/loupe"))


def raw_request(server, method, path, body=None, headers=None):
    """A request with exactly these headers (no token added): (status, headers, parsed body)."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    data = body.encode() if isinstance(body, str) else body
    c.request(method, path, body=data, headers=headers or {})
    r = c.getresponse()
    payload = r.read()
    c.close()
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = payload.decode("utf-8", "replace")
    return r.status, r.headers, parsed


def session_cookie(server, headers):
    """The `name=value` of the session cookie a response set (None when none was set)."""
    for k, v in headers.items():
        if k.lower() == "set-cookie" and v.startswith(f"loupe_session_{server.port}="):
            return v.split(";")[0]
    return None


class AccessTest(unittest.TestCase):
    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(self.server.cleanup)
        status, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "p", "run_id": "r1"})
        self.assertEqual(status, 201, body)
        self.eid = body["data"]["id"]

    def admin(self, method, path, body=None):
        return self.server.request(method, path, body)

    def add_user(self, name, role, password="correct horse battery"):
        status, body, _ = self.admin("POST", "/api/v1/users", {"name": name, "role": role, "password": password})
        self.assertEqual(status, 201, body)

    def token_for(self, name):
        status, body, _ = self.admin("POST", "/api/v1/tokens", {"user": name, "label": "test"})
        self.assertEqual(status, 201, body)
        return body["data"]["token"]

    def status_of_run(self):
        return self.admin("GET", f"/api/v1/experiments/{self.eid}")[1]["data"]["status"]

    def test_no_credential_no_access(self):
        status, headers, body = raw_request(self.server, "GET", "/api/v1/projects")
        self.assertEqual(status, 401)
        self.assertEqual(body["code"], 3401)
        self.assertIn("Bearer", headers["WWW-Authenticate"])
        status, headers, _ = raw_request(self.server, "GET", "/experiments/1?x=1")
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/login?next=/experiments/1%3Fx%3D1")
        for method, path in [("POST", "/api/v1/experiments"), ("DELETE", f"/api/v1/experiment/{self.eid}"),
                             ("GET", f"/api/v1/experiment/{self.eid}/stop"), ("POST", "/api/v1/job/")]:
            with self.subTest(path=path):
                status, _, body = raw_request(self.server, method, path, '{"project": "x"}',
                                              {"Content-Type": "text/plain"})
                self.assertEqual(status, 401, body)
        status, _, _ = raw_request(self.server, "GET", "/api/v1/experiments/1",
                                   headers={"Authorization": "Bearer loupe_not-a-token"})
        self.assertEqual(status, 401)
        status, _, _ = raw_request(self.server, "GET", "/api/v1/experiments/1",
                                   headers={"Authorization": "Basic YTpi"})
        self.assertEqual(status, 401)
        # What stays open: health for monitors, static assets and the sign-in page.
        for path in ["/api/v1/health", "/static/loupe.css", "/login"]:
            self.assertEqual(raw_request(self.server, "GET", path)[0], 200, path)
        self.assertEqual(self.status_of_run(), "running")

    def sign_in_with_link(self):
        link = urllib.parse.urlsplit(self.server.sign_in_url)
        status, headers, _ = raw_request(self.server, "GET", f"{link.path}?{link.query}")
        self.assertEqual(status, 303)
        cookie = session_cookie(self.server, headers)
        self.assertIsNotNone(cookie, headers)
        return cookie, headers

    def test_the_printed_link_signs_in_once_with_a_strict_http_only_cookie(self):
        self.assertIsNotNone(self.server.sign_in_url)
        cookie, headers = self.sign_in_with_link()
        set_cookie = [v for k, v in headers.items() if k.lower() == "set-cookie"][0]
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"]:
            self.assertIn(attribute, set_cookie)
        self.assertNotIn("Secure", set_cookie)  # plain HTTP on loopback; behind a TLS proxy it is set
        status, _, body = raw_request(self.server, "GET", "/api/v1/auth/me", headers={"Cookie": cookie})
        self.assertEqual((status, body["data"]["user"], body["data"]["via"]), (200, "local", "session"))
        status, _, page = raw_request(self.server, "GET", "/projects", headers={"Cookie": cookie})
        self.assertEqual(status, 200)
        self.assertIn("Projects", page)
        link = urllib.parse.urlsplit(self.server.sign_in_url)
        status, headers, page = raw_request(self.server, "GET", f"{link.path}?{link.query}")
        self.assertEqual(status, 401)
        self.assertIn("used already or has expired; run `loupe login-link` (with the server&apos;s --data-dir) "
                      "for a new one", page)
        self.assertIsNone(session_cookie(self.server, headers))
        # The same link opened again in the browser it signed in just goes on.
        status, headers, _ = raw_request(self.server, "GET", f"{link.path}?{link.query}", headers={"Cookie": cookie})
        self.assertEqual((status, headers["Location"]), (303, "/"))
        # Sign-out ends the session on the server, not only in the browser.
        status, _, _ = raw_request(self.server, "POST", "/logout",
                                   headers={"Cookie": cookie, "Origin": self.server.url})
        self.assertEqual(status, 303)
        self.assertEqual(raw_request(self.server, "GET", "/api/v1/auth/me", headers={"Cookie": cookie})[0], 401)

    def test_behind_a_tls_proxy_the_cookie_is_secure(self):
        status, headers, _ = raw_request(self.server, "POST", "/api/v1/auth/login",
                                         json.dumps({"token": self.server.token}),
                                         {"Content-Type": "application/json", "X-Forwarded-Proto": "https"})
        self.assertEqual(status, 200)
        set_cookie = [v for k, v in headers.items() if k.lower() == "set-cookie"][0]
        self.assertIn("; Secure", set_cookie)

    def test_other_origins_change_nothing(self):
        cookie, _ = self.sign_in_with_link()
        evil = "http://localhost:3000"
        attacks = [
            # SwanLab's stop is a GET: an <img src> on another local page sends the cookie (same site).
            ("GET", f"/api/v1/experiment/{self.eid}/stop", None, {"Sec-Fetch-Site": "same-site"}),
            ("GET", f"/api/v1/experiment/{self.eid}/stop", None, {"Sec-Fetch-Site": "cross-site"}),
            # A browser too old to send Sec-Fetch-*: the cookie alone is not enough for a change.
            ("GET", f"/api/v1/experiment/{self.eid}/stop", None, {}),
            # A no-cors text/plain POST and an auto-posted form.
            ("POST", f"/api/v1/experiments/{self.eid}/metrics", '{"steps": [{"step": 1, "values": {"x": 1}}]}',
             {"Origin": evil, "Content-Type": "text/plain", "Sec-Fetch-Site": "same-site"}),
            ("POST", "/api/v1/job/", '{"job_type": "ModelJob", "kwargs": {"run_id": 1}}',
             {"Origin": evil, "Content-Type": "text/plain"}),
            ("DELETE", f"/api/v1/experiment/{self.eid}", None, {"Origin": "null"}),
            ("POST", "/api/v1/tokens", '{"label": "stolen"}', {"Origin": evil, "Content-Type": "application/json"}),
        ]
        for method, path, body, headers in attacks:
            with self.subTest(method=method, path=path, headers=headers):
                status, _, answer = raw_request(self.server, method, path, body, dict(headers, Cookie=cookie))
                self.assertEqual(status, 403, answer)
        # Even a valid token does not let another origin's page make a change.
        status, _, _ = raw_request(self.server, "DELETE", f"/api/v1/experiment/{self.eid}", None,
                                   {"Authorization": f"Bearer {self.server.token}", "Origin": evil})
        self.assertEqual(status, 403)
        self.assertEqual(self.status_of_run(), "running")
        self.assertEqual(self.admin("GET", f"/api/v1/experiments/{self.eid}/keys")[1]["data"]["keys"], [])
        self.assertEqual(len(self.admin("GET", "/api/v1/tokens?all=1")[1]["data"]["tokens"]), 1)
        # The same requests from Loupe's own pages work.
        status, _, body = raw_request(self.server, "GET", f"/api/v1/experiment/{self.eid}/stop", None,
                                      {"Cookie": cookie, "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.status_of_run(), "stopped")
        status, _, body = raw_request(self.server, "POST", "/api/v1/tokens", '{"label": "mine"}',
                                      {"Cookie": cookie, "Origin": self.server.url, "Content-Type": "application/json"})
        self.assertEqual(status, 201, body)

    def test_host_names_other_than_loopback_are_not_answered(self):
        for host in ["evil.example", "evil.example:80", f"rebind.attacker.test:{self.server.port}"]:
            status, _, body = raw_request(self.server, "GET", "/api/v1/projects",
                                          headers={"Host": host, "Authorization": f"Bearer {self.server.token}"})
            self.assertEqual(status, 403, host)
            self.assertIn("--allowed-host", body["message"])
        for host in [f"localhost:{self.server.port}", f"127.0.0.1:{self.server.port}", f"[::1]:{self.server.port}"]:
            status, _, _ = raw_request(self.server, "GET", "/api/v1/projects",
                                       headers={"Host": host, "Authorization": f"Bearer {self.server.token}"})
            self.assertEqual(status, 200, host)

    def test_roles(self):
        self.add_user("vera", "viewer")
        self.add_user("ed", "editor")
        viewer = {"Authorization": f"Bearer {self.token_for('vera')}", "Content-Type": "application/json"}
        editor = {"Authorization": f"Bearer {self.token_for('ed')}", "Content-Type": "application/json"}
        self.assertEqual(raw_request(self.server, "GET", f"/api/v1/experiments/{self.eid}", headers=viewer)[0], 200)
        self.assertEqual(raw_request(self.server, "GET", "/projects", headers=viewer)[0], 200)
        status, _, body = raw_request(self.server, "POST", "/api/v1/experiments", '{"project": "v"}', viewer)
        self.assertEqual(status, 403)
        self.assertIn("'vera' is a viewer", body["message"])
        self.assertEqual(raw_request(self.server, "GET", f"/api/v1/experiment/{self.eid}/stop", headers=viewer)[0], 403)
        self.assertEqual(raw_request(self.server, "POST", "/api/v1/experiments", '{"project": "e"}', editor)[0], 201)
        for method, path, body in [("GET", "/api/v1/users", None), ("GET", "/api/v1/audit", None),
                                   ("GET", "/api/v1/secrets", None), ("PUT", "/api/v1/secrets/K", '{"value": "x"}'),
                                   ("POST", "/api/v1/users", '{"name": "x", "role": "admin"}')]:
            status, _, answer = raw_request(self.server, method, path, body, editor)
            self.assertEqual(status, 403, (path, answer))
        # A viewer keeps their own tokens, and cannot revoke others'.
        status, _, body = raw_request(self.server, "POST", "/api/v1/tokens", '{"label": "script"}', viewer)
        self.assertEqual(status, 201, body)
        tokens = raw_request(self.server, "GET", "/api/v1/tokens", headers=viewer)[2]["data"]["tokens"]
        self.assertEqual({t["user"] for t in tokens}, {"vera"})
        editor_token = raw_request(self.server, "GET", "/api/v1/tokens", headers=editor)[2]["data"]["tokens"][0]
        self.assertEqual(raw_request(self.server, "DELETE", f"/api/v1/tokens/{editor_token['id']}",
                                     headers=viewer)[0], 404)
        # A role change applies to the next request.
        self.assertEqual(self.admin("PATCH", "/api/v1/users/ed", {"role": "viewer"})[0], 200)
        self.assertEqual(raw_request(self.server, "POST", "/api/v1/experiments", '{"project": "e"}', editor)[0], 403)

    def test_a_sign_in_flood_cannot_fill_the_pool_of_heavy_requests(self):
        # Failed password sign-ins (Argon2id, about 165 ms each) waited in the pool that
        # uploads, training sessions and predictions use: a hundred at once, with names
        # changed to dodge the per-user lockout, made those answer 503.
        import concurrent.futures
        from loupe_server import multipart

        def sign_in(i):
            status, _, headers = self.server.request("POST", "/api/v1/auth/login",
                                                     {"user": f"nobody{i}", "password": "wrong"}, auth=False)
            return status, headers.get("Retry-After")

        with concurrent.futures.ThreadPoolExecutor(100) as pool:
            flood = [pool.submit(sign_in, i) for i in range(100)]
            for i in range(5):
                time.sleep(0.2)
                body, ctype = multipart({"name": f"during{i}"}, {"file": ("during.csv", b"a,b\n1,2\n")})
                status, answer, _ = self.server.request("POST", "/api/v1/dataset/", raw=body,
                                                        headers={"Content-Type": ctype})
                self.assertEqual(status, 201, answer)
            statuses = [f.result() for f in flood]
        self.assertEqual(set(statuses), {(401, None), (429, "1")})  # refused, or told to retry at once

    def test_passwords_tokens_and_throttling(self):
        self.add_user("alice", "editor", "a long enough password")
        status, body, _ = self.admin("POST", "/api/v1/users", {"name": "bob", "role": "editor", "password": "short"})
        self.assertEqual(status, 422)
        self.assertIn("at least 8", body["message"])
        status, body, _ = self.admin("POST", "/api/v1/users", {"name": "alice", "role": "viewer"})
        self.assertEqual(status, 409)
        self.assertEqual(self.admin("POST", "/api/v1/users", {"name": "x", "role": "root"})[0], 422)
        self.assertEqual(self.admin("POST", "/api/v1/users", {"name": "a/b", "role": "viewer"})[0], 422)
        users = self.admin("GET", "/api/v1/users")[1]["data"]["users"]
        self.assertNotIn("argon2", json.dumps(users))
        self.assertEqual({u["name"]: u["has_password"] for u in users}, {"local": False, "alice": True})
        # The stored hash is Argon2id.
        db = sqlite3.connect(os.path.join(self.server.data_dir, "loupe.db"))
        self.addCleanup(db.close)
        stored = db.execute("SELECT password_hash FROM users WHERE name='alice'").fetchone()[0]
        self.assertTrue(stored.startswith("$argon2id$"), stored)

        login = lambda pw: raw_request(self.server, "POST", "/api/v1/auth/login",  # noqa: E731
                                       json.dumps({"user": "alice", "password": pw}),
                                       {"Content-Type": "application/json", "Origin": self.server.url})
        status, headers, body = login("a long enough password")
        self.assertEqual((status, body["data"]["role"]), (200, "editor"))
        self.assertIsNotNone(session_cookie(self.server, headers))
        status, _, body = login("wrong")
        self.assertEqual(status, 401)
        self.assertEqual(body["message"], "wrong user name or password")
        status, _, body = raw_request(self.server, "POST", "/api/v1/auth/login",
                                      json.dumps({"user": "nobody", "password": "wrong"}),
                                      {"Content-Type": "application/json"})
        self.assertEqual(body["message"], "wrong user name or password")  # no hint which names exist
        for _ in range(4):
            login("wrong")
        status, _, body = login("a long enough password")
        self.assertEqual(status, 429, body)
        self.assertIn("too many failed sign-ins", body["message"])

        # A token is shown once, works as a Bearer credential, and stops working when revoked.
        status, body, _ = self.admin("POST", "/api/v1/tokens", {"label": "ci"})
        token, token_id = body["data"]["token"], body["data"]["id"]
        self.assertTrue(token.startswith("loupe_") and len(token) >= 40)
        self.assertEqual(body["data"]["hint"], token[-4:])
        listed = self.admin("GET", "/api/v1/tokens")[1]
        self.assertNotIn(token, json.dumps(listed))
        self.assertNotIn(token, json.dumps(db.execute("SELECT * FROM api_tokens").fetchall()))
        auth = {"Authorization": f"Bearer {token}"}
        self.assertEqual(raw_request(self.server, "GET", "/api/v1/projects", headers=auth)[0], 200)
        self.assertEqual(self.admin("DELETE", f"/api/v1/tokens/{token_id}")[0], 200)
        self.assertEqual(raw_request(self.server, "GET", "/api/v1/projects", headers=auth)[0], 401)
        # Removing a user ends their sessions and tokens.
        alice = self.token_for("alice")
        self.assertEqual(self.admin("DELETE", "/api/v1/users/alice")[0], 200)
        self.assertEqual(raw_request(self.server, "GET", "/api/v1/projects",
                                     headers={"Authorization": f"Bearer {alice}"})[0], 401)
        self.assertEqual(self.admin("DELETE", "/api/v1/users/local")[0], 422)

    def test_the_audit_log_says_who_changed_what_but_not_every_metric(self):
        self.add_user("ed", "editor")
        editor = {"Authorization": f"Bearer {self.token_for('ed')}", "Content-Type": "application/json"}
        for step in range(5):
            raw_request(self.server, "POST", f"/api/v1/experiments/{self.eid}/metrics",
                        json.dumps({"steps": [{"step": step, "values": {"loss": 1.0}}]}), editor)
        status, _, _ = raw_request(self.server, "DELETE", f"/api/v1/experiment/{self.eid}", None, editor)
        self.assertEqual(status, 200)
        raw_request(self.server, "POST", "/api/v1/auth/login", json.dumps({"user": "ed", "password": "nope"}),
                    {"Content-Type": "application/json"})
        entries = self.admin("GET", "/api/v1/audit")[1]["data"]["entries"]
        actions = [(e["user"], e["action"], e["target"], e["status"]) for e in entries]
        self.assertIn(("ed", "DELETE /api/v1/experiment/:id", f"/api/v1/experiment/{self.eid}", 200), actions)
        self.assertIn(("local", "POST /api/v1/users", "/api/v1/users", 201), actions)
        self.assertIn(("ed", "sign-in refused", "password", 401), actions)
        self.assertFalse([a for a in actions if "metrics" in a[1]], actions)
        self.assertEqual(entries[0]["remote"], "127.0.0.1")
        self.assertEqual(entries, sorted(entries, key=lambda e: -e["id"]))
        page = self.server.html("/access")[1]
        self.assertIn("DELETE /api/v1/experiment/:id", page)

    def test_secrets_are_write_only_and_sealed_at_rest(self):
        value = "sk-live-0123456789abcdefSECRET"
        status, body, _ = self.admin("PUT", "/api/v1/secrets/OPENAI_API_KEY", {"value": value})
        self.assertEqual(status, 200, body)
        listed = self.admin("GET", "/api/v1/secrets")[1]["data"]["secrets"]
        self.assertEqual([(s["name"], s["hint"], s["updated_by"]) for s in listed],
                         [("OPENAI_API_KEY", "CRET", "local")])
        short = self.admin("PUT", "/api/v1/secrets/PIN", {"value": "1234"})
        self.assertEqual(short[0], 200)
        self.assertIsNone([s for s in self.admin("GET", "/api/v1/secrets")[1]["data"]["secrets"]
                           if s["name"] == "PIN"][0]["hint"])  # a short value gets no hint
        for bad, code in [({"value": ""}, 422), ({"value": 5}, 422), ({"value": "x" * 20000}, 413)]:
            self.assertEqual(self.admin("PUT", "/api/v1/secrets/K", bad)[0], code, bad)
        self.assertEqual(self.admin("PUT", "/api/v1/secrets/bad%20name", {"value": "xxxxx"})[0], 422)
        status, body, _ = self.server.request("PUT", "/api/v1/secrets/K", raw=b'{"value": "sk-' + b"\xff" * 3,
                                              headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertNotIn("sk-", body["message"])
        # Nowhere in clear: not in the database, its WAL, the log, the audit log or a page.
        self.server.stop()
        for name in os.listdir(self.server.data_dir):
            path = os.path.join(self.server.data_dir, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    self.assertNotIn(value.encode(), f.read(), name)
        self.assertNotIn(value, self.server.log())
        key_file = os.path.join(self.server.data_dir, "secret.key")
        self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
        self.server.start()
        self.assertNotIn(value, json.dumps(self.admin("GET", "/api/v1/audit")[1]))
        self.assertNotIn(value, self.server.html("/access")[1])
        self.assertEqual(self.admin("DELETE", "/api/v1/secrets/OPENAI_API_KEY")[0], 200)
        self.assertEqual(self.admin("DELETE", "/api/v1/secrets/OPENAI_API_KEY")[0], 404)

    def test_the_local_token_is_private_persistent_and_found_by_local_clients(self):
        token_file = os.path.join(self.server.data_dir, "local.token")
        self.assertEqual(stat.S_IMODE(os.stat(token_file).st_mode), 0o600)
        runtime = os.path.join(os.environ.get("LOUPE_RUNTIME_DIR") or
                               (os.path.join(os.environ["XDG_RUNTIME_DIR"], "loupe")
                                if os.environ.get("XDG_RUNTIME_DIR") else
                                os.path.expanduser("~/.local/share/loupe/runtime")),
                               f"server-{self.server.port}.json")
        with open(runtime, encoding="utf-8") as f:
            info = json.load(f)
        self.assertEqual(info["token_file"], os.path.abspath(token_file))
        self.assertEqual(info["url"], self.server.url)
        self.assertEqual(stat.S_IMODE(os.stat(runtime).st_mode), 0o600)
        before = self.server.token
        port = self.server.port
        self.server.stop()
        self.assertFalse(os.path.exists(runtime))  # removed at a clean stop
        restarted = LoupeServer(data_dir=self.server.data_dir, port=port).start()
        self.addCleanup(restarted.stop)
        self.assertEqual(restarted.token, before)  # scripts and spools keep working across restarts
        self.assertEqual(restarted.get("/api/v1/projects")[0], 200)
        # A replaced (or deleted) token file gets a new token; the old value stops working.
        restarted.stop()
        os.unlink(token_file)
        restarted.start()
        self.assertNotEqual(restarted.token, before)
        self.assertEqual(raw_request(restarted, "GET", "/api/v1/projects",
                                     headers={"Authorization": f"Bearer {before}"})[0], 401)
        self.assertEqual(restarted.get("/api/v1/projects")[0], 200)


class RevocationTest(unittest.TestCase):
    """What a review found: access that outlived its revocation, and ways to misuse the
    credentials (issue 9, access control)."""

    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(self.server.cleanup)

    def login(self, **body):
        status, headers, answer = raw_request(self.server, "POST", "/api/v1/auth/login", json.dumps(body),
                                              {"Content-Type": "application/json"})
        self.assertEqual(status, 200, answer)
        return session_cookie(self.server, headers)

    def me(self, headers):
        return raw_request(self.server, "GET", "/api/v1/auth/me", headers=headers)[0]

    def test_a_session_opened_with_a_token_ends_with_it(self):
        status, body, _ = self.server.request("POST", "/api/v1/tokens", {"label": "leaked"})
        token, token_id = body["data"]["token"], body["data"]["id"]
        cookie = self.login(token=token)
        self.assertEqual(self.me({"Cookie": cookie}), 200)
        self.assertEqual(self.server.request("DELETE", f"/api/v1/tokens/{token_id}")[0], 200)
        self.assertEqual(self.me({"Cookie": cookie}), 401)

    def test_sign_out_everywhere_and_from_the_command_line(self):
        a, b = self.login(token=self.server.token), self.login(token=self.server.token)
        status, _, _ = raw_request(self.server, "POST", "/api/v1/auth/logout?everywhere=1",
                                   headers={"Cookie": a, "Origin": self.server.url})
        self.assertEqual(status, 200)
        self.assertEqual((self.me({"Cookie": a}), self.me({"Cookie": b})), (401, 401))
        c = self.login(token=self.server.token)
        out = subprocess.run([BIN, "user", "signout", "local", "--data-dir", self.server.data_dir],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        deadline = time.time() + 10  # another process: the server's cache lasts seconds
        while time.time() < deadline and self.me({"Cookie": c}) != 401:
            time.sleep(0.5)
        self.assertEqual(self.me({"Cookie": c}), 401)
        self.assertEqual(self.server.get("/api/v1/auth/me")[0], 200)  # the token itself still works

    def test_a_session_is_no_token_and_a_token_no_session(self):
        cookie = self.login(token=self.server.token)
        session = cookie.split("=", 1)[1]
        self.assertEqual(self.me({"Cookie": cookie}), 200)
        self.assertEqual(self.me({"Authorization": f"Bearer {session}"}), 401)
        self.assertEqual(self.me({"Cookie": f"loupe_session_{self.server.port}={self.server.token}"}), 401)

    def test_a_second_session_cookie_planted_by_another_port_is_not_trusted(self):
        mine, planted = self.login(token=self.server.token), self.login(token=self.server.token)
        status, _, body = raw_request(self.server, "GET", "/api/v1/auth/me", headers={"Cookie": f"{planted}; {mine}"})
        self.assertEqual(status, 401)
        self.assertIn("two different Loupe session cookies", body["message"])

    def test_refused_sign_ins_cannot_flush_the_audit_log(self):
        self.server.request("POST", "/api/v1/users", {"name": "ann", "role": "viewer", "password": "long password"})
        for i in range(40):
            raw_request(self.server, "POST", "/api/v1/auth/login", json.dumps({"user": f"x{i}", "password": "p"}),
                        {"Content-Type": "application/json"})
        entries = self.server.get("/api/v1/audit?limit=1000")[1]["data"]["entries"]
        refused = [e for e in entries if e["action"] == "sign-in refused"]
        self.assertLessEqual(len(refused), 10)
        self.assertTrue(any(e["action"] == "POST /api/v1/users" for e in entries))
        self.assertFalse([e for e in entries if e["action"].startswith("GET ")])  # reading is not a change

    def test_a_refused_change_changes_nothing_and_names_are_reserved(self):
        self.server.request("POST", "/api/v1/users", {"name": "vic", "role": "viewer", "password": "long password"})
        status, _, _ = self.server.request("PATCH", "/api/v1/users/vic", {"role": "admin", "password": "short"})
        self.assertEqual(status, 422)
        users = {u["name"]: u for u in self.server.get("/api/v1/users")[1]["data"]["users"]}
        self.assertEqual(users["vic"]["role"], "viewer")
        self.assertGreater(users["vic"]["create_time"], 1.7e9)
        for name in ["cli", "anonymous"]:
            self.assertEqual(self.server.request("POST", "/api/v1/users", {"name": name, "role": "viewer"})[0], 422)
        local = [t for t in self.server.get("/api/v1/tokens")[1]["data"]["tokens"] if t["user"] == "local"][0]
        status, body, _ = self.server.request("DELETE", f"/api/v1/tokens/{local['id']}")
        self.assertEqual(status, 422)
        self.assertIn("delete local.token", body["message"])

    def test_the_data_folder_is_its_owners_only(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.server.data_dir).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.server.data_dir, "loupe.db")).st_mode), 0o600)
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            other = LoupeServer(data_dir=d).start()
            other.stop()
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
            self.assertIn("readable by other users", other.log())

    def test_the_sdk_gives_the_local_token_only_to_the_server_that_wrote_it(self):
        from loupe import _auth
        self.assertEqual(_auth._local_token(self.server.url), self.server.token)
        self.assertIsNone(_auth._local_token(f"http://localhost:{self.server.port}"))  # may be another address
        self.assertIsNone(_auth._local_token(f"http://127.0.0.2:{self.server.port}"))
        self.server.kill9()  # leaves its runtime file behind
        self.assertIsNone(_auth._local_token(self.server.url))

    def test_an_event_stream_ends_when_its_credential_is_revoked(self):
        status, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "p", "run_id": "r"})
        eid = body["data"]["id"]
        status, body, _ = self.server.request("POST", "/api/v1/tokens", {"label": "watcher"})
        token, token_id = body["data"]["token"], body["data"]["id"]
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        c.request("GET", f"/api/v1/experiments/{eid}/events", headers={"Authorization": f"Bearer {token}"})
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.server.request("DELETE", f"/api/v1/tokens/{token_id}")[0], 200)
        start = time.time()
        for step in range(200):  # changes make the stream send, and each send may check
            self.server.request("POST", f"/api/v1/experiments/{eid}/metrics",
                                {"steps": [{"step": step, "values": {"x": step}}]})
            time.sleep(0.1)
            if time.time() - start > 12:
                break
        rest = resp.read()  # returns once the server ended the stream
        self.assertLess(time.time() - start, 40)
        self.assertIn(b"data:", rest)
        c.close()


class CliTest(unittest.TestCase):
    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(self.server.cleanup)

    def cli(self, *args, stdin=""):
        return subprocess.run([BIN, *args, "--data-dir", self.server.data_dir], input=stdin, capture_output=True,
                              text=True, timeout=60)

    def test_users_tokens_and_links_from_the_command_line_while_serving(self):
        out = self.cli("user", "add", "carol", "--role", "viewer", "--password-stdin", stdin="long password 1\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        status, headers, body = raw_request(self.server, "POST", "/api/v1/auth/login",
                                            json.dumps({"user": "carol", "password": "long password 1"}),
                                            {"Content-Type": "application/json"})
        self.assertEqual((status, body["data"]["role"]), (200, "viewer"))
        out = self.cli("user", "add", "carol", "--password-stdin", stdin="long password 1\n")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("exists", out.stderr)
        out = self.cli("token", "create", "carol", "--label", "laptop")
        self.assertEqual(out.returncode, 0, out.stderr)
        token = out.stdout.strip()
        self.assertEqual(raw_request(self.server, "GET", "/api/v1/auth/me",
                                     headers={"Authorization": f"Bearer {token}"})[2]["data"]["user"], "carol")
        listed = self.cli("token", "list")
        self.assertIn("laptop", listed.stdout)
        self.assertNotIn(token, listed.stdout)
        token_id = [line.split()[0] for line in listed.stdout.splitlines() if "laptop" in line][0]
        self.assertEqual(self.cli("token", "revoke", token_id).returncode, 0)
        deadline = time.time() + 10  # another process revoked it: the server's cache lasts seconds
        while time.time() < deadline and raw_request(
                self.server, "GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})[0] != 401:
            time.sleep(0.5)
        self.assertEqual(raw_request(self.server, "GET", "/api/v1/auth/me",
                                     headers={"Authorization": f"Bearer {token}"})[0], 401)
        out = self.cli("login-link")
        self.assertEqual(out.returncode, 0, out.stderr)
        link = urllib.parse.urlsplit(out.stdout.strip())
        self.assertEqual(f"{link.scheme}://{link.netloc}", self.server.url)  # found from the runtime file
        status, headers, _ = raw_request(self.server, "GET", f"{link.path}?{link.query}")
        self.assertEqual(status, 303)
        self.assertIsNotNone(session_cookie(self.server, headers))
        self.assertIn("token created", json.dumps(self.server.get("/api/v1/audit")[1]))
        users = self.cli("user", "list").stdout
        self.assertRegex(users, r"carol\s+viewer\s+set")
        self.assertEqual(self.cli("user", "remove", "carol").returncode, 0)
        out = self.cli("user", "add", "dan", "--password-stdin", stdin="\n")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--no-password", out.stderr)

    def test_a_folder_without_loupe_data_is_refused_not_created(self):
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([BIN, "user", "add", "bob", "--no-password", "--data-dir", os.path.join(d, "data")],
                                 capture_output=True, text=True, timeout=60)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("no Loupe data in", out.stderr)
            self.assertEqual(os.listdir(d), [])


class NoAuthTest(unittest.TestCase):
    def test_no_auth_keeps_the_origin_checks_and_stays_on_loopback(self):
        server = LoupeServer(extra_args=["--no-auth"]).start()
        self.addCleanup(server.cleanup)
        status, _, body = raw_request(server, "POST", "/api/v1/experiments", '{"project": "p"}',
                                      {"Content-Type": "application/json"})
        self.assertEqual(status, 201, body)
        status, _, _ = raw_request(server, "POST", "/api/v1/experiments", '{"project": "p"}',
                                   {"Content-Type": "text/plain", "Origin": "http://localhost:3000"})
        self.assertEqual(status, 403)
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([BIN, "serve", "--no-auth", "--host", "0.0.0.0", "--port", "0", "--data-dir", d],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2)
            self.assertIn("refusing to serve 0.0.0.0 without authentication", out.stderr)
        loud = LoupeServer(extra_args=["--no-auth", "--host", "0.0.0.0", "--allow-unauthenticated-network"]).start()
        self.addCleanup(loud.cleanup)
        self.assertIn("WITHOUT AUTHENTICATION", loud.log())


if __name__ == "__main__":
    unittest.main()
