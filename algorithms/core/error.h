// The one exception type the library throws for bad input (files, models, options). Its message is
// a complete sentence meant for the user; the CLI prints it as one line and exits non-zero.
#pragma once

#include <fmt/core.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace bpe {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message), message_(message) {}
  // The whole message: unlike what(), not cut at a NUL byte that came from a file or a name.
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

template <typename... Args>
[[noreturn]] void Fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace bpe
