// tiktoken-rs through @anysphere/tiktoken-node, the native binding that has o200k_base. Its encode is
// asynchronous (a tokio worker does the work); documents are awaited one at a time.
import { serve, require, packageVersion } from '../protocol.mjs';

serve({
  versions: () => ({ '@anysphere/tiktoken-node-linux-x64-gnu': packageVersion('@anysphere/tiktoken-node-linux-x64-gnu') }),
  encoder(r) {
    // The platform package's binary, loaded directly: the wrapper package lists platform packages
    // that are not on the registry, which npm ci refuses.
    const lib = require('@anysphere/tiktoken-node-linux-x64-gnu/tiktoken-node.linux-x64-gnu.node');
    const which = { cl100k_base: lib.SupportedEncoding.Cl100k, o200k_base: lib.SupportedEncoding.O200k }[r.vocabulary];
    if (which === undefined) throw new Error(`no vocabulary ${r.vocabulary}`);
    const tok = lib.getTokenizer();
    return { encode: (text) => tok.encode(text, which, lib.SpecialTokenAction.NormalText, []) };
  },
});
