// SHA-256 (FIPS 180-4), to check corpus files against the manifest without another dependency.
#pragma once

#include <string>
#include <string_view>

namespace bpe {

// Lower-case hex digest of data.
std::string Sha256Hex(std::string_view data);

}  // namespace bpe
