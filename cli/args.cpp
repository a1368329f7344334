#include "cli/args.h"

#include <charconv>

#include "algorithms/core/error.h"

namespace bpe::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a == "-") {  // "-" is standard input
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      positional_.insert(positional_.end(), argv.begin() + i + 1, argv.end());
      break;
    }
    std::string name = a, value;
    const size_t eq = a.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    if (flags.count(name)) {
      if (inline_value) Fail("option {} takes no value", name);
      values_[name] = "1";
    } else if (valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) Fail("option {} needs a value", name);
        value = argv[++i];
      }
      values_[name] = value;
    } else {
      Fail("unknown option '{}' (see --help)", name);
    }
  }
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::string Args::Required(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) Fail("option {} is required (see --help)", name);
  return it->second;
}

uint64_t Args::Uint(const std::string& name, uint64_t fallback, uint64_t min, uint64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  const std::string& s = it->second;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size()) {
    Fail("{} '{}' is not a whole number", name, s);
  }
  if (ec == std::errc::result_out_of_range || v < min || v > max) {
    Fail("{} {} is out of range ({}..{})", name, s, min, max);
  }
  return v;
}

}  // namespace bpe::cli
