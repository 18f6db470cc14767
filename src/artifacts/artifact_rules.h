// The rules of artifacts and the model registry: names, types, aliases, file paths
// inside an artifact, references ("name:v3", "name:latest", "name:production"), the
// chunking of files into blobs, and the manifest digest that identifies a version's
// content. No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/artifact_store.h"

namespace loupe::artifacts {

// Files are stored as blobs of this size (the last one shorter), so no request body or
// buffer holds more than one, and equal chunks of different files are stored once.
inline constexpr int64_t kChunkBytes = int64_t{16} << 20;
inline constexpr size_t kMaxFilesPerVersion = 100000;
inline constexpr int64_t kMaxArtifactBytes = int64_t{1} << 40;  // 1 TiB
inline constexpr size_t kMaxAliases = 16;
inline constexpr size_t kMaxDescriptionBytes = 4096;
inline constexpr size_t kMaxMetadataBytes = 65536;
inline constexpr size_t kMaxDigestsPerQuery = 10000;

// Artifact and model names: 1-128 of letters, digits, '_', '-', '.', starting with a
// letter or digit (so they sit in URLs and references unescaped).
Status ValidateName(std::string_view name, std::string_view what);
// Types ("dataset", "model", "checkpoint", ...): the name rule, at most 64 bytes.
Status ValidateType(std::string_view type);
// Aliases: the name rule, at most 64 bytes; "latest" and "v<N>" are versions, not aliases.
Status ValidateAlias(std::string_view alias);
// A path inside an artifact: relative, '/'-separated, no empty, "." or ".." segments,
// no control characters or backslashes, valid UTF-8, at most 1024 bytes.
Status ValidateFilePath(std::string_view path);
// Lower-case hex SHA-256.
bool IsDigest(std::string_view s);
// "name", "name:v3", "name:latest", "name:staging": the name and the selector
// ("latest" when none is given).
struct Ref {
  std::string name;
  std::string selector;
};
Result<Ref> ParseRef(std::string_view ref, std::string_view what);
// How many chunks a file of `size` bytes has (an empty file has one, of no bytes).
int64_t ChunkCount(int64_t size);
// The SHA-256 of the manifest's lines "path\tsize\tsha256\n" in byte order of path:
// equal for equal content, whatever the order files were listed in.
std::string ManifestDigest(const std::vector<ArtifactFile>& files_sorted_by_path);
// SHA-256 of bytes, lower-case hex.
std::string Sha256Hex(std::string_view bytes);

}  // namespace loupe::artifacts
