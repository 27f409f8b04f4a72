/**
 * Everything the harness must undo however it ends (normal exit, failure, Ctrl-C): kill child
 * processes, stop Postgres, remove temp dirs. Tasks are synchronous so they also run from a
 * signal or `exit` handler, where nothing asynchronous completes.
 */
export class Janitor {
  private readonly tasks = new Map<number, () => void>();
  private nextId = 0;

  /** Registers a task; the returned function runs it now (once) and unregisters it. */
  add(task: () => void): () => void {
    const id = this.nextId++;
    this.tasks.set(id, task);
    return () => {
      if (this.tasks.delete(id)) runQuietly(task);
    };
  }

  /** Runs every task still registered, newest first (children before the dirs they live in). */
  runAll(): void {
    const pending = [...this.tasks.entries()].reverse();
    this.tasks.clear();
    for (const [, task] of pending) runQuietly(task);
  }
}

function runQuietly(task: () => void): void {
  try {
    task();
  } catch {
    // Best effort: one failed cleanup must not stop the others.
  }
}
