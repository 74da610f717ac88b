// The Whirl console: sign-in, the navigation, and a hash router over the screens in views/.
// Every screen renders into <main> and may return a cleanup function (to leave the live stream).

import './style.css';
import { session, signIn, signOut, resume } from './api.js';
import { h, clear, notice } from './dom.js';
import { startLive, stopLive } from './live.js';
import { functionsView } from './views/functions.js';
import { functionEditView } from './views/function_edit.js';
import { invokeView } from './views/invoke.js';
import { triggersView } from './views/triggers.js';
import { activationsView } from './views/activations.js';
import { activationView } from './views/activation.js';
import { metricsView } from './views/metrics.js';
import { auditView } from './views/audit.js';

const app = document.getElementById('app');

const ROUTES = [
  [/^#\/functions$/, functionsView, 'functions'],
  [/^#\/functions\/new$/, (root) => functionEditView(root), 'functions'],
  [/^#\/functions\/edit\/(.+)$/, functionEditView, 'functions'],
  [/^#\/invoke\/(.+)$/, invokeView, 'functions'],
  [/^#\/triggers$/, triggersView, 'triggers'],
  [/^#\/activations(?:\?(.*))?$/, activationsView, 'activations'],
  [/^#\/activations\/([0-9a-f]{32})$/, activationView, 'activations'],
  [/^#\/metrics$/, metricsView, 'metrics'],
  [/^#\/audit(?:\/(\w+)\/(.+))?$/, auditView, 'audit'],
];

const NAV = [
  ['functions', '#/functions', 'Functions'],
  ['triggers', '#/triggers', 'Triggers & rules'],
  ['activations', '#/activations', 'Activations'],
  ['metrics', '#/metrics', 'Metrics'],
  ['audit', '#/audit', 'Audit'],
];

let cleanup = null;
let main = null;
let nav = null;
let liveState = null;

function showSignIn(message) {
  stopLive();
  const key = h('input', { id: 'signin-key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', 'aria-describedby': 'signin-help' });
  const status = h('div', {}, message ? notice('error', message) : null);
  const form = h('form.signin', {
    onsubmit: async (event) => {
      event.preventDefault();
      status.replaceChildren();
      try {
        await signIn(key.value);
        if (!location.hash || location.hash === '#/') location.hash = '#/functions';
        showShell();
      } catch (error) {
        status.replaceChildren(notice('error', error.status === 401 ? 'This key was refused: check the uuid and the secret.' : error.message));
        key.focus();
      }
    },
  },
  h('h1', {}, 'Whirl console'),
  h('label.field', {}, h('span', {}, 'Namespace key'), key),
  h('small', { id: 'signin-help' }, 'uuid:secret, as in whirl-data/guest.auth or printed by whirl admin namespace create. It is kept in this tab only, until you sign out or close it.'),
  h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in'),
  status);
  clear(app).append(h('div.signin-page', {}, form));
  key.focus();
}

function showShell() {
  main = h('main', { id: 'main', tabindex: '-1' });
  liveState = h('span.live', { id: 'live-state', title: 'Live updates from the event log' }, 'connecting');
  nav = h('nav', { 'aria-label': 'Sections' }, h('ul', {}, NAV.map(([id, href, label]) => h('li', {}, h('a', { href, dataset: { section: id } }, label)))));
  clear(app).append(
    h('a.skip', { href: '#main', onclick: (event) => { event.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('header.top', {},
      h('span.brand', {}, 'Whirl'),
      nav,
      h('span.who', {}, 'namespace ', h('strong', { id: 'namespace' }, session.namespace), ' ', liveState,
        h('button.secondary.small', { id: 'signout', onclick: () => { signOut(); showSignIn(); } }, 'Sign out'))),
    main);
  startLive((state) => {
    liveState.textContent = state;
    liveState.className = `live ${state}`;
  });
  route();
}

async function route() {
  if (!main) return;
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const hash = location.hash || '#/functions';
  const found = ROUTES.map(([pattern, view, section]) => [hash.match(pattern), view, section]).find(([m]) => m);
  clear(main);
  if (!found) {
    location.hash = '#/functions';
    return;
  }
  const [match, view, section] = found;
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  // A screen renders into its own container: one that finishes after the user moved on renders
  // into a detached node and is cleaned up at once.
  const target = h('div.view');
  main.append(target);
  try {
    const result = await view(target, ...match.slice(1));
    if (typeof result === 'function') {
      if (target.isConnected) cleanup = result;
      else result();
    }
  } catch (error) {
    if (error.status === 401) {
      signOut();
      showSignIn('The key is no longer accepted. Sign in again.');
      return;
    }
    target.append(notice('error', error.message));
  }
}

window.addEventListener('hashchange', route);

async function start() {
  if (!session.key) {
    showSignIn();
    return;
  }
  try {
    await resume();
    showShell();
  } catch (error) {
    showSignIn(error.status === 401 ? 'The saved key was refused. Sign in again.' : error.message);
  }
}

start();
