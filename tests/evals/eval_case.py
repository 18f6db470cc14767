"""What the evaluation API tests share: a real `loupe serve` and the stand-in provider
(tests/llm/standin_provider.py, a test server) per test class, JSON calls that check their
status, refusals checked by status and message, and models registered on the stand-in."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "llm"))
from loupe_server import LoupeServer  # noqa: E402
from llm_models_api_test import Standin  # noqa: E402


class EvalApiCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.standin = Standin()
        cls.server = LoupeServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.standin.stop()

    @classmethod
    def api(cls, method, path, body=None, status=200, server=None, raw=None):
        code, payload, _ = (server or cls.server).request(method, path, body, raw=raw)
        assert code == status, (method, path, code, payload)
        return payload.get("data") if isinstance(payload, dict) and "data" in payload else payload

    def error(self, method, path, body, status, fragment, raw=None):
        code, payload, _ = self.server.request(method, path, body, raw=raw)
        self.assertEqual(code, status, payload)
        self.assertIn(fragment, payload["message"])

    @classmethod
    def model(cls, name, api="openai", server=None, **extra):
        """A model on the stand-in: `<name>-standin` answers "<name>-standin heard: <prompt>"."""
        base_url = cls.standin.url + "/v1" if api == "openai" else cls.standin.url
        return cls.api("POST", "/api/v1/llm/models", {"name": name, "api": api, "base_url": base_url,
                                                      "model": name + "-standin", "api_key": "sk-test", **extra},
                       201, server=server)
