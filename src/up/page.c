/*
 * page.c — the status page `up` serves at / on its status port: one HTML
 * file, no external assets. It polls /status (JSON) every second and draws
 * the topology (one box per process, coloured by state), load, req/s,
 * errors/s, response time, the job backlog, the cache hit ratio, the
 * autoscaler's numbers and two SVG plots (app instances and req/s over the
 * last minute).
 */
#include "up/up.h"

const char up_page_html[] =
    "<!doctype html><html><head><meta charset=utf-8><title>scaleout up</title><style>\n"
    "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.3em}\n"
    ".tier{display:flex;gap:.5em;margin:.4em 0;align-items:center}.tier b{width:6em}\n"
    ".p{border:1px solid #888;border-radius:4px;padding:.3em .6em;min-width:7em}\n"
    ".running{background:#d8f5d8}.starting,.restarting{background:#fff2c0}.draining,.stopping{background:#e0e8ff}\n"
    ".failed{background:#f8c8c8}.stopped{background:#eee}small{color:#555}table td{padding:0 1em 0 0}\n"
    "svg{border:1px solid #ccc;background:#fafafa}</style></head><body>\n"
    "<h1>scaleout up</h1><div id=sum>loading…</div><div id=topo></div>\n"
    "<h3>app instances</h3><svg id=g1 width=600 height=100></svg>\n"
    "<h3>requests/s through the lb</h3><svg id=g2 width=600 height=100></svg>\n"
    "<script>\n"
    "function esc(s){return String(s).replace(/[&<>\"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;'}[c]))}\n"
    "function plot(id,v){var s=document.getElementById(id),m=Math.max(1,...v),w=600,h=100,p='';\n"
    " v.forEach((x,i)=>{p+=(i?'L':'M')+(i*w/Math.max(1,v.length-1)).toFixed(1)+','+(h-5-x*(h-15)/m).toFixed(1)});\n"
    " s.innerHTML='<path d=\"'+p+'\" fill=none stroke=#36c stroke-width=2 /><text x=4 y=12 font-size=11>max '+m.toFixed(1)+'</text>'}\n"
    "async function upd(){try{var r=await fetch('/status'),j=await r.json();\n"
    " var a=j.autoscale,t=j.app_totals;\n"
    " document.getElementById('sum').innerHTML='<table><tr><td>system</td><td><a href=\"'+esc(j.lb)+'\">'+esc(j.lb)+'</a></td></tr>'+\n"
    "  '<tr><td>app instances</td><td>'+j.apps+' (min '+j.app_min+', max '+j.app_max+')</td></tr>'+\n"
    "  '<tr><td>load</td><td>'+j.load.toFixed(2)+' in flight per instance, '+j.rps.toFixed(0)+' req/s, '+j.errors_per_s.toFixed(1)+' errors/s, slowest app '+j.response_ms_avg_max.toFixed(1)+' ms avg</td></tr>'+\n"
    "  '<tr><td>app response</td><td>'+(j.app_ms.p50<0?'no requests':'p50 ≤ '+j.app_ms.p50+' ms, p95 ≤ '+j.app_ms.p95+' ms, p99 ≤ '+j.app_ms.p99+' ms (lb histogram)')+'</td></tr>'+\n"
    "  '<tr><td>jobs</td><td>'+j.job_backlog+' not yet done'+(j.queue=='kv-hash'?' (upper bound)':'')+'</td></tr>'+\n"
    "  '<tr><td>autoscaler</td><td>'+(a.enabled?'on':'off')+', '+esc(a.metric)+' now '+a.value.toFixed(1)+' ('+esc(a.unit)+'), up at '+a.scale_up_at+', down at '+a.scale_down_at+'; '+a.scale_ups+' up, '+a.scale_downs+' down; '+esc(a.last_action)+'</td></tr>'+\n"
    "  '<tr><td>cache</td><td>hit ratio '+(100*t.cache_hit_ratio).toFixed(1)+'% ('+t.cache_hits+' hits, '+t.cache_misses+' misses), '+t.db_queries+' db queries</td></tr>'+\n"
    "  (j.pg_proxy&&j.pg_proxy.status?'<tr><td>database</td><td>'+j.pg_proxy.status.backends.map(b=>esc(b.role)+' '+esc(b.address)+': '+b.queries+' queries'+(b.role=='replica'?', lag '+b.lag_ms+' ms':'')).join('; ')+' (pg proxy)</td></tr>':'')+'</table>';\n"
    " var tiers=['lb','app','worker','router','kv','kv-replica','sentinel','pg-proxy','postgres','pg-replica'],h='';\n"
    " tiers.forEach(k=>{var ps=j.procs.filter(p=>p.kind==k);if(!ps.length)return;h+='<div class=tier><b>'+k+'</b>';\n"
    "  ps.forEach(p=>{h+='<div class=\"p '+esc(p.state)+'\">'+esc(p.name)+'<br><small>'+esc(p.state)+(p.port?' :'+p.port:'')+' pid '+p.pid+(p.restarts?' ↻'+p.restarts:'')+'</small></div>'});h+='</div>'});\n"
    " document.getElementById('topo').innerHTML=h;plot('g1',j.history.apps);plot('g2',j.history.rps)}catch(e){document.getElementById('sum').textContent='up is not answering'}}\n"
    "upd();setInterval(upd,1000);\n"
    "</script></body></html>\n";
