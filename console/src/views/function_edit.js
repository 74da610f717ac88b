// Create or edit a function: name, kind (Python or Node.js), entry point, code in a CodeMirror
// editor, default parameters (a JSON object) and limits. Saving is a PUT of the OpenWhisk API
// (overwrite=true when editing, which bumps the version).

import { api } from '../api.js';
import { h, notice, parseObject, pretty } from '../dom.js';
import { codeEditor } from '../editor.js';

const KINDS = ['python:3', 'nodejs:20'];
const TEMPLATES = {
  'python:3': 'def main(args):\n    name = args.get("name", "stranger")\n    print("greeting", name)\n    return {"greeting": "Hello " + name}\n',
  'nodejs:20': 'function main(args) {\n  const name = args.name || "stranger";\n  console.log("greeting", name);\n  return { greeting: `Hello ${name}` };\n}\n',
};

export async function functionEditView(root, encodedName) {
  const editing = encodedName !== undefined;
  const name = editing ? decodeURIComponent(encodedName) : '';
  let action = null;
  if (editing) action = await api.action(name);
  const exec = action ? action.exec : { kind: 'python:3', code: TEMPLATES['python:3'], main: 'main' };
  const editable = KINDS.includes(exec.kind);
  const status = h('div');

  const nameInput = h('input', { id: 'fn-name', name: 'name', value: name, required: true, readonly: editing, autocomplete: 'off' });
  const kindSelect = h('select', { id: 'fn-kind', disabled: !editable },
    (editable ? KINDS : [exec.kind]).map((kind) => h('option', { value: kind, selected: kind === exec.kind }, kind)));
  const mainInput = h('input', { id: 'fn-main', value: exec.main || 'main', disabled: !editable });
  const editorBox = h('div.editor', { id: 'fn-code' });
  const params = h('textarea', { id: 'fn-params', rows: 4, spellcheck: 'false' },
    pretty(Object.fromEntries((action ? action.parameters : []).map((p) => [p.key, p.value]))));
  const limits = action ? action.limits : { timeout: 60000, memory: 256, logs: 10, concurrency: 1 };
  const number = (id, value, min, max, step) => h('input', { id, type: 'number', value, min, max, step, required: true });
  const timeout = number('fn-timeout', limits.timeout, 100, 300000, 100);
  const memory = number('fn-memory', limits.memory, 128, 512, 1);
  const logs = number('fn-logs', limits.logs, 0, 10, 1);
  const concurrency = number('fn-concurrency', limits.concurrency, 1, 500, 1);
  const field = (label, input, hint) => h('label.field', {}, h('span', {}, label), input, hint ? h('small', {}, hint) : null);

  const form = h('form.edit', { onsubmit: (event) => { event.preventDefault(); save(); } },
    h('div.row', {},
      field('Name', nameInput, editing ? `version ${action.version}` : 'letters, digits, _ @ . & - and spaces'),
      field('Kind', kindSelect),
      field('Entry point', mainInput)),
    editable ? h('div.field', {}, h('span', { id: 'code-label' }, 'Code'), editorBox, h('small', {}, 'Tab indents; press Escape, then Tab, to leave the editor.'))
      : h('p', {}, `This ${exec.kind} function's code is not edited here.`),
    field('Default parameters (JSON object)', params),
    h('fieldset.row', {}, h('legend', {}, 'Limits'),
      field('Timeout (ms)', timeout), field('Memory (MB)', memory), field('Logs (MB)', logs), field('Concurrency', concurrency)),
    h('div.buttons', {},
      h('button', { type: 'submit', id: 'fn-save' }, editing ? 'Save' : 'Create'),
      editing ? h('a.button.secondary', { href: `#/invoke/${encodeURIComponent(name)}` }, 'Invoke') : null,
      h('a.button.secondary', { href: '#/functions' }, 'Back to functions')),
    status);

  root.append(h('header.view-header', {}, h('h1', {}, editing ? `Edit ${name}` : 'New function')), form);
  const editor = editable ? codeEditor(editorBox, { code: exec.code || '', kind: exec.kind, label: 'Code' }) : null;
  kindSelect.addEventListener('change', () => {
    const kind = kindSelect.value;
    if (!editor) return;
    editor.setKind(kind);
    if (!editing && Object.values(TEMPLATES).includes(editor.get())) editor.set(TEMPLATES[kind]);
  });

  async function save() {
    status.replaceChildren();
    try {
      const target = nameInput.value.trim();
      if (!target) throw new Error('A function needs a name.');
      const parameters = Object.entries(parseObject(params.value, 'Default parameters')).map(([key, value]) => ({ key, value }));
      const body = {
        parameters,
        limits: {
          timeout: Number(timeout.value),
          memory: Number(memory.value),
          logs: Number(logs.value),
          concurrency: Number(concurrency.value),
        },
      };
      if (editable) body.exec = { kind: kindSelect.value, code: editor.get(), main: mainInput.value.trim() || 'main' };
      if (!editing) body.annotations = [];
      const saved = await api.putAction(target, body, editing);
      status.replaceChildren(notice('ok', `Saved ${saved.name}, version ${saved.version}.`));
      if (!editing) location.hash = `#/functions/edit/${encodeURIComponent(saved.name)}`;
    } catch (error) {
      status.replaceChildren(notice('error', error.message));
    }
  }
}
