"""SwanLab compatibility, field for field: the 19 routes of SwanLab's offline board
(swanboard) as Loupe serves them, every field, its type and its nullability.

The shapes are written from swanboard's own code (SwanHubX/SwanLab-Dashboard):
swanboard/db/models/*.py (each table's columns; routes send peewee's model_to_dict, so a
foreign key is the nested row), swanboard/controller/{project,experiment,chart}.py and
controller/utils/charts.py (what each route adds), and from what the SwanLab SDK writes
(swanlab/data/run/config.py: config.yaml; exp.py: tag lines with `more`;
callback_local.py: error.log). Each test names the swanboard function it mirrors. Where
Loupe differs on purpose, docs/api.md says so.

The project holds a finished, a crashed and a running experiment, scalar and image keys,
a nested config, pinned and hidden charts on both pages, and a renamed experiment.
"""
import re
import unittest
from urllib.parse import urlencode

from loupe_server import SharedServerTest

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
HEX = re.compile(r"^#[0-9a-f]{6}$")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
TRACEBACK = ('Traceback (most recent call last):\n  File "train.py", line 12, in <module>\n    1 / 0\n'
             'ZeroDivisionError: division by zero')


# ---- field types --------------------------------------------------------------------------

class Kind:
    def __init__(self, name, test):
        self.name, self.test = name, test


INT = Kind("int", lambda v: isinstance(v, int) and not isinstance(v, bool))
INT01 = Kind("0 or 1", lambda v: v in (0, 1) and not isinstance(v, bool))
STR = Kind("str", lambda v: isinstance(v, str))
NULL = Kind("null", lambda v: v is None)
TIME = Kind("ISO-8601 UTC time", lambda v: isinstance(v, str) and ISO.match(v) is not None)
COLOUR = Kind("#rrggbb", lambda v: isinstance(v, str) and HEX.match(v) is not None)
EMPTY_OBJECT = Kind("{}", lambda v: v == {})
STATUS = Kind("-1, 0 or 1", lambda v: v in (-1, 0, 1) and not isinstance(v, bool))
NUMBER = Kind("number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
ANY = Kind("anything", lambda v: True)


def const(value):
    return Kind(repr(value), lambda v: v == value and type(v) is type(value))


def either(*kinds):
    return ("either", kinds)


def list_of(kind):
    return ("list", kind)


def map_of(kind):
    return ("map", kind)


class ShapeError(AssertionError):
    pass


def check(value, shape, path="data"):
    """Raises ShapeError unless `value` has `shape`: a dict shape names every key (no
    more, no fewer), a Kind tests a value, either/list_of/map_of combine them."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected an object, got {value!r}")
        missing, extra = set(shape) - set(value), set(value) - set(shape)
        if missing or extra:
            raise ShapeError(f"{path}: missing {sorted(missing)}, unexpected {sorted(extra)}")
        for k, sub in shape.items():
            check(value[k], sub, f"{path}.{k}")
    elif isinstance(shape, Kind):
        if not shape.test(value):
            raise ShapeError(f"{path}: expected {shape.name}, got {value!r}")
    elif shape[0] == "either":
        errors = []
        for alt in shape[1]:
            try:
                return check(value, alt, path)
            except ShapeError as e:
                errors.append(str(e))
        raise ShapeError(" / ".join(errors))
    elif shape[0] == "list":
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected a list, got {value!r}")
        for i, item in enumerate(value):
            check(item, shape[1], f"{path}[{i}]")
    elif shape[0] == "map":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected an object, got {value!r}")
        for k, item in value.items():
            check(item, shape[1], f"{path}.{k}")


# ---- swanboard's rows ---------------------------------------------------------------------

# swanboard/db/models/projects.py, as model_to_dict (and Project.__dict__) sends it.
PROJECT = {"id": INT, "name": STR, "description": STR, "sum": INT, "charts": INT01, "pinned_opened": INT01,
           "hidden_opened": INT01, "more": NULL, "version": STR, "create_time": TIME, "update_time": TIME}
# swanboard/db/models/experiments.py as model_to_dict: every column, project_id nested.
EXPERIMENT = {"id": INT, "project_id": PROJECT, "run_id": STR, "name": STR, "description": STR, "sort": INT,
              "status": STATUS, "show": INT01, "light": COLOUR, "dark": COLOUR, "pinned_opened": INT01,
              "hidden_opened": INT01, "more": NULL, "version": STR, "create_time": TIME,
              "finish_time": either(TIME, NULL), "update_time": TIME}
# Experiment.__dict__(): no colours, no group state.
EXPERIMENT_INSTANCE = {k: v for k, v in EXPERIMENT.items()
                       if k not in ("light", "dark", "pinned_opened", "hidden_opened")}
# swanlab/data/run/config.py: each top-level key {desc: None, sort: index, value}.
CONFIG = map_of({"desc": NULL, "sort": INT, "value": ANY})
CHART_BASE = {"id": INT, "name": STR, "description": NULL, "system": INT, "type": STR, "reference": const("step"),
              "config": NULL, "status": STATUS, "sort": either(INT, NULL), "more": NULL, "create_time": TIME,
              "update_time": TIME, "error": EMPTY_OBJECT, "source": list_of(STR), "source_map": map_of(INT)}
# get_exp_charts: clear_field drops experiment_id; project_id is NULL.
EXPERIMENT_CHART = {**CHART_BASE, "project_id": NULL, "multi": const(False)}
# get_proj_charts: Chart.__dict__() with experiment_id None and project_id the project.
PROJECT_CHART = {**CHART_BASE, "experiment_id": NULL, "project_id": PROJECT, "multi": const(True)}
NAMESPACE_BASE = {"id": INT, "name": STR, "description": NULL, "sort": INT, "opened": INT01, "more": NULL,
                  "create_time": TIME, "update_time": TIME, "charts": list_of(INT)}
EXPERIMENT_NAMESPACE = {**NAMESPACE_BASE, "experiment_id": EXPERIMENT, "project_id": NULL}
PROJECT_NAMESPACE = {**NAMESPACE_BASE, "experiment_id": NULL, "project_id": PROJECT}
# get_pinned_and_hidden: the synthetic groups carry the owner as the first chart has it.
EXPERIMENT_PINNED = {"id": INT, "name": STR, "charts": list_of(INT), "opened": INT01, "experiment_id": EXPERIMENT,
                     "project_id": NULL}
PROJECT_PINNED = {"id": INT, "name": STR, "charts": list_of(INT), "opened": INT01, "experiment_id": NULL,
                  "project_id": PROJECT}


def namespaces_shape(pinned, plain):
    return list_of(either(pinned, plain))


class SwanlabConformanceTest(SharedServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.server

        def post(path, body, status=(200, 201)):
            got, payload, _ = srv.request("POST", path, body=body)
            assert got in status, (path, got, payload)
            return payload["data"]

        config = {"lr": 0.001, "model": {"layers": 4, "act": "gelu"}, "batch": 32}
        cls.done = post("/api/v1/experiments", {"project": "conformance", "name": "finished-run", "config": config})
        cls.pid = cls.done["project_id"]
        cls.crashed = post("/api/v1/experiments", {"project": "conformance", "name": "crashed-run"})
        cls.live = post("/api/v1/experiments", {"project": "conformance", "name": "live-run"})
        d, c, lv = cls.done["id"], cls.crashed["id"], cls.live["id"]
        post(f"/api/v1/experiments/{d}/metrics", {"steps": [
            {"step": s, "values": {"train/loss": 1.0 / (s + 1), "train/acc": s / 10, "epoch": s // 5}}
            for s in range(10)]})
        post(f"/api/v1/experiments/{c}/metrics", {"steps": [{"step": 0, "values": {"train/loss": 2.5}}]})
        post(f"/api/v1/experiments/{lv}/metrics", {"steps": [{"step": 0, "values": {"train/loss": 3.0, "val/acc": 0.5}}]})
        for step, caption in ((0, "a cat"), (1, None), (1, "second at step 1")):
            query = {"key": "samples", "step": step, "filename": "s.png", **({"caption": caption} if caption else {})}
            got, payload, _ = srv.request("POST", f"/api/v1/experiments/{c}/media?{urlencode(query)}", raw=PNG)
            assert got == 200, payload
        post(f"/api/v1/experiments/{d}/console", {"lines": [{"text": "swanlab: Tracking run"},
                                                            {"text": "{'loss': 1.68, 'epoch': 0.02}"}]})
        srv.request("PUT", f"/api/v1/experiments/{d}/system",
                    {"system": {"os": "Linux", "python": "3.11", "memory": {"total_gb": 31.25}},
                     "requirements": ["torch==2.1.0", "numpy"]})
        post(f"/api/v1/experiments/{d}/finish", {"status": "finished"})
        post(f"/api/v1/experiments/{c}/finish", {"status": "crashed", "error": TRACEBACK})
        # A renamed experiment, a pinned and a hidden chart on the experiment page, a pinned
        # chart on the compare page.
        srv.request("PATCH", f"/api/v1/experiment/{lv}", body={"name": "renamed-run", "description": "live"})
        charts = {ch["name"]: ch["id"] for ch in srv.request("GET", f"/api/v1/experiment/{d}/chart")[1]["data"]["charts"]}
        srv.request("PATCH", f"/api/v1/chart/{charts['train/acc']}/status", body={"status": 1})
        srv.request("PATCH", f"/api/v1/chart/{charts['epoch']}/status", body={"status": -1})
        cls.exp_charts = charts
        proj = srv.request("GET", f"/api/v1/project/charts?project_id={cls.pid}")[1]["data"]
        cls.project_loss = next(ch["id"] for ch in proj["charts"] if ch["name"] == "train/loss")
        srv.request("PATCH", f"/api/v1/chart/{cls.project_loss}/status", body={"status": 1})

    def call(self, method, path, body=None, status=200, code=0):
        got, payload, _ = self.server.request(method, path, body=body)
        self.assertEqual(got, status, f"{method} {path}: {payload}")
        self.assertEqual(payload["code"], code, payload)
        self.assertEqual(payload["message"], "success" if code == 0 else payload["message"])
        return payload.get("data")

    def assertShape(self, value, shape):
        try:
            check(value, shape)
        except ShapeError as e:
            self.fail(str(e))

    # ---- project routes (swanboard/controller/project.py) ----------------------------------

    def test_get_project_info(self):
        data = self.call("GET", f"/api/v1/project?project_id={self.pid}")
        row = {k: v for k, v in EXPERIMENT.items() if k != "project_id"}
        self.assertShape(data, {**PROJECT, "logdir": STR, "colors": {"light": list_of(COLOUR), "dark": list_of(COLOUR)},
                                "experiments": list_of({**row, "experiment_id": INT, "config": CONFIG})})
        self.assertEqual((len(data["colors"]["light"]), len(data["colors"]["dark"])), (16, 16))
        self.assertEqual(data["sum"], 3)
        self.assertEqual(data["charts"], 1)
        self.assertTrue(data["logdir"].startswith("/"))
        exps = {e["name"]: e for e in data["experiments"]}
        self.assertEqual(sorted(exps), ["crashed-run", "finished-run", "renamed-run"])
        self.assertEqual([exps[n]["status"] for n in ("finished-run", "crashed-run", "renamed-run")], [1, -1, 0])
        self.assertEqual([exps[n]["sort"] for n in ("finished-run", "crashed-run", "renamed-run")], [1, 2, 3])
        self.assertEqual([exps[n]["light"] for n in ("finished-run", "crashed-run")], data["colors"]["light"][:2])
        self.assertEqual(exps["finished-run"]["config"], {
            "lr": {"desc": None, "sort": 0, "value": 0.001},
            "model": {"desc": None, "sort": 1, "value": {"layers": 4, "act": "gelu"}},
            "batch": {"desc": None, "sort": 2, "value": 32}})
        self.assertEqual(exps["crashed-run"]["config"], {})
        self.assertIsNone(exps["renamed-run"]["finish_time"])
        self.assertEqual(exps["renamed-run"]["experiment_id"], exps["renamed-run"]["id"])

    def test_get_project_summary(self):
        data = self.call("GET", f"/api/v1/project/summaries?project_id={self.pid}")
        self.assertShape(data, {"tags": list_of(STR), "summaries": map_of(map_of(ANY))})
        self.assertEqual(data["tags"], ["train/loss", "train/acc", "epoch", "samples", "val/acc"])
        self.assertEqual(data["summaries"]["finished-run"], {"train/loss": 0.1, "train/acc": 0.9, "epoch": 1})
        # Media keys too: the files of the last step.
        crashed = data["summaries"]["crashed-run"]
        self.assertEqual(crashed["train/loss"], 2.5)
        self.assertEqual(len(crashed["samples"]), 2)
        self.assertTrue(all(f.endswith(".png") for f in crashed["samples"]))
        self.assertEqual(data["summaries"]["renamed-run"], {"train/loss": 3.0, "val/acc": 0.5})

    def test_get_project_charts(self):
        data = self.call("GET", f"/api/v1/project/charts?project_id={self.pid}")
        self.assertShape(data, {"charts": list_of(PROJECT_CHART),
                                "namespaces": namespaces_shape(PROJECT_PINNED, PROJECT_NAMESPACE)})
        by_name = {ch["name"]: ch for ch in data["charts"]}
        self.assertEqual(sorted(by_name), ["epoch", "samples", "train/acc", "train/loss", "val/acc"])
        loss = by_name["train/loss"]
        self.assertEqual(loss["source"], ["finished-run", "crashed-run", "renamed-run"])
        self.assertEqual(loss["source_map"], {"finished-run": self.done["id"], "crashed-run": self.crashed["id"],
                                              "renamed-run": self.live["id"]})
        self.assertEqual((loss["type"], loss["status"], loss["sort"]), ("default", 1, 0))
        self.assertEqual(by_name["samples"]["type"], "image")
        # The project's charts have ids of their own: none is an experiment's.
        experiment_ids = set()
        for e in (self.done, self.crashed, self.live):
            experiment_ids |= {ch["id"] for ch in self.call("GET", f"/api/v1/experiment/{e['id']}/chart")["charts"]}
        self.assertFalse(experiment_ids & {ch["id"] for ch in data["charts"]})
        ns = data["namespaces"]
        self.assertEqual((ns[0]["id"], ns[0]["name"], ns[0]["charts"]), (-1, "pinned", [loss["id"]]))
        self.assertEqual(ns[0]["project_id"]["id"], self.pid)
        self.assertNotIn(-2, [n["id"] for n in ns])  # nothing hidden: no hidden group
        self.assertTrue(all(n["charts"] for n in ns))
        train = next(n for n in ns if n["name"] == "train")
        self.assertEqual(train["charts"], [by_name["train/acc"]["id"]])  # train/loss is pinned

    def test_update_project_info(self):
        run = self.call("POST", "/api/v1/experiments", {"project": "conf-rename"}, status=201)
        pid = run["project_id"]
        body = {"name": "conf-renamed", "description": "new"}
        self.assertEqual(self.call("PATCH", f"/api/v1/project/update?project_id={pid}", body), {"updates": body})
        # The old name is an alias: a script still naming it logs into the renamed project.
        again = self.call("POST", "/api/v1/experiments", {"project": "conf-rename"}, status=201)
        self.assertEqual(again["project_id"], pid)
        self.call("PATCH", f"/api/v1/project/update?project_id={pid}", {"description": "x"}, status=422, code=3422)

    def test_delete_project(self):
        run = self.call("POST", "/api/v1/experiments", {"project": "conf-delete"}, status=201)
        pid = run["project_id"]
        self.call("DELETE", f"/api/v1/project?project_id={pid}", status=409, code=3409)
        self.call("POST", f"/api/v1/experiments/{run['id']}/finish", {"status": "finished"})
        self.assertEqual(self.call("DELETE", f"/api/v1/project?project_id={pid}"), {})

    # ---- experiment routes (swanboard/controller/experiment.py) ----------------------------

    def test_get_experiment_info(self):
        data = self.call("GET", f"/api/v1/experiment/{self.done['id']}")
        row = {k: v for k, v in EXPERIMENT.items() if k != "project_id"}
        self.assertShape(data, {**row, "config": CONFIG, "system": map_of(ANY)})
        self.assertEqual(data["config"]["model"], {"desc": None, "sort": 1, "value": {"layers": 4, "act": "gelu"}})
        self.assertEqual(data["system"]["memory"], 31.25)  # a number of GB, as SwanLab's metadata
        self.assertEqual(self.call("GET", f"/api/v1/experiment/{self.live['id']}")["system"], {})
        self.call("GET", "/api/v1/experiment/424242", status=404, code=3404)
        self.call("GET", "/api/v1/experiment/x1", status=422, code=3422)

    def test_get_experimet_charts(self):
        data = self.call("GET", f"/api/v1/experiment/{self.done['id']}/chart")
        self.assertShape(data, {"charts": list_of(EXPERIMENT_CHART),
                                "namespaces": namespaces_shape(EXPERIMENT_PINNED, EXPERIMENT_NAMESPACE)})
        charts = {ch["name"]: ch for ch in data["charts"]}
        self.assertEqual(charts["train/loss"]["source"], ["train/loss"])
        self.assertEqual(charts["train/loss"]["source_map"], {"train/loss": self.done["id"]})
        self.assertEqual([(charts[n]["status"], charts[n]["sort"]) for n in ("train/loss", "train/acc", "epoch")],
                         [(0, None), (1, 0), (-1, 0)])
        ns = data["namespaces"]
        self.assertEqual([(n["id"], n["name"]) for n in ns], [(-1, "pinned"), (ns[1]["id"], "train"), (-2, "hidden")])
        self.assertEqual(ns[0]["charts"], [charts["train/acc"]["id"]])
        self.assertEqual(ns[1]["charts"], [charts["train/loss"]["id"]])
        self.assertEqual(ns[2]["charts"], [charts["epoch"]["id"]])
        self.assertEqual(ns[0]["experiment_id"]["id"], self.done["id"])  # the UI reads experiment_id?.id
        # "default" held only epoch, now hidden: an empty group is left out.
        self.assertNotIn("default", [n["name"] for n in ns])
        self.call("GET", "/api/v1/experiment/424242/chart", status=404, code=3404)

    def test_get_tag_data(self):
        data = self.call("GET", f"/api/v1/experiment/{self.done['id']}/tag/train/loss")
        point = {"index": INT, "data": NUMBER, "create_time": TIME}
        self.assertShape(data, {"sum": INT, "max": NUMBER, "min": NUMBER, "experiment_id": INT,
                                "list": list_of(either(point, {**point, "_last": const(True)}))})
        self.assertEqual((data["sum"], data["max"], data["min"]), (10, 1.0, 0.1))
        self.assertEqual([p["index"] for p in data["list"]], list(range(10)))
        self.assertTrue(data["list"][-1]["_last"])

    def test_get_tag_data_of_media(self):
        data = self.call("GET", f"/api/v1/experiment/{self.crashed['id']}/tag/samples")
        point = {"index": INT, "data": list_of(STR), "create_time": TIME,
                 "more": list_of(either(NULL, {"caption": STR}))}
        self.assertShape(data, {"sum": INT, "max": NULL, "min": NULL, "experiment_id": INT,
                                "list": list_of(either(point, {**point, "_last": const(True)}))})
        self.assertEqual(data["sum"], 2)
        first, second = data["list"]
        self.assertEqual((first["index"], first["more"]), (0, [{"caption": "a cat"}]))
        self.assertEqual((second["index"], second["more"]), (1, [None, {"caption": "second at step 1"}]))
        self.assertEqual(len(second["data"]), 2)
        # Each file is served by the media route.
        got, body, headers = self.server.request(
            "GET", f"/api/v1/media/{second['data'][1]}?tag=samples&experiment_id={self.crashed['id']}")
        self.assertEqual((got, headers["Content-Type"]), (200, "image/png"))

    def test_get_experiment_status(self):
        data = self.call("GET", f"/api/v1/experiment/{self.live['id']}/status")
        self.assertShape(data, {"status": STATUS, "update_time": TIME, "finish_time": either(TIME, NULL),
                                "charts": {"charts": list_of(EXPERIMENT_CHART),
                                           "namespaces": namespaces_shape(EXPERIMENT_PINNED, EXPERIMENT_NAMESPACE)}})
        self.assertEqual((data["status"], data["finish_time"]), (0, None))
        self.assertEqual([n["name"] for n in data["charts"]["namespaces"]], ["train", "val"])
        done = self.call("GET", f"/api/v1/experiment/{self.done['id']}/status")
        self.assertEqual(done["status"], 1)
        self.assertRegex(done["finish_time"], ISO)

    def test_get_experiment_summary(self):
        data = self.call("GET", f"/api/v1/experiment/{self.crashed['id']}/summary")
        self.assertShape(data, {"summaries": list_of({"key": STR, "value": ANY})})
        self.assertEqual([s["key"] for s in data["summaries"]], ["train/loss", "samples"])
        self.assertEqual(data["summaries"][0]["value"], 2.5)
        self.assertEqual(len(data["summaries"][1]["value"]), 2)

    def test_get_recent_logs(self):
        data = self.call("GET", f"/api/v1/experiment/{self.done['id']}/recent_log")
        self.assertShape(data, {"recent": list_of(STR), "logs": list_of(STR)})
        self.assertEqual(data["recent"], ["swanlab:", "{'loss':"])
        self.assertEqual(data["logs"], ["swanlab: Tracking run", "{'loss': 1.68, 'epoch': 0.02}"])
        # A run that ended with an exception: error.log's lines (when, the traceback, "").
        crashed = self.call("GET", f"/api/v1/experiment/{self.crashed['id']}/recent_log")
        self.assertShape(crashed, {"error": list_of(STR)})
        self.assertRegex(crashed["error"][0], ISO)
        self.assertEqual(crashed["error"][1:], TRACEBACK.split("\n") + [""])
        self.call("GET", f"/api/v1/experiment/{self.live['id']}/recent_log", status=404, code=3404)

    def test_get_experiment_requirements(self):
        data = self.call("GET", f"/api/v1/experiment/{self.done['id']}/requirements")
        self.assertEqual(data, {"requirements": ["torch==2.1.0", "numpy"]})

    def test_stop_experiment(self):
        run = self.call("POST", "/api/v1/experiments", {"project": "conf-stop"}, status=201)
        data = self.call("GET", f"/api/v1/experiment/{run['id']}/stop")
        self.assertShape(data, {"id": INT, "status": const(-1), "finish_time": TIME})
        self.call("GET", f"/api/v1/experiment/{run['id']}/stop", status=409, code=3409)

    def test_update_experiment_info(self):
        run = self.call("POST", "/api/v1/experiments", {"project": "conf-patch", "name": "before"}, status=201)
        self.call("POST", "/api/v1/experiments", {"project": "conf-patch", "name": "taken"}, status=201)
        body = {"name": "  after  ", "description": "d"}
        self.assertEqual(self.call("PATCH", f"/api/v1/experiment/{run['id']}", body),
                         {"name": "after", "description": "d"})
        self.assertEqual(self.call("GET", f"/api/v1/experiment/{run['id']}")["name"], "after")
        self.call("PATCH", f"/api/v1/experiment/{run['id']}", {"name": "taken"}, status=409, code=3409)
        self.assertEqual(self.call("PATCH", f"/api/v1/experiment/{run['id']}", {"name": "after", "description": None}),
                         {"name": "after", "description": None})
        self.call("PATCH", f"/api/v1/experiment/{run['id']}", {"description": "no name"}, status=422, code=3422)
        self.call("PATCH", f"/api/v1/experiment/{run['id']}", {"name": "   "}, status=422, code=3422)

    def test_change_experiment_visibility(self):
        run = self.call("POST", "/api/v1/experiments", {"project": "conf-show"}, status=201)
        for sent, shown in ((0, 0), (1, 1), (False, 0), ("yes", 1), (None, 0)):
            data = self.call("PATCH", f"/api/v1/experiment/{run['id']}/show", {"show": sent})
            self.assertShape(data, {"experiment": EXPERIMENT_INSTANCE})
            self.assertEqual(data["experiment"]["show"], shown, sent)
        self.call("PATCH", f"/api/v1/experiment/{run['id']}/show", {}, status=422, code=3422)

    def test_delete_experiment(self):
        run = self.call("POST", "/api/v1/experiments", {"project": "conf-del"}, status=201)
        self.assertEqual(self.call("DELETE", f"/api/v1/experiment/{run['id']}"), {"experiment_id": run["id"]})
        self.call("GET", f"/api/v1/experiment/{run['id']}", status=404, code=3404)

    # ---- names are unique in a project (swanboard: unique index on (name, project_id)) -------

    def test_a_second_run_of_a_name_gets_a_free_one(self):
        first = self.call("POST", "/api/v1/experiments", {"project": "conf-names", "name": "sweep"}, status=201)
        second = self.call("POST", "/api/v1/experiments", {"project": "conf-names", "name": "sweep"}, status=201)
        third = self.call("POST", "/api/v1/experiments", {"project": "conf-names", "name": "sweep"}, status=201)
        self.assertEqual([first["name"], second["name"], third["name"]], ["sweep", "sweep-2", "sweep-3"])
        # Resuming keeps the run's name.
        again = self.call("POST", "/api/v1/experiments", {"project": "conf-names", "run_id": second["run_id"]})
        self.assertEqual((again["id"], again["name"]), (second["id"], "sweep-2"))

    # ---- charts and groups (controller/chart.py, namespace routes) --------------------------

    def test_update_charts_status_on_the_project_touches_no_experiment(self):
        before = {e["id"]: self.call("GET", f"/api/v1/experiment/{e['id']}/chart")
                  for e in (self.done, self.crashed, self.live)}
        proj = self.call("GET", f"/api/v1/project/charts?project_id={self.pid}")
        acc = next(ch for ch in proj["charts"] if ch["name"] == "train/acc")
        data = self.call("PATCH", f"/api/v1/chart/{acc['id']}/status", {"status": -1})
        self.assertShape(data["charts"], list_of(PROJECT_CHART))
        self.assertEqual(data["namespaces"][-1]["id"], -2)
        self.assertEqual(data["groups"][-1]["charts"][0]["name"], "train/acc")  # the older board's answer
        after = {e["id"]: self.call("GET", f"/api/v1/experiment/{e['id']}/chart")
                 for e in (self.done, self.crashed, self.live)}
        self.assertEqual(before, after)
        self.call("PATCH", f"/api/v1/chart/{acc['id']}/status", {"status": 0})
        self.call("PATCH", f"/api/v1/chart/{acc['id']}/status", {"status": 5}, status=422, code=3422)
        self.call("PATCH", f"/api/v1/chart/{acc['id']}/status", {"status": 2 ** 64 - 1}, status=422, code=3422)
        self.call("PATCH", "/api/v1/chart/987654/status", {"status": 1}, status=404, code=3404)

    def test_pins_keep_their_order(self):
        run = self.call("POST", "/api/v1/experiments", {"project": "conf-pins"}, status=201)
        self.call("POST", f"/api/v1/experiments/{run['id']}/metrics",
                  {"steps": [{"step": 0, "values": {"a": 1, "b": 2, "c": 3}}]})
        ids = {ch["name"]: ch["id"] for ch in self.call("GET", f"/api/v1/experiment/{run['id']}/chart")["charts"]}
        for name in ("c", "a", "b"):
            self.call("PATCH", f"/api/v1/chart/{ids[name]}/status", {"status": 1})
        ns = self.call("GET", f"/api/v1/experiment/{run['id']}/chart")["namespaces"]
        self.assertEqual(ns[0]["charts"], [ids["c"], ids["a"], ids["b"]])
        self.assertEqual(len(ns), 1)  # "default" is empty once all three are pinned

    def test_namespace_opened(self):
        proj = self.call("GET", f"/api/v1/project/charts?project_id={self.pid}")
        train = next(n for n in proj["namespaces"] if n["name"] == "train")
        self.call("PATCH", f"/api/v1/namespace/{train['id']}/opened", {"opened": 0, "project_id": self.pid})
        proj = self.call("GET", f"/api/v1/project/charts?project_id={self.pid}")
        self.assertEqual(next(n for n in proj["namespaces"] if n["name"] == "train")["opened"], 0)
        exp = self.call("GET", f"/api/v1/experiment/{self.done['id']}/chart")
        self.assertEqual(next(n for n in exp["namespaces"] if n["name"] == "train")["opened"], 1)
        # The pinned and hidden groups of either page, addressed as the UI does.
        pinned = self.call("GET", f"/api/v1/experiment/{self.done['id']}/chart")["namespaces"][0]
        self.call("PATCH", "/api/v1/namespace/-1/opened",
                  {"opened": 0, "experiment_id": pinned["experiment_id"]["id"]})
        self.assertEqual(self.call("GET", f"/api/v1/experiment/{self.done['id']}")["pinned_opened"], 0)
        self.call("PATCH", "/api/v1/namespace/-2/opened", {"opened": 1, "project_id": self.pid})
        self.assertEqual(self.call("GET", f"/api/v1/project?project_id={self.pid}")["hidden_opened"], 1)
        # A group named with another owner is refused, not changed.
        self.call("PATCH", f"/api/v1/namespace/{train['id']}/opened", {"opened": 1, "experiment_id": self.done["id"]},
                  status=404, code=3404)
        self.call("PATCH", "/api/v1/namespace/987654/opened", {"opened": 1}, status=404, code=3404)
        self.call("PATCH", "/api/v1/namespace/-1/opened", {"opened": 1}, status=422, code=3422)
        self.call("PATCH", f"/api/v1/namespace/{train['id']}/opened", {}, status=422, code=3422)
        self.call("PATCH", f"/api/v1/namespace/{train['id']}/opened", {"opened": 1, "project_id": self.pid})


class SwanlabBehaviourTest(SharedServerTest):
    """What the shapes do not show: headers, downsampling, refusing ambiguous changes."""

    def test_headers_on_every_api_response(self):
        run = self.server.request("POST", "/api/v1/experiments", {"project": "headers"})[1]["data"]
        _, _, headers = self.server.request("GET", f"/api/v1/experiment/{run['id']}")
        self.assertGreaterEqual(float(headers["SwanLab-Process-Time"]), 0.0)
        self.assertTrue(headers["SwanLab-Version"])
        _, _, headers = self.server.request("GET", "/api/v1/experiment/987654")
        self.assertIn("SwanLab-Version", headers)

    def test_tag_downsamples_keeping_first_last_and_spike(self):
        run = self.server.request("POST", "/api/v1/experiments", {"project": "downsample"})[1]["data"]
        steps = [{"step": s, "values": {"train/loss": 1.0 / (s + 1)}} for s in range(5000)]
        steps[2500]["values"]["train/loss"] = 42.0
        self.server.request("POST", f"/api/v1/experiments/{run['id']}/metrics", {"steps": steps})
        _, p, _ = self.server.request("GET", f"/api/v1/experiment/{run['id']}/tag/train/loss")
        t = p["data"]
        self.assertEqual((t["sum"], t["max"], t["min"]), (5000, 42.0, 1.0 / 5000))
        lst = t["list"]
        self.assertLessEqual(len(lst), 1500)
        self.assertEqual((lst[0]["index"], lst[-1]["index"]), (0, 4999))
        self.assertTrue(lst[-1]["_last"])
        self.assertNotIn("_last", lst[0])
        self.assertIn({"index": 2500, "data": 42.0}, [{"index": q["index"], "data": q["data"]} for q in lst])
        status, err, _ = self.server.request("GET", f"/api/v1/experiment/{run['id']}/tag/train/nope")
        self.assertEqual((status, err["code"]), (404, 3404))

    def test_project_changes_without_an_id_touch_nothing_when_there_are_several(self):
        # SwanLab's board keeps one project; Loupe would otherwise change whichever came first.
        first = self.server.request("POST", "/api/v1/experiments", {"project": "kept-a"})[1]["data"]["project_id"]
        self.server.request("POST", "/api/v1/experiments", {"project": "kept-b"})
        for method, path, body in (("DELETE", "/api/v1/project", None),
                                   ("PATCH", "/api/v1/project/update", {"name": "renamed"})):
            status, err, _ = self.server.request(method, path, body=body)
            self.assertEqual((status, err["code"]), (400, 3400))
            self.assertRegex(err["message"], r"^this server keeps \d+ projects: name the one to change with \?project_id=$")
        _, p, _ = self.server.request("GET", f"/api/v1/project?project_id={first}")
        self.assertEqual(p["data"]["name"], "kept-a")


class ShapeCheckerTest(unittest.TestCase):
    """The checker itself fails on what it must catch."""

    def test_catches_missing_extra_and_wrong_types(self):
        shape = {"a": INT, "b": either(STR, NULL), "c": list_of({"d": TIME})}
        check({"a": 1, "b": None, "c": [{"d": "2025-03-21T04:58:06.387383+00:00"}]}, shape)
        for bad in ({"a": 1, "b": None}, {"a": 1, "b": None, "c": [], "e": 0}, {"a": True, "b": None, "c": []},
                    {"a": 1, "b": 3, "c": []}, {"a": 1, "b": "", "c": [{"d": "2025-03-21 04:58"}]}):
            with self.assertRaises(ShapeError):
                check(bad, shape)


if __name__ == "__main__":
    unittest.main()
