// Each domain's tables, as numbered migration steps (steps[i] takes the domain's schema
// from version i to i + 1). A new subsystem adds its own module here and to StoreSchema().
#include "store/migrations.h"

namespace loupe {

// Projects, experiments, series (chunks and summaries), charts, console, media.
const SchemaModule& TrackingSchema() {
  static const SchemaModule m{"tracking", {
      R"sql(
CREATE TABLE projects(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL);
CREATE TABLE experiments(
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  run_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL, show INTEGER NOT NULL DEFAULT 1,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  finish_time INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL,
  config TEXT NOT NULL DEFAULT '{}', system TEXT NOT NULL DEFAULT '{}',
  requirements TEXT NOT NULL DEFAULT '',
  UNIQUE(project_id, run_id));
CREATE INDEX experiments_by_status ON experiments(status, last_seen);
CREATE TABLE namespaces(
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  name TEXT NOT NULL, opened INTEGER NOT NULL DEFAULT 1, sort INTEGER NOT NULL,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  UNIQUE(experiment_id, name));
CREATE TABLE charts(
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL, type TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 0,
  sort INTEGER NOT NULL, create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  UNIQUE(experiment_id, name));
CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  key TEXT NOT NULL, type TEXT NOT NULL, chart_id INTEGER NOT NULL,
  first_step INTEGER NOT NULL DEFAULT 0, last_step INTEGER NOT NULL DEFAULT -1,
  last_value REAL, last_ts INTEGER NOT NULL DEFAULT 0, create_time INTEGER NOT NULL,
  UNIQUE(experiment_id, key));
-- Raw points, one blob per (series, 4096-step window, write); see series_layout.h.
CREATE TABLE chunks(
  series_id INTEGER NOT NULL, win INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(series_id, win, seq)) WITHOUT ROWID;
-- Per-bucket summaries at several bucket widths; NULL value columns mean NaN.
CREATE TABLE summaries(
  series_id INTEGER NOT NULL, level INTEGER NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL,
  min_step INTEGER, min_v REAL, min_ts INTEGER, max_step INTEGER, max_v REAL, max_ts INTEGER,
  nf_step INTEGER, nf_v REAL, nf_ts INTEGER,
  PRIMARY KEY(series_id, level, bucket)) WITHOUT ROWID;
-- Client sequence numbers already applied, so a retried batch is not counted twice.
CREATE TABLE applied_batches(
  experiment_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(experiment_id, seq)) WITHOUT ROWID;
CREATE TABLE console(
  experiment_id INTEGER NOT NULL, line_no INTEGER NOT NULL, stream INTEGER NOT NULL,
  ts INTEGER NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(experiment_id, line_no)) WITHOUT ROWID;
CREATE TABLE media(
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  key TEXT NOT NULL, step INTEGER NOT NULL, filename TEXT NOT NULL,
  content_type TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE INDEX media_by_key ON media(experiment_id, key, step);
CREATE TABLE ui_state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
      R"sql(
-- v2: a per-series version, bumped on every write, behind chart ETags.
ALTER TABLE series ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
)sql",
      R"sql(
-- v3: ids are never reused (AUTOINCREMENT), so a deleted run's late writes, a stale
-- chart ETag or an old reference can never land on a newer row. Each table is rebuilt
-- (Migrate turns foreign keys off around the transaction, as SQLite's ALTER TABLE
-- procedure requires).
CREATE TABLE projects_v3(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL);
INSERT INTO projects_v3 SELECT id, name, description, create_time, update_time FROM projects;
DROP TABLE projects;
ALTER TABLE projects_v3 RENAME TO projects;
CREATE TABLE experiments_v3(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  run_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL, show INTEGER NOT NULL DEFAULT 1,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  finish_time INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL,
  config TEXT NOT NULL DEFAULT '{}', system TEXT NOT NULL DEFAULT '{}',
  requirements TEXT NOT NULL DEFAULT '',
  UNIQUE(project_id, run_id));
INSERT INTO experiments_v3 SELECT id, project_id, run_id, name, description, status, show, create_time,
  update_time, finish_time, last_seen, config, system, requirements FROM experiments;
DROP TABLE experiments;
ALTER TABLE experiments_v3 RENAME TO experiments;
CREATE INDEX experiments_by_status ON experiments(status, last_seen);
CREATE TABLE namespaces_v3(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  name TEXT NOT NULL, opened INTEGER NOT NULL DEFAULT 1, sort INTEGER NOT NULL,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  UNIQUE(experiment_id, name));
INSERT INTO namespaces_v3 SELECT id, experiment_id, name, opened, sort, create_time, update_time FROM namespaces;
DROP TABLE namespaces;
ALTER TABLE namespaces_v3 RENAME TO namespaces;
CREATE TABLE charts_v3(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL, type TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 0,
  sort INTEGER NOT NULL, create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  UNIQUE(experiment_id, name));
INSERT INTO charts_v3 SELECT id, experiment_id, namespace_id, name, type, status, sort, create_time, update_time
  FROM charts;
DROP TABLE charts;
ALTER TABLE charts_v3 RENAME TO charts;
CREATE TABLE series_v3(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  key TEXT NOT NULL, type TEXT NOT NULL, chart_id INTEGER NOT NULL,
  first_step INTEGER NOT NULL DEFAULT 0, last_step INTEGER NOT NULL DEFAULT -1,
  last_value REAL, last_ts INTEGER NOT NULL DEFAULT 0, create_time INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  UNIQUE(experiment_id, key));
INSERT INTO series_v3 SELECT id, experiment_id, key, type, chart_id, first_step, last_step, last_value, last_ts,
  create_time, version FROM series;
DROP TABLE series;
ALTER TABLE series_v3 RENAME TO series;
CREATE TABLE media_v3(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  key TEXT NOT NULL, step INTEGER NOT NULL, filename TEXT NOT NULL,
  content_type TEXT NOT NULL, ts INTEGER NOT NULL);
INSERT INTO media_v3 SELECT id, experiment_id, key, step, filename, content_type, ts FROM media;
DROP TABLE media;
ALTER TABLE media_v3 RENAME TO media;
CREATE INDEX media_by_key ON media(experiment_id, key, step);

-- Every client write applied, by client, kind and sequence number, so a retry is
-- recognised and one kind's numbers never collide with another's. Rows from before
-- clients had ids keep working for both kinds they could have been.
CREATE TABLE applied_writes(
  experiment_id INTEGER NOT NULL, client TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(experiment_id, client, kind, seq)) WITHOUT ROWID;
INSERT INTO applied_writes SELECT experiment_id, '', 'metrics', seq FROM applied_batches;
INSERT INTO applied_writes SELECT experiment_id, '', 'console', seq FROM applied_batches;
DROP TABLE applied_batches;

-- The SDK processes (clients) that wrote to an experiment. A client is registered by
-- its first create-or-resume; a replay of that request (sync, a retry) finds it here and
-- changes nothing. step_base is where the client's relative steps start (one past the
-- experiment's last step when it resumed). Rows outlive their experiment, so a deleted
-- run's client is told 410 rather than starting a new run.
-- Names a project had before a rename, so a run resumed under its old project name is
-- found instead of split into a new project of that name.
CREATE TABLE project_renames(
  old_name TEXT PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  rename_time INTEGER NOT NULL);
CREATE TABLE experiment_clients(
  client TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL, step_base INTEGER NOT NULL,
  system_step_base INTEGER NOT NULL, create_time INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX experiment_clients_by_experiment ON experiment_clients(experiment_id, create_time);
-- A new key's chart and group go after the last one: max(sort) by index, not a count
-- over every chart of the experiment (10,000 new keys beside 100,000 took 33 s).
CREATE INDEX charts_by_sort ON charts(experiment_id, sort);
CREATE INDEX namespaces_by_sort ON namespaces(experiment_id, sort);
)sql",
      R"sql(
-- v4: what each experiment holds against its quotas, kept as writes land (a sum over a
-- million console lines per write would be the stall issue 9 is about). Media written
-- before v4 is not counted: only the files know their sizes.
CREATE TABLE experiment_usage(
  experiment_id INTEGER PRIMARY KEY REFERENCES experiments(id) ON DELETE CASCADE,
  console_bytes INTEGER NOT NULL DEFAULT 0, media_bytes INTEGER NOT NULL DEFAULT 0);
INSERT INTO experiment_usage(experiment_id, console_bytes)
  SELECT experiment_id, sum(length(CAST(text AS BLOB))) FROM console GROUP BY experiment_id;
)sql",
      R"sql(
-- v5: SwanLab's board (issue 10). The compare view has a chart and a group per key of
-- its own, owned by the project, in the same id space as the experiments' charts and
-- groups, so a pin or a collapse there never lands on an experiment's row. A chart's
-- place among the pinned or hidden ones is pin_sort (NULL otherwise). Each table is
-- rebuilt as in v3, keeping its AUTOINCREMENT counter so no id is given out twice.
CREATE TABLE namespaces_v5(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
  project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL, opened INTEGER NOT NULL DEFAULT 1, sort INTEGER NOT NULL,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  CHECK ((experiment_id IS NULL) <> (project_id IS NULL)),
  UNIQUE(experiment_id, name), UNIQUE(project_id, name));
INSERT INTO namespaces_v5(id, experiment_id, name, opened, sort, create_time, update_time)
  SELECT id, experiment_id, name, opened, sort, create_time, update_time FROM namespaces;
INSERT INTO sqlite_sequence(name, seq) SELECT 'namespaces_v5', seq FROM sqlite_sequence
  WHERE name='namespaces' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name='namespaces_v5');
UPDATE sqlite_sequence SET seq=max(seq, (SELECT seq FROM sqlite_sequence WHERE name='namespaces'))
  WHERE name='namespaces_v5' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name='namespaces');
DROP TABLE namespaces;
ALTER TABLE namespaces_v5 RENAME TO namespaces;
CREATE INDEX namespaces_by_sort ON namespaces(experiment_id, sort);
CREATE TABLE charts_v5(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
  project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL, type TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 0,
  sort INTEGER NOT NULL, pin_sort INTEGER, create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  CHECK ((experiment_id IS NULL) <> (project_id IS NULL)),
  UNIQUE(experiment_id, name), UNIQUE(project_id, name));
INSERT INTO charts_v5(id, experiment_id, namespace_id, name, type, status, sort, pin_sort, create_time, update_time)
  SELECT id, experiment_id, namespace_id, name, type, status, sort, CASE WHEN status=0 THEN NULL ELSE sort END,
    create_time, update_time FROM charts;
INSERT INTO sqlite_sequence(name, seq) SELECT 'charts_v5', seq FROM sqlite_sequence
  WHERE name='charts' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name='charts_v5');
UPDATE sqlite_sequence SET seq=max(seq, (SELECT seq FROM sqlite_sequence WHERE name='charts'))
  WHERE name='charts_v5' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name='charts');
DROP TABLE charts;
ALTER TABLE charts_v5 RENAME TO charts;
CREATE INDEX charts_by_sort ON charts(experiment_id, sort);
CREATE INDEX project_charts_by_sort ON charts(project_id, sort);
-- The project's groups and charts for what its experiments already hold, in the order
-- the keys first appeared.
INSERT INTO namespaces(project_id, name, opened, sort, create_time, update_time)
  SELECT e.project_id, n.name, 1, min(n.id), min(n.create_time), min(n.create_time)
  FROM namespaces n JOIN experiments e ON e.id=n.experiment_id GROUP BY e.project_id, n.name;
INSERT INTO charts(project_id, namespace_id, name, type, status, sort, create_time, update_time)
  SELECT e.project_id, pn.id, c.name, min(c.type), 0, min(c.id), min(c.create_time), min(c.create_time)
  FROM charts c JOIN experiments e ON e.id=c.experiment_id JOIN namespaces en ON en.id=c.namespace_id
  JOIN namespaces pn ON pn.project_id=e.project_id AND pn.name=en.name
  GROUP BY e.project_id, c.name;

-- A compare-view group collapsed before v5 (kept under the id of the first experiment
-- group of that name, which is the new group's sort) stays collapsed.
UPDATE namespaces SET opened=coalesce((SELECT CAST(value AS INTEGER) FROM ui_state
  WHERE key='project:' || namespaces.project_id || ':ns:' || namespaces.sort), 1) WHERE project_id IS NOT NULL;

-- Each experiment's place in its project (1, 2, ... in creation order, never reused: its
-- colours follow it), the traceback of a run that ended with an exception, and how many
-- experiments each project has ever had (SwanLab's project "sum"). One pass each: a
-- correlated count per row took minutes for 20,000 experiments.
ALTER TABLE experiments ADD COLUMN sort INTEGER NOT NULL DEFAULT 0;
ALTER TABLE experiments ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN sum INTEGER NOT NULL DEFAULT 0;
UPDATE experiments SET sort=r.n FROM (SELECT id, row_number() OVER (PARTITION BY project_id ORDER BY id) AS n
  FROM experiments) AS r WHERE r.id=experiments.id;
UPDATE projects SET sum=coalesce(m.top, 0) FROM (SELECT project_id, max(sort) AS top FROM experiments
  GROUP BY project_id) AS m WHERE m.project_id=projects.id;

-- Experiment names are unique in a project (SwanLab keys a run's colour, summary and
-- compare source by its name). Older duplicates keep the oldest name; the others get
-- their id as a suffix, and one that is still taken (someone named a run so) a random
-- one as well. Long names are shortened first, to stay within 255 bytes.
CREATE INDEX experiments_by_name_v5 ON experiments(project_id, name, id);
UPDATE experiments SET name=(CASE WHEN length(CAST(name AS BLOB)) > 230 THEN substr(name, 1, 57) ELSE name END)
  || '-' || id WHERE EXISTS (SELECT 1 FROM experiments o
  WHERE o.project_id=experiments.project_id AND o.name=experiments.name AND o.id<experiments.id);
UPDATE experiments SET name=name || '-' || lower(hex(randomblob(4))) WHERE EXISTS (SELECT 1 FROM experiments o
  WHERE o.project_id=experiments.project_id AND o.name=experiments.name AND o.id<experiments.id);
DROP INDEX experiments_by_name_v5;
CREATE UNIQUE INDEX experiments_by_name ON experiments(project_id, name);
-- A media file's caption (NULL: none).
ALTER TABLE media ADD COLUMN caption TEXT;
)sql",
      R"sql(
-- v6: tags (a JSON array of strings, set by the SDK and the pages), and runs the
-- heartbeat monitor ended: they end at their last sign of life, not when the monitor
-- noticed (a run killed after 4 s of work showed minutes of duration).
ALTER TABLE experiments ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
UPDATE experiments SET finish_time=last_seen
  WHERE status='crashed' AND error='' AND last_seen > create_time AND last_seen < finish_time;
)sql",
      R"sql(
-- v7: a project's last values of one metric (the runs table's metric columns, its
-- groups and the sweep panel) read by key: one index range instead of a lookup per run.
CREATE INDEX series_by_key ON series(key, experiment_id, last_step, last_value);
)sql",
      R"sql(
-- v8: a series' first point (value and time) beside its last, so a chart's exact first
-- point needs no lookup in chunks (each of which reads whole blobs). first_ts NULL: not
-- known (series written before v8), read from the chunks as before.
ALTER TABLE series ADD COLUMN first_value REAL;
ALTER TABLE series ADD COLUMN first_ts INTEGER;
)sql",
      R"sql(
-- v9: runs an importer keeps from another tool's files (CLaaS's feedback logs and eval
-- results) take their status from those files, never from the heartbeat monitor. Runs
-- imported before are not guessed from their ids (a user's run may look alike): the
-- importer marks them, and resets their times and status from the files, on its first
-- pass, which runs at start.
ALTER TABLE experiments ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
)sql",
  }};
  return m;
}

// The dataset catalogue; the data itself is a columnar file on disk.
const SchemaModule& DatasetSchema() {
  static const SchemaModule m{"datasets", {
      R"sql(
CREATE TABLE datasets(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, format TEXT NOT NULL, source TEXT NOT NULL,
  rows INTEGER NOT NULL, columns TEXT NOT NULL, bytes INTEGER NOT NULL,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL);
)sql",
      R"sql(
-- v2: ids are never reused (a model session must never train on a later dataset).
CREATE TABLE datasets_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, format TEXT NOT NULL, source TEXT NOT NULL,
  rows INTEGER NOT NULL, columns TEXT NOT NULL, bytes INTEGER NOT NULL,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL);
INSERT INTO datasets_v2 SELECT id, name, format, source, rows, columns, bytes, create_time, update_time FROM datasets;
DROP TABLE datasets;
ALTER TABLE datasets_v2 RENAME TO datasets;
)sql",
  }};
  return m;
}

// The persistent job queue.
const SchemaModule& JobSchema() {
  static const SchemaModule m{"jobs", {
      R"sql(
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY, type TEXT NOT NULL, kwargs TEXT NOT NULL, status TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '', result TEXT NOT NULL DEFAULT 'null', attempts INTEGER NOT NULL DEFAULT 0,
  create_time INTEGER NOT NULL, start_time INTEGER NOT NULL DEFAULT 0, finish_time INTEGER NOT NULL DEFAULT 0);
CREATE INDEX jobs_by_status ON jobs(status, id);
)sql",
      R"sql(
-- v2: ids are never reused.
CREATE TABLE jobs_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, kwargs TEXT NOT NULL, status TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '', result TEXT NOT NULL DEFAULT 'null', attempts INTEGER NOT NULL DEFAULT 0,
  create_time INTEGER NOT NULL, start_time INTEGER NOT NULL DEFAULT 0, finish_time INTEGER NOT NULL DEFAULT 0);
INSERT INTO jobs_v2 SELECT id, type, kwargs, status, error, result, attempts, create_time, start_time, finish_time
  FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
CREATE INDEX jobs_by_status ON jobs(status, id);
)sql",
  }};
  return m;
}

// Model sessions, runs with their metrics and search trials.
const SchemaModule& RunSchema() {
  static const SchemaModule m{"runs", {
      R"sql(
CREATE TABLE model_sessions(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, dataset_id INTEGER NOT NULL, task TEXT NOT NULL,
  spec TEXT NOT NULL, create_time INTEGER NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, name TEXT NOT NULL, model TEXT NOT NULL,
  parameters TEXT NOT NULL, optimizer TEXT NOT NULL DEFAULT '', optimizer_parameters TEXT NOT NULL DEFAULT '{}',
  goal_metric TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
  experiment_id INTEGER NOT NULL DEFAULT 0, job_id INTEGER NOT NULL DEFAULT 0, result TEXT NOT NULL DEFAULT '{}',
  create_time INTEGER NOT NULL, delivered_time INTEGER NOT NULL DEFAULT 0, start_time INTEGER NOT NULL DEFAULT 0,
  end_time INTEGER NOT NULL DEFAULT 0);
CREATE INDEX runs_by_session ON runs(session_id, id);
CREATE TABLE run_metrics(
  run_id INTEGER NOT NULL, split TEXT NOT NULL, name TEXT NOT NULL, level TEXT NOT NULL, step INTEGER NOT NULL,
  value REAL, PRIMARY KEY(run_id, split, name, level, step)) WITHOUT ROWID;
CREATE TABLE run_trials(
  run_id INTEGER NOT NULL, trial INTEGER NOT NULL, parameters TEXT NOT NULL, value REAL, error TEXT NOT NULL,
  metrics TEXT NOT NULL, seconds REAL NOT NULL, PRIMARY KEY(run_id, trial)) WITHOUT ROWID;
)sql",
      R"sql(
-- v2: ids are never reused (retrying a deleted run's job must not train another run).
CREATE TABLE model_sessions_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, dataset_id INTEGER NOT NULL, task TEXT NOT NULL,
  spec TEXT NOT NULL, create_time INTEGER NOT NULL);
INSERT INTO model_sessions_v2 SELECT id, name, dataset_id, task, spec, create_time FROM model_sessions;
DROP TABLE model_sessions;
ALTER TABLE model_sessions_v2 RENAME TO model_sessions;
CREATE TABLE runs_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL, name TEXT NOT NULL, model TEXT NOT NULL,
  parameters TEXT NOT NULL, optimizer TEXT NOT NULL DEFAULT '', optimizer_parameters TEXT NOT NULL DEFAULT '{}',
  goal_metric TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
  experiment_id INTEGER NOT NULL DEFAULT 0, job_id INTEGER NOT NULL DEFAULT 0, result TEXT NOT NULL DEFAULT '{}',
  create_time INTEGER NOT NULL, delivered_time INTEGER NOT NULL DEFAULT 0, start_time INTEGER NOT NULL DEFAULT 0,
  end_time INTEGER NOT NULL DEFAULT 0);
INSERT INTO runs_v2 SELECT id, session_id, name, model, parameters, optimizer, optimizer_parameters, goal_metric,
  status, error, experiment_id, job_id, result, create_time, delivered_time, start_time, end_time FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v2 RENAME TO runs;
CREATE INDEX runs_by_session ON runs(session_id, id);
)sql",
  }};
  return m;
}

// Dataset explorations.
const SchemaModule& ExplorerSchema() {
  static const SchemaModule m{"explorers", {
      R"sql(
CREATE TABLE explorers(
  id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, columns TEXT NOT NULL,
  parameters TEXT NOT NULL, status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', result TEXT NOT NULL DEFAULT 'null',
  job_id INTEGER NOT NULL DEFAULT 0, create_time INTEGER NOT NULL, end_time INTEGER NOT NULL DEFAULT 0);
CREATE INDEX explorers_by_dataset ON explorers(dataset_id, id);
)sql",
      R"sql(
-- v2: ids are never reused.
CREATE TABLE explorers_v2(
  id INTEGER PRIMARY KEY AUTOINCREMENT, dataset_id INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
  columns TEXT NOT NULL, parameters TEXT NOT NULL, status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT 'null', job_id INTEGER NOT NULL DEFAULT 0, create_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL DEFAULT 0);
INSERT INTO explorers_v2 SELECT id, dataset_id, name, type, columns, parameters, status, error, result, job_id,
  create_time, end_time FROM explorers;
DROP TABLE explorers;
ALTER TABLE explorers_v2 RENAME TO explorers;
CREATE INDEX explorers_by_dataset ON explorers(dataset_id, id);
)sql",
  }};
  return m;
}

// Users, API tokens, sessions, one-time login codes and the audit log. Secrets of any
// kind are stored as hashes only.
const SchemaModule& AuthSchema() {
  static const SchemaModule m{"auth", {
      R"sql(
CREATE TABLE users(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '', create_time INTEGER NOT NULL);
CREATE TABLE api_tokens(
  id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL DEFAULT '', hint TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL, last_used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX api_tokens_by_user ON api_tokens(user_id, id);
CREATE TABLE sessions(
  session_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  create_time INTEGER NOT NULL, expires INTEGER NOT NULL);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires);
CREATE TABLE login_codes(
  code_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires INTEGER NOT NULL);
CREATE INDEX login_codes_by_user ON login_codes(user_id);
CREATE TABLE audit_log(
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, user_name TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '', status INTEGER NOT NULL DEFAULT 0, remote TEXT NOT NULL DEFAULT '');
)sql",
      R"sql(
-- v2: a session opened with a token ends when the token is revoked.
ALTER TABLE sessions ADD COLUMN token_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_by_token ON sessions(token_id);
CREATE INDEX audit_log_by_action ON audit_log(action, id);
)sql",
  }};
  return m;
}

// Provider and cloud credentials, sealed (libsodium secretbox) before they are stored.
const SchemaModule& SecretSchema() {
  static const SchemaModule m{"secrets", {
      R"sql(
CREATE TABLE secrets(
  name TEXT PRIMARY KEY, sealed TEXT NOT NULL, hint TEXT NOT NULL DEFAULT '', update_time INTEGER NOT NULL,
  updated_by TEXT NOT NULL DEFAULT '');
)sql",
  }};
  return m;
}

// Artifacts (manifests, aliases, lineage; bytes in <data-dir>/artifacts/blobs) and the
// model registry. Neither ids nor version numbers are reused (AUTOINCREMENT; next_version
// only grows), so a reference a client holds never comes to mean other content.
const SchemaModule& ArtifactSchema() {
  static const SchemaModule m{"artifacts", {
      R"sql(
CREATE TABLE artifacts(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, next_version INTEGER NOT NULL DEFAULT 0,
  create_time INTEGER NOT NULL);
CREATE TABLE artifact_versions(
  id INTEGER PRIMARY KEY AUTOINCREMENT, artifact_id INTEGER NOT NULL REFERENCES artifacts(id), version INTEGER NOT NULL,
  digest TEXT NOT NULL, size INTEGER NOT NULL, file_count INTEGER NOT NULL, description TEXT NOT NULL DEFAULT '',
  metadata TEXT NOT NULL DEFAULT '{}', experiment_id INTEGER, create_time INTEGER NOT NULL,
  created_by TEXT NOT NULL DEFAULT '', UNIQUE(artifact_id, version));
CREATE INDEX artifact_versions_by_digest ON artifact_versions(artifact_id, digest);
CREATE INDEX artifact_versions_by_run ON artifact_versions(experiment_id);
CREATE TABLE artifact_files(
  version_id INTEGER NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE, path TEXT NOT NULL,
  size INTEGER NOT NULL, sha256 TEXT NOT NULL, chunks TEXT NOT NULL, PRIMARY KEY(version_id, path));
CREATE TABLE artifact_aliases(
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id), alias TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE, PRIMARY KEY(artifact_id, alias));
CREATE TABLE artifact_usage(
  version_id INTEGER NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE, experiment_id INTEGER NOT NULL,
  use_time INTEGER NOT NULL, PRIMARY KEY(version_id, experiment_id));
CREATE INDEX artifact_usage_by_run ON artifact_usage(experiment_id);
CREATE TABLE registered_models(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  next_version INTEGER NOT NULL DEFAULT 0, create_time INTEGER NOT NULL, update_time INTEGER NOT NULL);
CREATE TABLE model_versions(
  id INTEGER PRIMARY KEY AUTOINCREMENT, model_id INTEGER NOT NULL REFERENCES registered_models(id), version INTEGER NOT NULL,
  artifact_version_id INTEGER NOT NULL REFERENCES artifact_versions(id), description TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL, created_by TEXT NOT NULL DEFAULT '',
  UNIQUE(model_id, version), UNIQUE(model_id, artifact_version_id));
CREATE INDEX model_versions_by_artifact ON model_versions(artifact_version_id);
CREATE TABLE model_aliases(
  model_id INTEGER NOT NULL REFERENCES registered_models(id), alias TEXT NOT NULL,
  model_version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE, PRIMARY KEY(model_id, alias));
)sql",
  }};
  return m;
}

// The LLM workbench: model endpoints (their API keys are secrets, named here),
// conversations and predictions.
const SchemaModule& LlmSchema() {
  static const SchemaModule m{"llm", {
      R"sql(
CREATE TABLE llm_models(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, api TEXT NOT NULL, base_url TEXT NOT NULL,
  model TEXT NOT NULL, secret_name TEXT NOT NULL DEFAULT '', defaults TEXT NOT NULL DEFAULT '{}',
  price_input REAL, price_output REAL, capabilities TEXT NOT NULL DEFAULT '{}', probe TEXT NOT NULL DEFAULT 'null',
  base_model_id INTEGER REFERENCES llm_models(id) ON DELETE SET NULL, experiment_id INTEGER,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL, created_by TEXT NOT NULL DEFAULT '');
CREATE INDEX llm_models_by_base ON llm_models(base_model_id);
)sql",
      R"sql(
-- v2: conversations, their messages, and predictions (every model call). Predictions keep
-- the model's and the conversation's ids without a foreign key: they outlive both.
CREATE TABLE conversations(
  id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
  model_id INTEGER REFERENCES llm_models(id) ON DELETE SET NULL, system TEXT NOT NULL DEFAULT '',
  params TEXT NOT NULL DEFAULT '{}', create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  created_by TEXT NOT NULL DEFAULT '');
CREATE INDEX conversations_by_update ON conversations(update_time);
CREATE TABLE chat_messages(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL,
  content TEXT NOT NULL, reply_to INTEGER, model_id INTEGER, model_name TEXT NOT NULL DEFAULT '',
  prediction_id INTEGER, error TEXT NOT NULL DEFAULT '', create_time INTEGER NOT NULL);
CREATE INDEX chat_messages_by_conversation ON chat_messages(conversation_id, id);
CREATE TABLE predictions(
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, model_id INTEGER, model_name TEXT NOT NULL,
  api TEXT NOT NULL, provider_model TEXT NOT NULL, messages TEXT NOT NULL, params TEXT NOT NULL,
  response TEXT NOT NULL, finish_reason TEXT NOT NULL, outcome TEXT NOT NULL, error_type TEXT NOT NULL,
  error_text TEXT NOT NULL, latency_ms REAL NOT NULL, ttft_ms REAL, prompt_tokens INTEGER,
  completion_tokens INTEGER, cost_usd REAL, conversation_id INTEGER, trace_id TEXT NOT NULL,
  source TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]', created_by TEXT NOT NULL DEFAULT '');
CREATE INDEX predictions_by_time ON predictions(time);
CREATE INDEX predictions_by_model ON predictions(model_id, time);
CREATE INDEX predictions_by_conversation ON predictions(conversation_id);
)sql",
      R"sql(
-- v3: judgments (a person's thumbs and evaluations; rules' and judges' verdicts later) and
-- full-text search over predictions. A prediction carries its latest human thumbs and
-- stars so that lists filter on them by index; judgments are the record.
ALTER TABLE predictions ADD COLUMN thumbs INTEGER;
ALTER TABLE predictions ADD COLUMN stars REAL;
CREATE INDEX predictions_by_thumbs ON predictions(thumbs, time);
CREATE INDEX predictions_by_latency ON predictions(latency_ms);
CREATE INDEX predictions_by_cost ON predictions(cost_usd);
CREATE INDEX predictions_by_outcome ON predictions(outcome, time);
CREATE TABLE judgments(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  prediction_id INTEGER NOT NULL REFERENCES predictions(id) ON DELETE CASCADE,
  model_id INTEGER, model_name TEXT NOT NULL DEFAULT '', source TEXT NOT NULL, criterion TEXT NOT NULL,
  score REAL, passed INTEGER, evidence TEXT NOT NULL DEFAULT '{}', created_by TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL);
CREATE INDEX judgments_by_prediction ON judgments(prediction_id, criterion);
CREATE UNIQUE INDEX judgments_one_per_person ON judgments(prediction_id, criterion, created_by) WHERE source='human';
CREATE TABLE judgment_tags(
  judgment_id INTEGER NOT NULL REFERENCES judgments(id) ON DELETE CASCADE, prediction_id INTEGER NOT NULL,
  tag TEXT NOT NULL, PRIMARY KEY(judgment_id, tag));
CREATE INDEX judgment_tags_by_tag ON judgment_tags(tag, prediction_id);
CREATE INDEX judgment_tags_by_prediction ON judgment_tags(prediction_id);
-- Contentless: the text lives in predictions; indexed are the last user message and the answer.
CREATE VIRTUAL TABLE predictions_fts USING fts5(prompt, response, content='');
INSERT INTO predictions_fts(rowid, prompt, response)
  SELECT id, coalesce((SELECT json_extract(m.value, '$.content') FROM json_each(predictions.messages) m
                       WHERE json_extract(m.value, '$.role')='user' ORDER BY m.key DESC LIMIT 1), ''), response
  FROM predictions;
)sql",
  }};
  return m;
}

// Automated evaluation: the comparison lab's comparisons, rows (a prompt, the order its
// answers are shown in, the decision) and cells (a row's answer by one model: a
// prediction, none while the call runs). Predictions outlive them.
const SchemaModule& EvalSchema() {
  static const SchemaModule m{"evals", {
      R"sql(
CREATE TABLE comparisons(
  id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, blind INTEGER NOT NULL, revealed INTEGER NOT NULL,
  models TEXT NOT NULL, system TEXT NOT NULL DEFAULT '', params TEXT NOT NULL DEFAULT '{}',
  created_by TEXT NOT NULL DEFAULT '', create_time INTEGER NOT NULL);
CREATE TABLE comparison_rows(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE, position INTEGER NOT NULL,
  prompt TEXT NOT NULL, shown_order TEXT NOT NULL, decision TEXT NOT NULL DEFAULT '', preferred INTEGER,
  rejected TEXT NOT NULL DEFAULT '[]', decided_blind INTEGER NOT NULL DEFAULT 0,
  decided_by TEXT NOT NULL DEFAULT '', decided_time INTEGER NOT NULL DEFAULT 0);
CREATE INDEX comparison_rows_by_comparison ON comparison_rows(comparison_id, position);
CREATE TABLE comparison_cells(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  row_id INTEGER NOT NULL REFERENCES comparison_rows(id) ON DELETE CASCADE,
  comparison_id INTEGER NOT NULL, model_id INTEGER NOT NULL, model_name TEXT NOT NULL, prediction_id INTEGER);
CREATE INDEX comparison_cells_by_row ON comparison_cells(row_id);
CREATE INDEX comparison_cells_pending ON comparison_cells(comparison_id) WHERE prediction_id IS NULL;
)sql",
      R"sql(
-- v2: batch tests. A cell is a case asked of one model; its prediction is the answer (a
-- cached cell links the earlier prediction it reused; cache_key is kept by cells that
-- called the model, so a later run finds their answers). judge: '' (none asked), 'pending',
-- or the judge's verdict as JSON.
CREATE TABLE batch_runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, models TEXT NOT NULL, status TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '{}', created_by TEXT NOT NULL DEFAULT '', create_time INTEGER NOT NULL,
  finish_time INTEGER NOT NULL DEFAULT 0);
CREATE TABLE batch_cases(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES batch_runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL, messages TEXT NOT NULL, expected TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '[]', context TEXT NOT NULL DEFAULT '', assertions TEXT NOT NULL DEFAULT '[]');
CREATE INDEX batch_cases_by_run ON batch_cases(run_id, position);
CREATE TABLE batch_cells(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES batch_runs(id) ON DELETE CASCADE,
  case_id INTEGER NOT NULL REFERENCES batch_cases(id) ON DELETE CASCADE, model_id INTEGER NOT NULL,
  model_name TEXT NOT NULL, prediction_id INTEGER, cached INTEGER NOT NULL DEFAULT 0,
  checks TEXT NOT NULL DEFAULT '[]', passed INTEGER, cache_key TEXT NOT NULL DEFAULT '',
  judge TEXT NOT NULL DEFAULT '', judge_score REAL, judge_passed INTEGER);
CREATE INDEX batch_cells_by_run ON batch_cells(run_id, id);
CREATE INDEX batch_cells_pending ON batch_cells(run_id, id) WHERE prediction_id IS NULL;
CREATE INDEX batch_cells_by_cache_key ON batch_cells(cache_key, id) WHERE cached=0 AND cache_key<>'';
CREATE INDEX batch_cells_judging ON batch_cells(run_id, id) WHERE judge='pending';
)sql",
      R"sql(
-- v3: regression suites. A suite is a test set (the cases and options of a batch run, as
-- JSON) with a pass threshold; each of its runs is a batch run against one model, marked
-- with the suite and why it ran (manual, schedule, new_version, ci). model_watermark: the
-- highest model id the suite has considered as a new version (so each is run once, also
-- across restarts); last_scheduled: when the schedule last started a run; last_error: why
-- the last automatic run could not start ('' once one has). cases and judged describe the
-- test set, so lists need not read it. session_id: a no-code model session whose runs
-- finishing from session_since on the suite tests, through each run's chat endpoint; a
-- batch run's trigger_id and trigger_time name the run and the finish it tested (a run
-- trained again is tested again), whatever order runs finish in.
CREATE TABLE eval_suites(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  base_model_id INTEGER, threshold REAL NOT NULL, test_set TEXT NOT NULL, cases INTEGER NOT NULL DEFAULT 0,
  judged INTEGER NOT NULL DEFAULT 0, schedule_minutes INTEGER NOT NULL DEFAULT 0,
  last_scheduled INTEGER NOT NULL DEFAULT 0, model_watermark INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', created_by TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
  session_id INTEGER, session_since INTEGER NOT NULL DEFAULT 0);
ALTER TABLE batch_runs ADD COLUMN suite_id INTEGER;
ALTER TABLE batch_runs ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE batch_runs ADD COLUMN trigger_id INTEGER;
ALTER TABLE batch_runs ADD COLUMN trigger_time INTEGER;
CREATE INDEX batch_runs_by_suite ON batch_runs(suite_id, id) WHERE suite_id IS NOT NULL;
)sql",
  }};
  return m;
}

// Training jobs Loupe launches (issue 14): the job, its segments (a start, restart or
// resume each; time and money are summed over them), its events (the state timeline),
// and the hourly prices local jobs are charged at.
const SchemaModule& LaunchSchema() {
  static const SchemaModule m{"launch", {
      R"sql(
CREATE TABLE launch_jobs(
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, project TEXT NOT NULL,
  experiment_id INTEGER NOT NULL, spec TEXT NOT NULL, executor TEXT NOT NULL, state TEXT NOT NULL,
  stop_reason TEXT NOT NULL DEFAULT '', exit_text TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '', create_time INTEGER NOT NULL, start_time INTEGER NOT NULL DEFAULT 0,
  end_time INTEGER NOT NULL DEFAULT 0, restarts INTEGER NOT NULL DEFAULT 0, gpus TEXT NOT NULL DEFAULT '',
  dir TEXT NOT NULL DEFAULT '', segment INTEGER NOT NULL DEFAULT 0, pid INTEGER NOT NULL DEFAULT 0,
  pid_start INTEGER NOT NULL DEFAULT 0, shim_pid INTEGER NOT NULL DEFAULT 0, alerts INTEGER NOT NULL DEFAULT 0,
  stop_requested INTEGER NOT NULL DEFAULT 0, checkpoint_requests INTEGER NOT NULL DEFAULT 0,
  resume_from TEXT NOT NULL DEFAULT '');
CREATE INDEX launch_jobs_active ON launch_jobs(state) WHERE state IN ('queued', 'running', 'stopping');
CREATE INDEX launch_jobs_by_experiment ON launch_jobs(experiment_id);
CREATE TABLE launch_segments(
  job_id INTEGER NOT NULL REFERENCES launch_jobs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
  start_time INTEGER NOT NULL, end_time INTEGER NOT NULL DEFAULT 0, rate_per_hour REAL NOT NULL DEFAULT 0,
  end_text TEXT NOT NULL DEFAULT '', PRIMARY KEY(job_id, seq));
CREATE TABLE launch_events(
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL REFERENCES launch_jobs(id) ON DELETE CASCADE,
  time INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL DEFAULT '');
CREATE INDEX launch_events_by_job ON launch_events(job_id, id);
CREATE TABLE launch_prices(resource TEXT PRIMARY KEY, usd_per_hour REAL NOT NULL);
)sql",
      // Slurm jobs: the scheduler's job id (external_id) on the job and on each segment (a
      // run of that submission; a requeued submission has several), and the "pending" state
      // (submitted, waiting in the scheduler's queue).
      R"sql(
ALTER TABLE launch_jobs ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE launch_segments ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
DROP INDEX launch_jobs_active;
CREATE INDEX launch_jobs_active ON launch_jobs(state) WHERE state IN ('queued', 'pending', 'running', 'stopping');
)sql",
  }};
  return m;
}

const std::vector<SchemaModule>& StoreSchema() {
  static const std::vector<SchemaModule> all = {TrackingSchema(), DatasetSchema(), JobSchema(), RunSchema(),
                                                ExplorerSchema(), AuthSchema(), SecretSchema(),
                                                ArtifactSchema(), LlmSchema(), EvalSchema(), LaunchSchema()};
  return all;
}

}  // namespace loupe
