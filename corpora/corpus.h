// The corpus manifest (corpora/manifest.tsv) and how corpora are found: code asks for a corpus by
// name and gets its text, checked against the manifest's sha256, or a bpe::Error naming the file and
// the folder it was looked for in.
//
// Where things are looked for:
//   corpora folder   $BPEBENCH_CORPORA, else ../shared/corpora beside the source checkout
//   bundled copies   corpora/bundled/<file>.xz in the checkout: the default corpus ships with the
//                    project, so a clone alone works; used for a file the corpora folder lacks
//   manifest         $BPEBENCH_MANIFEST, else corpora/manifest.tsv in the source checkout
//   unpack cache     $BPEBENCH_CACHE, else $XDG_CACHE_HOME/bpebench, else ~/.cache/bpebench
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bpe {

inline constexpr const char* kDefaultCorpus = "gutenberg5";

struct CorpusFile {
  std::string path;  // relative to the corpora folder
  uint64_t bytes = 0;
  std::string sha256;
  std::string unpacked_sha256;  // for .xz files: the unpacked text's hash; empty otherwise
  std::string license;
  std::string origin;
};

struct CorpusInfo {
  std::string name;
  std::vector<CorpusFile> files;  // joined in this order
  uint64_t bytes() const;         // packed size on disk
};

std::string CorporaFolder();
std::string BundledFolder();
std::string ManifestPath();
std::string CacheFolder();

// All corpora in manifest order. Throws bpe::Error for a missing or malformed manifest.
std::vector<CorpusInfo> LoadManifest();
const CorpusInfo& FindCorpus(const std::vector<CorpusInfo>& manifest, const std::string& name);

// The corpus text: its files joined, each checked against its sha256. An .xz file (in the corpora
// folder, or a bundled copy) is unpacked once into the cache folder (with `xz -dc`) and the unpacked
// copy checked on every load.
std::string LoadCorpusText(const CorpusInfo& corpus);
std::string LoadCorpusText(const std::string& name);

// Why a corpus cannot be loaded here ("corpus 'x': file 'y' is missing (looked in ...)"), or "" when
// every file is present (the hashes are checked only on loading).
std::string MissingCorpusReason(const CorpusInfo& corpus);

}  // namespace bpe
