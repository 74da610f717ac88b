// Plots of the last hour (or 15 minutes, or 24 hours), overall or for one function:
// invocations per second, p50 and p99 latency, cold vs warm starts, errors; and the container
// pool of the invoker by state. Refreshed every 10 s and when activations complete.

import { api } from '../api.js';
import { h, notice, formatDuration } from '../dom.js';
import { linePlot, barPlot } from '../plot.js';
import { onLive, throttled } from '../live.js';

const POOL_STATES = [
  ['ready', 'warm (idle)', '#16a34a'],
  ['running', 'running', '#2563eb'],
  ['prewarmed', 'prewarmed', '#7c3aed'],
  ['paused', 'paused', '#d97706'],
  ['starting', 'starting', '#64748b'],
];

export async function metricsView(root) {
  const fn = h('select', { id: 'metrics-function' }, h('option', { value: '' }, 'all functions'));
  const range = h('select', { id: 'metrics-range' },
    [['15', 'last 15 minutes'], ['60', 'last hour'], ['1440', 'last 24 hours']].map(([v, l]) => h('option', { value: v, selected: v === '60' }, l)));
  const status = h('div');
  const totals = h('dl.facts.wide', { id: 'metrics-totals' });
  const plots = h('div.plots', { id: 'plots' });
  const pool = h('div.plots', { id: 'pool' });
  root.append(
    h('header.view-header', {}, h('h1', {}, 'Metrics'),
      h('label', {}, 'Function ', fn), h('label', {}, 'Window ', range)),
    status, totals, plots,
    h('h2', {}, 'Container pool'), pool);

  async function refresh() {
    try {
      const stats = await api.stats(Number(range.value));
      const chosen = fn.value;
      const known = new Set([...fn.options].map((o) => o.value));
      for (const name of Object.keys(stats.functions)) {
        if (!known.has(name)) fn.append(h('option', { value: name }, name));
      }
      const series = chosen ? stats.functions[chosen] || empty() : stats.overall;
      const seconds = stats.bucket_ms / 1000;
      const t = series.total;
      totals.replaceChildren(
        h('dt', {}, 'Invocations'), h('dd', {}, String(t.invocations)),
        h('dt', {}, 'Errors'), h('dd', {}, `${t.errors}${t.invocations ? ` (${((100 * t.errors) / t.invocations).toFixed(1)} %)` : ''}`),
        h('dt', {}, 'Cold / warm'), h('dd', {}, `${t.cold} / ${t.warm}`),
        h('dt', {}, 'p50 / p99'), h('dd', {}, `${formatDuration(t.p50_ms)} / ${formatDuration(t.p99_ms)}`));
      const common = { fromMs: stats.from_ms, bucketMs: stats.bucket_ms };
      plots.replaceChildren(
        linePlot({ ...common, title: 'Invocations per second', unit: '/s', lines: [{ label: 'invocations', values: series.invocations.map((n) => n / seconds) }] }),
        linePlot({ ...common, title: 'Latency', unit: 'ms', lines: [{ label: 'p50', values: series.p50_ms }, { label: 'p99', values: series.p99_ms, color: '#dc2626' }] }),
        linePlot({ ...common, title: 'Cold and warm starts', lines: [{ label: 'cold', values: series.cold, color: '#2563eb' }, { label: 'warm', values: series.warm, color: '#16a34a' }] }),
        linePlot({ ...common, title: 'Errors', lines: [{ label: 'errors', values: series.errors, color: '#dc2626' }] }));
      if (stats.pool) {
        pool.replaceChildren(
          barPlot({ title: 'Containers by state', bars: POOL_STATES.map(([key, label, color]) => ({ label, value: stats.pool.containers[key] || 0, color })) }),
          h('p.muted', {}, `queue ${stats.pool.queue_depth}, in flight ${stats.pool.in_flight}; since start: ${stats.pool.cold_starts} cold, ${stats.pool.warm_starts} warm, ${stats.pool.prewarm_starts} from prewarmed containers (every namespace)`));
      } else {
        pool.replaceChildren(h('p.muted', {}, 'This process runs no invoker (a controller of a multi-node deployment).'));
      }
      if (stats.truncated) status.replaceChildren(notice('error', 'More activations than the console aggregates: the oldest of the window are left out.'));
      else status.replaceChildren();
    } catch (error) {
      status.replaceChildren(notice('error', error.message));
    }
  }
  fn.addEventListener('change', refresh);
  range.addEventListener('change', refresh);
  await refresh();
  const timer = setInterval(refresh, 10000);
  const later = throttled(refresh, 2000);
  const off = onLive((type) => { if (type === 'activation') later(); });
  return () => {
    clearInterval(timer);
    off();
  };
}

function empty() {
  const zeros = new Array(60).fill(0);
  const nulls = new Array(60).fill(null);
  return { invocations: zeros, errors: zeros, cold: zeros, warm: zeros, p50_ms: nulls, p99_ms: nulls, total: { invocations: 0, errors: 0, cold: 0, warm: 0, p50_ms: null, p99_ms: null } };
}
