// Small DOM helpers: element construction, formatting of times, durations and JSON.

// h('tag.class', {attr: value, onclick: fn}, ...children): children may be strings, nodes,
// arrays, null or false (skipped).
export function h(spec, props, ...children) {
  const [tag, ...classes] = spec.split('.');
  const element = document.createElement(tag || 'div');
  if (classes.length) element.className = classes.join(' ');
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      element.className = [element.className, value].filter(Boolean).join(' ');
    } else if (key === 'value') {
      element.value = value;
    } else if (key === 'checked') {
      element.checked = Boolean(value);
    } else if (key === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

const pad = (n) => String(n).padStart(2, '0');

// 2026-11-27 01:02:03 in local time.
export function formatTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatAgo(ms, now = Date.now()) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

// The value of one `{key, value}` annotation.
export function annotation(record, key) {
  const found = (record.annotations || []).find((a) => a.key === key);
  return found ? found.value : undefined;
}

export const STATUS_NAMES = ['success', 'application error', 'developer error', 'internal error'];

export function statusBadge(code) {
  const name = STATUS_NAMES[code] ?? `status ${code}`;
  return h(`span.badge.status-${code}`, { title: `statusCode ${code}` }, name);
}

// A <dialog> asking to confirm; resolves true or false. Escape cancels.
export function confirmDialog(message, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h('dialog.confirm', { 'aria-label': 'Confirm' },
      h('p', {}, message),
      h('form', { method: 'dialog' },
        h('button.secondary', { value: 'cancel', type: 'submit' }, 'Cancel'),
        h('button.danger', { value: 'confirm', type: 'submit', id: 'confirm-yes' }, confirmLabel)));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('button.secondary').focus();
  });
}

// A message line under a form: error or success.
export function notice(kind, text) {
  return h(`p.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, text);
}

// Parses a JSON object typed by the user; throws a readable error.
export function parseObject(text, what) {
  const trimmed = text.trim();
  if (!trimmed) return {};
  let value;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new Error(`${what} is not valid JSON: ${error.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object, like {"name": "Whirl"}`);
  }
  return value;
}
