// Talks to the collector's JSON API; asks for the API key once when the API answers 401.
const keyName = 'agentledger.apiKey';
let asking = null;

/** An API answer that was not 2xx, with the `detail` the collector sent. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

export function storedKey() {
  return sessionStorage.getItem(keyName) || '';
}

/** Shows the key form (one at a time, however many requests were refused) and resolves once a key is entered. */
export function askForKey(refused) {
  if (asking) return asking;
  const dialog = document.getElementById('key-dialog');
  const form = document.getElementById('key-form');
  const input = document.getElementById('key-input');
  document.getElementById('key-error').hidden = !refused;
  asking = new Promise((resolve) => {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(keyName, input.value);
      input.value = '';
      dialog.close();
      asking = null;
      resolve();
    }, { once: true });
  });
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  if (!dialog.open) dialog.showModal();
  input.focus();
  return asking;
}

/** Sends one request to `url` with the key in a header, asking for the key again on 401; throws `ApiError`. */
async function request(url, options = {}) {
  for (;;) {
    const headers = { accept: 'application/json', ...(options.headers || {}) };
    const key = storedKey();
    if (key) headers['x-agentledger-api-key'] = key;
    const response = await fetch(url, { ...options, headers, cache: 'no-store' });
    if (response.status === 401) {
      await askForKey(key !== '');
      continue;
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).detail ?? detail;
      } catch {
        // not JSON: keep the status text
      }
      throw new ApiError(response.status, detail);
    }
    return { body: await response.json(), headers: response.headers };
  }
}

/** GETs `path` (relative to the page) with `params`; returns `{body, headers}`. The key goes in a header only. */
export async function getJSON(path, params = {}) {
  const url = new URL(path, document.baseURI);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  return request(url);
}

/** PUTs (or DELETEs, without a body) `path`; returns the answer's JSON. */
export async function sendJSON(method, path, body) {
  const options = { method };
  if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers = { 'content-type': 'application/json', 'x-agentledger-actor': 'dashboard' };
  } else {
    options.headers = { 'x-agentledger-actor': 'dashboard' };
  }
  return (await request(new URL(path, document.baseURI), options)).body;
}

export const api = {
  sessions: (params) => getJSON('api/sessions', params),
  session: (id) => getJSON(`session/${encodeURIComponent(id)}`).then((r) => r.body),
  call: (id) => getJSON(`explain/${encodeURIComponent(id)}`).then((r) => r.body),
  search: (q, limit = 50) => getJSON('api/search', { q, limit }).then((r) => r.body),
  stats: (params) => getJSON('api/stats', params).then((r) => r.body),
  fleet: () => getJSON('api/fleet').then((r) => r.body),
  spend: (params) => getJSON('api/spend', params).then((r) => r.body),
  budgets: () => getJSON('api/budgets', { limit: 50 }).then((r) => r.body),
  policyChanges: () => getJSON('api/policy/changes', { limit: 10 }).then((r) => r.body),
  setLimit: (kind, scope, key, value) => {
    const [path, field] = { budget: ['budgets', 'limit_usd'], rate: ['rate-limits', 'rpm'], tokens: ['token-limits', 'tpm'] }[kind];
    return sendJSON('PUT', `api/${path}/${encodeURIComponent(scope)}/${encodeURIComponent(key)}`, { [field]: value });
  },
};
