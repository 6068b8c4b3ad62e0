import { setFlagsFromString } from 'node:v8';
import { readFileSync } from 'node:fs';
setFlagsFromString('--liftoff-only');
const { PGlite } = await import('@electric-sql/pglite');
const pg = await PGlite.create(process.env.D, { startParams: [...PGlite.defaultStartParams, '-c','shared_buffers=16MB','-c','maintenance_work_mem=16MB'] });
await pg.query('select count(*) from pg_class');
const sm = readFileSync('/proc/self/smaps', 'utf8').split('\n');
let cur = null; const out = [];
for (const l of sm) {
  if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) { const [range, perm, , , , path] = l.split(/\s+/); const [a,b] = range.split('-').map(x=>parseInt(x,16)); cur = { size: (b-a)/1048576, perm, path: path||'' }; out.push(cur); }
  else if (l.startsWith('Rss:')) cur.rss = Number(l.split(/\s+/)[1])/1024;
}
out.filter(m => m.rss > 1).sort((a,b)=>b.rss-a.rss).slice(0,15).forEach(m => console.log(m.rss.toFixed(1).padStart(7), 'MB rss of', m.size.toFixed(0).padStart(7), 'MB', m.perm, m.path));
console.log('heap size', pg.mod.HEAP8.length/1048576);
console.log('total rss', process.memoryUsage().rss/1048576);
