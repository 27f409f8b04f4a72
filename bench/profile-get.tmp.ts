import autocannon from 'autocannon';
import { BENCH_TOKEN, startManagerProcess } from './lib/manager-process';
(async () => {
  const m = await startManagerProcess({}, process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/work/prof'] : []);
  const url = `${m.url}/api/services/dedup-worker/config`;
  await autocannon({ url, headers: { Authorization: `Bearer ${BENCH_TOKEN}` }, connections: 10, duration: 2 });
  const r = await autocannon({ url, headers: { Authorization: `Bearer ${BENCH_TOKEN}` }, connections: 10, duration: Number(process.env.SECS ?? 8) });
  console.log('GET rps', Math.round(r.requests.average), 'p50', r.latency.p50, 'p99', r.latency.p99, 'non2xx', r.non2xx);
  const h = await fetch(url, { headers: { Authorization: `Bearer ${BENCH_TOKEN}` } });
  console.log([...h.headers.keys()].join(','));
  await m.stop();
})();
