// Triggers and rules: list both, create a trigger, create a rule (trigger → function), enable or
// disable a rule, fire a trigger with JSON parameters, delete with confirmation. Refreshes when
// any trigger or rule changes.

import { api } from '../api.js';
import { h, notice, parseObject, confirmDialog } from '../dom.js';
import { onLive, throttled } from '../live.js';

export async function triggersView(root) {
  const status = h('div', { id: 'triggers-status' });
  const triggerBody = h('tbody');
  const ruleBody = h('tbody');
  const triggerName = h('input', { id: 'trigger-name', required: true, autocomplete: 'off' });
  const ruleName = h('input', { id: 'rule-name', required: true, autocomplete: 'off' });
  const ruleTrigger = h('select', { id: 'rule-trigger', required: true });
  const ruleAction = h('select', { id: 'rule-action', required: true });
  const say = (kind, text) => status.replaceChildren(notice(kind, text));
  const attempt = (work) => async (event) => {
    if (event) event.preventDefault();
    try {
      await work();
    } catch (error) {
      say('error', error.message);
    }
  };

  root.append(
    h('header.view-header', {}, h('h1', {}, 'Triggers and rules')),
    status,
    h('div.columns', {},
      h('section', {},
        h('h2', {}, 'Triggers'),
        h('table.list', { 'aria-label': 'Triggers' },
          h('thead', {}, h('tr', {}, ['Name', 'Rules', 'Fire with parameters', ''].map((t) => h('th', { scope: 'col' }, t)))),
          triggerBody),
        h('form.inline', { onsubmit: attempt(async () => {
          const name = triggerName.value.trim();
          await api.putTrigger(name, {});
          triggerName.value = '';
          say('ok', `Created trigger ${name}.`);
          await refresh();
        }) }, h('label', {}, 'New trigger ', triggerName), h('button', { type: 'submit', id: 'trigger-create' }, 'Create trigger'))),
      h('section', {},
        h('h2', {}, 'Rules'),
        h('table.list', { 'aria-label': 'Rules' },
          h('thead', {}, h('tr', {}, ['Name', 'Trigger', 'Function', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
          ruleBody),
        h('form.inline', { onsubmit: attempt(async () => {
          const name = ruleName.value.trim();
          await api.putRule(name, ruleTrigger.value, ruleAction.value);
          ruleName.value = '';
          say('ok', `Created rule ${name}: ${ruleTrigger.value} → ${ruleAction.value}.`);
          await refresh();
        }) },
          h('label', {}, 'New rule ', ruleName),
          h('label', {}, 'when ', ruleTrigger),
          h('label', {}, 'fires, run ', ruleAction),
          h('button', { type: 'submit', id: 'rule-create' }, 'Create rule')))));

  async function refresh() {
    const [triggers, rules, actions] = await Promise.all([api.triggers(), api.rules(), api.actions()]);
    ruleTrigger.replaceChildren(...triggers.map((t) => h('option', { value: t.name }, t.name)));
    ruleAction.replaceChildren(...actions.map((a) => h('option', { value: a.name }, a.name)));
    triggerBody.replaceChildren(...(triggers.length ? triggers.map(triggerRow) : [h('tr', {}, h('td.empty', { colspan: 4 }, 'No triggers.'))]));
    ruleBody.replaceChildren(...(rules.length ? rules.map((rule) => ruleRow(rule)) : [h('tr', {}, h('td.empty', { colspan: 5 }, 'No rules.'))]));
    function triggerRow(trigger) {
      const params = h('input.params', { value: '{}', 'aria-label': `Parameters to fire ${trigger.name} with`, spellcheck: 'false' });
      const rulesOf = rules.filter((rule) => rule.trigger.name === trigger.name).map((rule) => rule.name);
      return h('tr', { dataset: { name: trigger.name } },
        h('td', {}, trigger.name),
        h('td', {}, rulesOf.join(', ') || '—'),
        h('td', {}, h('form.inline', { onsubmit: attempt(async () => {
          const { status: code, json } = await api.fire(trigger.name, parseObject(params.value, 'The parameters'));
          if (code === 204) say('ok', `Fired ${trigger.name}: no active rule, nothing ran.`);
          else {
            status.replaceChildren(h('p.notice.ok', { role: 'status' }, `Fired ${trigger.name}: activation `,
              h('a.mono', { href: `#/activations/${json.activationId}` }, json.activationId), '.'));
          }
        }) }, params, h('button.small', { type: 'submit', 'aria-label': `Fire ${trigger.name}` }, 'Fire'))),
        h('td.actions', {},
          h('a.button.small.secondary', { href: `#/audit/triggers/${encodeURIComponent(trigger.name)}` }, 'History'),
          h('button.small.danger', { 'aria-label': `Delete trigger ${trigger.name}`, onclick: attempt(async () => {
            if (!(await confirmDialog(`Delete the trigger “${trigger.name}”?`, 'Delete'))) return;
            await api.deleteTrigger(trigger.name);
            say('ok', `Deleted trigger ${trigger.name}.`);
            await refresh();
          }) }, 'Delete')));
    }
  }

  function ruleRow(rule) {
    const active = rule.status === 'active';
    return h('tr', { dataset: { name: rule.name } },
      h('td', {}, rule.name),
      h('td', {}, rule.trigger.name),
      h('td', {}, rule.action.name),
      h('td', {}, h(`span.badge.${active ? 'status-0' : 'inactive'}`, {}, rule.status)),
      h('td.actions', {},
        h('button.small.secondary', { 'aria-label': `${active ? 'Disable' : 'Enable'} rule ${rule.name}`, onclick: attempt(async () => {
          await api.setRuleStatus(rule.name, active ? 'inactive' : 'active');
          say('ok', `Rule ${rule.name} is now ${active ? 'inactive' : 'active'}.`);
          await refresh();
        }) }, active ? 'Disable' : 'Enable'),
        h('a.button.small.secondary', { href: `#/audit/rules/${encodeURIComponent(rule.name)}` }, 'History'),
        h('button.small.danger', { 'aria-label': `Delete rule ${rule.name}`, onclick: attempt(async () => {
          if (!(await confirmDialog(`Delete the rule “${rule.name}”?`, 'Delete'))) return;
          await api.deleteRule(rule.name);
          say('ok', `Deleted rule ${rule.name}.`);
          await refresh();
        }) }, 'Delete')));
  }

  await attempt(refresh)();
  const later = throttled(attempt(refresh), 500);
  return onLive((type, data) => {
    if (type === 'entity' && ['triggers', 'rules', 'actions'].includes(data.kind)) later();
  });
}
