import type { Logger } from 'pino';
import type WebSocket from 'ws';
import {
  type ComfyUIExecutionFailure,
  executingDataSchema,
  executionFailureDataSchema,
  progressDataSchema,
  socketMessageSchema,
} from './comfyui-api.ts';

/** The websocket class to use (the `ws` package's, or a stand-in with its constructor and events). */
export type WebSocketClass = typeof WebSocket;

/** What waiting on the socket ended with. */
export type SocketWait =
  | { kind: 'done' }
  | { kind: 'failed'; failure: ComfyUIExecutionFailure }
  /** The socket closed or never opened: poll `/history` instead. */
  | { kind: 'lost' }
  /** Nothing happened in the time given: check `/history` anyway, in case a message was missed. */
  | { kind: 'quiet' };

/** ComfyUI's event stream for one client id, as far as one call cares. */
export interface ComfyUISocket {
  /** Follow this prompt: its progress goes to `onProgress`, and `wait` ends on its end. */
  follow(promptId: string): void;
  /** Resolves when the followed prompt ends, the socket is lost, or `quietMs` pass; rejects on `signal`. */
  wait(quietMs: number, signal: AbortSignal): Promise<SocketWait>;
  close(): void;
}

type Ending = { kind: 'done' } | { kind: 'failed'; failure: ComfyUIExecutionFailure };

/**
 * Opens `/ws?clientId=` before the prompt is sent, so no event of it is missed (a cached graph can end in
 * milliseconds). Events are kept per prompt id until `follow` names the one that matters. Resolves with
 * undefined when the socket cannot be opened within `handshakeTimeoutMs`: the caller then polls.
 */
export async function connectComfyUISocket(settings: {
  url: URL;
  headers: Record<string, string>;
  WebSocket: WebSocketClass;
  handshakeTimeoutMs: number;
  signal: AbortSignal;
  onProgress: (progress: number) => void;
  logger: Logger | undefined;
}): Promise<ComfyUISocket | undefined> {
  const { logger } = settings;
  let socket: WebSocket;
  try {
    socket = new settings.WebSocket(settings.url, {
      headers: settings.headers,
      handshakeTimeout: settings.handshakeTimeoutMs,
    });
  } catch (error) {
    logger?.warn({ err: error }, 'ComfyUI websocket could not be created; polling /history instead');
    return undefined;
  }
  const endings = new Map<string, Ending>();
  const latestProgress = new Map<string, number>();
  let followed: string | undefined;
  let lost = false;
  let wake: (() => void) | undefined;
  const notify = () => wake?.();

  socket.on('message', (raw, isBinary) => {
    if (isBinary) return;
    let message: unknown;
    try {
      message = JSON.parse(raw.toString());
    } catch {
      return;
    }
    const parsed = socketMessageSchema.safeParse(message);
    if (!parsed.success) return;
    const { type, data } = parsed.data;
    if (type === 'progress') {
      const progress = progressDataSchema.safeParse(data);
      if (!progress.success || !(progress.data.max > 0)) return;
      const value = Math.min(1, Math.max(0, progress.data.value / progress.data.max));
      latestProgress.set(progress.data.prompt_id, value);
      if (progress.data.prompt_id === followed) settings.onProgress(value);
    } else if (type === 'executing' || type === 'execution_success') {
      const executing = executingDataSchema.safeParse(
        type === 'executing' ? data : { ...(data as object), node: null },
      );
      if (!executing.success || executing.data.node !== null) return;
      endings.set(executing.data.prompt_id, { kind: 'done' });
      notify();
    } else if (type === 'execution_error' || type === 'execution_interrupted') {
      const failure = executionFailureDataSchema.safeParse(data);
      if (!failure.success) return;
      endings.set(failure.data.prompt_id, { kind: 'failed', failure: { ...failure.data, event: type } });
      notify();
    }
  });

  const opened = await new Promise<boolean>((resolve) => {
    if (settings.signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => resolve(false);
    settings.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('open', () => {
      settings.signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    socket.once('error', (error) => {
      settings.signal.removeEventListener('abort', onAbort);
      logger?.warn({ err: error }, 'ComfyUI websocket unavailable; polling /history instead');
      resolve(false);
    });
  });
  if (!opened) {
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    socket.terminate();
    return undefined;
  }
  socket.on('error', (error) => logger?.warn({ err: error }, 'ComfyUI websocket failed'));
  socket.on('close', () => {
    lost = true;
    notify();
  });

  return {
    follow(promptId) {
      followed = promptId;
      const progress = latestProgress.get(promptId);
      if (progress !== undefined) settings.onProgress(progress);
    },
    wait(quietMs, signal) {
      return new Promise<SocketWait>((resolve, reject) => {
        const finish = (outcome: SocketWait) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          wake = undefined;
          resolve(outcome);
        };
        const check = () => {
          const ending = followed === undefined ? undefined : endings.get(followed);
          if (ending) finish(ending);
          else if (lost) finish({ kind: 'lost' });
        };
        const onAbort = () => {
          clearTimeout(timer);
          wake = undefined;
          reject(signal.reason);
        };
        const timer = setTimeout(() => finish({ kind: 'quiet' }), quietMs);
        if (signal.aborted) {
          onAbort();
          return;
        }
        signal.addEventListener('abort', onAbort, { once: true });
        wake = check;
        check();
      });
    },
    close() {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.close();
    },
  };
}
