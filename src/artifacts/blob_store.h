// BlobStore: the bytes of every artifact file, as content-addressed chunks under
// <data-dir>/artifacts/blobs/<first two hex digits>/<sha256>. A chunk is written once
// (temporary file, fsync, rename), verified against its name before it is kept, and
// never changed; equal chunks of any files and versions are stored once. Downloads that
// need one file for several chunks (a whole file, a zip of a version) are built under
// artifacts/cache and kept there, named by content. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/artifact_store.h"

namespace loupe::artifacts {

class BlobStore {
 public:
  explicit BlobStore(std::string root);  // <data-dir>/artifacts

  bool Has(const std::string& digest) const;
  // The chunk's size, or NotFound.
  Result<int64_t> Size(const std::string& digest) const;
  // Keeps `bytes` as blob `digest`; InvalidArgument when they do not hash to it. A blob
  // already present is left alone (uploads are idempotent), unless its file no longer
  // hashes to its name (damaged on disk): then the upload replaces it.
  Status Put(const std::string& digest, std::string_view bytes);
  // Removes the blob when its file does not hash to its name; true when it did so (the
  // next missing-blob query then asks for it again).
  bool RemoveIfDamaged(const std::string& digest);
  // OK when every chunk of `f` is stored with the length its place in the file needs;
  // Corrupt naming the file otherwise (so a download never serves the wrong bytes).
  Status CheckChunks(const ArtifactFile& f) const;
  std::string PathOf(const std::string& digest) const;
  // SHA-256 of the chunks read in order, streamed (lower-case hex).
  Result<std::string> HashOfChunks(const std::vector<std::string>& chunks) const;
  // A file holding the whole file (its single blob, or the chunks joined in the cache).
  Result<std::string> WholeFile(const ArtifactFile& f);
  // A zip of the files under the folder `top`, built once per manifest digest.
  // Entries are dated `mtime` (Unix seconds: the version's creation).
  Result<std::string> Zip(const std::string& digest, const std::string& top, const std::vector<ArtifactFile>& files,
                          int64_t mtime);
  // Removes blobs not in `keep` (sorted), every cached download and leftover temporary
  // file. For start-up, before any upload can be in flight. Returns blobs removed.
  Result<int> Sweep(const std::vector<std::string>& keep);

 private:
  // Serialises the writers of one name (a blob, a cache file) without serialising all.
  class NameLock {
   public:
    NameLock(BlobStore& s, std::string name);
    ~NameLock();
   private:
    BlobStore& s_;
    std::string name_;
  };

  std::string root_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> writing_;  // guarded by mu_
};

}  // namespace loupe::artifacts
