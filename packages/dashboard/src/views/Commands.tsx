/**
 * Commands: one form per method of the device's meta, fields generated from the
 * param specs (number/integer with min/max, enum as select, boolean, string).
 * Submitting sends a `call`; the answer, or the error code and name (e.g.
 * 2001 CALL_TIMEOUT, 2002 DEVICE_OFFLINE), shows under the form.
 */
import type { DeviceMeta, ParamSpec } from '@fieldlink/protocol';
import { useState } from 'preact/hooks';
import { client } from '../lib/connection.js';
import { errorText } from '../lib/format.js';
import { defaultValue, describe, fieldKind, parseParams } from '../lib/params.js';
import { useSendBlock } from '../lib/session.js';

type Answer = { ok: true; result: unknown; ms: number } | { ok: false; text: string };

function Field({ id, name, spec, value, problem, onChange }: { id: string; name: string; spec: ParamSpec; value: string; problem?: string; onChange(v: string): void }) {
  const kind = fieldKind(spec);
  const common = { id, name, 'aria-invalid': problem ? true : undefined, 'aria-describedby': `${id}-hint` } as const;
  return (
    <div class={`field ${kind === 'checkbox' ? 'check' : ''}`}>
      <label for={id}>{name}</label>
      {kind === 'select' ? (
        <select {...common} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {spec.enum!.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      ) : kind === 'checkbox' ? (
        <input {...common} type="checkbox" checked={value === 'true'} onChange={(e) => onChange(String(e.currentTarget.checked))} />
      ) : kind === 'number' ? (
        <input {...common} type="number" inputMode="decimal" min={spec.min} max={spec.max} step={spec.type === 'integer' ? 1 : 'any'} value={value} onInput={(e) => onChange(e.currentTarget.value)} />
      ) : (
        <input {...common} type="text" value={value} onInput={(e) => onChange(e.currentTarget.value)} />
      )}
      <small id={`${id}-hint`} class={problem ? 'bad' : 'muted'}>
        {problem ?? describe(spec)}
      </small>
    </div>
  );
}

function MethodForm({ device, method, spec, blocked }: { device: string; method: string; spec: NonNullable<DeviceMeta['methods']>[string]; blocked: boolean }) {
  const params = spec.params ?? {};
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(Object.entries(params).map(([k, p]) => [k, defaultValue(p)])));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<Answer>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseParams(params, values);
    if (!parsed.ok) return setProblems(parsed.problems);
    setProblems({});
    setBusy(true);
    setAnswer(undefined);
    const t0 = performance.now();
    try {
      const result = await client.call(device, method, parsed.params, 5000);
      setAnswer({ ok: true, result, ms: Math.round(performance.now() - t0) });
    } catch (err) {
      setAnswer({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  const fid = `cmd-${method}`;
  return (
    <form class="method" noValidate onSubmit={submit} data-method={method} aria-labelledby={`${fid}-h`}>
      <h3 id={`${fid}-h`}>{method.replace(/_/g, ' ')}</h3>
      {spec.description && <p class="muted">{spec.description}</p>}
      <fieldset class="plain" disabled={blocked} aria-describedby={blocked ? 'cmd-blocked' : undefined}>
        {Object.entries(params).map(([name, p]) => (
          <Field key={name} id={`${fid}-${name}`} name={name} spec={p} value={values[name] ?? ''} problem={problems[name]} onChange={(v) => setValues({ ...values, [name]: v })} />
        ))}
        <button type="submit" disabled={busy}>
          {busy ? 'Sending…' : Object.keys(params).length ? 'Send' : 'Run'}
        </button>
      </fieldset>
      <output class={`answer ${answer ? (answer.ok ? 'ok' : 'bad') : ''}`} aria-live="polite">
        {answer?.ok === true && (
          <>
            <span class="muted">answered in {answer.ms} ms</span>
            <pre>{JSON.stringify(answer.result, null, 2)}</pre>
          </>
        )}
        {answer?.ok === false && <span role="alert">{answer.text}</span>}
      </output>
    </form>
  );
}

export function Commands({ device, meta }: { device: string; meta: DeviceMeta | null }) {
  const methods = Object.entries(meta?.methods ?? {});
  const block = useSendBlock('send commands');
  return (
    <section class="panel" aria-labelledby="cmd-h">
      <h2 id="cmd-h">Commands</h2>
      {block && methods.length > 0 && (
        <p id="cmd-blocked" class="note role-note">
          {block}
        </p>
      )}
      {methods.length === 0 ? (
        <p class="empty">This device's meta lists no methods.</p>
      ) : (
        <div class="methods">
          {methods.map(([name, spec]) => (
            <MethodForm key={name} device={device} method={name} spec={spec} blocked={block !== undefined} />
          ))}
        </div>
      )}
    </section>
  );
}
