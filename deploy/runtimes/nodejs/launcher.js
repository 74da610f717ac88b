// Whirl's ActionLoop launcher for the nodejs:20 kind (Node.js built-ins only).
//
// Speaks ActionLoop as Whirl's drivers do (see docs/runtimes.md):
//   * with __OW_WAIT_FOR_ACK set, the launcher first writes {"ok":true} on fd 3 once started;
//   * (Docker: with WHIRL_ACTIONLOOP_SOCKET set, requests and answers go over that unix socket);
//   * stdin, first line: the init, {"value": {"name", "main", "code", "binary", "env", "concurrency"}};
//     the answer is {"ok":true} or {"error":"..."} on fd 3 (an init error ends the process);
//   * stdin, every later line: one run, {"value": <params>, "activation_id", "namespace", ...};
//     every key but "value" becomes the environment variable __OW_<KEY>;
//     the answer is the action's result as ONE JSON line on fd 3;
//   * every answer line starts with the key of its request, "\x1e<key>\x1e" ("ack", "init", or
//     the run's activation id), so the driver never takes a line the action wrote to fd 3
//     itself for an answer, nor hands one run's answer to the next;
//   * logs go to stdout/stderr; after the init and after each run the launcher writes the
//     sentinel XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX on both, then the answer on fd 3.
// With "concurrency" > 1 several runs are in flight at once. Then every log line and sentinel
// starts with the tag "\x1e<activation id>\x1e" too, so the driver can tell them apart (the
// action's own output is tagged through AsyncLocalStorage).
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const os = require('os');
const zlib = require('zlib');
const readline = require('readline');
const { AsyncLocalStorage } = require('async_hooks');

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const TAG = '\x1e';
const RESULT_FD = 3;
const activationContext = new AsyncLocalStorage();

// Docker containers: the driver's unix socket (bind-mounted into the container) carries both the
// requests and the answers; otherwise requests come on stdin and answers go to fd 3.
const channel = process.env.WHIRL_ACTIONLOOP_SOCKET
  ? net.createConnection(process.env.WHIRL_ACTIONLOOP_SOCKET)
  : null;
const results = channel || new net.Socket({ fd: RESULT_FD, readable: false, writable: true });
const requests = channel || process.stdin;

// Writes to process.env go through setenv(), and glibc keeps every value ever set for a name
// (programs may still hold pointers to the old ones): with the activation id, the transaction id
// and the deadline new on every run, a warm container grew by about 290 bytes a run, without end.
// So the launcher swaps process.env for a plain object holding the same variables, which turns
// the values written to it into strings as process.env does. Child processes inherit it
// (child_process uses process.env unless told otherwise); native code calling getenv() sees the
// variables the process started with.
function ownEnvironment() {
  const variables = { ...process.env };
  return new Proxy(variables, {
    set(target, key, value) {
      target[key] = String(value);
      return true;
    },
    defineProperty(target, key, descriptor) {
      if ('get' in descriptor || 'set' in descriptor) {
        throw new TypeError("'process.env' does not accept an accessor(getter/setter) descriptor");
      }
      return Reflect.defineProperty(target, key, { ...descriptor, value: String(descriptor.value) });
    },
  });
}
process.env = ownEnvironment();

// Writes a sentinel on fd 1 or 2 itself, not through process.stdout/stderr: an action that
// replaces process.stdout.write (a logger that silences or captures console output) cannot
// swallow it, and one that closed the descriptor does not crash the launcher (the driver saw
// that stream end and waits for no sentinel on it). On Linux, process.stdout and stderr write
// synchronously to pipes and files, so the sentinel still follows what the action wrote.
function writeSentinel(fd, line) {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    try {
      fs.writeSync(fd, line);
      return;
    } catch (err) {
      if (err.code !== 'EAGAIN') {
        return;
      }
    }
  }
}

function tagFor(id) {
  return id === undefined ? '' : TAG + id + TAG;
}

// Prefixes every line the action writes during a tagged (concurrent) activation.
function tagStream(stream) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, encoding, callback) => {
    const id = activationContext.getStore();
    if (id === undefined) {
      return write(chunk, encoding, callback);
    }
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const lines = text.split('\n');
    const last = lines.pop();
    let tagged = lines.map((line) => tagFor(id) + line + '\n').join('');
    if (last.length > 0) {
      tagged += tagFor(id) + last + '\n';
    }
    return write(tagged, 'utf8', typeof encoding === 'function' ? encoding : callback);
  };
}

// Ends a request: the sentinels (tagged in concurrent containers, where `logTag` is the
// activation id), then the answer framed with `key`.
function answer(logTag, key, text) {
  const tag = tagFor(logTag);
  writeSentinel(1, tag + SENTINEL + '\n');
  writeSentinel(2, tag + SENTINEL + '\n');
  results.write(TAG + key + TAG + text + '\n');
}

// A minimal reader of zip archives (stored and deflated entries), enough for action zips.
function unzip(buffer, target) {
  let end = buffer.length - 22;
  while (end >= 0 && buffer.readUInt32LE(end) !== 0x06054b50) {
    end -= 1;
  }
  if (end < 0) {
    throw new Error('the zip archive has no end of central directory');
  }
  const count = buffer.readUInt16LE(end + 10);
  let entry = buffer.readUInt32LE(end + 16);
  for (let i = 0; i < count; i += 1) {
    if (buffer.readUInt32LE(entry) !== 0x02014b50) {
      throw new Error('bad zip central directory entry');
    }
    const method = buffer.readUInt16LE(entry + 10);
    const compressedSize = buffer.readUInt32LE(entry + 20);
    const nameLength = buffer.readUInt16LE(entry + 28);
    const extraLength = buffer.readUInt16LE(entry + 30);
    const commentLength = buffer.readUInt16LE(entry + 32);
    const localHeader = buffer.readUInt32LE(entry + 42);
    const name = buffer.toString('utf8', entry + 46, entry + 46 + nameLength);
    entry += 46 + nameLength + extraLength + commentLength;
    const destination = path.resolve(target, name);
    if (!destination.startsWith(path.resolve(target) + path.sep)) {
      throw new Error('zip entry escapes the action directory: ' + name);
    }
    if (name.endsWith('/')) {
      fs.mkdirSync(destination, { recursive: true });
      continue;
    }
    const dataStart = localHeader + 30 + buffer.readUInt16LE(localHeader + 26) + buffer.readUInt16LE(localHeader + 28);
    const data = buffer.subarray(dataStart, dataStart + compressedSize);
    let content;
    if (method === 0) {
      content = data;
    } else if (method === 8) {
      content = zlib.inflateRawSync(data);
    } else {
      throw new Error('unsupported zip compression method ' + method + ' for ' + name);
    }
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    fs.writeFileSync(destination, content);
  }
}

function workDir() {
  const dir = process.env.WHIRL_WORK_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'whirl-action-'));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function loadAction(value) {
  for (const [key, val] of Object.entries(value.env || {})) {
    process.env[key] = typeof val === 'string' ? val : JSON.stringify(val);
  }
  const main = value.main || 'main';
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(main)) {
    throw new Error('invalid main function name: ' + main);
  }
  const dir = workDir();
  let exported;
  if (value.binary) {
    unzip(Buffer.from(value.code || '', 'base64'), dir);
    process.chdir(dir);
    exported = require(dir);
  } else {
    const file = path.join(dir, 'index.js');
    const footer = `\n;module.exports.__whirl_main__ = (typeof ${main} === 'function') ? ${main} : module.exports.${main};\n`;
    fs.writeFileSync(file, (value.code || '') + footer);
    exported = require(file).__whirl_main__;
    return requireFunction(exported, main);
  }
  const fn = main.split('.').reduce((obj, key) => (obj == null ? undefined : obj[key]), exported);
  return requireFunction(fn, main);
}

function requireFunction(fn, main) {
  if (typeof fn !== 'function') {
    throw new Error(`the action has no function named '${main}'`);
  }
  return fn;
}

function serialize(result) {
  try {
    const text = JSON.stringify(result === undefined ? {} : result);
    if (text === undefined) {
      throw new Error('JSON.stringify returned nothing');
    }
    return text;
  } catch (err) {
    console.error('whirl launcher: the result is not JSON: ' + err.message);
    return 'null';
  }
}

function errorText(err) {
  return JSON.stringify({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
}

async function runOne(fn, request, id) {
  for (const [key, val] of Object.entries(request)) {
    if (key !== 'value') {
      process.env['__OW_' + key.toUpperCase()] = typeof val === 'string' ? val : JSON.stringify(val);
    }
  }
  try {
    return serialize(await fn(request.value === undefined ? {} : request.value));
  } catch (err) {
    console.error(err && err.stack ? err.stack : String(err));
    return errorText(err);
  }
}

function main() {
  if (process.env.__OW_WAIT_FOR_ACK) {
    results.write(TAG + 'ack' + TAG + '{"ok":true}\n');
  }
  const lines = readline.createInterface({ input: requests, crlfDelay: Infinity, terminal: false });
  let fn = null;
  let concurrent = false;
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    if (fn === null) {
      try {
        const init = JSON.parse(line);
        const value = init.value || init;
        fn = loadAction(value);
        concurrent = Number(value.concurrency || 1) > 1;
        if (concurrent) {
          tagStream(process.stdout);
          tagStream(process.stderr);
        }
      } catch (err) {
        console.error(err && err.stack ? err.stack : String(err));
        answer(undefined, 'init', errorText(err));
        results.end(() => process.exit(1));
        lines.close();
        return;
      }
      answer(undefined, 'init', '{"ok":true}');
      return;
    }
    if (line.trim() === '') {
      return;
    }
    let request;
    try {
      request = JSON.parse(line);
      if (request === null || typeof request !== 'object') {
        throw new Error('not a JSON object');
      }
    } catch (err) {
      console.error('whirl launcher: bad run request: ' + err.message);
      return;
    }
    const id = request.activation_id === undefined ? '' : String(request.activation_id);
    if (concurrent) {
      activationContext.run(id, () => {
        runOne(fn, request, id).then((text) => answer(id, id, text));
      });
    } else {
      queue = queue.then(() => runOne(fn, request, undefined)).then((text) => answer(undefined, id, text));
    }
  });
  lines.on('close', () => {
    queue.then(() => results.end());
  });
}

main();
