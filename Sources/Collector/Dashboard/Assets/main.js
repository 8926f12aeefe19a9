// Wires the hash routes to the views and the live feed to whichever view is showing.
import { budgetsView } from './budgets.js';
import { connectLive } from './live.js';
import { overviewView } from './overview.js';
import { searchView } from './search.js';
import { fleetView } from './sidecars.js';
import { costsView } from './costs.js';
import { sessionView, singleCallView } from './session.js';
import { sessionsView } from './sessions.js';
import { hashFor, parseHash } from './dom.js';

const main = document.getElementById('view');
const searchInput = document.getElementById('search-input');
let current = null;
let currentHash = null;

function route() {
  const { path, params } = parseHash(location.hash);
  const sessionMatch = path.match(/^\/session\/([^/]+)$/);
  const callMatch = path.match(/^\/call\/([^/]+)$/);
  let section = 'sessions';
  if (sessionMatch) {
    const sessionId = decodeURIComponent(sessionMatch[1]);
    const previous = current;
    const sameSession = previous?.sessionId === sessionId && previous.tab === (params.get('tab') || '')
      && previous.agent === (params.get('agent') || '');
    if (sameSession && params.get('call')) {
      previous.reveal(params.get('call'));
      currentHash = location.hash;
      return;
    }
    current = sessionView(sessionId, params);
    Object.assign(current, { sessionId, tab: params.get('tab') || '', agent: params.get('agent') || '' });
  } else if (callMatch) {
    current = singleCallView(decodeURIComponent(callMatch[1]));
  } else if (path === '/overview') {
    section = 'overview';
    current = overviewView(params);
  } else if (path === '/costs') {
    section = 'costs';
    current = costsView(params);
  } else if (path === '/fleet') {
    section = 'fleet';
    current = fleetView(params);
  } else if (path === '/budgets') {
    section = 'budgets';
    current = budgetsView();
  } else if (path === '/search') {
    section = '';
    searchInput.value = params.get('q') || '';
    current = searchView(params.get('q') || '');
  } else {
    current = sessionsView(params);
  }
  currentHash = location.hash;
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === section);
  }
  main.replaceChildren(current.node);
}

document.getElementById('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const q = searchInput.value.trim();
  if (q) location.hash = hashFor('/search', { q });
});

window.addEventListener('hashchange', route);
route();

const status = document.getElementById('live-status');
connectLive({
  onCall: (record) => current?.onCall?.(record),
  onGap: () => {
    if (currentHash === location.hash && current?.onCall) route();
  },
  onStatus: (state) => {
    status.className = `live live-${state}`;
    status.title = `Live feed: ${state}`;
  },
});
