// Artifacts: the rules, the blob store, and the service over a real SQLite store
// (versions, dedup, aliases, lineage, the registry, the start-up sweep).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "artifacts/artifact_rules.h"
#include "artifacts/artifact_service.h"
#include "common/temp_dir.h"
#include "common/test_store.h"
#include "ui/page.h"

namespace loupe::artifacts {
namespace {

constexpr const char* kHelloSha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";  // "hello"

TEST(ArtifactRules, NamesAliasesAndPaths) {
  EXPECT_TRUE(ValidateName("mnist-cnn_v2.1", "artifact name").ok());
  for (const char* bad : {"", "-lead", ".hidden", "a/b", "a:b", "sp ace", "é"}) {
    EXPECT_FALSE(ValidateName(bad, "artifact name").ok()) << bad;
  }
  EXPECT_FALSE(ValidateName(std::string(129, 'a'), "artifact name").ok());
  EXPECT_TRUE(ValidateAlias("production").ok());
  EXPECT_FALSE(ValidateAlias("latest").ok());
  EXPECT_FALSE(ValidateAlias("v3").ok());
  EXPECT_TRUE(ValidateAlias("v3a").ok());
  EXPECT_TRUE(ValidateFilePath("model/weights.bin").ok());
  EXPECT_TRUE(ValidateFilePath("données/ü.txt").ok());
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a/", "a\\b", "tab\there"}) {
    EXPECT_FALSE(ValidateFilePath(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateFilePath("\xff\xfe").ok());
  EXPECT_FALSE(ValidateFilePath(std::string(1025, 'a')).ok());
}

TEST(ArtifactRules, RefsChunksAndDigests) {
  Result<Ref> r = ParseRef("ds", "artifact name");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->selector, "latest");
  r = ParseRef("ds:v12", "artifact name");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->selector, "v12");
  EXPECT_EQ(ParseRef("ds:prod", "artifact name")->selector, "prod");
  EXPECT_FALSE(ParseRef("ds:", "artifact name").ok());
  EXPECT_FALSE(ParseRef("ds:a b", "artifact name").ok());
  EXPECT_FALSE(ParseRef("ds:v99999999999999", "artifact name").ok());
  EXPECT_EQ(ChunkCount(0), 1);
  EXPECT_EQ(ChunkCount(1), 1);
  EXPECT_EQ(ChunkCount(kChunkBytes), 1);
  EXPECT_EQ(ChunkCount(kChunkBytes + 1), 2);
  EXPECT_EQ(Sha256Hex("hello"), kHelloSha);
  // The digest is of the manifest's lines, so a known manifest has a known digest.
  std::vector<ArtifactFile> files = {{"a.txt", 5, kHelloSha, {kHelloSha}}};
  EXPECT_EQ(ManifestDigest(files), Sha256Hex(std::string("a.txt\t5\t") + kHelloSha + "\n"));
}

TEST(PageFormat, BytesWithKnownValues) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.0 KiB");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(10 * 1024), "10 KiB");
  EXPECT_EQ(FormatBytes(40000008), "38 MiB");
  EXPECT_EQ(FormatBytes(1048575), "1.0 MiB");  // 1023.999 KiB rounds to the next unit
  EXPECT_EQ(FormatBytes(int64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(FormatBytes(-1), "—");
}

class ArtifactServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenTestStore(dir_.path());
    ArtifactOptions o;
    o.data_dir = dir_.path();
    o.min_free_bytes = 0;
    service_ = std::make_unique<ArtifactService>(*store_, o);
  }

  // A version of one file holding `text`, its blob uploaded first.
  Result<CreatedArtifactVersion> Log(const std::string& name, const std::string& text,
                                     std::optional<int64_t> run = std::nullopt, std::vector<std::string> aliases = {}) {
    const std::string sha = Sha256Hex(text);
    EXPECT_TRUE(service_->PutBlob(sha, text).ok());
    NewArtifactVersion v;
    v.name = name;
    v.type = "dataset";
    v.files = {{"data.txt", static_cast<int64_t>(text.size()), sha, {sha}}};
    v.experiment_id = run;
    v.aliases = std::move(aliases);
    return service_->CommitVersion(v);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ArtifactService> service_;
};

TEST_F(ArtifactServiceTest, BlobsAreCheckedBeforeTheyAreKept) {
  EXPECT_EQ(service_->PutBlob(kHelloSha, "hellO").code(), Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/artifacts/blobs/2c/" + kHelloSha));
  EXPECT_TRUE(service_->PutBlob(kHelloSha, "hello").ok());
  EXPECT_TRUE(service_->PutBlob(kHelloSha, "hello").ok());  // idempotent
  auto missing = service_->MissingBlobs({kHelloSha, Sha256Hex("other")});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::vector<std::string>{Sha256Hex("other")});
  EXPECT_FALSE(service_->MissingBlobs({"ABC"}).ok());
}

TEST_F(ArtifactServiceTest, VersionsDedupAliasesAndNumbersNeverReused) {
  const int64_t run = NewTestRun(*store_);
  auto v0 = Log("ds", "one", run, {"best"});
  ASSERT_TRUE(v0.ok()) << v0.status().ToString();
  EXPECT_TRUE(v0->created);
  EXPECT_EQ(v0->version.version, 0);
  EXPECT_EQ(v0->version.aliases, (std::vector<std::string>{"latest", "best"}));
  auto again = Log("ds", "one");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version.id, v0->version.id);
  auto v1 = Log("ds", "two", std::nullopt, {"best"});  // the alias moves
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->version.version, 1);
  EXPECT_EQ(service_->Resolve("ds", "best")->version, 1);
  EXPECT_EQ(service_->Resolve("ds", "latest")->version, 1);
  EXPECT_EQ(service_->Resolve("ds", "v0")->aliases, std::vector<std::string>{});
  EXPECT_EQ(service_->Resolve("ds", "v7").status().code(), Code::kNotFound);
  ASSERT_TRUE(service_->Delete(v1->version.id).ok());
  auto v2 = Log("ds", "three");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version.version, 2);  // v1 is not given out again
  EXPECT_GT(v2->version.id, v1->version.id);  // nor the deleted version's id
  // Every version deleted: the name keeps its numbers (and its type).
  ASSERT_TRUE(service_->Delete(v0->version.id).ok());
  ASSERT_TRUE(service_->Delete(v2->version.id).ok());
  EXPECT_TRUE(service_->Versions("ds")->empty());
  EXPECT_EQ(Log("ds", "four")->version.version, 3);
  // Another type under the same name is refused.
  NewArtifactVersion other;
  other.name = "ds";
  other.type = "model";
  other.files = {{"data.txt", 3, Sha256Hex("one"), {Sha256Hex("one")}}};
  EXPECT_EQ(service_->CommitVersion(other).status().code(), Code::kConflict);
}

TEST_F(ArtifactServiceTest, CommitRefusesMissingOrWrongChunks) {
  NewArtifactVersion v;
  v.name = "m";
  v.type = "model";
  const std::string sha = Sha256Hex("abc");
  v.files = {{"w.bin", 3, sha, {sha}}};
  auto r = service_->CommitVersion(v);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_NE(r.status().message().find(sha), std::string::npos);
  ASSERT_TRUE(service_->PutBlob(sha, "abc").ok());
  v.files[0].size = 4;  // the blob holds 3 bytes
  EXPECT_EQ(service_->CommitVersion(v).status().code(), Code::kInvalidArgument);
  v.files[0].size = 3;
  v.files.push_back(v.files[0]);  // the same path twice
  EXPECT_EQ(service_->CommitVersion(v).status().code(), Code::kInvalidArgument);
  v.files.pop_back();
  v.files[0].path = "../w.bin";
  EXPECT_EQ(service_->CommitVersion(v).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(service_->List()->empty());
}

TEST_F(ArtifactServiceTest, MultiChunkFilesAreHashedWhole) {
  std::string big(kChunkBytes + 10, 'x');
  big[5] = 'y';
  const std::string first(big.substr(0, kChunkBytes)), rest(big.substr(kChunkBytes));
  ASSERT_TRUE(service_->PutBlob(Sha256Hex(first), first).ok());
  ASSERT_TRUE(service_->PutBlob(Sha256Hex(rest), rest).ok());
  NewArtifactVersion v;
  v.name = "big";
  v.type = "model";
  v.files = {{"w.bin", static_cast<int64_t>(big.size()), Sha256Hex("not it"), {Sha256Hex(first), Sha256Hex(rest)}}};
  EXPECT_EQ(service_->CommitVersion(v).status().code(), Code::kInvalidArgument);
  v.files[0].sha256 = Sha256Hex(big);
  auto c = service_->CommitVersion(v);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->version.size, static_cast<int64_t>(big.size()));
  ArtifactFile f;
  auto path = service_->FileForDownload(c->version.id, "w.bin", &f);
  ASSERT_TRUE(path.ok());
  std::ifstream in(*path, std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(back == big);
}

TEST_F(ArtifactServiceTest, LineageSurvivesADeletedRun) {
  const int64_t producer = NewTestRun(*store_, "producer");
  const int64_t consumer = NewTestRun(*store_, "consumer");
  auto v = Log("ds", "data", producer);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(service_->Use(v->version.id, consumer).ok());
  ASSERT_TRUE(service_->Use(v->version.id, consumer).ok());  // once per run
  auto d = service_->Detail(v->version.id);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->used_by.size(), 1u);
  EXPECT_EQ(d->used_by[0].id, consumer);
  EXPECT_EQ(service_->OfRun(consumer)->used.size(), 1u);
  EXPECT_EQ(service_->OfRun(producer)->produced.size(), 1u);
  EXPECT_EQ(service_->Use(v->version.id, 9999).status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteExperiment(producer).ok());
  ASSERT_TRUE(store_->DeleteExperiment(consumer).ok());
  auto after = service_->Detail(v->version.id);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->version.produced_by.has_value());
  EXPECT_EQ(after->version.produced_by->id, producer);
  EXPECT_EQ(after->version.produced_by->project_id, 0);  // deleted
  EXPECT_TRUE(after->used_by.empty());
  EXPECT_EQ(after->files.size(), 1u);
}

TEST_F(ArtifactServiceTest, RegistryVersionsAliasesAndProtection) {
  auto a = Log("clf", "weights-1");
  auto b = Log("clf", "weights-2");
  ASSERT_TRUE(a.ok() && b.ok());
  auto m0 = service_->Register("classifier", a->version.id, "first", {"staging"}, "alice");
  ASSERT_TRUE(m0.ok()) << m0.status().ToString();
  EXPECT_EQ(m0->version, 0);
  EXPECT_EQ(service_->Register("classifier", a->version.id, "", {}, "alice")->version, 0);  // same artifact
  auto m1 = service_->Register("classifier", b->version.id, "", {"staging"}, "bob");
  ASSERT_TRUE(m1.ok());
  EXPECT_EQ(m1->version, 1);
  ASSERT_TRUE(service_->SetModelAlias("classifier", "production", 0).ok());
  EXPECT_EQ(service_->ResolveModel("classifier", "production")->artifact.id, a->version.id);
  EXPECT_EQ(service_->ResolveModel("classifier", "staging")->version, 1);
  EXPECT_EQ(service_->ResolveModel("classifier", "latest")->version, 1);
  EXPECT_EQ(service_->SetModelAlias("classifier", "production", 5).code(), Code::kNotFound);
  EXPECT_EQ(service_->SetModelAlias("classifier", "latest", 0).code(), Code::kInvalidArgument);
  auto model = service_->Model("classifier");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->version_count, 2);
  EXPECT_EQ(model->aliases, (std::vector<std::pair<std::string, int64_t>>{{"production", 0}, {"staging", 1}}));
  // A registered artifact version cannot be deleted from under the registry.
  EXPECT_EQ(service_->Delete(a->version.id).code(), Code::kConflict);
  ASSERT_TRUE(service_->DeleteModelVersion("classifier", 0).ok());
  EXPECT_EQ(service_->ResolveModel("classifier", "production").status().code(), Code::kNotFound);
  EXPECT_TRUE(service_->Delete(a->version.id).ok());
  auto next = service_->Register("classifier", a->version.id, "", {}, "x");
  EXPECT_EQ(next.status().code(), Code::kNotFound);
  // The last version deleted, the model stays and its numbers go on.
  ASSERT_TRUE(service_->DeleteModelVersion("classifier", 1).ok());
  EXPECT_EQ(service_->Model("classifier")->version_count, 0);
  EXPECT_EQ(service_->Register("classifier", b->version.id, "", {}, "x")->version, 2);
}

TEST_F(ArtifactServiceTest, SweepKeepsReferencedBlobsOnly) {
  ASSERT_TRUE(Log("ds", "kept").ok());
  ASSERT_TRUE(service_->PutBlob(Sha256Hex("orphan"), "orphan").ok());
  auto swept = service_->Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 1);
  EXPECT_TRUE(service_->BlobPath(Sha256Hex("kept")).ok());
  EXPECT_FALSE(service_->BlobPath(Sha256Hex("orphan")).ok());
}

}  // namespace
}  // namespace loupe::artifacts
