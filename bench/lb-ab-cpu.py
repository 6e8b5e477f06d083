#!/usr/bin/python3
# bench/lb-ab-cpu.py — the lb's CPU time (utime+stime) per request, two scaleout
# binaries side by side in one run: wrk -t 2 -c 50 -d DUR through an lb with one
# thread (L7 http and L4 tcp) to two nginx backends; old and new alternate, the
# order swapping every round; medians over ROUNDS. For refactors that must not
# move CPU per request (issue 8: within ±3%).
#   usage: ROUNDS=5 DUR=5 [PORT_BASE=21020] bench/lb-ab-cpu.py OLD_BINARY NEW_BINARY
# Ports PORT_BASE to PORT_BASE+13 on 127.0.0.1 (default 21020-21033). Stops only
# the processes it started.
import subprocess, time, os, sys, statistics, socket, re, tempfile, shutil
OLD, NEW = sys.argv[1], sys.argv[2]
ROUNDS = int(os.environ.get('ROUNDS', '5')); DUR = os.environ.get('DUR', '5')
TICK = os.sysconf('SC_CLK_TCK')
def cpu(pid):
    f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK
def wait(port):
    for _ in range(200):
        try: socket.create_connection(('127.0.0.1', port), 0.2).close(); return
        except OSError: time.sleep(0.05)
    raise SystemExit(f'port {port} not up')
d = tempfile.mkdtemp(prefix='lb-ab-cpu-')
PORT_BASE = int(os.environ.get('PORT_BASE', '21020'))
B1, B2 = PORT_BASE, PORT_BASE + 1
open(f'{d}/nginx.conf', 'w').write(f'''daemon off; master_process on; worker_processes 1; pid {d}/nginx.pid;
error_log {d}/error.log error; events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
server {{ listen 127.0.0.1:{B1}; location / {{ return 200 "ok\\n"; }} }}
server {{ listen 127.0.0.1:{B2}; location / {{ return 200 "ok\\n"; }} }} }}
''')
ng = subprocess.Popen(['nginx', '-p', d, '-c', f'{d}/nginx.conf'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait(B1); wait(B2)
procs = {}; ports = {}
p0 = PORT_BASE + 10
for mode in ['http', 'tcp']:
    for who, b in [('old', OLD), ('new', NEW)]:
        port = p0; p0 += 1
        procs[(mode, who)] = subprocess.Popen([b, 'lb', '--listen', f'127.0.0.1:{port}', '--mode', mode, '--backend', f'127.0.0.1:{B1}',
            '--backend', f'127.0.0.1:{B2}', '--threads', '1', '--admin-port', '0', '--loglevel', 'warning'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ports[(mode, who)] = port
        wait(port)
res = {}
try:
    for r in range(ROUNDS):
        order = ['old', 'new'] if r % 2 == 0 else ['new', 'old']
        for mode in ['http', 'tcp']:
            for who in order:
                pid = procs[(mode, who)].pid
                c0 = cpu(pid)
                out = subprocess.run(['wrk', '-t', '2', '-c', '50', '-d', f'{DUR}s', f'http://127.0.0.1:{ports[(mode, who)]}/'],
                                     capture_output=True, text=True, check=True).stdout
                c1 = cpu(pid)
                m = re.search(r'(\d+) requests in', out)
                n = int(m.group(1))
                res.setdefault((mode, who), []).append((c1 - c0) / n * 1e6)
        print(f'round {r+1} done', file=sys.stderr, flush=True)
finally:
    for p in procs.values(): p.terminate(); p.wait()
    ng.terminate(); ng.wait()
    shutil.rmtree(d, ignore_errors=True)
print(f'lb CPU us/request, median of {ROUNDS} alternating rounds, wrk -t 2 -c 50 -d {DUR}s through lb (1 thread) to nginx x2')
print(f'{"mode":6} {"old":>8} {"new":>8} {"new/old":>8}  per-round ratios')
for mode in ['http', 'tcp']:
    o, n = res[(mode, 'old')], res[(mode, 'new')]
    ratios = [b / a for a, b in zip(o, n) if a > 0]
    print(f'{mode:6} {statistics.median(o):8.3f} {statistics.median(n):8.3f} {statistics.median(n)/statistics.median(o):8.3f}  ' + ' '.join(f'{x:.2f}' for x in ratios))
