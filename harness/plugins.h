// Peers as plug-ins (docs/peers.md): a peer is a folder holding peer.json (its manifest) and a program
// that speaks JSON lines over pipes. The harness finds them in harness/peers/*/ and in every
// --peer-dir, starts one process per thread count it needs, and talks to it with requests such as
//   {"op": "encode", "vocabulary": "cl100k_base", "input": PATH, "offsets": [...], "min_time": S, ...}
// Nothing in the harness names a particular plug-in: adding one needs no C++ change.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "algorithms/formats/json.h"

namespace bpe::harness {

struct PeerManifest {
  std::string name;        // benchmark rows are encode/<name>/..., train_text/<name>/...
  std::string folder;      // absolute; the program runs here
  std::string version;     // fixed in the manifest, or empty: the hello reply's
  std::string version_of;  // the hello reply's versions[...] key that is the peer's version
  std::string language;    // what it is written in and how it is called
  std::string build;       // native, wasm, pure-js, python
  std::vector<std::string> command;  // argv; a first word with a '/' is relative to the folder
  int reply_fd = 1;        // the descriptor the program answers on (1 = stdout; else stdout goes to the log)
  std::string about;       // what one call does and what crosses the boundary: in every row's label

  // encode
  std::vector<std::string> vocabularies;  // tiktoken vocabularies it encodes with (gpt2, cl100k_base, o200k_base)
  std::vector<std::string> model_formats;  // formats of our models it encodes with: hf_json, merges_u32
  bool batch = false;       // has a batch call besides the per-document one (rows: <name>.batch)
  bool batch_only = false;  // has only the batch call (rows: <name>)
  uint32_t encode_max_vocab = 0;   // our models up to this size only (0: any)
  uint64_t encode_max_input = 0;   // at most this many bytes of held-out text (0: all)

  // train
  bool trains = false;
  std::vector<uint32_t> train_vocab_sizes;  // the sizes it trains at (empty: any up to train_max_vocab)
  uint32_t train_max_vocab = 0;
  bool train_exact = false;                 // gives bpebench's merges (checked), written as merges_u32
  uint64_t train_max_input = 0;

  std::string threads_env;  // the environment variable that sets its threads; empty: it runs on one
};

// Reads `folder`/peer.json. Throws bpe::Error naming the file and what is wrong.
PeerManifest ReadPeerManifest(const std::string& folder);

// The peers in each folder of `roots` (every subfolder with a peer.json, in name order; a root that
// is itself a peer folder counts too). A manifest that cannot be read is reported in `problems`
// and left out. Names must be unique: a later one with a taken name is a problem too.
std::vector<PeerManifest> FindPeers(const std::vector<std::string>& roots, std::vector<std::string>& problems);

// One running peer program. Requests are JSON objects on one line; the reply is one JSON line.
class PeerProcess {
 public:
  // Starts the program with `threads` in the manifest's thread variable. Its stderr (and stdout when
  // it replies elsewhere) goes to `log_path`. Sends hello; throws bpe::Error when it fails to answer.
  PeerProcess(const PeerManifest& m, int threads, const std::string& log_path, double timeout_s);
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  // Sends one request (a JSON object's text) and waits up to `timeout_s` for the reply. Throws
  // bpe::Error with the peer's message on {"ok": false}, and with the tail of its log when it dies,
  // hangs past the timeout (it is then killed) or answers something that is not a JSON object.
  Json Request(const std::string& request, double timeout_s);
  const Json& hello() const { return hello_; }
  bool alive() const { return pid_ > 0; }

 private:
  std::string LogTail() const;
  [[noreturn]] void Broken(const std::string& what);
  void Kill();

  std::string name_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffered_;
  std::string log_path_;
  Json hello_;
};

}  // namespace bpe::harness
