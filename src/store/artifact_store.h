// ArtifactStore: versioned artifacts (files and folders a run logs: datasets, checkpoints,
// models) and the model registry built on them. The bytes live in the content-addressed
// blob store (artifacts/blob_store.h); these tables hold manifests, aliases and lineage.
// Experiments are referred to by id without a foreign key: deleting a run keeps the
// artifacts it produced (they are data), and lineage then names a deleted run.
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe {

struct ArtifactFile {
  std::string path;  // relative, '/'-separated, validated (artifacts/artifact_rules.h)
  int64_t size = 0;
  std::string sha256;               // of the whole file, lower-case hex
  std::vector<std::string> chunks;  // blob digests, in order (one per 16 MiB)
};

struct RunRef {
  int64_t id = 0;
  std::string name;        // empty when the run was deleted
  int64_t project_id = 0;  // 0 when the run was deleted
  int64_t time = 0;        // when it produced or used the artifact
};

struct ArtifactVersion {
  int64_t id = 0;
  int64_t artifact_id = 0;
  std::string name;
  std::string type;
  int64_t version = 0;  // v0, v1, ... in order of creation
  std::string digest;   // of the manifest (artifacts/artifact_rules.h ManifestDigest)
  int64_t size = 0;
  int64_t file_count = 0;
  std::string description;
  std::string metadata_json = "{}";
  std::vector<std::string> aliases;  // "latest" included for the newest version
  std::optional<RunRef> produced_by;
  int64_t create_time = 0;
  std::string created_by;
};

struct ArtifactSummary {
  int64_t id = 0;
  std::string name;
  std::string type;
  int64_t version_count = 0;
  int64_t latest_version = 0;
  int64_t latest_size = 0;
  int64_t update_time = 0;  // the newest version's creation
};

struct NewArtifactVersion {
  std::string name;
  std::string type;
  std::string description;
  std::string metadata_json = "{}";
  std::vector<std::string> aliases;  // validated; "latest" is implicit and never stored
  std::optional<int64_t> experiment_id;
  std::vector<ArtifactFile> files;  // sorted by path, unique
  std::string digest;
  int64_t size = 0;
  int64_t time = 0;
  std::string created_by;
};

struct CreatedArtifactVersion {
  ArtifactVersion version;
  bool created = false;  // false: a version with the same content existed and is returned
};

struct RegisteredModel {
  int64_t id = 0;
  std::string name;
  std::string description;
  int64_t version_count = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
  std::vector<std::pair<std::string, int64_t>> aliases;  // alias -> model version
};

struct ModelVersion {
  int64_t id = 0;
  std::string model;
  int64_t version = 0;  // v0, v1, ...
  std::string description;
  std::vector<std::string> aliases;
  ArtifactVersion artifact;
  int64_t create_time = 0;
  std::string created_by;
};

struct RunArtifacts {
  std::vector<ArtifactVersion> produced;
  std::vector<ArtifactVersion> used;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // Creates the artifact on its first version. When a version of `name` with the same
  // digest exists (for type "checkpoint": and the same metadata, so a step of its own is a
  // version of its own), returns it (created=false) with the new aliases added. Refused
  // (Conflict) when `name` exists with another type; TooLarge past `max_versions` of one
  // artifact. An alias moves from whichever version held it.
  virtual Result<CreatedArtifactVersion> CreateArtifactVersion(const NewArtifactVersion& v, int64_t max_versions) = 0;
  virtual Result<std::vector<ArtifactSummary>> ListArtifacts() = 0;
  virtual Result<std::vector<ArtifactVersion>> ListArtifactVersions(const std::string& name) = 0;
  virtual Result<ArtifactVersion> GetArtifactVersion(int64_t id) = 0;
  // `selector`: "latest", "v<N>", or an alias.
  virtual Result<ArtifactVersion> ResolveArtifactVersion(const std::string& name, const std::string& selector) = 0;
  virtual Result<std::vector<ArtifactFile>> ListArtifactFiles(int64_t version_id) = 0;
  virtual Status AddArtifactAlias(int64_t version_id, const std::string& alias) = 0;
  virtual Status RemoveArtifactAlias(int64_t version_id, const std::string& alias) = 0;
  // Records that a run used the version (idempotent per run and version).
  virtual Status RecordArtifactUse(int64_t version_id, int64_t experiment_id, int64_t time) = 0;
  virtual Result<std::vector<RunRef>> ArtifactVersionUsers(int64_t version_id) = 0;
  virtual Result<RunArtifacts> ArtifactsOfRun(int64_t experiment_id) = 0;
  // Refused (Conflict) while a registered model version points at it. The artifact stays
  // (listed only while it has versions), so its version numbers are never given out again.
  virtual Status DeleteArtifactVersion(int64_t version_id) = 0;
  // Every chunk digest a stored file refers to (the blob sweep keeps these).
  virtual Result<std::vector<std::string>> ReferencedChunks() = 0;

  // Registers an artifact version under `model` (created on its first version) as its
  // next version; aliases move to it. Registering the same artifact version twice
  // returns the existing model version.
  virtual Result<ModelVersion> RegisterModelVersion(const std::string& model, int64_t artifact_version_id,
                                                    const std::string& description,
                                                    const std::vector<std::string>& aliases, int64_t time,
                                                    const std::string& created_by) = 0;
  virtual Result<std::vector<RegisteredModel>> ListModels() = 0;
  virtual Result<RegisteredModel> GetModel(const std::string& name) = 0;
  virtual Result<std::vector<ModelVersion>> ListModelVersions(const std::string& model) = 0;
  // `selector`: "latest", "v<N>", or an alias.
  virtual Result<ModelVersion> ResolveModelVersion(const std::string& model, const std::string& selector) = 0;
  virtual Status SetModelAlias(const std::string& model, const std::string& alias, int64_t version, int64_t time) = 0;
  virtual Status RemoveModelAlias(const std::string& model, const std::string& alias) = 0;
  virtual Status UpdateModelDescription(const std::string& model, const std::string& description, int64_t time) = 0;
  // Removes the model version and its aliases; the model stays, so numbers are not reused.
  virtual Status DeleteModelVersion(const std::string& model, int64_t version) = 0;
  // The registered model versions of an artifact version ("model:vN").
  virtual Result<std::vector<std::pair<std::string, int64_t>>> RegistrationsOf(int64_t artifact_version_id) = 0;
};

}  // namespace loupe
