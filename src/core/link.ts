/**
 * What a socket sends: the same as `WebSocket.send`. Declared here, with the connection that sends
 * it, so that the session (which opens links) never imports the socket modules: imports go from the
 * socket code to the session and the link, never back.
 */
export type SocketData = string | ArrayBufferLike | Blob | ArrayBufferView;

/** What the session reports of a connection it made. Plain values only: no event, no WebSocket. */
export interface LinkHandlers {
  open(): void;
  message(data: unknown, origin: string): void;
  /** The connection failed; `detail` says how, in words that never include the URL. */
  error(detail: string): void;
  close(code: number, reason: string, wasClean: boolean): void;
}

/**
 * A WebSocket connection the session opened with its credential in the URL. The WebSocket itself
 * — whose `url`, and every event's `target`, would show the credential — never leaves the session:
 * this is all its holder gets.
 */
export interface SocketLink {
  send(data: SocketData): void;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
  readonly protocol: string;
  binaryType: BinaryType;
}

/** Opens `url` with `credential` in the query parameter `param`, behind a {@link SocketLink}. */
export function openLink(
  url: URL,
  param: string,
  credential: string,
  protocols: string | string[] | undefined,
  on: LinkHandlers,
): SocketLink {
  const target = new URL(url);
  target.searchParams.set(param, credential);
  const ws = new WebSocket(target, protocols);
  ws.onopen = () => on.open();
  ws.onmessage = (event) => on.message(event.data, event.origin);
  ws.onerror = () => on.error('the connection failed or was lost');
  ws.onclose = (event) => on.close(event.code, event.reason, event.wasClean);
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    get readyState() {
      return ws.readyState;
    },
    get protocol() {
      return ws.protocol;
    },
    get binaryType() {
      return ws.binaryType;
    },
    set binaryType(type) {
      ws.binaryType = type;
    },
  };
}
