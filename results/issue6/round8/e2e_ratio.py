# Time on 1 thread / time on 2 of the end-to-end training rows (train_text/...), medians of the repetitions.
# usage: /usr/bin/python3 e2e_ratio.py RESULTS.json...
import json, sys, statistics, re, collections
for f in sys.argv[1:]:
    d = json.load(open(f)); rows = collections.defaultdict(list)
    for b in d['benchmarks']:
        if b.get('run_type') != 'iteration': continue
        m = re.match(r'train_text/(\w+)/(\w+)/vocab:(\d+)/threads:(\d+)', b['name'])
        if m: rows[m.groups()].append(b['real_time'])
    print(f)
    for (alg, corp, v, t), xs in sorted(rows.items()):
        if t != '1': continue
        one = statistics.median(xs); two = statistics.median(rows[(alg, corp, v, '2')])
        print(f"  {alg:8} {corp} vocab {v:>5}: 1t {one:7.1f} 2t {two:7.1f} ms  ratio {one/two:.2f}x")
