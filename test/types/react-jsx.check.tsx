// Compile-time checks of auth-shell/react's JSX typings (npm test type-checks this file): what must
// be accepted is used below, what must be refused is marked @ts-expect-error. (TypeScript does not
// check hyphenated attribute names it does not know, so a misspelt one cannot be refused here.)
import { useAuth, type AuthHandle } from '../../src/react.js';

export const accepted = (
  <auth-provider
    api="/api"
    login-path="/in"
    refresh-method="GET"
    allowed-origins="https://a.example"
    leeway={10}
    timeout="5000"
    onauth-change={(e) => e.detail.state}
  >
    <auth-gate require-role="admin">
      <auth-login-form slot="login" login-label="E-mail" onauth-login={(e) => e.detail.user} />
    </auth-gate>
    <auth-devtools api="/api" limit={100} hide="message" collapsed />
  </auth-provider>
);

// @ts-expect-error the devtools' session is a property only (attribute: false)
export const sessionAttribute = <auth-devtools session="x" />;

// @ts-expect-error the property name is not the attribute
export const camelCase = <auth-provider api="/api" loginPath="/in" />;
// @ts-expect-error an attribute of the wrong type
export const wrongType = <auth-provider api="/api" leeway={{ seconds: 10 }} />;
// @ts-expect-error the event detail is the session snapshot, not a mouse event
export const wrongListener = <auth-provider api="/api" onauth-change={(e: MouseEvent) => e.button} />;

// useAuth: typed like the session's value, with openSocket; the api is a string or a Session.
export function Hooked(): AuthHandle['state'] {
  const auth: AuthHandle = useAuth('/api');
  // @ts-expect-error the state is one of three strings, not any string
  const wrong: 'signed-in' = auth.state;
  // @ts-expect-error an api is a string or a Session, not options
  useAuth({ api: '/api' });
  return wrong ? auth.state : 'anonymous';
}
