// The live stream shared by every screen: one connection per signed-in tab; screens subscribe to
// `activation` and `entity` events and unsubscribe when they are left.

import { openEvents } from './api.js';

const listeners = new Set();
let close = null;
let stateListener = () => {};

export function startLive(onState) {
  stopLive();
  stateListener = onState;
  close = openEvents((type, data) => {
    for (const listener of listeners) listener(type, data);
  }, (state) => stateListener(state));
}

export function stopLive() {
  if (close) close();
  close = null;
}

// Calls listener(type, data) for each live event; returns the unsubscribe function.
export function onLive(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// A function that runs `action` at most once per `ms`, trailing.
export function throttled(action, ms) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      action();
    }, ms);
  };
}
