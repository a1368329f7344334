// The peer protocol (docs/peers.md) for the Node peers in harness/peers/*/peer.mjs: reads one JSON
// request per line on stdin, answers one JSON reply per line on the reply descriptor (1, stdout, or
// the one the peer's manifest names), and does the timing, so that each peer file only says how its
// library loads a vocabulary and encodes (or trains).
//
// A peer calls serve({ versions, encoder, train }) where
//   versions: { name: version, ... } for the hello reply;
//   encoder(request): returns { encode(text) -> ids (array or typed array) } for a vocabulary
//     (request.vocabulary) or a model file (request.model, request.model_format), optionally
//     { batch(texts) -> [ids] } too, and optionally async (then its calls are awaited);
//   train(request): trains on request.input to request.vocab_size; returns { vocab_size }.
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

export const require = createRequire(import.meta.url);

// The installed version of an npm package (from harness/peers/node_modules), or throws saying why not.
export function packageVersion(name) {
  const meta = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(meta, 'utf8')).version;
}

const texts = new Map();  // path -> Buffer, read once per process
function documents(path, offsets) {
  if (!texts.has(path)) texts.set(path, readFileSync(path));
  const buf = texts.get(path);
  const bounds = [0, ...(offsets || []), buf.length];
  const out = [];
  for (let i = 0; i + 1 < bounds.length; ++i) out.push(buf.subarray(bounds[i], bounds[i + 1]).toString('utf8'));
  return out;
}

const now = () => process.hrtime.bigint();
const since = (start) => Number(now() - start) / 1e9;

// Runs `once` (returns a list of id arrays, maybe as a promise) untimed once (the warm-up, and the
// ids for the check), then repeatedly until minTime seconds have passed; replies with the mean.
async function measure(once, minTime, idsOut) {
  const first = await once();
  let tokens = 0;
  for (const ids of first) tokens += ids.length;
  if (idsOut) {
    const all = new Uint32Array(tokens);
    let at = 0;
    for (const ids of first) { all.set(ids, at); at += ids.length; }
    writeFileSync(idsOut, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
  }
  let iterations = 0;
  const start = now();
  do {
    await once();
    ++iterations;
  } while (since(start) < minTime);
  return { ok: true, seconds: since(start) / iterations, iterations, tokens };
}

export async function serve({ versions, encoder, train }) {
  const replyFd = Number(process.env.BPEBENCH_PEER_REPLY_FD || 1);
  const encoders = new Map();  // one per vocabulary or model file, built on first use
  const ops = {
    hello: () => ({ ok: true, versions: versions(), runtime: `node ${process.version}` }),
    async encode(r) {
      const key = r.vocabulary ?? `${r.model_format}:${r.model}`;
      if (!encoders.has(key)) encoders.set(key, await encoder(r));
      const enc = encoders.get(key);
      const docs = documents(r.input, r.offsets);
      let once;
      if (r.batch) {
        if (!enc.batch) throw new Error('this peer has no batch call');
        once = async () => enc.batch(docs);
      } else {
        once = async () => {
          const out = [];
          for (const d of docs) out.push(await enc.encode(d));
          return out;
        };
      }
      return measure(once, Number(r.min_time || 0), r.ids_out);
    },
    async train(r) {
      if (!train) throw new Error('this peer does not train');
      const start = now();
      const result = await train(r);
      return { ok: true, seconds: since(start), ...result };
    },
  };
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    let reply;
    try {
      const request = JSON.parse(line);
      if (!(request.op in ops)) throw new Error(`unknown op '${request.op}'`);
      reply = await ops[request.op](request);
    } catch (e) {
      reply = { ok: false, error: String(e && e.message ? e.message : e).replace(/\s+/g, ' ') };
    }
    writeSync(replyFd, JSON.stringify(reply) + '\n');
  }
}
