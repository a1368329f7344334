import json,statistics,collections,sys
def load(f):
    d=json.load(open(f)); t=collections.defaultdict(list)
    for b in d['benchmarks']:
        if b.get('run_type')=='iteration':
            n=b.get('run_name',b['name']).split('/')
            t['/'.join(n[:5])].append(b['real_time']*{'ms':1e-3,'us':1e-6,'ns':1e-9,'s':1}[b['time_unit']])
    return {k:statistics.median(v) for k,v in t.items()}
runs={k:[load(f'results/issue6/round7/alloc-{k}{i}.json') for i in (1,2)] for k in ('tuned','default')}
keys=sorted(runs['tuned'][0])
print(f"{'benchmark':55s} {'tuned (2 runs)':>20s} {'default (2 runs)':>20s}  default/tuned")
for k in keys:
    t=[r[k] for r in runs['tuned'] if k in r]; d=[r[k] for r in runs['default'] if k in r]
    print(f"{k:55s} {t[0]*1e3:8.1f} {t[1]*1e3:8.1f} ms  {d[0]*1e3:8.1f} {d[1]*1e3:8.1f} ms  {statistics.median(d)/statistics.median(t):.2f}x")
print()
for k in ('tuned','default'):
  for i,r in enumerate(runs[k]):
    for c,v in (('gutenberg5','vocab:10000'),('gutenberg93','vocab:30000')):
      s=" ".join(f"{a} {r[f'train_text/{a}/{c}/{v}/threads:1']/r[f'train_text/{a}/{c}/{v}/threads:2']:.2f}x" for a in ('linked','pq','sharded'))
      print(f"{k}{i+1} e2e 2t vs 1t {c} {v}: {s}")
