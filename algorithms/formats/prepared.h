// Prepared models: a model with its vocabulary and the tables its default encoder derives, kept in
// a cache file, so that loading a large vocabulary costs milliseconds instead of a derivation
// (cl100k_base: parsing the rank file, deriving 100k merges from the ranks, building the trie and
// the whole-token tables; about 0.3 s on the 2-vCPU machine of docs/performance.md).
//
// The cache file is named after the source file and a key: a 64-bit hash of the source file's
// identity and state (its path, device, inode, size, modification and change times: any write to it
// changes its change time, which no user can set back) and of what else decides the parse (the
// --pretokenizer given, the format version). A changed source file so has another key, and another
// cache file: a stale one is never read, and a hit reads nothing of the source. The file holds a
// header (magic, format version, key, payload length, a checksum of the payload) and the payload:
// the pattern, the external ids, the vocabulary's arrays (Vocabulary::Save) and the backtrack tables
// (SaveBacktrackTables), each 8-byte aligned, so that a hit maps the file and uses its arrays in
// place (a page cache read; no allocation, no copy). It is used only when the header and checksum
// say it is whole and current and every index in it stays in bounds (Vocabulary::Load,
// LoadBacktrackTables); otherwise it is rebuilt. Written to a temporary file in the same folder and
// renamed into place, so two processes building the same file at once each rename a complete copy,
// and a reader never sees a partial one (a mapped file is never changed in place).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "algorithms/core/model.h"
#include "algorithms/core/vocabulary.h"

namespace bpe {

// Bumped whenever the payload's layout or the tables' records change.
inline constexpr uint32_t kPreparedFormatVersion = 2;
// Models with fewer merges derive their tables in a few milliseconds: not cached.
inline constexpr size_t kPreparedMinMerges = 8192;

struct PreparedModel {
  std::string pretokenizer;
  std::unique_ptr<Vocabulary> vocab;
  // The ids users see (Model::external_ids): empty for our own models.
  std::span<const uint32_t> external_ids;
  uint32_t ExternalId(TokenId id) const { return external_ids.empty() ? id : external_ids[id]; }
  // The id users see -> ours, as Model::InternalIds.
  std::vector<TokenId> InternalIds() const;
  enum class Cache { kOff, kSmall, kHit, kBuilt, kNotWritten };
  Cache cache = Cache::kOff;
  std::string cache_file;  // the file read or written ("" when the cache is off or the model small)
  std::string note;        // a line for the user: a damaged cache file, or one that could not be written

  std::vector<uint32_t> external_ids_own;
  std::shared_ptr<const void> mapping;
};

// The cache folder: $BPEBENCH_CACHE ("off" or "": no cache), else $XDG_CACHE_HOME/bpebench, else
// $HOME/.cache/bpebench; "" when none of them is set.
std::string PreparedCacheDir();

// LoadAnyModel(spec, pretokenizer) and a Vocabulary of its merges, with the backtrack tables
// installed from the cache file in cache_dir when it has a valid one, and otherwise derived and
// written there (folders made as needed). Errors in the model are LoadAnyModel's; a cache that
// cannot be read or written is never an error (see note).
PreparedModel LoadPreparedModel(const std::string& spec, std::string_view pretokenizer, const std::string& cache_dir);

}  // namespace bpe
