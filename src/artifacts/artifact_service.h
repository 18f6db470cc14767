// ArtifactService: logging and using versioned artifacts, and the model registry.
//
// An upload is three steps, each safe to repeat: ask which chunks the server lacks
// (MissingBlobs), send those (PutBlob: hashed and checked before it is kept), then commit
// the manifest (CommitVersion). The commit checks every chunk is stored with the size
// its file needs and every multi-chunk file hashes to what the manifest says, so a
// version never refers to bytes that are not there. Equal content of an artifact gives
// back the existing version. Unreferenced chunks (an upload abandoned before its
// commit, a deleted version) are swept at start-up. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "artifacts/blob_store.h"
#include "common/disk_guard.h"
#include "common/status.h"
#include "store/artifact_store.h"

namespace loupe::artifacts {

struct ArtifactOptions {
  std::string data_dir = "./data";
  uint64_t min_free_bytes = 256ull << 20;
  int64_t max_versions_per_artifact = 10000;
};

struct VersionDetail {
  ArtifactVersion version;
  std::vector<ArtifactFile> files;
  std::vector<RunRef> used_by;
  std::vector<std::pair<std::string, int64_t>> registered_as;  // model, version
};

class ArtifactService {
 public:
  ArtifactService(ArtifactStore& store, ArtifactOptions options);

  Result<std::vector<std::string>> MissingBlobs(const std::vector<std::string>& digests);
  Status PutBlob(const std::string& digest, std::string_view bytes);
  // The stored chunk's path (for downloads), NotFound when absent.
  Result<std::string> BlobPath(const std::string& digest);
  // Validates the request (names, aliases, paths, sizes, chunk lists), checks the blobs,
  // computes the digest and size, and stores the version. FailedPrecondition (409)
  // naming the missing chunks when some are not stored.
  Result<CreatedArtifactVersion> CommitVersion(NewArtifactVersion v);

  Result<std::vector<ArtifactSummary>> List() { return store_.ListArtifacts(); }
  Result<std::vector<ArtifactVersion>> Versions(const std::string& name);
  // "name:v3" / "name:latest" / "name:alias", or a name and a selector.
  Result<ArtifactVersion> Resolve(const std::string& name, const std::string& selector);
  Result<ArtifactVersion> Get(int64_t version_id) { return store_.GetArtifactVersion(version_id); }
  Result<VersionDetail> Detail(int64_t version_id);
  Result<std::vector<ArtifactFile>> Files(int64_t version_id) { return store_.ListArtifactFiles(version_id); }
  // A run used the version (lineage); returns the version's files for the download.
  Result<VersionDetail> Use(int64_t version_id, int64_t experiment_id);
  Status AddAlias(int64_t version_id, const std::string& alias);
  Status RemoveAlias(int64_t version_id, const std::string& alias);
  Status Delete(int64_t version_id) { return store_.DeleteArtifactVersion(version_id); }
  Result<RunArtifacts> OfRun(int64_t experiment_id) { return store_.ArtifactsOfRun(experiment_id); }
  // One file of a version / the whole version, as a file on disk to send.
  Result<std::string> FileForDownload(int64_t version_id, const std::string& path, ArtifactFile* file);
  Result<std::string> ZipForDownload(const ArtifactVersion& v);

  Result<ModelVersion> Register(const std::string& model, int64_t artifact_version_id, const std::string& description,
                                const std::vector<std::string>& aliases, const std::string& created_by);
  Result<std::vector<RegisteredModel>> Models() { return store_.ListModels(); }
  Result<RegisteredModel> Model(const std::string& name);
  Result<std::vector<ModelVersion>> ModelVersions(const std::string& name);
  Result<ModelVersion> ResolveModel(const std::string& name, const std::string& selector);
  Status SetModelAlias(const std::string& model, const std::string& alias, int64_t version);
  Status RemoveModelAlias(const std::string& model, const std::string& alias);
  Status DescribeModel(const std::string& model, const std::string& description);
  Status DeleteModelVersion(const std::string& model, int64_t version);

  // Start-up: removes unreferenced blobs and cached downloads; returns blobs removed.
  Result<int> Sweep();

 private:
  ArtifactStore& store_;
  ArtifactOptions options_;
  BlobStore blobs_;
  DiskGuard disk_;
};

}  // namespace loupe::artifacts
