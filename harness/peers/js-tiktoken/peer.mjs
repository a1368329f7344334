// js-tiktoken, tiktoken's own pure JavaScript port.
import { serve, require, packageVersion } from '../protocol.mjs';

serve({
  versions: () => ({ 'js-tiktoken': packageVersion('js-tiktoken') }),
  encoder(r) {
    const enc = require('js-tiktoken').getEncoding(r.vocabulary);
    return { encode: (text) => enc.encode(text, [], []) };  // no special tokens: ordinary text
  },
});
