import re, sys
src, out, header_re = sys.argv[1], sys.argv[2], sys.argv[3]
F = [l.strip() for l in open(sys.argv[4]) if l.strip() and not l.startswith('#')]  # function/typedef/struct regexes
C = [l.strip() for l in open(sys.argv[5]) if l.strip() and not l.startswith('#')]  # constant regexes
sections = {}
for line in open(src):
    m = re.match(r'(--include-\w+) (\S+)\s+# header: (\S+)', line)
    if not m: continue
    kind, name, hdr = m.groups()
    if not re.search(header_re, hdr): continue
    pats = C if kind == '--include-constant' else F
    if any(re.fullmatch(p, name) for p in pats):
        sections.setdefault(kind, set()).add(name)
with open(out, 'w') as f:
    for kind in ['--include-function','--include-struct','--include-union','--include-typedef','--include-constant']:
        for n in sorted(sections.get(kind, ())):
            f.write(f'{kind} {n}\n')
