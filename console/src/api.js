// The console's client of Whirl: the OpenWhisk REST API (/api/v1) for entities, invocations and
// activations, and the console's own endpoints (/console/api) for the session, the live event
// stream, statistics, history and verification. The key lives in sessionStorage only.

const STORAGE_KEY = 'whirl.console.key';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export const session = {
  key: sessionStorage.getItem(STORAGE_KEY),
  namespace: null,
  uuid: null,
};

function authorization(key) {
  return 'Basic ' + btoa(key);
}

// Encodes an entity name for a path, keeping the one `/` of `pkg/name`.
export function entityPath(name) {
  return name.split('/').map(encodeURIComponent).join('/');
}

async function request(method, path, { body, key = session.key, accept = [] } = {}) {
  const headers = { Authorization: authorization(key), Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok && !accept.includes(response.status)) {
    const message = (json && json.error) || `${method} ${path} answered ${response.status}`;
    throw new ApiError(response.status, message, json);
  }
  return { status: response.status, json };
}

const ns = '/api/v1/namespaces/_';

export async function signIn(key) {
  const trimmed = key.trim();
  if (!/^[0-9a-f-]{36}:.+$/i.test(trimmed)) {
    throw new ApiError(0, 'A key looks like <uuid>:<secret>, as in whirl-data/guest.auth.');
  }
  const { json } = await request('GET', '/console/api/session', { key: trimmed });
  sessionStorage.setItem(STORAGE_KEY, trimmed);
  Object.assign(session, { key: trimmed, namespace: json.namespace, uuid: json.uuid });
  return json;
}

export async function resume() {
  if (!session.key) return null;
  try {
    const { json } = await request('GET', '/console/api/session');
    Object.assign(session, { namespace: json.namespace, uuid: json.uuid });
    return json;
  } catch (error) {
    if (error.status === 401) signOut();
    throw error;
  }
}

export function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
  Object.assign(session, { key: null, namespace: null, uuid: null });
}

export const api = {
  actions: () => request('GET', `${ns}/actions?limit=200`).then((r) => r.json),
  action: (name) => request('GET', `${ns}/actions/${entityPath(name)}`).then((r) => r.json),
  putAction: (name, body, overwrite) =>
    request('PUT', `${ns}/actions/${entityPath(name)}?overwrite=${overwrite}`, { body }).then((r) => r.json),
  deleteAction: (name) => request('DELETE', `${ns}/actions/${entityPath(name)}`).then((r) => r.json),
  // Answers {status, json}: 200 (done), 202 (accepted or still running), 502/500 (failed).
  invoke: (name, params, blocking) =>
    request('POST', `${ns}/actions/${entityPath(name)}?blocking=${blocking}`, {
      body: params,
      accept: [502, 500],
    }),
  triggers: () => request('GET', `${ns}/triggers?limit=200`).then((r) => r.json),
  trigger: (name) => request('GET', `${ns}/triggers/${entityPath(name)}`).then((r) => r.json),
  putTrigger: (name, body) => request('PUT', `${ns}/triggers/${entityPath(name)}`, { body }).then((r) => r.json),
  deleteTrigger: (name) => request('DELETE', `${ns}/triggers/${entityPath(name)}`).then((r) => r.json),
  fire: (name, params) => request('POST', `${ns}/triggers/${entityPath(name)}`, { body: params }),
  rules: () => request('GET', `${ns}/rules?limit=200`).then((r) => r.json),
  rule: (name) => request('GET', `${ns}/rules/${entityPath(name)}`).then((r) => r.json),
  putRule: (name, trigger, action) =>
    request('PUT', `${ns}/rules/${entityPath(name)}`, { body: { trigger: `/_/${trigger}`, action: `/_/${action}` } }).then((r) => r.json),
  setRuleStatus: (name, status) =>
    request('POST', `${ns}/rules/${entityPath(name)}`, { body: { status } }).then((r) => r.json),
  deleteRule: (name) => request('DELETE', `${ns}/rules/${entityPath(name)}`).then((r) => r.json),
  activations: ({ name, since, upto, limit = 100 } = {}) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (name) query.set('name', name);
    if (since) query.set('since', String(since));
    if (upto) query.set('upto', String(upto));
    return request('GET', `${ns}/activations?${query}`).then((r) => r.json);
  },
  activation: (id) => request('GET', `${ns}/activations/${id}`).then((r) => r.json),
  stats: (minutes = 60) => request('GET', `/console/api/stats?minutes=${minutes}`).then((r) => r.json),
  history: (kind, name) =>
    request('GET', `/console/api/history/${kind}/${entityPath(name)}`).then((r) => r.json),
  verify: () => request('GET', '/console/api/verify').then((r) => r.json),
};

// The live stream (/console/api/events) read with fetch, so the key travels in a header. Calls
// onEvent(type, data) for each event and onState('live' | 'reconnecting' | 'closed'); reconnects
// after a drop, resuming after the last seen seq. Returns a function that closes it.
export function openEvents(onEvent, onState) {
  let closed = false;
  let lastId = null;
  let controller = null;
  const run = async () => {
    while (!closed) {
      controller = new AbortController();
      try {
        const query = lastId === null ? '' : `?from=${lastId + 1}`;
        const response = await fetch(`/console/api/events${query}`, {
          headers: { Authorization: authorization(session.key), Accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (response.status === 401) {
          onState('closed');
          return;
        }
        if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const parsed = parseFrame(frame);
            if (!parsed) continue;
            if (parsed.id !== null) lastId = parsed.id;
            if (parsed.type === 'ready') onState('live');
            onEvent(parsed.type, parsed.data);
          }
        }
      } catch (error) {
        if (closed) return;
      }
      if (closed) return;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  run();
  return () => {
    closed = true;
    if (controller) controller.abort();
    onState('closed');
  };
}

function parseFrame(frame) {
  let type = 'message';
  let id = null;
  const data = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'id') id = Number(value);
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return null;
  try {
    return { type, id, data: JSON.parse(data.join('\n')) };
  } catch {
    return null;
  }
}
