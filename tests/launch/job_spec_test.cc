// Job specs: YAML and JSON read alike, and every problem is reported with its field.
#include <gtest/gtest.h>

#include "launch/job_spec.h"
#include "spec_problems.h"

namespace loupe::launch {
namespace {

using nlohmann::json;

TEST(JobSpecTest, YamlTypesFollowTheCoreSchema) {
  Result<json> j = SpecFromText(
      "command: python3 train.py --lr 0.1\n"
      "workdir: /srv/code\n"
      "config:\n  lr: 0.001\n  epochs: 3\n  tag: '3'\n  on: true\n  none: ~\n"
      "resources: {cpus: 2, gpus: 1, gpu_type: H100}\n"
      "budget:\n  max_minutes: 90\n  max_cost: 2.5\n");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["config"]["lr"], 0.001);
  EXPECT_EQ((*j)["config"]["epochs"], 3);
  EXPECT_EQ((*j)["config"]["tag"], "3");  // quoted: a string
  EXPECT_EQ((*j)["config"]["on"], true);
  EXPECT_TRUE((*j)["config"]["none"].is_null());
  JobSpec spec;
  EXPECT_TRUE(ParseJobSpec(*j, spec).empty());
  EXPECT_EQ(spec.command, "python3 train.py --lr 0.1");
  EXPECT_EQ(spec.name, "python3 train.py --lr");  // the first three words
  EXPECT_EQ(spec.resources.cpus, 2);
  EXPECT_EQ(spec.resources.gpu_type, "H100");
  EXPECT_DOUBLE_EQ(spec.budget.max_minutes, 90);
  EXPECT_DOUBLE_EQ(spec.budget.max_cost, 2.5);
}

TEST(JobSpecTest, JsonAndYamlGiveTheSameSpec) {
  Result<json> a = SpecFromText(R"({"command": "sh run.sh", "workdir": "/w", "env": {"SEED": 7}})");
  Result<json> b = SpecFromText("command: sh run.sh\nworkdir: /w\nenv:\n  SEED: 7\n");
  ASSERT_TRUE(a.ok() && b.ok());
  JobSpec sa, sb;
  EXPECT_TRUE(ParseJobSpec(*a, sa).empty());
  EXPECT_TRUE(ParseJobSpec(*b, sb).empty());
  EXPECT_EQ(SpecToJson(sa), SpecToJson(sb));
  EXPECT_EQ(sa.env.at("SEED"), "7");
}

TEST(JobSpecTest, EveryProblemNamesItsField) {
  json body = {{"comand", "x"},
               {"workdir", "relative/dir"},
               {"env", {{"LOUPE_URL", "x"}, {"1BAD", "x"}, {"CUDA_VISIBLE_DEVICES", "0"}, {"OK", json::array()}}},
               {"resources", {{"cpus", 0}, {"gpus", 1.5}, {"disk", 3}}},
               {"budget", {{"max_minutes", -1}, {"max_cost", "5"}}},
               {"restart", {{"max_restarts", 101}, {"on", "preemption"}}},
               {"executor", "kubernetes"},
               {"stop_grace_seconds", 7200},
               {"config", "lr=1"},
               {"checkpoint", {{"every_hours", 1}}}};
  JobSpec spec;
  std::vector<std::string> fields = Fields(ParseJobSpec(body, spec));
  for (const char* f : {"comand", "command", "workdir", "env.LOUPE_URL", "env.1BAD", "env.CUDA_VISIBLE_DEVICES",
                        "env.OK", "resources.cpus", "resources.gpus", "resources.disk", "budget.max_minutes",
                        "budget.max_cost", "restart.max_restarts", "restart.on", "executor", "stop_grace_seconds",
                        "config", "checkpoint.every_hours"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), f), fields.end()) << f;
  }
  EXPECT_EQ(fields.size(), 18u) << ProblemsText(ParseJobSpec(body, spec));
}

TEST(JobSpecTest, CheckpointPolicy) {
  Result<json> j = SpecFromText(
      "command: x\nworkdir: /w\nbudget: {max_minutes: 30}\n"
      "checkpoint:\n  every_minutes: 10\n  every_steps: 500\n  keep_latest: 2\n"
      "  keep_best: {metric: val/loss, mode: min}\n  grace_seconds: 30\n");
  ASSERT_TRUE(j.ok());
  JobSpec spec;
  EXPECT_TRUE(ParseJobSpec(*j, spec).empty());
  EXPECT_TRUE(spec.checkpoint.set);
  EXPECT_DOUBLE_EQ(spec.checkpoint.every_minutes, 10);
  EXPECT_EQ(spec.checkpoint.every_steps, 500);
  EXPECT_EQ(spec.checkpoint.keep_latest, 2);
  EXPECT_EQ(spec.checkpoint.best_metric, "val/loss");
  EXPECT_FALSE(spec.checkpoint.best_max);
  JobSpec again;
  EXPECT_TRUE(ParseJobSpec(SpecToJson(spec), again).empty());  // stored and read back alike
  EXPECT_EQ(SpecToJson(again), SpecToJson(spec));
  // A budget shorter than one checkpoint interval would stop the job before its first one.
  std::vector<SpecProblem> p =
      ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"budget", {{"max_minutes", 5}}},
                    {"checkpoint", {{"every_minutes", 10}, {"keep_best", {{"mode", "best"}}}}}},
                   spec);
  std::vector<std::string> fields = Fields(p);
  EXPECT_EQ(fields, (std::vector<std::string>{"checkpoint.keep_best.metric", "checkpoint.keep_best.mode",
                                              "budget.max_minutes"}))
      << ProblemsText(p);
}

TEST(JobSpecTest, HostileTextIsRefusedNotExpandedOrRecursedInto) {
  // 150,000 levels of JSON inside the text: refused from one pass over it.
  Result<json> deep = SpecFromText("{\"config\": " + std::string(150000, '[') + std::string(150000, ']') + "}");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("32 levels"), std::string::npos);
  // "Billion laughs": nine levels of ten aliases each would be 10^9 values.
  std::string bomb = "a0: &a0 [x]\n";
  for (int i = 1; i <= 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  bomb += "config: {x: *a9}\n";
  Result<json> exploded = SpecFromText(bomb);
  ASSERT_FALSE(exploded.ok());
  EXPECT_NE(exploded.status().message().find("200,000 values"), std::string::npos);
  // A 30,000-digit number and one past a double's range stay text: refused as a wrong type.
  Result<json> digits = SpecFromText("command: x\nworkdir: /w\nname: " + std::string(30000, '1') +
                                     "\nstop_grace_seconds: 1e999\n");
  ASSERT_TRUE(digits.ok());
  JobSpec spec;
  std::vector<std::string> fields = Fields(ParseJobSpec(*digits, spec));
  EXPECT_EQ(fields, (std::vector<std::string>{"name", "stop_grace_seconds"}));
  // A YAML flow mapping, and a tagged string.
  Result<json> flow = SpecFromText("{command: sh run.sh, workdir: /w, name: !!str 123}");
  ASSERT_TRUE(flow.ok()) << flow.status().ToString();
  EXPECT_EQ((*flow)["name"], "123");
}

TEST(JobSpecTest, SlurmOptionsAreReadAndRunPodIsNotYetAvailable) {
  JobSpec spec;
  std::vector<SpecProblem> p = ParseJobSpec(
      {{"command", "x"}, {"workdir", "/w"}, {"executor", "slurm"},
       {"slurm", {{"partition", "gpu-a100"}, {"account", "lab_1"}, {"qos", "high"}, {"time_minutes", 90}, {"signal_seconds", 300}}}},
      spec);
  EXPECT_TRUE(p.empty()) << ProblemsText(p);
  EXPECT_EQ(spec.slurm.partition, "gpu-a100");
  EXPECT_EQ(spec.slurm.account, "lab_1");
  EXPECT_EQ(spec.slurm.qos, "high");
  EXPECT_EQ(spec.slurm.time_minutes, 90);
  EXPECT_EQ(spec.slurm.signal_seconds, 300);
  const json round = SpecToJson(spec);
  EXPECT_EQ(round["slurm"], json({{"partition", "gpu-a100"}, {"account", "lab_1"}, {"qos", "high"}, {"time_minutes", 90.0},
                                  {"signal_seconds", 300}}));
  JobSpec again;
  EXPECT_TRUE(ParseJobSpec(round, again).empty());
  EXPECT_EQ(again.slurm.partition, "gpu-a100");

  // Names go to sbatch as option values: nothing that could be an option of its own.
  p = ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"executor", "slurm"},
                    {"slurm", {{"partition", "--wrap=id"}, {"qos", "a b"}, {"time_minutes", 0}, {"colour", 1}}}},
                   spec);
  EXPECT_EQ(Fields(p), (std::vector<std::string>{"slurm.colour", "slurm.partition", "slurm.qos", "slurm.time_minutes"}));
  // sbatch reads these from its environment as options: only the spec's slurm section sets them.
  p = ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"executor", "slurm"},
                    {"env", {{"SBATCH_WAIT", "1"}, {"SLURM_CONF", "/x"}, {"SRUN_X", "1"}, {"OMP_NUM_THREADS", 4}}}},
                   spec);
  EXPECT_EQ(Fields(p), (std::vector<std::string>{"env.SBATCH_WAIT", "env.SLURM_CONF", "env.SRUN_X"}));
  EXPECT_TRUE(ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"env", {{"SLURM_CONF", "/x"}}}}, spec).empty());
  p = ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"slurm", {{"partition", "a"}}}}, spec);
  EXPECT_EQ(Fields(p), std::vector<std::string>{"slurm"});  // only for executor slurm
}

TEST(JobSpecTest, AnEnvValueCanNameASecret) {
  JobSpec spec;
  const json body = {{"command", "x"}, {"workdir", "/w"}, {"env", {{"HF_TOKEN", {{"secret", "hf-token"}}}, {"A", "1"}}}};
  ASSERT_TRUE(ParseJobSpec(body, spec).empty());
  EXPECT_EQ(spec.env_secrets, (std::map<std::string, std::string>{{"HF_TOKEN", "hf-token"}}));
  EXPECT_EQ(spec.env, (std::map<std::string, std::string>{{"A", "1"}}));
  EXPECT_EQ(SpecToJson(spec)["env"], json::parse(R"({"A": "1", "HF_TOKEN": {"secret": "hf-token"}})"));
  for (const json& bad : {json{{"secret", "../x"}}, json{{"secret", "x"}, {"also", 1}}, json::object(), json{{"secret", 3}}}) {
    auto p = ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"env", {{"T", bad}}}}, spec);
    EXPECT_EQ(Fields(p), std::vector<std::string>{"env.T"}) << bad.dump();
  }
}

TEST(JobSpecTest, RunPodSectionIsCheckedAndRoundTrips) {
  JobSpec spec;
  auto p = ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"executor", "runpod"}}, spec);
  // An image and a GPU type are what a pod cannot be made without.
  EXPECT_EQ(Fields(p), (std::vector<std::string>{"runpod.image", "resources.gpus"}));
  p = ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"executor", "runpod"}, {"resources", {{"gpus", 1}}},
                    {"runpod", {{"image", "img:1"}}}},
                   spec);
  EXPECT_EQ(Fields(p), std::vector<std::string>{"resources.gpu_type"});
  const json good = {{"command", "x"},
                     {"workdir", "/w"},
                     {"executor", "runpod"},
                     {"resources", {{"gpus", 2}, {"gpu_type", "NVIDIA GeForce RTX 4090"}}},
                     {"runpod",
                      {{"image", "runpod/pytorch:2.4.0-py3.11"},
                       {"cloud", "COMMUNITY"},
                       {"disk_gb", 80},
                       {"data_centers", {"EU-RO-1", "US-TX-3"}},
                       {"secret", "rp.key"}}}};
  ASSERT_TRUE(ParseJobSpec(good, spec).empty()) << ProblemsText(ParseJobSpec(good, spec));
  EXPECT_EQ(spec.runpod.image, "runpod/pytorch:2.4.0-py3.11");
  EXPECT_EQ(spec.runpod.cloud, "COMMUNITY");
  EXPECT_EQ(spec.runpod.disk_gb, 80);
  EXPECT_EQ(spec.runpod.data_centers, (std::vector<std::string>{"EU-RO-1", "US-TX-3"}));
  EXPECT_EQ(spec.runpod.secret, "rp.key");
  // What is stored reads back the same.
  JobSpec again;
  ASSERT_TRUE(ParseJobSpec(SpecToJson(spec), again).empty());
  EXPECT_EQ(SpecToJson(again), SpecToJson(spec));
  json bad = good;
  bad["runpod"] = {{"image", "img; rm -rf /"}, {"cloud", "cheap"}, {"disk_gb", 0}, {"data_centers", {"x y"}},
                   {"secret", "../k"}, {"gpu", 1}};
  bad["env"] = {{"RUNPOD_POD_ID", "x"}};
  p = ParseJobSpec(bad, spec);
  EXPECT_EQ(Fields(p), (std::vector<std::string>{"runpod.gpu", "runpod.image", "runpod.cloud", "runpod.disk_gb",
                                                 "runpod.data_centers", "runpod.secret", "env.RUNPOD_POD_ID"}));
  p = ParseJobSpec({{"command", "x"}, {"workdir", "/w"}, {"runpod", {{"image", "i"}}}}, spec);
  EXPECT_EQ(Fields(p), std::vector<std::string>{"runpod"});  // only for executor runpod
  json lower = good;
  lower["runpod"]["cloud"] = "community";  // RunPod's enum is upper case; this means it
  ASSERT_TRUE(ParseJobSpec(lower, spec).empty());
  EXPECT_EQ(spec.runpod.cloud, "COMMUNITY");
  EXPECT_EQ(spec.runpod.start_timeout_minutes, 20);
  json sized = good;
  sized["resources"]["cpus"] = 16;  // a pod's CPUs come with its GPU type
  EXPECT_EQ(Fields(ParseJobSpec(sized, spec)), std::vector<std::string>{"resources.cpus"});
}

TEST(JobSpecTest, BadTextIsRefusedWithWhere) {
  Result<json> bad = SpecFromText("command: [unclosed\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line "), std::string::npos) << bad.status().message();
  EXPECT_FALSE(SpecFromText("{\"command\": ").ok());
  EXPECT_FALSE(SpecFromText("- a\n- b\n").ok());  // not a mapping
  EXPECT_FALSE(SpecFromText("a: 1\na: 2\n").ok());  // a key twice
  std::string deep = "x: ";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  Result<json> d = SpecFromText(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("32 levels"), std::string::npos);
  EXPECT_EQ(SpecFromText(std::string(kMaxSpecBytes + 1, ' ')).status().code(), Code::kTooLarge);
}

}  // namespace
}  // namespace loupe::launch
