// The live feed over /ws: authenticates with the stored key in its first message, reconnects with backoff.
import { askForKey, storedKey } from './api.js';

const policyViolation = 1008;

/**
 * Connects to `/ws` and calls `onCall(record)` per new call. `onGap()` runs after a reconnect or when the server
 * dropped calls for us, so views can reload what they show. `onStatus(state)` gets `connecting`, `live` or `off`.
 */
export function connectLive({ onCall, onGap, onStatus }) {
  let delay = 500;
  let everReady = false;

  function open() {
    const url = new URL('ws', document.baseURI);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    onStatus('connecting');
    const socket = new WebSocket(url);
    const sentKey = storedKey();
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ type: 'auth', key: sentKey }));
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === 'ready') {
        delay = 500;
        onStatus('live');
        if (everReady) onGap();
        everReady = true;
      } else if (message.type === 'call') {
        const { type, ...record } = message;
        onCall(record);
      } else if (message.type === 'missed') {
        onGap();
      }
    });
    socket.addEventListener('close', async (event) => {
      onStatus('off');
      if (event.code === policyViolation) {
        // A key entered meanwhile (for the API's 401) is tried before asking again.
        if (storedKey() === sentKey) await askForKey(sentKey !== '');
        open();
        return;
      }
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    });
  }

  open();
}
