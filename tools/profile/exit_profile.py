#!/usr/bin/env python3
"""Reads QEMU's `-singlestep -d exec,nochain` trace from stdin (one line per executed instruction) and prints where
the instructions of one VM exit round trip go: the trace is cut at each execution of the guest's benchmark CPUID
(its guest-physical rip), and per function (symbols from the ELF files given) it prints the counts of the most common
period and of the longest (a period with a timer interrupt: the difference is the kernel-handled exit).
PROFILE_SEQUENCE=1 also prints the period as runs of functions, PROFILE_ADDRESSES=1 every address in it.
Used by tools/profile-vm-exit; not a test."""
import bisect, collections, os, re, subprocess, sys

def symbols(path, offset=0):
    out = subprocess.run(['nm', '-n', path], capture_output=True, text=True, check=True).stdout
    result = []
    for line in out.splitlines():
        parts = line.split(' ', 2)
        if len(parts) == 3 and parts[0] and parts[1] in 'tTwW':
            result.append((int(parts[0], 16) + offset, parts[2]))
    return result

def main():
    marker = '/%016x/' % int(sys.argv[1], 16)
    periods_wanted = int(sys.argv[2])
    table = sorted(sum((symbols(p) for p in sys.argv[3:]), []))
    addresses = [a for a, _ in table]
    periods, current, seen = [], None, 0
    pc = re.compile(r'\[[0-9a-f]+/([0-9a-f]+)/')
    for line in sys.stdin:
        if marker in line:
            seen += 1
            if current is not None:
                periods.append(current)
                if len(periods) >= periods_wanted:
                    break
            current = [] if seen > 3 else None   # skip the first periods (translation, cache warm-up)
            continue
        if current is not None:
            m = pc.search(line)
            if m: current.append(int(m.group(1), 16))
    for _ in sys.stdin: pass   # let QEMU finish writing
    if not periods:
        sys.exit('profile: error: the trace has no benchmark CPUID at ' + sys.argv[1])
    def name(address):
        i = bisect.bisect_right(addresses, address) - 1
        return table[i][1] if i >= 0 and address - table[i][0] < 0x10000 else 'guest/other'
    lengths = collections.Counter(len(p) for p in periods)
    common = lengths.most_common(1)[0][0]
    longest = max(periods, key=len)
    def profile(period):
        c = collections.Counter(name(a) for a in period)
        return c
    base = profile(next(p for p in periods if len(p) == common))
    print(f'periods: {len(periods)}; instructions per CPUID exit round trip: {common} (most common; lengths seen: '
          + ', '.join(f'{n}x{k}' for k, n in sorted(lengths.items())) + ')')
    for fn, n in base.most_common(25):
        print(f'  {n:6d}  {fn[:100]}')
    if os.environ.get('PROFILE_SEQUENCE'):
        print('sequence of that period (instructions, function):')
        run = []
        for a in next(p for p in periods if len(p) == common):
            f = name(a)
            if run and run[-1][0] == f: run[-1][1] += 1
            else: run.append([f, 1])
        for f, n in run: print(f'  {n:6d}  {f[:100]}')
    if os.environ.get('PROFILE_ADDRESSES'):
        # Every executed address of that period in order, for reading beside `objdump -d`.
        print('addresses of that period:')
        for a in next(p for p in periods if len(p) == common): print(f'  {a:016x}  {name(a)[:60]}')
    if len(longest) > common:
        extra = profile(longest)
        extra.subtract(base)
        print(f'longest period: {len(longest)} instructions, {len(longest) - common} more (a kernel-handled exit, '
              'e.g. the timer interrupt, inside the period):')
        for fn, n in extra.most_common(25):
            if n > 0: print(f'  {n:6d}  {fn[:100]}')

main()
