/**
 * The status page: static HTML and a small script, shipped as this module (the package ships `dist` and
 * `src`, so no asset file needs a place in `files`). It polls `/status.json` every second and redraws; no
 * framework, nothing loaded from elsewhere (the page works offline). Every value goes in as text
 * (`textContent`), never as HTML.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kstreams status</title>
<link rel="icon" href="data:,">
<style>
  body { font-family: system-ui, sans-serif; margin: 20px; color: #111827; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 24px 0 8px; }
  #meta { color: #4b5563; font-size: 13px; }
  table { border-collapse: collapse; font-size: 13px; }
  th, td { border: 1px solid #d1d5db; padding: 4px 8px; text-align: left; vertical-align: top; }
  th { background: #f3f4f6; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .RUNNING { color: #166534; font-weight: bold; }
  .REBALANCING { color: #92400e; font-weight: bold; }
  .unreachable, .ERROR { color: #991b1b; font-weight: bold; }
  #topology { border: 1px solid #e5e7eb; overflow: auto; max-width: 100%; display: inline-block; }
</style>
</head>
<body>
<h1 id="title">kstreams status</h1>
<div id="meta">loading…</div>
<h2>Instances</h2>
<table id="instances">
  <thead><tr><th>instance</th><th>state</th><th>active tasks</th><th>standby tasks</th><th>records/s</th><th>processed</th><th>lag</th>
  <th>restoring</th><th>late</th><th>dropped</th><th>dead-lettered</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Tasks</h2>
<table id="tasks">
  <thead><tr><th>task</th><th>instance</th><th>role</th><th>lag</th><th>processed</th><th>restore remaining</th><th>store sizes</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Topology</h2>
<div id="topology"><img src="status/topology.svg" alt="topology diagram"></div>
<script>
(() => {
  const previous = new Map();
  const cell = (row, text, cls) => {
    const td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  };
  const num = (row, value) => cell(row, typeof value === 'number' && isFinite(value) ? value.toLocaleString('en') : '', 'num');
  const bytes = (n) => n >= 1048576 ? (n / 1048576).toFixed(1) + ' MiB' : n >= 1024 ? (n / 1024).toFixed(1) + ' KiB' : n + ' B';
  function render(status) {
    document.getElementById('title').textContent = 'kstreams status: ' + status.applicationId;
    document.getElementById('meta').textContent =
      status.instances.length + ' instance(s) in the group; page served by ' + status.self + '; updated ' + new Date(status.time).toLocaleTimeString('en');
    const instances = document.querySelector('#instances tbody');
    const tasks = document.querySelector('#tasks tbody');
    instances.replaceChildren();
    tasks.replaceChildren();
    for (const instance of status.instances) {
      const row = document.createElement('tr');
      row.dataset.instance = instance.applicationServer || instance.clientId;
      const local = instance.status;
      const m = local && local.metrics;
      cell(row, instance.applicationServer || instance.clientId);
      if (!m) {
        cell(row, 'unreachable', 'unreachable').title = instance.error || '';
      } else {
        cell(row, m.state, m.state);
      }
      cell(row, instance.activeTasks.join(' '));
      cell(row, instance.standbyTasks.join(' '));
      let rate;
      if (m) {
        const key = row.dataset.instance;
        const before = previous.get(key);
        if (before && local.time > before.time) rate = Math.round(((m.processedTotal - before.processed) * 1000) / (local.time - before.time));
        previous.set(key, { time: local.time, processed: m.processedTotal });
      }
      num(row, rate);
      num(row, m && m.processedTotal);
      num(row, m && m.recordsLag);
      num(row, m && m.restoreRemainingRecords);
      num(row, m && m.droppedLateTotal);
      num(row, m && m.droppedNullKeyTotal + m.droppedInvalidTimestampTotal + m.droppedProductionTotal + m.skippedRecordsTotal);
      num(row, m && m.deadLetterRecordsTotal);
      instances.appendChild(row);
      if (!local) continue;
      const restoring = new Map((local.restoring || []).map((r) => [r.taskId, r]));
      for (const t of (m && m.tasks) || []) {
        const r = document.createElement('tr');
        cell(r, t.taskId);
        cell(r, instance.applicationServer);
        cell(r, 'active');
        num(r, Object.values(t.recordsLag).reduce((a, b) => a + b, 0));
        num(r, t.processedTotal);
        num(r, restoring.has(t.taskId) ? Number(restoring.get(t.taskId).remaining) : 0);
        const sizes = (local.storeSizes || {})[t.taskId] || {};
        cell(r, Object.entries(sizes).map(([s, n]) => s + ': ' + bytes(n)).join(', '));
        tasks.appendChild(r);
      }
      for (const s of local.standbys || []) {
        const r = document.createElement('tr');
        cell(r, s.taskId);
        cell(r, instance.applicationServer);
        cell(r, 'standby');
        num(r, s.lag);
        cell(r, '');
        cell(r, '');
        const sizes = (local.storeSizes || {})[s.taskId] || {};
        cell(r, Object.entries(sizes).map(([n, b]) => n + ': ' + bytes(b)).join(', '));
        tasks.appendChild(r);
      }
    }
  }
  async function poll() {
    try {
      const res = await fetch('status.json', { cache: 'no-store' });
      if (res.ok) render(await res.json());
      else document.getElementById('meta').textContent = 'status.json answered ' + res.status;
    } catch (err) {
      document.getElementById('meta').textContent = 'cannot reach the server: ' + err;
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
</script>
</body>
</html>
`;
