// Activations: the namespace's records, newest first, filtered by function, status and time
// range, with new records arriving live from the event stream (highlighted) when they match the
// filters. The status filter is applied here (the API filters by name and time).

import { api } from '../api.js';
import { h, notice, annotation, formatTime, formatDuration, statusBadge } from '../dom.js';
import { onLive } from '../live.js';

const RANGES = [
  ['15', 'last 15 minutes'],
  ['60', 'last hour'],
  ['1440', 'last 24 hours'],
  ['all', 'all time'],
  ['custom', 'between…'],
];
const STATUSES = [
  ['any', 'any status'],
  ['ok', 'success'],
  ['failed', 'any failure'],
  ['1', 'application error'],
  ['2', 'developer error'],
  ['3', 'internal error'],
];

export async function activationsView(root, query) {
  const params = new URLSearchParams(query || '');
  const nameFilter = h('input', { id: 'filter-name', list: 'function-names', value: params.get('name') || '', placeholder: 'any function', autocomplete: 'off' });
  const names = h('datalist', { id: 'function-names' });
  const statusFilter = h('select', { id: 'filter-status' }, STATUSES.map(([v, l]) => h('option', { value: v }, l)));
  const rangeFilter = h('select', { id: 'filter-range' }, RANGES.map(([v, l]) => h('option', { value: v, selected: v === '60' }, l)));
  const since = h('input', { type: 'datetime-local', id: 'filter-since', 'aria-label': 'From' });
  const upto = h('input', { type: 'datetime-local', id: 'filter-upto', 'aria-label': 'To' });
  const custom = h('span.custom', { hidden: true }, since, ' to ', upto);
  const live = h('span.muted', { id: 'activations-live' });
  const status = h('div');
  const body = h('tbody', { id: 'activation-rows' });

  root.append(
    h('header.view-header', {}, h('h1', {}, 'Activations'), live),
    h('form.filters', { onsubmit: (event) => { event.preventDefault(); load(); } },
      h('label', {}, 'Function ', nameFilter), names,
      h('label', {}, 'Status ', statusFilter),
      h('label', {}, 'Time ', rangeFilter), custom,
      h('button', { type: 'submit' }, 'Apply')),
    status,
    h('table.list', { 'aria-label': 'Activations' },
      h('thead', {}, h('tr', {}, ['Start', 'Function', 'Status', 'Duration', 'Start kind', 'Activation', 'Cause'].map((t) => h('th', { scope: 'col' }, t)))),
      body));

  for (const control of [statusFilter, rangeFilter]) control.addEventListener('change', () => load());
  rangeFilter.addEventListener('change', () => { custom.hidden = rangeFilter.value !== 'custom'; });
  nameFilter.addEventListener('change', () => load());

  function bounds() {
    const range = rangeFilter.value;
    if (range === 'all') return {};
    if (range === 'custom') {
      return {
        since: since.value ? new Date(since.value).getTime() : undefined,
        upto: upto.value ? new Date(upto.value).getTime() : undefined,
      };
    }
    return { since: Date.now() - Number(range) * 60000 };
  }

  function matches(record) {
    const wanted = nameFilter.value.trim();
    if (wanted && record.name !== wanted.split('/').pop()) return false;
    const code = record.statusCode;
    const s = statusFilter.value;
    if (s === 'ok' && code !== 0) return false;
    if (s === 'failed' && code === 0) return false;
    if (/^\d$/.test(s) && code !== Number(s)) return false;
    const { since: from, upto: to } = bounds();
    if (from && record.start < from) return false;
    if (to && record.start > to) return false;
    return true;
  }

  async function load() {
    status.replaceChildren();
    try {
      const { since: from, upto: to } = bounds();
      const records = await api.activations({ name: nameFilter.value.trim(), since: from, upto: to, limit: 200 });
      const shown = records.filter(matches);
      body.replaceChildren(...(shown.length ? shown.map((r) => row(r, false)) : [empty()]));
    } catch (error) {
      status.replaceChildren(notice('error', error.message));
    }
  }

  api.actions().then((actions) => names.replaceChildren(...actions.map((a) => h('option', { value: a.name }))), () => {});
  await load();
  return onLive((type, data) => {
    if (type !== 'activation' || !matches(data)) return;
    if (body.querySelector(`tr[data-id="${data.activationId}"]`)) return;
    const placeholder = body.querySelector('td.empty');
    if (placeholder) placeholder.parentElement.remove();
    body.prepend(row(data, true));
    live.textContent = `last live record ${formatTime(data.end)}`;
  });
}

function empty() {
  return h('tr', {}, h('td.empty', { colspan: 7 }, 'No activations match.'));
}

function row(record, fresh) {
  const init = annotation(record, 'initTime');
  const kind = annotation(record, 'kind');
  return h(`tr${fresh ? '.fresh' : ''}`, { dataset: { id: record.activationId, name: record.name } },
    h('td', {}, formatTime(record.start)),
    h('td', {}, record.name),
    h('td', {}, statusBadge(record.statusCode)),
    h('td.num', {}, formatDuration(record.duration)),
    h('td', {}, kind === 'sequence' ? 'sequence' : kind === undefined && init === undefined ? '—' : init !== undefined ? 'cold' : 'warm'),
    h('td', {}, h('a.mono', { href: `#/activations/${record.activationId}` }, record.activationId)),
    h('td', {}, record.cause ? h('a.mono', { href: `#/activations/${record.cause}` }, record.cause.slice(0, 8) + '…') : '—'));
}
