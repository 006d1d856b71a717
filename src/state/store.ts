/**
 * Where actor state lives between incarnations and across takeovers. Every write carries the writer's fencing
 * epoch; a key last written with a newer epoch refuses an older one, so a deposed active cannot overwrite the
 * state of the instance that replaced it.
 */
export interface StoredState {
  epoch: number;
  value: unknown;
}

export interface StateStore {
  load(key: string): Promise<StoredState | undefined>;
  /** Resolves once the write is durable. Rejects with StaleEpoch when fenced off. */
  save(key: string, value: unknown, epoch: number): Promise<void>;
  delete(key: string, epoch: number): Promise<void>;
  /** Keys starting with `prefix` (to find, say, every mutex with live holders at start-up). */
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}
