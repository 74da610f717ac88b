// Invoke a function: JSON parameters, blocking or not; shows the result, the logs, the duration
// and whether the activation was a cold start (it carries an `initTime` annotation then).
// A non-blocking invocation shows its id and waits for the record on the live stream. The stream
// may announce the record before the 202 arrives, and before the activation projection serves it:
// announced ids are remembered, and the record is read again while it answers 404.

import { api } from '../api.js';
import { h, notice, parseObject, pretty, annotation, formatDuration, statusBadge } from '../dom.js';
import { onLive } from '../live.js';

export async function invokeView(root, encodedName) {
  const name = decodeURIComponent(encodedName);
  const action = await api.action(name);
  const params = h('textarea', { id: 'invoke-params', rows: 6, spellcheck: 'false' }, '{\n  "name": "Whirl"\n}');
  const blocking = h('input', { type: 'checkbox', id: 'invoke-blocking', checked: true });
  const output = h('section.output', { id: 'invoke-output', 'aria-live': 'polite' });
  let waitingFor = null;
  // Activation ids the live stream announced lately (a fast record can beat its own 202).
  const announced = new Set();

  const recordOf = async (id) => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await api.activation(id);
      } catch (error) {
        if (error.status !== 404 || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };

  const showWhenRecorded = async (id) => {
    waitingFor = null;
    try {
      show(await recordOf(id));
    } catch (error) {
      output.replaceChildren(notice('error', error.message));
    }
  };

  const show = (record) => {
    const init = annotation(record, 'initTime');
    const wait = annotation(record, 'waitTime');
    output.replaceChildren(
      h('dl.facts', {},
        h('dt', {}, 'Status'), h('dd', {}, statusBadge(record.response.statusCode)),
        h('dt', {}, 'Duration'), h('dd', { id: 'invoke-duration' }, formatDuration(record.duration)),
        h('dt', {}, 'Start'), h('dd', { id: 'invoke-start' }, init !== undefined ? `cold (init ${formatDuration(init)})` : 'warm'),
        wait !== undefined ? [h('dt', {}, 'Wait'), h('dd', {}, formatDuration(wait))] : null,
        h('dt', {}, 'Activation'), h('dd', {}, h('a', { href: `#/activations/${record.activationId}` }, record.activationId))),
      h('h2', {}, 'Result'),
      h('pre.json', { id: 'invoke-result' }, pretty(record.response.result)),
      h('h2', {}, 'Logs'),
      h('pre.logs', { id: 'invoke-logs' }, record.logs.length ? record.logs.join('\n') : '(no logs)'));
  };

  const run = async () => {
    output.replaceChildren(h('p', {}, 'Invoking…'));
    try {
      const body = parseObject(params.value, 'The parameters');
      const { status, json } = await api.invoke(name, body, blocking.checked);
      if (json && json.response) {
        show(json);
      } else if (json && json.activationId) {
        waitingFor = json.activationId;
        output.replaceChildren(
          notice('ok', status === 202 && blocking.checked ? 'Still running after the wait; the record will appear here.' : 'Accepted; the record will appear here when it completes.'),
          h('p', {}, 'Activation ', h('code', {}, json.activationId)));
        if (announced.has(json.activationId)) await showWhenRecorded(json.activationId);
      }
    } catch (error) {
      output.replaceChildren(notice('error', error.message));
    }
  };

  root.append(
    h('header.view-header', {}, h('h1', {}, `Invoke ${name}`), h('span.muted', {}, `${action.exec.kind}, version ${action.version}`)),
    h('form.edit', { onsubmit: (event) => { event.preventDefault(); run(); } },
      h('label.field', {}, h('span', {}, 'Parameters (JSON object)'), params),
      h('label.check', {}, blocking, ' Wait for the result (blocking)'),
      h('div.buttons', {},
        h('button', { type: 'submit', id: 'invoke-run' }, 'Invoke'),
        h('a.button.secondary', { href: `#/functions/edit/${encodeURIComponent(name)}` }, 'Edit'),
        h('a.button.secondary', { href: `#/activations?name=${encodeURIComponent(name)}` }, 'Activations'))),
    output);
  params.focus();

  return onLive(async (type, data) => {
    if (type !== 'activation') return;
    announced.add(data.activationId);
    if (announced.size > 256) announced.delete(announced.values().next().value);
    if (data.activationId === waitingFor) await showWhenRecorded(data.activationId);
  });
}
