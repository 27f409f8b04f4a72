import { useCallback, useMemo, useState, type FormEvent } from 'react';
import { Api, ApiError, tokenStore } from './api/client';
import { endpoints } from './api/endpoints';
import type { Role, WhoAmI } from './api/types';
import { AuditPage } from './pages/AuditPage';
import { RegisterPage } from './pages/RegisterPage';
import { SearchPage } from './pages/SearchPage';
import { ServicePage } from './pages/ServicePage';
import { ServicesPage } from './pages/ServicesPage';
import { href, navigate, useRoute } from './router';
import { SessionContext, useLoad, useSession, type Session } from './session';

/** Signed out: the sign-in form. Signed in: the shell. A 401 from any call signs out. */
export function App() {
  const [token, setToken] = useState(tokenStore.read);
  const [expired, setExpired] = useState(false);
  const signOut = useCallback((becauseExpired: boolean) => {
    tokenStore.clear();
    setExpired(becauseExpired);
    setToken(null);
  }, []);
  if (token === null) {
    return (
      <SignIn
        expired={expired}
        onSignedIn={(value) => {
          tokenStore.write(value);
          setExpired(false);
          setToken(value);
        }}
      />
    );
  }
  return <SignedIn key={token} token={token} signOut={signOut} />;
}

function SignIn(props: { expired: boolean; onSignedIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim();
    if (!token) {
      setError('Enter an API token');
      return;
    }
    setBusy(true);
    try {
      await new Api(token, () => undefined).get<WhoAmI>(endpoints.me());
      props.onSignedIn(token);
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'That token is not valid'
          : String((caught as Error).message),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form onSubmit={(event) => void submit(event)} aria-labelledby="sign-in-title" noValidate>
        <h1 id="sign-in-title">Config centre</h1>
        {props.expired ? (
          <p className="notice" role="status">
            Your token was refused; sign in again.
          </p>
        ) : null}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          aria-invalid={error !== undefined}
          aria-describedby={error ? 'token-error' : 'token-help'}
          autoFocus
        />
        <p id="token-help" className="muted">
          Kept in this tab only (session storage). The first admin token is in{' '}
          <code>DATA_DIR/admin-token</code>.
        </p>
        {error ? (
          <p id="token-error" className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function SignedIn({ token, signOut }: { token: string; signOut: (expired: boolean) => void }) {
  const api = useMemo(() => new Api(token, () => signOut(true)), [token, signOut]);
  const me = useLoad((signal) => api.get<WhoAmI>(endpoints.me(), { signal }), [api]);
  if (me.data === undefined) {
    return (
      <main className="page">
        {me.error ? <p role="alert">{me.error.message}</p> : <p role="status">Signing in…</p>}
      </main>
    );
  }
  const roles = new Set<Role>(me.data.roles);
  const session: Session = {
    api,
    me: me.data,
    can: (role) => roles.has(role),
    signOut: () => signOut(false),
  };
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

function Shell() {
  const { me, can, signOut } = useSession();
  const route = useRoute();
  const [section] = route.parts;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href(['services'])}>
          Config centre
        </a>
        <nav aria-label="Main">
          <a
            href={href(['services'])}
            aria-current={section === 'services' || section === 'register' ? 'page' : undefined}
          >
            Services
          </a>
          {can('admin') ? (
            <a href={href(['audit'])} aria-current={section === 'audit' ? 'page' : undefined}>
              Audit
            </a>
          ) : null}
        </nav>
        <SearchBox initial={section === 'search' ? (route.query.get('q') ?? '') : ''} />
        <span className="who" title={me.roles.join(', ')}>
          {me.name}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Screen parts={route.parts} query={route.query} />
      </main>
    </>
  );
}

function Screen({ parts, query }: { parts: string[]; query: URLSearchParams }) {
  const [section, service, tab] = parts;
  switch (section) {
    case 'services':
      return service === undefined ? (
        <ServicesPage />
      ) : (
        <ServicePage key={service} service={service} tab={tab ?? 'config'} query={query} />
      );
    case 'register':
      return <RegisterPage />;
    case 'search':
      return <SearchPage query={query.get('q') ?? ''} />;
    case 'audit':
      return <AuditPage service={query.get('service') ?? ''} />;
    default:
      return (
        <p>
          Nothing here. <a href={href(['services'])}>Back to the services</a>.
        </p>
      );
  }
}

function SearchBox({ initial }: { initial: string }) {
  const [value, setValue] = useState(initial);
  return (
    <form
      role="search"
      className="search-box"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim()) navigate(['search'], { q: value.trim() });
      }}
    >
      <label htmlFor="search" className="visually-hidden">
        Search keys and values
      </label>
      <input
        id="search"
        type="search"
        placeholder="Search keys and values"
        value={value}
        maxLength={200}
        onChange={(event) => {
          setValue(event.target.value);
          const q = event.target.value.trim();
          if (q) navigate(['search'], { q }, window.location.hash.startsWith('#/search'));
        }}
      />
    </form>
  );
}
