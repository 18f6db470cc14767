"""The LLM workbench's model endpoints over HTTP against a real `loupe serve`, calling the
stand-in provider (standin_provider.py, a test server) for connection tests."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from loupe_server import LoupeServer  # noqa: E402


class Standin:
    """The stand-in provider in its own process; `script` another server that prints
    "PORT <n>" when ready (the benchmarks' lean one)."""
    def __init__(self, key="sk-test", script=None):
        argv = script or [os.path.join(HERE, "standin_provider.py"), "--port", "0", "--key", key]
        self.proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.proc.stdout.close()


class ModelsApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.standin = Standin()
        cls.server = LoupeServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.standin.stop()

    def call(self, method, path, body=None, status=200, headers=None):
        code, payload, _ = self.server.request(method, path, body, headers=headers)
        self.assertEqual(code, status, payload)
        return payload["data"] if isinstance(payload, dict) and "data" in payload else payload

    def add(self, **fields):
        body = {"name": "gpt", "api": "openai", "base_url": self.standin.url + "/v1", "model": "gpt-standin",
                "api_key": "sk-test"}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        return self.call("POST", "/api/v1/llm/models", body, 201)

    def test_a_model_is_added_listed_edited_and_removed_and_its_key_never_shown(self):
        m = self.add(name="crud", defaults={"temperature": 0.3, "max_tokens": 256, "stop": ["###"], "system": "Be brief."},
                     price_input=2.5, price_output=10, capabilities={"streaming": True, "json_mode": False})
        self.assertEqual(m["name"], "crud")
        self.assertEqual(m["api_key"], {"set": True, "hint": None, "secret": None})  # 7 characters: no hint
        self.assertEqual(m["defaults"], {"temperature": 0.3, "max_tokens": 256, "stop": ["###"], "system": "Be brief."})
        self.assertEqual((m["price_input"], m["price_output"]), (2.5, 10))
        self.assertEqual(m["capabilities"], {"streaming": True, "json_mode": False})
        self.assertIsNone(m["probe"])
        listed = self.call("GET", "/api/v1/llm/models")["models"]
        self.assertIn("crud", [x["name"] for x in listed])
        self.assertNotIn("sk-test", str(listed))
        # A long key shows its last four characters; the secret store holds it sealed.
        m = self.call("PATCH", f"/api/v1/llm/models/{m['id']}", {"api_key": "sk-abcdefghijklmnop1234", "price_input": None})
        self.assertEqual(m["api_key"]["hint"], "1234")
        self.assertIsNone(m["price_input"])
        self.assertEqual(m["defaults"]["temperature"], 0.3)  # untouched fields stay
        secrets = self.call("GET", "/api/v1/secrets")["secrets"]
        own = [s for s in secrets if s["name"].startswith("llm-key-")]
        self.assertTrue(any(s["hint"] == "1234" for s in own))
        self.assertNotIn("abcdefghijklmnop", str(self.call("GET", f"/api/v1/llm/models/{m['id']}")))
        # A refused change leaves the key as it was (and no stray secret behind).
        count = len(self.call("GET", "/api/v1/secrets")["secrets"])
        self.add(name="taken")
        code, _, _ = self.server.request("PATCH", f"/api/v1/llm/models/{m['id']}",
                                         {"name": "taken", "api_key": "sk-other-key-zzzz9876"})
        self.assertEqual(code, 409)
        self.assertEqual(self.call("GET", f"/api/v1/llm/models/{m['id']}")["api_key"]["hint"], "1234")
        self.assertEqual(len(self.call("GET", "/api/v1/secrets")["secrets"]), count + 1)  # "taken"'s key only
        # Removing the key, then the model (its own sealed key goes with it).
        m = self.call("PATCH", f"/api/v1/llm/models/{m['id']}", {"api_key": None})
        self.assertEqual(m["api_key"]["set"], False)
        m = self.call("PATCH", f"/api/v1/llm/models/{m['id']}", {"api_key": "sk-zzzzzzzzzzzzzzzz9999"})
        before = len(self.call("GET", "/api/v1/secrets")["secrets"])
        self.call("DELETE", f"/api/v1/llm/models/{m['id']}")
        self.assertEqual(len(self.call("GET", "/api/v1/secrets")["secrets"]), before - 1)
        self.call("GET", f"/api/v1/llm/models/{m['id']}", status=404)
        self.call("DELETE", f"/api/v1/llm/models/{m['id']}", status=404)

    def test_a_stored_secret_can_be_the_key_but_only_an_admin_may_name_it(self):
        self.call("PUT", "/api/v1/secrets/shared-openai", {"value": "sk-test"})
        m = self.add(name="shared", api_key=None)
        self.assertEqual(m["api_key"]["set"], False)
        m = self.call("PATCH", f"/api/v1/llm/models/{m['id']}", {"api_key_secret": "shared-openai"})
        self.assertEqual(m["api_key"], {"set": True, "hint": None, "secret": "shared-openai"})
        self.assertTrue(self.call("POST", f"/api/v1/llm/models/{m['id']}/test")["ok"])
        self.call("DELETE", f"/api/v1/llm/models/{m['id']}")
        self.assertIn("shared-openai", [x["name"] for x in self.call("GET", "/api/v1/secrets")["secrets"]])  # kept
        # An editor could otherwise send an admin's secret to a host of their choosing.
        self.call("POST", "/api/v1/users", {"name": "ed", "role": "editor", "password": "correct horse battery"}, 201)
        token = self.call("POST", "/api/v1/tokens", {"user": "ed", "label": "t"}, 201)["token"]
        editor = {"Authorization": f"Bearer {token}"}
        code, payload, _ = self.server.request("POST", "/api/v1/llm/models", {
            "name": "steal", "api": "openai", "base_url": "http://attacker.invalid/v1", "model": "m",
            "api_key_secret": "shared-openai"}, headers=editor)
        self.assertEqual(code, 403, payload)
        self.assertIn("only an admin", payload["message"])
        code, payload, _ = self.server.request("POST", "/api/v1/llm/models", {
            "name": "own", "api": "openai", "base_url": self.standin.url + "/v1", "model": "m", "api_key": "sk-own"},
            headers=editor)
        self.assertEqual(code, 201, payload)  # an editor may bring a key of their own
        # Moving a model that has a key to another host needs the key again: otherwise an
        # editor could point an admin's model at their own server and receive its key.
        admins = self.add(name="admins", api_key="sk-admin-key-0000000")
        code, payload, _ = self.server.request("PATCH", f"/api/v1/llm/models/{admins['id']}",
                                               {"base_url": "http://attacker.invalid/v1"}, headers=editor)
        self.assertEqual(code, 422, payload)
        self.assertIn("needs the key again", payload["message"])
        self.call("PATCH", f"/api/v1/llm/models/{admins['id']}", {"base_url": self.standin.url + "/v1/"})  # same host
        moved = self.call("PATCH", f"/api/v1/llm/models/{admins['id']}",
                          {"base_url": "http://attacker.invalid/v1", "api_key": None})
        self.assertFalse(moved["api_key"]["set"])

    def test_lineage_links_a_fine_tuned_model_to_its_base_and_experiment(self):
        base = self.add(name="base")
        exp = self.call("POST", "/api/v1/experiments", {"project": "ft", "name": "sft-run"}, 201)
        tuned = self.add(name="tuned", model="tuned-standin", base_model_id=base["id"], experiment_id=exp["id"])
        self.assertEqual(tuned["base_model"], {"id": base["id"], "name": "base"})
        self.assertEqual(tuned["experiment_id"], exp["id"])
        code, payload, _ = self.server.request("POST", "/api/v1/llm/models", {"name": "x1", "api": "openai",
                                               "base_url": "http://h/v1", "model": "m", "base_model_id": 99999})
        self.assertEqual((code, payload["message"]), (404, "base model 99999 not found"))
        code, payload, _ = self.server.request("POST", "/api/v1/llm/models", {"name": "x2", "api": "openai",
                                               "base_url": "http://h/v1", "model": "m", "experiment_id": 99999})
        self.assertEqual((code, payload["message"]), (404, "experiment 99999 not found"))
        self.call("PATCH", f"/api/v1/llm/models/{tuned['id']}", {"base_model_id": tuned["id"]}, 422)
        # The experiment's page offers "Test in chat", which opens the chat with the model
        # picked; an experiment that produced no model offers nothing.
        status, page = self.server.html(f"/experiments/{exp['id']}")
        self.assertEqual(status, 200)
        self.assertIn(f'href="/llm/chat?model={tuned["id"]}"', page)
        self.assertIn("Test tuned in chat", page)
        other = self.call("POST", "/api/v1/experiments", {"project": "ft", "name": "other-run"}, 201)
        self.assertNotIn("in chat", self.server.html(f"/experiments/{other['id']}")[1])
        status, chat = self.server.html(f"/llm/chat?model={tuned['id']}")
        self.assertEqual(status, 200)
        self.assertIn(f'<option value="{tuned["id"]}" selected>tuned</option>', chat)
        self.assertIn('value="Testing tuned"', chat)
        for junk in ("abc", "99999", "-1", ""):
            status, chat = self.server.html(f"/llm/chat?model={junk}")
            self.assertEqual(status, 200, junk)
            self.assertNotIn(" selected>", chat)
        # Removing the base keeps the fine-tuned model, without the link.
        self.call("DELETE", f"/api/v1/llm/models/{base['id']}")
        self.assertIsNone(self.call("GET", f"/api/v1/llm/models/{tuned['id']}")["base_model"])

    def test_bad_input_gets_a_precise_message(self):
        cases = [
            ({"name": ""}, 422, "1 to 100 bytes"),
            ({"api": "cohere"}, 422, "'api' must be \"openai\""),
            ({"base_url": "ftp://x"}, 422, "must start with http:// or https://"),
            ({"base_url": "http://user:pw@host/v1"}, 422, "must not hold a user name or password"),
            ({"base_url": "http://host/v1?x=1"}, 422, "query or fragment"),
            ({"base_url": "http://"}, 422, "has no host"),
            ({"base_url": "http://[::1"}, 422, "not a valid URL"),
            ({"base_url": "http:///v1"}, 422, "no host"),
            ({"model": ""}, 422, "'model' must be a non-empty string"),
            ({"defaults": {"temperature": 3}}, 422, "between 0 and 2"),
            ({"defaults": {"max_tokens": 0}}, 422, "between 1 and 1000000"),
            ({"defaults": {"stop": ["a", "b", "c", "d", "e"]}}, 422, "at most 4"),
            ({"defaults": {"temprature": 1}}, 422, "unknown default 'temprature'"),
            ({"price_input": -1}, 422, "between 0 and 1000000"),
            ({"capabilities": {"streaming": "yes"}}, 422, "must be true or false"),
            ({"capabilities": {"telepathy": True}}, 422, "unknown capability"),
            ({"colour": "red"}, 422, "unknown field 'colour'"),
            ({"api_key_secret": "nope"}, 404, "no secret named 'nope'"),
            ({"api_key": "a", "api_key_secret": "b"}, 422, "either"),
        ]
        for i, (fields, status, text) in enumerate(cases):
            body = {"name": f"bad-{i}", "api": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
            body.update(fields)
            code, payload, _ = self.server.request("POST", "/api/v1/llm/models", body)
            self.assertEqual(code, status, (fields, payload))
            self.assertIn(text, payload["message"], fields)
        code, payload, _ = self.server.request("POST", "/api/v1/llm/models", {"name": "only-name"})
        self.assertEqual((code, payload["message"]), (422, "'api' is required"))
        self.add(name="dup")
        code, payload, _ = self.server.request("POST", "/api/v1/llm/models",
                                               {"name": "dup", "api": "openai", "base_url": "http://h/v1", "model": "m"})
        self.assertEqual((code, payload["message"]), (409, "a model named 'dup' already exists"))
        # A malformed body holding a key is not echoed back.
        code, payload, _ = self.server.request("POST", "/api/v1/llm/models", raw=b'{"api_key": "sk-secret-value", ')
        self.assertEqual(code, 400)
        self.assertNotIn("sk-secret", payload["message"])
        self.assertNotIn("sk-secret", self.server.log())

    def test_connection_test_confirms_streaming_or_says_what_is_wrong(self):
        ok = self.add(name="probe-ok")
        probe = self.call("POST", f"/api/v1/llm/models/{ok['id']}/test")
        self.assertTrue(probe["ok"], probe)
        self.assertEqual((probe["streaming"], probe["models_listed"], probe["model_listed"]), (True, True, True))
        self.assertEqual(probe["answer"], "gpt-standin heard: Reply with the ")  # max_tokens 5
        self.assertTrue(probe["usage_reported"])
        self.assertGreater(probe["latency_ms"], 0)
        self.assertEqual(self.call("GET", f"/api/v1/llm/models/{ok['id']}")["probe"]["ok"], True)  # kept
        claude = self.add(name="probe-claude", api="anthropic", base_url=self.standin.url, model="claude-standin")
        probe = self.call("POST", f"/api/v1/llm/models/{claude['id']}/test")
        self.assertTrue(probe["ok"], probe)
        self.assertEqual(probe["answer"], "claude-standin heard: Reply with the ")
        unlisted = self.add(name="probe-unlisted", model="no-such-model")
        self.assertEqual(self.call("POST", f"/api/v1/llm/models/{unlisted['id']}/test")["model_listed"], False)

        wrong = self.add(name="probe-wrong-key", api_key="sk-wrong-key-0000")
        probe = self.call("POST", f"/api/v1/llm/models/{wrong['id']}/test")
        self.assertFalse(probe["ok"])
        self.assertIn("the provider refused the API key (401)", probe["message"])
        self.assertNotIn("sk-wrong-key", probe["message"])
        nobody = self.add(name="probe-refused", base_url="http://127.0.0.1:9/v1")
        probe = self.call("POST", f"/api/v1/llm/models/{nobody['id']}/test")
        self.assertIn("cannot connect to 127.0.0.1:9", probe["message"])
        unknown = self.add(name="probe-dns", base_url="http://no-such-host.invalid/v1")
        self.assertIn("cannot resolve the host no-such-host.invalid",
                      self.call("POST", f"/api/v1/llm/models/{unknown['id']}/test")["message"])
        wrong_path = self.add(name="probe-404", base_url=self.standin.url + "/api")
        probe = self.call("POST", f"/api/v1/llm/models/{wrong_path['id']}/test")
        self.assertIn("(404)", probe["message"])
        self.assertIn("/api/chat/completions", probe["message"])
        self.call("POST", "/api/v1/llm/models/99999/test", status=404)


if __name__ == "__main__":
    unittest.main()
