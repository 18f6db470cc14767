"""Chat with models over HTTP against a real `loupe serve` and the stand-in provider
(standin_provider.py, a test server): conversations, streamed answers, another model's
answer to the same prompt, retries, provider failures as errors, stopping, and the
prediction every call leaves."""
import http.client
import json
import os
import sys
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from loupe_server import LoupeServer  # noqa: E402
from llm_models_api_test import Standin  # noqa: E402


class ChatApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.standin = Standin()
        cls.server = LoupeServer().start()
        cls.gpt = cls.api("POST", "/api/v1/llm/models", {
            "name": "gpt", "api": "openai", "base_url": cls.standin.url + "/v1", "model": "gpt-standin",
            "api_key": "sk-test", "price_input": 2.0, "price_output": 8.0}, 201)
        cls.claude = cls.api("POST", "/api/v1/llm/models", {
            "name": "claude", "api": "anthropic", "base_url": cls.standin.url, "model": "claude-standin",
            "api_key": "sk-test", "defaults": {"max_tokens": 64}}, 201)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.standin.stop()

    @classmethod
    def api(cls, method, path, body=None, status=200):
        code, payload, _ = cls.server.request(method, path, body)
        assert code == status, (code, payload)
        return payload.get("data") if isinstance(payload, dict) else payload

    def raw_stream(self, path, body):
        """POSTs and returns the whole response body as text (events unparsed)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {self.server.token}"})
        text = conn.getresponse().read().decode()
        conn.close()
        return text

    def stream(self, path, body, stop_after=None):
        """POSTs and reads the server-sent events: [(event, data)]; or (status, error) when refused."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {self.server.token}"})
        resp = conn.getresponse()
        if resp.status != 200:
            refused = resp.status, json.loads(resp.read())
            conn.close()
            return refused
        self.assertTrue(resp.getheader("Content-Type").startswith("text/event-stream"))
        events, event, data = [], None, []
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                events.append((event, json.loads("\n".join(data))))
                event, data = None, []
                if stop_after and len(events) >= stop_after:
                    conn.close()  # the browser's Stop button: the connection goes away
                    return events
        conn.close()
        return events

    def conversation(self, **fields):
        body = {"title": "t", "model_id": self.gpt["id"]}
        body.update(fields)
        return self.api("POST", "/api/v1/llm/conversations", body, 201)

    def test_an_answer_streams_and_is_recorded_with_its_prediction(self):
        c = self.conversation(system="You are terse.", params={"temperature": 0.5})
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "hello there"})
        names = [e for e, _ in events]
        self.assertEqual(names[0], "start")
        self.assertEqual(names[-1], "done")
        deltas = "".join(d["text"] for e, d in events if e == "delta")
        self.assertEqual(deltas, "gpt-standin heard: hello there")
        self.assertGreater(names.count("delta"), 1)  # token by token
        done = events[-1][1]
        self.assertEqual(done["message"]["content"], deltas)
        self.assertEqual(done["message"]["model_name"], "gpt")
        p = done["prediction"]
        # The stand-in counts a token a word: the system prompt (3) and the message (2) in,
        # four words out; prices 2 and 8 USD per million.
        self.assertEqual((p["prompt_tokens"], p["completion_tokens"], p["total_tokens"]), (5, 4, 9))
        self.assertAlmostEqual(p["cost_usd"], 5 * 2.0 / 1e6 + 4 * 8.0 / 1e6, places=15)
        self.assertEqual((p["outcome"], p["finish_reason"]), ("ok", "stop"))
        self.assertGreater(p["latency_ms"], 0)
        self.assertLessEqual(p["ttft_ms"], p["latency_ms"])
        full = self.api("GET", f"/api/v1/llm/predictions/{p['id']}")
        self.assertEqual(full["messages"], [{"role": "system", "content": "You are terse."},
                                            {"role": "user", "content": "hello there"}])
        self.assertEqual(full["params"], {"temperature": 0.5})
        self.assertEqual(full["response"], deltas)
        self.assertEqual(full["trace_id"], "chatcmpl-standin")
        # What the provider received, field for field.
        sent = json.loads(urllib.request.urlopen(self.standin.url + "/_standin/requests").read())
        request = [r for r in sent if r["path"] == "/v1/chat/completions"][-1]
        self.assertEqual(request["headers"]["authorization"], "Bearer sk-test")
        self.assertEqual(json.loads(request["body"]), {
            "model": "gpt-standin", "stream": True, "stream_options": {"include_usage": True}, "temperature": 0.5,
            "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hello there"}]})
        # The conversation holds both messages; the next prompt carries the history.
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "and again"})
        self.assertEqual(events[-1][0], "done")
        full = self.api("GET", f"/api/v1/llm/predictions/{events[-1][1]['prediction']['id']}")
        self.assertEqual([m["role"] for m in full["messages"]], ["system", "user", "assistant", "user"])
        conv = self.api("GET", f"/api/v1/llm/conversations/{c['id']}")
        self.assertEqual([m["role"] for m in conv["messages"]], ["user", "assistant", "user", "assistant"])
        self.assertEqual(conv["conversation"]["message_count"], 4)

    def test_the_same_prompt_to_another_model_and_a_switch_of_model(self):
        c = self.conversation()
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "compare us"})
        prompt_id = events[0][1]["user_message"]["id"]
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages/{prompt_id}/answers",
                             {"model_id": self.claude["id"]})
        self.assertEqual(events[-1][0], "done", events)
        answer = events[-1][1]["message"]
        self.assertEqual((answer["content"], answer["reply_to"], answer["model_name"]),
                         ("claude-standin heard: compare us", prompt_id, "claude"))
        # Anthropic's usage: input tokens from message_start, output from message_delta.
        self.assertEqual(events[-1][1]["prediction"]["completion_tokens"], 4)
        self.assertIsNone(events[-1][1]["prediction"]["cost_usd"])  # no prices: unknown, not 0
        # One click switches the conversation's model.
        self.api("PATCH", f"/api/v1/llm/conversations/{c['id']}", {"model_id": self.claude["id"]})
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "who now"})
        self.assertEqual(events[-1][1]["message"]["model_name"], "claude")
        # The history carries each earlier prompt's latest good answer: claude's, given second.
        full = self.api("GET", f"/api/v1/llm/predictions/{events[-1][1]['prediction']['id']}")
        self.assertEqual(full["messages"], [{"role": "user", "content": "compare us"},
                                            {"role": "assistant", "content": "claude-standin heard: compare us"},
                                            {"role": "user", "content": "who now"}])

    def test_rate_limits_are_retried_then_answered(self):
        c = self.conversation()
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "busy #fail:429x2"})
        names = [e for e, _ in events]
        self.assertEqual(names.count("retry"), 2, events)
        retry = next(d for e, d in events if e == "retry")
        self.assertEqual(retry["delay_ms"], 1000)  # the stand-in's Retry-After: 1
        self.assertIn("rate-limiting", retry["reason"])
        self.assertEqual(names[-1], "done")

    def test_provider_failures_are_errors_not_answers(self):
        c = self.conversation()
        cases = [("down #fail:500x9", "provider", "the provider failed (500)"),
                 ("one two three four #drop", "network", "closed the connection before the answer was complete"),
                 ("one two three #malformed", "malformed", "not a JSON object")]
        for prompt, kind, text in cases:
            events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": prompt})
            self.assertEqual(events[-1][0], "error", (prompt, events))
            data = events[-1][1]
            self.assertIn(text, data["message"]["error"], prompt)
            self.assertEqual(data["prediction"]["outcome"], "error")
            self.assertEqual(data["prediction"]["error_type"], kind, prompt)
        # A 500 is retried as often as the policy allows (3 attempts), then reported.
        self.assertEqual([e for e, _ in self.stream(f"/api/v1/llm/conversations/{c['id']}/messages",
                                                    {"content": "again #fail:500x9"})].count("retry"), 2)
        # A wrong key is not retried.
        bad = self.api("POST", "/api/v1/llm/models", {"name": "bad-key", "api": "openai", "base_url": self.standin.url + "/v1",
                                                      "model": "gpt-standin", "api_key": "sk-nope"}, 201)
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "hi", "model_id": bad["id"]})
        self.assertEqual([e for e, _ in events], ["start", "error"])
        self.assertIn("refused the API key (401)", events[-1][1]["message"]["error"])
        # Failed answers stay out of the next prompt's history, and so do their prompts:
        # turns must alternate (most chat templates refuse two user turns in a row).
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "clean"})
        full = self.api("GET", f"/api/v1/llm/predictions/{events[-1][1]['prediction']['id']}")
        self.assertEqual(full["messages"], [{"role": "user", "content": "clean"}])
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "after"})
        full = self.api("GET", f"/api/v1/llm/predictions/{events[-1][1]['prediction']['id']}")
        self.assertEqual([m["role"] for m in full["messages"]], ["user", "assistant", "user"])
        self.assertEqual(full["messages"][0]["content"], "clean")

    def test_a_key_the_provider_echoes_is_never_shown(self):
        leaky = self.api("POST", "/api/v1/llm/models", {
            "name": "leaky", "api": "openai", "base_url": self.standin.url + "/v1", "model": "gpt-standin",
            "api_key": "sk-test"}, 201)
        # The stand-in's key is short; the whole key and a cut piece of it must both go.
        c = self.conversation(model_id=leaky["id"])
        for prompt in ("busy #fail:429x9 #echokey", "down #fail:500x9 #echokey:pad"):
            raw = self.raw_stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": prompt})
            self.assertIn("retry", raw)
            self.assertIn("[the API key]", raw)
            self.assertNotIn("sk-test", raw, prompt)
        listed = json.dumps(self.api("GET", "/api/v1/llm/predictions?model_id=%d" % leaky["id"]))
        self.assertIn("[the API key]", listed)
        self.assertNotIn("sk-test", listed)

    def test_another_models_answer_sees_the_history_the_first_answer_saw(self):
        c = self.conversation()
        first = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "q1"})
        q1 = first[0][1]["user_message"]["id"]
        second = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "q2"})
        q2 = second[0][1]["user_message"]["id"]
        # claude answers q1 after gpt answered q2; then q2 again: it must see gpt's answer
        # to q1 (what gpt's q2 answer saw), not its own later one, or the two answers to q2
        # answer different conversations and make no preference pair.
        self.stream(f"/api/v1/llm/conversations/{c['id']}/messages/{q1}/answers", {"model_id": self.claude["id"]})
        again = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages/{q2}/answers", {"model_id": self.claude["id"]})
        self.assertEqual(again[-1][0], "done", again)
        gpt_q2 = self.api("GET", f"/api/v1/llm/predictions/{second[-1][1]['prediction']['id']}")
        claude_q2 = self.api("GET", f"/api/v1/llm/predictions/{again[-1][1]['prediction']['id']}")
        self.assertEqual(claude_q2["messages"], gpt_q2["messages"])
        self.assertEqual(claude_q2["messages"][1], {"role": "assistant", "content": "gpt-standin heard: q1"})

    def test_stopping_keeps_what_arrived_as_a_cancelled_prediction(self):
        c = self.conversation()
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages",
                             {"content": "a b c d e f g h i j #slow:100"}, stop_after=3)
        self.assertEqual([e for e, _ in events][:2], ["start", "delta"])
        for _ in range(50):
            conv = self.api("GET", f"/api/v1/llm/conversations/{c['id']}")
            if len(conv["messages"]) == 2:
                break
            time.sleep(0.1)
        answer = conv["messages"][1]
        self.assertTrue(answer["content"].startswith("gpt-standin"))
        self.assertLess(len(answer["content"]), len("gpt-standin heard: a b c d e f g h i j"))
        p = self.api("GET", f"/api/v1/llm/predictions/{answer['prediction_id']}")
        self.assertEqual((p["outcome"], p["error_type"]), ("cancelled", "cancelled"))

    def test_stop_ends_an_answer_in_progress_as_cancelled(self):
        c = self.conversation()
        result = {}
        t = threading.Thread(target=lambda: result.update(
            events=self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "go on #hang"})))
        t.start()
        stopped, deadline = 0, time.time() + 10
        while not stopped and time.time() < deadline:
            stopped = self.api("POST", f"/api/v1/llm/conversations/{c['id']}/stop")["stopped"]
            time.sleep(0.05)
        t.join(15)
        self.assertEqual(stopped, 1)
        event, data = result["events"][-1]
        self.assertEqual(event, "error")
        self.assertEqual(data["prediction"]["outcome"], "cancelled")
        messages = self.api("GET", f"/api/v1/llm/conversations/{c['id']}")["messages"]
        self.assertEqual([m["role"] for m in messages], ["user", "assistant"])
        self.assertEqual(self.api("POST", f"/api/v1/llm/conversations/{c['id']}/stop")["stopped"], 0)
        self.api("POST", "/api/v1/llm/conversations/999999/stop", status=404)

    def test_a_reader_that_goes_away_while_the_provider_is_silent_stops_the_call(self):
        c = self.conversation()
        start = time.time()
        self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "a b c #hang"}, stop_after=2)
        for _ in range(100):
            conv = self.api("GET", f"/api/v1/llm/conversations/{c['id']}")
            if len(conv["messages"]) == 2:
                break
            time.sleep(0.1)
        self.assertEqual(len(conv["messages"]), 2)
        p = self.api("GET", f"/api/v1/llm/predictions/{conv['messages'][1]['prediction_id']}")
        self.assertEqual(p["outcome"], "cancelled")
        self.assertLess(time.time() - start, 10)  # keep-alives find the closed connection

    def test_a_send_that_cannot_start_records_no_prompt(self):
        self.api("PUT", "/api/v1/secrets/to-delete", {"value": "sk-test"})
        m = self.api("POST", "/api/v1/llm/models", {"name": "doomed", "api": "openai", "base_url": self.standin.url + "/v1",
                                                    "model": "gpt-standin", "api_key_secret": "to-delete"}, 201)
        c = self.conversation(model_id=m["id"])
        self.api("DELETE", "/api/v1/secrets/to-delete")
        code, payload = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "hi"})
        self.assertEqual(code, 503, payload)
        self.assertIn("cannot be read", payload["message"])
        self.assertEqual(self.api("GET", f"/api/v1/llm/conversations/{c['id']}")["messages"], [])

    def test_bad_requests_are_refused_before_anything_streams(self):
        c = self.conversation(model_id=None)
        path = f"/api/v1/llm/conversations/{c['id']}/messages"
        for body, status, text in [({"content": "hi"}, 422, "choose a model"),
                                   ({"content": "   "}, 422, "the message is empty"),
                                   ({"content": 5}, 422, "'content' must be a string"),
                                   ({"content": "x" * 300000}, 413, "at most"),
                                   ({"content": "hi", "model_id": 99999}, 404, "model 99999 not found"),
                                   ({"content": "hi", "model_id": 18446744073709551615}, 422, "must be a model's id"),
                                   ({"content": "a\u0000b", "model_id": self.gpt["id"]}, 422, "NUL"),
                                   ({"content": "hi", "colour": 1}, 422, "unknown field 'colour'")]:
            code, payload = self.stream(path, body)
            self.assertEqual(code, status, body if len(str(body)) < 100 else status)
            self.assertIn(text, payload["message"])
        code, payload = self.stream("/api/v1/llm/conversations/99999/messages", {"content": "hi"})
        self.assertEqual(code, 404)
        code, payload = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages/99999/answers", {"model_id": self.gpt["id"]})
        self.assertEqual(code, 404)
        first = self.stream(path, {"content": "hi", "model_id": self.gpt["id"]})
        prompt = first[0][1]["user_message"]["id"]
        for body, text in [({"model_id": self.gpt["id"], "bogus": 1}, "unknown field 'bogus'"),
                           ({"model_id": -1}, "must be a model's id"),
                           ({"model_id": 0}, "must be a model's id"),
                           ({}, "'model_id' is required")]:
            code, payload = self.stream(f"{path}/{prompt}/answers", body)
            self.assertEqual(code, 422, body)
            self.assertIn(text, payload["message"])
        self.api("GET", "/api/v1/llm/conversations?limit=0", None, 422)
        self.api("POST", "/api/v1/llm/conversations", {"params": {"temperature": 9}}, 422)
        self.api("POST", "/api/v1/llm/conversations", {"model_id": 424242}, 404)
        self.api("POST", "/api/v1/llm/conversations", {"color": 1}, 422)
        # Ids and seeds past 64 bits are refused, not wrapped into other numbers.
        for body in ({"model_id": 18446744073709551615}, {"model_id": 9223372036854775808}, {"model_id": -1},
                     {"params": {"seed": 18446744073709551615}}, {"system": "a\u0000b"}):
            self.api("POST", "/api/v1/llm/conversations", body, 422)
        self.api("PATCH", f"/api/v1/llm/conversations/{c['id']}", {"model_id": 18446744073709551614}, 422)

    def test_deleting_a_conversation_keeps_its_predictions(self):
        c = self.conversation()
        events = self.stream(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": "remember me"})
        pid = events[-1][1]["prediction"]["id"]
        self.api("DELETE", f"/api/v1/llm/conversations/{c['id']}")
        self.api("GET", f"/api/v1/llm/conversations/{c['id']}", status=404)
        self.assertEqual(self.api("GET", f"/api/v1/llm/predictions/{pid}")["response"], "gpt-standin heard: remember me")
        listed = self.api("GET", "/api/v1/llm/conversations?limit=500")["conversations"]
        self.assertNotIn(c["id"], [x["id"] for x in listed])


if __name__ == "__main__":
    unittest.main()
