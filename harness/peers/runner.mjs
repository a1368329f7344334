// The Node side of bpebench's peer measurements: HuggingFace tokenizers (Rust core behind a native
// N-API binding) and tiktoken (Rust core compiled to WebAssembly), driven by bpebench_harness.
//
// The harness starts one runner per thread count (RAYON_NUM_THREADS sets HF's thread pool, which is
// fixed when the process starts) and talks to it through stdin and file descriptor 3 (not stdout:
// HF's Rust code prints progress there), one request per line and one reply per line, fields
// separated by tabs. By hand: `printf 'hello\n' | node runner.mjs 3>&1`.
//
//   hello                                         -> ok  node=V  tokenizers=V|missing: why  tiktoken=...
//   train_hf  TRAIN_FILE                          -> ok  seconds=S  vocab=N
//   encode_hf TOKENIZER_JSON INPUT OFFSETS MIN_TIME IDS_OUT -> ok seconds=S iterations=N tokens=T
//   encode_tiktoken ENCODING INPUT OFFSETS MIN_TIME IDS_OUT -> ok ...
//   (any failure)                                 -> error  message
//
// OFFSETS: comma-separated byte offsets cutting INPUT into the chunks the harness's own encoders use
// (cut at the pre-tokenizer's safe boundaries, one chunk per thread). IDS_OUT: a file to receive the
// ids of one run as little-endian uint32 (the harness compares them with its own), or '-'.
//
// What is timed: only the library calls, after one untimed warm-up call; process start, loading the
// packages and reading files are not. Encoding repeats until MIN_TIME seconds have passed and reports
// the mean time per run. What crosses the JS boundary on each run:
//   HF:       one JS string per chunk into encodeBatch (UTF-16 -> UTF-8 in the binding), one Encoding
//             object per chunk back, and getIds() copies each chunk's ids into a JS array.
//   tiktoken: each chunk's JS string is copied into wasm memory as UTF-8 by encode_ordinary, and a
//             Uint32Array of ids is copied back out.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);

function tryLoad(name) {
  try {
    const mod = require(name);
    // Not require(`${name}/package.json`): tiktoken's "exports" map does not list it.
    const meta = new URL(`./node_modules/${name}/package.json`, import.meta.url);
    const version = JSON.parse(readFileSync(meta, 'utf8')).version;
    return { mod, version };
  } catch (e) {
    return { error: String(e.message).split('\n')[0] };
  }
}
const hf = tryLoad('tokenizers');
const tiktoken = tryLoad('tiktoken');

function need(pkg, name) {
  if (pkg.error) throw new Error(`npm package ${name} is not usable: ${pkg.error}`);
  return pkg.mod;
}

const texts = new Map();  // path -> Buffer
function chunks(path, offsets) {
  if (!texts.has(path)) texts.set(path, readFileSync(path));
  const buf = texts.get(path);
  const cuts = offsets === '' ? [] : offsets.split(',').map(Number);
  const bounds = [0, ...cuts, buf.length];
  const out = [];
  for (let i = 0; i + 1 < bounds.length; ++i) out.push(buf.subarray(bounds[i], bounds[i + 1]).toString('utf8'));
  return out;
}

function seconds(start) { return Number(process.hrtime.bigint() - start) / 1e9; }

// Runs `once` (async, returns an array of id arrays) until minTime has passed; returns the mean.
async function measure(once, minTime, idsOut) {
  const first = await once();  // warm-up, and the ids for the check
  let tokens = 0;
  for (const ids of first) tokens += ids.length;
  if (idsOut !== '-') {
    const all = new Uint32Array(tokens);
    let at = 0;
    for (const ids of first) { all.set(ids, at); at += ids.length; }
    writeFileSync(idsOut, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
  }
  let iterations = 0;
  const start = process.hrtime.bigint();
  do {
    await once();
    ++iterations;
  } while (seconds(start) < minTime);
  return `ok\tseconds=${seconds(start) / iterations}\titerations=${iterations}\ttokens=${tokens}`;
}

const hfTokenizers = new Map();
const tiktokenEncoders = new Map();

const ops = {
  hello() {
    const v = (p) => (p.error ? `missing: ${p.error}` : p.version);
    return `ok\tnode=${process.version}\ttokenizers=${v(hf)}\ttiktoken=${v(tiktoken)}`;
  },
  train_hf(trainFile) {
    const { Tokenizer, BPE, byteLevelPreTokenizer } = need(hf, 'tokenizers');
    const tok = new Tokenizer(BPE.empty());
    tok.setPreTokenizer(byteLevelPreTokenizer(false, true));  // GPT-2's pattern, no prefix space
    const start = process.hrtime.bigint();
    tok.train([trainFile]);  // the binding's default BpeTrainer: vocabulary 30000, no size option
    const s = seconds(start);
    return `ok\tseconds=${s}\tvocab=${tok.getVocabSize()}`;
  },
  async encode_hf(json, input, offsets, minTime, idsOut) {
    const { Tokenizer } = need(hf, 'tokenizers');
    if (!hfTokenizers.has(json)) hfTokenizers.set(json, Tokenizer.fromFile(json));
    const tok = hfTokenizers.get(json);
    const parts = chunks(input, offsets);
    const once = async () => (await tok.encodeBatch(parts, { addSpecialTokens: false })).map((e) => e.getIds());
    return measure(once, Number(minTime), idsOut);
  },
  async encode_tiktoken(name, input, offsets, minTime, idsOut) {
    const { get_encoding } = need(tiktoken, 'tiktoken');
    if (!tiktokenEncoders.has(name)) tiktokenEncoders.set(name, get_encoding(name));
    const enc = tiktokenEncoders.get(name);
    const parts = chunks(input, offsets);
    const once = async () => parts.map((p) => enc.encode_ordinary(p));
    return measure(once, Number(minTime), idsOut);
  },
};

const rl = createInterface({ input: process.stdin, terminal: false });
for await (const line of rl) {
  const [op, ...args] = line.split('\t');
  let reply;
  try {
    if (!(op in ops)) throw new Error(`unknown request '${op}'`);
    reply = await ops[op](...args);
  } catch (e) {
    reply = `error\t${String(e.message).replace(/\s+/g, ' ')}`;
  }
  writeSync(3, reply + '\n');
}
