// Builds other than the `count` preset measure time, with glibc's malloc: the counted region's arena
// (counting_alloc.cpp) is left out, and these do nothing.
#include "harness/counting.h"

namespace bpe::harness {

void ArenaBegin() {}
void ArenaEnd() {}

}  // namespace bpe::harness
