// Storage mounts: the spec's mounts are read with a problem per field, kept as written, and
// turned into a bash script that bash accepts. Running it against S3 is launch_storage_test.py.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "launch/job_spec.h"
#include "launch/storage_mounts.h"
#include "spec_problems.h"

namespace loupe::launch {
namespace {

using nlohmann::json;

json Spec(json mounts) {
  return {{"command", "python3 train.py"}, {"workdir", "/srv/code"}, {"mounts", std::move(mounts)}};
}

TEST(StorageMountsTest, ReadsEveryField) {
  JobSpec spec;
  const auto problems = ParseJobSpec(
      Spec(json::array({{{"source", "s3://train-data/sets/v2/"}, {"path", "./data/"}},
                        {{"source", "s3://results"}, {"path", "out"}, {"write_back", true},
                         {"endpoint", "http://127.0.0.1:9000"}, {"region", "eu-west-1"}, {"secret", "minio"}},
                        {{"source", "s3://big.corpus/x"}, {"path", "corpus"}, {"mode", "mount"}}})),
      spec);
  ASSERT_TRUE(problems.empty()) << ProblemsText(problems);
  ASSERT_EQ(spec.mounts.size(), 3u);
  EXPECT_EQ(spec.mounts[0].bucket, "train-data");
  EXPECT_EQ(spec.mounts[0].prefix, "sets/v2");
  EXPECT_EQ(spec.mounts[0].source, "s3://train-data/sets/v2");
  EXPECT_EQ(spec.mounts[0].path, "data");
  EXPECT_EQ(spec.mounts[0].mode, "copy");
  EXPECT_FALSE(spec.mounts[0].write_back);
  EXPECT_EQ(spec.mounts[1].prefix, "");
  EXPECT_TRUE(spec.mounts[1].write_back);
  EXPECT_EQ(spec.mounts[1].endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(spec.mounts[1].secret, "minio");
  EXPECT_EQ(spec.mounts[2].mode, "mount");
  // Stored and read again, the spec is the same.
  JobSpec again;
  ASSERT_TRUE(ParseJobSpec(SpecToJson(spec), again).empty());
  EXPECT_EQ(MountsToJson(again.mounts), MountsToJson(spec.mounts));
  EXPECT_EQ(SpecToJson(spec)["mounts"][1],
            json({{"source", "s3://results"}, {"path", "out"}, {"mode", "copy"}, {"write_back", true},
                  {"endpoint", "http://127.0.0.1:9000"}, {"region", "eu-west-1"}, {"secret", "minio"}}));
}

TEST(StorageMountsTest, EveryProblemHasItsField) {
  JobSpec spec;
  const auto problems = ParseJobSpec(
      Spec(json::array({{{"source", "gs://bucket/x"}, {"path", "a"}},
                        {{"source", "s3://Bad_Bucket"}, {"path", "b"}},
                        {{"source", "s3://ok-bucket/../up"}, {"path", "c"}},
                        {{"source", "s3://ok-bucket"}, {"path", "../escape"}},
                        {{"source", "s3://ok-bucket"}, {"path", "/abs"}},
                        {{"source", "s3://ok-bucket"}, {"path", "d"}, {"mode", "sync"}},
                        {{"source", "s3://ok-bucket"}, {"path", "e"}, {"mode", "mount"}, {"write_back", true}},
                        {{"source", "s3://ok-bucket"}, {"path", "f"}, {"endpoint", "ftp://x"}},
                        {{"source", "s3://ok-bucket"}, {"path", "g"}, {"secret", "no spaces"}},
                        {{"source", "s3://ok-bucket"}, {"path", "h"}, {"colour", "red"}},
                        {{"path", "i"}},
                        {{"source", "s3://ok-bucket"}, {"path", "data"}},
                        {{"source", "s3://ok-bucket"}, {"path", "data/sub"}},
                        "s3://just-a-string"})),
      spec);
  EXPECT_EQ(Fields(problems),
            (std::vector<std::string>{"mounts[0].source", "mounts[1].source", "mounts[2].source", "mounts[3].path",
                                      "mounts[4].path", "mounts[5].mode", "mounts[6].write_back", "mounts[7].endpoint",
                                      "mounts[8].secret", "mounts[9].colour", "mounts[10].source",
                                      "mounts[12].path", "mounts[13]"}))
      << ProblemsText(problems);
  EXPECT_NE(ProblemsText(problems).find("overlaps mounts[11].path 'data'"), std::string::npos);

  // The same S3 folder twice, or one inside the other, with a write-back: refused.
  for (const auto& [a, b] : {std::pair<std::string, std::string>{"s3://out/run", "s3://out/run/"},
                             {"s3://out/run", "s3://out/run/sub"},
                             {"s3://out", "s3://out/run"}}) {
    const auto twice = ParseJobSpec(Spec(json::array({{{"source", a}, {"path", "a"}, {"write_back", true}},
                                                      {{"source", b}, {"path", "b"}}})),
                                    spec);
    EXPECT_EQ(Fields(twice), std::vector<std::string>{"mounts[1].source"}) << a << " " << b;
  }
  // Read-only twice, or another bucket, endpoint or a sibling folder: fine.
  EXPECT_TRUE(ParseJobSpec(Spec(json::array({{{"source", "s3://out/run"}, {"path", "a"}},
                                             {{"source", "s3://out/run"}, {"path", "b"}, {"mode", "mount"}},
                                             {{"source", "s3://out/runs"}, {"path", "c"}, {"write_back", true}},
                                             {{"source", "s3://out/run"}, {"path", "d"}, {"write_back", true},
                                              {"endpoint", "http://127.0.0.1:9000"}}})),
                           spec)
                  .empty());

  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back({{"source", "s3://bucket"}, {"path", "p" + std::to_string(i)}});
  EXPECT_EQ(Fields(ParseJobSpec(Spec(many), spec)), std::vector<std::string>{"mounts"});
  EXPECT_EQ(Fields(ParseJobSpec(Spec("s3://x"), spec)), std::vector<std::string>{"mounts"});
}

TEST(StorageMountsTest, CredentialsAreTwoPartsJoinedByAColon) {
  Result<std::pair<std::string, std::string>> ok = SplitS3Credentials("AKIAEXAMPLE:wJalr/K7MDENG+bPxRfiCY");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "AKIAEXAMPLE");
  EXPECT_EQ(ok->second, "wJalr/K7MDENG+bPxRfiCY");
  for (const char* bad : {"", "no-colon", ":secret", "key:", "key:sec\nret"}) {
    EXPECT_FALSE(SplitS3Credentials(bad).ok()) << bad;
  }
}

// bash -n: the script parses, whatever the command and paths hold.
TEST(StorageMountsTest, TheScriptIsValidBash) {
  JobSpec spec;
  ASSERT_TRUE(ParseJobSpec(Spec(json::array({{{"source", "s3://train-data/it's here"}, {"path", "da ta/$(x)"}},
                                             {{"source", "s3://results/run1"}, {"path", "-out"}, {"write_back", true},
                                              {"secret", "minio"}, {"endpoint", "http://127.0.0.1:9000"}},
                                             {{"source", "s3://corpus"}, {"path", "corpus"}, {"mode", "mount"}}})),
                           spec)
                  .empty());
  spec.command = "python3 -c 'print(\"$HOME\")' && echo \"done\"";
  const std::string script = StorageScript(spec, 7);
  const std::string path = ::testing::TempDir() + "/storage_test.sh";
  std::ofstream(path) << script;
  EXPECT_EQ(std::system(("bash -n " + path).c_str()), 0) << script;
  std::remove(path.c_str());
  // The command, paths and sources go in quoted; credentials only by variable.
  EXPECT_NE(script.find("'python3 -c '\\''print(\"$HOME\")'\\'' && echo \"done\"'"), std::string::npos);
  EXPECT_NE(script.find("copy_in 0 'loupe0:train-data/it'\\''s here' 's3://train-data/it'\\''s here' 'da ta/$(x)'"),
            std::string::npos);
  EXPECT_NE(script.find("mount_ro 2 'loupe2:corpus'"), std::string::npos);
  EXPECT_NE(script.find("copy_out 1 'loupe1:results/run1' 's3://results/run1' '-out'"), std::string::npos);
  EXPECT_NE(script.find("RCLONE_CONFIG_LOUPE1_ENDPOINT='http://127.0.0.1:9000'"), std::string::npos);
  EXPECT_NE(script.find("RCLONE_CONFIG_LOUPE0_ENV_AUTH=true"), std::string::npos);  // no secret: the machine's own
  EXPECT_NE(script.find("unset LOUPE_MOUNT_1_ACCESS_KEY_ID LOUPE_MOUNT_1_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(MountKeyVariable(1), "LOUPE_MOUNT_1_ACCESS_KEY_ID");
  EXPECT_EQ(MountSecretVariable(1), "LOUPE_MOUNT_1_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace loupe::launch
