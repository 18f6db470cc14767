#include "artifacts/artifact_service.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "artifacts/artifact_rules.h"
#include "common/time_util.h"

namespace loupe::artifacts {

namespace {

Status ValidateAliases(const std::vector<std::string>& aliases) {
  if (aliases.size() > kMaxAliases) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxAliases) + " aliases at once; got " +
                                   std::to_string(aliases.size()));
  }
  for (const std::string& a : aliases) LOUPE_RETURN_IF_ERROR(ValidateAlias(a));
  return Status::Ok();
}

Status ValidateDescription(const std::string& d) {
  if (d.size() > kMaxDescriptionBytes) {
    return Status::InvalidArgument("the description is longer than " + std::to_string(kMaxDescriptionBytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

ArtifactService::ArtifactService(ArtifactStore& store, ArtifactOptions options)
    : store_(store),
      options_(std::move(options)),
      blobs_(options_.data_dir + "/artifacts"),
      disk_(options_.data_dir, options_.min_free_bytes) {}

Result<std::vector<std::string>> ArtifactService::MissingBlobs(const std::vector<std::string>& digests) {
  if (digests.size() > kMaxDigestsPerQuery) {
    return Status::InvalidArgument("ask about at most " + std::to_string(kMaxDigestsPerQuery) +
                                   " blobs at once; got " + std::to_string(digests.size()));
  }
  std::vector<std::string> missing;
  std::unordered_set<std::string> seen;
  for (const std::string& d : digests) {
    if (!IsDigest(d)) return Status::InvalidArgument("'" + d.substr(0, 80) + "' is not a lower-case hex SHA-256");
    if (seen.insert(d).second && !blobs_.Has(d)) missing.push_back(d);
  }
  return missing;
}

Status ArtifactService::PutBlob(const std::string& digest, std::string_view bytes) {
  if (!IsDigest(digest)) return Status::InvalidArgument("a blob is named by its SHA-256 in lower-case hex");
  LOUPE_RETURN_IF_ERROR(disk_.CheckRoomForNewData());
  return blobs_.Put(digest, bytes);
}

Result<std::string> ArtifactService::BlobPath(const std::string& digest) {
  if (!IsDigest(digest)) return Status::InvalidArgument("a blob is named by its SHA-256 in lower-case hex");
  if (!blobs_.Has(digest)) return Status::NotFound("blob " + digest + " is not stored");
  return blobs_.PathOf(digest);
}

Result<CreatedArtifactVersion> ArtifactService::CommitVersion(NewArtifactVersion v) {
  LOUPE_RETURN_IF_ERROR(ValidateName(v.name, "artifact name"));
  LOUPE_RETURN_IF_ERROR(ValidateType(v.type));
  LOUPE_RETURN_IF_ERROR(ValidateAliases(v.aliases));
  LOUPE_RETURN_IF_ERROR(ValidateDescription(v.description));
  if (v.metadata_json.size() > kMaxMetadataBytes) {
    return Status::InvalidArgument("metadata is larger than " + std::to_string(kMaxMetadataBytes) + " bytes of JSON");
  }
  if (v.files.empty()) return Status::InvalidArgument("an artifact version needs at least one file");
  if (v.files.size() > kMaxFilesPerVersion) {
    return Status::InvalidArgument("an artifact version holds at most " + std::to_string(kMaxFilesPerVersion) +
                                   " files; got " + std::to_string(v.files.size()) + " (archive a folder of many small files)");
  }
  std::sort(v.files.begin(), v.files.end(), [](const ArtifactFile& a, const ArtifactFile& b) { return a.path < b.path; });
  int64_t total = 0;
  for (size_t i = 0; i < v.files.size(); ++i) {
    const ArtifactFile& f = v.files[i];
    LOUPE_RETURN_IF_ERROR(ValidateFilePath(f.path));
    if (i > 0 && v.files[i - 1].path == f.path) {
      return Status::InvalidArgument("file path '" + f.path + "' is listed twice");
    }
    if (f.size < 0 || f.size > kMaxArtifactBytes) {
      return Status::InvalidArgument("file '" + f.path + "' has an invalid size " + std::to_string(f.size));
    }
    if (!IsDigest(f.sha256)) {
      return Status::InvalidArgument("file '" + f.path + "': sha256 must be a lower-case hex SHA-256");
    }
    if (static_cast<int64_t>(f.chunks.size()) != ChunkCount(f.size)) {
      return Status::InvalidArgument("file '" + f.path + "' of " + std::to_string(f.size) + " bytes must have " +
                                     std::to_string(ChunkCount(f.size)) + " chunks of " + std::to_string(kChunkBytes) +
                                     " bytes (the last shorter); got " + std::to_string(f.chunks.size()));
    }
    for (const std::string& c : f.chunks) {
      if (!IsDigest(c)) return Status::InvalidArgument("file '" + f.path + "': a chunk is not a lower-case hex SHA-256");
    }
    if (f.chunks.size() == 1 && f.chunks[0] != f.sha256) {
      return Status::InvalidArgument("file '" + f.path + "' has one chunk, whose digest must be the file's sha256");
    }
    total += f.size;
    if (total > kMaxArtifactBytes) return Status::InvalidArgument("an artifact version holds at most 1 TiB");
  }
  // A path cannot be a file and a folder at once ("a" and "a/b"): no disk could hold both.
  std::set<std::string_view> paths;
  for (const ArtifactFile& f : v.files) paths.insert(f.path);
  for (const ArtifactFile& f : v.files) {
    for (size_t slash = f.path.find('/'); slash != std::string::npos; slash = f.path.find('/', slash + 1)) {
      if (paths.count(std::string_view(f.path).substr(0, slash))) {
        return Status::InvalidArgument("'" + f.path.substr(0, slash) + "' is both a file and the folder of '" + f.path +
                                       "'");
      }
    }
  }
  // Every chunk stored, with the size its place in the file needs.
  std::vector<std::string> missing;
  std::unordered_set<std::string> missing_set;  // a manifest may name 100,000 chunks
  auto note_missing = [&](const std::string& c) {
    if (missing_set.insert(c).second) missing.push_back(c);
  };
  for (const ArtifactFile& f : v.files) {
    for (size_t k = 0; k < f.chunks.size(); ++k) {
      Result<int64_t> size = blobs_.Size(f.chunks[k]);
      if (!size.ok()) {
        note_missing(f.chunks[k]);
        continue;
      }
      const int64_t want = k + 1 < f.chunks.size() ? kChunkBytes : f.size - kChunkBytes * static_cast<int64_t>(k);
      if (*size != want) {
        // A stored chunk that no longer hashes to its name was damaged on disk: removed, it
        // is missing, and the client sends it again.
        if (missing_set.count(f.chunks[k]) || blobs_.RemoveIfDamaged(f.chunks[k])) {
          note_missing(f.chunks[k]);
          continue;
        }
        return Status::InvalidArgument("file '" + f.path + "': chunk " + std::to_string(k) + " holds " +
                                       std::to_string(*size) + " bytes where the file's size needs " + std::to_string(want));
      }
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i) list += (i ? ", " : "") + missing[i];
    return Status::Conflict(std::to_string(missing.size()) + " chunk(s) of this version are not stored yet: " + list +
                            (missing.size() > 20 ? ", …" : "") + "; upload them, then commit again");
  }
  for (const ArtifactFile& f : v.files) {
    if (f.chunks.size() < 2) continue;
    LOUPE_ASSIGN_OR_RETURN(std::string actual, blobs_.HashOfChunks(f.chunks));
    if (actual != f.sha256) {
      return Status::InvalidArgument("file '" + f.path + "': its chunks hash to " + actual + ", not the sha256 given (" +
                                     f.sha256 + ")");
    }
  }
  v.digest = ManifestDigest(v.files);
  v.size = total;
  v.time = NowMicros();
  return store_.CreateArtifactVersion(v, options_.max_versions_per_artifact);
}

Result<std::vector<ArtifactVersion>> ArtifactService::Versions(const std::string& name) {
  LOUPE_RETURN_IF_ERROR(ValidateName(name, "artifact name"));
  return store_.ListArtifactVersions(name);
}

Result<ArtifactVersion> ArtifactService::Resolve(const std::string& name, const std::string& selector) {
  LOUPE_ASSIGN_OR_RETURN(Ref ref, ParseRef(name + ":" + selector, "artifact name"));
  return store_.ResolveArtifactVersion(ref.name, ref.selector);
}

Result<VersionDetail> ArtifactService::Detail(int64_t version_id) {
  VersionDetail d;
  LOUPE_ASSIGN_OR_RETURN(d.version, store_.GetArtifactVersion(version_id));
  LOUPE_ASSIGN_OR_RETURN(d.files, store_.ListArtifactFiles(version_id));
  LOUPE_ASSIGN_OR_RETURN(d.used_by, store_.ArtifactVersionUsers(version_id));
  LOUPE_ASSIGN_OR_RETURN(d.registered_as, store_.RegistrationsOf(version_id));
  return d;
}

Result<VersionDetail> ArtifactService::Use(int64_t version_id, int64_t experiment_id) {
  LOUPE_RETURN_IF_ERROR(store_.RecordArtifactUse(version_id, experiment_id, NowMicros()));
  return Detail(version_id);
}

Status ArtifactService::AddAlias(int64_t version_id, const std::string& alias) {
  LOUPE_RETURN_IF_ERROR(ValidateAlias(alias));
  return store_.AddArtifactAlias(version_id, alias);
}

Status ArtifactService::RemoveAlias(int64_t version_id, const std::string& alias) {
  LOUPE_RETURN_IF_ERROR(ValidateAlias(alias));
  return store_.RemoveArtifactAlias(version_id, alias);
}

Result<std::string> ArtifactService::FileForDownload(int64_t version_id, const std::string& path, ArtifactFile* file) {
  LOUPE_RETURN_IF_ERROR(ValidateFilePath(path));
  LOUPE_ASSIGN_OR_RETURN(std::vector<ArtifactFile> files, store_.ListArtifactFiles(version_id));
  auto it = std::find_if(files.begin(), files.end(), [&](const ArtifactFile& f) { return f.path == path; });
  if (it == files.end()) {
    LOUPE_RETURN_IF_ERROR(store_.GetArtifactVersion(version_id).status());
    return Status::NotFound("artifact version " + std::to_string(version_id) + " has no file '" + path + "'");
  }
  if (file) *file = *it;
  return blobs_.WholeFile(*it);
}

Result<std::string> ArtifactService::ZipForDownload(const ArtifactVersion& v) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<ArtifactFile> files, store_.ListArtifactFiles(v.id));
  LOUPE_RETURN_IF_ERROR(disk_.CheckRoomForNewData());
  return blobs_.Zip(v.digest, v.name + "-v" + std::to_string(v.version), files, v.create_time / 1000000);
}

Result<ModelVersion> ArtifactService::Register(const std::string& model, int64_t artifact_version_id,
                                               const std::string& description, const std::vector<std::string>& aliases,
                                               const std::string& created_by) {
  LOUPE_RETURN_IF_ERROR(ValidateName(model, "model name"));
  LOUPE_RETURN_IF_ERROR(ValidateAliases(aliases));
  LOUPE_RETURN_IF_ERROR(ValidateDescription(description));
  return store_.RegisterModelVersion(model, artifact_version_id, description, aliases, NowMicros(), created_by);
}

Result<RegisteredModel> ArtifactService::Model(const std::string& name) {
  LOUPE_RETURN_IF_ERROR(ValidateName(name, "model name"));
  return store_.GetModel(name);
}

Result<std::vector<ModelVersion>> ArtifactService::ModelVersions(const std::string& name) {
  LOUPE_RETURN_IF_ERROR(ValidateName(name, "model name"));
  return store_.ListModelVersions(name);
}

Result<ModelVersion> ArtifactService::ResolveModel(const std::string& name, const std::string& selector) {
  LOUPE_ASSIGN_OR_RETURN(Ref ref, ParseRef(name + ":" + selector, "model name"));
  return store_.ResolveModelVersion(ref.name, ref.selector);
}

Status ArtifactService::SetModelAlias(const std::string& model, const std::string& alias, int64_t version) {
  LOUPE_RETURN_IF_ERROR(ValidateName(model, "model name"));
  LOUPE_RETURN_IF_ERROR(ValidateAlias(alias));
  return store_.SetModelAlias(model, alias, version, NowMicros());
}

Status ArtifactService::RemoveModelAlias(const std::string& model, const std::string& alias) {
  LOUPE_RETURN_IF_ERROR(ValidateName(model, "model name"));
  LOUPE_RETURN_IF_ERROR(ValidateAlias(alias));
  return store_.RemoveModelAlias(model, alias);
}

Status ArtifactService::DescribeModel(const std::string& model, const std::string& description) {
  LOUPE_RETURN_IF_ERROR(ValidateName(model, "model name"));
  LOUPE_RETURN_IF_ERROR(ValidateDescription(description));
  return store_.UpdateModelDescription(model, description, NowMicros());
}

Status ArtifactService::DeleteModelVersion(const std::string& model, int64_t version) {
  LOUPE_RETURN_IF_ERROR(ValidateName(model, "model name"));
  return store_.DeleteModelVersion(model, version);
}

Result<int> ArtifactService::Sweep() {
  LOUPE_ASSIGN_OR_RETURN(std::vector<std::string> keep, store_.ReferencedChunks());
  return blobs_.Sweep(keep);
}

}  // namespace loupe::artifacts
