// Drives a running Whirl server with the official OpenWhisk JavaScript client (openwhisk-client-js):
// actions, sequences, packages and bindings, triggers and rules, activations, namespaces.
//
// Starts nothing itself: WHIRL_APIHOST (http://127.0.0.1:PORT) and WHIRL_AUTH (UUID:KEY) name the
// server; `run.sh` beside this file starts a fresh `whirl serve` and sets them.
'use strict'

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const openwhisk = require('openwhisk')

const apihost = process.env.WHIRL_APIHOST
const apiKey = process.env.WHIRL_AUTH
if (!apihost || !apiKey) {
  throw new Error('set WHIRL_APIHOST (http://127.0.0.1:PORT) and WHIRL_AUTH (UUID:KEY), or use run.sh')
}
const ow = openwhisk({ apihost, api_key: apiKey })

// Names are unique per run so the test also passes against a server that has seen it before.
const run = Date.now().toString(36)
const n = (name) => `${name}-${run}`

const HELLO_PY = `
def main(args):
    name = args.get("name", "stranger")
    print("greeting " + name)
    return {"greeting": args.get("greeting", "Hello") + ", " + name + "!"}
`
const HELLO_PY_V2 = HELLO_PY.replace('"!"', '"!!"')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Retries `fn` until it resolves to something truthy (a recorded activation, ...), at most `ms`. */
async function eventually (what, fn, ms = 15000) {
  const deadline = Date.now() + ms
  let last
  while (Date.now() < deadline) {
    try {
      const value = await fn()
      if (value) return value
    } catch (err) {
      last = err
    }
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
}

/** The status code of a rejected client call. */
async function statusOf (promise) {
  try {
    await promise
  } catch (err) {
    return err.statusCode
  }
  return 'no error'
}

let namespace
before(async () => {
  const namespaces = await ow.namespaces.list()
  assert.ok(Array.isArray(namespaces) && namespaces.length > 0, 'the key has a namespace')
  namespace = typeof namespaces[0] === 'string' ? namespaces[0] : namespaces[0].name
})

test('actions: create, get without code, update, invoke blocking and not, list, delete', async () => {
  const name = n('hello')
  const created = await ow.actions.create({ name, action: HELLO_PY, kind: 'python:3' })
  assert.equal(created.name, name)
  assert.equal(created.version, '0.0.1')
  assert.equal(created.exec.kind, 'python:3')

  assert.equal(await statusOf(ow.actions.create({ name, action: HELLO_PY, kind: 'python:3' })), 409)

  const summary = await ow.actions.get({ name, code: false })
  assert.equal(summary.name, name)
  assert.equal(summary.exec.code, undefined, 'code=false leaves the code out')
  const full = await ow.actions.get({ name })
  assert.equal(full.exec.code, HELLO_PY)

  const updated = await ow.actions.update({ name, action: HELLO_PY_V2, kind: 'python:3' })
  assert.equal(updated.version, '0.0.2')

  const result = await ow.actions.invoke({ name, blocking: true, result: true, params: { name: 'Whirl' } })
  assert.deepEqual(result, { greeting: 'Hello, Whirl!!' })

  const activation = await ow.actions.invoke({ name, blocking: true, params: { name: 'A' } })
  assert.match(activation.activationId, /^[0-9a-f]{32}$/)
  assert.equal(activation.response.success, true)
  assert.equal(activation.response.status, 'success')
  assert.deepEqual(activation.response.result, { greeting: 'Hello, A!!' })
  assert.ok(activation.logs.some((line) => line.includes('greeting A')), JSON.stringify(activation.logs))

  const accepted = await ow.actions.invoke({ name, params: { name: 'later' } })
  assert.match(accepted.activationId, /^[0-9a-f]{32}$/)
  assert.equal(accepted.response, undefined, 'a non-blocking invoke answers only the id')
  const later = await eventually('the non-blocking activation', () =>
    ow.activations.get({ name: accepted.activationId }))
  assert.deepEqual(later.response.result, { greeting: 'Hello, later!!' })

  const listed = await ow.actions.list({ limit: 200 })
  assert.ok(listed.some((a) => a.name === name), 'the action is listed')

  await ow.actions.delete({ name })
  assert.equal(await statusOf(ow.actions.get({ name })), 404)
  assert.equal(await statusOf(ow.actions.invoke({ name, blocking: true })), 404)
})

test('sequences: components run in order and each records its own activation', async () => {
  const upper = n('upper')
  const exclaim = n('exclaim')
  const seq = n('shout')
  await ow.actions.create({
    name: upper,
    kind: 'python:3',
    action: 'def main(args):\n    return {"text": args["text"].upper()}\n'
  })
  await ow.actions.create({
    name: exclaim,
    kind: 'nodejs:20',
    action: 'function main(args) { return { text: args.text + "!" } }'
  })
  const created = await ow.actions.create({ name: seq, sequence: [`/_/${upper}`, `/_/${exclaim}`] })
  assert.equal(created.exec.kind, 'sequence')

  const activation = await ow.actions.invoke({ name: seq, blocking: true, params: { text: 'hi' } })
  assert.deepEqual(activation.response.result, { text: 'HI!' })
  assert.equal(activation.logs.length, 2, 'the sequence lists its two component activations')
  for (const id of activation.logs) {
    const component = await eventually('a component activation', () => ow.activations.get({ name: id }))
    assert.ok([upper, exclaim].includes(component.name), component.name)
  }

  await ow.actions.delete({ name: seq })
  await ow.actions.delete({ name: upper })
  await ow.actions.delete({ name: exclaim })
})

test('packages and bindings: a binding overrides the package parameters', async () => {
  const pkg = n('demo')
  const binding = n('demo-fr')
  await ow.packages.create({ name: pkg, package: { parameters: [{ key: 'greeting', value: 'Hello' }] } })
  await ow.actions.create({ name: `${pkg}/greet`, action: HELLO_PY, kind: 'python:3' })
  const bound = await ow.packages.create({
    name: binding,
    package: {
      binding: { namespace, name: pkg },
      parameters: [{ key: 'greeting', value: 'Bonjour' }]
    }
  })
  assert.equal(bound.binding.name, pkg)

  const viaPackage = await ow.actions.invoke({ name: `${pkg}/greet`, blocking: true, result: true, params: { name: 'Ada' } })
  assert.deepEqual(viaPackage, { greeting: 'Hello, Ada!' })
  const viaBinding = await ow.actions.invoke({ name: `${binding}/greet`, blocking: true, result: true, params: { name: 'Ada' } })
  assert.deepEqual(viaBinding, { greeting: 'Bonjour, Ada!' })

  const got = await ow.packages.get({ name: pkg })
  assert.ok(got.actions.some((a) => a.name === 'greet'), 'the package lists its action')
  const listed = await ow.packages.list({ limit: 200 })
  assert.ok(listed.some((p) => p.name === pkg) && listed.some((p) => p.name === binding))

  await ow.packages.delete({ name: binding })
  await ow.actions.delete({ name: `${pkg}/greet` })
  await ow.packages.delete({ name: pkg })
  assert.equal(await statusOf(ow.packages.get({ name: pkg })), 404)
})

test('triggers and rules: a fire invokes the action of every active rule', async () => {
  const trigger = n('itemSold')
  const action = n('record')
  const rule = n('saleRule')
  await ow.actions.create({
    name: action,
    kind: 'python:3',
    action: 'def main(args):\n    return {"seen": args.get("stock_change"), "id": args.get("product_id")}\n'
  })
  await ow.triggers.create({ name: trigger, trigger: { parameters: [{ key: 'stock_change', value: -1 }] } })
  const created = await ow.rules.create({ name: rule, trigger: trigger, action: action })
  assert.equal(created.status, 'active')
  assert.equal((await ow.rules.get({ name: rule })).status, 'active')

  const fired = await ow.triggers.invoke({ name: trigger, params: { product_id: 42 } })
  assert.match(fired.activationId, /^[0-9a-f]{32}$/)
  const triggerActivation = await eventually('the trigger activation', () =>
    ow.activations.get({ name: fired.activationId }))
  assert.equal(triggerActivation.logs.length, 1)
  const ruleLog = JSON.parse(triggerActivation.logs[0])
  assert.equal(ruleLog.success, true)
  const actionActivation = await eventually('the rule\'s action activation', () =>
    ow.activations.get({ name: ruleLog.activationId }))
  assert.deepEqual(actionActivation.response.result, { seen: -1, id: 42 })

  await ow.rules.disable({ name: rule })
  assert.equal((await ow.rules.get({ name: rule })).status, 'inactive')
  const quiet = await ow.triggers.invoke({ name: trigger, params: { product_id: 1 } })
  assert.ok(!quiet || !quiet.activationId, 'a fire with no active rule records nothing')
  await ow.rules.enable({ name: rule })
  const again = await ow.triggers.invoke({ name: trigger, params: { product_id: 2 } })
  assert.match(again.activationId, /^[0-9a-f]{32}$/)

  const triggerDoc = await ow.triggers.get({ name: trigger })
  assert.ok(Object.keys(triggerDoc.rules || {}).some((key) => key.endsWith(`/${rule}`)))

  await ow.rules.delete({ name: rule })
  await ow.triggers.delete({ name: trigger })
  await ow.actions.delete({ name: action })
  assert.equal(await statusOf(ow.rules.get({ name: rule })), 404)
})

test('activations: list, get, result, logs', async () => {
  const name = n('logger')
  await ow.actions.create({ name, action: HELLO_PY, kind: 'python:3' })
  const { activationId } = await ow.actions.invoke({ name, blocking: true, params: { name: 'log' } })

  const listed = await eventually('the activation in the list', async () => {
    const items = await ow.activations.list({ name, limit: 10 })
    return items.find((a) => a.activationId === activationId) && items
  })
  assert.ok(listed.every((a) => a.name === name), 'the name filter holds')

  const record = await ow.activations.get({ name: activationId })
  assert.equal(record.name, name)
  assert.ok(record.end >= record.start)

  const result = await ow.activations.result({ name: activationId })
  assert.equal(result.success, true)
  assert.deepEqual(result.result, { greeting: 'Hello, log!' })

  const logs = await ow.activations.logs({ name: activationId })
  assert.ok(logs.logs.some((line) => /stdout: greeting log$/.test(line)), JSON.stringify(logs.logs))

  assert.equal(await statusOf(ow.activations.get({ name: '0'.repeat(32) })), 404)
  await ow.actions.delete({ name })
})
