#include "harness/plugins.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"

extern char** environ;

namespace bpe::harness {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxManifestBytes = 1 << 16;
constexpr size_t kMaxReplyBytes = 1 << 20;  // a reply is a few fields; more is garbage

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

const Json& Member(const Json& obj, std::string_view key, Json::Kind kind, const std::string& file) {
  const Json* v = obj.Find(key);
  if (!v || v->kind != kind) Fail("{}: \"{}\" is missing or of the wrong type", file, key);
  return *v;
}
std::string OptString(const Json& obj, std::string_view key, const std::string& file) {
  const Json* v = obj.Find(key);
  if (!v) return "";
  if (v->kind != Json::kString) Fail("{}: \"{}\" must be a string", file, key);
  return v->text;
}
uint64_t OptUint(const Json& obj, std::string_view key, const std::string& file, uint64_t max) {
  const Json* v = obj.Find(key);
  if (!v) return 0;
  if (v->kind != Json::kNumber || v->number < 0 || v->number > static_cast<double>(max) ||
      v->number != static_cast<double>(static_cast<uint64_t>(v->number))) {
    Fail("{}: \"{}\" must be a whole number from 0 to {}", file, key, max);
  }
  return static_cast<uint64_t>(v->number);
}
bool OptBool(const Json& obj, std::string_view key, const std::string& file) {
  const Json* v = obj.Find(key);
  if (!v) return false;
  if (v->kind != Json::kBool) Fail("{}: \"{}\" must be true or false", file, key);
  return v->number != 0;
}
std::vector<std::string> OptStrings(const Json& obj, std::string_view key, const std::string& file) {
  std::vector<std::string> out;
  const Json* v = obj.Find(key);
  if (!v) return out;
  if (v->kind != Json::kArray) Fail("{}: \"{}\" must be a list of strings", file, key);
  for (const Json& item : v->items) {
    if (item.kind != Json::kString) Fail("{}: \"{}\" must be a list of strings", file, key);
    out.push_back(item.text);
  }
  return out;
}

bool ValidName(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

PeerManifest ReadPeerManifest(const std::string& folder) {
  const std::string file = (fs::path(folder) / "peer.json").string();
  const Json j = ParseJson(ReadFile(file, kMaxManifestBytes, "a peer manifest"), file, "peer manifest");
  if (j.kind != Json::kObject) Fail("{}: a peer manifest is a JSON object", file);
  PeerManifest m;
  m.folder = fs::absolute(folder).lexically_normal().string();
  m.name = Member(j, "name", Json::kString, file).text;
  if (!ValidName(m.name)) Fail("{}: name '{}' must be 1 to 64 letters, digits, '-' or '_'", file, m.name);
  m.version = OptString(j, "version", file);
  m.version_of = OptString(j, "version_of", file);
  m.language = OptString(j, "language", file);
  m.build = Member(j, "build", Json::kString, file).text;
  static const std::set<std::string> kBuilds = {"native", "wasm", "pure-js", "python", "other"};
  if (!kBuilds.count(m.build)) Fail("{}: build '{}' is not one of native, wasm, pure-js, python, other", file, m.build);
  m.command = OptStrings(j, "command", file);
  if (m.command.empty()) Fail("{}: \"command\" must name the program to run", file);
  m.reply_fd = static_cast<int>(OptUint(j, "reply_fd", file, 9));
  if (m.reply_fd == 0) m.reply_fd = 1;
  if (m.reply_fd == 2) Fail("{}: reply_fd 2 is the log (stderr); use 1 or 3..9", file);
  m.about = OptString(j, "about", file);
  if (const Json* e = j.Find("encode")) {
    if (e->kind != Json::kObject) Fail("{}: \"encode\" must be an object", file);
    m.vocabularies = OptStrings(*e, "vocabularies", file);
    for (const auto& v : m.vocabularies) {
      if (v != "gpt2" && v != "cl100k_base" && v != "o200k_base") {
        Fail("{}: vocabulary '{}' is not one of gpt2, cl100k_base, o200k_base", file, v);
      }
    }
    m.model_formats = OptStrings(*e, "models", file);
    for (const auto& f : m.model_formats) {
      if (f != "hf_json" && f != "merges_u32") Fail("{}: model format '{}' is not hf_json or merges_u32", file, f);
    }
    m.batch = OptBool(*e, "batch", file);
    m.batch_only = OptBool(*e, "batch_only", file);
    m.encode_max_vocab = static_cast<uint32_t>(OptUint(*e, "max_vocab", file, 1u << 24));
    m.encode_max_input = OptUint(*e, "max_input_bytes", file, uint64_t{1} << 40);
  }
  if (const Json* t = j.Find("train")) {
    if (t->kind != Json::kObject) Fail("{}: \"train\" must be an object", file);
    m.trains = true;
    if (const Json* sizes = t->Find("vocab_sizes")) {
      if (sizes->kind != Json::kArray) Fail("{}: \"vocab_sizes\" must be a list of numbers", file);
      for (const Json& s : sizes->items) {
        if (s.kind != Json::kNumber || s.number < 256 || s.number > (1u << 24)) {
          Fail("{}: \"vocab_sizes\" must be a list of numbers from 256 to 16777216", file);
        }
        m.train_vocab_sizes.push_back(static_cast<uint32_t>(s.number));
      }
    }
    m.train_max_vocab = static_cast<uint32_t>(OptUint(*t, "max_vocab", file, 1u << 24));
    m.train_exact = OptBool(*t, "exact", file);
    m.train_max_input = OptUint(*t, "max_input_bytes", file, uint64_t{1} << 40);
  }
  if (const Json* th = j.Find("threads")) {
    if (th->kind == Json::kObject) {
      m.threads_env = OptString(*th, "env", file);
      if (!ValidName(m.threads_env)) Fail("{}: \"threads\": {{\"env\": NAME}} needs a variable name", file);
    } else if (th->kind != Json::kString || th->text != "none") {
      Fail("{}: \"threads\" is \"none\" or {{\"env\": \"VARIABLE\"}}", file);
    }
  }
  return m;
}

std::vector<PeerManifest> FindPeers(const std::vector<std::string>& roots, std::vector<std::string>& problems) {
  std::vector<PeerManifest> out;
  std::set<std::string> names;
  for (const std::string& root : roots) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      problems.push_back(fmt::format("peer folder '{}' is not a directory", root));
      continue;
    }
    std::vector<std::string> folders;
    if (fs::exists(fs::path(root) / "peer.json", ec)) folders.push_back(root);
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && fs::exists(it->path() / "peer.json", ec)) folders.push_back(it->path().string());
    }
    if (ec) problems.push_back(fmt::format("cannot list peer folder '{}': {}", root, ec.message()));
    std::sort(folders.begin(), folders.end());
    for (const std::string& folder : folders) {
      try {
        PeerManifest m = ReadPeerManifest(folder);
        if (!names.insert(m.name).second) {
          problems.push_back(fmt::format("{}/peer.json: a peer named '{}' was already found; left out", folder, m.name));
          continue;
        }
        out.push_back(std::move(m));
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
  }
  return out;
}

PeerProcess::PeerProcess(const PeerManifest& m, int threads, const std::string& log_path, double timeout_s)
    : name_(m.name), log_path_(log_path) {
  std::string program = m.command[0];
  program = program.find('/') != std::string::npos ? (fs::path(m.folder) / program).string() : FindOnPath(program);
  if (program.empty() || ::access(program.c_str(), X_OK) != 0) {
    Fail("cannot run '{}' for peer {}: not found{}", m.command[0], m.name,
         m.command[0].find('/') == std::string::npos ? " on PATH" : " in its folder");
  }
  // A peer that dies must give an error, not kill the harness with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("BPEBENCH_PEER_REPLY_FD=")) continue;
    if (!m.threads_env.empty() && v.starts_with(m.threads_env + "=")) continue;
    env_strings.emplace_back(v);
  }
  if (!m.threads_env.empty()) env_strings.push_back(fmt::format("{}={}", m.threads_env, threads));
  env_strings.push_back(fmt::format("BPEBENCH_PEER_REPLY_FD={}", m.reply_fd));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = m.command;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) Fail("cannot create pipes for peer {}: {}", m.name, std::strerror(errno));
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]), ::close(to_child[1]);
    Fail("cannot create pipes for peer {}: {}", m.name, std::strerror(errno));
  }
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) Fail("cannot open {}: {}", log_path, std::strerror(errno));
  const std::string folder = m.folder;
  const int reply_fd = m.reply_fd;
  pid_ = ::fork();
  if (pid_ < 0) Fail("cannot start peer {}: {}", m.name, std::strerror(errno));
  if (pid_ == 0) {
    // Its own process group: Ctrl-C in the terminal reaches the harness, which finishes the
    // measurement in flight before stopping, and a kill on timeout reaches the peer's children.
    ::setpgid(0, 0);
    // The reply pipe moves to its descriptor through a free one first, so no dup2 overwrites it.
    const int reply = ::fcntl(from_child[1], F_DUPFD, 10);
    if (reply < 0 || ::chdir(folder.c_str()) != 0 || ::dup2(to_child[0], 0) < 0 || ::dup2(log, 2) < 0 ||
        (reply_fd != 1 && ::dup2(log, 1) < 0) || ::dup2(reply, reply_fd) < 0) {
      ::_exit(127);
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
  ::close(to_child[0]);
  ::close(from_child[1]);
  ::close(log);
  to_ = to_child[1];
  from_ = from_child[0];
  hello_ = Request(R"({"op": "hello"})", timeout_s);
}

PeerProcess::~PeerProcess() {
  if (to_ >= 0) ::close(to_);  // end of input: the peer exits
  if (from_ >= 0) ::close(from_);
  if (pid_ <= 0) return;
  for (int i = 0; i < 100; ++i) {  // up to 2 s
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
}

void PeerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string PeerProcess::LogTail() const {
  std::string log;
  try {
    log = ReadFile(log_path_, uint64_t{1} << 30, "a peer's log");
  } catch (const std::exception&) {
  }
  if (log.size() > 400) log = "..." + log.substr(log.size() - 400);
  for (char& c : log) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return log.empty() ? "(empty)" : log;
}

void PeerProcess::Broken(const std::string& what) {
  Kill();
  Fail("peer {} {} (its stderr ends: {})", name_, what, LogTail());
}

Json PeerProcess::Request(const std::string& request, double timeout_s) {
  if (pid_ <= 0) Fail("peer {} has stopped after an earlier failure", name_);
  const std::string line = request + "\n";
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(to_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Broken("has stopped");
    done += static_cast<size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (buffered_.find('\n') == std::string::npos) {
    if (buffered_.size() > kMaxReplyBytes) Broken("sent over 1 MiB without a newline: not a reply");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) Broken(fmt::format("did not answer within {:g} s and was stopped", timeout_s));
    pollfd p{from_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) Broken(fmt::format("cannot be read: {}", std::strerror(errno)));
    if (r <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(from_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int status = 0;
      std::string how = "stopped";
      if (::waitpid(pid_, &status, 0) == pid_) {
        pid_ = -1;
        how = WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                                  : fmt::format("exited with status {}", WEXITSTATUS(status));
      }
      Broken(fmt::format("{} without answering", how));
    }
    buffered_.append(buf, static_cast<size_t>(n));
  }
  const size_t nl = buffered_.find('\n');
  const std::string reply = buffered_.substr(0, nl);
  buffered_.erase(0, nl + 1);
  Json j;
  try {
    j = ParseJson(reply, "peer " + name_, "reply");
  } catch (const std::exception&) {
    Broken(fmt::format("answered '{}', which is not a JSON reply", reply.substr(0, 80)));
  }
  const Json* ok = j.Find("ok");
  if (j.kind != Json::kObject || !ok || ok->kind != Json::kBool) {
    Broken(fmt::format("answered '{}', which has no \"ok\"", reply.substr(0, 80)));
  }
  if (ok->number == 0) {
    const Json* error = j.Find("error");
    Fail("peer {}: {}", name_, error && error->kind == Json::kString ? error->text : reply.substr(0, 200));
  }
  return j;
}

}  // namespace bpe::harness
