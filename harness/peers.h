// The peer libraries the sweep measures beside our algorithms (see peer_sweep.cpp):
//   sentencepiece      in-process, through its C++ API (libsentencepiece-dev; optional at build time)
//   HF tokenizers and  through harness/peers/runner.mjs, a Node process per thread count that the
//   tiktoken           harness drives over a pipe (npm packages; optional at run time)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bpe::harness {

// ---- sentencepiece ----

// "" when the harness was built with sentencepiece; otherwise why not.
std::string SentencePieceUnavailable();
std::string SentencePieceVersion();

class SentencePieceModel {
 public:
  virtual ~SentencePieceModel() = default;
  // Encodes `text` line by line (sentencepiece encodes sentences), on `threads` threads that each
  // take a contiguous run of lines; returns the number of ids.
  virtual size_t Encode(std::string_view text, int threads) const = 0;
  virtual int pieces() const = 0;
};

// BPE training from the text's lines, held in memory: model_type=bpe, character_coverage=1.0,
// byte_fallback=true, num_threads=threads, vocab_size (sentencepiece counts its <unk>, <s>, </s> and
// the 256 byte-fallback pieces in it). Throws bpe::Error with sentencepiece's message on failure.
std::unique_ptr<SentencePieceModel> SentencePieceTrain(std::string_view text, uint32_t vocab_size, int threads);

// ---- the Node runner ----

// One `node harness/peers/runner.mjs` process, with RAYON_NUM_THREADS=threads (HF's thread pool is
// sized once per process). Requests and replies are tab-separated lines (protocol in runner.mjs).
// The runner's own output (HF's progress bars, Node warnings) goes to `log_path`.
class NodeRunner {
 public:
  // Throws bpe::Error when node cannot be started or does not answer `hello`.
  NodeRunner(int threads, const std::string& log_path);
  ~NodeRunner();
  NodeRunner(const NodeRunner&) = delete;
  NodeRunner& operator=(const NodeRunner&) = delete;

  // Sends one request; returns the reply's key=value fields. Throws bpe::Error on an `error` reply
  // or when the runner has gone (with the tail of its log).
  std::map<std::string, std::string> Request(const std::vector<std::string>& fields);
  const std::map<std::string, std::string>& hello() const { return hello_; }

 private:
  std::string LogTail() const;

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffered_;
  std::string log_path_;
  std::map<std::string, std::string> hello_;
};

// Where runner.mjs is, and whether node and its packages are there: "" when usable, else why not.
std::string RunnerPath();
std::string NodeUnavailable();

}  // namespace bpe::harness
