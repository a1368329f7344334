#include "cli/args.h"

#include <charconv>

#include "algorithms/core/error.h"

namespace bpe::cli {

namespace {

uint64_t ParseUint(const std::string& name, const std::string& s, uint64_t min, uint64_t max,
                   const std::string& below_min = "") {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size()) {
    Fail("{} '{}' is not a whole number", name, s);
  }
  if (ec != std::errc::result_out_of_range && v < min && !below_min.empty()) {
    Fail("{} {} is below {} ({}..{})", name, s, below_min, min, max);
  }
  if (ec == std::errc::result_out_of_range || v < min || v > max) {
    Fail("{} {} is out of range ({}..{})", name, s, min, max);
  }
  return v;
}

}  // namespace

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags, const std::string& passthrough_prefix) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (!passthrough_prefix.empty() && a.starts_with(passthrough_prefix)) {
      passthrough_.push_back(a);
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {  // "-" is standard input
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      positional_.insert(positional_.end(), argv.begin() + i + 1, argv.end());
      break;
    }
    if (a == "--help" || a == "-h") {
      help_ = true;
      return;
    }
    const size_t eq = a.find('=');
    const bool inline_value = eq != std::string::npos;
    const std::string name(a, 0, inline_value ? eq : a.size());
    std::string value = inline_value ? a.substr(eq + 1) : std::string();
    if (values_.count(name)) Fail("option {} is given more than once", name);
    if (flags.count(name)) {
      if (inline_value) Fail("option {} takes no value", name);
      values_.insert_or_assign(name, std::string(1, '1'));  // not = "1": GCC 12 warns falsely (-Wrestrict)
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

uint64_t Args::Uint(const std::string& name, uint64_t fallback, uint64_t min, uint64_t max,
                    const std::string& below_min) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  return ParseUint(name, it->second, min, max, below_min);
}

double Args::Double(const std::string& name, double fallback, double min) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  const std::string& s = it->second;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !(v >= min)) {
    Fail("{} '{}' is not a number of at least {}", name, s, min);
  }
  return v;
}

std::vector<std::string> Args::List(const std::string& name, const std::vector<std::string>& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  std::vector<std::string> out;
  const std::string& s = it->second;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) Fail("{} '{}' has an empty item", name, s);
    out.push_back(std::move(item));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::vector<uint64_t> Args::UintList(const std::string& name, const std::vector<uint64_t>& fallback,
                                     uint64_t min, uint64_t max) const {
  if (!Has(name)) return fallback;
  std::vector<uint64_t> out;
  for (const std::string& item : List(name, {})) out.push_back(ParseUint(name, item, min, max));
  return out;
}

}  // namespace bpe::cli
