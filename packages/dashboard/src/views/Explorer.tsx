/**
 * Topic explorer: subscribe to any MQTT filter and watch messages arrive (pause,
 * clear, pretty JSON, bounded list), and publish a message (topic, payload,
 * retain, QoS). The hub's answer to every request shows next to its form.
 */
import { useState } from 'preact/hooks';
import { client } from '../lib/connection.js';
import { addFilter, clearMessages, explorer, MAX_MESSAGES, payloadFor, removeFilter, setPaused, type Entry } from '../lib/explorer.js';
import { clockTime, errorText } from '../lib/format.js';
import { memo } from '../lib/memo.js';
import { useSendBlock } from '../lib/session.js';
import { useStore } from '../lib/store.js';

const Message = memo(function Message({ e, pretty }: { e: Entry; pretty: boolean }) {
  const text = e.enc ? String(e.payload) : JSON.stringify(e.payload, null, pretty ? 2 : undefined);
  return (
    <li class="msg" data-topic={e.topic}>
      <div class="msg-head">
        <code class="topic">{e.topic}</code>
        <span class="muted">
          {clockTime(e.ts)}
          {e.retained ? ' · retained' : ''}
          {e.enc ? ` · ${e.enc}` : ''}
        </span>
      </div>
      <pre class={pretty ? 'pretty' : 'flat'}>{text}</pre>
    </li>
  );
});

function Subscribe({ initial }: { initial: string }) {
  const s = useStore(explorer);
  const [filter, setFilter] = useState(initial);
  const [retained, setRetained] = useState(true);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      await addFilter(filter.trim(), retained);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="toolbar" onSubmit={submit} aria-label="Subscribe">
      <label class="field grow">
        <span>Filter</span>
        <input name="filter" value={filter} required spellcheck={false} onInput={(e) => setFilter(e.currentTarget.value)} />
      </label>
      <label class="field check">
        <input type="checkbox" checked={retained} onChange={(e) => setRetained(e.currentTarget.checked)} /> retained
      </label>
      <button type="submit">Subscribe</button>
      {error && <p class="bad inline-error" role="alert">{error}</p>}
      {s.filters.length > 0 && (
        <ul class="chips" aria-label="Subscribed filters">
          {s.filters.map((f) => (
            <li key={f}>
              <code>{f}</code>
              <button type="button" class="icon" aria-label={`Unsubscribe ${f}`} onClick={() => void removeFilter(f).catch((err: unknown) => setError(errorText(err)))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function Publish() {
  const [topic, setTopic] = useState('fieldlink/test');
  const [payload, setPayload] = useState('{"hello": "world"}');
  const [as, setAs] = useState<'auto' | 'json' | 'text'>('auto');
  const [retain, setRetain] = useState(false);
  const [qos, setQos] = useState<0 | 1 | 2>(0);
  const [result, setResult] = useState<{ ok: boolean; text: string }>();
  const block = useSendBlock('publish');
  const submit = async (e: Event) => {
    e.preventDefault();
    setResult(undefined);
    try {
      const p = payloadFor(payload, as);
      await client.publish(topic, p.payload, { retain, qos, encoding: p.encoding });
      setResult({ ok: true, text: `Published to ${topic} (${p.encoding}${retain ? ', retained' : ''}, QoS ${qos})` });
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    }
  };
  return (
    <form class="publish" onSubmit={submit} aria-labelledby="pub-h">
      <h2 id="pub-h">Publish</h2>
      {block && (
        <p id="pub-blocked" class="note role-note">
          {block}
        </p>
      )}
      <fieldset class="plain publish-fields" disabled={block !== undefined} aria-describedby={block ? 'pub-blocked' : undefined}>
        <label class="field">
          <span>Topic</span>
          <input name="topic" value={topic} required spellcheck={false} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Payload</span>
          <textarea name="payload" rows={4} spellcheck={false} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
        </label>
        <div class="row">
          <label class="field">
            <span>Send as</span>
            <select value={as} onChange={(e) => setAs(e.currentTarget.value as typeof as)}>
              <option value="auto">JSON if it parses</option>
              <option value="json">JSON</option>
              <option value="text">Text</option>
            </select>
          </label>
          <label class="field">
            <span>QoS</span>
            <select value={String(qos)} onChange={(e) => setQos(Number(e.currentTarget.value) as 0 | 1 | 2)}>
              <option value="0">0</option>
              <option value="1">1</option>
              <option value="2">2</option>
            </select>
          </label>
          <label class="field check">
            <input type="checkbox" checked={retain} onChange={(e) => setRetain(e.currentTarget.checked)} /> retain
          </label>
          <button type="submit">Publish</button>
        </div>
      </fieldset>
      <output class={`answer ${result ? (result.ok ? 'ok' : 'bad') : ''}`} aria-live="polite">
        {result && <span role={result.ok ? undefined : 'alert'}>{result.text}</span>}
      </output>
    </form>
  );
}

export function Explorer({ query }: { query: URLSearchParams }) {
  const s = useStore(explorer);
  const [pretty, setPretty] = useState(true);
  const shown = s.messages.slice(-MAX_MESSAGES).reverse();
  return (
    <div class="explorer">
      <section class="panel" aria-labelledby="exp-h">
        <div class="panel-head">
          <h1 id="exp-h">Topic explorer</h1>
          <p class="muted" aria-live="off">
            {s.total} received{s.paused ? `, paused (${s.missed} since)` : ''} · newest first, last {MAX_MESSAGES} kept
          </p>
        </div>
        <Subscribe initial={query.get('filter') ?? 'devices/#'} />
        <div class="toolbar">
          <button type="button" class="secondary" aria-pressed={s.paused} onClick={() => setPaused(!s.paused)}>
            {s.paused ? 'Resume' : 'Pause'}
          </button>
          <button type="button" class="secondary" onClick={clearMessages}>
            Clear
          </button>
          <label class="field check">
            <input type="checkbox" checked={pretty} onChange={(e) => setPretty(e.currentTarget.checked)} /> pretty JSON
          </label>
        </div>
        {shown.length === 0 ? (
          <p class="empty">{s.filters.length ? 'Waiting for messages…' : 'Subscribe to a filter to see its messages.'}</p>
        ) : (
          <ol class="messages" aria-label="Messages">
            {shown.map((e) => (
              <Message key={e.n} e={e} pretty={pretty} />
            ))}
          </ol>
        )}
      </section>
      <section class="panel">
        <Publish />
      </section>
    </div>
  );
}
