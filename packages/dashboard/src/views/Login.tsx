/**
 * The login form, shown when the hub requires authentication and the page has no
 * session (or the hub refused it). A real form: Enter submits, password managers
 * fill it (autocomplete), the error is announced and names its code, e.g.
 * `3001 BAD_CREDENTIALS` or `2004 RATE_LIMITED: … retry in 8 s`.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { login } from '../lib/session.js';

export function Login({ error }: { error?: string }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(error);
  const userRef = useRef<HTMLInputElement>(null);
  const passRef = useRef<HTMLInputElement>(null);
  useEffect(() => userRef.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(undefined);
    const err = await login(user.trim(), password);
    setBusy(false);
    if (err === undefined) return;
    setProblem(err);
    setPassword('');
    passRef.current?.focus();
  };
  const described = problem ? 'login-error' : undefined;
  return (
    <section class="panel login" aria-labelledby="login-h">
      <h1 id="login-h">Log in</h1>
      <p class="muted">This hub requires an account. An administrator creates one with <code>fieldlink user add</code>.</p>
      <form class="login-form" onSubmit={submit} aria-labelledby="login-h">
        <label class="field">
          <span>User</span>
          <input ref={userRef} name="username" autocomplete="username" autocapitalize="none" spellcheck={false} required value={user} aria-invalid={problem ? true : undefined} aria-describedby={described} onInput={(e) => setUser(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Password</span>
          <input ref={passRef} name="password" type="password" autocomplete="current-password" required value={password} aria-invalid={problem ? true : undefined} aria-describedby={described} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        {problem && (
          <p id="login-error" class="bad login-error" role="alert">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}
