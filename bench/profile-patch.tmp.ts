import { BENCH_TOKEN, startManagerProcess } from './lib/manager-process';
import { summarize } from './lib/stats';
(async () => {
  const m = await startManagerProcess({}, process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/work/prof'] : []);
  const n = Number(process.env.N ?? 1000);
  const pid = Number((await (await fetch(`${m.url}/metrics`)).text()).match(/process_pid\S* (\d+)/)?.[1] ?? 0);
  const cpu = async () => { const t = await (await fetch(`${m.url}/metrics`)).text(); return Number(t.match(/^process_cpu_seconds_total (\S+)/m)?.[1]); };
  for (let i = 0; i < 200; i++) await (await fetch(`${m.url}/api/services/dedup-worker/config`, { method: 'PATCH', headers: { Authorization: `Bearer ${BENCH_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ cluster: { max_cluster_size: 2 + (i % 50) } }) })).arrayBuffer();
  const c0 = await cpu(); const s: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); const r = await fetch(`${m.url}/api/services/dedup-worker/config`, { method: 'PATCH', headers: { Authorization: `Bearer ${BENCH_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ cluster: { max_cluster_size: 2 + (i % 50) } }) }); await r.arrayBuffer(); s.push(performance.now() - t); }
  const c1 = await cpu();
  console.log('PATCH', summarize(s), 'cpu ms/patch', ((c1 - c0) * 1000 / n).toFixed(3), pid);
  const g: number[] = []; const c2 = await cpu();
  for (let i = 0; i < n; i++) { const t = performance.now(); const r = await fetch(`${m.url}/api/services/dedup-worker/config`, { headers: { Authorization: `Bearer ${BENCH_TOKEN}` } }); await r.arrayBuffer(); g.push(performance.now() - t); }
  const c3 = await cpu();
  console.log('GET', summarize(g), 'cpu ms/get', ((c3 - c2) * 1000 / n).toFixed(3));
  await m.stop();
})();
