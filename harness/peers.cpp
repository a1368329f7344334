#include "harness/peers.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "algorithms/core/error.h"

#ifdef BPEBENCH_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

// Exported by libsentencepiece but declared only in its private headers. Level 2 keeps its
// per-training INFO and WARNING lines off the progress display.
namespace sentencepiece::logging {
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging
#endif

extern char** environ;

namespace bpe::harness {

// ---- sentencepiece ----

#ifdef BPEBENCH_HAVE_SENTENCEPIECE

std::string SentencePieceUnavailable() { return ""; }
std::string SentencePieceVersion() { return BPEBENCH_SENTENCEPIECE_VERSION; }

namespace {

// The text's lines, without their newlines, as sentencepiece's trainer wants them.
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(std::string_view text) : text_(text) { Next(); }
  bool done() const override { return done_; }
  void Next() override {
    if (pos_ >= text_.size()) {
      done_ = true;
      return;
    }
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line_.assign(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
  }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  std::string line_;
  bool done_ = false;
};

class SpModel : public SentencePieceModel {
 public:
  explicit SpModel(const std::string& proto) {
    const auto status = processor_.LoadFromSerializedProto(proto);
    if (!status.ok()) Fail("sentencepiece cannot load the model it trained: {}", status.ToString());
  }
  size_t Encode(std::string_view text, int threads) const override {
    // Contiguous runs of lines, one per thread, cut after a newline.
    std::vector<size_t> cuts = {0};
    for (int t = 1; t < threads; ++t) {
      size_t at = text.size() * t / threads;
      at = text.find('\n', std::max(at, cuts.back()));
      cuts.push_back(at == std::string_view::npos ? text.size() : at + 1);
    }
    cuts.push_back(text.size());
    std::vector<size_t> counts(threads, 0);
    auto work = [&](int t) {
      std::vector<int> ids;
      std::string_view part = text.substr(cuts[t], cuts[t + 1] - cuts[t]);
      size_t pos = 0;
      while (pos < part.size()) {
        size_t end = part.find('\n', pos);
        if (end == std::string_view::npos) end = part.size();
        // Encode's status is not ok only for an unloaded model, which the constructor rules out.
        processor_.Encode(part.substr(pos, end - pos), &ids).IgnoreError();
        counts[t] += ids.size();
        pos = end + 1;
      }
    };
    std::vector<std::jthread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    pool.clear();
    size_t total = 0;
    for (size_t c : counts) total += c;
    return total;
  }
  int pieces() const override { return processor_.GetPieceSize(); }

 private:
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace

std::unique_ptr<SentencePieceModel> SentencePieceTrain(std::string_view text, uint32_t vocab_size, int threads) {
  sentencepiece::logging::SetMinLogLevel(2);
  LineIterator lines(text);
  std::string proto;
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      fmt::format("--model_type=bpe --vocab_size={} --character_coverage=1.0 --byte_fallback=true "
                  "--num_threads={} --minloglevel=2",
                  vocab_size, threads),
      &lines, &proto);
  if (!status.ok()) Fail("sentencepiece: {}", status.ToString());
  return std::make_unique<SpModel>(proto);
}

#else

std::string SentencePieceUnavailable() {
  return "not built: libsentencepiece-dev was not found when the harness was configured (scripts/setup "
         "installs it; then rebuild)";
}
std::string SentencePieceVersion() { return ""; }
std::unique_ptr<SentencePieceModel> SentencePieceTrain(std::string_view, uint32_t, int) {
  Fail("sentencepiece: {}", SentencePieceUnavailable());
}

#endif

// ---- the Node runner ----

namespace {

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const size_t colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return "";
    rest.remove_prefix(colon + 1);
  }
}

std::map<std::string, std::string> ParseFields(std::string_view line) {
  std::map<std::string, std::string> out;
  size_t pos = line.find('\t');
  while (pos != std::string_view::npos) {
    const size_t next = line.find('\t', pos + 1);
    const std::string_view field = line.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    const size_t eq = field.find('=');
    if (eq != std::string_view::npos) out[std::string(field.substr(0, eq))] = std::string(field.substr(eq + 1));
    pos = next;
  }
  return out;
}

}  // namespace

std::string RunnerPath() { return std::string(BPEBENCH_SOURCE_DIR) + "/harness/peers/runner.mjs"; }

std::string NodeUnavailable() {
  if (FindOnPath("node").empty()) return "node is not on PATH (scripts/setup installs Node.js)";
  if (::access(RunnerPath().c_str(), R_OK) != 0) return fmt::format("{} is missing", RunnerPath());
  return "";
}

NodeRunner::NodeRunner(int threads, const std::string& log_path) : log_path_(log_path) {
  const std::string node = FindOnPath("node");
  if (node.empty()) Fail("node is not on PATH");
  // A runner that dies must give an error reply, not kill the harness with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("RAYON_NUM_THREADS=") || v.starts_with("TOKENIZERS_PARALLELISM=")) continue;
    env_strings.emplace_back(v);
  }
  env_strings.push_back(fmt::format("RAYON_NUM_THREADS={}", threads));
  env_strings.push_back("TOKENIZERS_PARALLELISM=true");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string script = RunnerPath();
  std::string node_copy = node;
  char* argv[] = {node_copy.data(), script.data(), nullptr};

  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
    Fail("cannot create pipes for the Node runner: {}", std::strerror(errno));
  }
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) Fail("cannot open {}: {}", log_path, std::strerror(errno));
  pid_ = ::fork();
  if (pid_ < 0) Fail("cannot start the Node runner: {}", std::strerror(errno));
  if (pid_ == 0) {
    // Its own process group: Ctrl-C in the terminal reaches the harness, which finishes the
    // measurement in flight (this runner's included) before stopping.
    ::setpgid(0, 0);
    // Move the reply pipe to 3 through a free descriptor first, so no dup2 below overwrites it.
    const int reply = ::fcntl(from_child[1], F_DUPFD, 10);
    if (reply < 0 || ::dup2(to_child[0], 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0 ||
        ::dup2(reply, 3) < 0) {
      ::_exit(127);
    }
    ::execve(node_copy.c_str(), argv, envp.data());
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  ::close(log);
  to_ = to_child[1];
  from_ = from_child[0];
  hello_ = Request({"hello"});
}

NodeRunner::~NodeRunner() {
  if (to_ >= 0) ::close(to_);  // end of input: the runner exits
  if (from_ >= 0) ::close(from_);
  if (pid_ <= 0) return;
  for (int i = 0; i < 100; ++i) {  // up to 2 s
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string NodeRunner::LogTail() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  if (log.size() > 400) log = "..." + log.substr(log.size() - 400);
  for (char& c : log) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return log.empty() ? "(empty)" : log;
}

std::map<std::string, std::string> NodeRunner::Request(const std::vector<std::string>& fields) {
  std::string line;
  for (const auto& f : fields) line += (line.empty() ? "" : "\t") + f;
  line += '\n';
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(to_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fail("the Node runner has stopped (its log ends: {})", LogTail());
    done += static_cast<size_t>(n);
  }
  while (buffered_.find('\n') == std::string::npos) {
    char buf[4096];
    const ssize_t n = ::read(from_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fail("the Node runner stopped without answering '{}' (its log ends: {})", fields[0], LogTail());
    buffered_.append(buf, static_cast<size_t>(n));
  }
  const size_t nl = buffered_.find('\n');
  const std::string reply = buffered_.substr(0, nl);
  buffered_.erase(0, nl + 1);
  if (reply.starts_with("error\t")) Fail("{}", reply.substr(6));
  if (!reply.starts_with("ok")) Fail("the Node runner answered '{}' to '{}'", reply, fields[0]);
  return ParseFields(reply);
}

}  // namespace bpe::harness
