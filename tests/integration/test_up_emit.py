"""
test_up_emit.py — `scaleout up --emit systemd|k8s DIR`: the emitted files
parse and their references hold (units the target wants exist, services
select pods that exist, the autoscaler targets the app Deployment, every
$(VAR) an app uses is in the ConfigMap, hosts the apps connect to are
Services). With systemd-analyze present the units are also verified by it.
"""
import configparser
import os
import re
import shutil
import subprocess

import yaml

from up_helpers import REPO_ROOT, scaleout_bin

CONF = REPO_ROOT / "examples/up.conf"


def emit(kind, d):
    out = subprocess.run([str(scaleout_bin()), "up", str(CONF), "--emit", kind, str(d)], capture_output=True, text=True,
                         timeout=20)
    assert out.returncode == 0, out.stderr
    return d


def conf_value(name):
    for line in CONF.read_text().splitlines():
        w = line.split("#")[0].split()
        if len(w) >= 2 and w[0] == name:
            return w[1]
    raise KeyError(name)


def unit(path):
    p = configparser.ConfigParser(strict=False, interpolation=None)
    p.optionxform = str
    p.read(path)
    return p


def test_systemd_units_reference_each_other(tmp_path):
    d = emit("systemd", tmp_path / "sd")
    files = {f.name for f in d.iterdir()}
    assert {"scaleout.target", "scaleout-kv.service", "scaleout-app@.service", "scaleout-worker@.service",
            "scaleout-lb.service", "scaleout-postgres.service", "scaleout-pg-proxy.service"} <= files
    replicas = int(conf_value("pg-replicas"))
    assert {f"scaleout-pg-replica-{i}.service" for i in range(1, replicas + 1)} <= files

    def exists(u):
        if u in ("multi-user.target",):
            return True
        return u in files or re.sub(r"@[^.]+\.", "@.", u) in files

    target = unit(d / "scaleout.target")
    wants = target["Unit"]["Wants"].split()
    assert all(exists(u) for u in wants), wants
    apps = sorted(int(u.split("@")[1].split(".")[0]) for u in wants if u.startswith("scaleout-app@"))
    first = int(conf_value("app-port"))
    assert apps == list(range(first, first + int(conf_value("app-min"))))
    assert len([u for u in wants if u.startswith("scaleout-worker@")]) == int(conf_value("workers"))
    for f in files:
        u = unit(d / f)
        for key in ("After", "Wants", "Requires", "PartOf"):
            for ref in u["Unit"].get(key, "").split():
                assert exists(ref), f"{f}: {key}={ref}"
        if "Service" in u:
            exe = u["Service"]["ExecStart"].split()
            assert os.access(exe[0], os.X_OK), exe[0]
            if exe[0].endswith("/scaleout"):
                assert exe[1] in ("kv", "app", "worker", "lb", "pg", "sentinel")
    # the apps go through the pg proxy, which knows the primary and every replica
    pg_port, proxy_port = int(conf_value("pg-port")), int(conf_value("pg-proxy-port"))
    app = unit(d / "scaleout-app@.service")["Service"]["ExecStart"]
    assert f"port={proxy_port} " in app and "scaleout-pg-proxy.service" in target["Unit"]["Wants"]
    proxy = unit(d / "scaleout-pg-proxy.service")["Service"]["ExecStart"]
    assert f"--listen 127.0.0.1:{proxy_port}" in proxy and f"--primary 127.0.0.1:{pg_port}" in proxy
    assert sorted(int(p) for p in re.findall(r"--replica 127\.0\.0\.1:(\d+)", proxy)) == \
        [pg_port + i for i in range(1, replicas + 1)]
    for i in range(1, replicas + 1):
        rep = unit(d / f"scaleout-pg-replica-{i}.service")["Service"]
        assert f"-p {pg_port} " in rep["ExecStartPre"] and " -R" in rep["ExecStartPre"]
        assert f"-p {pg_port + i} " in rep["ExecStart"]
    lb = unit(d / "scaleout-lb.service")["Service"]["ExecStart"]
    assert sorted(int(p) for p in re.findall(r"--backend 127\.0\.0\.1:(\d+)", lb)) == apps
    # kv replicas follow the primary; the sentinels watch it; apps and workers ask the sentinels
    kv_port = int(conf_value("kv-port"))
    kv_reps = sorted(f for f in files if f.startswith("scaleout-kv-replica-"))
    assert len(kv_reps) == 1 and all(f in wants for f in kv_reps)          # the default: one kv replica
    for i, f in enumerate(kv_reps, 1):
        ex = unit(d / f)["Service"]["ExecStart"]
        assert f"--port {kv_port + i} " in ex and f"--replicaof 127.0.0.1 {kv_port}" in ex, ex
    sents = sorted(f for f in files if f.startswith("scaleout-sentinel-"))
    assert len(sents) == 3 and all(f in wants for f in sents)
    sent_ports = []
    for f in sents:
        pre = unit(d / f)["Service"]["ExecStartPre"]
        sent_ports.append(int(re.search(r"port (\d+)", pre).group(1)))
        assert f"sentinel monitor scaleout 127.0.0.1 {kv_port} 2" in pre, pre
        assert "--config ${STATE_DIRECTORY}/sentinel.conf" in unit(d / f)["Service"]["ExecStart"]
    for f in ("scaleout-app@.service", "scaleout-worker@.service"):
        ex = unit(d / f)["Service"]["ExecStart"]
        listed = re.search(r"--kv-sentinel (\S+)", ex).group(1).split(",")
        assert sorted(int(x.split(":")[1]) for x in listed) == sorted(sent_ports), ex
        assert "--kv-master-name scaleout" in ex
        assert all(s in unit(d / f)["Unit"]["After"].split() for s in sents)
    analyze = shutil.which("systemd-analyze")
    if analyze:    # an extra check where systemd is installed
        inst = d / f"scaleout-app@{apps[0]}.service"
        shutil.copy(d / "scaleout-app@.service", inst)
        r = subprocess.run([analyze, "verify", str(d / "scaleout-kv.service"), str(d / "scaleout-lb.service"),
                            str(d / "scaleout-postgres.service"), str(inst)], capture_output=True, text=True,
                           timeout=60, cwd=str(d))
        bad = [l for l in (r.stdout + r.stderr).splitlines() if "scaleout" in l and "not found" not in l]
        assert r.returncode == 0 or not bad, r.stdout + r.stderr


def test_k8s_manifests_reference_each_other(tmp_path):
    d = emit("k8s", tmp_path / "k8s")
    docs = []
    for f in sorted(d.glob("*.yaml")):
        docs += [x for x in yaml.safe_load_all(f.read_text()) if x]
    by = {}
    for x in docs:
        assert {"apiVersion", "kind", "metadata"} <= set(x), x
        by.setdefault(x["kind"], {})[x["metadata"]["name"]] = x
    assert set(by["Deployment"]) == {"app", "worker", "lb", "pg-proxy"}
    assert set(by["StatefulSet"]) == {"kv", "kv-replica", "sentinel", "postgres", "postgres-replica"}
    assert set(by["Service"]) == {"kv", "kv-replica", "sentinel", "postgres", "postgres-replica", "pg-proxy", "app",
                                  "lb"}
    workloads = {**by["Deployment"], **by["StatefulSet"]}
    for name, st in by["StatefulSet"].items():    # the governing Service exists and is headless
        svc = by["Service"][st["spec"]["serviceName"]]
        assert svc["spec"]["selector"].items() <= st["spec"]["template"]["metadata"]["labels"].items(), name
    for name, w in workloads.items():             # ConfigMaps mounted as volumes exist
        for v in w["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in v:
                assert v["configMap"]["name"] in by["ConfigMap"], name
    for name, w in workloads.items():
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert w["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    for name, s in by["Service"].items():
        sel = s["spec"]["selector"]
        assert any(sel.items() <= w["spec"]["template"]["metadata"]["labels"].items() for w in workloads.values()), name
    hpa = by["HorizontalPodAutoscaler"]["app"]["spec"]
    assert hpa["scaleTargetRef"]["kind"] == "Deployment" and hpa["scaleTargetRef"]["name"] in by["Deployment"]
    assert hpa["minReplicas"] == int(conf_value("app-min")) and hpa["maxReplicas"] == int(conf_value("app-max"))
    cm = by["ConfigMap"]["scaleout"]["data"]
    services = by["Service"]
    for name, w in workloads.items():
        for c in w["spec"]["template"]["spec"]["containers"]:
            for ref in c.get("envFrom", []):
                assert ref["configMapRef"]["name"] in by["ConfigMap"]
            for a in c.get("args", []):
                for var in re.findall(r"\$\((\w+)\)", a):
                    assert var in cm, f"{name}: $({var}) not in the ConfigMap"
    # the hosts the pods connect to are Services on the right ports
    kv_host, kv_port = cm["KV"].split(":")
    assert services[kv_host]["spec"]["ports"][0]["port"] == int(kv_port)
    pg = dict(kv.split("=") for kv in cm["PG"].split())
    assert services[pg["host"]]["spec"]["ports"][0]["port"] == int(pg["port"])
    assert pg["host"] == "pg-proxy"      # the apps go through the pg proxy, which reaches the postgres Service
    px_args = by["Deployment"]["pg-proxy"]["spec"]["template"]["spec"]["containers"][0]["args"]
    host, port = px_args[px_args.index("--primary") + 1].split(":")
    assert services[host]["spec"]["ports"][0]["port"] == int(port)
    # the pg proxy's replica is the replicas' Service; the primary's pg_hba lets them replicate
    rhost, rport = px_args[px_args.index("--replica") + 1].split(":")
    assert services[rhost]["spec"]["selector"]["app.kubernetes.io/name"] == "postgres-replica"
    assert services[rhost]["spec"]["ports"][0]["port"] == int(rport)
    assert by["StatefulSet"]["postgres-replica"]["spec"]["replicas"] == int(conf_value("pg-replicas"))
    init = by["StatefulSet"]["postgres-replica"]["spec"]["template"]["spec"]["initContainers"][0]["command"][-1]
    assert "pg_basebackup -h postgres " in init and " -R" in init
    assert "host replication" in by["ConfigMap"]["postgres-init"]["data"]["replication.sh"]
    # kv replicas follow kv-0 by its stable name; sentinels are pods of their StatefulSet
    rep_args = by["StatefulSet"]["kv-replica"]["spec"]["template"]["spec"]["containers"][0]["args"]
    pod, svc = rep_args[rep_args.index("--replicaof") + 1].split(".")
    assert by["StatefulSet"][svc]["spec"]["serviceName"] == svc and pod == f"{svc}-0"
    sent = by["StatefulSet"]["sentinel"]
    for addr in cm["KV_SENTINEL"].split(","):
        host, port = addr.split(":")
        pod, svc = host.split(".")
        assert svc == sent["spec"]["serviceName"] and int(pod.rsplit("-", 1)[1]) < sent["spec"]["replicas"]
        assert services[svc]["spec"]["ports"][0]["port"] == int(port)
    assert "sentinel monitor scaleout" in sent["spec"]["template"]["spec"]["initContainers"][0]["command"][-1]
    for name in ("app", "worker"):
        args = by["Deployment"][name]["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[args.index("--kv-sentinel") + 1] == "$(KV_SENTINEL)", name
    lb_args = by["Deployment"]["lb"]["spec"]["template"]["spec"]["containers"][0]["args"]
    host, port = lb_args[lb_args.index("--backend") + 1].split(":")
    assert services[host]["spec"]["ports"][0]["port"] == int(port)


def test_emit_rejects_an_unknown_kind(tmp_path):
    out = subprocess.run([str(scaleout_bin()), "up", "--emit", "nomad", str(tmp_path)], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 2 and "systemd or k8s" in out.stderr


def test_systemd_units_of_the_router_topology(tmp_path):
    """examples/up-sharded.conf: the shards' units, every sentinel watching
    every shard, the router over shards 2..N with the queue pool on shard 1,
    the apps on the router and the workers on shard 1 through the sentinels."""
    import shlex
    conf = REPO_ROOT / "examples/up-sharded.conf"
    d = tmp_path / "sd"
    out = subprocess.run([str(scaleout_bin()), "up", str(conf), "--emit", "systemd", str(d)], capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    files = {f.name for f in d.iterdir()}
    value = {w[0]: w[1] for w in (l.split("#")[0].split() for l in conf.read_text().splitlines()) if len(w) >= 2}
    kv_port, shards, reps = int(value["kv-port"]), int(value["router-shards"]), int(value["kv-replicas"])
    ports = {1: kv_port}
    for s in range(2, shards + 1):
        ports[s] = kv_port + (s - 1) * (1 + reps)
        ex = unit(d / f"scaleout-kv-s{s}.service")["Service"]["ExecStart"]
        assert f"--port {ports[s]} " in ex
        rex = unit(d / f"scaleout-kv-s{s}-replica-1.service")["Service"]["ExecStart"]
        assert f"--replicaof 127.0.0.1 {ports[s]}" in rex
    wants = unit(d / "scaleout.target")["Unit"]["Wants"].split()
    assert all(u in files or re.sub(r"@[^.]+\.", "@.", u) in files for u in wants), wants
    assert "scaleout-router.service" in wants and "scaleout-kv-s3-replica-1.service" in wants
    sent_ports = []
    for f in sorted(f for f in files if f.startswith("scaleout-sentinel-")):
        pre = unit(d / f)["Service"]["ExecStartPre"]
        sent_ports.append(int(re.search(r"port (\d+)", pre).group(1)))
        monitored = {m: int(p) for m, p in re.findall(r"sentinel monitor (\S+) 127\.0\.0\.1 (\d+) 2", pre)}
        assert monitored == {"scaleout": ports[1], **{f"scaleout-s{s}": ports[s] for s in range(2, shards + 1)}}
    router = shlex.split(unit(d / "scaleout-router.service")["Service"]["ExecStart"])
    assert router[1] == "router"
    rport = int(router[router.index("--listen") + 1].split(":")[1])
    assert sorted(int(router[i + 1].split(":")[1]) for i, a in enumerate(router) if a == "--sentinel") == sent_ports
    pool_at = router.index("--pool")
    default = [router[i + 1] for i, a in enumerate(router[:pool_at]) if a == "--shard"]
    assert sorted(default) == sorted(f"127.0.0.1:{ports[s]} name s{s} master scaleout-s{s}" for s in range(2, shards + 1))
    assert router[pool_at + 1] == "queue" and router[router.index("--prefix") + 1] == "queue: job: jobs: worker:"
    assert router[router.index("--shard", pool_at) + 1] == f"127.0.0.1:{ports[1]} name q1 master scaleout"
    app = shlex.split(unit(d / "scaleout-app@.service")["Service"]["ExecStart"])
    assert app[app.index("--kv") + 1] == f"127.0.0.1:{rport}" and app[app.index("--kv-router") + 1] == "yes"
    assert "scaleout-router.service" in unit(d / "scaleout-app@.service")["Unit"]["After"].split()
    worker = shlex.split(unit(d / "scaleout-worker@.service")["Service"]["ExecStart"])
    assert worker[worker.index("--kv") + 1] == f"127.0.0.1:{ports[1]}"
    assert sorted(int(x.split(":")[1]) for x in worker[worker.index("--kv-sentinel") + 1].split(",")) == sent_ports


def test_k8s_manifests_of_the_router_topology(tmp_path):
    """examples/up-sharded.conf as manifests: a StatefulSet pair per shard,
    the sentinels' init script resolving and monitoring every shard, the
    router Deployment over shards 2..N with the queue pool on shard 1, the
    apps on the router Service and the workers on shard 1."""
    conf = REPO_ROOT / "examples/up-sharded.conf"
    d = tmp_path / "k8s"
    out = subprocess.run([str(scaleout_bin()), "up", str(conf), "--emit", "k8s", str(d)], capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    by = {}
    for f in sorted(d.glob("*.yaml")):
        for x in yaml.safe_load_all(f.read_text()):
            if x:
                by.setdefault(x["kind"], {})[x["metadata"]["name"]] = x
    shards = int([l.split()[1] for l in conf.read_text().splitlines() if l.startswith("router-shards")][0])
    bases = ["kv"] + [f"kv-s{s}" for s in range(2, shards + 1)]
    assert set(by["StatefulSet"]) >= set(bases) | {f"{b}-replica" for b in bases} | {"sentinel"}
    for b in bases:
        st = by["StatefulSet"][f"{b}-replica"]
        args = st["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[args.index("--replicaof") + 1] == f"{b}-0.{b}"
        assert by["Service"][b]["spec"]["clusterIP"] == "None"
    script = by["StatefulSet"]["sentinel"]["spec"]["template"]["spec"]["initContainers"][0]["command"][-1]
    for i, b in enumerate(bases, 1):
        assert f"getent hosts {b}-0.{b}" in script
    assert script.count("sentinel monitor ") == shards
    workloads = {**by["Deployment"], **by["StatefulSet"]}
    router = by["Deployment"]["router"]["spec"]["template"]["spec"]["containers"][0]["args"]
    pool_at = router.index("--pool")
    for i, a in enumerate(router):
        if a in ("--shard", "--sentinel"):
            host = router[i + 1].split()[0].split(":")[0]
            pod, svc = host.split(".")
            st = workloads[svc]
            assert st["spec"]["serviceName"] == svc and int(pod.rsplit("-", 1)[1]) < st["spec"]["replicas"], host
    assert [router[i + 1] for i, a in enumerate(router[:pool_at]) if a == "--shard"] == \
        [f"kv-s{s}-0.kv-s{s}:6379 name s{s} master scaleout-s{s}" for s in range(2, shards + 1)]
    assert router[router.index("--shard", pool_at) + 1] == "kv-0.kv:6379 name q1 master scaleout"
    cm = by["ConfigMap"]["scaleout"]["data"]
    host, port = cm["KV"].split(":")
    assert by["Service"][host]["spec"]["selector"]["app.kubernetes.io/name"] == "router"
    assert int(port) == int(router[router.index("--listen") + 1].split(":")[1])
    app = by["Deployment"]["app"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert app[app.index("--kv") + 1] == "$(KV)" and app[app.index("--kv-router") + 1] == "yes"
    worker = by["Deployment"]["worker"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert worker[worker.index("--kv") + 1] == "$(QUEUE_KV)" and cm["QUEUE_KV"].split(":")[0] == "kv"
    assert worker[worker.index("--kv-sentinel") + 1] == "$(KV_SENTINEL)"


def test_pg_proxy_args_reach_the_proxy_everywhere(tmp_path):
    """pg-proxy-args: the flags go to the pg proxy that up runs, and to its
    systemd unit and k8s Deployment alike."""
    conf = tmp_path / "up.conf"
    conf.write_text(CONF.read_text() + '\npg-proxy-args "--primary-read-weight 2 --balance leastconn"\n')
    for kind in ("systemd", "k8s"):
        out = subprocess.run([str(scaleout_bin()), "up", str(conf), "--emit", kind, str(tmp_path / kind)],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
    sd = unit(tmp_path / "systemd" / "scaleout-pg-proxy.service")
    assert sd["Service"]["ExecStart"].endswith(" --primary-read-weight 2 --balance leastconn"), sd["Service"]["ExecStart"]
    dep = yaml.safe_load((tmp_path / "k8s" / "pg-proxy.yaml").read_text().split("\n---")[0])
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-4:] == ["--primary-read-weight", "2", "--balance", "leastconn"], args
