// One activation: its facts, result, logs and annotations; the activation that caused it; and
// for a sequence or a trigger fire, links to the activations it caused (the components of a
// sequence, the rule's actions of a trigger).

import { api } from '../api.js';
import { h, notice, annotation, formatTime, formatDuration, pretty, statusBadge } from '../dom.js';

const ID = /\b[0-9a-f]{32}\b/g;

export async function activationView(root, id) {
  const record = await api.activation(id);
  const init = annotation(record, 'initTime');
  const kind = annotation(record, 'kind');
  // Caused activations start at or after this one; the summaries carry `cause`.
  let caused = [];
  try {
    const later = await api.activations({ since: record.start, limit: 200 });
    caused = later.filter((r) => r.cause === id).sort((a, b) => a.start - b.start);
  } catch (error) {
    root.append(notice('error', error.message));
  }
  const linkIds = (text) => {
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(ID)) {
      parts.push(text.slice(last, match.index), h('a.mono', { href: `#/activations/${match[0]}` }, match[0]));
      last = match.index + match[0].length;
    }
    parts.push(text.slice(last));
    return parts;
  };
  const linksInLogs = kind === 'sequence' || caused.length > 0;

  // h() skips null children; the native append would print them.
  root.append(h('div', {},
    h('header.view-header', {}, h('h1', {}, `Activation of ${record.name}`), h('code', {}, record.activationId)),
    h('dl.facts', {},
      h('dt', {}, 'Status'), h('dd', {}, statusBadge(record.response.statusCode), ' ', record.response.status),
      h('dt', {}, 'Function'), h('dd', {}, annotation(record, 'path') || record.name, ` (version ${record.version})`),
      h('dt', {}, 'Start'), h('dd', {}, formatTime(record.start)),
      h('dt', {}, 'Duration'), h('dd', {}, formatDuration(record.duration)),
      h('dt', {}, 'Start kind'), h('dd', {}, kind === 'sequence' ? 'sequence' : init !== undefined ? `cold (init ${formatDuration(init)})` : 'warm'),
      h('dt', {}, 'Caused by'), h('dd', {}, record.cause ? h('a.mono', { href: `#/activations/${record.cause}` }, record.cause) : '—')),
    caused.length ? h('section', {},
      h('h2', {}, kind === 'sequence' ? 'Component activations' : 'Activations it caused'),
      h('ul.caused', { id: 'caused' }, caused.map((r) => h('li', {},
        h('a.mono', { href: `#/activations/${r.activationId}` }, r.activationId), ' ', r.name, ' ', statusBadge(r.statusCode))))) : null,
    h('h2', {}, 'Result'),
    h('pre.json', { id: 'activation-result' }, pretty(record.response.result)),
    h('h2', {}, 'Logs'),
    h('pre.logs', { id: 'activation-logs' }, record.logs.length
      ? record.logs.flatMap((line, i) => [i ? '\n' : '', ...(linksInLogs ? linkIds(line) : [line])])
      : '(no logs)'),
    h('h2', {}, 'Annotations'),
    h('table.list.compact', { 'aria-label': 'Annotations' },
      h('tbody', {}, record.annotations.map((a) => h('tr', {}, h('th', { scope: 'row' }, a.key), h('td', {}, h('code', {}, JSON.stringify(a.value))))))),
    h('p', {}, h('a.button.secondary', { href: '#/activations' }, 'All activations'))));
}
