// Audit: the log's verification status (the hash chain of the live log, checked on request), and
// the history of one entity — every change, when, by which key, and the field diff — read from
// the event log.

import { api } from '../api.js';
import { h, notice, formatTime, pretty } from '../dom.js';

const KINDS = ['actions', 'triggers', 'rules', 'packages', 'feeds', 'namespaces'];

export async function auditView(root, kind, encodedName) {
  const name = encodedName ? decodeURIComponent(encodedName) : '';
  const verification = h('section.verification', { id: 'verification', 'aria-live': 'polite' });
  const kindSelect = h('select', { id: 'history-kind' }, KINDS.map((k) => h('option', { value: k, selected: k === (kind || 'actions') }, k)));
  const nameInput = h('input', { id: 'history-name', value: name, required: true, autocomplete: 'off', list: 'history-names', placeholder: 'name (pkg/name inside a package)' });
  const names = h('datalist', { id: 'history-names' });
  // Offer the names that exist now (a deleted entity's history can still be asked for by name).
  const offer = async () => {
    const lists = { actions: api.actions, triggers: api.triggers, rules: api.rules };
    const list = lists[kindSelect.value];
    try {
      const entities = list ? await list() : [];
      names.replaceChildren(...entities.map((e) => h('option', { value: e.name })));
    } catch {
      names.replaceChildren();
    }
  };
  kindSelect.addEventListener('change', offer);
  offer();
  const history = h('section', { id: 'history' });

  root.append(
    h('header.view-header', {}, h('h1', {}, 'Audit')),
    h('h2', {}, 'Event log'),
    verification,
    h('h2', {}, 'History of an entity'),
    h('form.inline', { onsubmit: (event) => {
      event.preventDefault();
      location.hash = `#/audit/${kindSelect.value}/${encodeURIComponent(nameInput.value.trim())}`;
    } }, h('label', {}, 'Kind ', kindSelect), h('label', {}, 'Name ', nameInput), names, h('button', { type: 'submit', id: 'history-show' }, 'Show history')),
    history);

  const verify = async () => {
    verification.replaceChildren(h('p', {}, 'Verifying the log…'));
    try {
      const v = await api.verify();
      verification.replaceChildren(
        h(`p.verdict.${v.valid ? 'ok' : 'bad'}`, { id: 'verify-verdict' }, v.valid
          ? `Verified: ${v.records} records, hash chain intact.`
          : `Record ${v.bad_seq} is bad: ${v.problem}`),
        h('dl.facts', {},
          h('dt', {}, 'Generation'), h('dd', {}, String(v.generation)),
          h('dt', {}, 'Records'), h('dd', {}, `${v.records} (seq ${v.first_seq ?? '—'} to ${v.head_seq ?? '—'})`),
          h('dt', {}, 'Head hash'), h('dd', {}, h('code', {}, v.head_hash || '—')),
          h('dt', {}, 'Retention snapshots'), h('dd', {}, String(v.snapshots)),
          h('dt', {}, 'Checked'), h('dd', {}, `${formatTime(v.checked_at_ms)} in ${v.elapsed_ms} ms`)),
        h('p.muted', {}, 'The chain proves nothing inside the log was changed or removed; keep the head hash elsewhere to detect records cut from its end.'),
        h('button.secondary', { onclick: verify, id: 'verify-again' }, 'Verify again'));
    } catch (error) {
      verification.replaceChildren(notice('error', error.message));
    }
  };
  verify();

  if (!kind || !name) {
    history.append(h('p.muted', {}, 'Choose an entity, or open History from a function, trigger or rule.'));
    return;
  }
  try {
    const result = await api.history(kind, name);
    history.append(
      h('h3', {}, result.entity),
      h('ol.history', { id: 'history-entries' }, result.changes.map((change) => h('li', {},
        h('div.change-head', {},
          h('strong', {}, change.event), ' ',
          h('span', {}, formatTime(change.time_ms)), ' · seq ', String(change.seq), ' · by ',
          change.by === 'key' ? h('code', { title: change.own_key ? 'the key you signed in with' : 'another key' }, `key ${change.key}${change.own_key ? ' (you)' : ''}`) : change.by),
        h('table.list.compact.diff', {},
          h('thead', {}, h('tr', {}, ['Field', 'Before', 'After'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, change.fields.length ? change.fields.map((f) => h('tr', {},
            h('td', {}, h('code', {}, f.path)),
            h('td.before', {}, show(f.before)),
            h('td.after', {}, show(f.after)))) : h('tr', {}, h('td', { colspan: 3 }, 'no field changed'))))))));
  } catch (error) {
    history.append(notice('error', error.message));
  }
}

// A value of the diff; a long one (a whole created entity) folds into <details>.
function show(value) {
  if (value === null || value === undefined) return h('pre', {}, '—');
  const text = typeof value === 'string' ? value : pretty(value);
  const lines = text.split('\n').length;
  if (lines <= 8) return h('pre', {}, text);
  return h('details', {}, h('summary', {}, `${lines} lines`), h('pre', {}, text));
}
