/** A minimal Server-Sent Events reader over fetch, for the demo's console and end-to-end tests. */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

export interface SseSubscription {
  /** Resolves once the response headers arrived (the server has registered the client). */
  ready: Promise<void>;
  close(): void;
}

export function subscribeSse(url: string, onMessage: (m: SseMessage) => void, headers: Record<string, string> = {}): SseSubscription {
  const ac = new AbortController();
  let markReady!: () => void;
  let failReady!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => undefined);
  void (async () => {
    try {
      const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
      if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
      markReady();
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let sep: number;
        while ((sep = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, sep);
          buf = buf.slice(sep + 2);
          const msg: SseMessage = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const i = line.indexOf(':');
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (field === 'event') msg.event = value;
            else if (field === 'id') msg.id = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          msg.data = data.join('\n');
          onMessage(msg);
        }
      }
    } catch (err) {
      failReady(err);
    }
  })();
  return { ready, close: () => ac.abort() };
}
