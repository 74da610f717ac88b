// Functions: every action of the namespace with its kind, version, memory, timeout, when it was
// last invoked, and its invocations and error rate over the last 24 hours; links to edit, invoke
// and history; delete with confirmation. OpenFaaS-deployed functions are ordinary actions and are
// badged. The list refreshes when an action changes or an activation completes.

import { api } from '../api.js';
import { h, annotation, formatAgo, formatTime, confirmDialog, notice } from '../dom.js';
import { onLive, throttled } from '../live.js';

// The `openfaas` annotation (the FunctionDeployment) marks an action deployed through the
// OpenFaaS routes (`POST /system/functions`).
function isOpenFaas(action) {
  return (action.annotations || []).some((a) => a.key === 'openfaas');
}

export async function functionsView(root) {
  const status = h('div');
  const body = h('tbody');
  const table = h('table.list', { 'aria-label': 'Functions' },
    h('thead', {}, h('tr', {},
      ['Name', 'Kind', 'Version', 'Memory', 'Timeout', 'Last invoked', 'Invocations (24 h)', 'Error rate', ''].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  root.append(
    h('header.view-header', {},
      h('h1', {}, 'Functions'),
      h('a.button', { href: '#/functions/new', id: 'new-function' }, 'New function')),
    status,
    table);

  const refresh = async () => {
    try {
      const [actions, stats] = await Promise.all([api.actions(), api.stats(1440)]);
      body.replaceChildren(...(actions.length ? actions.map((action) => row(action, stats, refresh, status)) : [
        h('tr', {}, h('td.empty', { colspan: 9 }, 'No functions yet. Create one with “New function”.')),
      ]));
    } catch (error) {
      status.replaceChildren(notice('error', error.message));
    }
  };
  await refresh();
  const later = throttled(refresh, 1000);
  return onLive((type, data) => {
    if (type === 'activation' || (type === 'entity' && data.kind === 'actions')) later();
  });
}

function row(action, stats, refresh, status) {
  const name = action.name;
  const kind = annotation(action, 'exec') || (action.exec && action.exec.kind) || '';
  const total = stats.functions[name] ? stats.functions[name].total : null;
  const invocations = total ? total.invocations : 0;
  const errorRate = invocations ? `${((100 * total.errors) / invocations).toFixed(1)} %` : '—';
  const remove = async () => {
    if (!(await confirmDialog(`Delete the function “${name}”? Its activations stay.`, 'Delete'))) return;
    try {
      await api.deleteAction(name);
      status.replaceChildren(notice('ok', `Deleted ${name}.`));
      await refresh();
    } catch (error) {
      status.replaceChildren(notice('error', error.message));
    }
  };
  return h('tr', { dataset: { name } },
    h('td', {}, h('a', { href: `#/functions/edit/${encodeURIComponent(name)}` }, name),
      isOpenFaas(action) ? h('span.badge.openfaas', { title: 'Deployed through the OpenFaaS API' }, 'OpenFaaS') : null),
    h('td', {}, kind),
    h('td', {}, action.version),
    h('td.num', {}, `${action.limits.memory} MB`),
    h('td.num', {}, `${action.limits.timeout / 1000} s`),
    h('td', { title: total && total.last_start_ms ? formatTime(total.last_start_ms) : 'not in the last 24 hours' },
      total && total.last_start_ms ? formatAgo(total.last_start_ms) : '—'),
    h('td.num', {}, String(invocations)),
    h('td.num', {}, errorRate),
    h('td.actions', {},
      h('a.button.small', { href: `#/invoke/${encodeURIComponent(name)}`, 'aria-label': `Invoke ${name}` }, 'Invoke'),
      h('a.button.small.secondary', { href: `#/audit/actions/${encodeURIComponent(name)}`, 'aria-label': `History of ${name}` }, 'History'),
      h('button.small.danger', { onclick: remove, 'aria-label': `Delete ${name}` }, 'Delete')));
}
